"""The numba kernels of :func:`patchvid.synthesis.patches.fold_nnf` (CPU back end), compiled on
first use and cached on disk. Imported only when numba is installed. The two public kernels are
:class:`~patchvid.synthesis.backends.Kernel` objects: parallel over output rows, or serial in a
forked process (see :mod:`patchvid.synthesis.backends`)."""

import numpy as np
from numba import njit, prange

from .backends import kernel

# the median: up to SORT_SHIFTS distinct votes per voxel are sorted by insertion; up to RANK_SHIFTS
# (a 3x7x7 patch's 147 votes) each is ranked by branch-free counting, O(m^2) compares that
# vectorise, where a sort mispredicts a branch per step (incoherent fields, as in analogies, hold
# 15-70 distinct votes per voxel); above, selection among all votes. Same result, 1.4-2x faster
# folds on real fields (BENCHMARKS.md, "Cost per task")
SORT_SHIFTS = 2
RANK_SHIFTS = 160


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

@kernel(cache=True)
def fold_counted(value, base, hv, wv, patch, median, out):  # pragma: no cover - compiled
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
                elif m <= SORT_SHIFTS:
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
                elif m <= RANK_SHIFTS:
                    # rank each distinct value by branch-free counting (see RANK_SHIFTS)
                    for i in range(m):
                        vals[i] = value[c, shifts[i] + v0]
                    for i in range(m):
                        v = vals[i]
                        below = 0
                        upto = 0
                        for j in range(m):
                            below += counts[j] * (vals[j] < v)
                            upto += counts[j] * (vals[j] <= v)
                        if below <= k < upto:
                            out[c, t, y, x] = v
                            break
                else:  # more distinct votes than a 3x7x7 patch has voxels: selection among all of them
                    q = 0
                    for i in range(m):
                        v = value[c, shifts[i] + v0]
                        for _ in range(counts[i]):
                            buf[q] = v
                            q += 1
                    out[c, t, y, x] = _select(buf, n, k)

@kernel(cache=True)
def fold_weighted(value, base, hv, wv, patch, mode, weights, out):  # pragma: no cover - compiled
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
