"""The motion structure of a video, for video analogies and sketch-to-video.

A video analogy renders the layout and motion of video A with the patches of video B. Each video's
*structure* is a ``(T, H, W) float32`` map in [0, 1] with a few distinct values: how fast each pixel
moves, quantised and normalised per video, so that "the fast part" of A can be matched to "the fast
part" of B whatever their absolute speeds. For sketch-to-video the structure of A is drawn by hand as
a colour-coded label video instead (:func:`label_structure`).

Pipeline (:func:`motion_structure`):

1. :func:`flow_magnitude`: dense optical flow between consecutive greyscale frames, its magnitude in
   pixels per frame.
2. :func:`quantise`: light space-time Gaussian smoothing (so labels are blobs, not speckle), division
   by the video's own 99th percentile (robust normalisation: the fastest ~1% of the video is "1"),
   then ``bins`` equal bins over [0, 1], the last bin open-ended.

Why a robust normalisation and not per-video quantile thresholds: quantiles give every level the same
share of pixels, so a small moving object on a still background (90% still) would have its still
background split into three bins by flow noise. Dividing by a high percentile keeps still regions
at level 0 and the moving ones at the top, whatever their area, and two videos with different speeds
still land on the same scale. A floor (``min_motion``, 0.5 px/frame) on the divisor keeps a still
video's flow noise from being blown up into bins: a video that barely moves is mostly bin 0.

Flow method, chosen by measurement (OpenCV 5.0.0 from ``opencv-python-headless``, one thread, on a
shared 2-core machine, so times vary by about 20%; the result is bit-identical whatever the
thread count). Milliseconds per pair of frames on the real footage (30 frames each, read with
:func:`patchvid.read_video`); then a synthetic 456x256 clip, a textured still background with a
textured 80x80 square moving (3, 2) px/frame (true speed 3.61): the median speed measured inside the
square, the mean absolute speed error there, and the 99th percentile of the speed on the still
background, all in px/frame:

=====================  ======  =========  =====  =====  ==========  ======
method                 lava    waterfall  sheep  speed  speed err.  bg p99
=====================  ======  =========  =====  =====  ==========  ======
DIS ultrafast          1.5     1.3        1.1    3.35   0.42        0.36
DIS fast               2.8     2.4        3.3    3.09   0.59        0.22
DIS medium (default)   15-23   15-19      12-16  3.57   0.05        0.03
Farneback              28-33   25-31      22-31  3.61   0.01        0.01
=====================  ======  =========  =====  =====  ==========  ======

(Farneback with OpenCV's documented typical parameters: pyramid 0.5, 3 levels, window 15,
3 iterations, poly_n 5, poly_sigma 1.2.) Quantised to 4 bins, DIS medium and Farneback segment the
same regions on lava (the fast right-hand stream in the top bins, the crust at 0; the slow left
stream at 0 with DIS and partly 1 with Farneback) and on sheep (the
flock, graded by speed; road, trees and field at 0), but Farneback leaves holes in bins 0-1 inside
the waterfall, whose bright white water has too little texture for its local polynomial fit, while
DIS's variational refinement fills it in as one solid blob. Farneback's raw field is also speckled:
quantised without smoothing it has 72 connected regions per waterfall frame (49 under 20 px) against
DIS's 6. The fast DIS presets are 5-10x quicker but underestimate the speed by 7-15% and have 7-12x the
background noise. So the default is DIS medium (``method="dis"``): about half Farneback's time, the
better segmentation, and accurate to a few hundredths of a pixel per frame; ``method="farneback"``
stays available for comparison. With the default smoothing (Gaussian, sigma 1.5% of the shorter
side and 1 frame) DIS's structure has 5-8 regions per frame on the three clips and no region under
20 px; on sheep, unsmoothed, it has 15, 3.6 of them specks. 4-level shares of pixels, still to
fastest: lava 79/4/5/11%, waterfall 82/5/5/8%, sheep 72/14/9/5%. Quantising costs 4-6 ms per frame.

OpenCV (``opencv-python-headless``) is needed only by :func:`flow_magnitude`; without it that function
raises :class:`~patchvid.errors.PatchvidError` with the pip command. :func:`quantise` and
:func:`label_structure` need only numpy and scipy.

A structure maps onto the engine's value range as ``2 * s - 1`` when used as a guide channel.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import ndimage as ndi

from ..errors import InputError, PatchvidError
from ..frames import as_video

PIP_OPENCV = "pip install 'opencv-python-headless>=4.8'"

# DIS misbehaves on tiny frames (an error below 12 px, a crash for heights under 16 with wide
# frames, measured on OpenCV 5.0.0), so smaller frames are edge-padded to this size and cropped back.
_DIS_MIN_SIDE = 32
# Farneback's parameters: pyramid scale, levels, window, iterations, poly_n, poly_sigma (OpenCV's
# documented typical values).
_FARNEBACK = (0.5, 3, 15, 3, 5, 1.2)

# label_structure: colours are binned at 5 bits per channel; bins closer than _SNAP (RGB Euclidean
# distance) to a more common colour join it; without ``bins``, a colour must cover _MIN_SHARE of
# the pixels to be a label of its own (blended edge colours from compression cover far less).
_SNAP = 40.0
_MIN_SHARE = 0.01
_LUMA = np.array([0.299, 0.587, 0.114])  # Rec. 601

FlowMethod = Literal["dis", "farneback"]


def _cv2():
    """The ``cv2`` module, or a one-line PatchvidError saying how to install it."""
    try:
        import cv2
    except ImportError:
        raise PatchvidError(f"optical flow needs OpenCV, which is not installed: {PIP_OPENCV}") from None
    return cv2


def _check_frames(frames: np.ndarray, what: str = "frames") -> np.ndarray:
    return as_video(frames, what, channels=(1, 3, 4), image=False)[0]


def _check_bins(bins: int) -> int:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 2:
        raise InputError(f"bins must be an integer of at least 2, got {bins!r}")
    return int(bins)


def _grey(cv2, frame: np.ndarray) -> np.ndarray:
    """``(H, W, C) uint8`` to ``(H, W) uint8`` luma (OpenCV's Rec. 601 weights, alpha ignored)."""
    if frame.shape[-1] == 1:
        return np.ascontiguousarray(frame[..., 0])
    code = cv2.COLOR_RGB2GRAY if frame.shape[-1] == 3 else cv2.COLOR_RGBA2GRAY
    return cv2.cvtColor(np.ascontiguousarray(frame), code)


def flow_magnitude(frames: np.ndarray, *, method: FlowMethod = "dis") -> np.ndarray:
    """Per-pixel speed of a video from dense optical flow.

    Args:
        frames: ``(T, H, W, C) uint8`` video, C = 3 (RGB), 1 (grey) or 4 (RGBA, alpha ignored);
            converted to greyscale inside.
        method: ``"dis"`` (OpenCV's DIS flow, medium preset; the default, see the module docstring
            for the measurements) or ``"farneback"``.

    Returns:
        ``(T, H, W) float32``, pixels per frame, >= 0. Frame ``t`` holds the magnitude of the forward
        flow from frame ``t`` to ``t + 1``, at frame ``t``'s pixels; the last frame repeats the one
        before it. A 1-frame input has no motion: all zeros. Deterministic: bit-identical from run to
        run and whatever OpenCV's thread count (checked with 1 and 2 threads on the real clips).

    Raises:
        PatchvidError: bad frames or method, or OpenCV not installed (the message has the pip command).
    """
    frames = _check_frames(frames)
    if method not in ("dis", "farneback"):
        raise InputError(f"unknown flow method {method!r}: use 'dis' or 'farneback'")
    t_len, h, w, _ = frames.shape
    out = np.zeros((t_len, h, w), dtype=np.float32)
    if t_len == 1:
        return out
    cv2 = _cv2()
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        pad_h, pad_w = max(0, _DIS_MIN_SIDE - h), max(0, _DIS_MIN_SIDE - w)

        def flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            if pad_h or pad_w:
                a = cv2.copyMakeBorder(a, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
                b = cv2.copyMakeBorder(b, 0, pad_h, 0, pad_w, cv2.BORDER_REPLICATE)
            return dis.calc(a, b, None)[:h, :w]
    else:

        def flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
            return cv2.calcOpticalFlowFarneback(a, b, None, *_FARNEBACK, 0)

    prev = _grey(cv2, frames[0])
    for t in range(t_len - 1):
        nxt = _grey(cv2, frames[t + 1])
        f = flow(prev, nxt)
        # float64 and IEEE-exact operations: cv2.magnitude's SIMD and scalar paths round tiny values
        # (~1e-9 px) differently depending on memory alignment, so it differed from run to run
        u, v = f[..., 0].astype(np.float64), f[..., 1].astype(np.float64)
        out[t] = np.sqrt(u * u + v * v)
        prev = nxt
    out[-1] = out[-2]
    return out


def default_sigma(height: int, width: int) -> float:
    """Spatial smoothing of :func:`quantise` in pixels: 1.5% of the shorter side, at least 1
    (3.8 px on a 456x256 video)."""
    return max(1.0, 0.015 * min(height, width))


def quantise(
    magnitude: np.ndarray,
    bins: int = 4,
    *,
    sigma: float | None = None,
    sigma_t: float = 1.0,
    percentile: float = 99.0,
    min_motion: float = 0.5,
) -> np.ndarray:
    """Smooth, normalise and quantise a speed map into ``bins`` values.

    Args:
        magnitude: ``(T, H, W)`` speed, pixels per frame (from :func:`flow_magnitude`).
        bins: number of output values, at least 2: ``0, 1/(bins-1), ..., 1``.
        sigma: spatial Gaussian smoothing in pixels; ``None`` for :func:`default_sigma`; 0 for none.
        sigma_t: temporal Gaussian smoothing in frames (ignored for a single frame); 0 for none.
        percentile: the smoothed speed at this percentile of the whole video maps to 1.
        min_motion: floor of that divisor, pixels per frame, so that a still video's flow noise
            stays in bin 0 rather than being stretched over all bins.

    Returns:
        ``(T, H, W) float32`` in [0, 1]: ``min(floor(bins * s / d), bins - 1) / (bins - 1)``
        with ``s`` the smoothed speed and ``d = max(percentile of s, min_motion)``. Only the bins
        the video reaches occur (a still video is all 0); a ramp reaches all ``bins``. Scaling
        the speed of a video (above the floor) gives the same result: the structure is normalised.
    """
    bins = _check_bins(bins)
    m = np.asarray(magnitude, dtype=np.float32)
    if m.ndim != 3 or 0 in m.shape:
        raise InputError(f"magnitude must have shape (T, H, W), got {m.shape}")
    if not np.isfinite(m).all():
        raise InputError("magnitude has NaN or infinite values")
    if not 0 < percentile <= 100:
        raise InputError(f"percentile must be in (0, 100], got {percentile}")
    if min_motion <= 0:
        raise InputError(f"min_motion must be positive, got {min_motion}")
    t_len, h, w = m.shape
    s = default_sigma(h, w) if sigma is None else float(sigma)
    st = float(sigma_t) if t_len > 1 else 0.0
    if s < 0 or st < 0:
        raise InputError(f"smoothing must not be negative, got sigma={s}, sigma_t={st}")
    if s > 0 or st > 0:
        m = ndi.gaussian_filter(m, (st, s, s), mode="nearest")
    scale = max(float(np.percentile(m, percentile)), float(min_motion))
    index = np.clip(np.floor(m * (bins / scale)), 0, bins - 1)
    return (index / (bins - 1)).astype(np.float32)


def motion_structure(
    frames: np.ndarray,
    bins: int = 4,
    *,
    method: FlowMethod = "dis",
    sigma: float | None = None,
    sigma_t: float = 1.0,
    percentile: float = 99.0,
    min_motion: float = 0.5,
) -> np.ndarray:
    """The motion structure of a video: :func:`flow_magnitude` then :func:`quantise`.

    Args:
        frames: ``(T, H, W, C) uint8`` video (C = 3 RGB; 1 and 4 work too).
        bins, sigma, sigma_t, percentile, min_motion: as in :func:`quantise`.
        method: as in :func:`flow_magnitude`.

    Returns:
        ``(T, H, W) float32`` in [0, 1] with at most ``bins`` distinct values: 0 still, 1 the
        video's fastest motion. A 1-frame input is all 0.
    """
    bins = _check_bins(bins)
    return quantise(flow_magnitude(frames, method=method), bins, sigma=sigma, sigma_t=sigma_t,
                    percentile=percentile, min_motion=min_motion)


def _is_blend(colour: np.ndarray, palette: np.ndarray) -> bool:
    """``colour`` looks like an edge pixel between two ``palette`` colours in a 4:2:0 video: its
    chroma (BT.601 Cb, Cr) within half :data:`_SNAP` of a mix of theirs and its luma between theirs."""
    def ycc(rgb: np.ndarray) -> np.ndarray:
        y = rgb @ _LUMA
        return np.stack([y, 0.564 * (rgb[..., 2] - y), 0.713 * (rgb[..., 0] - y)], -1)

    c, p = ycc(colour), ycc(palette)
    for i in range(len(p)):
        for j in range(i + 1, len(p)):
            a, b = p[i, 1:], p[j, 1:]
            share = np.clip(np.dot(c[1:] - a, b - a) / max(float(np.dot(b - a, b - a)), 1e-9), 0, 1)
            between = min(p[i, 0], p[j, 0]) - _SNAP / 2 <= c[0] <= max(p[i, 0], p[j, 0]) + _SNAP / 2
            if between and np.linalg.norm(a + share * (b - a) - c[1:]) <= _SNAP / 2:
                return True
    return False


def _mostly_edges(cluster: np.ndarray, k: int) -> bool:
    """Most pixels of cluster ``k`` (in the ``(T, H, W)`` map of clusters) touch another cluster:
    a band along edges, not a region of its own."""
    inside = cluster == k
    touching = np.zeros_like(inside)
    for axis in (1, 2):
        for shift in (1, -1):
            touching |= np.roll(cluster, shift, axis=axis) != k
    return bool((touching & inside).sum() >= 0.5 * inside.sum())


def label_structure(frames: np.ndarray, bins: int | None = None) -> np.ndarray:
    """The structure of a colour-coded label video (a sketch): one level per colour.

    Colours are snapped to a small palette: pixels are binned at 5 bits per channel; from the most
    common bin down, a bin within RGB distance 40 of an already chosen palette colour joins it,
    otherwise it starts a new one. This absorbs compression noise and chroma bleeding at edges. The
    palette is then the ``bins`` most common colours, or, with ``bins=None``, every colour that
    covers at least 1% of the pixels, except bands along edges whose colour mixes two more common
    ones (4:2:0 chroma blends neighbours in a compressed sketch). Each pixel takes its nearest
    palette colour, and the palette is ordered by luminance (Rec. 601; ties by RGB): darkest 0,
    brightest 1.

    Args:
        frames: ``(T, H, W, C) uint8`` label video, C = 3 (RGB), 1 (grey) or 4 (alpha ignored).
        bins: how many colours the sketch has (at least 2); ``None`` to find them.

    Returns:
        ``(T, H, W) float32`` in [0, 1]: palette colour ``k`` (by luminance) of ``n`` maps to
        ``k / (n - 1)``; a single colour maps to 0.

    Raises:
        PatchvidError: bad frames or bins, or fewer distinct colours than ``bins``.
    """
    frames = _check_frames(frames, "label frames")
    if bins is not None:
        bins = _check_bins(bins)
    rgb = frames[..., :3] if frames.shape[-1] >= 3 else np.repeat(frames, 3, axis=-1)
    codes = ((rgb[..., 0].astype(np.int32) >> 3) << 10) | ((rgb[..., 1].astype(np.int32) >> 3) << 5) | (
        rgb[..., 2].astype(np.int32) >> 3)
    flat = codes.ravel()
    counts = np.bincount(flat, minlength=1 << 15)
    used = np.flatnonzero(counts)
    sums = np.stack([np.bincount(flat, weights=rgb[..., c].ravel(), minlength=1 << 15)[used] for c in range(3)], 1)
    means = sums / counts[used, None]  # mean colour of each used bin
    order = np.argsort(-counts[used], kind="stable")  # most common first; ties by code

    seeds: list[np.ndarray] = []
    member = np.empty(len(used), dtype=np.int64)  # cluster of each used bin
    for i in order:
        if seeds:
            d = np.linalg.norm(np.asarray(seeds) - means[i], axis=1)
            j = int(np.argmin(d))
            if d[j] <= _SNAP:
                member[i] = j
                continue
        member[i] = len(seeds)
        seeds.append(means[i])
    weight = counts[used].astype(np.float64)
    sizes = np.bincount(member, weights=weight, minlength=len(seeds))
    by_size = np.argsort(-sizes, kind="stable")
    if bins is None:
        centres = np.stack([np.bincount(member, weights=weight * means[:, c], minlength=len(seeds)) / sizes
                            for c in range(3)], 1)
        lut = np.zeros(1 << 15, dtype=np.int64)
        lut[used] = member
        cluster = lut[codes]
        kept: list[int] = []
        for k in by_size[sizes[by_size] >= _MIN_SHARE * flat.size]:
            # chroma bleeding mixes the two colours of an edge into a band of a third: not a label
            if not (_is_blend(centres[k], centres[kept]) and _mostly_edges(cluster, k)):
                kept.append(int(k))
        keep = np.asarray(kept or by_size[:1].tolist())
    else:
        if len(seeds) < bins:
            raise InputError(f"the label video has {len(seeds)} distinct colour(s), fewer than bins={bins}")
        keep = by_size[:bins]
    palette = np.stack([np.bincount(member, weights=weight * means[:, c], minlength=len(seeds))[keep] / sizes[keep]
                        for c in range(3)], 1)

    # order the palette by luminance (ties by RGB), then map every bin to its nearest palette colour
    luma = palette @ _LUMA
    rank_of = np.empty(len(palette), dtype=np.int64)
    rank_of[np.lexsort((palette[:, 2], palette[:, 1], palette[:, 0], luma))] = np.arange(len(palette))
    nearest = np.argmin(np.linalg.norm(means[:, None, :] - palette[None], axis=2), axis=1)
    n = len(palette)
    values = rank_of[nearest] / (n - 1) if n > 1 else np.zeros(len(used))
    lut = np.zeros(1 << 15, dtype=np.float32)
    lut[used] = values
    return lut[codes]
