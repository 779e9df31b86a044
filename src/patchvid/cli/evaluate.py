"""``patchvid evaluate``: measure generated samples against their input (or generate and measure)."""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .. import metrics
from ..errors import PatchvidError
from ..features import weights_path
from ..generate import generate, plan
from ..loops import seam_ratio
from ..media import GIF_EXT, VIDEO_EXTS, check_output, output_kind, read_video, write_video
from .common import (
    Progress,
    add_input_arguments,
    check_memory,
    describe_input,
    fail,
    load_input,
    numbered_outputs,
    positive_int,
    record_header,
    write_report,
)
from .generate import add_method_arguments, add_scale_argument, settings_from

MEASURES = ("coherence", "completeness", "swd", "nnfdiv", "features", "diversity", "seam", "cost")
DEFAULT_MEASURES = ("coherence", "completeness", "swd", "nnfdiv", "features", "diversity")
HALF = 0.5

# table rows: (key in a sample's record, label, unit, format)
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


def measure_list(text: str) -> tuple[str, ...]:
    """``coherence,swd`` -> the named measures; ``all`` -> every measure."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if names == ("all",):
        return MEASURES
    unknown = [n for n in names if n not in MEASURES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown measure {', '.join(unknown) or text!r}; use {', '.join(MEASURES)}")
    return names


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure samples against their input (coherence, diversity, SIFID, ...)",
        description=(
            "Score K samples (videos or images) made from INPUT: nearest-patch coherence and "
            "completeness, sliced Wasserstein distance of patch distributions, NNFDIV, SIFID-style "
            "deep-feature distance, and the diversity of the set. With --generate, make the samples "
            "first (with the options of 'patchvid generate') and also report time and peak memory."
        ),
        epilog=(
            "examples:\n"
            "  patchvid evaluate clip.mp4 out_000.mp4 out_001.mp4 --json scores.json\n"
            "  patchvid evaluate --generate clip.mp4 --samples 4 --max-size 128 --end 13f --noise 3\n"
            "  patchvid evaluate loop_in.mp4 loop.mp4 --loop\n\n"
            "measures (--measures): coherence, completeness (full and half resolution), swd, nnfdiv,\n"
            "features (SIFID; needs pip install 'patchvid[eval]'), diversity (2+ samples of one size),\n"
            "seam (with --loop), cost (with --generate). Measures that do not apply to the given\n"
            "samples are left out with the reason unless asked for by name."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", help="the input: video, GIF, folder of numbered frames, or image")
    p.add_argument("sample", nargs="*", help="generated samples (videos, GIFs, folders or images)")
    add_input_arguments(p)
    e = p.add_argument_group("evaluation")
    e.add_argument("--measures", type=measure_list, metavar="LIST",
                   help=f"comma-separated measures to take (default: {','.join(DEFAULT_MEASURES)}, what applies)")
    e.add_argument("--loop", action="store_true", help="the samples are loops: also report the seam ratio")
    e.add_argument("--json", metavar="FILE", help="also write every score to FILE as JSON")
    e.add_argument("-y", "--overwrite", action="store_true", help="replace an existing --json or --save file")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    g = p.add_argument_group("generation (with --generate)")
    g.add_argument("--generate", action="store_true", help="make the samples from INPUT here, timing each")
    g.add_argument("--samples", type=positive_int, metavar="K", help="how many samples to make (default 2)")
    g.add_argument("--seed", type=int, default=0, help="seed of the first sample; sample i uses SEED + i (default 0)")
    g.add_argument("--save", metavar="OUTPUT", help="also write the samples (OUTPUT gets _000, _001, ... or a pattern)")
    add_scale_argument(g)
    add_method_arguments(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    progress = Progress(args.quiet)
    explicit = set(args.measures or ())
    wanted = set(args.measures or DEFAULT_MEASURES)
    if args.measures is None:
        wanted |= {"seam"} if args.loop else set()
        wanted |= {"cost"} if args.generate else set()
    settings = settings_from(args) if args.generate else None
    if args.generate:
        if args.sample:
            fail("give SAMPLE files or --generate, not both")
        count = args.samples or 2
    else:
        if not args.sample:
            fail("give at least one SAMPLE to measure (or --generate --samples K)")
        for flag, given in (("--samples", args.samples), ("--save", args.save)):
            if given is not None:
                fail(f"{flag} needs --generate")
        if "cost" in explicit:
            fail("the cost measure (time, memory) needs --generate")
        count = len(args.sample)
    if "diversity" in explicit and count < 2:
        fail(f"diversity needs at least 2 samples, got {count}")
    if "features" in explicit:
        weights_path()  # fails now, with the install command, rather than after the other measures
    saves = numbered_outputs(args.save, count) if args.save else []
    inputs = [args.input, *args.sample]
    for path in saves:
        output_kind(path)  # an unknown extension fails now, not after the generation
        check_output(path, inputs, args.overwrite)
    if args.json:
        if Path(args.json).is_dir():
            fail(f"--json {args.json} is a folder")
        check_output(args.json, inputs, args.overwrite)

    video = load_input(args.input, args.start, args.end, args.max_size, progress)
    reference = video.frames
    records: list[dict] = [{} for _ in range(count)]
    if args.generate:
        samples = _generate(args, settings, video, count, "cost" in wanted, records, saves, progress)
    else:
        samples = []
        for i, path in enumerate(args.sample):
            clip = read_video(path)
            for note in clip.notes:
                progress(f"note: {path}: {note}")
            if Path(path).suffix.lower() in VIDEO_EXTS | {GIF_EXT}:
                # measured: H.264 alone costs the 64x36 input 9 grey levels of coherence
                progress(f"note: {path} is stored lossily: the codec's error adds to the patch distances "
                         "(measure PNG frames, or use --generate, for exact numbers)")
            if clip.frames.shape[1:3] != reference.shape[1:3]:
                progress(f"note: sample {i + 1} is {_size(clip.frames)}, the input {_size(reference)}: patches are "
                         "compared at different scales (give --max-size to match a shrunk input)")
            samples.append(clip.frames)
            records[i]["path"] = str(path)
    for i, clip in enumerate(samples):
        records[i]["frames_height_width"] = list(clip.shape[:3])

    skipped: dict[str, str] = {}
    if "diversity" in wanted:  # checked before the slow measures; the same check as metrics.diversity's
        try:
            metrics.check_same_size(samples, "diversity")
        except PatchvidError as e:
            if "diversity" in explicit:
                raise
            skipped["diversity"] = str(e)
            wanted.discard("diversity")

    def attempt(name: str, compute: Callable[[], object]) -> object | None:
        """Run one measure; one that does not apply is skipped with its reason unless asked for by name."""
        try:
            return compute()
        except PatchvidError as e:
            if name in explicit:
                raise
            skipped.setdefault(name, str(e))
            return None

    ref_stats = None
    if "features" in wanted:
        progress("deep features of the input (EfficientNet-Lite0)")
        ref_stats = attempt("features", lambda: metrics.feature_statistics(reference))
    for i, clip in enumerate(samples):
        progress(f"measuring sample {i + 1}/{count} ({_size(clip)})")
        _measure(clip, reference, wanted, ref_stats, records[i], attempt, skipped)

    diversity = None
    if "diversity" in wanted:
        diversity = attempt("diversity", lambda: metrics.diversity(samples, reference))
    _print_table(args, video, samples, records, diversity, skipped)
    if args.json:
        write_report(args.json, _record(args, video, settings, records, diversity, skipped, wanted))
        progress(f"wrote {args.json}")
    return 0


def _generate(args, settings, video, count, timed, records, saves, progress) -> list[np.ndarray]:
    p = plan(video.shape, settings)
    if saves and output_kind(saves[0]) == "image" and p.output_shape[0] > 1:
        fail(f"{saves[0]} is an image file but the samples have {p.output_shape[0]} frames: use .mp4, .gif or a folder")
    check_memory(p.estimated_bytes, f"generating {p.output_shape[0]}x{p.output_shape[1]}x{p.output_shape[2]}",
                 "use a smaller --max-size or a shorter time range")
    progress(f"generating {count} samples of {p.output_shape[0]} frames of {p.output_shape[2]}x{p.output_shape[1]}, "
             f"patch {p.patch}, {len(p.levels)} levels, {p.device}")
    samples = []
    for i in range(count):
        seed = args.seed + i
        with metrics.ResourceMeter(cuda=p.device.type == "cuda") as use:
            frames = generate(video.frames, seed=seed, settings=settings)
        frames = frames if frames.ndim == 4 else frames[None]
        samples.append(frames)
        records[i]["seed"] = seed
        if timed:
            records[i]["seconds"] = use.seconds
            if use.peak_rss_bytes is not None:
                records[i]["peak_rss_mib"] = use.peak_rss_bytes / 2**20
                records[i]["added_rss_mib"] = (use.peak_rss_bytes - (use.start_rss_bytes or 0)) / 2**20
            if use.cuda_peak_bytes is not None:
                records[i]["cuda_peak_mib"] = use.cuda_peak_bytes / 2**20
        progress(f"sample {i + 1}/{count} (seed {seed}): {use.seconds:.2f}s")
        if saves:
            write_video(saves[i], frames[0] if video.is_image and frames.shape[0] == 1 else frames, video.fps)
            records[i]["path"] = str(saves[i])
            progress(f"wrote {saves[i]}")
    return samples


def _measure(clip, reference, wanted, ref_stats, record, attempt, skipped) -> None:
    """Fill ``record`` with one sample's measures."""
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
    if "features" in wanted and ref_stats is not None:
        stats = attempt("features", lambda: metrics.feature_statistics(clip))
        if stats is not None:
            record["sifid"] = metrics.feature_distance(stats, ref_stats)
            if stats.motion_mean is not None and ref_stats.motion_mean is not None:
                record["sifid_motion"] = metrics.feature_distance(stats, ref_stats, motion=True)
            else:  # stills: not an error even when features were asked for by name
                skipped.setdefault("features of motion", "the motion feature distance needs 2 frames or more")
    if "seam" in wanted:
        if clip.shape[0] < 2 or reference.shape[0] < 2:
            attempt("seam", lambda: fail("the seam ratio needs a loop and an input of 2 frames or more"))
        else:
            record["seam_ratio"] = seam_ratio(clip, reference)


def _size(frames: np.ndarray) -> str:
    t, h, w = frames.shape[:3]
    return f"{t} frames of {w}x{h}" if t > 1 else f"an image of {w}x{h}"


def _print_table(args, video, samples, records, diversity, skipped) -> None:
    lines = [f"input: {args.input} ({_size(video.frames)})"]
    for i, r in enumerate(records):
        name = r.get("path") or f"seed {r['seed']}"
        lines.append(f"sample {i + 1}: {name} ({_size(samples[i])})")
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
    if diversity is not None:
        lines.append(f"{'diversity (across samples)':<31}{'ratio':<15}{diversity:>{width * len(heads)}.3f}")
    for name, reason in skipped.items():
        lines.append(f"left out: {name}: {reason}")
    print("\n".join(lines))


def _cell(value, fmt: str) -> str:
    return "n/a" if value is None else ("inf" if math.isinf(value) else fmt.format(value))


def _mean(values) -> float | None:
    present = [v for v in values if v is not None]
    return float(np.mean(present)) if present else None


def _finite(value):
    """JSON has no infinity or NaN: those become ``None``."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _record(args, video, settings, records, diversity, skipped, wanted) -> dict:
    keys = [k for k, *_ in ROWS]
    return _finite(record_header("evaluate") | {
        "input": describe_input(args, video),
        "measures": sorted(wanted),
        "samples": records,
        "mean": {k: _mean([r.get(k) for r in records]) for k in keys if any(r.get(k) is not None for r in records)},
        "diversity": diversity,
        "skipped": skipped,
        "definitions": {
            "patch": list(metrics.DEFAULT_PATCH),
            "coherence": "mean over sampled sample patches of the RMS difference to the nearest input patch, "
            "grey levels; completeness the other way round; _half: both at half resolution",
            "swd": "sliced Wasserstein-1 distance of patch projections, grey levels, per spatial scale",
            "nnfdiv": "zlib-compressed bits per entry of the sample's nearest-neighbour displacement field into "
            "the input, at nnfdiv_scale",
            "sifid": "Frechet distance of EfficientNet-Lite0's second-stage features (stride 4, 24 channels), "
            "every position of every frame a sample; sifid_motion: of feature differences between consecutive frames",
            "diversity": "mean per-pixel std of grayscale samples across samples / std of the grayscale input",
            "seam_ratio": "RMS difference of the last and first frames / median step of the input",
        },
        "generation": dataclasses.asdict(settings) if settings else None,
    })
