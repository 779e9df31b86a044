"""The synthesis engine, in the order data flows: ``resize`` and ``pyramid`` (the space-time
pyramid), ``patches`` (unfold and fold by voting), ``search`` and ``patchmatch`` (nearest
neighbours, exact and approximate), ``engine`` (coarse to fine), ``settings`` and ``planning``
(what a synthesis will do), ``problem`` (the one :func:`~patchvid.synthesis.problem.solve` every task
calls). Compiled kernels live in the private ``_fold`` and ``_patchmatch`` beside their wrappers."""
