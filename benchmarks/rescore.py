"""Deep-feature distance and NNFDIV of the samples that ``quality.py --keep DIR`` saved.

``quality.py`` times generation and takes the patch measures; the two slower measures of
``patchvid evaluate`` are taken here, afterwards, on the same samples without generating again:

- SIFID-style distance (Fréchet distance of early EfficientNet-Lite0 features, every position of every
  frame a sample; lower: closer to the input's look), and the same on frame differences (motion),
- NNFDIV (bits per entry of the sample's compressed nearest-neighbour field into the input; low for
  copies and shifted copies, higher for genuine recombinations),
- diversity again (SinGAN's ratio, from the same samples), so that the plot needs nothing else.

For scale, the SIFID-style distances of two real clips to each input: the input mirrored left to right
(the same look, rearranged) and the other clips of the set (another look), cut to the same size.

The input is cut and resized as ``quality.py`` did, its size read from the samples. Prints Markdown
tables, writes JSON and plots the SIFID-style distance against diversity (default marked).

    python benchmarks/rescore.py /tmp/samples --clips singan_1 singan_2 --default-was "noise 5"
    python benchmarks/rescore.py /tmp/samples --json rescore.json --plot docs/sifid_sweep.png
    python benchmarks/rescore.py --merge a.json b.json --plot sifid.png   # tables of earlier runs
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import common
import numpy as np
from quality import current_default, ratio_of_means, relabel, scatter  # the sibling script's summaries

from patchvid.evaluation import metrics

KEYS = ["features", "motion", "nnfdiv", "diversity"]


@functools.cache
def input_clip(name: str, frames: int, longer: int) -> tuple[np.ndarray, metrics.FeatureStats] | None:
    """A clip cut as ``quality.py`` cuts it, and its feature statistics, decoded and computed once per
    size however many settings and other clips are scored against it; ``None`` where it is missing."""
    if not common.have_clip(name):
        return None
    clip = common.load_clip(name, frames, longer)
    return clip, metrics.feature_statistics(clip)


def rescore(clip: np.ndarray, reference: metrics.FeatureStats, samples: list[np.ndarray]) -> dict[str, float]:
    """Mean over ``samples`` of each measure against ``clip`` (all ``(T, H, W, 3) uint8``), whose
    feature statistics are ``reference``."""
    stats = [metrics.feature_statistics(s) for s in samples]
    video = clip.shape[0] > 1
    return {
        "features": float(np.mean([metrics.feature_distance(s, reference) for s in stats])),
        "motion": float(np.mean([metrics.feature_distance(s, reference, motion=True) for s in stats]))
        if video
        else float("nan"),
        "nnfdiv": float(np.mean([metrics.nnf_diversity(s, clip) for s in samples])),
        "diversity": metrics.diversity(samples, clip) if len(samples) > 1 else float("nan"),
    }


def scale_rows(name: str, frames: int, longer: int) -> dict[str, float]:
    """SIFID-style distances (frames, motion) to clip ``name`` (cut to ``frames`` and ``longer``) of
    its mirror image and of the other clips of the same kind (videos or images) cut the same way,
    averaged: what "the same look" and "another look" score."""
    clip, own = input_clip(name, frames, longer)
    video = frames > 1

    def distances(stats: metrics.FeatureStats) -> tuple[float, float]:
        motion = metrics.feature_distance(stats, own, motion=True) if video else float("nan")
        return metrics.feature_distance(stats, own), motion

    mirror = distances(metrics.feature_statistics(np.ascontiguousarray(clip[:, :, ::-1])))
    kind = name.startswith("singan_")
    others = [input_clip(o, frames, longer) for o in common.CLIPS if o != name and o.startswith("singan_") == kind]
    other = np.mean([distances(stats) for _, stats in filter(None, others)], axis=0)
    return {"mirror": mirror[0], "mirror_motion": mirror[1], "other": float(other[0]), "other_motion": float(other[1])}


def plot(relative: dict[str, dict], baseline: str, path: Path, chosen: str) -> None:
    """SIFID-style distance of frames and of motion against diversity, each setting as a ratio to
    ``baseline`` on the clips both ran on; ``chosen`` (the default) is the red star."""
    x = f"diversity ÷ {baseline}'s (higher: more varied samples)"
    y = f"SIFID-style distance ÷ {baseline}'s (lower: closer to the input)"
    scatter([(relative, "diversity", "features", "frames (EfficientNet-Lite0)", x, y),
             (relative, "diversity", "motion", "frame differences (motion)", x, y)],
            path, chosen, f"patchvid: deep-feature distance against diversity, against {baseline} on the same clips")


def score_kept(kept: Path, clips: list[str] | None, settings: list[str] | None, default_was: str | None):
    """``(table, scales)``: ``table[clip][setting]`` the measures of each kept folder, ``scales[clip]``
    the distances of :func:`scale_rows`."""
    names = clips or sorted(p.name for p in kept.iterdir() if p.is_dir() and p.name in common.CLIPS)
    table: dict[str, dict[str, dict]] = {}
    for name in names:
        folders = sorted(p for p in (kept / name).glob("*") if p.is_dir() and any(p.glob("seed*.npy"))
                         and (not settings or p.name.replace("_", " ") in settings))
        if not folders:
            print(f"skipped {name}: no kept samples", file=sys.stderr)
            continue
        for folder in folders:
            samples = [np.load(f) for f in sorted(folder.glob("seed*.npy"))]
            frames, height, width = samples[0].shape[:3]
            found = input_clip(name, frames, max(height, width))
            if found is None:
                print(f"skipped {name}: its input is not found", file=sys.stderr)
                break
            clip, stats = found
            label = relabel(folder.name.replace("_", " "), default_was)
            row = rescore(clip, stats, samples) | {"samples": len(samples), "shape": list(clip.shape[:3])}
            table.setdefault(name, {})[label] = row
            print(f"{name} {'x'.join(map(str, clip.shape[:3]))} {label}: " + ", ".join(
                f"{k} {row[k]:.3g}" for k in KEYS) + f" ({len(samples)} samples)", file=sys.stderr, flush=True)
    scales = {}
    for name, rows in table.items():
        shape = next(iter(rows.values()))["shape"]
        scales[name] = scale_rows(name, shape[0], max(shape[1:3]))
    return table, scales


def to_json(row: dict) -> dict:
    """JSON has no NaN (motion of images, diversity of one sample): ``None`` stands for it."""
    return {k: v if not isinstance(v, float) or np.isfinite(v) else None for k, v in row.items()}


def from_json(row: dict) -> dict:
    return {k: float("nan") if v is None else v for k, v in row.items()}


def merge(paths: list[Path], default_was: str | None):
    """``(table, scales)`` of earlier ``--json`` files; a clip and setting in several keeps the last;
    ``default_was`` relabels rows labelled "default".

    Raises:
        ValueError: a file is not such a JSON file (naming it).
    """
    table: dict[str, dict[str, dict]] = {}
    scales: dict[str, dict] = {}
    for path in paths:
        try:
            saved = json.loads(path.read_text())
            clips, scale = saved["clips"], saved["scale"]
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError):
            raise ValueError(f"{path} is not a --json file of this script") from None
        for name, rows in clips.items():
            for label, r in rows.items():
                table.setdefault(name, {})[relabel(label, default_was)] = from_json(r)
        scales |= {name: from_json(r) for name, r in scale.items()}
    return table, scales


def report(table: dict, scales: dict, baseline: str) -> tuple[dict[str, dict], dict[str, dict]]:
    """Print the per-clip table, the means, each setting against ``baseline`` on the same clips, and
    the distances for scale; return the means and the ratios."""
    common.print_header("clip", "setting", "samples", "SIFID-style", "motion", "NNFDIV", "diversity")
    for name, rows in table.items():
        for label, r in rows.items():
            cells = f"{r['features']:.3g} | {r['motion']:.3g} | {r['nnfdiv']:.2f} | {r['diversity']:.3f}"
            print(f"| {name} | {label} | {r['samples']} | {cells} |")
    labels = {label for rows in table.values() for label in rows}
    settings = sorted(labels, key=lambda label: (label != baseline, label))  # the baseline first
    print(f"\nmean over the clips each setting ran on ({len(table)} clips in all)\n")
    common.print_header("setting", "clips", "SIFID-style", "motion", "NNFDIV", "diversity")
    means: dict[str, dict] = {}
    for label in settings:
        rows = [r[label] for r in table.values() if label in r]
        mean = means[label] = {k: float(np.mean([r[k] for r in rows])) for k in KEYS} | {"clips": len(rows)}
        print(f"| {label} | {len(rows)} | {mean['features']:.3g} | {mean['motion']:.3g} | {mean['nnfdiv']:.2f} | "
              f"{mean['diversity']:.3f} |")
    print(f"\neach setting against {baseline} on the same clips (ratio of the means; < 1: lower)\n")
    common.print_header("setting", "clips", "SIFID-style", "motion", "NNFDIV", "diversity")
    relative: dict[str, dict] = {}
    for label in settings:
        ratio = ratio_of_means(table, label, baseline, KEYS)
        if ratio is not None:
            relative[label] = ratio
            print(f"| {label} | {ratio['clips']} | {ratio['features']:.2f} | {ratio['motion']:.2f} | "
                  f"{ratio['nnfdiv']:.2f} | {ratio['diversity']:.2f} |")
    print("\nfor scale: SIFID-style distance (frames / motion) of real clips to each input\n")
    common.print_header("clip", "the input mirrored", "other clips (mean)")
    for name, r in scales.items():
        print(f"| {name} | {r['mirror']:.3g} / {r['mirror_motion']:.3g} | {r['other']:.3g} / {r['other_motion']:.3g} |")
    mean_scale = {k: float(np.mean([r[k] for r in scales.values()])) for k in next(iter(scales.values()))}
    print(f"| mean | {mean_scale['mirror']:.3g} / {mean_scale['mirror_motion']:.3g} | "
          f"{mean_scale['other']:.3g} / {mean_scale['other_motion']:.3g} |")
    return means, relative


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kept", type=Path, nargs="?", help="quality.py's --keep folder (KEPT/CLIP/SETTING/seed*.npy)")
    parser.add_argument("--clips", nargs="*", help="clips to score (default: every clip folder)")
    parser.add_argument("--settings", nargs="*", help="settings to score, as quality.py names them (default: all kept)")
    parser.add_argument("--default-was", metavar="LABEL", help="the setting that 'default' folders were made with")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="JSON", help="only tabulate earlier --json files")
    parser.add_argument("--json", type=Path, help="also write the per-clip scores and means to this file")
    parser.add_argument("--plot", type=Path, help="plot the SIFID-style distance against diversity (PNG)")
    args = parser.parse_args()
    if args.merge:
        missing = [str(p) for p in args.merge if not p.is_file()]
        if missing:
            parser.error(f"no such file: {', '.join(missing)}")
        try:
            table, scales = merge(args.merge, args.default_was)
        except ValueError as e:
            parser.error(str(e))
    elif args.kept is None or not args.kept.is_dir():
        parser.error(f"no such folder: {args.kept}" if args.kept else "give the kept folder or --merge JSON ...")
    else:
        table, scales = score_kept(args.kept, args.clips, args.settings, args.default_was)
    if not table:
        print("nothing to score", file=sys.stderr)
        return 1
    # rows labelled "default" are today's default unless --default-was relabelled them
    chosen = current_default() if args.default_was else "default"
    baseline = args.default_was or "default"
    means, relative = report(table, scales, baseline)
    if args.json:
        clips = {name: {label: to_json(r) for label, r in rows.items()} for name, rows in table.items()}
        args.json.write_text(json.dumps({"clips": clips, "mean": {k: to_json(r) for k, r in means.items()},
                                          "relative": {k: to_json(r) for k, r in relative.items()},
                                          "baseline": baseline, "scale": {k: to_json(r) for k, r in scales.items()}},
                                         indent=1))
    if args.plot:
        plot(relative, baseline, args.plot, chosen)
    return 0


if __name__ == "__main__":
    sys.exit(main())
