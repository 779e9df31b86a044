"""The process's peak memory after each window of an endless generation (issue 15), in one process:
``patchvid.tasks.extend.endless`` on Big Buck Bunny from 2 s (13 frames), Linux's VmHWM and VmRSS
read after each block. Prints a Markdown table.

    python benchmarks/endless_memory.py --max-size 256 --windows 8     # about 7 min on 2 cores
"""

from __future__ import annotations

import argparse
import itertools
import sys

import common
from time_extension import BUNNY_START, bundled_clip

import patchvid
from patchvid.errors import MediaError
from patchvid.tasks.extend import endless


def memory_mib() -> dict[str, int]:
    """``VmHWM`` (peak) and ``VmRSS`` of this process, MiB."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmHWM", "VmRSS"):
                found[name] = int(value.split()[0]) // 1024
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-size", type=int, default=256, help="longer side of the input (default 256)")
    parser.add_argument("--windows", type=int, default=8)
    parser.add_argument("--window", type=int, default=26, help="new frames per window (default 26)")
    args = parser.parse_args()
    try:
        source = bundled_clip()
    except MediaError as e:
        print(f"needs Big Buck Bunny: {e}", file=sys.stderr)
        return 1
    end = f"{round(BUNNY_START * 25) + 13}f"
    clip = patchvid.read_video(source, start=BUNNY_START, end=end, max_size=args.max_size).frames
    print(common.machine_line() + "\n")
    print(f"### Peak memory after each window: endless(bunny {'x'.join(map(str, clip.shape[:3]))}, "
          f"window={args.window})\n")
    common.print_header("after window", "new frames so far", "peak MiB (VmHWM)", "resident MiB (VmRSS)")
    made = 0
    for block in itertools.islice(endless(clip, seed=0, window=args.window), args.windows):
        made += len(block.frames)
        mem = memory_mib()
        print(f"| {block.index} | {made} | {mem['VmHWM']} | {mem['VmRSS']} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
