"""The patch tasks: each a ``prepare_*`` function that describes its synthesis as a
:class:`~patchvid.synthesis.problem.Problem`, and a public function that solves it (``generate``,
``retarget``, ``analogy`` and ``collage``, ``inpaint``); ``structure`` gives analogies their guides."""
