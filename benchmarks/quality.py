"""Quality, diversity and time of generation on real footage, for the defaults and a sweep.

For each clip of ``../shared/data`` (cut to T frames and resized so its longer side is the given
size) and each setting, K samples are generated (seeds 0..K-1) and scored with ``patchvid.metrics``:

- coherence (grey levels, lower is better: artefacts the input does not contain),
- completeness (grey levels, lower is better: parts of the input missing from the sample),
- patch SWD at full resolution (grey levels, lower is better),
- diversity (SinGAN's ratio, higher is more diverse),
- seconds per sample.

Prints a Markdown table per clip and the mean over clips, writes JSON, and (with matplotlib) plots
coherence against diversity with the default marked.

    python benchmarks/quality.py --size 13x144x256 --samples 10                # the full sweep
    python benchmarks/quality.py --size 13x72x128 --samples 4 --clips airballoons ballet
    python benchmarks/quality.py --summarise run.log   # mean table and plot of the clips a run finished
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import patchvid
from patchvid import metrics
from patchvid.resize import fit_size, resize_frames

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CLIPS = {
    "airballoons": "frames/airballoons",
    "ballet": "videos/ballet_640x360.mp4",
    "birds": "videos/birds_640x360.mp4",
    "pool": "videos/pool_640x360.mp4",
    "lava": "videos/lava_456x256.mp4",
    "waterfall": "videos/waterfall_456x256.mp4",
    "sheep": "videos/sheep_256x456.mp4",
}
# each entry: a label and the GenerateSettings fields it changes from the defaults
SWEEP = {
    "default": {},
    "noise 2": {"noise": 2.0},
    "noise 3": {"noise": 3.0},
    "noise 7": {"noise": 7.0},
    "iterations 3": {"iterations": 3},
    "iterations 8": {"iterations": 8},
    "vote mean": {"reduce": "mean"},
    "factor 0.75": {"factor": (0.75, 0.75)},
    "alpha 1": {"alpha": 1.0},
    "half length": {"scale": (0.5, 1.0, 1.0)},
}


def load(name: str, frames: int, longer: int) -> np.ndarray | None:
    path = DATA / CLIPS[name]
    if not path.exists():
        return None
    clip = patchvid.read_video(path, end=frames).frames
    h, w = fit_size(clip.shape[1], clip.shape[2], longer)
    return resize_frames(clip, h, w)


def score(clip: np.ndarray, overrides: dict, samples: int) -> dict:
    made, seconds = [], []
    for seed in range(samples):
        started = time.perf_counter()
        made.append(patchvid.generate(clip, seed=seed, **overrides))
        seconds.append(time.perf_counter() - started)
    return {
        "coherence": float(np.mean([metrics.coherence(s, clip) for s in made])),
        "completeness": float(np.mean([metrics.completeness(s, clip) for s in made])),
        "swd": float(np.mean([metrics.sliced_wasserstein(s, clip, scales=(1.0,))[1.0] for s in made])),
        "diversity": metrics.diversity(made, clip) if samples > 1 else float("nan"),
        "seconds": float(np.median(seconds)),
    }


def plot(results: dict, path: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no matplotlib: plot skipped", file=sys.stderr)
        return
    mean = results["mean"]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for label, r in mean.items():
        marker, colour = ("*", "red") if label == "default" else ("o", "tab:blue")
        ax.scatter(r["diversity"], r["coherence"], marker=marker, s=140 if label == "default" else 40, c=colour)
        ax.annotate(label, (r["diversity"], r["coherence"]), textcoords="offset points", xytext=(5, 4), fontsize=8)
    ax.set_xlabel("diversity (higher: more varied samples)")
    ax.set_ylabel("coherence, grey levels (lower: fewer artefacts)")
    ax.set_title(f"patchvid quality vs diversity, mean over {len(results['clips'])} clips")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}", file=sys.stderr)


def summarise(log: str, plot_path: Path) -> int:
    """The mean table and plot over the clips whose table a (possibly interrupted) run printed whole."""
    keys = ["coherence", "completeness", "swd", "diversity", "seconds"]
    clips: dict[str, dict] = {}
    name = None
    for line in log.splitlines():
        if line and not line.startswith("|") and "samples per setting" in line:
            name = line.split(" ")[0]
            clips[name] = {}
        elif name and line.startswith("| ") and not line.startswith("| setting") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            clips[name][cells[0]] = dict(zip(keys, map(float, cells[1:])))
    most = max(clips.values(), key=len, default={})
    settings = [label for label in SWEEP if label in most]  # an interrupted clip's table is left out
    finished = {c: rows for c, rows in clips.items() if rows and all(label in rows for label in settings)}
    results: dict = {"clips": finished, "mean": {}}
    print(f"mean over {len(finished)} clips ({', '.join(finished)})\n")
    print("| setting | coherence | completeness | SWD | diversity | s/sample |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label in settings:
        mean = {k: float(np.mean([finished[c][label][k] for c in finished])) for k in keys}
        results["mean"][label] = mean
        print(f"| {label} | {mean['coherence']:.2f} | {mean['completeness']:.2f} | {mean['swd']:.2f} | "
              f"{mean['diversity']:.3f} | {mean['seconds']:.1f} |")
    plot(results, plot_path)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="13x144x256", help="frames x (ignored) x longer side, e.g. 13x144x256")
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--clips", nargs="*", default=list(CLIPS))
    parser.add_argument("--settings", nargs="*", default=list(SWEEP), help="labels from the sweep")
    parser.add_argument("--json", type=Path, default=Path("quality.json"))
    parser.add_argument("--plot", type=Path, default=Path("quality.png"))
    parser.add_argument("--summarise", type=Path, metavar="LOG", help="only summarise the per-clip tables of a log")
    args = parser.parse_args()
    if args.summarise:
        return summarise(args.summarise.read_text(), args.plot)
    frames, _, longer = (int(v) for v in args.size.split("x"))
    results: dict = {"size": args.size, "samples": args.samples, "clips": {}, "mean": {}}
    for name in args.clips:
        clip = load(name, frames, longer)
        if clip is None:
            print(f"skipped {name}: not found under {DATA}", file=sys.stderr)
            continue
        print(f"\n{name} ({clip.shape[0]}x{clip.shape[1]}x{clip.shape[2]}), {args.samples} samples per setting\n")
        print("| setting | coherence | completeness | SWD | diversity | s/sample |")
        print("| --- | --- | --- | --- | --- | --- |")
        results["clips"][name] = {}
        for label in args.settings:
            r = score(clip, SWEEP[label], args.samples)
            results["clips"][name][label] = r
            print(f"| {label} | {r['coherence']:.2f} | {r['completeness']:.2f} | {r['swd']:.2f} | "
                  f"{r['diversity']:.3f} | {r['seconds']:.1f} |", flush=True)
    if not results["clips"]:
        print("no clips found", file=sys.stderr)
        return 0
    print(f"\nmean over {len(results['clips'])} clips\n")
    print("| setting | coherence | completeness | SWD | diversity | s/sample |")
    print("| --- | --- | --- | --- | --- | --- |")
    for label in args.settings:
        rows = [results["clips"][c][label] for c in results["clips"]]
        mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        results["mean"][label] = mean
        print(f"| {label} | {mean['coherence']:.2f} | {mean['completeness']:.2f} | {mean['swd']:.2f} | "
              f"{mean['diversity']:.3f} | {mean['seconds']:.1f} |")
    args.json.write_text(json.dumps(results, indent=1))
    plot(results, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
