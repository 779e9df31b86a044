"""Diverse generation (VGPNN): new videos, or images, that look like one input.

The recipe: the input's space-time pyramid is the key and the value; the coarsest level, resized to
the output's coarsest size, plus Gaussian noise is the first guess; the engine rebuilds it from the
input's patches, level by level. Different seeds give different noise and so different samples.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from ..errors import InputError
from ..frames import as_video, to_tensor
from ..synthesis.engine import Layout, LevelReport
from ..synthesis.labels import solve_labelled
from ..synthesis.patches import patch_spread
from ..synthesis.planning import plan
from ..synthesis.problem import Problem, input_pyramid, solve
from ..synthesis.resize import resize
from ..synthesis.settings import SPREAD_REFERENCE, GenerateSettings

TILES = ("", "x", "y", "xy")


def wrap_axes(loop: bool = False, tile: str = "") -> tuple[bool, bool, bool]:
    """The ``(T, H, W)`` axes an output wraps around: time for a ``loop``, width and/or height for a
    ``tile`` of ``"x"``, ``"y"`` or ``"xy"``."""
    if tile not in TILES:
        raise InputError(f"tile must be one of 'x', 'y', 'xy' (or '' for none), got {tile!r}")
    return (bool(loop), "y" in tile, "x" in tile)


def loop_settings(settings: GenerateSettings, frames: int) -> GenerateSettings:
    """``settings`` for a loop of an input of ``frames`` frames: every level keeps all the frames.
    A loop's period is set at the coarsest level, and with the default 3 frames there (one patch)
    the only periodic solutions are a still or a single cycle: at 26x54x96, ballet's loops moved at
    0.18x the input's speed with 3 coarsest frames and 1.48x with 26; waterfall's 0.79x and 1.09x
    (/tmp measurements of issue 15; BENCHMARKS.md, "Time without limits (issue 15)", has the
    benchmark on 7 clips)."""
    return dataclasses.replace(settings, coarsest_frames=max(settings.coarsest_frames, frames))


def prepare_generate(frames: np.ndarray, settings: GenerateSettings, *, loop: bool = False, tile: str = "") -> Problem:
    """The generation problem of ``frames`` ``(T, H, W, 3)`` or ``(H, W, 3) uint8``: the output is
    ``settings.scale`` times the input, and ``settings.noise`` is added to the coarsest guess.
    ``loop``: the output is periodic in time (patches wrap from its last frame to its first at every
    level, so it plays seamlessly in a loop); ``tile``: periodic in width ``"x"``, height ``"y"`` or
    both (a texture that tiles)."""
    video, image = as_video(frames)
    wrap = wrap_axes(loop, tile)
    if loop and (image or video.shape[0] < 2):
        raise InputError("a loop needs a video of at least 2 frames")
    if loop:
        settings = loop_settings(settings, video.shape[0])
    p = plan(video.shape[:3], settings)
    if loop and p.output_shape[0] < p.patch[0]:
        raise InputError(f"a loop needs at least {p.patch[0]} frames (a patch's)")
    values = input_pyramid(to_tensor(video, p.device), p)
    layout = Layout(wrap=wrap) if any(wrap) else None
    return Problem(p, values, resize(values[-1], p.levels.output[-1]), noise=clip_noise(settings, values[-1], p.patch),
                   image=image, layout=layout)


def clip_noise(settings: GenerateSettings, coarsest: torch.Tensor, patch: tuple[int, int, int]) -> float:
    """The noise to add to the coarsest guess: ``settings.noise``, and with ``settings.adaptive_noise``
    times the spread of the input's coarsest level ``coarsest`` ``(C, T, H, W)`` (its patches
    ``patch``) over :data:`~patchvid.synthesis.settings.SPREAD_REFERENCE`."""
    if not settings.adaptive_noise or settings.noise == 0:
        return settings.noise
    return settings.noise * patch_spread(coarsest, patch) / SPREAD_REFERENCE


def generate(
    frames: np.ndarray,
    seed: int = 0,
    settings: GenerateSettings | None = None,
    on_level: Callable[[LevelReport], None] | None = None,
    *,
    loop: bool = False,
    tile: str = "",
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
        loop: make the sample periodic in time: played in a loop, its last frame flows into its
            first like any two consecutive frames.
        tile: make it periodic in space: ``"x"`` (tiles side by side), ``"y"``, or ``"xy"``.

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
    return solve(prepare_generate(frames, settings, loop=loop, tile=tile), seed, on_level)


def augment(
    frames: np.ndarray,
    labels: np.ndarray,
    seed: int = 0,
    settings: GenerateSettings | None = None,
    on_level: Callable[[LevelReport], None] | None = None,
    *,
    loop: bool = False,
    tile: str = "",
    **overrides,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`generate` a sample and the labels that follow its pixels: data augmentation for
    segmentation and tracking. Each output voxel's label is the most frequent among the labels of
    the source voxels the overlapping patches copy there (a mode vote: ids are never blended; a tie
    goes to the smallest id), so the labels come from the same place as the pixels. Off an object's
    edge the pixel (a median) and the label (a mode) can disagree by about a pixel.

    Args:
        frames: ``(T, H, W, 3) uint8`` video, or ``(H, W, 3)`` for an image.
        labels: per-pixel ids of ``frames``: ``(T, H, W)`` (``(H, W)`` for an image) integers or
            bool of any dtype, kept; or a colour map ``(T, H, W, 3) uint8`` (``(H, W, 3)``), each
            distinct colour one id, returned as colours.
        seed, settings, on_level, loop, tile, overrides: as :func:`generate`; the same seed gives
            the same sample and labels.

    Returns:
        ``(sample, sample_labels)``: :func:`generate`'s sample and its labels, ``(T', H', W')`` (or
        ``(T', H', W', 3)`` colours; no frame axis for an image).

    Example:
        >>> import patchvid
        >>> clip = patchvid.read_video("clip.mp4", end="13f")  # doctest: +SKIP
        >>> masks = np.load("masks.npy")  # (13, H, W) instance ids  # doctest: +SKIP
        >>> sample, sample_masks = patchvid.augment(clip.frames, masks, seed=1)  # doctest: +SKIP

        Retargeting takes labels the same way, through the solver of any prepared problem::

            from patchvid.synthesis.labels import solve_labelled
            from patchvid.tasks.retarget import prepare_retarget
            wide, wide_masks = solve_labelled(prepare_retarget(frames, (None, None, 2 * W)), masks)
    """
    settings = (settings or GenerateSettings()).replace(**overrides)
    return solve_labelled(prepare_generate(frames, settings, loop=loop, tile=tile), labels, seed, on_level)
