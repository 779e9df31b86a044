"""Deep-feature distance and NNFDIV of the samples that ``quality.py --keep DIR`` saved.

``quality.py`` times generation and takes the patch measures; the two slower measures of
``patchvid evaluate`` are taken here, afterwards, on the same samples without generating again:

- SIFID-style distance (Fréchet distance of early EfficientNet-Lite0 features, every position of every
  frame a sample; lower: closer to the input's look), and the same on frame differences (motion),
- NNFDIV (bits per entry of the sample's compressed nearest-neighbour field into the input; low for
  copies and shifted copies, higher for genuine recombinations).

The input is cut and resized as ``quality.py`` did, its size read from the samples.

    python benchmarks/rescore.py /tmp/samples --clips singan_1 singan_2 --default-was "noise 5"
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from quality import CLIPS, load  # the sibling script: the same clips, cut the same way

from patchvid import metrics

KEYS = ["features", "motion", "nnfdiv"]


def rescore(clip: np.ndarray, samples: list[np.ndarray]) -> dict[str, float]:
    """Mean over ``samples`` of each measure against ``clip`` (all ``(T, H, W, 3) uint8``)."""
    reference = metrics.feature_statistics(clip)
    stats = [metrics.feature_statistics(s) for s in samples]
    video = clip.shape[0] > 1
    return {
        "features": float(np.mean([metrics.feature_distance(s, reference) for s in stats])),
        "motion": float(np.mean([metrics.feature_distance(s, reference, motion=True) for s in stats]))
        if video
        else float("nan"),
        "nnfdiv": float(np.mean([metrics.nnf_diversity(s, clip) for s in samples])),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kept", type=Path, help="the --keep folder of quality.py (KEPT/CLIP/SETTING/seed*.npy)")
    parser.add_argument("--clips", nargs="*", help="clips to score (default: every clip folder)")
    parser.add_argument("--default-was", metavar="LABEL", help="the setting that 'default' folders were made with")
    args = parser.parse_args()
    if not args.kept.is_dir():
        parser.error(f"no such folder: {args.kept}")
    names = args.clips or sorted(p.name for p in args.kept.iterdir() if p.is_dir() and p.name in CLIPS)
    table: dict[str, dict[str, dict]] = {}
    for name in names:
        folders = sorted(p for p in (args.kept / name).glob("*") if p.is_dir() and any(p.glob("seed*.npy")))
        if not folders:
            print(f"skipped {name}: no kept samples", file=sys.stderr)
            continue
        for folder in folders:
            samples = [np.load(f) for f in sorted(folder.glob("seed*.npy"))]
            frames, height, width = samples[0].shape[:3]
            clip = load(name, frames, max(height, width))
            if clip is None:
                print(f"skipped {name}: its input is not found", file=sys.stderr)
                break
            label = folder.name.replace("_", " ")
            label = args.default_was if args.default_was and label == "default" else label
            row = rescore(clip, samples) | {"samples": len(samples)}
            table.setdefault(name, {})[label] = row
            print(f"{name} {'x'.join(map(str, clip.shape[:3]))} {label}: " + ", ".join(
                f"{k} {row[k]:.3g}" for k in KEYS) + f" ({len(samples)} samples)", file=sys.stderr, flush=True)
    if not table:
        print("nothing to score", file=sys.stderr)
        return 1
    print("| clip | setting | samples | SIFID-style | motion | NNFDIV |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, rows in table.items():
        for label, r in rows.items():
            cells = f"{r['features']:.3g} | {r['motion']:.3g} | {r['nnfdiv']:.2f}"
            print(f"| {name} | {label} | {r['samples']} | {cells} |")
    settings = sorted({label for rows in table.values() for label in rows})
    print(f"\nmean over the clips each setting ran on ({len(table)} clips in all)\n")
    print("| setting | clips | SIFID-style | motion | NNFDIV |")
    print("| --- | --- | --- | --- | --- |")
    for label in settings:
        rows = [r[label] for r in table.values() if label in r]
        mean = {k: float(np.mean([r[k] for r in rows])) for k in KEYS}
        print(f"| {label} | {len(rows)} | {mean['features']:.3g} | {mean['motion']:.3g} | {mean['nnfdiv']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
