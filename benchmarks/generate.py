"""Time and peak memory of one generated sample, on real footage, at the paper's sizes.

Each run is a fresh process (so peak memory is that run's own), generating one sample with default
settings from the VGPNN authors' air-balloons clip (``../shared/data/frames/airballoons``, 20 frames
of 256x144), cut and resized to each requested size. Prints a Markdown table: median time and peak
resident memory over the repeats, and the mean squared distance (per element, values in [-1, 1]) of
each output patch to its nearest input patch, a measure of artefacts.

    python benchmarks/generate.py --size 8x36x64 --size 13x144x256 --search exact --repeats 3
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
from datetime import date
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "frames" / "airballoons"
REFERENCE_SECONDS = {(8, 36, 64): 314.0, (13, 144, 256): 3.5 * 3600}  # the authors' code, same kind of CPU

ONE_RUN = r"""
import json, resource, sys, time
import patchvid
from patchvid.resize import resize_frames
from patchvid.generate import to_tensor
from patchvid.search import ExactSearch
t, h, w, search, seed = sys.argv[1:6]
t, h, w, seed = int(t), int(h), int(w), int(seed)
frames = resize_frames(patchvid.read_video(sys.argv[6], end=t).frames, h, w)
started = time.perf_counter()
sample = patchvid.generate(frames, seed=seed, search=search)
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
distance = None
if t * h * w <= 13 * 72 * 128:  # exact nearest-patch distances are affordable here
    m = ExactSearch()(to_tensor(sample), to_tensor(frames), (3, 7, 7))
    distance = float(m.distance.mean()) / (3 * 3 * 7 * 7)
print(json.dumps({"seconds": seconds, "peak_bytes": peak, "distance": distance}))
"""


def run_once(shape: tuple[int, int, int], search: str, seed: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", ONE_RUN, *map(str, shape), search, str(seed), str(DATA)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def parse_size(text: str) -> tuple[int, int, int]:
    t, h, w = (int(v) for v in text.lower().split("x"))
    return t, h, w


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=parse_size, action="append", help="TxHxW (default 8x36x64)")
    parser.add_argument("--search", action="append", help="search(es) to compare (default exact)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: real footage not found at {DATA}", file=sys.stderr)
        return 0
    sizes = args.size or [(8, 36, 64)]
    searches = args.search or ["exact"]
    print(f"machine: {platform.processor() or platform.machine()}, {platform.system()}, date {date.today()}")
    print("| input T×H×W | search | median time (s) | runs (s) | peak memory (GB) | patch distance | "
          "speed-up vs reference code |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for shape in sizes:
        for search in searches:
            runs = [run_once(shape, search, seed) for seed in range(args.repeats)]
            seconds = [r["seconds"] for r in runs]
            median = statistics.median(seconds)
            peak = max(r["peak_bytes"] for r in runs) / 1e9
            dist = [r["distance"] for r in runs if r["distance"] is not None]
            ref = REFERENCE_SECONDS.get(shape)
            dist_text = f"{statistics.mean(dist):.4f}" if dist else "–"
            ref_text = f"{ref / median:.0f}×" if ref else "–"
            print(
                f"| {'×'.join(map(str, shape))} | {search} | {median:.2f} | "
                f"{', '.join(f'{s:.2f}' for s in seconds)} | {peak:.2f} | {dist_text} | {ref_text} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
