"""The numba kernels of :mod:`patchvid.synthesis.patchmatch` (CPU back end), compiled on first use
and cached on disk. Imported only when numba is installed; the wrapper prepares every array. The
three passes are :class:`~patchvid.synthesis.backends.Kernel` objects: parallel over lines of
queries, or serial in a forked process (see :mod:`patchvid.synthesis.backends`)."""

import numpy as np
from numba import njit, prange

from .backends import kernel

# reassociation lets LLVM vectorise the float sums; no 'nnan'/'ninf' because scores may be +inf
_FASTMATH = {"reassoc", "contract", "arcp"}

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)

@njit(cache=True)
def _mix(z):
    """splitmix64 finaliser: a well-mixed 64-bit hash (deterministic, thread-independent)."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))

@njit(cache=True)
def _rand_below(seed, a, b, n):
    """A uniform integer in ``[0, n)`` from the hash of ``(seed, a, b)``."""
    h = _mix(seed + _GOLD * np.uint64(a + 1))
    h = _mix(h ^ (np.uint64(b + 1) * _GOLD))
    return np.int64(h % np.uint64(n))

@njit(fastmath=_FASTMATH, cache=True)
def _ssd(qv, qb, kv, kb, qrow, krow, rowlen, limit):
    """Sum of squared differences of two patches, abandoned (>= limit) once it passes ``limit``."""
    # unsigned indices spare numba's negative-index wraparound (which blocks vectorisation); the
    # row length must stay a runtime value: a constant one lets LLVM fully unroll the row and
    # vectorise the outer loops with gathers instead, several times slower
    acc = np.float32(0.0)
    n = np.uint64(rowlen)
    for r in range(qrow.shape[0]):
        qo = np.uint64(qb + qrow[r])
        ko = np.uint64(kb + krow[r])
        row = np.float32(0.0)
        for i in range(n):
            d = qv[qo + i] - kv[ko + i]
            row += d * d
        acc += row
        if acc > limit:
            break
    return acc

@njit(fastmath=_FASTMATH, cache=True)
def _feat_dist(qf, qi, kf, ki):
    acc = np.float32(0.0)
    for j in range(qf.shape[1]):
        d = qf[qi, j] - kf[ki, j]
        acc += d * d
    return acc

# numba-level inlining of the two helpers called in the innermost loops saves ~30 % of the run
# time (no call/exception-check overhead per candidate); inlining everything saves little more
# and doubles the compile time
@njit(inline="always", fastmath=_FASTMATH, cache=True)
def _try(qv, kv, kg, ks, qrow, krow, rowlen, qf, kf, inv, allow, qi, qb, c0, c1, c2, b0, b1, b2, bd, bs):
    """Score key corner ``(c0, c1, c2)`` for query ``qi`` (video offset ``qb``) against the best
    so far ``(b0, b1, b2)`` of distance ``bd`` and score ``bs``; returns the new best. A key that
    ``allow`` (if not empty) disallows is rejected: the best always stays on an allowed key."""
    if c0 == b0 and c1 == b1 and c2 == b2:
        return b0, b1, b2, bd, bs
    ki = (c0 * kg[1] + c1) * kg[2] + c2
    if allow.shape[0] > 0 and not allow[ki]:
        return b0, b1, b2, bd, bs
    w = np.float32(1.0)
    if inv.shape[0] > 0:
        w = inv[ki]
    # lower bound; the tiny slack keeps feature rounding from pruning an exact winner
    if qf.shape[1] > 0 and _feat_dist(qf, qi, kf, ki) * np.float32(1.0 - 1e-5) >= bs * w:
        return b0, b1, b2, bd, bs
    d = _ssd(qv, qb, kv, c0 * ks[0] + c1 * ks[1] + c2 * ks[2], qrow, krow, rowlen, bs * w)
    s = d / w
    if s < bs:
        return c0, c1, c2, d, s
    return b0, b1, b2, bd, bs

@njit(inline="always", cache=True)
def _neighbour(nnf, ni, axis, delta, kg):
    """The match of query ``ni`` moved by ``delta`` along ``axis``, clamped into the key grid."""
    c0, c1, c2 = nnf[ni, 0], nnf[ni, 1], nnf[ni, 2]
    if axis == 0:
        c0 = min(max(c0 + delta, 0), kg[0] - 1)
    elif axis == 1:
        c1 = min(max(c1 + delta, 0), kg[1] - 1)
    else:
        c2 = min(max(c2 + delta, 0), kg[2] - 1)
    return c0, c1, c2

@njit(fastmath=_FASTMATH, cache=True)
def _random_search(
    qv, kv, kg, ks, qrow, krow, rowlen, qf, kf, inv, allow, qi, qb, b0, b1, b2, bd, bs, n_random, radii, seed, p
):
    """``n_random`` candidates drawn uniformly in windows around the current best (clipped to the
    grid). See :func:`_radius_level` for which radius each gets. Candidates on keys that ``allow``
    disallows are skipped, not redrawn: redrawing would make the cost depend on the mask's
    density, and the current best is always allowed anyway."""
    levels = radii.shape[0]
    stride = (levels + n_random - 1) // max(n_random, 1)
    for j in range(n_random):
        r = radii[(np.uint64(j * stride + p) + seed) % np.uint64(levels)]
        lo0, hi0 = max(b0 - r, 0), min(b0 + r, kg[0] - 1)
        lo1, hi1 = max(b1 - r, 0), min(b1 + r, kg[1] - 1)
        lo2, hi2 = max(b2 - r, 0), min(b2 + r, kg[2] - 1)
        stream = (p * n_random + j) * 3
        c0 = lo0 + _rand_below(seed, qi, stream, hi0 - lo0 + 1)
        c1 = lo1 + _rand_below(seed, qi, stream + 1, hi1 - lo1 + 1)
        c2 = lo2 + _rand_below(seed, qi, stream + 2, hi2 - lo2 + 1)
        b0, b1, b2, bd, bs = _try(
            qv, kv, kg, ks, qrow, krow, rowlen, qf, kf, inv, allow, qi, qb, c0, c1, c2, b0, b1, b2, bd, bs
        )
    return b0, b1, b2, bd, bs

@kernel(fastmath=_FASTMATH, cache=True)
def init_pass(qv, kv, qg, kg, qs, ks, qrow, krow, rowlen, inv, nnf, dist, score):
    """Exact distances (and scores) of the starting field ``nnf (Nq, 3)``."""
    for line in prange(qg[0] * qg[1]):
        t = line // qg[1]
        y = line % qg[1]
        for x in range(qg[2]):
            qi = line * qg[2] + x
            kb = nnf[qi, 0] * ks[0] + nnf[qi, 1] * ks[1] + nnf[qi, 2] * ks[2]
            d = _ssd(qv, t * qs[0] + y * qs[1] + x * qs[2], kv, kb, qrow, krow, rowlen, np.float32(np.inf))
            dist[qi] = d
            score[qi] = d
            if inv.shape[0] > 0:
                score[qi] = d / inv[(nnf[qi, 0] * kg[1] + nnf[qi, 1]) * kg[2] + nnf[qi, 2]]

@kernel(fastmath=_FASTMATH, cache=True)
def jump_pass(
    qv, kv, qg, kg, qs, ks, qrow, krow, rowlen, qf, kf, inv, allow,
    nnf, dist, score, nnf_out, dist_out, score_out, step, n_random, radii, seed, p,
):  # fmt: skip
    """One jump-flood pass: every query tries its ``±step`` neighbours' matches along t, y, x (as
    they were at the start of the pass, so the order of queries does not matter), moved back by
    ``step``; then random search."""
    plane = qg[1] * qg[2]
    for line in prange(qg[0] * qg[1]):
        t = line // qg[1]
        y = line % qg[1]
        for x in range(qg[2]):
            qi = line * qg[2] + x
            qb = t * qs[0] + y * qs[1] + x * qs[2]
            b0, b1, b2, bd, bs = nnf[qi, 0], nnf[qi, 1], nnf[qi, 2], dist[qi], score[qi]
            if bs <= 0:  # an exact copy: no candidate can score lower (see scan_pass)
                nnf_out[qi, 0], nnf_out[qi, 1], nnf_out[qi, 2] = b0, b1, b2
                dist_out[qi], score_out[qi] = bd, bs
                continue
            for sign in (-1, 1):
                o = sign * step
                if 0 <= t + o < qg[0]:
                    c0, c1, c2 = _neighbour(nnf, qi + o * plane, 0, -o, kg)
                    b0, b1, b2, bd, bs = _try(
                        qv, kv, kg, ks, qrow, krow, rowlen, qf, kf, inv, allow,
                        qi, qb, c0, c1, c2, b0, b1, b2, bd, bs,
                    )  # fmt: skip
                if 0 <= y + o < qg[1]:
                    c0, c1, c2 = _neighbour(nnf, qi + o * qg[2], 1, -o, kg)
                    b0, b1, b2, bd, bs = _try(
                        qv, kv, kg, ks, qrow, krow, rowlen, qf, kf, inv, allow,
                        qi, qb, c0, c1, c2, b0, b1, b2, bd, bs,
                    )  # fmt: skip
                if 0 <= x + o < qg[2]:
                    c0, c1, c2 = _neighbour(nnf, qi + o, 2, -o, kg)
                    b0, b1, b2, bd, bs = _try(
                        qv, kv, kg, ks, qrow, krow, rowlen, qf, kf, inv, allow,
                        qi, qb, c0, c1, c2, b0, b1, b2, bd, bs,
                    )  # fmt: skip
            b0, b1, b2, bd, bs = _random_search(
                qv, kv, kg, ks, qrow, krow, rowlen, qf, kf, inv, allow, qi, qb, b0, b1, b2, bd, bs,
                n_random, radii, seed, p,
            )  # fmt: skip
            nnf_out[qi, 0], nnf_out[qi, 1], nnf_out[qi, 2] = b0, b1, b2
            dist_out[qi], score_out[qi] = bd, bs

@kernel(fastmath=_FASTMATH, cache=True)
def scan_pass(
    qv, kv, qg, kg, qs, ks, qrow, krow, rowlen, qf, kf, inv, allow,
    nnf, dist, score, nnf_out, dist_out, score_out, axis, direction, n_random, radii, seed, p,
):  # fmt: skip
    """One scanline pass along ``axis`` in ``direction`` (+1/-1). Lines run in parallel; along a
    line each query tries its predecessor's match from this pass (so a good match travels the
    whole line), the ±1 neighbours across the line as they were at the start of the pass (so
    lines do not depend on each other), then random search."""
    gstride = (qg[1] * qg[2], qg[2], 1)
    a1 = 1 if axis == 0 else 0  # the two axes across the line
    a2 = 1 if axis == 2 else 2
    length = qg[axis]
    for line in prange(qg[a1] * qg[a2]):
        u1 = line // qg[a2]
        u2 = line % qg[a2]
        start = u1 * gstride[a1] + u2 * gstride[a2]
        for i in range(length):
            ua = i if direction > 0 else length - 1 - i
            qi = start + ua * gstride[axis]
            t = qi // gstride[0]
            y = (qi // qg[2]) % qg[1]
            x = qi % qg[2]
            qb = t * qs[0] + y * qs[1] + x * qs[2]
            b0, b1, b2, bd, bs = nnf[qi, 0], nnf[qi, 1], nnf[qi, 2], dist[qi], score[qi]
            if bs <= 0:
                # an exact copy cannot be beaten (candidates win only when strictly lower), so
                # skipping it changes nothing; after a level's first round, where the key is the
                # value video the votes came from, 25-33 % of queries are exact copies
                nnf_out[qi, 0], nnf_out[qi, 1], nnf_out[qi, 2] = b0, b1, b2
                dist_out[qi], score_out[qi] = bd, bs
                continue
            if i > 0:
                c0, c1, c2 = _neighbour(nnf_out, qi - direction * gstride[axis], axis, direction, kg)
                b0, b1, b2, bd, bs = _try(
                    qv, kv, kg, ks, qrow, krow, rowlen, qf, kf, inv, allow, qi, qb, c0, c1, c2, b0, b1, b2, bd, bs
                )
            for sign in (-1, 1):
                if 0 <= u1 + sign < qg[a1]:
                    c0, c1, c2 = _neighbour(nnf, qi + sign * gstride[a1], a1, -sign, kg)
                    b0, b1, b2, bd, bs = _try(
                        qv, kv, kg, ks, qrow, krow, rowlen, qf, kf, inv, allow,
                        qi, qb, c0, c1, c2, b0, b1, b2, bd, bs,
                    )  # fmt: skip
                if 0 <= u2 + sign < qg[a2]:
                    c0, c1, c2 = _neighbour(nnf, qi + sign * gstride[a2], a2, -sign, kg)
                    b0, b1, b2, bd, bs = _try(
                        qv, kv, kg, ks, qrow, krow, rowlen, qf, kf, inv, allow,
                        qi, qb, c0, c1, c2, b0, b1, b2, bd, bs,
                    )  # fmt: skip
            b0, b1, b2, bd, bs = _random_search(
                qv, kv, kg, ks, qrow, krow, rowlen, qf, kf, inv, allow, qi, qb, b0, b1, b2, bd, bs,
                n_random, radii, seed, p,
            )  # fmt: skip
            nnf_out[qi, 0], nnf_out[qi, 1], nnf_out[qi, 2] = b0, b1, b2
            dist_out[qi], score_out[qi] = bd, bs
