"""Time of the nearest-patch measures (coherence and completeness) at the paper's size, with the
exact search's distance blocks as they are and as they were (one-row bands as wide as ``max_bytes``).

    python benchmarks/metrics_speed.py --runs 3

Footage: ballet (``../shared/data``), 13 frames at 144x256; the "sample" is the clip played
backwards, so that nearest patches are not trivially the same place. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import sys

import common

from patchvid.evaluation import metrics
from patchvid.synthesis import search


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=2048)
    args = parser.parse_args()
    try:
        clip = common.load_clip("ballet", 13, (144, 256))
    except common.MissingFootage as e:
        print(f"needs the ballet clip: {e}", file=sys.stderr)
        return 1
    sample = clip[::-1].copy()
    # the old blocks: one row band per block, as wide as max_bytes allows
    layouts = {"square blocks <= 4 MB (now)": (search.CACHE_BLOCK_BYTES, search.BLOCK_ROWS),
               "one-row bands <= 64 MB (before)": (search.ExactSearch.max_bytes, 1)}
    times: dict[str, list[float]] = {name: [] for name in layouts}
    values: dict[str, float] = {}
    for _ in range(args.runs):  # alternating, so that a change of machine load hits both
        for name, (cache, rows) in layouts.items():
            search.CACHE_BLOCK_BYTES, search.BLOCK_ROWS = cache, rows
            with common.Stopwatch() as watch:
                values[name] = metrics.coherence(sample, clip, count=args.count)
            times[name].append(watch.seconds)
    print(f"coherence, {args.count} sampled patches of 13x144x256 against all 379 500 input patches (3x7x7)\n")
    common.print_header("distance blocks", "median s", "runs s", "coherence")
    for name in layouts:
        runs = common.Runs(times[name])
        print(f"| {name} | {runs.wall:.2f} | {', '.join(f'{t:.2f}' for t in runs.walls)} | {values[name]:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
