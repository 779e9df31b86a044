"""What each task costs per output voxel, on real footage, through the one solver.

Every patch task prepares a problem and calls ``patchvid.solve``; at the same output size they should
cost about the same. This script prepares each task's problem at one output size, solves it (median
of ``--runs`` seeds; the kernels are compiled by a small warm-up first), and prints seconds, CPU
seconds and microseconds per output voxel, then per task the levels: output shape, search, rounds,
seconds, and microseconds per output voxel per round.

    python benchmarks/task_cost.py --size 13x144x256
    python benchmarks/task_cost.py --size 30x256x456 --tasks generate,analogy --levels

Footage: APPEARANCE (the patches: generation's, retargeting's, analogies') is the VGPNN authors'
air-balloons clip, 13 frames at 256x144; STRUCTURE (analogies), the inpainted clip and the collage's
original are ``lava_456x256.mp4`` cut and resized to the output size; inpainting fills a centred box of
a ninth of each frame (``--fill smooth``); the collage's edit is the same clip with a block duplicated.
"""

from __future__ import annotations

import argparse
import math
import sys

import common
import numpy as np

import patchvid
from patchvid.synthesis.engine import search_per_level
from patchvid.synthesis.search import ExactSearch
from patchvid.tasks.analogy import prepare_analogy
from patchvid.tasks.generate import prepare_generate
from patchvid.tasks.inpaint import prepare_inpaint
from patchvid.tasks.retarget import prepare_retarget

TASKS = ("generate", "retarget", "analogy", "collage", "inpaint")


def problems(size: tuple[int, int, int], tasks: list[str]) -> dict:
    """Each task's prepared problem with an output of ``size`` ``(T, H, W)``."""
    t, h, w = size
    appearance = common.load_clip("airballoons", 13)
    scale = tuple(n / m for n, m in zip(size, appearance.shape[:3]))
    structure = common.load_clip("lava", t, (h, w))
    out = {}
    for task in tasks:
        if task == "generate":
            out[task] = prepare_generate(appearance, patchvid.GenerateSettings(scale=scale))
        elif task == "retarget":
            out[task] = prepare_retarget(appearance, size)
        elif task == "analogy":
            out[task] = prepare_analogy(structure, appearance)
        elif task == "collage":
            edited = structure.copy()
            edited[:, h // 8 : h // 8 + h // 4, w // 2 : w // 2 + w // 4] = structure[:, h // 8 : h // 8 + h // 4,
                                                                                      : w // 4]
            out[task] = prepare_analogy(edited, structure, mode="colours")
        elif task == "inpaint":
            mask = np.zeros((h, w), bool)
            mask[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3] = True
            out[task] = prepare_inpaint(structure, mask, fill="smooth")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=common.parse_size, default=(13, 144, 256), help="output TxHxW")
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated, of {', '.join(TASKS)}")
    parser.add_argument("--runs", type=int, default=1, help="seeds per task (median)")
    parser.add_argument("--levels", action="store_true", help="also print each task's levels")
    args = parser.parse_args()
    tasks = [name.strip() for name in args.tasks.split(",")]
    if unknown := sorted(set(tasks) - set(TASKS)):
        parser.error(f"unknown task {', '.join(unknown)}")
    if common.skip_without_footage():
        return 0
    patchvid.generate(common.load_clip("airballoons", 4, 48), seed=0)  # compile the kernels first

    prepared = problems(args.size, tasks)
    print(common.machine_line())
    print(f"\noutput {common.shape_text(args.size)}, median of {args.runs} seed(s)\n")
    common.print_header("task", "output", "levels", "seconds", "CPU seconds", "µs per output voxel")
    reports = {}
    for task, problem in prepared.items():
        levels: list = []
        runs = common.median_of(lambda seed, p=problem, r=levels: (r.clear(), patchvid.solve(p, seed, r.append)),
                                args.runs)
        reports[task] = (problem, list(levels))
        voxels = math.prod(problem.output_shape)
        print(f"| {task} | {common.shape_text(problem.output_shape)} | {len(problem.plan.levels)} | {runs.wall:.1f} | "
              f"{runs.cpu:.1f} | {1e6 * runs.wall / voxels:.2f} |")
    if args.levels:
        for task, (problem, levels) in reports.items():
            print(f"\n{task}:\n")
            common.print_header("level", "output", "search", "rounds", "seconds", "µs per voxel per round")
            n = len(problem.plan.levels)
            pairs = problem.plan.levels
            choose = search_per_level(problem.plan.search, pairs.output, pairs.input, problem.plan.patch)
            for r in levels:
                kind = "exact" if isinstance(choose(r.level), ExactSearch) else "PatchMatch"
                per = 1e6 * r.seconds / (math.prod(r.shape) * max(1, r.iterations))
                print(f"| {n - r.level}/{n} | {common.shape_text(r.shape)} | {kind} | {r.iterations} | "
                      f"{r.seconds:.2f} | {per:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
