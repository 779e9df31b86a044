"""Retargeting: the same video (or image) at a new size or length, without stretching anything.

The recipe is generation without noise: start from the input's coarsest level resized to the
output's coarsest size (so the layout is the input's, squeezed or stretched), and let the engine
rebuild every level from the input's own patches, which have their natural shape and speed. A
wider output gets more of the scenery instead of wider objects; a longer one more motion at the
same speed. Completeness weighting (``alpha``) makes the search prefer input patches that no output
patch uses yet, so that shrinking drops repetition before it drops whole objects.

Limit (measured, tests/tasks/test_retarget.py): objects smaller than a patch at the coarsest level (about a
third of the short side's 15 pixels there, i.e. up to ~1/5 of the picture's height) keep their shape
exactly; a larger object can come out stretched, because a stretched disc is still made of
disc-like patches. Gradual resizing in 10 % steps at the coarsest level (Simakov et al.) did not
fix that (a 13-pixel disc in a 40x64 image, widened 1.75x: 21 pixels wide directly, 23 gradually)
and was dropped.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import InputError
from ..frames import as_video
from ..synthesis.engine import LevelReport
from ..synthesis.problem import Problem, solve
from ..synthesis.settings import GenerateSettings
from .generate import prepare_generate
from .settings import retarget_settings

Shape3 = tuple[int, int, int]
Size = tuple[int | None, int | None, int | None]


def output_scale(shape: Shape3, size: Size) -> tuple[float, float, float]:
    """The ``scale`` that makes an input of ``(T, H, W)`` come out as ``size`` (``None``: keep that
    axis). Refuses sizes below one."""
    for n, name in zip(size, ("frames", "height", "width")):
        if n is not None and n < 1:
            raise InputError(f"output {name} must be at least 1, got {n}")
    return tuple(1.0 if n is None else n / s for n, s in zip(size, shape))  # type: ignore[return-value]


def check_output_size(size: Size, planned: Shape3) -> None:
    """Refuse a requested ``size`` that the plan's output ``(T, H, W)`` does not give: an output is
    never smaller than a patch (where the input has that many frames or pixels)."""
    for n, m, name in zip(size, planned, ("frames", "height", "width")):
        if n is not None and n != m:
            raise InputError(f"an output {name} of {n} is too small: a patch needs at least {m}")


def prepare_retarget(
    frames: np.ndarray,
    size: Size | None = None,
    *,
    scale: tuple[float, float, float] | None = None,
    settings: GenerateSettings | None = None,
    loop: bool = False,
) -> Problem:
    """The retargeting problem: generation without noise (by default) at ``size`` or ``scale``
    (one of them; see :func:`retarget`); ``loop``: periodic in time."""
    if (size is None) == (scale is None):
        raise InputError("give the output size or the scale (one of them)")
    video, image = as_video(frames)
    if size is not None:
        size = (None, *size[1:]) if image else size
        scale = output_scale(video.shape[:3], size)
    problem = prepare_generate(frames, (settings or retarget_settings()).replace(scale=scale), loop=loop)
    if size is not None:
        check_output_size(size, problem.plan.output_shape)
    return problem


def retarget(
    frames: np.ndarray,
    size: Size | None = None,
    *,
    scale: tuple[float, float, float] | None = None,
    seed: int = 0,
    settings: GenerateSettings | None = None,
    on_level: Callable[[LevelReport], None] | None = None,
    loop: bool = False,
    **overrides,
) -> np.ndarray:
    """Resize ``frames`` to a new size or length by rebuilding it from its own patches.

    Args:
        frames: ``(T, H, W, 3) uint8`` video or ``(H, W, 3)`` image.
        size: output ``(frames, height, width)``; ``None`` in a place keeps that axis. For an image
            the frames entry is ignored.
        scale: instead of ``size``, the output size relative to the input per axis.
        seed: seeds the searches' random choices (there is no noise, so seeds differ little).
        settings: starting settings (default :func:`~patchvid.tasks.settings.retarget_settings`);
            ``overrides`` replace fields by name.
        on_level: progress callback per pyramid level.
        loop: make the output periodic in time (it plays seamlessly in a loop).

    Returns:
        ``(T', H', W', 3) uint8`` (``(H', W', 3)`` for an image).

    Example:
        >>> wide = retarget(frames, (None, None, 2 * frames.shape[2]))  # doctest: +SKIP
    """
    settings = (settings or retarget_settings()).replace(**overrides)
    return solve(prepare_retarget(frames, size, scale=scale, settings=settings, loop=loop), seed, on_level)
