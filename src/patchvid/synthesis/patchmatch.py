"""Approximate nearest-neighbour search between space-time patches: PatchMatch in 3-D.

:class:`PatchMatch` implements the :class:`~patchvid.search.PatchSearch` protocol. It starts from a
nearest-neighbour field (``init``, e.g. a coarser level's field made finer by :func:`upsample_nnf`,
or random) and improves it by rounds ("passes") of

* propagation: a query tries what its neighbours along t, y and x matched, shifted back by the
  neighbour's offset (coherent regions spread), either by jump flooding (neighbours at ``±step``,
  steps like 8, 4, 2, 1, all queries at once) or by scanlines (a whole line along one axis in
  order, so a good match travels the length of the line in one pass);
* random search: candidates drawn uniformly in windows around the current match whose radius
  shrinks from the whole key to one patch; the radii are spread over the passes so that each pass
  tests only a few;

and keeps, per query, the candidate of lowest score. Distances are sums of squared differences
computed straight from the two videos (no ``(N, D)`` patch matrix), stopped as soon as they exceed
the current best. Optionally (``features > 0``) a candidate must first pass a lower bound: the
distance between PCA features of the two patches plus the difference of their residual norms (an
orthonormal projection never lengthens a vector). Pruning by a lower bound never changes which
candidate wins. It is off by default: on real footage the candidates that matter are near the
current match and differ from it in fine detail the PCA misses, so the bound rejected only about
half of them and cost more (features, one more cache miss per candidate) than it saved; see
BENCHMARKS.md.

Completeness weighting (``alpha``) needs, for every key patch, the distance to its nearest query,
which PatchMatch does not give. It is estimated by a reverse PatchMatch (key patches as queries,
query patches as keys), started from the inverse of ``init`` where ``init`` covers a key, and then
lowered by the distances of the forward field's starting matches (scatter-min). Both are distances
of real pairs, so the estimate is an upper bound of the true minimum; keys that are poorly served by
queries are found by the reverse search, which is what the weight needs.

A ``key_mask`` restricts the matches to allowed key patches. The start field is moved onto allowed
keys first (a disallowed start corner is replaced by a random allowed one), and from then on every
candidate on a disallowed key is rejected before its distance is computed, so the field never
leaves the allowed set; with sparse masks most random candidates are simply skipped. The reverse
search for ``alpha`` is left unmasked: it estimates, for every key patch, the distance to its
nearest query, of which only the allowed keys' values are ever read.

Two back ends run the same algorithm: a numba kernel for CPUs (parallel over queries; jump-flood and
scanline schedules) and vectorised torch for CUDA tensors (jump flooding only, as scanlines are
sequential). Both are deterministic given ``seed`` (double-buffered fields: no pass reads what
another thread of the same pass writes, apart from a scanline's own earlier entries).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError
from .backends import choose_backend
from .patches import patch_grid
from .search import Match, Patch, check_key_mask

Grid = tuple[int, int, int]



# ------------------------------------------------------------------------------------ public API


@dataclass
class PatchMatch:
    """Approximate nearest-neighbour search by space-time PatchMatch.

    Attributes:
        passes: rounds of propagation + random search.
        schedule: ``"jump"`` (jump flooding, neighbours at ``±step`` along t, y, x, steps cycled from
            ``steps``) or ``"scan"`` (scanlines along x, y, t in turn, alternating direction; more
            quality per second on CPU). The torch back end always uses ``"jump"``.
        steps: jump lengths, cycled over the passes (``"jump"`` only).
        random_candidates: random-search samples per query and pass, in windows whose radii go from
            the key grid's longest side down to 1 by halving; one pass's samples are spread over
            those scales and later passes (and other seeds) shift them (:func:`_radius_level`).
            On real footage this is the best use of time: 4 beat 2 with twice the passes.
        features: PCA dimensions of the lower bound that prunes candidates; 0 disables it.
        pca_samples: key patches sampled to fit the PCA basis.
        reverse_passes: passes of the key-to-query search that estimates the completeness weight
            (``alpha``); ``None`` uses ``passes``.
        backend: ``"auto"`` (numba on CPU tensors if available, else torch), ``"numba"`` or
            ``"torch"``.
        chunk: queries per vectorised block in the torch back end (bounds memory).
    """

    passes: int = 4
    schedule: str = "scan"
    steps: tuple[int, ...] = (8, 4, 2, 1)
    random_candidates: int = 4
    features: int = 0
    pca_samples: int = 4096
    reverse_passes: int | None = None
    backend: str = "auto"
    chunk: int = 1 << 16

    def __call__(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        patch: Patch,
        *,
        alpha: float | None = None,
        init: torch.Tensor | None = None,
        seed: int = 0,
        key_mask: torch.Tensor | None = None,
    ) -> Match:
        """Match every patch of ``query`` to a patch of ``key``; see :class:`~patchvid.search.PatchSearch`.

        Args:
            query: ``(C, Tq, Hq, Wq) float32``.
            key: ``(C, Tk, Hk, Wk) float32`` on the same device.
            patch: ``(pt, ph, pw)``.
            alpha: completeness weight, or ``None``.
            init: ``(Tq', Hq', Wq', 3)`` integer key corners to start from (clamped into the key
                grid), or ``None`` for a random start.
            seed: seeds every random choice.
            key_mask: ``(Tk', Hk', Wk') bool`` over the key's patch grid, True where a key patch may be
                matched, or ``None`` for all (see :func:`~patchvid.search.check_key_mask`).

        Returns:
            :class:`~patchvid.search.Match` on the query's device: ``nnf (Tq',Hq',Wq',3) int64``,
            ``distance (Tq',Hq',Wq') float32`` (unweighted squared distance).
        """
        if self.schedule not in ("jump", "scan"):
            raise InputError(f"unknown schedule {self.schedule!r}; use 'jump' or 'scan'")
        if query.shape[0] != key.shape[0]:
            raise InputError(f"query has {query.shape[0]} channels, key {key.shape[0]}")
        patch = tuple(int(p) for p in patch)  # type: ignore[assignment]
        q_grid = patch_grid(query.shape[1:], patch)
        k_grid = patch_grid(key.shape[1:], patch)
        backend = choose_backend(self.backend, query.device)
        device = query.device
        query = query.float()
        key = key.float().to(device)
        gen = torch.Generator().manual_seed(int(seed))
        # the field travels as (Nq, 3) key corners: the kernels need no divisions, and the engine's
        # (T', H', W', 3) fields convert by a reshape (flat indices cost two int64 divisions a query)
        nnf0 = _initial_corners(init, q_grid, k_grid, gen, device)
        allow = check_key_mask(key_mask, k_grid, device)
        if allow is not None:
            nnf0 = _start_on_allowed(nnf0, allow, k_grid, gen)

        q_feat = k_feat = None
        if self.features > 0:
            basis = self._basis(key, patch, k_grid, gen)
            centre = key.mean(dim=(1, 2, 3))
            q_feat = _features(query, basis, patch, centre)  # (Nq, F+1)
            k_feat = _features(key, basis, patch, centre)  # (Nk, F+1)
        run = self._run_numba if backend == "numba" else self._run_torch

        inv_weight = None  # alpha + estimated distance of each key to its nearest query
        if alpha is not None:
            nq, nk = math.prod(q_grid), math.prod(k_grid)
            flat0 = _to_flat(nnf0, k_grid)
            rev0 = torch.randint(0, nq, (nk,), generator=gen).to(device)
            # the inverse of the start where it covers a key (lowest query index: deterministic)
            rev0 = rev0.scatter_reduce(0, flat0, torch.arange(nq, device=device), reduce="amin", include_self=False)
            rev0 = _to_corners(rev0, q_grid)
            rev_passes = self.passes if self.reverse_passes is None else self.reverse_passes
            _, rev_dist = run(key, query, patch, k_grid, q_grid, k_feat, q_feat, None, rev0, seed + 1, rev_passes)
            # the start's own distances (a run of 0 passes: the numba kernel, 10x faster than a gather)
            _, d0 = run(query, key, patch, q_grid, k_grid, None, None, None, nnf0, seed, 0)
            nearest = rev_dist.clone().scatter_reduce_(0, flat0, d0, reduce="amin")
            inv_weight = (float(alpha) + nearest).float()

        nnf, dist = run(query, key, patch, q_grid, k_grid, q_feat, k_feat, inv_weight, nnf0, seed, self.passes, allow)
        return Match(nnf.reshape(*q_grid, 3), dist.reshape(q_grid).float())

    # ------------------------------------------------------------------------------- pieces

    def _basis(self, key: torch.Tensor, patch: Patch, k_grid: Grid, gen: torch.Generator) -> torch.Tensor:
        """``(F, C*pt*ph*pw)`` orthonormal rows: the top principal directions of key patches."""
        c = key.shape[0]
        nk = math.prod(k_grid)
        n = min(nk, self.pca_samples)
        pick = torch.randperm(nk, generator=gen)[:n].to(key.device)
        kt, ky, kx = _unflatten(pick, k_grid)
        offsets = _voxel_offsets(patch, key.shape[1:], key.device)  # (P,)
        base = (kt * key.shape[2] + ky) * key.shape[3] + kx
        samples = key.reshape(c, -1)[:, base[:, None] + offsets[None]]  # (C, n, P)
        samples = samples.permute(1, 0, 2).reshape(n, -1).double()
        samples = samples - samples.mean(0, keepdim=True)
        _, vectors = torch.linalg.eigh(samples.T @ samples)  # ascending eigenvalues
        f = min(self.features, vectors.shape[1])
        return vectors[:, -f:].T.flip(0).float().contiguous()

    def _run_numba(self, query, key, patch, q_grid, k_grid, q_feat, k_feat, inv_weight, nnf0, seed, passes, allow=None):
        """One PatchMatch run by the numba kernels from ``nnf0`` ``(Nq, 3)`` key corners (all on keys
        that ``allow`` ``(Nk,) bool`` allows, if given); returns ``(nnf (Nq, 3) int64 corners,
        distance float32)``."""
        qv = _channels_last(query)
        kv = _channels_last(key)
        c = query.shape[0]
        qs = _strides(query.shape[1:], c)
        ks = _strides(key.shape[1:], c)
        qrow, krow = _row_offsets(patch, query.shape[1:], c), _row_offsets(patch, key.shape[1:], c)
        qg, kg = np.array(q_grid, np.int64), np.array(k_grid, np.int64)
        qf = q_feat.cpu().numpy() if q_feat is not None else np.zeros((math.prod(q_grid), 0), np.float32)
        kf = k_feat.cpu().numpy() if k_feat is not None else np.zeros((math.prod(k_grid), 0), np.float32)
        inv = inv_weight.cpu().numpy() if inv_weight is not None else np.zeros(0, np.float32)
        # as for inv, an empty array means "no mask": the kernels test its length, not its values
        ok = allow.cpu().numpy() if allow is not None else np.zeros(0, np.bool_)
        rowlen = patch[2] * c
        nnf = nnf0.cpu().numpy().astype(np.int64)  # a copy: the kernels write into it
        dist = np.empty(nnf.shape[0], np.float32)
        score = np.empty(nnf.shape[0], np.float32)
        from . import _patchmatch as kernels

        kernels.init_pass(qv, kv, qg, kg, qs, ks, qrow, krow, rowlen, inv, nnf, dist, score)
        nnf2, dist2, score2 = np.empty_like(nnf), np.empty_like(dist), np.empty_like(score)
        radii = _radii(k_grid)
        for p in range(passes):
            args = (qv, kv, qg, kg, qs, ks, qrow, krow, rowlen, qf, kf, inv, ok, nnf, dist, score, nnf2, dist2, score2)
            rnd = (self.random_candidates, radii, np.uint64(seed & 0xFFFFFFFFFFFFFFFF), p)
            if self.schedule == "jump":
                kernels.jump_pass(*args, int(self.steps[p % len(self.steps)]), *rnd)
            else:
                axis, direction = _scan_order(q_grid, p)
                kernels.scan_pass(*args, axis, direction, *rnd)
            nnf, nnf2, dist, dist2, score, score2 = nnf2, nnf, dist2, dist, score2, score
        dev = query.device
        return torch.from_numpy(nnf).to(dev), torch.from_numpy(dist).to(dev)

    def _run_torch(self, query, key, patch, q_grid, k_grid, q_feat, k_feat, inv_weight, nnf0, seed, passes, allow=None):
        """The vectorised (jump-flood) run, on flat key indices; takes and returns corners as
        :meth:`_run_numba` does."""
        dev = query.device
        nq = math.prod(q_grid)
        gen = torch.Generator(device=dev).manual_seed(int(seed) + 0x5EED)
        qidx = torch.arange(nq, device=dev)
        nnf = _to_flat(nnf0, k_grid)
        dist = _exact_flat(query, key, patch, q_grid, k_grid, qidx, nnf, self.chunk)
        score = dist / inv_weight[nnf] if inv_weight is not None else dist.clone()
        qt, qy, qx = _unflatten(qidx, q_grid)
        q_coords = (qt, qy, qx)
        kg = torch.tensor(k_grid, device=dev)
        radii = _radii(k_grid)
        for p in range(passes):
            step = int(self.steps[p % len(self.steps)])
            old = nnf.clone()  # jump flooding reads the field as it was at the start of the pass
            for axis in range(3):
                for sign in (1, -1):
                    nb = q_coords[axis] + sign * step
                    ok = (nb >= 0) & (nb < q_grid[axis])
                    src = qidx + sign * step * _grid_stride(q_grid, axis)
                    src = torch.where(ok, src, qidx)
                    cand = _shift_flat(old[src], axis, -sign * step, k_grid)
                    cand = torch.where(ok, cand, nnf)
                    self._improve(
                        query, key, patch, q_grid, k_grid, q_feat, k_feat, inv_weight, allow, cand, nnf, dist, score
                    )
            for j in range(self.random_candidates):
                r = int(radii[_radius_level(j, p, seed, self.random_candidates, len(radii))])
                kt, ky, kx = _unflatten(nnf, k_grid)
                parts = []
                for a, centre in enumerate((kt, ky, kx)):
                    lo = (centre - r).clamp(min=0)
                    hi = (centre + r).clamp(max=int(kg[a]) - 1)
                    u = torch.rand(nq, generator=gen, device=dev)
                    parts.append(lo + (u * (hi - lo + 1).float()).long().clamp(max=hi - lo))
                cand = (parts[0] * k_grid[1] + parts[1]) * k_grid[2] + parts[2]
                self._improve(
                    query, key, patch, q_grid, k_grid, q_feat, k_feat, inv_weight, allow, cand, nnf, dist, score
                )
        return _to_corners(nnf, k_grid), dist

    def _improve(self, query, key, patch, q_grid, k_grid, q_feat, k_feat, inv_weight, allow, cand, nnf, dist, score):
        """Replace, in place, each query's match by ``cand`` where the candidate scores lower (and is on
        a key that ``allow`` allows, if given)."""
        todo = cand != nnf
        if allow is not None:
            todo &= allow[cand]  # a candidate on a disallowed key is dropped before any distance
        if q_feat is not None:
            # lower bound: only candidates whose PCA distance beats the current score get an exact one
            idx = todo.nonzero()[:, 0]
            bound = torch.empty(0, device=cand.device)
            for s in range(0, idx.numel(), self.chunk):
                i = idx[s : s + self.chunk]
                lb = ((q_feat[i] - k_feat[cand[i]]) ** 2).sum(1) * (1 - 1e-5)
                if inv_weight is not None:
                    lb = lb / inv_weight[cand[i]]
                bound = torch.cat((bound, lb))
            keep = bound < score[idx]
            idx = idx[keep]
        else:
            idx = todo.nonzero()[:, 0]
        if idx.numel() == 0:
            return
        d = _exact_flat(query, key, patch, q_grid, k_grid, idx, cand[idx], self.chunk)
        s = d / inv_weight[cand[idx]] if inv_weight is not None else d
        better = s < score[idx]
        idx, s, d = idx[better], s[better], d[better]
        nnf[idx] = cand[idx]
        dist[idx] = d
        score[idx] = s


def upsample_nnf(
    nnf: torch.Tensor,
    coarse_key_grid: Grid,
    query_grid: Grid,
    key_grid: Grid,
    patch: Patch | None = None,
    coarse_patch: Patch | None = None,
) -> torch.Tensor:
    """Map a coarser level's nearest-neighbour field onto a finer level's grids (to start a search).

    Each fine query patch looks up the coarse query patch at the same relative position (patch
    centres aligned, pixel-centre convention ``u_coarse = (u_fine + 0.5) * scale - 0.5``), takes its
    key, adds its own sub-cell offset (so that a coherent coarse field stays coherent: a shifted
    copy stays a shifted copy), scales the key position to the fine key grid, then rounds and
    clamps.

    Args:
        nnf: ``(T'c, H'c, W'c, 3)`` integer coarse key corners (its grid is the coarse query grid).
        coarse_key_grid: ``(T', H', W')`` patch grid of the coarse key.
        query_grid: patch grid of the fine query.
        key_grid: patch grid of the fine key.
        patch: fine patch size; used to align patch centres (``None``: corners are aligned).
        coarse_patch: coarse patch size, if different from ``patch``.

    Returns:
        ``(*query_grid, 3) int64`` fine key corners, all inside ``key_grid``.
    """
    dev = nnf.device
    fine_p = patch or (1, 1, 1)
    coarse_p = coarse_patch or fine_p
    cq_grid = tuple(nnf.shape[:3])
    # every step is separable by axis, so positions are 1-D per axis and only the gather and the
    # final coordinates are full-grid arrays (a 1080p field would otherwise need ~10 float64 grids)
    rounded, frac, view = [], [], []
    for a in range(3):
        shape = [1, 1, 1]
        shape[a] = query_grid[a]
        view.append(shape)
        # continuous coarse position of this fine patch's centre, as a coarse corner coordinate
        pos = torch.arange(query_grid[a], device=dev, dtype=torch.float64)
        vid_f, vid_c = query_grid[a] + fine_p[a] - 1, cq_grid[a] + coarse_p[a] - 1
        centre = (pos + (fine_p[a] - 1) / 2 + 0.5) * (vid_c / vid_f) - 0.5 - (coarse_p[a] - 1) / 2
        r = centre.round().clamp(0, cq_grid[a] - 1).long()
        rounded.append(r)
        frac.append(centre - r)  # the sub-cell offset, kept so a coherent field stays coherent
    coarse_key = nnf.to(dev)[rounded[0].view(view[0]), rounded[1].view(view[1]), rounded[2].view(view[2])]
    out = torch.empty((*query_grid, 3), dtype=torch.int64, device=dev)
    for a in range(3):
        vid_kc, vid_kf = coarse_key_grid[a] + coarse_p[a] - 1, key_grid[a] + fine_p[a] - 1
        k_c = coarse_key[..., a].double() + frac[a].view(view[a])
        k_f = (k_c + (coarse_p[a] - 1) / 2 + 0.5) * (vid_kf / vid_kc) - 0.5 - (fine_p[a] - 1) / 2
        out[..., a] = k_f.round_().clamp_(0, key_grid[a] - 1).long()
    return out


# ----------------------------------------------------------------------------------- helpers


def _unflatten(index: torch.Tensor, grid: Grid) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    _, h, w = grid
    return index // (h * w), (index // w) % h, index % w


def _grid_stride(grid: Grid, axis: int) -> int:
    return (grid[1] * grid[2], grid[2], 1)[axis]


def _shift_flat(index: torch.Tensor, axis: int, delta: int, grid: Grid) -> torch.Tensor:
    """Flat grid indices moved by ``delta`` along ``axis``, clamped into the grid."""
    coords = list(_unflatten(index, grid))
    coords[axis] = (coords[axis] + delta).clamp(0, grid[axis] - 1)
    return (coords[0] * grid[1] + coords[1]) * grid[2] + coords[2]


def _initial_corners(init: torch.Tensor | None, q_grid: Grid, k_grid: Grid, gen, device) -> torch.Tensor:
    """``(Nq, 3) int64`` key corners to start from: ``init`` clamped into the key grid, or random."""
    nq = math.prod(q_grid)
    if init is None:
        return _to_corners(torch.randint(0, math.prod(k_grid), (nq,), generator=gen).to(device), k_grid)
    if tuple(init.shape) != (*q_grid, 3):
        raise InputError(f"init has shape {tuple(init.shape)}; expected {(*q_grid, 3)}")
    init = init.to(device=device, dtype=torch.int64).reshape(-1, 3)
    hi = torch.tensor(k_grid, device=device) - 1
    return torch.minimum(init.clamp(min=0), hi)


def _start_on_allowed(nnf0: torch.Tensor, allow: torch.Tensor, k_grid: Grid, gen) -> torch.Tensor:
    """``nnf0`` ``(Nq, 3)`` with every corner on a key that ``allow`` ``(Nk,) bool`` disallows replaced
    by a random allowed one (drawn from ``gen``: deterministic by seed). The searches reject every
    disallowed candidate, so an allowed start is what guarantees an allowed result."""
    flat = _to_flat(nnf0, k_grid)
    choices = allow.nonzero()[:, 0]
    pick = torch.randint(0, choices.numel(), (flat.numel(),), generator=gen).to(allow.device)
    return _to_corners(torch.where(allow[flat], flat, choices[pick]), k_grid)


def _to_flat(corners: torch.Tensor, grid: Grid) -> torch.Tensor:
    """``(N, 3)`` corners to ``(N,)`` flat indices into ``grid``."""
    return (corners[:, 0] * grid[1] + corners[:, 1]) * grid[2] + corners[:, 2]


def _to_corners(index: torch.Tensor, grid: Grid) -> torch.Tensor:
    """``(N,)`` flat indices into ``grid`` to ``(N, 3)`` corners."""
    return torch.stack(_unflatten(index, grid), dim=1)


def _voxel_offsets(patch: Patch, shape, device) -> torch.Tensor:
    """``(pt*ph*pw,)`` flat voxel offsets of a patch's voxels from its corner, in (dt, dy, dx) order."""
    pt, ph, pw = patch
    _, h, w = (int(s) for s in shape)
    dt = torch.arange(pt, device=device)[:, None, None] * (h * w)
    dy = torch.arange(ph, device=device)[None, :, None] * w
    dx = torch.arange(pw, device=device)[None, None, :]
    return (dt + dy + dx).reshape(-1)


def _exact_flat(query, key, patch, q_grid, k_grid, qi, ki, chunk: int = 1 << 16) -> torch.Tensor:
    """``(n,) float32`` squared distances between query patches ``qi`` and key patches ``ki`` (flat
    grid indices), gathered straight from the videos ``(C, T, H, W)`` in blocks of ``chunk``."""
    c = query.shape[0]
    qflat, kflat = query.reshape(c, -1), key.reshape(c, -1)
    qoff = _voxel_offsets(patch, query.shape[1:], query.device)
    koff = _voxel_offsets(patch, key.shape[1:], key.device)
    qt, qy, qx = _unflatten(qi, q_grid)
    kt, ky, kx = _unflatten(ki, k_grid)
    qbase = (qt * query.shape[2] + qy) * query.shape[3] + qx
    kbase = (kt * key.shape[2] + ky) * key.shape[3] + kx
    out = torch.empty(qi.shape[0], device=query.device)
    step = max(1, chunk // max(1, c))
    for s in range(0, qi.shape[0], step):
        a = qflat[:, qbase[s : s + step, None] + qoff[None]]
        b = kflat[:, kbase[s : s + step, None] + koff[None]]
        out[s : s + step] = ((a - b) ** 2).sum((0, 2))
    return out


def _features(
    video: torch.Tensor, basis: torch.Tensor | None, patch: Patch, centre: torch.Tensor
) -> torch.Tensor | None:
    """``(N, F+1) float32`` lower-bound features of every valid patch, or ``None`` without a basis.

    Columns ``0..F-1`` are the PCA coefficients ``P(x - centre)`` (one 3-D convolution); the last is
    the norm of what the projection leaves out, ``|R(x - centre)|``. For two patches x, y,
    ``|x - y|^2 = |P(x-y)|^2 + |R(x-y)|^2 >= |P(x-y)|^2 + (|R(x-c)| - |R(y-c)|)^2``, i.e. the squared
    distance between feature rows is a lower bound of the patch distance. ``centre`` ``(C,)`` must be
    the same for query and key (it cancels in differences; it only keeps values small).
    """
    if basis is None:
        return None
    c = video.shape[0]
    centred = video - centre.to(video.device).reshape(c, 1, 1, 1)
    weight = basis.to(video.device).reshape(basis.shape[0], c, *patch)
    feat = torch.nn.functional.conv3d(centred[None], weight)[0]  # (F, T', H', W')
    feat = feat.reshape(feat.shape[0], -1).T  # (N, F)
    # squared patch norms by running sums in float64 (the residual is a small difference of large numbers)
    sq = (centred.double() ** 2).sum(0)
    for axis, size in enumerate(patch):
        cum = torch.cumsum(sq, axis)
        cum = torch.cat((torch.zeros_like(cum.narrow(axis, 0, 1)), cum), axis)
        sq = cum.narrow(axis, size, cum.shape[axis] - size) - cum.narrow(axis, 0, cum.shape[axis] - size)
    residual = (sq.reshape(-1) - (feat.double() ** 2).sum(1)).clamp(min=0).sqrt()
    return torch.cat((feat, residual.float()[:, None]), 1).contiguous()


def _scan_order(q_grid: Grid, p: int) -> tuple[int, int]:
    """Axis and direction of scanline pass ``p``: x, y, t in turn (axes of one patch are skipped, so an
    image alternates x and y), forwards, then the same backwards."""
    axes = [a for a in (2, 1, 0) if q_grid[a] > 1] or [2]
    return axes[p % len(axes)], (1 if (p // len(axes)) % 2 == 0 else -1)


def _radius_level(j: int, p: int, seed: int, n_random: int, levels: int) -> int:
    """Index into :func:`_radii` of random sample ``j`` of pass ``p``: the samples of one pass are
    spread over the scales (large and small in every pass, even with two samples), and successive
    passes (and calls with other seeds) shift them, so a few passes cover every scale."""
    stride = -(-levels // n_random)
    return (j * stride + p + (seed % 2**64)) % levels


def _radii(k_grid: Grid) -> np.ndarray:
    """Random-search window radii: the key grid's longest side, halved down to 1."""
    r = max(k_grid)
    out = []
    while True:
        out.append(r)
        if r <= 1:
            break
        r = max(1, r // 2)
    return np.array(out, np.int64)


def _channels_last(video: torch.Tensor) -> np.ndarray:
    """``(C, T, H, W)`` tensor to a flat ``float32`` array in ``(T, H, W, C)`` order: a patch row of
    ``pw`` pixels is then ``pw*C`` consecutive floats."""
    return video.detach().permute(1, 2, 3, 0).contiguous().cpu().numpy().reshape(-1)


def _strides(shape, c: int) -> np.ndarray:
    """Flat-array strides of ``(t, y, x)`` in a channels-last video."""
    _, h, w = (int(s) for s in shape)
    return np.array([h * w * c, w * c, c], np.int64)


def _row_offsets(patch: Patch, shape, c: int) -> np.ndarray:
    """Flat-array offsets of the ``pt*ph`` rows of a patch from its corner (channels-last)."""
    pt, ph, _ = patch
    _, h, w = (int(s) for s in shape)
    return np.array([(dt * h + dy) * w * c for dt in range(pt) for dy in range(ph)], np.int64)
