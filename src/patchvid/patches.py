"""Space-time patches: unfolding a video into patches and folding (voting) patches back into a video.

A patch is ``(pt, ph, pw)`` voxels of all channels, taken at stride 1 and only where it fits
("valid" patches), so a ``(C, T, H, W)`` video has a grid of ``(T-pt+1, H-ph+1, W-pw+1)`` patches,
each indexed by its corner. Folding gives every voxel the median (or mean, or Gaussian-weighted
mean) of the values that all overlapping patches propose for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

try:  # the compiled CPU fold; without numba the torch path does the same (slower, more memory)
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

Patch = tuple[int, int, int]
REDUCTIONS = ("median", "mean", "gaussian")


def patch_grid(shape: tuple[int, int, int] | torch.Size, patch: Patch) -> tuple[int, int, int]:
    """Number of valid patch corners ``(T', H', W')`` of a ``(T, H, W)`` video."""
    grid = tuple(int(s) - p + 1 for s, p in zip(shape, patch))
    if min(grid) < 1:
        raise ValueError(f"patch {patch} does not fit in a video of {tuple(shape)} frames x height x width")
    return grid  # type: ignore[return-value]


def patches_touching(mask: torch.Tensor, patch: Patch) -> torch.Tensor:
    """``(T', H', W') bool``: which patches (by corner) contain at least one True voxel of ``mask``
    ``(T, H, W) bool``."""
    hit = torch.nn.functional.max_pool3d(mask[None, None].float(), patch, stride=1)
    return hit[0, 0] > 0


def unfold(video: torch.Tensor, patch: Patch) -> torch.Tensor:
    """All valid patches of a video as rows.

    Args:
        video: ``(C, T, H, W)``.
        patch: ``(pt, ph, pw)``.

    Returns:
        ``(T'*H'*W', C*pt*ph*pw)``, rows in corner order (t, then y, then x), each row ordered
        (channel, dt, dy, dx).
    """
    pt, ph, pw = patch
    c = video.shape[0]
    windows = video.unfold(1, pt, 1).unfold(2, ph, 1).unfold(3, pw, 1)  # (C, T', H', W', pt, ph, pw)
    return windows.permute(1, 2, 3, 0, 4, 5, 6).reshape(-1, c * pt * ph * pw)


def fold(
    patches: torch.Tensor,
    shape: tuple[int, int, int, int],
    patch: Patch,
    reduce: str = "median",
    max_bytes: int = 256 * 2**20,
) -> torch.Tensor:
    """Fold rows of patches (as :func:`unfold` makes them) back into a ``(C, T, H, W)`` video.

    Folding the unfolded patches of a video returns the video (exactly for ``median``, to
    rounding for the means).
    """
    c, t, h, w = shape
    pt, ph, pw = patch
    grid = patch_grid((t, h, w), patch)
    cube = patches.reshape(*grid, c, pt, ph, pw)

    def proposals(offset: Patch, t0: int, t1: int) -> torch.Tensor:
        dt, dy, dx = offset
        return cube[t0:t1, :, :, :, dt, dy, dx].permute(3, 0, 1, 2)

    return _vote(proposals, shape, patch, reduce, patches.device, patches.dtype, max_bytes)


def fold_nnf(
    value: torch.Tensor,
    nnf: torch.Tensor,
    patch: Patch,
    reduce: str = "median",
    max_bytes: int = 256 * 2**20,
) -> torch.Tensor:
    """Fold the value patches that a nearest-neighbour field points at, without unfolding them.

    Args:
        value: ``(C, Tv, Hv, Wv)``: the video the patches are copied from.
        nnf: ``(T', H', W', 3) int64``: for each output patch corner, the value patch's corner.
        patch: ``(pt, ph, pw)``.
        reduce: ``"median"`` (the published method), ``"mean"`` or ``"gaussian"``.
        max_bytes: memory for the votes of one chunk of frames.

    Returns:
        ``(C, T'+pt-1, H'+ph-1, W'+pw-1)``, same dtype and device as ``value``.
    """
    c, tv, hv, wv = value.shape
    pt, ph, pw = patch
    grid = tuple(nnf.shape[:3])
    flat_value = value.reshape(c, -1)
    base = (nnf[..., 0] * hv + nnf[..., 1]) * wv + nnf[..., 2]  # (T', H', W') voxel index of each corner

    def proposals(offset: Patch, t0: int, t1: int) -> torch.Tensor:
        dt, dy, dx = offset
        index = base[t0:t1] + ((dt * hv + dy) * wv + dx)
        return flat_value[:, index.reshape(-1)].reshape(c, *index.shape)

    shape = (c, grid[0] + pt - 1, grid[1] + ph - 1, grid[2] + pw - 1)
    if value.device.type == "cpu" and HAVE_NUMBA and reduce in REDUCTIONS:
        # one pass over the output, no (offsets x video) vote tensor; the median and the mean count
        # each voxel's votes by source (see _fold_shifts_kernel), the Gaussian mean weighs each vote
        out = torch.empty(shape, dtype=torch.float32)
        flat = flat_value.float().contiguous().numpy()
        corners = base.contiguous().numpy()
        if reduce == "gaussian":
            weights = gaussian_weights(patch).double().contiguous().numpy()
            _fold_kernel(flat, corners, hv, wv, patch, 2, weights, out.numpy())
        else:
            _fold_shifts_kernel(flat, corners, hv, wv, patch, reduce == "median", out.numpy())
        return out.to(value.dtype)
    return _vote(proposals, shape, patch, reduce, value.device, value.dtype, max_bytes)


def gaussian_weights(patch: Patch) -> torch.Tensor:
    """``(pt, ph, pw)`` weights, highest at the patch centre, standard deviation a quarter of the
    patch size along each axis."""
    axes = []
    for size in patch:
        x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
        sigma = max(size / 4, 0.5)
        axes.append(torch.exp(-0.5 * (x / sigma) ** 2))
    return (axes[0][:, None, None] * axes[1][None, :, None] * axes[2][None, None, :]).float()


def _vote(
    proposals: Callable[[Patch, int, int], torch.Tensor],
    shape: tuple[int, int, int, int],
    patch: Patch,
    reduce: str,
    device: torch.device,
    dtype: torch.dtype,
    max_bytes: int,
) -> torch.Tensor:
    """Reduce, per voxel, the values proposed by every patch that covers it.

    ``proposals(offset, t0, t1)`` gives ``(C, t1-t0, H', W')``: the value that the patches with
    corners in frames ``t0:t1`` propose for their voxel at ``offset`` from the corner. The output is
    made a chunk of frames at a time, so memory stays within ``max_bytes``.
    """
    if reduce not in REDUCTIONS:
        raise ValueError(f"unknown voting rule {reduce!r}; use one of {REDUCTIONS}")
    c, t, h, w = shape
    pt, ph, pw = patch
    gt, gh, gw = t - pt + 1, h - ph + 1, w - pw + 1
    n_offsets = pt * ph * pw
    out = torch.empty(shape, device=device, dtype=dtype)
    weights = gaussian_weights(patch).to(device) if reduce == "gaussian" else None
    chunk = max(1, min(t, max_bytes // max(1, n_offsets * c * h * w * 4)))
    for f0 in range(0, t, chunk):
        f1 = min(t, f0 + chunk)
        # patches whose corner lies in [f0 - pt + 1, f1) cover output frames f0..f1-1
        c0, c1 = max(0, f0 - pt + 1), min(gt, f1)
        votes = torch.full((n_offsets, c, f1 - f0, h, w), math.nan, device=device, dtype=dtype)
        for i, (dt, dy, dx) in enumerate(_offsets(patch)):
            # corners c0..c1 put their offset-(dt,dy,dx) voxel at frames c0+dt..c1+dt; keep those in f0..f1
            lo, hi = max(c0, f0 - dt), min(c1, f1 - dt)
            if lo >= hi:
                continue
            votes[i, :, lo + dt - f0 : hi + dt - f0, dy : dy + gh, dx : dx + gw] = proposals((dt, dy, dx), lo, hi)
        if reduce == "median":
            out[:, f0:f1] = votes.nanmedian(dim=0).values
        else:
            present = ~votes.isnan()
            w_off = (
                weights.reshape(-1, 1, 1, 1, 1).to(dtype)
                if weights is not None
                else torch.ones((n_offsets, 1, 1, 1, 1), device=device, dtype=dtype)
            )
            total = (votes.nan_to_num(0.0) * w_off).sum(0)
            out[:, f0:f1] = total / (present * w_off).sum(0)
    return out


def _offsets(patch: Patch):
    pt, ph, pw = patch
    for dt in range(pt):
        for dy in range(ph):
            for dx in range(pw):
                yield dt, dy, dx


if HAVE_NUMBA:

    @njit(cache=True)
    def _select(buf, n, k):  # pragma: no cover - compiled
        """The k-th smallest of buf[:n] (Hoare's selection; reorders buf)."""
        lo, hi = 0, n - 1
        while lo < hi:
            pivot = buf[(lo + hi) // 2]
            i, j = lo, hi
            while i <= j:
                while buf[i] < pivot:
                    i += 1
                while buf[j] > pivot:
                    j -= 1
                if i <= j:
                    buf[i], buf[j] = buf[j], buf[i]
                    i += 1
                    j -= 1
            if k <= j:
                hi = j
            elif k >= i:
                lo = i
            else:
                return buf[k]
        return buf[k]

    @njit(inline="always", cache=True)
    def _add_column(base, t, y, cx, hv, wv, pt, ph, shifts, counts, m, sign):  # pragma: no cover - compiled
        """Add (``sign`` 1) or remove (-1) the votes of the patches with corners in column ``cx``
        (all ``dt``, ``dy``) that cover the voxels of output row ``(t, y)``, counted by shift; returns
        the new number of distinct shifts. A vote of corner c for voxel v reads the value at
        ``shift(c) + flat(v)``, ``shift(c) = base[c] - flat(c)``: equal shifts are equal votes."""
        gt, gh = base.shape[0], base.shape[1]
        last_shift = np.int64(-(1 << 62))
        last = -1
        for dt in range(pt):
            ct = t - dt
            if ct < 0 or ct >= gt:
                continue
            for dy in range(ph):
                cy = y - dy
                if cy < 0 or cy >= gh:
                    continue
                g = base[ct, cy, cx] - ((ct * hv + cy) * wv + cx)
                if g != last_shift:  # rows of a coherent field repeat the previous shift: no search
                    last = -1
                    for i in range(m):
                        if shifts[i] == g:
                            last = i
                            break
                    if last < 0:  # new shift (never when removing: it was added before)
                        last = m
                        shifts[m] = g
                        counts[m] = 0
                        m += 1
                    last_shift = g
                counts[last] += sign
        return m

    @njit(parallel=True, cache=True)
    def _fold_shifts_kernel(value, base, hv, wv, patch, median, out):  # pragma: no cover - compiled
        """out[c, t, y, x] = lower median (``median``) or mean over the patches covering (t, y, x) of
        value[c, base[corner] + offset]; value is (C, Tv*Hv*Wv), base (T', H', W').

        Neighbouring patches of a coherent field propose the same value voxel (same shift), so the
        pt*ph*pw votes of a voxel hold only a few distinct values (about 6 on real footage). They
        are kept as (shift, count) pairs, updated while sliding along x (one column of corners in,
        one out), and the median is taken over the distinct values with their counts: exactly the
        median of all votes, at about a third of the cost of selecting among them."""
        channels = value.shape[0]
        pt, ph, pw = patch
        gw = base.shape[2]
        t_out, h_out, w_out = out.shape[1], out.shape[2], out.shape[3]
        size = pt * ph * pw
        for row in prange(t_out * h_out):
            t = row // h_out
            y = row % h_out
            shifts = np.empty(size, np.int64)
            counts = np.empty(size, np.int64)
            vals = np.empty(size, np.float32)
            weights = np.empty(size, np.int64)
            buf = np.empty(size, np.float32)
            m = 0
            for x in range(w_out):
                # the column leaving the window goes first, so at most pt*ph*pw shifts are ever held
                if x >= pw:
                    m = _add_column(base, t, y, x - pw, hv, wv, pt, ph, shifts, counts, m, -1)
                    i = 0
                    while i < m:  # drop emptied shifts (their order does not matter)
                        if counts[i] == 0:
                            m -= 1
                            shifts[i], counts[i] = shifts[m], counts[m]
                        else:
                            i += 1
                if x < gw:
                    m = _add_column(base, t, y, x, hv, wv, pt, ph, shifts, counts, m, 1)
                n = 0
                for i in range(m):
                    n += counts[i]
                k = (n - 1) // 2  # the lower median, as torch's
                v0 = (t * hv + y) * wv + x
                for c in range(channels):
                    if not median:
                        total = 0.0
                        for i in range(m):
                            total += counts[i] * value[c, shifts[i] + v0]
                        out[c, t, y, x] = total / n
                    elif m <= 48:
                        # insertion sort of the few distinct values, then walk their counts
                        for i in range(m):
                            v = value[c, shifts[i] + v0]
                            w = counts[i]
                            j = i - 1
                            while j >= 0 and vals[j] > v:
                                vals[j + 1] = vals[j]
                                weights[j + 1] = weights[j]
                                j -= 1
                            vals[j + 1] = v
                            weights[j + 1] = w
                        seen = 0
                        for i in range(m):
                            seen += weights[i]
                            if seen > k:
                                out[c, t, y, x] = vals[i]
                                break
                    else:  # incoherent votes: selection among all of them
                        q = 0
                        for i in range(m):
                            v = value[c, shifts[i] + v0]
                            for _ in range(counts[i]):
                                buf[q] = v
                                q += 1
                        out[c, t, y, x] = _select(buf, n, k)

    @njit(parallel=True, cache=True)
    def _fold_kernel(value, base, hv, wv, patch, mode, weights, out):  # pragma: no cover - compiled
        """out[c, t, y, x] = median (mode 0) or weighted mean (modes 1, 2) over the patches covering
        (t, y, x) of value[c, base[corner] + offset]; value is (C, Tv*Hv*Wv), base (T', H', W').
        Used for the Gaussian-weighted mean, whose weights depend on the offset, not only the shift."""
        channels = value.shape[0]
        pt, ph, pw = patch
        gt, gh, gw = base.shape
        t_out, h_out, w_out = out.shape[1], out.shape[2], out.shape[3]
        for row in prange(t_out * h_out):
            t = row // h_out
            y = row % h_out
            index = np.empty(pt * ph * pw, np.int64)
            weight = np.empty(pt * ph * pw, np.float64)
            buf = np.empty(pt * ph * pw, np.float32)
            for x in range(w_out):
                n = 0
                for dt in range(pt):
                    ct = t - dt
                    if ct < 0 or ct >= gt:
                        continue
                    for dy in range(ph):
                        cy = y - dy
                        if cy < 0 or cy >= gh:
                            continue
                        for dx in range(pw):
                            cx = x - dx
                            if cx < 0 or cx >= gw:
                                continue
                            index[n] = base[ct, cy, cx] + (dt * hv + dy) * wv + dx
                            weight[n] = weights[dt, dy, dx]
                            n += 1
                for c in range(channels):
                    if mode == 0:
                        for i in range(n):
                            buf[i] = value[c, index[i]]
                        out[c, t, y, x] = _select(buf, n, (n - 1) // 2)  # the lower median, as torch's
                    else:
                        total = 0.0
                        norm = 0.0
                        for i in range(n):
                            total += weight[i] * value[c, index[i]]
                            norm += weight[i]
                        out[c, t, y, x] = total / norm
