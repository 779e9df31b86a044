"""Start-up cost of the ``patchvid`` command: wall time and peak memory of ``--version`` and of the
help of each sub-command, as fresh processes (median of ``--runs``).

    python benchmarks/startup.py                       # this checkout
    python benchmarks/startup.py --src /tmp/old/src    # another checkout's package, for a before/after

Each command runs as ``python -m patchvid ...`` with ``PYTHONPATH`` pointing at the package to time.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = [["--version"], ["--help"], ["generate", "--help"], ["inpaint", "--help"], ["loop", "--help"],
            ["evaluate", "--help"]]


def measure(argv: list[str], src: Path, runs: int) -> tuple[float, float]:
    """Median wall seconds and median peak RSS (MiB) of ``runs`` fresh processes."""
    env = dict(os.environ, PYTHONPATH=str(src))
    seconds, peaks = [], []
    for _ in range(runs):
        started = time.perf_counter()
        code = (f"import resource, runpy, sys; sys.argv = ['patchvid', *{argv!r}]\n"
                "try:\n    runpy.run_module('patchvid', run_name='__main__')\nexcept SystemExit:\n    pass\n"
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)")
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        seconds.append(time.perf_counter() - started)
        peaks.append(int(done.stderr.strip().splitlines()[-1]) / 1024)
    return statistics.median(seconds), statistics.median(peaks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=Path(__file__).resolve().parents[1] / "src",
                        help="the folder holding the patchvid package to time (default: this checkout's src)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"| command | seconds (median of {args.runs}) | peak RSS, MiB |")
    print("| --- | --- | --- |")
    for argv in COMMANDS:
        seconds, peak = measure(argv, args.src, args.runs)
        print(f"| `patchvid {' '.join(argv)}` | {seconds:.2f} | {peak:.0f} |")
    print(f"\nload average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs; "
          f"self RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
