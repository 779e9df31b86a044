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

from ..errors import InputError
from .backends import choose_backend
from .settings import VOTES

Patch = tuple[int, int, int]


def patch_grid(shape: tuple[int, int, int] | torch.Size, patch: Patch) -> tuple[int, int, int]:
    """Number of valid patch corners ``(T', H', W')`` of a ``(T, H, W)`` video."""
    grid = tuple(int(s) - p + 1 for s, p in zip(shape, patch))
    if min(grid) < 1:
        raise InputError(f"patch {patch} does not fit in a video of {tuple(shape)} frames x height x width")
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


def patches_at(video: torch.Tensor, patch: Patch, corners: np.ndarray) -> torch.Tensor:
    """The patches of ``video`` ``(C, T, H, W)`` at ``corners``, flat indices ``(N,)`` into its patch
    grid (``t``, then ``y``, then ``x``): ``(N, C*pt*ph*pw)`` rows ordered as :func:`unfold` orders them."""
    c, t_, h, w = video.shape
    grid = patch_grid(video.shape[1:], patch)
    t, rest = np.divmod(np.asarray(corners, dtype=np.int64), grid[1] * grid[2])
    y, x = np.divmod(rest, grid[2])
    pt, ph, pw = patch
    # each value's place in the flat video, relative to the patch's corner, in unfold's order
    offsets = (((np.arange(c)[:, None, None, None] * t_ + np.arange(pt)[:, None, None]) * h
                + np.arange(ph)[:, None]) * w + np.arange(pw)).reshape(-1)
    first = (t * h + y) * w + x
    flat = video.contiguous().reshape(-1)
    if flat.device.type != "cpu":
        return flat[torch.from_numpy(first[:, None] + offsets).to(flat.device)]
    return torch.from_numpy(flat.numpy().take(first[:, None] + offsets))


def patch_spread(video: torch.Tensor, patch: Patch, max_queries: int = 4096) -> float:
    """How far apart a video's patches are: the mean distance from a patch to its nearest patch that
    does not overlap it (the shifted copies of a patch one voxel away say nothing of its content).

    This is the paper's measure for the noise: noise much smaller than it leaves the input's layout
    in place (near-copies), noise much larger scrambles it.

    Args:
        video: ``(C, T, H, W)`` float32 (a coarsest pyramid level; its ``C*pt*ph*pw`` values per patch).
        patch: ``(pt, ph, pw)``.
        max_queries: at most this many patches (evenly spaced in corner order) are measured; every
            patch is a candidate.

    Returns:
        The mean Euclidean distance over a patch's values, in the video's units; for a patch that
        every other one overlaps (the middle of a small level), the nearest other patch counts.
        ``0.0`` for a video of one patch.

    Example:
        >>> v = torch.zeros(3, 3, 15, 15)
        >>> patch_spread(v, (3, 7, 7))
        0.0
    """
    grid = patch_grid(video.shape[1:], patch)
    rows = unfold(video, patch)
    n = rows.shape[0]
    if n < 2:
        return 0.0
    corners = torch.stack(torch.meshgrid(*(torch.arange(g) for g in grid), indexing="ij"), -1).reshape(-1, 3)
    queries = torch.linspace(0, n - 1, min(n, max_queries)).round().long().unique()
    reach = torch.tensor(patch)
    total = 0.0
    for chunk in torch.split(queries, 512):
        # computed directly, not as |q|^2 + |k|^2 - 2qk, which rounds a zero distance to a positive one
        d2 = torch.cdist(rows[chunk], rows, compute_mode="donot_use_mm_for_euclid_dist").square()
        apart = (corners[chunk][:, None] - corners[None]).abs()
        nearest = d2.masked_fill((apart < reach).all(-1), math.inf).min(1).values
        other = d2.masked_fill((apart == 0).all(-1), math.inf).min(1).values
        total += float(torch.where(nearest.isinf(), other, nearest).sqrt().sum())
    return total / len(queries)


def fold(
    patches: torch.Tensor,
    shape: tuple[int, int, int, int],
    patch: Patch,
    vote: str = "median",
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

    return _vote(proposals, shape, patch, vote, patches.device, patches.dtype, max_bytes)


def fold_nnf(
    value: torch.Tensor,
    nnf: torch.Tensor,
    patch: Patch,
    vote: str = "median",
    max_bytes: int = 256 * 2**20,
    backend: str = "auto",
) -> torch.Tensor:
    """Fold the value patches that a nearest-neighbour field points at, without unfolding them.

    Args:
        value: ``(C, Tv, Hv, Wv)``: the video the patches are copied from.
        nnf: ``(T', H', W', 3) int64``: for each output patch corner, the value patch's corner.
        patch: ``(pt, ph, pw)``.
        vote: ``"median"`` (the published method), ``"mean"`` or ``"gaussian"``.
        max_bytes: memory for the votes of one chunk of frames (torch back end).
        backend: ``"auto"`` (the compiled kernel for CPU tensors when numba is installed, else torch),
            ``"numba"`` or ``"torch"``; both give the same result.

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
    if vote not in VOTES:
        raise InputError(f"unknown voting rule {vote!r}; use one of {', '.join(VOTES)}")
    if choose_backend(backend, value.device) == "numba":
        from . import _fold

        # one pass over the output, no (offsets x video) vote tensor; the median and the mean count
        # each voxel's votes by source (see _fold.fold_counted), the Gaussian mean weighs each vote
        out = torch.empty(shape, dtype=torch.float32)
        flat = flat_value.float().contiguous().numpy()
        corners = base.contiguous().numpy()
        if vote == "gaussian":
            weights = gaussian_weights(patch).double().contiguous().numpy()
            _fold.fold_weighted(flat, corners, hv, wv, patch, 2, weights, out.numpy())
        else:
            _fold.fold_counted(flat, corners, hv, wv, patch, vote == "median", out.numpy())
        return out.to(value.dtype)
    return _vote(proposals, shape, patch, vote, value.device, value.dtype, max_bytes)


def pad_wrapped(video: torch.Tensor, patch: Patch, wrap: tuple[bool, bool, bool]) -> torch.Tensor:
    """``video`` ``(C, T, H, W)`` with its first ``p - 1`` samples appended along each axis it wraps
    around (``wrap`` per ``(T, H, W)``): the valid patches of the result are all the patches of the
    periodic video, ``n`` corners along a wrapped axis of ``n`` samples, some spanning the wrap."""
    for axis, (p, periodic) in enumerate(zip(patch, wrap), start=1):
        if periodic and p > 1:
            video = torch.cat((video, video.narrow(axis, 0, p - 1)), dim=axis)
    return video


def fold_nnf_wrapped(
    value: torch.Tensor, nnf: torch.Tensor, patch: Patch, vote: str, wrap: tuple[bool, bool, bool]
) -> torch.Tensor:
    """:func:`fold_nnf` for a periodic output (the field of a :func:`pad_wrapped` query): along a
    wrapped axis the field has one corner per output sample, and the patches spanning the wrap vote
    for samples at both ends, so every sample gets the votes of all ``p`` patches covering it.

    The field is extended by its first ``p - 1`` corners, folded as usual, and the ``n`` samples
    that received all their votes are taken and rotated back into place, so the vote (median
    included) is exactly the periodic one.

    Example:
        >>> value = torch.arange(5.0).view(1, 5, 1, 1)
        >>> nnf = torch.zeros(4, 1, 1, 3, dtype=torch.int64)
        >>> nnf[:, 0, 0, 0] = torch.tensor([0, 1, 2, 0])  # the last patch spans the wrap
        >>> fold_nnf_wrapped(value, nnf, (2, 1, 1), "mean", (True, False, False)).flatten().tolist()
        [0.5, 1.0, 2.0, 1.5]
    """
    return fold_periodic(lambda field: fold_nnf(value, field, patch, vote), nnf, patch, wrap, first_axis=1)


def fold_periodic(
    fold: Callable[[torch.Tensor], torch.Tensor],
    nnf: torch.Tensor,
    patch: Patch,
    wrap: tuple[bool, bool, bool],
    first_axis: int = 1,
) -> torch.Tensor:
    """Any vote ``fold`` (a field to its ``(..., T, H, W)`` output, whose ``T`` axis is ``first_axis``)
    made periodic along ``wrap``, as :func:`fold_nnf_wrapped` describes: the field extended by its
    first ``p - 1`` corners, folded, and the ``n`` samples that got every vote rotated back into
    place. The pixels' vote and the labels' (:func:`~patchvid.synthesis.labels.vote_labels`) share it."""
    if not any(w and p > 1 for p, w in zip(patch, wrap)):
        return fold(nnf)
    sizes = nnf.shape[:3]
    for axis, (p, periodic) in enumerate(zip(patch, wrap)):
        if periodic and p > 1:
            nnf = torch.cat((nnf, nnf.narrow(axis, 0, p - 1)), dim=axis)
    out = fold(nnf)
    for axis, (p, periodic, n) in enumerate(zip(patch, wrap, sizes), start=first_axis):
        if periodic and p > 1:
            out = out.narrow(axis, p - 1, n).roll(p - 1, dims=axis)
    return out.contiguous()


def source_frames(nnf: torch.Tensor, patch: Patch, frames: int) -> list[int]:
    """For each output frame, the source frame most of its pixels are copied from.

    Args:
        nnf: ``(T', H', W', 3) int64``: a nearest-neighbour field (the finest level's).
        patch: ``(pt, ph, pw)``.
        frames: output frames ``T' + pt - 1``.

    Returns:
        ``T`` frame indices into the value video: where each output frame's time came from (what
        its sound should be taken from). Each frame is judged by the patches centred on it.

    Example:
        >>> nnf = torch.zeros(3, 2, 2, 3, dtype=torch.int64)
        >>> nnf[..., 0] = torch.tensor([4, 5, 6]).view(3, 1, 1)  # a copy of frames 5..7, shifted by 4
        >>> source_frames(nnf, (3, 1, 1), 5)
        [4, 5, 6, 7, 8]
    """
    corners = nnf.shape[0]
    out = []
    for t in range(frames):
        corner = min(max(t - patch[0] // 2, 0), corners - 1)
        times = (nnf[corner, ..., 0] + (t - corner)).flatten()
        out.append(int(torch.bincount(times).argmax()))  # the most common; ties go to the earliest
    return out


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
    vote: str,
    device: torch.device,
    dtype: torch.dtype,
    max_bytes: int,
) -> torch.Tensor:
    """Reduce, per voxel, the values proposed by every patch that covers it.

    ``proposals(offset, t0, t1)`` gives ``(C, t1-t0, H', W')``: the value that the patches with
    corners in frames ``t0:t1`` propose for their voxel at ``offset`` from the corner. The output is
    made a chunk of frames at a time, so memory stays within ``max_bytes``.
    """
    if vote not in VOTES:
        raise InputError(f"unknown voting rule {vote!r}; use one of {', '.join(VOTES)}")
    c, t, h, w = shape
    pt, ph, pw = patch
    gt, gh, gw = t - pt + 1, h - ph + 1, w - pw + 1
    n_offsets = pt * ph * pw
    out = torch.empty(shape, device=device, dtype=dtype)
    weights = gaussian_weights(patch).to(device) if vote == "gaussian" else None
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
        if vote == "median":
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
