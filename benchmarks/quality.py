"""Quality, diversity and time of generation on real footage, for the defaults and a sweep.

For each clip of ``../shared/data`` (cut to T frames and resized so its longer side is the given
size) and each setting, K samples are generated (seeds 0..K-1) and scored with
``patchvid.evaluation.metrics``:

- coherence (grey levels, lower is better: artefacts the input does not contain),
- completeness (grey levels, lower is better: parts of the input missing from the sample),
- patch SWD at full resolution (grey levels, lower is better),
- diversity (SinGAN's ratio, higher is more diverse),
- seconds per sample.

Prints a Markdown table per clip and the mean over clips, writes JSON, and (with matplotlib) plots
coherence against diversity with the default marked.

    python benchmarks/quality.py --size 13x144x256 --samples 10                # the full sweep
    python benchmarks/quality.py --size 13x72x128 --samples 4 --clips airballoons ballet
    python benchmarks/quality.py --size 1x188x250 --clips singan_1 singan_2 --settings default "noise 3"
    python benchmarks/quality.py --summarise a.log b.log   # tables and plot of what runs printed
    python benchmarks/quality.py --summarise old.log --default-was "noise 5"   # logs from older defaults
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import common
import numpy as np

import patchvid
from patchvid.evaluation import metrics

VIDEOS = list(common.VIDEOS)  # the default clips; SinGAN's images (common.IMAGES) for the image sweep
# Each entry: a label and the GenerateSettings fields (or engine fields) it changes from BASE, the published method's
# settings, so that a label means the same settings in every log whatever patchvid's defaults are;
# "default" is always patchvid's defaults of the day.
BASE = patchvid.GenerateSettings(noise=5.0, factor=(0.85, 0.85))
SWEEP = {
    "default": None,
    "noise 2": {"noise": 2.0},
    "noise 3": {"noise": 3.0},
    "noise 4": {"noise": 4.0},
    "noise 5": {"noise": 5.0},
    "noise 7": {"noise": 7.0},
    "iterations 3": {"iterations": 3},
    "iterations 8": {"iterations": 8},
    "vote mean": {"vote": "mean"},
    "factor 0.75": {"factor": (0.75, 0.75)},
    "factor 0.75 noise 3": {"factor": (0.75, 0.75), "noise": 3.0},
    "factor 0.75 noise 3.5": {"factor": (0.75, 0.75), "noise": 3.5},
    "factor 0.75 noise 4": {"factor": (0.75, 0.75), "noise": 4.0},
    "coarsest 21": {"coarsest_size": 21},
    "alpha 1": {"alpha": 1.0},
    "half length": {"scale": (0.5, 1.0, 1.0)},
}


def relabel(label: str, default_was: str | None) -> str:
    """``label``, or ``default_was`` for rows labelled "default" in logs written under older defaults."""
    return default_was if default_was and label == "default" else label


def ratio_of_means(clips: dict[str, dict[str, dict]], label: str, baseline: str, keys: list[str]) -> dict | None:
    """``label``'s mean of each key over the clips that ran both settings, over ``baseline``'s on the
    same clips, and how many clips that is (``"clips"``); ``None`` where no clip ran both."""
    both = [rows for rows in clips.values() if label in rows and baseline in rows]
    if not both:
        return None
    return {
        k: float(np.mean([r[label][k] for r in both]) / np.mean([r[baseline][k] for r in both])) for k in keys
    } | {"clips": len(both)}


def settings_of(overrides: dict | None) -> patchvid.GenerateSettings:
    """The settings of a sweep entry: BASE changed by ``overrides``; ``None``: today's defaults."""
    return patchvid.GenerateSettings() if overrides is None else BASE.replace(**overrides)


def score(clip: np.ndarray, overrides: dict | None, samples: int, count: int, keep: Path | None = None) -> dict:
    made, seconds = [], []
    for seed in range(samples):
        with common.Stopwatch() as watch:
            made.append(patchvid.generate(clip, seed=seed, settings=settings_of(overrides)))
        seconds.append(watch.seconds)
        if keep is not None:  # the samples themselves, to score again later without generating
            keep.mkdir(parents=True, exist_ok=True)
            np.save(keep / f"seed{seed}.npy", made[-1])
    return {
        "coherence": float(np.mean([metrics.coherence(s, clip, count=count) for s in made])),
        "completeness": float(np.mean([metrics.completeness(s, clip, count=count) for s in made])),
        "swd": float(np.mean([metrics.sliced_wasserstein(s, clip, scales=(1.0,))[1.0] for s in made])),
        "diversity": metrics.diversity(made, clip) if samples > 1 else float("nan"),
        "seconds": float(np.median(seconds)),
    }


KEYS = ["coherence", "completeness", "swd", "diversity", "seconds"]


def tabulate(clips: dict[str, dict[str, dict]], baseline: str = "default") -> dict:
    """Print and return two summaries of per-clip results ``clips[clip][setting] = {metric: value}``:
    the mean over clips of the settings that ran on every clip, and each setting against the default
    on the clips both ran on (ratios of the means; a setting swept on fewer clips is compared fairly)."""
    settings = [label for label in SWEEP if any(label in rows for rows in clips.values())]
    settings.sort(key=lambda label: label != baseline)
    everywhere = [label for label in settings if all(label in rows for rows in clips.values())]
    absolute: dict[str, dict] = {}
    print(f"mean over {len(clips)} clips ({', '.join(clips)})\n")
    common.print_header("setting", "coherence", "completeness", "SWD", "diversity", "s/sample")
    for label in everywhere:
        mean = {k: float(np.mean([rows[label][k] for rows in clips.values()])) for k in KEYS}
        absolute[label] = mean
        print(f"| {label} | {mean['coherence']:.2f} | {mean['completeness']:.2f} | {mean['swd']:.2f} | "
              f"{mean['diversity']:.3f} | {mean['seconds']:.1f} |")
    relative: dict[str, dict] = {}
    print(f"\neach setting against {baseline} on the same clips (ratio of the means; < 1: lower)\n")
    common.print_header("setting", "clips", "coherence", "completeness", "SWD", "diversity", "s/sample")
    for label in settings:
        ratio = ratio_of_means(clips, label, baseline, KEYS)
        if ratio is None:
            continue
        relative[label] = ratio
        print(f"| {label} | {ratio['clips']} | {ratio['coherence']:.2f} | {ratio['completeness']:.2f} | "
              f"{ratio['swd']:.2f} | {ratio['diversity']:.2f} | {ratio['seconds']:.2f} |")
    print("\nper clip: coherence / diversity\n")
    common.print_header("clip", *settings)
    for clip, rows in clips.items():
        cells = [f"{rows[s]['coherence']:.2f} / {rows[s]['diversity']:.3f}" if s in rows else "–" for s in settings]
        print(f"| {clip} | " + " | ".join(cells) + " |")
    return {"clips": clips, "mean": absolute, "relative": relative, "baseline": baseline}


def current_default() -> str:
    """The sweep label whose settings are patchvid's defaults now ("default", or the label that a log
    recorded before the defaults changed to it)."""
    now = patchvid.GenerateSettings()
    return next((label for label, o in SWEEP.items() if o is not None and settings_of(o) == now), "default")


def scatter(panels: list[tuple], path: Path, chosen: str, title: str) -> None:
    """Side-by-side scatter plots of settings, ``chosen`` (the default) as a red star. Each panel is
    ``(points, x, y, panel title, x label, y label)`` with ``points[label][x or y]`` the coordinates;
    points with a non-finite coordinate are left out."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no matplotlib: plot skipped", file=sys.stderr)
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4.5), squeeze=False)
    for ax, (points, x, y, panel, x_label, y_label) in zip(axes[0], panels):
        for label, r in points.items():
            if not (np.isfinite(r[x]) and np.isfinite(r[y])):
                continue
            marker, colour = ("*", "red") if label == chosen else ("o", "tab:blue")
            ax.scatter(r[x], r[y], marker=marker, s=140 if label == chosen else 40, c=colour)
            ax.annotate(label, (r[x], r[y]), textcoords="offset points", xytext=(5, 4), fontsize=8)
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        ax.set_title(panel, fontsize=10)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}", file=sys.stderr)


def plot(summary: dict, path: Path, chosen: str = "default") -> None:
    """Coherence against diversity: the settings run on every clip (left, absolute) and every setting
    relative to the baseline on the same clips (right); ``chosen`` (the default) is the red star."""
    x, y = "diversity (higher: more varied samples)", "coherence, {} (lower: fewer artefacts)"
    scatter([
        (summary["mean"], "diversity", "coherence", f"mean over all {len(summary['clips'])} clips", x,
         y.format("grey levels")),
        (summary["relative"], "diversity", "coherence", f"against {summary['baseline']} on the same clips",
         x.replace("diversity", "diversity ÷ that"), y.format("÷ that")),
    ], path, chosen, "patchvid: quality against diversity")


def parse_logs(logs: list[str], default_was: str | None = None) -> dict[str, dict[str, dict]]:
    """Per-clip results from the tables that runs printed (interrupted ones too); later runs add
    settings to a clip, and a setting run twice on a clip keeps its last row. ``default_was``: the
    sweep label of the defaults when the logs were written, for rows labelled "default"."""
    clips: dict[str, dict] = {}
    name = None
    for log in logs:
        for line in log.splitlines():
            if line and not line.startswith("|") and "samples per setting" in line:
                name = line.split(" ")[0]
                clips.setdefault(name, {})
            elif line.startswith("mean over"):
                name = None
            elif name and line.startswith("| ") and not line.startswith(("| setting", "| ---")):
                cells = [c.strip() for c in line.strip("|").split("|")]
                clips[name][relabel(cells[0], default_was)] = dict(zip(KEYS, map(float, cells[1:])))
    return {c: rows for c, rows in clips.items() if rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=common.parse_size, default="13x144x256",
                        help="frames x (ignored) x longer side, e.g. 13x144x256")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--count", type=int, default=1024, help="patches sampled by coherence and completeness")
    parser.add_argument("--keep", type=Path, help="save every sample under KEEP/CLIP/SETTING/")
    parser.add_argument("--clips", nargs="*", default=VIDEOS, help="clips or images (default: the videos)")
    parser.add_argument("--settings", nargs="*", default=list(SWEEP), help="labels from the sweep")
    parser.add_argument("--json", type=Path, default=Path("quality.json"))
    parser.add_argument("--plot", type=Path, default=Path("quality.png"))
    parser.add_argument("--summarise", type=Path, nargs="+", metavar="LOG", help="only summarise the tables of logs")
    parser.add_argument("--default-was", metavar="LABEL", help="with --summarise: the label of the logs' default rows")
    args = parser.parse_args()
    missing = [str(log) for log in args.summarise or [] if not log.is_file()]
    if missing:
        parser.error(f"no such log: {', '.join(missing)}")
    unknown = [label for label in args.settings if label not in SWEEP]
    if unknown:
        parser.error(f"unknown setting {', '.join(map(repr, unknown))}; choose from: {', '.join(SWEEP)}")
    if args.summarise:
        clips = parse_logs([log.read_text() for log in args.summarise], args.default_was)
        if not clips:
            parser.error(f"no result tables in {', '.join(map(str, args.summarise))}")
        # rows labelled "default" are today's default unless the logs were written under another
        plot(tabulate(clips, args.default_was or "default"), args.plot,
             current_default() if args.default_was else "default")
        return 0
    frames, _, longer = args.size
    results: dict = {"size": common.shape_text(args.size, "x"), "samples": args.samples, "clips": {}, "mean": {}}
    for name in args.clips:
        try:
            clip = common.load_clip(name, frames, longer)
        except common.MissingFootage as e:
            print(f"skipped {name}: {e}", file=sys.stderr)
            continue
        print(f"\n{name} ({clip.shape[0]}x{clip.shape[1]}x{clip.shape[2]}), {args.samples} samples per setting, "
              f"{args.count} patches per measure\n")
        common.print_header("setting", "coherence", "completeness", "SWD", "diversity", "s/sample")
        results["clips"][name] = {}
        for label in args.settings:
            keep = args.keep / name / label.replace(" ", "_") if args.keep else None
            r = score(clip, SWEEP[label], args.samples, args.count, keep)
            results["clips"][name][label] = r
            print(f"| {label} | {r['coherence']:.2f} | {r['completeness']:.2f} | {r['swd']:.2f} | "
                  f"{r['diversity']:.3f} | {r['seconds']:.1f} |", flush=True)
    if not results["clips"]:
        print("no clips found", file=sys.stderr)
        return 0
    print()
    summary = tabulate(results["clips"])
    results["mean"], results["relative"] = summary["mean"], summary["relative"]
    args.json.write_text(json.dumps(results, indent=1))
    plot(summary, args.plot, "default")
    return 0


if __name__ == "__main__":
    sys.exit(main())
