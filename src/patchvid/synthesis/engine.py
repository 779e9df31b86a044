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

from ..errors import InputError
from .patches import fold_nnf_wrapped, pad_wrapped, patch_grid, patches_touching, source_frames
from .patchmatch import PatchMatch, upsample_nnf
from .resize import resize
from .search import ExactSearch, Match, PatchSearch
from .settings import SEARCHES, EngineSettings

# "auto" searches exhaustively while (query patches x key patches) stays below this (about 1000
# patches a side: the coarsest levels, which shape the whole output) and uses PatchMatch above. On
# 7 real clips x 4 seeds at 8x36x64 the output's nearest-input-patch distance was 1.026x exact
# generation's with 10^6, 1.018x with 4*10^6, 1.010x with 2*10^7 and 1.064x with PatchMatch
# everywhere, at 1.8, 2.6, 4.5 and 1.4 CPU-s (BENCHMARKS.md, "Speed")
EXACT_PAIRS_LIMIT = 10**6

# levels with fewer output voxels than this run on one thread (numba kernels and torch ops): each
# parallel call ends in a barrier that waits for every worker, and on a busy CPU a descheduled
# worker costs a time slice per call. Measured on the shared 2-core machine (load 3-5): 8x36x64
# took 3.1-3.6 s with 2 numba threads and 0.6-0.7 s with 1; one small resize took 57 ms with 2
# torch threads and 0.8 ms with 1. Small levels gain nothing from a second thread anyway
PARALLEL_VOXELS = 200_000

Patch = tuple[int, int, int]
__all__ = ["EngineSettings", "Guides", "Holes", "Layout", "LevelReport", "level_threads", "search_per_level",
           "synthesize"]


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


@dataclass
class Guides:
    """Channels appended to the query and the key for the search only: they steer which key patch a
    query matches but are never pasted (the value has none). Video analogies use the motion
    structure of both videos here, so that moving regions are filled from moving ones.

    Attributes:
        query: per level, finest first, ``(G, *out_shape)`` float32 (same ``G`` as ``key``).
        key: per level ``(G, *key_shape)`` float32.
        weights: per level, how much the guide counts against the RGB channels (0: not used).
    """

    query: list[torch.Tensor]
    key: list[torch.Tensor]
    weights: list[float]

    def weight(self, level: int) -> float:
        return self.weights[level]


@dataclass
class Holes:
    """Inpainting: where to synthesize, what to keep elsewhere, and which key patches to avoid.

    Attributes:
        fill: per level ``(1, *out_shape)`` float32 in [0, 1]: 1 where the output is synthesized,
            0 where ``known`` is kept (between: blended, at coarse levels).
        known: per level ``(C, *out_shape)`` float32: the content kept where ``fill`` is 0.
        key_hole: per level ``(*key_shape,)`` bool: voxels no key/value patch may contain (so the
            hole is filled only from outside it).
    """

    fill: list[torch.Tensor]
    known: list[torch.Tensor]
    key_hole: list[torch.Tensor] | None = None

    def allowed_keys(self, level: int, patch: Patch) -> torch.Tensor | None:
        """``(Tk', Hk', Wk') bool``: key patches that do not touch the hole at ``level``. Where the
        hole leaves none (a coarse level of a large hole), patches whose centre is outside it.
        ``None`` (every key patch) when the key has no hole (an extension's key is another video)."""
        if self.key_hole is None:
            return None
        hole = self.key_hole[level]
        allowed = ~patches_touching(hole, patch)
        if not allowed.any():
            t, h, w = (p // 2 for p in patch)
            grid = allowed.shape
            allowed = ~hole[t : t + grid[0], h : h + grid[1], w : w + grid[2]]
        if not allowed.any():
            raise InputError(f"the hole leaves no key patch at a level of shape {tuple(hole.shape)}")
        return allowed


@dataclass
class Layout:
    """How the output is laid out, beyond its size: parts in time, and axes it wraps around.

    Attributes:
        segments: per level, finest first, the frames of each consecutive part of the output (they
            sum to the level's ``T``), e.g. ``(new, known)`` for a clip extended before its start.
            Going to a finer level each part is resized on its own, so the cut between two parts
            stays a cut at every level instead of a blend of both sides. ``None``: one part.
        wrap: per axis ``(T, H, W)``, whether the output is periodic along it: patches span the
            end and the start (a loop in time, a tileable texture in space), in the search, in the
            vote and in the resize between levels.
    """

    segments: list[tuple[int, ...]] | None = None
    wrap: tuple[bool, bool, bool] = (False, False, False)

    def upsample(self, query: torch.Tensor, level: int, shape: tuple[int, int, int]) -> torch.Tensor:
        """The coarser level's ``query`` ``(C, T, H, W)`` resized to ``level``'s ``shape``."""
        if self.segments is None or len(self.segments[level]) == 1:
            return resize(query, shape, wrap=self.wrap)
        coarse, fine = self.segments[level + 1], self.segments[level]
        if len(coarse) != len(fine) or sum(coarse) != query.shape[1] or sum(fine) != shape[0]:
            raise InputError(f"layout segments {coarse} and {fine} do not match the levels' frames")
        spatial = (False, *self.wrap[1:])
        parts = torch.split(query, list(coarse), dim=1)
        return torch.cat([resize(part, (n, *shape[1:]), wrap=spatial) for part, n in zip(parts, fine)], dim=1)


@dataclass
class LevelReport:
    """What happened at one level (for progress and benchmarks)."""

    level: int
    shape: tuple[int, int, int]
    iterations: int
    seconds: float
    mean_distance: float
    source_frames: tuple[int, ...] | None = None  # the finest level's: see patches.source_frames


def level_seed(seed: int, level: int, iteration: int) -> int:
    """An independent, reproducible seed for each search call."""
    return int(np.random.SeedSequence([seed, level, iteration]).generate_state(1)[0])


def search_per_level(
    name: str, query_shapes: list[tuple[int, int, int]], key_shapes: list[tuple[int, int, int]], patch: Patch
) -> Callable[[int], PatchSearch]:
    """The search each level uses: ``"exact"``, ``"patchmatch"``, or ``"auto"`` (exact where the
    number of patch pairs is at most :data:`EXACT_PAIRS_LIMIT`, PatchMatch above)."""
    if name not in SEARCHES:
        raise InputError(f"unknown search {name!r}; use one of {', '.join(SEARCHES)}")
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
    guides: Guides | None = None,
    holes: Holes | None = None,
    on_round: Callable[[int, int, int], None] | None = None,
    layout: Layout | None = None,
    on_field: Callable[[torch.Tensor, Patch], None] | None = None,
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
        guides: extra channels that steer the search only (analogies: motion structure).
        holes: what to keep and which key patches to avoid (inpainting).
        on_round: called after each search-and-vote round as ``on_round(level, round, rounds)``
            (level 0 is the finest; ``round`` counts from 1), for progress within a level.
        layout: parts in time and wrapped axes (extensions, loops, tiles); ``None``: neither.
        on_field: called once, after the finest level's last round, as ``on_field(nnf, patch)``
            with the field ``(T', H', W', 3) int64`` whose fold is the output (of the
            :func:`~patchvid.synthesis.patches.pad_wrapped` query where ``layout`` wraps) and the
            level's patch: what label maps are voted with (:mod:`patchvid.synthesis.labels`).

    Returns:
        ``(C, *out_shapes[0])`` float32: the synthesized video.
    """
    keys = values if keys is None else keys
    layout = layout or Layout()
    wrap = layout.wrap
    coarsest = len(values) - 1
    query = _keep_known(initial, holes, coarsest)
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
                query = _keep_known(layout.upsample(query, level, out_shapes[level]), holes, level)
                key_first = resize(keys[level + 1], tuple(key_sharp.shape[1:]))
            key_grid = patch_grid(key_sharp.shape[1:], patch)
            allowed = None if holes is None else holes.allowed_keys(level, patch)
            extra = {} if allowed is None else {"key_mask": allowed}
            init = None
            if previous is not None:  # start from the coarser level's field, made finer
                query_grid = patch_grid(pad_wrapped(query[:1], patch, wrap).shape[1:], patch)
                init = upsample_nnf(previous[0], previous[1], query_grid, key_grid, patch, coarse_patch=previous[2])
                previous = None  # free the coarser field before the search allocates its own
            match: Match | None = None
            for it in range(rounds):
                key = key_first if it == 0 else key_sharp
                if guides is not None and guides.weight(level) > 0:
                    w = guides.weight(level)
                    q_in = torch.cat((query, w * guides.query[level]))
                    k_in = torch.cat((key, w * guides.key[level]))
                else:
                    q_in, k_in = query, key
                q_in = pad_wrapped(q_in, patch, wrap)
                start = match.nnf if match is not None else init
                match = init = None  # the search copies its start: drop ours before it allocates
                match = search(
                    q_in, k_in, patch, alpha=settings.alpha, init=start, seed=level_seed(seed, level, it), **extra
                )
                del start, q_in, k_in
                query = _keep_known(fold_nnf_wrapped(value, match.nnf, patch, settings.vote, wrap), holes, level)
                if on_round is not None:
                    on_round(level, it + 1, rounds)
            del key_first
            if level == 0 and on_field is not None and match is not None:
                on_field(match.nnf, patch)
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
                    tuple(source_frames(match.nnf, patch, query.shape[1])) if level == 0 else None,
                )
            )
        match = None
    return query


def _keep_known(query: torch.Tensor, holes: Holes | None, level: int) -> torch.Tensor:
    """``query`` with the known content put back wherever it is not to be synthesized."""
    if holes is None:
        return query
    return torch.lerp(holes.known[level], query, holes.fill[level])


def _patch_elements(channels: int, patch: Patch) -> int:
    return channels * patch[0] * patch[1] * patch[2]

