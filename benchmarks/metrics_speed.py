"""Time of the nearest-patch measures (coherence and completeness) at the paper's size, with the
exact search's distance blocks as they are and as they were (one-row bands as wide as ``max_bytes``).

    python benchmarks/metrics_speed.py --runs 3

Footage: ballet (``../shared/data``), 13 frames at 144x256; the "sample" is the clip played
backwards, so that nearest patches are not trivially the same place. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import patchvid
from patchvid import metrics, search
from patchvid.resize import resize_frames

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def timed(clip, sample, count: int) -> tuple[float, float]:
    started = time.perf_counter()
    value = metrics.coherence(sample, clip, count=count)
    return time.perf_counter() - started, value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=2048)
    args = parser.parse_args()
    path = DATA / "videos" / "ballet_640x360.mp4"
    if not path.exists():
        print(f"needs {path}", file=sys.stderr)
        return 1
    clip = resize_frames(patchvid.read_video(path, end=13).frames, 144, 256)
    sample = clip[::-1].copy()
    # the old blocks: one row band per block, as wide as max_bytes allows
    layouts = {"square blocks <= 4 MB (now)": (search.CACHE_BLOCK_BYTES, search.BLOCK_ROWS),
               "one-row bands <= 64 MB (before)": (search.ExactSearch.max_bytes, 1)}
    times: dict[str, list[float]] = {name: [] for name in layouts}
    values: dict[str, float] = {}
    for _ in range(args.runs):  # alternating, so that a change of machine load hits both
        for name, (cache, rows) in layouts.items():
            search.CACHE_BLOCK_BYTES, search.BLOCK_ROWS = cache, rows
            seconds, values[name] = timed(clip, sample, args.count)
            times[name].append(seconds)
    print(f"coherence, {args.count} sampled patches of 13x144x256 against all 379 500 input patches (3x7x7)\n")
    print("| distance blocks | median s | runs s | coherence |")
    print("| --- | --- | --- | --- |")
    for name in layouts:
        runs = ", ".join(f"{t:.2f}" for t in times[name])
        print(f"| {name} | {statistics.median(times[name]):.2f} | {runs} | {values[name]:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
