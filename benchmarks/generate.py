"""Time and peak memory of one generated sample, on real footage, at the paper's sizes.

Each run is a fresh process (so peak memory is that run's own: ``VmHWM``; the input is prepared by
this script and loaded from a ``.npy`` file, so it counts only the ~input-sized array, not the
decoding), generating one sample with default settings from the VGPNN authors' air-balloons clip
(``../shared/data/frames/airballoons``, 20 frames of 256x144), cut and resized to each requested
size. Prints a Markdown table: median time and peak resident memory over the repeats, and the mean
squared distance (per element, values in [-1, 1]) of each output patch to its nearest input patch,
a measure of artefacts.

    python benchmarks/generate.py --size 8x36x64 --size 13x144x256 --search exact --repeats 3
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import tempfile
from pathlib import Path

import common
import numpy as np

DISTANCE_VOXELS = 13 * 72 * 128  # exact nearest-patch distances over every output patch are affordable here
# the authors' code, same kind of CPU
REFERENCE_SECONDS = {shape: common.REFERENCE[shape][0] for shape in ((8, 36, 64), (13, 144, 256))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=common.parse_size, action="append", help="TxHxW (default 8x36x64)")
    parser.add_argument("--search", action="append", help="search(es) to compare (default exact)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if common.skip_without_footage():
        return 0
    sizes = args.size or [(8, 36, 64)]
    searches = args.search or ["exact"]
    print(common.machine_line())
    common.print_header("input T×H×W", "search", "median time (s)", "runs (s)", "peak memory (GB)", "patch distance",
                        "speed-up vs reference code")
    with tempfile.TemporaryDirectory() as tmp:
        frames_file = Path(tmp) / "frames.npy"
        for shape in sizes:
            frames = common.load_clip("airballoons", shape[0], shape[1:])
            np.save(frames_file, frames)
            for search in searches:
                runs, dist = [], []
                for seed in range(args.repeats):
                    runs.append(common.run_generation(frames_file, search, seed))
                    if math.prod(shape) <= DISTANCE_VOXELS:
                        dist.append(common.patch_distance(runs[-1]["sample"], frames)[0])
                seconds = [r["seconds"] for r in runs]
                median = statistics.median(seconds)
                peak = max(r["peak_bytes"] for r in runs) / 1e9
                ref = REFERENCE_SECONDS.get(shape)
                dist_text = f"{statistics.mean(dist):.4f}" if dist else "–"
                ref_text = f"{ref / median:.0f}×" if ref else "–"
                print(
                    f"| {common.shape_text(shape)} | {search} | {median:.2f} | "
                    f"{', '.join(f'{s:.2f}' for s in seconds)} | {peak:.2f} | {dist_text} | {ref_text} |",
                    flush=True,
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
