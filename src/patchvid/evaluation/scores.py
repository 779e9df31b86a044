"""Scoring a set of samples against their input: every measure that applies, and the score table.

:func:`score` takes the measures asked for; a measure that does not apply to the samples (diversity
of one sample, the motion distance of images, deep features without the weights package) is left out
with its reason, unless it was asked for by name (``required``), when its error is raised.

Example:
    >>> scores = score([sample_a, sample_b], clip, {"coherence", "diversity"})  # doctest: +SKIP
    >>> print(table("clip.mp4", clip, [sample_a, sample_b], scores))  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import PatchvidError
from . import metrics
from .settings import DEFAULT_MEASURES

HALF = 0.5

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
    "coherence": "mean over sampled sample patches of the RMS difference to the nearest input patch, "
    "grey levels; completeness the other way round; _half: both at half resolution",
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
        keys = [k for k, *_ in ROWS]
        present = [k for k in keys if any(r.get(k) is not None for r in self.samples)]
        return {k: _mean([r.get(k) for r in self.samples]) for k in present}


def score(
    samples: Sequence[np.ndarray],
    reference: np.ndarray,
    measures: Collection[str] = DEFAULT_MEASURES,
    required: Collection[str] = (),
    records: list[dict] | None = None,
    progress: Callable[[str], None] = lambda message: None,
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
    reference_features = None
    if "features" in wanted:
        progress("deep features of the input (EfficientNet-Lite0)")
        reference_features = attempt("features", lambda: metrics.feature_statistics(reference))
    for i, clip in enumerate(samples):
        progress(f"measuring sample {i + 1}/{len(samples)} ({describe(clip)})")
        _measure(clip, reference, wanted, reference_features, scores.samples[i], attempt, scores.skipped)
    if "diversity" in wanted:
        scores.diversity = attempt("diversity", lambda: metrics.diversity(samples, reference))
    return scores


def _measure(clip, reference, wanted, reference_features, record, attempt, skipped) -> None:
    """Fill ``record`` with one sample's measures."""
    from ..classic.loops import seam_ratio

    for scale, suffix in ((1.0, ""), (HALF, "_half")):
        for name, measure in (("coherence", metrics.coherence), ("completeness", metrics.completeness)):
            if name in wanted:
                record[name + suffix] = attempt(name, lambda m=measure, s=scale: m(clip, reference, scale=s))
    if "swd" in wanted:
        swd = attempt("swd", lambda: metrics.sliced_wasserstein(clip, reference)) or {}
        for scale, value in swd.items():
            record[f"swd_{scale:g}"] = value
    if "nnfdiv" in wanted:
        record["nnfdiv_scale"] = metrics.nnf_scale(clip.shape[:3], reference.shape[:3], metrics.DEFAULT_PATCH,
                                                   metrics.NNF_MAX_PAIRS)
        record["nnfdiv"] = attempt("nnfdiv", lambda: metrics.nnf_diversity(clip, reference))
    if "features" in wanted and reference_features is not None:
        stats = attempt("features", lambda: metrics.feature_statistics(clip))
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
    """The score table as a person reads it: a column per sample (and the mean), a row per measure."""
    records = scores.samples
    lines = [f"input: {input_name} ({describe(reference)})"]
    for i, r in enumerate(records):
        name = r.get("path") or f"seed {r['seed']}"
        lines.append(f"sample {i + 1}: {name} ({describe(samples[i])})")
    heads = [f"#{i + 1}" for i in range(len(records))] + (["mean"] if len(records) > 1 else [])
    width = max(9, *(len(h) for h in heads))
    lines.append("")
    lines.append(f"{'measure':<31}{'unit':<15}" + "".join(f"{h:>{width}}" for h in heads))
    for key, label, unit, fmt in ROWS:
        values = [r.get(key) for r in records]
        if all(v is None for v in values):
            continue
        cells = [_cell(v, fmt) for v in values]
        if len(records) > 1:
            cells.append(_cell(_mean(values), fmt))
        lines.append(f"{label:<31}{unit:<15}" + "".join(f"{c:>{width}}" for c in cells))
    if scores.diversity is not None:
        lines.append(f"{'diversity (across samples)':<31}{'ratio':<15}{scores.diversity:>{width * len(heads)}.3f}")
    for name, reason in scores.skipped.items():
        lines.append(f"left out: {name}: {reason}")
    return "\n".join(lines)


def _cell(value, fmt: str) -> str:
    return "n/a" if value is None else ("inf" if math.isinf(value) else fmt.format(value))


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None
