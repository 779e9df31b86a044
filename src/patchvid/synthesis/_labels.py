"""The numba kernel of :func:`patchvid.synthesis.labels.vote_labels`, compiled on first use and cached
on disk.

Serial on purpose (no ``parallel=True``): it has no threading layer to break in forked worker
processes, and one pass is a small part of a solve. Measured on the shared 2-core machine for a
13x144x256 output, patch 3x7x7: 0.14-0.16 s with a coherent field (blocks of 16x16 corners copied
together, as a converged solve's), 5 ids or one id per voxel; 1.0-2.7 s for a uniformly random field
(no solve ends with one), against seconds to minutes for the solve itself."""

import numpy as np
from numba import njit


@njit(cache=True)
def vote_mode(ids, base, hv, wv, patch, out):  # pragma: no cover - compiled
    """out[t, y, x] = the most frequent of ``ids[base[corner] + offset]`` over every patch corner
    covering (t, y, x), where ``offset`` is the voxel's place in that patch; ties go to the smallest.

    ``ids`` is ``(Tv*Hv*Wv,) int32`` (compact ids), ``base`` ``(T', H', W') int64`` the source voxel
    index of each corner, ``out`` ``(T'+pt-1, H'+ph-1, W'+pw-1) int32``. The distinct ids of a voxel
    are kept as (id, count) pairs; neighbouring patches of a coherent field copy the same id, so the
    previous pair is tried first and the list stays short (one or two ids off an object's edge)."""
    pt, ph, pw = patch
    gt, gh, gw = base.shape
    t_out, h_out, w_out = out.shape
    size = pt * ph * pw
    seen = np.empty(size, np.int32)
    counts = np.empty(size, np.int32)
    for t in range(t_out):
        for y in range(h_out):
            for x in range(w_out):
                m = 0
                last = -1
                for dt in range(pt):
                    ct = t - dt
                    if ct < 0 or ct >= gt:
                        continue
                    for dy in range(ph):
                        cy = y - dy
                        if cy < 0 or cy >= gh:
                            continue
                        shift = (dt * hv + dy) * wv
                        for dx in range(pw):
                            cx = x - dx
                            if cx < 0 or cx >= gw:
                                continue
                            label = ids[base[ct, cy, cx] + shift + dx]
                            if last < 0 or seen[last] != label:
                                last = -1
                                for i in range(m):
                                    if seen[i] == label:
                                        last = i
                                        break
                                if last < 0:
                                    seen[m] = label
                                    counts[m] = 0
                                    last = m
                                    m += 1
                            counts[last] += 1
                best = 0
                for i in range(1, m):
                    if counts[i] > counts[best] or (counts[i] == counts[best] and seen[i] < seen[best]):
                        best = i
                out[t, y, x] = seen[best]
