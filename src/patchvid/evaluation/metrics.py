"""Measures of how well generated samples reproduce one input video (or image).

Every function takes clips as ``(T, H, W, 3) uint8`` RGB arrays (an image is one frame) and returns
plain floats (:func:`coherence_estimate` and :func:`completeness_estimate` an :class:`Estimate` with
its confidence interval). Everything is deterministic: probes, patch sampling and random projections
use fixed seeds. Nearest patches are exact: :func:`nearest_distances` finds them by branch and bound
on a projection of the patches, with the answers of the exhaustive search
(:func:`exhaustive_nearest_distances`, :class:`~patchvid.synthesis.search.ExactSearch`), to float
rounding, six to nine times faster on 13x144x256 footage (BENCHMARKS.md). Memory stays bounded:
measures probe at most ``count`` patches, and searches run over the reference in chunks.

Coherence and completeness are means over every patch of a clip, estimated from probes:
:func:`probe_corners` spreads them evenly (one at a random place in each cell of an even grid over
the clip's space-time), which varies less from seed to seed than as many random probes, and
:func:`estimate` gives the 95 % confidence interval of the mean over the choice of probes.

Units: patch distances are root-mean-square differences per value, in 8-bit grey levels (0-255);
the sliced Wasserstein distance is in grey levels along unit projections; diversity is a ratio;
NNFDIV is in bits per nearest-neighbour entry; the deep-feature distance is a Fréchet distance of
network activations (no unit).

The measures:

- :func:`coherence`: every patch of a sample should have a close patch in the input (no artefacts);
  :func:`coherence_estimate` with its confidence interval.
- :func:`completeness`: every patch of the input should have a close patch in the sample;
  :func:`completeness_estimate`.
- :func:`sliced_wasserstein`: distance between the two patch distributions, at several scales.
- :func:`diversity`: per-pixel standard deviation across samples over the input's (SinGAN's measure).
- :func:`nnf_diversity` (NNFDIV): how complex the sample's nearest-neighbour field into the input is;
  a shifted or block-shuffled copy of the input scores low.
- :func:`feature_statistics` / :func:`frechet_distance`: SIFID-style deep-feature distance, on frames
  and on frame-to-frame feature differences (motion).

Time and peak memory of a block of code are measured by :mod:`patchvid.evaluation.resources`.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError, PatchvidError
from ..frames import as_video, to_tensor
from ..synthesis import pyramid
from ..synthesis.patches import patch_grid, patches_at, unfold
from ..synthesis.resize import resize
from ..synthesis.search import ExactSearch
from .nearest import KeyIndex, exhaustive_nearest_distances, nearest_distances  # noqa: F401 (re-exported)

Patch = tuple[int, int, int]
DEFAULT_PATCH: Patch = (3, 7, 7)  # the generator's patch: the measures judge what it copies
GREY_LEVELS = 127.5  # one unit of the [-1, 1] working range in 8-bit grey levels
LUMA = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601, as SinGAN's greyscale
NNF_MAX_PAIRS = 10**8  # NNFDIV's exact search: about a second on 2 CPU cores
Z95 = 1.959963984540054  # standard errors of a two-sided 95 % confidence interval
PROBE_DESIGNS = ("stratified", "random")
PROBE_COUNT = 1280  # patches coherence and completeness probe by default (see scores.PROBES)


# ------------------------------------------------------------------------------------ helpers


def _check_clip(frames: np.ndarray, what: str) -> np.ndarray:
    return as_video(np.asarray(frames), what)[0]


def fit_patch(patch: Patch, *shapes: Sequence[int]) -> Patch:
    """``patch`` shrunk, axis by axis, to fit in every ``(T, H, W)`` shape (a 2-frame clip gets
    2-frame patches; images get 1-frame patches).

    Raises:
        PatchvidError: a clip is smaller than 3x3 pixels, too small for any patch.
    """
    fitted = pyramid.fit_patch(patch, *(tuple(int(v) for v in s) for s in shapes))
    if min(fitted[1:]) < 3:
        raise PatchvidError(f"a clip of {min(s[2] for s in shapes)}x{min(s[1] for s in shapes)} pixels is too "
                            "small for patch measures (need 3x3 at least)")
    return fitted  # type: ignore[return-value]


def _video(frames: np.ndarray | torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """``(3, T, H, W)`` float32 in [-1, 1] (from uint8 frames or such a tensor), shrunk in space by
    ``scale`` (antialiased)."""
    video = frames if isinstance(frames, torch.Tensor) else to_tensor(frames)
    if scale != 1.0:
        t, h, w = video.shape[1:]
        video = resize(video, (t, max(1, round(h * scale)), max(1, round(w * scale))))
    return video


def sample_patches(video: torch.Tensor, patch: Patch, count: int, seed: int = 0) -> torch.Tensor:
    """Up to ``count`` patches of a video at distinct random corners (all of them when there are fewer).

    Args:
        video: ``(C, T, H, W)``.
        patch: ``(pt, ph, pw)``.
        count: how many.
        seed: the same seed and video shape always pick the same corners.

    Returns:
        ``(N, C*pt*ph*pw)``, rows ordered as :func:`~patchvid.patches.unfold` orders them.
    """
    grid = patch_grid(video.shape[1:], patch)
    total = grid[0] * grid[1] * grid[2]
    if total <= count:
        return unfold(video, patch)
    return patches_at(video, patch, np.sort(np.random.default_rng(seed).choice(total, size=count, replace=False)))


# ----------------------------------------------------------------------------------------- probes


@dataclass(frozen=True)
class Probes:
    """Where a measure looks: patch corners, how much of the clip each stands for, and how to pool
    them for the standard error.

    Attributes:
        corners: ``(N,)`` int64 flat indices into the clip's patch grid (``t``, then ``y``, then ``x``).
        weights: ``(N,)`` float64, summing to 1: the share of the clip's patches each probe stands for.
        groups: ``(N,)`` int64: probes of one group are pooled to estimate the variance (neighbouring
            strata, collapsed in pairs; all probes one group for random ones).
        design: ``"stratified"``, ``"random"`` or ``"all"`` (every patch: the value is exact).
    """

    corners: np.ndarray
    weights: np.ndarray
    groups: np.ndarray
    design: str


def strata(grid: Sequence[int], count: int) -> tuple[int, int, int]:
    """How many cells along ``(t, y, x)`` of a patch grid stratified probes use: nearly ``count``
    cells (never more), as close to cubes (in voxels) as that allows. Measured on footage, cells
    2 to 4 frames long varied less between seeds than cells one frame long."""
    g0, g1, g2 = (int(g) for g in grid)
    options = []
    for nt in range(1, min(g0, count) + 1):
        budget = count // nt
        ideal = math.floor(math.sqrt(budget * g1 / g2))  # rows of cells for square cells in space
        for ny in {max(1, min(g1, budget, ideal + i)) for i in (-1, 0, 1, 2)}:
            nx = max(1, min(g2, budget // ny))
            edges = (g0 / nt, g1 / ny, g2 / nx)
            options.append((nt * ny * nx, max(edges) / min(edges), (nt, ny, nx)))
    most = max(n for n, _, _ in options)
    return min((o for o in options if o[0] >= 0.97 * most), key=lambda o: (o[1], -o[0]))[2]


def probe_corners(grid: Sequence[int], count: int, seed: int = 0, design: str = "stratified") -> Probes:
    """At most ``count`` probe corners over a patch grid ``(T', H', W')``.

    ``"stratified"``: the grid is cut into near-cubic cells (:func:`strata`, at most ``count``) and
    each cell gets one corner drawn uniformly inside it, so the probes cover the clip evenly; each
    probe is weighted by its cell's size, so the weighted mean estimates the mean over every patch
    without bias. ``"random"``: ``count`` distinct corners drawn uniformly, equal weights (the
    estimator used before; :func:`sample_patches` draws the same corners). A grid of at most
    ``count`` corners is probed everywhere (``design == "all"``).

    Raises:
        InputError: ``design`` is neither, or ``count < 1``.
    """
    if design not in PROBE_DESIGNS:
        raise InputError(f"unknown probe design {design!r}; use {' or '.join(PROBE_DESIGNS)}")
    if count < 1:
        raise InputError(f"the probe count must be at least 1, got {count}")
    grid = tuple(int(g) for g in grid)
    total = math.prod(grid)
    if total <= count:
        every = np.arange(total)
        return Probes(every, np.full(total, 1 / total), every // 2, "all")
    rng = np.random.default_rng(seed)
    if design == "random":
        corners = np.sort(rng.choice(total, size=count, replace=False))
        return Probes(corners, np.full(count, 1 / count), np.zeros(count, np.int64), "random")
    cells = strata(grid, count)
    starts, sizes = [], []
    for g, n in zip(grid, cells):
        edges = (np.arange(n + 1) * g) // n  # cell sizes differ by at most one
        starts.append(edges[:-1])
        sizes.append(np.diff(edges))
    # every cell in (t, y, x) order, x fastest: consecutive cells are neighbours
    s0, s1, s2 = np.meshgrid(*starts, indexing="ij")
    n0, n1, n2 = np.meshgrid(*sizes, indexing="ij")
    size = (n0 * n1 * n2).reshape(-1)
    t = s0.reshape(-1) + (rng.random(size.shape) * n0.reshape(-1)).astype(np.int64)
    y = s1.reshape(-1) + (rng.random(size.shape) * n1.reshape(-1)).astype(np.int64)
    x = s2.reshape(-1) + (rng.random(size.shape) * n2.reshape(-1)).astype(np.int64)
    n = len(size)
    # neighbouring cells pooled in pairs (an odd last cell joins the pair before it)
    groups = np.minimum(np.arange(n) // 2, max(0, n // 2 - 1))
    return Probes((t * grid[1] + y) * grid[2] + x, size / total, groups, "stratified")


@dataclass(frozen=True)
class Estimate:
    """A nearest-patch measure: its value over the probes and how far that may be from the value over
    every patch.

    Attributes:
        value: the weighted mean over the probes, grey levels.
        ci: half-width of its 95 % confidence interval, grey levels (``1.96`` standard errors; 0 when
            every patch was measured). For stratified probes the standard error pools neighbouring
            cells in pairs (the collapsed-strata estimator), which overstates it a little.
        probes: how many patches were measured.
        design: the :class:`Probes` design.
    """

    value: float
    ci: float
    probes: int
    design: str


def estimate(values: np.ndarray, probes: Probes) -> Estimate:
    """The :class:`Estimate` of per-probe ``values`` ``(N,)`` (grey levels) taken at ``probes``."""
    y = np.asarray(values, dtype=np.float64)
    w = probes.weights
    value = float(np.dot(w, y))
    n = len(y)
    if probes.design == "all":
        return Estimate(value, 0.0, n, "all")
    if probes.design == "random":  # s^2 / n, without the finite-population correction
        ci = Z95 * float(y.std(ddof=1)) / math.sqrt(n) if n > 1 else math.inf
        return Estimate(value, ci, n, "random")
    if n < 2:
        return Estimate(value, math.inf, n, probes.design)
    g = probes.groups
    count = np.bincount(g).astype(np.float64)
    weight = np.bincount(g, w)
    mean = np.bincount(g, y) / count
    spread = np.bincount(g, (y - mean[g]) ** 2) / (count - 1)  # each group's sample variance
    variance = float(np.sum(weight**2 * spread / count))
    return Estimate(value, Z95 * math.sqrt(variance), n, probes.design)


# ------------------------------------------------------------------------ exact nearest patches


def _cached(cache: dict | None, key: tuple, make):
    """``cache[key]``, made by ``make()`` and kept there the first time; ``make()`` alone without a cache."""
    if cache is None:
        return make()
    if key not in cache:
        cache[key] = make()
    return cache[key]


def _rms_levels(squared: torch.Tensor, dim: int) -> np.ndarray:
    """Each patch's RMS difference per value, in grey levels, from its squared distance ``(N,)``."""
    return ((squared.double() / dim).sqrt() * GREY_LEVELS).cpu().numpy()


# ------------------------------------------------------------------------ coherence, completeness


def coherence_estimate(
    sample: np.ndarray,
    reference: np.ndarray,
    patch: Patch = DEFAULT_PATCH,
    scale: float = 1.0,
    count: int = PROBE_COUNT,
    seed: int = 0,
    probes: str = "stratified",
    cache: dict | None = None,
) -> Estimate:
    """:func:`coherence` with its 95 % confidence interval over the choice of probes (same arguments).

    ``cache``: a dict kept by the caller for one ``reference``, which then keeps the reference's
    prepared search (:class:`~patchvid.evaluation.nearest.KeyIndex`) per scale and patch, so that the
    samples of a set after the first skip that part of the work; the answers are the same.

    Returns:
        An :class:`Estimate` in grey levels.
    """
    q = _video(_check_clip(sample, "sample"), scale)
    k = _video(_check_clip(reference, "reference"), scale)
    p = fit_patch(patch, q.shape[1:], k.shape[1:])
    where = probe_corners(patch_grid(q.shape[1:], p), count, seed, probes)
    rows = unfold(q, p) if where.design == "all" else patches_at(q, p, where.corners)
    index = _cached(cache, (scale, p), lambda: KeyIndex(k, p))
    return estimate(_rms_levels(index.distances(rows), rows.shape[1]), where)


def coherence(
    sample: np.ndarray,
    reference: np.ndarray,
    patch: Patch = DEFAULT_PATCH,
    scale: float = 1.0,
    count: int = PROBE_COUNT,
    seed: int = 0,
    probes: str = "stratified",
) -> float:
    """How far the sample's patches are from their nearest patch of the reference.

    High when the sample contains something the reference does not (artefacts, blur, seams).

    Args:
        sample: ``(T, H, W, 3) uint8``; its size may differ from the reference's.
        reference: ``(T', H', W', 3) uint8``, the input.
        patch: space-time patch ``(frames, height, width)``, shrunk to fit short clips.
        scale: measure at this spatial scale (``0.5``: both clips at half resolution).
        count: how many sample patches to measure at most (every one when the sample has no more);
            every reference patch is a candidate, searched exactly.
        seed: seeds the choice of patches.
        probes: ``"stratified"``: one patch at a random place in each of about ``count`` even cells
            of the sample's space-time (:func:`probe_corners`), which varies less from seed to seed
            than ``"random"``, ``count`` patches anywhere (the design used before).

    Returns:
        Mean over the sample's patches (estimated from the probes, each weighted by the share of the
        clip its cell covers) of the RMS difference per value to the nearest reference patch, in
        grey levels (0 when every patch occurs exactly in the reference).

    Raises:
        PatchvidError: a clip too small for patches, or a bad ``probes`` or ``count``.
    """
    return coherence_estimate(sample, reference, patch, scale, count, seed, probes).value


def completeness_estimate(
    sample: np.ndarray,
    reference: np.ndarray,
    patch: Patch = DEFAULT_PATCH,
    scale: float = 1.0,
    count: int = PROBE_COUNT,
    seed: int = 0,
    probes: str = "stratified",
) -> Estimate:
    """:func:`completeness` with its 95 % confidence interval (see :func:`coherence_estimate`)."""
    return coherence_estimate(reference, sample, patch, scale, count, seed, probes)


def completeness(
    sample: np.ndarray,
    reference: np.ndarray,
    patch: Patch = DEFAULT_PATCH,
    scale: float = 1.0,
    count: int = PROBE_COUNT,
    seed: int = 0,
    probes: str = "stratified",
) -> float:
    """How far the reference's patches are from their nearest patch of the sample: high when part of
    the input is missing from the sample. :func:`coherence` the other way round, same arguments."""
    return coherence(reference, sample, patch, scale, count, seed, probes)


# ------------------------------------------------------------------------------- distributions


def sliced_wasserstein(
    sample: np.ndarray,
    reference: np.ndarray,
    patch: Patch = DEFAULT_PATCH,
    scales: Sequence[float] = (1.0, 0.5, 0.25),
    projections: int = 256,
    count: int = 8192,
    seed: int = 0,
    cache: dict | None = None,
) -> dict[float, float]:
    """Sliced Wasserstein distance between the space-time patch distributions of two clips.

    Both clips' patches (``count`` at most, at random corners) are projected on the same
    ``projections`` random unit directions (fixed by ``seed``); along each, the 1-D Wasserstein-1
    distance between the two sets of projections is taken from their sorted values, and the
    distances are averaged over directions.

    Args:
        sample, reference: ``(T, H, W, 3) uint8``; sizes may differ.
        patch: ``(frames, height, width)``, shrunk to fit.
        scales: spatial scales to measure at; a scale where the patch no longer fits is left out.
        projections: number of random directions.
        count: patches per clip and scale.
        seed: seeds patch corners and directions.
        cache: a dict kept by the caller for one ``reference`` (it may be :func:`coherence_estimate`'s):
            it then keeps the reference's sorted projections, so that the samples of a set after the
            first skip half the work; the answers are the same.

    Returns:
        ``{scale: distance in grey levels}``; ``0`` for a clip against itself.
    """
    full_a, full_b = _video(_check_clip(sample, "sample")), _video(_check_clip(reference, "reference"))
    out: dict[float, float] = {}
    for scale in scales:
        a, b = _video(full_a, scale), _video(full_b, scale)
        if min(a.shape[2:] + b.shape[2:]) < 3:
            continue
        p = fit_patch(patch, a.shape[1:], b.shape[1:])
        directions = torch.randn(a.shape[0] * math.prod(p), projections, generator=torch.Generator().manual_seed(seed))
        directions /= directions.norm(dim=0, keepdim=True)
        # (projections, patches), sorted along the contiguous axis by NumPy (3x faster than torch here)
        va = np.sort((directions.T @ sample_patches(a, p, count, seed).T).numpy(), axis=1)
        vb = _cached(cache, ("swd", scale, p, projections, count, seed),
                     lambda b=b, p=p, d=directions: np.sort((d.T @ sample_patches(b, p, count, seed).T).numpy(), 1))
        n = min(va.shape[1], vb.shape[1])
        # compare the two at n common quantiles (both sets are the same size unless clip sizes differ)
        quantiles = (np.arange(n) + 0.5) / n
        ia, ib = (quantiles * va.shape[1]).astype(int), (quantiles * vb.shape[1]).astype(int)
        out[scale] = float(np.abs(va[:, ia] - vb[:, ib]).mean(dtype=np.float64) * GREY_LEVELS)
    return out


# ------------------------------------------------------------------------------------ diversity


def greyscale(frames: np.ndarray) -> np.ndarray:
    """``(T, H, W, 3) uint8`` to ``(T, H, W) float64`` luma in grey levels."""
    return np.asarray(frames, dtype=np.float64) @ LUMA


def diversity(samples: Sequence[np.ndarray], reference: np.ndarray) -> float:
    """SinGAN's diversity: the per-pixel standard deviation of the greyscale samples across samples,
    averaged over pixels, over the standard deviation of the greyscale reference.

    Args:
        samples: ``K >= 2`` clips ``(T, H, W, 3) uint8`` of one size (each pixel is compared across them).
        reference: the input ``(T', H', W', 3) uint8``; its size may differ.

    Returns:
        ``0`` for identical samples; around ``1`` when samples differ as much as the input varies.

    Raises:
        PatchvidError: fewer than 2 samples, samples of different sizes, or a uniform reference.
    """
    clips = [_check_clip(s, f"sample {i + 1}") for i, s in enumerate(samples)]
    if len(clips) < 2:
        raise PatchvidError(f"diversity needs at least 2 samples, got {len(clips)}")
    check_same_size(clips, "diversity")
    ref_std = float(greyscale(_check_clip(reference, "reference")).std())
    if ref_std == 0:
        raise PatchvidError("diversity is undefined for a uniform input (its standard deviation is 0)")
    # deviations from the first sample: the same spread, and exactly 0 for identical samples
    first = greyscale(clips[0])
    deviations = np.stack([greyscale(c) - first for c in clips])
    return float(deviations.std(axis=0).mean() / ref_std)


def check_same_size(samples: Sequence[np.ndarray], what: str) -> None:
    """Raise :class:`PatchvidError` naming the first sample whose ``(T, H, W)`` differs from the first's."""
    for i, c in enumerate(samples[1:], 2):
        if c.shape[:3] != samples[0].shape[:3]:
            raise PatchvidError(
                f"{what} needs samples of equal size: sample 1 is {_describe(samples[0])}, "
                f"sample {i} is {_describe(c)}"
            )


def _describe(frames: np.ndarray) -> str:
    t, h, w, _ = frames.shape
    return f"{t} frames of {w}x{h}"


# ---------------------------------------------------------------------------------------- NNFDIV


def nnf_diversity(
    sample: np.ndarray,
    reference: np.ndarray,
    patch: Patch = DEFAULT_PATCH,
    max_pairs: int = NNF_MAX_PAIRS,
) -> float:
    """NNFDIV: the compressed size of the sample's nearest-neighbour field into the reference.

    Every patch of the sample is matched exactly to its nearest reference patch; the field of
    displacements (match corner minus own corner, per axis) is compressed with zlib. A copy, a
    shifted copy or a copy with a few blocks swapped has a field of a few constant regions and
    compresses to almost nothing; a sample that genuinely recombines the input has a varied field.

    Args:
        sample, reference: ``(T, H, W, 3) uint8``; sizes may differ.
        patch: ``(frames, height, width)``, shrunk to fit.
        max_pairs: bound on (sample patches x reference patches) compared; larger clips are both
            shrunk in space by one factor until they fit (see :func:`nnf_scale`), which bounds time.

    Returns:
        Bits per field entry beyond what a constant field takes: 0 for a constant displacement (the
        reference itself, where no two patches are identical). Where the reference repeats a patch
        exactly (a static background in a synthetic clip), ties make even the reference score a little.
    """
    sample, reference = _check_clip(sample, "sample"), _check_clip(reference, "reference")
    scale = nnf_scale(sample.shape[:3], reference.shape[:3], patch, max_pairs)
    q, k = _video(sample, scale), _video(reference, scale)
    p = fit_patch(patch, q.shape[1:], k.shape[1:])
    nnf = ExactSearch()(q, k, p).nnf
    corners = torch.stack(torch.meshgrid(*(torch.arange(n) for n in nnf.shape[:3]), indexing="ij"), dim=-1)
    field = (nnf - corners).permute(3, 0, 1, 2).to(torch.int16).contiguous().numpy()  # one plane per axis
    # less the size of a constant field's: zlib's fixed overhead would otherwise dominate small fields
    floor = len(zlib.compress(np.zeros_like(field).tobytes(), 9))
    return max(0, 8 * (len(zlib.compress(field.tobytes(), 9)) - floor)) / (field.size // 3)


def nnf_scale(sample_shape: Sequence[int], reference_shape: Sequence[int], patch: Patch, max_pairs: int) -> float:
    """The spatial scale (at most 1) at which NNFDIV compares at most ``max_pairs`` patch pairs."""

    def pairs(s: float) -> int:
        n = 1
        for t, h, w in (sample_shape, reference_shape):
            n *= max(1, t - min(patch[0], t) + 1)
            n *= max(1, round(h * s) - patch[1] + 1) * max(1, round(w * s) - patch[2] + 1)
        return n

    scale = 1.0
    while pairs(scale) > max_pairs and scale > 0.05:
        scale *= 0.9
    return scale


# ------------------------------------------------------------------------------ deep features


@dataclass(frozen=True)
class FeatureStats:
    """Mean and covariance of deep features, every spatial position of every frame one sample.

    Attributes:
        mean, cov: ``(C,)`` and ``(C, C)`` float64, of the frames' features.
        motion_mean, motion_cov: the same of the differences between consecutive frames' features;
            ``None`` for a single frame.
        samples: feature vectors that went into ``mean``.
    """

    mean: np.ndarray
    cov: np.ndarray
    motion_mean: np.ndarray | None
    motion_cov: np.ndarray | None
    samples: int


def feature_statistics(frames: np.ndarray, stage: int | None = None) -> FeatureStats:
    """SIFID-style statistics of a clip's early EfficientNet-Lite0 features.

    Each frame goes through the network at its own resolution; the feature map of an early stage
    (stride 4, 24 channels by default) gives one sample per spatial position, as SIFID does with
    Inception's first pooling layer. Motion statistics use ``features[t+1] - features[t]``.

    Raises:
        PatchvidError: the weights package is not installed (with the install command).
    """
    from . import features  # the network loads only when this measure is asked for

    frames = _check_clip(frames, "clip")
    maps = features.frame_features(frames, features.DEFAULT_FEATURE_STAGE if stage is None else stage).double()
    flat = maps.permute(0, 2, 3, 1).reshape(-1, maps.shape[1])
    mean, cov = _moments(flat)
    motion_mean = motion_cov = None
    if maps.shape[0] > 1:
        diff = (maps[1:] - maps[:-1]).permute(0, 2, 3, 1).reshape(-1, maps.shape[1])
        motion_mean, motion_cov = _moments(diff)
    return FeatureStats(mean, cov, motion_mean, motion_cov, flat.shape[0])


def _moments(rows: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    mean = rows.mean(0)
    centred = rows - mean
    cov = centred.T @ centred / max(1, rows.shape[0] - 1)
    return mean.numpy(), cov.numpy()


def frechet_distance(mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray) -> float:
    """``|mu_a - mu_b|^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2))`` between two Gaussians.

    The trace of the matrix square root is taken as the sum of square roots of the eigenvalues of the
    symmetric ``S_a^(1/2) S_b S_a^(1/2)``, which is stable for the singular covariances of small clips.
    """
    w, v = np.linalg.eigh(cov_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    middle = root_a @ cov_b @ root_a
    cross = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)).sum()
    value = float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * cross)
    return max(value, 0.0)


def feature_distance(a: FeatureStats, b: FeatureStats, motion: bool = False) -> float:
    """Fréchet distance of two clips' :class:`FeatureStats`, of frames or (``motion``) of their changes.

    Raises:
        PatchvidError: ``motion`` for a clip of one frame.
    """
    if not motion:
        return frechet_distance(a.mean, a.cov, b.mean, b.cov)
    if a.motion_mean is None or b.motion_mean is None:
        raise PatchvidError("the motion feature distance needs clips of 2 frames or more")
    return frechet_distance(a.motion_mean, a.motion_cov, b.motion_mean, b.motion_cov)
