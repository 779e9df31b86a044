"""Diverse generation (VGPNN): new videos, or images, that look like one input.

The recipe: the input's space-time pyramid is the key and the value; the coarsest level, resized to
the output's coarsest size, plus Gaussian noise is the first guess; the engine rebuilds it from the
input's patches, level by level. Different seeds give different noise and so different samples.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..frames import as_video, to_tensor
from ..synthesis.engine import LevelReport
from ..synthesis.planning import plan
from ..synthesis.problem import Problem, input_pyramid, solve
from ..synthesis.resize import resize
from ..synthesis.settings import GenerateSettings


def prepare_generate(frames: np.ndarray, settings: GenerateSettings) -> Problem:
    """The generation problem of ``frames`` ``(T, H, W, 3)`` or ``(H, W, 3) uint8``: the output is
    ``settings.scale`` times the input, and ``settings.noise`` is added to the coarsest guess."""
    video, image = as_video(frames)
    p = plan(video.shape[:3], settings)
    values = input_pyramid(to_tensor(video, p.device), p)
    return Problem(p, values, resize(values[-1], p.levels.output[-1]), noise=settings.noise, image=image)


def generate(
    frames: np.ndarray,
    seed: int = 0,
    settings: GenerateSettings | None = None,
    on_level: Callable[[LevelReport], None] | None = None,
    **overrides,
) -> np.ndarray:
    """Make one new sample that looks like ``frames``.

    Args:
        frames: ``(T, H, W, 3) uint8`` RGB video, or ``(H, W, 3)`` for an image.
        seed: the sample's seed: the same seed gives the same output, other seeds other outputs.
        settings: every parameter (see :class:`~patchvid.synthesis.settings.GenerateSettings`);
            ``overrides`` replace fields of it or of its engine by name, e.g.
            ``generate(frames, seed=3, noise=1.0, scale=(0.5, 1, 1), iterations=3)``.
        on_level: called after each pyramid level with a :class:`~patchvid.synthesis.engine.LevelReport`.

    Returns:
        ``(T', H', W', 3) uint8`` (``(H', W', 3)`` for an image input), ``T' = round(T * scale[0])``
        and so on.

    Example:
        >>> import patchvid
        >>> clip = patchvid.read_video("clip.mp4", end="13f")  # doctest: +SKIP
        >>> sample = patchvid.generate(clip.frames, seed=1)  # doctest: +SKIP
        >>> patchvid.write_video("sample.mp4", sample, clip.fps)  # doctest: +SKIP
    """
    settings = (settings or GenerateSettings()).replace(**overrides)
    return solve(prepare_generate(frames, settings), seed, on_level)
