"""Benchmark nearest-neighbour searches on real footage: time per call and mean patch distance.

The key is a clip's first frames, the query the frames that follow (same scene, new content: a
hard, realistic case), both resized to a pyramid level size. Each PatchMatch setting is run from a
"warm" start (a coarser level's field, upsampled: what the engine does) and a "cold" (random) one.
Exact search is run where affordable; at larger sizes its mean distance is estimated from a random
sample of query patches (exact for those, against every key patch).

    python benchmarks/search.py [--video PATH] [--runs 3] [--sizes 8x36x64,13x144x256]

Prints a markdown table. Skips cleanly (exit 0) when no footage is present.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import common
import torch

from patchvid.frames import to_tensor
from patchvid.media import read_video
from patchvid.synthesis.patches import patch_grid
from patchvid.synthesis.patchmatch import PatchMatch, upsample_nnf
from patchvid.synthesis.resize import resize
from patchvid.synthesis.search import ExactSearch

PATCH = (3, 7, 7)
SAMPLED = 1024  # query patches of the exact reference where exact search of all is not affordable

VARIANTS = {
    "scan, 4 passes, 4 random (default)": dict(),
    "scan, 4 passes, 2 random": dict(random_candidates=2),
    "scan, 2 passes, 2 random": dict(passes=2, random_candidates=2),
    "scan, 8 passes, 2 random": dict(passes=8, random_candidates=2),
    "jump 8-4-2-1, 4 passes, 2 random": dict(schedule="jump", random_candidates=2),
    "jump 8-4-2-1, 8 passes, 2 random": dict(schedule="jump", passes=8, random_candidates=2),
    "scan, 4 passes, 1 random": dict(random_candidates=1),
    "scan, 4 passes, 2 random, PCA-8 bound": dict(features=8, random_candidates=2),
    "torch path (jump), 4 passes, 2 random": dict(backend="torch", schedule="jump", random_candidates=2),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--video", type=Path, default=common.DATA / common.VIDEOS["ballet"])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", type=common.parse_sizes, default="8x36x64,13x144x256")
    ap.add_argument("--variants", default="", help="comma-separated substrings of variant names to run")
    ap.add_argument("--chain", type=int, default=5, help="chained calls (engine iterations) at the largest size")
    args = ap.parse_args()
    if not args.video.exists():
        print(f"skipped: no footage at {args.video}")
        return 0
    clip = read_video(args.video, end="60f").frames
    video = to_tensor(clip)  # [-1, 1] like the reference
    sizes = args.sizes
    wanted = [v.strip() for v in args.variants.split(",") if v.strip()]
    print(f"footage {args.video.name}, patch {PATCH}, torch threads {torch.get_num_threads()}, runs {args.runs}")
    common.print_header("level (T×H×W)", "patches q×k", "search", "start", "wall s", "cpu s", "mean dist", "vs exact")
    for size in sizes:
        t = size[0]
        key = resize(video[:, :t], size)
        query = resize(video[:, t + 1 : 2 * t + 1], size)
        coarse = (max(3, round(t * 0.6)), max(7, size[1] // 2), max(7, size[2] // 2))
        ck, cq = resize(video[:, :t], coarse), resize(video[:, t + 1 : 2 * t + 1], coarse)
        c_match = PatchMatch(passes=8)(cq, ck, PATCH, seed=0)
        start = upsample_nnf(
            c_match.nnf, patch_grid(coarse, PATCH), patch_grid(size, PATCH), patch_grid(size, PATCH), PATCH
        )
        qg = patch_grid(size, PATCH)
        n = qg[0] * qg[1] * qg[2]
        label = f"{size[0]}×{size[1]}×{size[2]} | {n}×{n}"
        if n <= 40_000:
            exact = common.median_of(lambda r, q=query, k=key: ExactSearch()(q, k, PATCH), 1)
            ref, idx = exact.result.distance.mean().item(), None
            print(f"| {label} | exact | - | {exact.wall:.2f} | {exact.cpu:.2f} | {ref:.4f} | 1.000 |", flush=True)
        else:
            nearest, idx = common.sampled_nearest(query, key, PATCH, SAMPLED)
            ref = nearest.mean().item()
            print(f"| {label} | exact, {SAMPLED} sampled queries | - | - | - | {ref:.4f} | 1.000 |", flush=True)

        def ratio(dist: torch.Tensor, idx=idx, ref=ref) -> float:
            d = dist.reshape(-1)
            return (d[idx].mean().item() if idx is not None else d.mean().item()) / ref

        for name, cfg in VARIANTS.items():
            if wanted and not any(w in name for w in wanted):
                continue
            if cfg.get("backend") == "torch" and n > 40_000:
                continue  # the torch path is for GPUs; on this CPU it only needs to be correct
            pm = PatchMatch(**cfg)
            pm(query[:, :3, :12, :12], key[:, :3, :12, :12], PATCH)  # compile outside the timing
            for start_name, init in (("warm", start), ("cold", None)):
                call = lambda r, pm=pm, q=query, k=key, init=init: pm(q, k, PATCH, init=init, seed=r)  # noqa: E731
                runs = common.median_of(call, args.runs)
                m = runs.result
                print(
                    f"| {label} | {name} | {start_name} | {runs.wall:.2f} | {runs.cpu:.2f} | "
                    f"{m.distance.mean().item():.4f} | {ratio(m.distance):.3f} |",
                    flush=True,
                )
    if args.chain:
        print(f"\nChained calls at {sizes[-1]} (each starts from the previous nnf, like the engine's iterations):")
        common.print_header("call", "wall s", "vs exact (sampled)")
        nnf, pm = start, PatchMatch()
        for i in range(args.chain):
            watch = common.Stopwatch()
            m = pm(query, key, PATCH, init=nnf, seed=i)
            nnf = m.nnf
            print(f"| {i + 1} | {watch.seconds:.2f} | {ratio(m.distance):.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
