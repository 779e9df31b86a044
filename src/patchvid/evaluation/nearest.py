"""The exact nearest patch of a key video for each query patch, fast: branch and bound on a
projection of the patches (:func:`nearest_distances`, :class:`KeyIndex`), and the exhaustive search
it is checked against (:func:`exhaustive_nearest_distances`). The evaluation's coherence and
completeness are means of these distances (:mod:`patchvid.evaluation.metrics`).

Patches are rows of ``C*pt*ph*pw`` values of a ``(C, T, H, W)`` video (as
:func:`~patchvid.synthesis.patches.unfold` orders them); distances are sums of squared differences
in the video's own units.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..errors import InputError
from ..synthesis.patches import patch_grid, patches_at, unfold
from ..synthesis.resize import single_threaded
from ..synthesis.search import ExactSearch

Patch = tuple[int, int, int]

DEFAULT_BYTES = 128 * 2**20  # memory for a key's prepared search at once
PROJECTION_DIMS = 16  # principal directions of the key's patches its bounds use
BASIS_PATCHES = 2048  # key patches the directions are estimated from
BASIS_ITERATIONS = 4  # of the subspace iteration that finds them
LEAF_PATCHES = 256  # at least this many key patches a leaf of the tree (fewer than 4 times as many)
TREE_FANOUT = 4  # children of a node
BLOCK_LEAVES = 4  # leaves searched at once
HOME_CANDIDATES = 8  # patches of its closest leaf a query measures first, for its first upper bound
BOUND_BLOCK = 2**21  # float32 values of bounds computed at once


def nearest_distances(
    query: torch.Tensor, key: torch.Tensor, patch: Patch, max_bytes: int = DEFAULT_BYTES
) -> torch.Tensor:
    """Squared distance from each query patch to its nearest patch anywhere in ``key``: exact, as
    :func:`exhaustive_nearest_distances` finds it, but branch and bound skips most candidates.

    Every patch is projected on :data:`PROJECTION_DIMS` orthonormal directions (its mean per channel
    and the key's leading principal directions of the rest, :class:`_Frame`), so the distance between
    projections is a lower bound of the full one, plus one more coordinate, the norm of the part the
    projection leaves out (the difference of two such norms bounds that part of the distance). A tree
    of balanced median splits groups the projected key patches into leaves of about
    :data:`LEAF_PATCHES`, each with its bounding box. Each query patch first takes the exact distance
    to a few of the closest patches of its closest leaf, an upper bound on its answer; then every
    leaf whose box is closer than that bound, and in it every patch whose projection is, gets its
    exact distance, and the bound tightens. Nothing closer than the answer is skipped: the bounds
    are computed in float32, and a candidate is skipped only when its bound exceeds the best distance
    so far by more than a margin that covers their rounding (:func:`_margin`, and each left-out
    norm's own bound). The distances returned are recomputed directly as ``sum (q - k)^2``; on
    footage they equal a float64 brute force to 2e-7 relative, where the exhaustive search's
    ``|q|^2 + |k|^2 - 2 q.k`` picks a farther patch for a few probes in a hundred (by up to 5e-4).
    It runs on one thread (the same answer whatever the thread count).

    Args:
        query: ``(N, D)`` patches (as :func:`~patchvid.synthesis.patches.patches_at` gives).
        key: ``(C, T, H, W)`` video whose every valid patch is a candidate.
        patch: ``(pt, ph, pw)`` with ``C*pt*ph*pw == D``.
        max_bytes: memory for the key's projections and patch layout at once (about 300 bytes a key
            patch: a 13x144x256 key fits in the default, and the search then adds about 170 MiB to the
            process at its peak, where the exhaustive search adds 130 MiB at its own default); a
            larger key is searched a few frames at a time and the minimum kept, so the answer is
            exact whatever this is.

    Returns:
        ``(N,)`` float32 sums of squared differences.

    Raises:
        InputError: ``D`` does not match the key and patch.

    Example:
        >>> key = torch.rand(3, 5, 16, 16) * 2 - 1
        >>> query = unfold(key, (3, 7, 7))[:4]
        >>> nearest_distances(query, key, (3, 7, 7)).tolist()
        [0.0, 0.0, 0.0, 0.0]
    """
    return KeyIndex(key, patch, max_bytes).distances(query)


class KeyIndex:
    """A key video prepared for :func:`nearest_distances`, to search it for several queries (the
    input, against every sample of a set). The prepared search structure is kept when the key fits
    in ``max_bytes`` at once; a larger key is prepared again, a few frames at a time, for each query.

    Args: ``key``, ``patch``, ``max_bytes`` as :func:`nearest_distances`.
    """

    def __init__(self, key: torch.Tensor, patch: Patch, max_bytes: int = DEFAULT_BYTES):
        self.key, self.patch = key, patch
        self.dim = key.shape[0] * math.prod(patch)
        grid = patch_grid(key.shape[1:], patch)
        with single_threaded(key.device):
            self.frame = _Frame(key, patch)
        # per frame of corners: the coordinates, their leaf order and a bound each, the patch layout
        runs = key.shape[2] * grid[2] * self.dim // (patch[0] * patch[1])
        per_frame = (grid[1] * grid[2] * (self.frame.dims + 2) * 3 + runs) * 4
        step = max(1, min(grid[0], max_bytes // max(1, per_frame)))
        self.spans = [(t0, min(grid[0], t0 + step) + patch[0] - 1) for t0 in range(0, grid[0], step)]
        self._kept: _Chunk | None = None
        if len(self.spans) == 1:
            with single_threaded(key.device):
                self._kept = _Chunk(key, patch, self.frame)

    def distances(self, query: torch.Tensor) -> torch.Tensor:
        """``(N,)`` float32: the squared distance from each ``(N, D)`` query patch to its nearest key patch."""
        key, patch = self.key, self.patch
        if query.ndim != 2 or query.shape[1] != self.dim:
            raise InputError(f"query patches must be (N, {self.dim}) for {key.shape[0]} channels of {patch}, "
                             f"got {tuple(query.shape)}")
        best = torch.full((query.shape[0],), math.inf, device=query.device)
        if query.shape[0] == 0:
            return best
        with single_threaded(key.device):
            qcoords = self.frame.query_coords(query)
            qrows = _rows_layout(query, key.shape[0], patch)
            for t0, t1 in self.spans:
                chunk = self._kept or _Chunk(key[:, t0:t1], patch, self.frame)
                chunk.search(qrows, qcoords, best)
        return best


def exhaustive_nearest_distances(
    query: torch.Tensor, key: torch.Tensor, patch: Patch, max_bytes: int = 64 * 2**20
) -> torch.Tensor:
    """:func:`nearest_distances` by comparing every query patch with every key patch
    (:class:`~patchvid.synthesis.search.ExactSearch`), the way it was computed before: the reference
    the faster search is checked against, about 0.13 ns per value of every pair on 2 CPU cores.

    Args, returns: as :func:`nearest_distances` (``max_bytes`` bounds the key patches unfolded at once).
    """
    search = ExactSearch()
    pt = patch[0]
    grid = patch_grid(key.shape[1:], patch)
    per_frame = grid[1] * grid[2] * query.shape[1] * 4
    step = max(1, min(grid[0], max_bytes // max(1, per_frame)))
    # a patch of D values is searched as one voxel of D channels, so ExactSearch compares whole rows
    as_voxels = query.T[:, None, None, :]
    best = torch.full((query.shape[0],), math.inf)
    for t0 in range(0, grid[0], step):
        rows = unfold(key[:, t0 : t0 + step + pt - 1], patch)
        match = search(as_voxels, rows.T[:, None, None, :], (1, 1, 1))
        # recomputed directly: |q|^2 + |k|^2 - 2qk loses the small distances that matter most to rounding
        nearest = rows[match.nnf[..., 2].reshape(-1)]
        best = torch.minimum(best, (query - nearest).square().sum(1))
    return best


class _Frame:
    """The key's projection: an orthonormal basis (float64 ``(D, dims)``) of the patches' mean per
    channel (the ``C`` brightest directions, computed exactly by running sums) and of the leading
    principal directions of the rest (estimated from :data:`BASIS_PATCHES` patches at fixed random
    corners, found by a float32 convolution); any orthonormal basis keeps the search exact, a good
    one makes it fast. Keeping the means out of the convolution keeps its rounding, which grows with
    the size of what it computes, away from the largest coordinates."""

    def __init__(self, key: torch.Tensor, patch: Patch):
        channels = key.shape[0]
        self.patch = patch
        self.voxels = math.prod(patch)
        self.dim = channels * self.voxels
        self.centre = key.double().mean((1, 2, 3))  # (C,)
        self.centre_row = self.centre.repeat_interleave(self.voxels)  # (D,), as unfold orders a row
        means = torch.zeros(self.dim, channels, dtype=torch.float64)
        for c in range(channels):
            means[c * self.voxels : (c + 1) * self.voxels, c] = self.voxels**-0.5
        self.dims = dims = min(PROJECTION_DIMS, self.dim)
        rest = dims - channels
        directions = torch.zeros(self.dim, 0, dtype=torch.float64)
        if rest > 0:
            sample = (_basis_sample(key, patch) - self.centre_row.float()).double()
            sample -= (sample @ means) @ means.T  # the means removed: what is left varies within a patch
            sample = sample.float()
            cov = (sample.T @ sample).double()
            # the leading directions by subspace iteration (a full eigendecomposition of D x D costs far
            # more); they need not be exact, only orthonormal and orthogonal to the means
            start = torch.randn(self.dim, min(self.dim, 2 * rest), generator=torch.Generator().manual_seed(0),
                                dtype=torch.float64)
            for _ in range(BASIS_ITERATIONS):
                start = torch.linalg.qr(cov @ start)[0]
            vectors = torch.linalg.eigh(start.T @ cov @ start)[1]
            directions = start @ vectors[:, -rest:].flip(1)
            directions -= means @ (means.T @ directions)
            directions = torch.linalg.qr(directions)[0]
        self.basis = torch.cat([means[:, :dims], directions], 1).contiguous()  # (D, dims), orthonormal
        self.means = min(channels, dims)
        self.filters = directions.T.float().reshape(-1, channels, *patch).contiguous()
        self.scale = max(1.0, float(key.abs().max()))  # rounding errors grow with the values

    def query_coords(self, query: torch.Tensor) -> torch.Tensor:
        """``(N, dims + 1)`` float32: projection and left-out norm of query rows, computed in float64."""
        centred = query.double() - self.centre_row
        p = centred @ self.basis
        left = ((centred * centred).sum(1) - (p * p).sum(1)).clamp(min=0).sqrt()
        return torch.cat([p, left[:, None]], 1).float()

    def key_coords(self, video: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Every patch of ``video`` (corner order): ``(Nk, dims + 1)`` float32 coordinates as
        :meth:`query_coords` computes them (the means by float64 running sums, the rest by a float32
        convolution), and ``(Nk,)`` a bound on the rounding error of the last coordinate (the
        left-out norm is a difference of two sums)."""
        centred = video.double() - self.centre.to(video.device)[:, None, None, None]
        means = torch.stack([_box_sums(c, self.patch).reshape(-1) for c in centred[: self.means]], 1)
        means *= self.voxels**-0.5
        energy = _box_sums((centred * centred).sum(0), self.patch).reshape(-1)  # |k - centre|^2
        # the directions are orthogonal to the means, so to the centre: no shift to take off
        rest = torch.nn.functional.conv3d(video[None].float(), self.filters)[0].reshape(len(self.filters), -1).T
        # |rest| carries an error of at most eps, so |rest|^2 one of 2 |rest| eps + eps^2;
        # |sqrt(a) - sqrt(b)| is at most min(sqrt(|a - b|), |a - b| / sqrt(a))
        varied = (rest * rest).sum(1).double()
        left = (energy - (means * means).sum(1) - varied).clamp_(min=0).sqrt_()
        eps = self.rounding()
        spread = 2 * eps * varied.sqrt() + eps * eps + 1e-12 * energy
        error = torch.minimum(spread.sqrt(), spread / left.clamp(min=1e-30))
        coords = torch.empty(len(rest), self.dims + 1, device=rest.device)
        coords[:, : self.means], coords[:, self.means : self.dims], coords[:, -1] = means, rest, left
        return coords, error.float()

    def rounding(self) -> float:
        """A bound on the rounding error (Euclidean) of a key patch's float32 coordinates: 1e-4 per
        convolved coordinate for patches of 441 values in [-1, 1], growing with the patch's largest
        norm, 4 times the largest error the convolution was measured to make on footage (2.5e-5); the
        means, from float64 sums, are far more exact (their float32 rounding is under 1e-6)."""
        return 1e-4 * self.scale * math.sqrt(self.dim / 441 * self.dims)


def _margin(frame: _Frame) -> float:
    """How far a lower bound (a Euclidean distance) may exceed the best distance so far and still be
    followed: twice the projections' rounding (:meth:`_Frame.rounding`), which covers it and the
    rounding of the bounds' float32 products (taken about a block's centre, so of the block's size)."""
    return 2 * frame.rounding()


def _box_sums(values: torch.Tensor, patch: Patch) -> torch.Tensor:
    """``(T', H', W')`` sums of ``values`` ``(T, H, W)`` over every patch window, one axis at a time."""
    for axis, size in enumerate(patch):
        values = values.unfold(axis, size, 1).sum(-1)
    return values


def _rows_layout(rows: torch.Tensor, channels: int, patch: Patch) -> torch.Tensor:
    """Patch rows in :func:`unfold`'s order ``(channel, dt, dy, dx)`` reordered ``(dt, dy, channel, dx)``,
    the order :class:`_KeyRows` gathers key patches in (distances do not depend on the order)."""
    pt, ph, pw = patch
    return rows.reshape(-1, channels, pt, ph, pw).permute(0, 2, 3, 1, 4).reshape(rows.shape[0], -1)


class _KeyRows:
    """Key patches by corner, gathered from a copy of the video with each voxel's ``pw`` horizontal
    neighbours side by side (``(T, H, W', C, pw)``, ``pw`` times the video): a patch is then
    ``pt * ph`` runs of ``C * pw`` values instead of ``C*pt*ph`` runs of ``pw``."""

    def __init__(self, video: torch.Tensor, patch: Patch):
        c, t, h, _ = video.shape
        pt, ph, pw = patch
        self.grid = patch_grid(video.shape[1:], patch)
        self.runs = video.unfold(3, pw, 1).permute(1, 2, 3, 0, 4).reshape(-1, c * pw)  # (T*H*W', C*pw)
        wide = self.grid[2]
        self.offsets = ((torch.arange(pt)[:, None] * h + torch.arange(ph)) * wide).reshape(-1).to(video.device)
        self.h, self.wide = h, wide

    def __call__(self, corners: torch.Tensor) -> torch.Tensor:
        """``(N, D)`` rows ordered ``(dt, dy, channel, dx)`` of the patches at flat ``corners`` ``(N,)``."""
        t, rest = corners // (self.grid[1] * self.grid[2]), corners % (self.grid[1] * self.grid[2])
        y, x = rest // self.grid[2], rest % self.grid[2]
        first = (t * self.h + y) * self.wide + x
        return _take(self.runs, (first[:, None] + self.offsets).reshape(-1)).reshape(len(corners), -1)


def _take(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``values[index]`` along the first axis; on the CPU by NumPy, which gathers rows 3 to 5 times faster."""
    if values.device.type != "cpu":
        return values[index]
    return torch.from_numpy(np.take(values.numpy(), index.numpy(), axis=0))


def _tree(coords: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Balanced median splits of key coordinates ``(Nk, d)`` into leaves: ``order`` ``(L*S,)``, key
    indices leaf after leaf (the last index repeated to fill ``L*S``), and the points ``(L, S, d)``.
    Each level cuts every node at the quantiles of its widest coordinate into :data:`TREE_FANOUT`
    (partitioned, not sorted: a child needs no order inside). In NumPy, 2 to 4 times faster here."""
    n, d = coords.shape
    levels = 0
    while TREE_FANOUT ** (levels + 1) * LEAF_PATCHES <= n:
        levels += 1
    leaves = TREE_FANOUT**levels
    points = coords.cpu().numpy()
    flat = points.reshape(-1)
    order = np.minimum(np.arange(leaves * -(-n // leaves)), n - 1)
    for level in range(levels):
        nodes = order.reshape(TREE_FANOUT**level, -1)
        some = points.take(nodes[:, :: max(1, nodes.shape[1] // LEAF_PATCHES)], axis=0)  # a subsample
        widest = (some.max(1) - some.min(1)).argmax(1)
        along = flat.take(nodes * d + widest[:, None])
        cuts = [nodes.shape[1] * i // TREE_FANOUT for i in range(1, TREE_FANOUT)]
        split = np.argpartition(along, cuts, axis=1) + np.arange(0, order.size, nodes.shape[1])[:, None]
        order = order.take(split.reshape(-1))
    leaf_points = torch.from_numpy(points.take(order, axis=0)).view(leaves, -1, d).to(coords.device)
    return torch.from_numpy(order).to(coords.device), leaf_points


def _box_bounds(q: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """``(L, N)`` squared distances from boxes ``[lo, hi]`` ``(L, d)`` to points ``q`` ``(N, d)``."""
    out = torch.empty(lo.shape[0], q.shape[0], device=q.device)
    centre, half = (lo + hi) / 2, (hi - lo) / 2
    step = max(1, BOUND_BLOCK // (q.shape[0] * q.shape[1]))
    for i in range(0, lo.shape[0], step):
        gap = (centre[i : i + step, None] - q).abs_().sub_(half[i : i + step, None]).clamp_(min=0)
        out[i : i + step] = gap.square_().sum(2)
    return out


def _limit(best: torch.Tensor, margin: float) -> torch.Tensor:
    """The squared bound a candidate must not exceed to be followed: ``(sqrt(best) + margin)^2``."""
    return (best.sqrt() + margin).square()


def _basis_sample(key: torch.Tensor, patch: Patch) -> torch.Tensor:
    """:data:`BASIS_PATCHES` key patches at fixed random corners (all of them for a smaller key)."""
    total = math.prod(patch_grid(key.shape[1:], patch))
    if total <= BASIS_PATCHES:
        return unfold(key, patch)
    corners = np.random.default_rng(0).choice(total, size=BASIS_PATCHES, replace=False)
    return patches_at(key, patch, np.sort(corners))


class _Chunk:
    """Frames of the key prepared for the search: every patch's projection, the tree of leaves with
    their boxes, and the patch layout (:func:`nearest_distances`)."""

    def __init__(self, video: torch.Tensor, patch: Patch, frame: _Frame):
        coords, error = frame.key_coords(video)
        self.order, self.points = _tree(coords)
        leaves, size, _ = self.points.shape
        error = error[self.order].view(leaves, size)
        points = self.points
        if points.device.type == "cpu":
            lo, hi = (torch.from_numpy(f(points.numpy(), axis=1)) for f in (np.min, np.max))
        else:
            lo, hi = points.amin(1), points.amax(1)
        lo[:, -1] = (points[..., -1] - error).amin(1)  # the left-out norm's box includes its rounding
        hi[:, -1] = (points[..., -1] + error).amax(1)
        self.lo, self.hi = lo, hi
        self.slack = error.amax(1)
        self.rows = _KeyRows(video, patch)
        self.margin = _margin(frame)

    def search(self, qrows: torch.Tensor, qcoords: torch.Tensor, best: torch.Tensor) -> None:
        """Lower ``best`` ``(N,)`` to each query's exact squared distance to the nearest patch of this
        chunk where that is smaller."""
        order, points, rows, margin, slack = self.order, self.points, self.rows, self.margin, self.slack
        leaves, size, d = points.shape
        bounds = _box_bounds(qcoords, self.lo, self.hi)  # (leaves, N)

        def exact(queries: torch.Tensor, corners: torch.Tensor) -> None:
            """Each of ``queries`` against the key patches at ``corners``: nearest by a product of
            centred rows, then its distance recomputed directly."""
            keys = rows(corners)
            centre = keys[0]  # any patch of the block is near them all: the products' rounding stays small
            k = keys - centre
            mine = _take(qrows, queries)
            q = mine - centre
            near = torch.addmm((k * k).sum(1)[None], q, k.T, alpha=-2.0).argmin(1)
            found = (mine - _take(keys, near)).square().sum(1)
            best[queries] = torch.minimum(best[queries], found)

        # an upper bound first: a few patches of each query's closest leaf, nearest by projection
        near_bound, home = bounds.min(0)
        follow = (near_bound <= _limit(best, margin)) & (best > 0)
        take = min(HOME_CANDIDATES, size)
        for part in follow.nonzero()[:, 0].split(BOUND_BLOCK // (size * d) + 1):
            gaps = (_take(points, home[part]) - qcoords[part, None]).square().sum(2)
            near = gaps.topk(take, 1, largest=False).indices
            corners = order[home[part, None] * size + near]  # (n, take)
            keys = rows(corners.reshape(-1)).view(len(part), take, -1)
            found = (keys - qrows[part, None]).square().sum(2).min(1).values
            best[part] = torch.minimum(best[part], found)
        # then every block of leaves some query may still find something closer in
        for first in range(0, leaves, BLOCK_LEAVES):
            last = min(leaves, first + BLOCK_LEAVES)
            limit = _limit(best, margin)
            queries = ((bounds[first:last] <= limit).any(0) & (best > 0)).nonzero()[:, 0]
            if len(queries) == 0:
                continue
            block = points[first:last].reshape(-1, d)
            centre = block.mean(0)
            k = block - centre
            q = qcoords[queries] - centre
            lower = torch.addmm((k * k).sum(1)[None], q, k.T, alpha=-2.0).add_((q * q).sum(1)[:, None])
            follow = lower <= _limit(best[queries], margin + float(slack[first:last].max()))[:, None]
            if not bool(follow.any()):
                continue
            cols = follow.any(0).nonzero()[:, 0]
            who = follow.any(1).nonzero()[:, 0]
            exact(queries[who], order[first * size + cols])
