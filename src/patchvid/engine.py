"""The coarse-to-fine patch engine shared by every task (images are videos of one frame).

At each pyramid level, coarsest first, the current guess (the query) is rebuilt from patches:
every query patch is matched to a key patch, the value patch at the same place is copied, and the
copies are folded by voting. At a finer level's first iteration the query is the upsampled coarser
result, so it is blurry; it is then matched against the key upsampled from the coarser level
(equally blurry) while the sharp level supplies the values. Later iterations match the sharp level.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .patches import fold_nnf, patch_grid
from .patchmatch import PatchMatch, upsample_nnf
from .resize import resize
from .search import ExactSearch, Match, PatchSearch

SEARCHES = ("auto", "exact", "patchmatch")
# "auto" searches exhaustively while (query patches x key patches) stays below this: about 0.2 s
# per call on a 2-core CPU, and exact results where they shape the whole output (coarse levels)
EXACT_PAIRS_LIMIT = 2 * 10**7

Patch = tuple[int, int, int]


@dataclass(frozen=True)
class EngineSettings:
    """How each level is solved.

    Attributes:
        patch: ``(pt, ph, pw)`` patch size; it must fit every level.
        iterations: search-and-fold rounds at each level but the coarsest.
        coarsest_iterations: rounds at the coarsest level (more makes a sample copy the input).
        reduce: voting rule: ``"median"``, ``"mean"`` or ``"gaussian"``.
        alpha: completeness weight, ``None`` for plain nearest neighbours.
    """

    patch: Patch = (3, 7, 7)
    iterations: int = 5
    coarsest_iterations: int = 1
    reduce: str = "median"
    alpha: float | None = None


@dataclass
class LevelReport:
    """What happened at one level (for progress and benchmarks)."""

    level: int
    shape: tuple[int, int, int]
    iterations: int
    seconds: float
    mean_distance: float


def level_seed(seed: int, level: int, iteration: int) -> int:
    """An independent, reproducible seed for each search call."""
    return int(np.random.SeedSequence([seed, level, iteration]).generate_state(1)[0])


def search_per_level(
    name: str, query_shapes: list[tuple[int, int, int]], key_shapes: list[tuple[int, int, int]], patch: Patch
) -> Callable[[int], PatchSearch]:
    """The search each level uses: ``"exact"``, ``"patchmatch"``, or ``"auto"`` (exact where the
    number of patch pairs is at most :data:`EXACT_PAIRS_LIMIT`, PatchMatch above)."""
    if name not in SEARCHES:
        raise ValueError(f"unknown search {name!r}; use one of {SEARCHES}")
    exact, approximate = ExactSearch(), PatchMatch()

    def choose(level: int) -> PatchSearch:
        if name != "auto":
            return exact if name == "exact" else approximate
        pairs = math.prod(patch_grid(query_shapes[level], patch)) * math.prod(patch_grid(key_shapes[level], patch))
        return exact if pairs <= EXACT_PAIRS_LIMIT else approximate

    return choose


def synthesize(
    initial: torch.Tensor,
    values: list[torch.Tensor],
    out_shapes: list[tuple[int, int, int]],
    settings: EngineSettings,
    search_for_level: Callable[[int], PatchSearch],
    keys: list[torch.Tensor] | None = None,
    seed: int = 0,
    on_level: Callable[[LevelReport], None] | None = None,
) -> torch.Tensor:
    """Run the coarse-to-fine synthesis.

    Args:
        initial: ``(C, *out_shapes[-1])`` float32: the query at the coarsest level (for generation,
            the coarsest input level plus noise).
        values: the value pyramid, finest first, each ``(C, T, H, W)`` float32 in [-1, 1].
        out_shapes: the output's ``(T, H, W)`` per level, finest first.
        settings: patch size, iterations, voting, alpha.
        search_for_level: the nearest-neighbour search to use at a level index (so small levels
            can use exact search and large ones an approximate one).
        keys: the key pyramid, same shapes as ``values`` (default: the values themselves).
        seed: seeds every random choice of the searches.
        on_level: called after each level with a :class:`LevelReport`.

    Returns:
        ``(C, *out_shapes[0])`` float32: the synthesized video.
    """
    keys = values if keys is None else keys
    coarsest = len(values) - 1
    query = initial
    previous: tuple[torch.Tensor, tuple[int, int, int]] | None = None  # coarser level's nnf, key grid
    for level in range(coarsest, -1, -1):
        started = time.perf_counter()
        search = search_for_level(level)
        value, key_sharp = values[level], keys[level]
        if level == coarsest:
            key_first = key_sharp
            rounds = settings.coarsest_iterations
        else:
            query = resize(query, out_shapes[level])
            key_first = resize(keys[level + 1], tuple(key_sharp.shape[1:]))
            rounds = settings.iterations
        key_grid = patch_grid(key_sharp.shape[1:], settings.patch)
        init = None
        if previous is not None:  # start from the coarser level's field, made finer
            query_grid = patch_grid(query.shape[1:], settings.patch)
            init = upsample_nnf(previous[0], previous[1], query_grid, key_grid, settings.patch)
        match: Match | None = None
        for it in range(rounds):
            key = key_first if it == 0 else key_sharp
            match = search(
                query,
                key,
                settings.patch,
                alpha=settings.alpha,
                init=match.nnf if match is not None else init,
                seed=level_seed(seed, level, it),
            )
            query = fold_nnf(value, match.nnf, settings.patch, settings.reduce)
        if match is not None:
            previous = (match.nnf, key_grid)
        if on_level is not None and match is not None:
            on_level(
                LevelReport(
                    level,
                    tuple(query.shape[1:]),
                    rounds,
                    time.perf_counter() - started,
                    float(match.distance.mean()) / _patch_elements(query.shape[0], settings.patch),
                )
            )
    return query


def _patch_elements(channels: int, patch: Patch) -> int:
    return channels * patch[0] * patch[1] * patch[2]

