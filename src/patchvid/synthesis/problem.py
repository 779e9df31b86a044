"""One shape for every task: a prepared :class:`Problem`, solved by :func:`solve`.

A task (generation, retargeting, analogies, collages, inpainting) only prepares a problem: the plan,
the value and key pyramids, the coarsest starting guess, how much noise to add and where, the guide
channels and holes, and a last step such as inpainting's exact paste outside the mask. ``solve``
then does what every task shares: seeded noise, the search of each level, the coarse-to-fine
synthesis, and the way back to ``uint8`` frames. A problem is not changed by solving it, so one
problem serves any number of seeds.

Example:
    >>> from patchvid.tasks.generate import prepare_generate  # doctest: +SKIP
    >>> problem = prepare_generate(frames, GenerateSettings())  # doctest: +SKIP
    >>> samples = [solve(problem, seed) for seed in range(4)]  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError
from ..frames import to_frames
from .engine import Guides, Holes, Layout, LevelReport, level_threads, search_per_level, synthesize
from .planning import Plan
from .pyramid import build_pyramid

Shape3 = tuple[int, int, int]


@dataclass
class Problem:
    """Everything one synthesis needs; tensors are ``(C, T, H, W) float32`` in [-1, 1] on the plan's
    device, pyramids finest first (``len(plan.levels)`` levels).

    Attributes:
        plan: sizes, patch, levels, engine settings, search and device.
        values: the value pyramid (what is pasted), at the plan's input sizes.
        initial: ``(C, *plan.levels.output[-1])``: the query at the coarsest level, before noise.
        keys: the key pyramid (what is matched), same shapes as ``values``; ``None``: the values.
        noise: standard deviation of the Gaussian noise added to ``initial`` (0: none).
        noise_where: ``(1, *plan.levels.output[-1])`` weight of that noise per voxel; ``None``: 1.
        guides: extra channels that steer the search only (analogies).
        holes: what to keep and which key patches to avoid (inpainting, extension).
        layout: parts in time and wrapped axes (extension, loops, tiles).
        finish: applied to the ``(T, H, W, 3) uint8`` result (inpainting pastes the input back
            outside the mask, exactly).
        frames: keep only the first ``frames`` frames (a structure shorter than a patch is
            synthesized at the patch's length); ``None``: all.
        image: return ``(H, W, 3)`` rather than one frame.
    """

    plan: Plan
    values: list[torch.Tensor]
    initial: torch.Tensor
    keys: list[torch.Tensor] | None = None
    noise: float = 0.0
    noise_where: torch.Tensor | None = None
    guides: Guides | None = None
    holes: Holes | None = None
    layout: Layout | None = None
    finish: Callable[[np.ndarray], np.ndarray] | None = None
    frames: int | None = None
    image: bool = False

    @property
    def output_shape(self) -> Shape3:
        """``(T, H, W)`` of what :func:`solve` returns (``T`` is 1 for an image)."""
        t, h, w = self.plan.output_shape
        return (t if self.frames is None else min(t, self.frames), h, w)


def solve(
    problem: Problem,
    seed: int = 0,
    on_level: Callable[[LevelReport], None] | None = None,
    on_round: Callable[[int, int, int], None] | None = None,
    on_field: Callable[[torch.Tensor, tuple[int, int, int]], None] | None = None,
) -> np.ndarray:
    """Synthesize the output of a prepared problem.

    Args:
        problem: what a task prepared.
        seed: seeds the noise (drawn on the CPU, so the same on every device) and every search.
        on_level: called after each pyramid level with a :class:`~patchvid.synthesis.engine.LevelReport`.
        on_round: called after each search-and-vote round, ``on_round(level, round, rounds)``.
        on_field: called with the finest level's final field and patch (see
            :func:`~patchvid.synthesis.engine.synthesize`); :func:`~patchvid.synthesis.labels.solve_labelled`
            votes label maps with it.

    Returns:
        ``(T, H, W, 3) uint8`` of :attr:`Problem.output_shape`, or ``(H, W, 3)`` for an image.
    """
    if not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63:
        raise InputError(f"seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    plan = problem.plan
    initial = problem.initial
    if problem.noise > 0:
        generator = torch.Generator(device="cpu").manual_seed(seed)
        noise = (torch.randn(initial.shape, generator=generator) * problem.noise).to(plan.device)
        initial = initial + (noise if problem.noise_where is None else noise * problem.noise_where)
    search = search_per_level(plan.search, plan.levels.output, plan.levels.input, plan.patch)
    result = synthesize(
        initial,
        problem.values,
        plan.levels.output,
        plan.engine,
        search,
        keys=problem.keys,
        seed=seed,
        on_level=on_level,
        guides=problem.guides,
        holes=problem.holes,
        on_round=on_round,
        layout=problem.layout,
        on_field=on_field,
    )
    frames = to_frames(result)
    if problem.frames is not None:
        frames = frames[: problem.frames]
    if problem.finish is not None:
        frames = problem.finish(frames)
    return frames[0] if problem.image else frames


def input_pyramid(video: torch.Tensor, plan: Plan) -> list[torch.Tensor]:
    """``video`` ``(C, *plan.input_shape)`` resized to each of the plan's input levels, finest first
    (a small input on one thread: see :func:`~patchvid.synthesis.engine.level_threads`)."""
    with level_threads(math.prod(plan.input_shape), plan.device):
        return build_pyramid(video, plan.levels.input)
