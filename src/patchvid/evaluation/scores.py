"""Scoring a set of samples against their input: every measure that applies, and the score table.

:func:`score` takes the measures asked for; a measure that does not apply to the samples (diversity
of one sample, the motion distance of images, deep features without the weights package) is left out
with its reason, unless it was asked for by name (``required``), when its error is raised.

Example:
    >>> scores = score([sample_a, sample_b], clip, {"coherence", "diversity"})  # doctest: +SKIP
    >>> print(table("clip.mp4", clip, [sample_a, sample_b], scores))  # doctest: +SKIP
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from ..errors import PatchvidError
from ..synthesis.patches import patch_grid
from . import metrics
from .settings import DEFAULT_MEASURES

HALF = 0.5
# Patches coherence and completeness probe (stratified, metrics.probe_corners) at each scale: of 1024,
# 1280 and 1536 at full resolution and 512, 640 and 768 at half, the fewest that kept each measure's
# noise (its standard deviation over 400 probe seeds) at least 25 % below that of the 2048 random
# probes used before, on 13x144x256 footage against a generated sample and the clip backwards
# (BENCHMARKS.md). Stratifying gains less at full resolution, where a generated sample's few
# artefacts make the measure heavy-tailed.
PROBES = {1.0: metrics.PROBE_COUNT, HALF: 640}

# What each step costs, for progress, in units of one value of one patch pair compared by the exhaustive
# search (NNFDIV: about 0.13 ns on the shared 2-core CPU, which the search formulas matched within 30 %
# on 13x144x256 footage against a same-size and a half-size sample, 2-51 s a step). The other steps in
# the same units, from their times there:
SWD_COST = 2.7  # per patch value projected (3 scales x 2 x 8192 patches x 441 values x 256: 1.7-2.0 s)
# coherence and completeness (metrics.nearest_distances' branch and bound, on one thread): a step (the
# basis, conversions: 0.14 s), per key patch (projection, tree, layout: 0.86 us) and per value of every
# probe and key patch pair (what the bounds leave of the exhaustive search's work, about a hundredth);
# fitted to 18 steps on 13x144x256 and 8x72x128 footage at both scales (0.17-0.9 s): within 30 % for 15
# of them, off by 2.4 times for the smallest
NEAREST_STEP_COST = 1.0e9
NEAREST_KEY_COST = 6.6e3
NEAREST_PAIR_COST = 0.012
FEATURE_FRAME_COST = 2e8  # per frame through EfficientNet-Lite0's early stages (27 ms) ...
FEATURE_VOXEL_COST = 3300  # ... and per voxel (0.56 s for 13x144x256)
FEATURE_LOAD_COST = 4.6e9  # loading the network, once (0.6 s)

# table rows: (key in a sample's scores, label, unit, format)
ROWS = [
    ("coherence", "coherence", "grey levels", "{:.2f}"),
    ("coherence_half", "coherence, half resolution", "grey levels", "{:.2f}"),
    ("completeness", "completeness", "grey levels", "{:.2f}"),
    ("completeness_half", "completeness, half resolution", "grey levels", "{:.2f}"),
    ("swd_1", "patch SWD, full resolution", "grey levels", "{:.3f}"),
    ("swd_0.5", "patch SWD, 1/2 resolution", "grey levels", "{:.3f}"),
    ("swd_0.25", "patch SWD, 1/4 resolution", "grey levels", "{:.3f}"),
    ("nnfdiv", "NNFDIV", "bits/entry", "{:.3f}"),
    ("sifid", "SIFID (EfficientNet-Lite0)", "", "{:.3f}"),
    ("sifid_motion", "SIFID of motion", "", "{:.3f}"),
    ("seam_ratio", "loop seam ratio", "x typical step", "{:.2f}"),
    ("seconds", "generation time", "s", "{:.2f}"),
    ("peak_rss_mib", "peak memory (RSS)", "MiB", "{:.0f}"),
    ("added_rss_mib", "memory added (peak - start)", "MiB", "{:.0f}"),
    ("cuda_peak_mib", "peak CUDA memory", "MiB", "{:.0f}"),
]

DEFINITIONS = {
    "patch": list(metrics.DEFAULT_PATCH),
    "coherence": "mean over the sample's patches of the RMS difference to the nearest input patch (exact "
    "search), estimated from stratified probes (one at a random place in each of about N even space-time "
    "cells, N per scale in probes), grey levels; completeness the other way round; _half: both at half "
    "resolution; _ci: half-width of the 95 % confidence interval over the choice of probes (1.96 standard "
    "errors, neighbouring cells pooled in pairs)",
    "probes": {"coherence": PROBES[1.0], "coherence_half": PROBES[HALF], "design": "stratified"},
    "std": "sample standard deviation over the samples (ddof=1)",
    "swd": "sliced Wasserstein-1 distance of patch projections, grey levels, per spatial scale",
    "nnfdiv": "zlib-compressed bits per entry of the sample's nearest-neighbour displacement field into "
    "the input, at nnfdiv_scale",
    "sifid": "Frechet distance of EfficientNet-Lite0's second-stage features (stride 4, 24 channels), "
    "every position of every frame a sample; sifid_motion: of feature differences between consecutive frames",
    "diversity": "mean per-pixel std of greyscale samples across samples / std of the greyscale input",
    "seam_ratio": "RMS difference of the last and first frames / median step of the input",
}


@dataclass
class Scores:
    """The scores of a set of samples.

    Attributes:
        samples: per sample, its scores by key (the keys of :data:`ROWS`, and anything the caller
            put there before, such as a path or a seed).
        diversity: SinGAN's diversity across the samples, or ``None``.
        skipped: measures left out, with the reason.
    """

    samples: list[dict]
    diversity: float | None = None
    skipped: dict[str, str] = field(default_factory=dict)

    def mean(self) -> dict[str, float]:
        """The mean of every row over the samples that have it."""
        return {k: _mean([r.get(k) for r in self.samples]) for k in self._present()}

    def std(self) -> dict[str, float | None]:
        """The spread of every row over the samples that have it: the sample standard deviation
        (``ddof=1``), ``None`` where fewer than 2 samples have the row."""
        return {k: _std([r.get(k) for r in self.samples]) for k in self._present()}

    def _present(self) -> list[str]:
        return [k for k, *_ in ROWS if any(r.get(k) is not None for r in self.samples)]


def score(
    samples: Sequence[np.ndarray],
    reference: np.ndarray,
    measures: Collection[str] = DEFAULT_MEASURES,
    required: Collection[str] = (),
    records: list[dict] | None = None,
    progress: Callable[[str], None] = lambda message: None,
    on_step: Callable[[float], None] | None = None,
) -> Scores:
    """Take ``measures`` of each ``(T, H, W, 3) uint8`` sample against ``reference``.

    Args:
        samples: the samples (any sizes; diversity needs two or more of one size).
        reference: the input they were made from.
        measures: names from :data:`MEASURES` (``cost`` is the caller's: time and memory it put in
            ``records``).
        required: measures asked for by name: their errors are raised, not skipped.
        records: per sample, a dict to add the scores to (default: empty ones).
        progress: called with a line before each slow step.
        on_step: called after each step with the part of the whole scoring it did (a fraction,
            estimated from the sizes by :func:`step_costs`); the calls add up to 1.
    """
    wanted, required = set(measures), set(required)
    scores = Scores(records if records is not None else [{} for _ in samples])
    for record, clip in zip(scores.samples, samples):
        record["frames_height_width"] = list(clip.shape[:3])

    def attempt(name: str, compute: Callable[[], object]) -> object | None:
        try:
            return compute()
        except PatchvidError as e:
            if name in required:
                raise
            scores.skipped.setdefault(name, str(e))
            return None

    if "diversity" in wanted:  # checked before the slow measures
        try:
            metrics.check_same_size(samples, "diversity")
        except PatchvidError as e:
            if "diversity" in required:
                raise
            scores.skipped["diversity"] = str(e)
            wanted.discard("diversity")
    work = _Work(step_costs([s.shape for s in samples], reference.shape, wanted), on_step)
    reference_features = None
    if "features" in wanted:
        progress("deep features of the input (EfficientNet-Lite0)")
        reference_features = attempt("features", lambda: metrics.feature_statistics(reference))
        work.done("reference features")
    reference_cache: dict = {}  # the input's prepared search and sorted projections, shared by the samples
    for i, clip in enumerate(samples):
        progress(f"measuring sample {i + 1}/{len(samples)} ({describe(clip)})")
        _measure(clip, reference, wanted, reference_features, scores.samples[i], attempt, scores.skipped,
                 lambda name, i=i: work.done(i, name), reference_cache)
        work.done(i)  # what it skipped (features after the input's failed) is done too
    if "diversity" in wanted:
        scores.diversity = attempt("diversity", lambda: metrics.diversity(samples, reference))
    work.done()
    return scores


def step_costs(
    sample_shapes: Sequence[Sequence[int]], reference_shape: Sequence[int], measures: Collection[str]
) -> dict[tuple, float]:
    """The estimated cost of each slow step of :func:`score` (see :data:`SWD_COST`), keyed
    ``("reference features",)`` or ``(sample index, step)`` with steps ``"coherence"``,
    ``"coherence_half"``, ``"completeness"``, ``"completeness_half"``, ``"swd"``, ``"nnfdiv"`` and
    ``"features"``; shapes are ``(T, H, W, ...)``. A step whose clips are too small for it costs 0."""
    reference = tuple(int(n) for n in reference_shape[:3])
    costs: dict[tuple, float] = {}
    if "features" in measures:
        costs[("reference features",)] = FEATURE_LOAD_COST + _feature_cost(reference)
    for i, shape in enumerate(sample_shapes):
        clip = tuple(int(n) for n in shape[:3])
        for scale, suffix in ((1.0, ""), (HALF, "_half")):
            if "coherence" in measures:
                costs[(i, "coherence" + suffix)] = _nearest_cost(clip, reference, scale)
            if "completeness" in measures:
                costs[(i, "completeness" + suffix)] = _nearest_cost(reference, clip, scale)
        if "swd" in measures:
            costs[(i, "swd")] = _swd_cost(clip, reference)
        if "nnfdiv" in measures:
            s = metrics.nnf_scale(clip, reference, metrics.DEFAULT_PATCH, metrics.NNF_MAX_PAIRS)
            costs[(i, "nnfdiv")] = _search_cost(_scaled(clip, s), _scaled(reference, s), None)
        if "features" in measures:
            costs[(i, "features")] = _feature_cost(clip)
    return costs


def _scaled(shape: tuple[int, int, int], scale: float) -> tuple[int, int, int]:
    """A clip's shape shrunk in space as the measures shrink it."""
    t, h, w = shape
    return (t, max(1, round(h * scale)), max(1, round(w * scale))) if scale != 1.0 else shape


def _search_cost(query: tuple[int, int, int], key: tuple[int, int, int], count: int | None) -> float:
    """Values compared by an exact search of (at most ``count``) query patches among every key patch."""
    try:
        p = metrics.fit_patch(metrics.DEFAULT_PATCH, query, key)
    except PatchvidError:  # too small to measure: skipped at once
        return 0.0
    queries = math.prod(patch_grid(query, p))
    return min(queries, count or queries) * math.prod(patch_grid(key, p)) * 3 * math.prod(p)


def _defaults(function: Callable) -> dict[str, object]:
    """The default arguments of ``function`` by name (the measures are taken at their defaults)."""
    return {k: v.default for k, v in inspect.signature(function).parameters.items()}


def _nearest_cost(query: tuple[int, int, int], key: tuple[int, int, int], scale: float) -> float:
    """The cost of :func:`~patchvid.evaluation.metrics.coherence` of ``query`` against ``key`` at
    ``scale`` with :data:`PROBES` probes: :data:`NEAREST_STEP_COST`, :data:`NEAREST_KEY_COST` per key
    patch and :data:`NEAREST_PAIR_COST` per value of every probe and key patch pair."""
    query, key = _scaled(query, scale), _scaled(key, scale)
    try:
        p = metrics.fit_patch(metrics.DEFAULT_PATCH, query, key)
    except PatchvidError:  # too small to measure: skipped at once
        return 0.0
    probes = min(math.prod(patch_grid(query, p)), PROBES[scale])
    keys = math.prod(patch_grid(key, p))
    return NEAREST_STEP_COST + keys * NEAREST_KEY_COST + probes * keys * 3 * math.prod(p) * NEAREST_PAIR_COST


def _swd_cost(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """Values projected by :func:`~patchvid.evaluation.metrics.sliced_wasserstein` at its defaults."""
    defaults = _defaults(metrics.sliced_wasserstein)
    patch, scales, projections, count = (defaults[k] for k in ("patch", "scales", "projections", "count"))
    cost = 0.0
    for scale in scales:
        sa, sb = _scaled(a, scale), _scaled(b, scale)
        if min(sa[1:] + sb[1:]) < 3:
            continue
        p = metrics.fit_patch(patch, sa, sb)
        patches = sum(min(count, math.prod(patch_grid(s, p))) for s in (sa, sb))
        cost += SWD_COST * patches * 3 * math.prod(p) * projections
    return cost


def _feature_cost(shape: tuple[int, int, int]) -> float:
    return shape[0] * FEATURE_FRAME_COST + math.prod(shape) * FEATURE_VOXEL_COST


class _Work:
    """Reports the steps of a scoring to ``on_step`` as fractions of the whole, by their costs."""

    def __init__(self, costs: dict[tuple, float], on_step: Callable[[float], None] | None):
        self.left = dict(costs)
        self.total = sum(costs.values())
        self.on_step = on_step

    def done(self, *key) -> None:
        """Step ``key`` is done; ``(i,)``: every step of sample ``i`` not reported yet; ``()``: all of
        them (the last call, which reports 1 when nothing had a cost)."""
        cost = sum(self.left.pop(k) for k in [k for k in self.left if k[: len(key)] == key])
        if self.on_step is not None and cost > 0:
            self.on_step(cost / self.total)
        elif self.on_step is not None and not key and self.total == 0:
            self.on_step(1.0)


def _measure(clip, reference, wanted, reference_features, record, attempt, skipped, done, reference_cache) -> None:
    """Fill ``record`` with one sample's measures, calling ``done(step)`` after each slow one;
    ``reference_cache`` is coherence's and the SWD's ``cache`` for the reference."""
    from ..classic.loops import seam_ratio

    for scale, suffix in ((1.0, ""), (HALF, "_half")):
        for name, measure in (("coherence", partial(metrics.coherence_estimate, cache=reference_cache)),
                              ("completeness", metrics.completeness_estimate)):
            if name in wanted:
                found = attempt(name, lambda m=measure, s=scale: m(clip, reference, scale=s, count=PROBES[s]))
                record[name + suffix] = None if found is None else found.value
                if found is not None:
                    record[name + suffix + "_ci"] = found.ci
                done(name + suffix)
    if "swd" in wanted:
        swd = attempt("swd", lambda: metrics.sliced_wasserstein(clip, reference, cache=reference_cache)) or {}
        for scale, value in swd.items():
            record[f"swd_{scale:g}"] = value
        done("swd")
    if "nnfdiv" in wanted:
        record["nnfdiv_scale"] = metrics.nnf_scale(clip.shape[:3], reference.shape[:3], metrics.DEFAULT_PATCH,
                                                   metrics.NNF_MAX_PAIRS)
        record["nnfdiv"] = attempt("nnfdiv", lambda: metrics.nnf_diversity(clip, reference))
        done("nnfdiv")
    if "features" in wanted and reference_features is not None:
        stats = attempt("features", lambda: metrics.feature_statistics(clip))
        done("features")
        if stats is not None:
            record["sifid"] = metrics.feature_distance(stats, reference_features)
            if stats.motion_mean is not None and reference_features.motion_mean is not None:
                record["sifid_motion"] = metrics.feature_distance(stats, reference_features, motion=True)
            else:  # stills: not an error even when features were asked for by name
                skipped.setdefault("features of motion", "the motion feature distance needs 2 frames or more")
    if "seam" in wanted:
        if clip.shape[0] < 2 or reference.shape[0] < 2:
            attempt("seam", _seam_needs_frames)
        else:
            record["seam_ratio"] = seam_ratio(clip, reference)


def _seam_needs_frames() -> None:
    raise PatchvidError("the seam ratio needs a loop and an input of 2 frames or more")


def describe(frames: np.ndarray) -> str:
    """``13 frames of 256x144`` or ``an image of 250x188``."""
    t, h, w = frames.shape[:3]
    return f"{t} frames of {w}x{h}" if t > 1 else f"an image of {w}x{h}"


def table(input_name: str, reference: np.ndarray, samples: Sequence[np.ndarray], scores: Scores) -> str:
    """The score table as a person reads it: a column per sample (and, for several, their mean and
    standard deviation), a row per measure; a measure estimated from probes shows ``value±ci``, the
    half-width of its 95 % confidence interval."""
    records = scores.samples
    lines = [f"input: {input_name} ({describe(reference)})"]
    for i, r in enumerate(records):
        name = r.get("path") or f"seed {r['seed']}"
        lines.append(f"sample {i + 1}: {name} ({describe(samples[i])})")
    heads = [f"#{i + 1}" for i in range(len(records))] + (["mean", "std"] if len(records) > 1 else [])
    rows = []
    for key, label, unit, fmt in ROWS:
        values = [r.get(key) for r in records]
        if all(v is None for v in values):
            continue
        cells = [_cell(v, fmt, r.get(key + "_ci")) for v, r in zip(values, records)]
        if len(records) > 1:
            cells += [_cell(_mean(values), fmt), _cell(_std(values), fmt)]
        rows.append((label, unit, cells))
    width = max(9, *(len(h) + 2 for h in heads), *(len(c) + 2 for *_, cells in rows for c in cells))
    lines.append("")
    lines.append(f"{'measure':<31}{'unit':<15}" + "".join(f"{h:>{width}}" for h in heads))
    for label, unit, cells in rows:
        lines.append(f"{label:<31}{unit:<15}" + "".join(f"{c:>{width}}" for c in cells))
    if scores.diversity is not None:
        lines.append(f"{'diversity (across samples)':<31}{'ratio':<15}{scores.diversity:>{width * len(heads)}.3f}")
    for name, reason in scores.skipped.items():
        lines.append(f"left out: {name}: {reason}")
    return "\n".join(lines)


def _cell(value, fmt: str, ci: float | None = None) -> str:
    if value is None:
        return "n/a"
    text = "inf" if math.isinf(value) else fmt.format(value)
    return text if ci is None else f"{text}±{'inf' if math.isinf(ci) else fmt.format(ci)}"


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def _std(values) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.std(present, ddof=1)) if len(present) > 1 else None
