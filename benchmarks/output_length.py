"""Which default output length: half the input's (the published default) or the same?

Generates K samples of a real clip at each relative length and prints, per setting, the diversity
(per-pixel standard deviation of grayscale across samples, averaged, over the input's standard
deviation: the SinGAN/VGPNN definition) and the coherence (mean squared difference per element,
values in [-1, 1], of each output patch to its nearest input patch: lower means fewer artefacts).

    python benchmarks/output_length.py --samples 4 --size 13x36x64
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import patchvid
from patchvid.generate import to_tensor
from patchvid.resize import resize_frames
from patchvid.search import ExactSearch

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GRAY = np.array([0.299, 0.587, 0.114])


def diversity(samples: list[np.ndarray], source: np.ndarray) -> float:
    gray = np.stack([s @ GRAY for s in samples])
    return float(gray.std(0).mean() / (source @ GRAY).std())


def coherence(sample: np.ndarray, source: np.ndarray) -> float:
    m = ExactSearch()(to_tensor(sample), to_tensor(source), (3, 7, 7))
    return float(m.distance.mean()) / (3 * 3 * 7 * 7)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--size", default="13x36x64")
    parser.add_argument("--clips", nargs="*", default=["frames/airballoons", "videos/ballet_640x360.mp4"])
    parser.add_argument("--lengths", type=float, nargs="*", default=[0.5, 1.0])
    args = parser.parse_args()
    t, h, w = (int(v) for v in args.size.split("x"))
    print("| clip | length | diversity | coherence (lower is better) | seconds per sample |")
    print("| --- | --- | --- | --- | --- |")
    for name in args.clips:
        path = DATA / name
        if not path.exists():
            print(f"skipped {name}: {path} not found", file=sys.stderr)
            continue
        frames = resize_frames(patchvid.read_video(path, end=t).frames, h, w)
        for length in args.lengths:
            started = time.perf_counter()
            samples = [patchvid.generate(frames, seed=s, scale=(length, 1, 1)) for s in range(args.samples)]
            seconds = (time.perf_counter() - started) / args.samples
            coh = np.mean([coherence(s, frames) for s in samples])
            print(f"| {name} | {length:g} | {diversity(samples, frames):.3f} | {coh:.4f} | {seconds:.1f} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
