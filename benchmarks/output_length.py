"""Which default output length: half the input's (the published default) or the same?

Generates K samples of a real clip at each relative length and prints, per setting, the diversity
(per-pixel standard deviation of greyscale across samples, averaged, over the input's standard
deviation: the SinGAN/VGPNN definition, ``patchvid.evaluation.metrics.diversity``) and the coherence
(mean squared difference per element, values in [-1, 1], of each output patch to its nearest input
patch: lower means fewer artefacts).

    python benchmarks/output_length.py --samples 4 --size 13x36x64
"""

from __future__ import annotations

import argparse
import sys

import common
import numpy as np

import patchvid
from patchvid.evaluation import metrics


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--size", type=common.parse_size, default="13x36x64")
    parser.add_argument("--clips", nargs="*", default=[common.VIDEOS["airballoons"], common.VIDEOS["ballet"]])
    parser.add_argument("--lengths", type=float, nargs="*", default=[0.5, 1.0])
    args = parser.parse_args()
    t, h, w = args.size
    common.print_header("clip", "length", "diversity", "coherence (lower is better)", "seconds per sample")
    for name in args.clips:
        try:
            frames = common.load_clip(name, t, (h, w))
        except common.MissingFootage as e:
            print(f"skipped {name}: {e}", file=sys.stderr)
            continue
        for length in args.lengths:
            with common.Stopwatch() as watch:
                samples = [patchvid.generate(frames, seed=s, scale=(length, 1, 1)) for s in range(args.samples)]
            seconds = watch.seconds / args.samples
            coh = np.mean([common.patch_distance(s, frames)[0] for s in samples])
            div = metrics.diversity(samples, frames) if len(samples) > 1 else float("nan")
            print(f"| {name} | {length:g} | {div:.3f} | {coh:.4f} | {seconds:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
