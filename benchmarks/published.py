"""patchvid against the published method's own samples, clip by clip (issue 19).

``../shared/data/vgpnn_samples`` holds, for 8 inputs, the published VGPNN's 5 samples at 640x360
(3 at the input's length, 5 at about half; see its README). Each input and each published sample is
read and shrunk to the same size (longer side ``--size``, all frames); patchvid makes K samples of
each input (seeds 0..K-1) with the published samples' frame count (with ``--mp4`` written as H.264
and read back, which is fair only at the published size: see ``--help``), and both sets are scored
against the shrunk input with :mod:`patchvid.evaluation.metrics`:

- diversity (SinGAN's, over the K samples; same K for both),
- coherence and completeness at full and half resolution (grey levels, RMS per value; lower is
  better), ``--count`` patches each, the same probes for both,
- patch SWD at full resolution (grey levels),
- temporal ratio: median consecutive-frame mean absolute difference of the samples over the input's
  (1: the input's motion; below: slower or frozen, above: flicker),
- smooth diversity: diversity of the samples averaged over windows of 5 frames, which flicker (a
  pixel that changes at random from frame to frame) does not raise, and a new layout does.

Prints a table per clip and the means, writes JSON, and plots coherence (half resolution) against
diversity with the published samples and each setting marked.

    python benchmarks/published.py --size 256 --settings default "noise 5" paper clean
    python benchmarks/published.py --size 128 --clips ballet_100_2 birds32_80 --settings default
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import common
import numpy as np

import patchvid
from patchvid.evaluation import metrics

FOLDER = "vgpnn_samples"
CLIPS = ["air_baloons_hpvaegan_12345678912", "base_nRxSUkZYeOE", "boat_race_long_tmPqO_TGa-U", "ballet_100_2",
         "birds32_80", "dutch2", "dutch3", "pool_73"]
PUBLISHED = "published"
# a label and the GenerateSettings fields it changes from patchvid's defaults of the day; "paper" and
# "clean" are the presets (their output length is the published samples' like every other's)
SETTINGS: dict[str, dict] = {
    "default": {},
    "paper": {"preset": "paper"},
    "clean": {"preset": "clean"},
    "noise 4": {"noise": 4.0},
    "noise 5": {"noise": 5.0},
    "noise 6": {"noise": 6.0},
    "noise 7": {"noise": 7.0},
    "patchmatch": {"search": "patchmatch"},
}
KEYS = ["diversity", "diversity_smooth", "coherence", "coherence_half", "completeness", "completeness_half", "swd",
        "temporal", "seconds"]


def load(name: str, size: int) -> tuple[np.ndarray, list[np.ndarray], Fraction]:
    """The input and the published samples of ``name``, shrunk to longer side ``size``, and the fps."""
    path = common.DATA / FOLDER / f"{name}_gt.mp4"
    if not path.is_file():
        raise common.MissingFootage(f"no {path}")
    fps = patchvid.read_video(path, end="1f").fps
    clip = common.load_clip(f"{FOLDER}/{name}_gt.mp4", None, size)
    samples = [common.load_clip(f"{FOLDER}/{name}_out{i}.mp4", None, clip.shape[1:3]) for i in range(5)]
    return clip, samples, fps


def steps(frames: np.ndarray) -> np.ndarray:
    """Mean absolute difference between consecutive frames, in grey levels."""
    f = frames.astype(np.float32)
    return np.abs(f[1:] - f[:-1]).mean(axis=(1, 2, 3))


def window_means(frames: np.ndarray, window: int = 5) -> np.ndarray:
    """``frames`` averaged over consecutive windows of ``window`` frames (the last one shorter)."""
    return np.stack([frames[i : i + window].mean(0) for i in range(0, len(frames), window)]).round().astype(np.uint8)


def mp4_round_trip(frames: np.ndarray, fps: Fraction) -> np.ndarray:
    """``frames`` as patchvid writes them to mp4 and reads them back (lossy, like the published)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "sample.mp4"
        patchvid.write_video(path, frames, fps)
        return patchvid.read_video(path).frames


def generate(clip: np.ndarray, frames: int, overrides: dict, samples: int, fps: Fraction,
             mp4: bool = False) -> tuple[list, float]:
    """``samples`` patchvid samples of ``frames`` frames (seeds 0..), mp4 round-tripped if ``mp4``,
    and the median seconds per sample."""
    overrides = dict(overrides)
    base = patchvid.GenerateSettings.preset(overrides.pop("preset", "default"))
    settings = base.replace(scale=(frames / clip.shape[0], 1.0, 1.0), **overrides)
    made, seconds = [], []
    for seed in range(samples):
        with common.Stopwatch() as watch:
            sample = patchvid.generate(clip, seed=seed, settings=settings)
        seconds.append(watch.seconds)
        made.append(mp4_round_trip(sample[:frames], fps) if mp4 else sample[:frames])
    return made, float(np.median(seconds))


def score(samples: list[np.ndarray], clip: np.ndarray, count: int) -> dict:
    """The means over ``samples`` of every measure, and their diversity."""
    def mean(fn) -> float:
        return float(np.mean([fn(s) for s in samples]))

    step = float(np.median(steps(clip)))
    return {
        "diversity": metrics.diversity(samples, clip),
        "diversity_smooth": metrics.diversity([window_means(s) for s in samples], window_means(clip)),
        "coherence": mean(lambda s: metrics.coherence(s, clip, count=count)),
        "coherence_half": mean(lambda s: metrics.coherence(s, clip, scale=0.5, count=count)),
        "completeness": mean(lambda s: metrics.completeness(s, clip, count=count)),
        "completeness_half": mean(lambda s: metrics.completeness(s, clip, scale=0.5, count=count)),
        "swd": mean(lambda s: metrics.sliced_wasserstein(s, clip, scales=(1.0,))[1.0]),
        "temporal": mean(lambda s: float(np.median(steps(s))) / step),
    }


def row(label: str, r: dict) -> str:
    seconds = f"{r['seconds']:.1f}" if r.get("seconds") is not None else "–"
    return (f"| {label} | {r['diversity']:.3f} | {r['diversity_smooth']:.3f} | "
            f"{r['coherence']:.2f} / {r['coherence_half']:.2f} | "
            f"{r['completeness']:.2f} / {r['completeness_half']:.2f} | {r['swd']:.3f} | {r['temporal']:.2f} | "
            f"{seconds} |")


HEADER = ("setting", "diversity", "smooth diversity", "coherence full / half", "completeness full / half", "SWD",
          "temporal ratio", "s/sample")


def summarise(results: dict[str, dict[str, dict]]) -> dict[str, dict]:
    """Mean over clips of each setting that ran on every clip, printed as a table, and each
    setting's ratio to the published samples (lower is better except diversity; temporal: closer to 1)."""
    labels = [label for label in next(iter(results.values())) if all(label in r for r in results.values())]
    means = {label: {k: float(np.mean([r[label][k] for r in results.values() if r[label].get(k) is not None]))
                     if any(r[label].get(k) is not None for r in results.values()) else None for k in KEYS}
             for label in labels}
    print(f"\nmean over {len(results)} clips\n")
    common.print_header(*HEADER)
    for label, m in means.items():
        print(row(label, m))
    print("\nper clip: diversity (published / each setting), and the lowest diversity over the mean\n")
    common.print_header("clip", *labels)
    for clip, r in results.items():
        print(f"| {clip} | " + " | ".join(f"{r[label]['diversity']:.3f}" for label in labels) + " |")
    spread = {label: min(r[label]["diversity"] for r in results.values()) / means[label]["diversity"]
              for label in labels}
    print("| lowest / mean | " + " | ".join(f"{spread[label]:.2f}" for label in labels) + " |")
    for label in labels:
        means[label]["lowest_over_mean"] = spread[label]
    return means


def plot(means: dict[str, dict], path: Path, title: str) -> None:
    """Coherence and completeness (half resolution) against diversity, the published samples red."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no matplotlib: plot skipped", file=sys.stderr)
        return
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
    for ax, key in zip(axes, ("coherence_half", "completeness_half")):
        for label, m in means.items():
            published = label == PUBLISHED
            ax.scatter(m["diversity"], m[key], marker="*" if published else "o", s=160 if published else 40,
                       c="red" if published else ("tab:green" if label == "default" else "tab:blue"))
            ax.annotate(label, (m["diversity"], m[key]), textcoords="offset points", xytext=(5, 4), fontsize=8)
        ax.set_xlabel("diversity (higher: more varied samples)")
        ax.set_ylabel(f"{key.replace('_', ', ')} resolution, grey levels (lower: better)")
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}", file=sys.stderr)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=256, help="longer side of every clip (default 256: 144x256)")
    parser.add_argument("--samples", type=int, default=5, help="K, as published (5)")
    parser.add_argument("--count", type=int, default=512, help="patches probed by coherence and completeness")
    parser.add_argument("--clips", nargs="*", default=CLIPS)
    parser.add_argument("--settings", nargs="*", default=["default"], help=f"labels from {', '.join(SETTINGS)}")
    parser.add_argument("--mp4", action="store_true",
                        help="score patchvid's samples as written to mp4 and read back (fair at --size 640 only: "
                        "shrunk, the published samples lose most of their coding noise, while an mp4 of 96x54 "
                        "adds coherence error 7.3 to the input itself)")
    parser.add_argument("--json", type=Path, default=Path("published.json"))
    parser.add_argument("--plot", type=Path, default=Path("published.png"))
    args = parser.parse_args()
    unknown = [label for label in args.settings if label not in SETTINGS]
    if unknown:
        parser.error(f"unknown setting {', '.join(map(repr, unknown))}; choose from: {', '.join(SETTINGS)}")
    if args.samples < 2 or args.samples > 5:
        parser.error("--samples must be 2 to 5 (the published method has 5 per clip)")
    print(common.machine_line())
    results: dict[str, dict[str, dict]] = {}
    for name in args.clips:
        try:
            clip, published, fps = load(name, args.size)
        except common.MissingFootage as e:
            print(f"skipped {name}: {e}", file=sys.stderr)
            continue
        frames = published[0].shape[0]
        print(f"\n{name}: input {common.shape_text(clip.shape[:3])}, samples of {frames} frames, K = "
              f"{args.samples}, {args.count} patches per measure\n")
        common.print_header(*HEADER)
        results[name] = {PUBLISHED: score(published[: args.samples], clip, args.count) | {"seconds": None}}
        print(row(PUBLISHED, results[name][PUBLISHED]), flush=True)
        for label in args.settings:
            made, seconds = generate(clip, frames, SETTINGS[label], args.samples, fps, args.mp4)
            results[name][label] = score(made, clip, args.count) | {"seconds": seconds}
            print(row(label, results[name][label]), flush=True)
    if not results:
        print("no clips found", file=sys.stderr)
        return 1
    means = summarise(results)
    args.json.write_text(json.dumps({"size": args.size, "samples": args.samples, "count": args.count,
                                     "clips": results, "mean": means}, indent=1))
    plot(means, args.plot, f"patchvid against the published VGPNN samples ({len(results)} clips, longer side "
                           f"{args.size}, K = {args.samples})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
