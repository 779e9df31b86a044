"""Two checkouts of patchvid timed against each other in one run: generation and analogies on real
footage, each run a fresh process, the checkouts alternating, so that the machine's load falls on
both alike. For a refactoring or an optimisation: the ratio is the figure, not the seconds.

    git worktree add /tmp/old <commit>
    python benchmarks/ab_tasks.py --src /tmp/old/src --src src --size 30x256x456 --rounds 3

Only the public functions both layouts have are called (``patchvid.generate``, and ``analogy`` from
``patchvid`` or, in the older layout, from the module ``patchvid.analogy``). Each process imports the
package and compiles (or loads) its kernels on a tiny input first, then times one call; it also
hashes the output, so that the table says whether the two checkouts made the same frames.
Footage as in ``task_cost.py``: APPEARANCE is air balloons (13 frames at 256x144), STRUCTURE
``lava_456x256.mp4`` cut and resized to the output size.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import common
import numpy as np

ONE_TASK = r"""
import hashlib, importlib, json, sys, time
import numpy as np
import patchvid
task, appearance, structure = sys.argv[1], np.load(sys.argv[2]), np.load(sys.argv[3])
analogy = getattr(patchvid, "analogy", None)  # the function; in the older layout, no such name or a module
if not callable(analogy):
    analogy = importlib.import_module("patchvid.analogy").analogy
scale = tuple(n / m for n, m in zip(structure.shape[:3], appearance.shape[:3]))
patchvid.generate(appearance[:4, :40, :48], seed=0)  # the kernels, compiled or loaded from the cache
analogy(structure[:4, :40, :48], appearance[:4, :40, :48])
levels = []
started = time.perf_counter()
if task == "generate":
    out = patchvid.generate(appearance, seed=0, scale=scale, on_level=levels.append)
else:
    out = analogy(structure, appearance, on_level=levels.append)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "sha": hashlib.sha256(out.tobytes()).hexdigest()[:12],
                  "levels": [[list(r.shape), r.iterations, r.seconds] for r in levels]}))
"""


def run(src: Path, task: str, appearance: Path, structure: Path) -> dict:
    env = dict(os.environ, PYTHONPATH=str(src))
    done = subprocess.run([sys.executable, "-c", ONE_TASK, task, str(appearance), str(structure)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{src}: {task} failed: {done.stderr.strip().splitlines()[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, action="append", required=True,
                        help="a folder holding a patchvid package (give it twice: before, then after)")
    parser.add_argument("--size", type=common.parse_size, default=(13, 144, 256), help="output TxHxW")
    parser.add_argument("--tasks", default="generate,analogy")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if len(args.src) != 2:
        parser.error("give --src twice")
    if common.skip_without_footage():
        return 0
    t, h, w = args.size
    with tempfile.TemporaryDirectory() as tmp:
        appearance, structure = Path(tmp) / "appearance.npy", Path(tmp) / "structure.npy"
        np.save(appearance, common.load_clip("airballoons", 13))
        np.save(structure, common.load_clip("lava", t, (h, w)))
        print(common.machine_line())
        print(f"\noutput {common.shape_text(args.size)}; {args.rounds} rounds, the checkouts alternating\n")
        common.print_header("task", "before: median s (runs)", "after: median s (runs)", "after / before",
                            "same frames?")
        for task in args.tasks.split(","):
            times: list[list[float]] = [[], []]
            shas: list[set[str]] = [set(), set()]
            for _ in range(args.rounds):
                for i, src in enumerate(args.src):
                    r = run(src.resolve(), task, appearance, structure)
                    times[i].append(r["seconds"])
                    shas[i].add(r["sha"])
            before, after = (statistics.median(x) for x in times)
            runs = [", ".join(f"{s:.1f}" for s in x) for x in times]
            print(f"| {task} | {before:.1f} ({runs[0]}) | {after:.1f} ({runs[1]}) | {after / before:.2f} | "
                  f"{'yes' if shas[0] == shas[1] and len(shas[0]) == 1 else 'no'} |", flush=True)
    print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
