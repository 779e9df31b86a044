"""The coarse-to-fine patch engine shared by every task (images are videos of one frame).

At each pyramid level, coarsest first, the current guess (the query) is rebuilt from patches:
every query patch is matched to a key patch, the value patch at the same place is copied, and the
copies are folded by voting. At a finer level's first iteration the query is the upsampled coarser
result, so it is blurry; it is then matched against the key upsampled from the coarser level
(equally blurry) while the sharp level supplies the values. Later iterations match the sharp level.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from .patches import fold_nnf, patch_grid
from .patchmatch import PatchMatch, upsample_nnf
from .resize import resize
from .search import ExactSearch, Match, PatchSearch

SEARCHES = ("auto", "exact", "patchmatch")
# "auto" searches exhaustively while (query patches x key patches) stays below this (about 1000
# patches a side: the coarsest levels, which shape the whole output) and uses PatchMatch above. On
# 7 real clips x 4 seeds at 8x36x64 the output's nearest-input-patch distance was 1.026x exact
# generation's with 10^6, 1.018x with 4*10^6, 1.010x with 2*10^7 and 1.064x with PatchMatch
# everywhere, at 1.8, 2.6, 4.5 and 1.4 CPU-s (BENCHMARKS-speed.md)
EXACT_PAIRS_LIMIT = 10**6

# levels with fewer output voxels than this run on one thread (numba kernels and torch ops): each
# parallel call ends in a barrier that waits for every worker, and on a busy CPU a descheduled
# worker costs a time slice per call. Measured on the shared 2-core machine (load 3-5): 8x36x64
# took 3.1-3.6 s with 2 numba threads and 0.6-0.7 s with 1; one small resize took 57 ms with 2
# torch threads and 0.8 ms with 1. Small levels gain nothing from a second thread anyway
PARALLEL_VOXELS = 200_000

Patch = tuple[int, int, int]


@contextlib.contextmanager
def level_threads(voxels: int, device: torch.device) -> Iterator[None]:
    """Run a CPU level of ``voxels`` output voxels on one thread if it is small, restoring the
    thread counts afterwards. numba's count is per calling thread; torch's is per process, so
    another thread using torch on the CPU at the same time runs single-threaded meanwhile."""
    if voxels >= PARALLEL_VOXELS or device.type != "cpu":
        yield
        return
    try:
        import numba
    except ImportError:  # pragma: no cover - without numba only torch's setting applies
        numba = None
    before_numba = numba.get_num_threads() if numba is not None else 1
    before_torch = torch.get_num_threads()
    if numba is not None:
        numba.set_num_threads(1)
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before_torch)
        if numba is not None:
            numba.set_num_threads(before_numba)


@dataclass(frozen=True)
class EngineSettings:
    """How each level is solved.

    Attributes:
        patch: ``(pt, ph, pw)`` patch size; it must fit every level.
        iterations: search-and-fold rounds at each level but the coarsest.
        coarsest_iterations: rounds at the coarsest level (more makes a sample copy the input).
        reduce: voting rule: ``"median"``, ``"mean"`` or ``"gaussian"``.
        alpha: completeness weight, ``None`` for plain nearest neighbours.
        large_voxels: levels whose output has more voxels (T*H*W) than this run at most
            ``large_iterations`` rounds (``None``: no limit). The reference code's rule for large
            inputs: a finer level's first round starts from the coarser level's field and already
            lands within a few per cent of exact search, and the level above refines it again.
        large_iterations: rounds at those levels.
        huge_voxels: levels with more output voxels than this use ``huge_patch`` (each dimension
            at most ``patch``'s; ``None``: never), as the reference code does above 7.5 M voxels.
        huge_patch: the smaller patch of those levels.
    """

    patch: Patch = (3, 7, 7)
    iterations: int = 5
    coarsest_iterations: int = 1
    reduce: str = "median"
    alpha: float | None = None
    large_voxels: int | None = None
    large_iterations: int = 1
    huge_voxels: int | None = None
    huge_patch: Patch = (3, 5, 5)

    def level_patch(self, shape: tuple[int, int, int]) -> Patch:
        """The patch used at a level whose output is ``(T, H, W)``."""
        if self.huge_voxels is not None and math.prod(shape) > self.huge_voxels:
            return tuple(min(a, b) for a, b in zip(self.patch, self.huge_patch))  # type: ignore[return-value]
        return self.patch

    def level_iterations(self, shape: tuple[int, int, int], coarsest: bool) -> int:
        """Search-and-vote rounds at a level whose output is ``(T, H, W)``."""
        if coarsest:
            return self.coarsest_iterations
        if self.large_voxels is not None and math.prod(shape) > self.large_voxels:
            return min(self.iterations, self.large_iterations)
        return self.iterations


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
    previous: tuple[torch.Tensor, tuple[int, int, int], Patch] | None = None  # coarser nnf, key grid, patch
    for level in range(coarsest, -1, -1):
        with level_threads(math.prod(out_shapes[level]), query.device):
            started = time.perf_counter()
            search = search_for_level(level)
            value, key_sharp = values[level], keys[level]
            patch = settings.level_patch(out_shapes[level])
            rounds = settings.level_iterations(out_shapes[level], level == coarsest)
            if level == coarsest:
                key_first = key_sharp
            else:
                query = resize(query, out_shapes[level])
                key_first = resize(keys[level + 1], tuple(key_sharp.shape[1:]))
            key_grid = patch_grid(key_sharp.shape[1:], patch)
            init = None
            if previous is not None:  # start from the coarser level's field, made finer
                query_grid = patch_grid(query.shape[1:], patch)
                init = upsample_nnf(previous[0], previous[1], query_grid, key_grid, patch, coarse_patch=previous[2])
                previous = None  # free the coarser field before the search allocates its own
            match: Match | None = None
            for it in range(rounds):
                key = key_first if it == 0 else key_sharp
                start = match.nnf if match is not None else init
                match = init = None  # the search copies its start: drop ours before it allocates
                match = search(query, key, patch, alpha=settings.alpha, init=start, seed=level_seed(seed, level, it))
                del start
                query = fold_nnf(value, match.nnf, patch, settings.reduce)
            del key_first
        if match is not None:
            previous = (match.nnf, key_grid, patch)
        if on_level is not None and match is not None:
            on_level(
                LevelReport(
                    level,
                    tuple(query.shape[1:]),
                    rounds,
                    time.perf_counter() - started,
                    float(match.distance.mean()) / _patch_elements(query.shape[0], patch),
                )
            )
        match = None
    return query


def _patch_elements(channels: int, patch: Patch) -> int:
    return channels * patch[0] * patch[1] * patch[2]

