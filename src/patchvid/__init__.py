"""patchvid: new video from a single video, with no training and no dataset.

The Python API in three calls::

    import patchvid
    clip = patchvid.read_video("clip.mp4", end="13f")        # (T, H, W, 3) uint8 frames + fps
    sample = patchvid.generate(clip.frames, seed=1)          # a new (T, H, W, 3) uint8 video
    patchvid.write_video("sample.mp4", sample, clip.fps)

Every task is here: ``generate`` (and ``augment``: a sample with the labels that follow its
pixels), ``retarget``, ``analogy``, ``collage``, ``inpaint``, ``extend``
and ``endless`` (patch synthesis, one solver: :func:`patchvid.synthesis.problem.solve`), ``loop``,
``texture``, ``cinemagraph`` and ``blend`` (the classic methods). Names load on first use, so that importing
patchvid (and ``patchvid --help``) does not import torch.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "PatchvidError": "errors",
    "InputError": "errors",
    "MediaError": "errors",
    "ResourceError": "errors",
    "Video": "media",
    "read_video": "media",
    "write_video": "media",
    "GenerateSettings": "synthesis.settings",
    "EngineSettings": "synthesis.settings",
    "Problem": "synthesis.problem",
    "solve": "synthesis.problem",
    "solve_labelled": "synthesis.labels",
    "generate": "tasks.generate",
    "augment": "tasks.generate",
    "generate_many": "parallel",
    "retarget": "tasks.retarget",
    "analogy": "tasks.analogy",
    "collage": "tasks.analogy",
    "inpaint": "tasks.inpaint",
    "extend": "tasks.extend",
    "endless": "tasks.extend",
    "loop": "classic.loops",
    "texture": "classic.loops",
    "cinemagraph": "classic.loops",
    "blend": "classic.poisson",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value  # the next access skips this function
        return value
    raise AttributeError(f"module 'patchvid' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
