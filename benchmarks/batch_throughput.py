"""Batches (issue 16): throughput of ``patchvid batch`` with 1 and 2 worker processes and on a local
Ray instance, the overhead per task, the memory of each worker, and a 100-sample batch interrupted
and resumed; on real footage at the paper's size (13x144x256).

1. **Throughput.** ``patchvid batch CLIPS -o DIR --samples S --end 13f --max-size 256`` in a fresh
   folder, ``--runs`` times for each of ``--jobs 1``, ``--jobs 2`` and ``--ray --ray-workers 2``:
   samples per minute from the command's whole wall time (start-up of the workers or of Ray
   included), and, from the batch report, the median seconds of one job inside its worker and the
   median and largest peak memory of a worker during a job. The **overhead per task** is the median
   job time less the median time of the same solve in this process (``patchvid.solve`` of the
   prepared problem): reading, encoding, the record and the command line's start. Every run's
   outputs are compared byte for byte with the first ``--jobs 1`` run.
2. **Interrupted and resumed.** A ``--samples 100`` batch of one clip with ``--jobs 2`` (at
   ``--resume-size``), sent SIGTERM once ``--cut`` of its records exist (a background job ignores
   SIGINT), then run again with the same command: the outputs kept at
   the cut, the outputs the second run made, its wall time, and whether the final 100 outputs are
   byte for byte those of an uninterrupted run (the ``--jobs 1`` throughput runs' seeds, extended).
3. **Picture.** ``docs/batch_throughput.png``: samples per minute of each way, with the run-to-run
   range.

    nice python benchmarks/batch_throughput.py                   # everything (about 15 min on 2 shared cores)
    python benchmarks/batch_throughput.py --parts throughput --runs 3 --samples 4
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, clip_path, machine_line, print_header

import patchvid
from patchvid.tasks.generate import prepare_generate

WAYS = {"jobs 1": ["--jobs", "1"], "jobs 2": ["--jobs", "2"], "Ray, 2 local workers": ["--ray", "--ray-workers", "2"]}
CUT = ["--end", "13f", "--max-size", "256"]


def batch(inputs: list[Path], folder: Path, samples: int, extra: list[str]) -> tuple[float, list[dict], int]:
    """One ``patchvid batch`` run: wall seconds, the report's rows, and the exit status."""
    started = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "patchvid", "batch", *map(str, inputs), "-o", str(folder),
                        "--samples", str(samples), "-q", *CUT, *extra], capture_output=True, text=True)
    wall = time.perf_counter() - started
    if r.returncode not in (0, 130):
        sys.exit(f"batch failed ({r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
    with open(folder / "batch.csv", newline="") as f:
        return wall, list(csv.DictReader(f)), r.returncode


def media(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".mp4"}


def solve_seconds(inputs: list[Path], samples: int) -> float:
    """The median time of one solve in this process, the problem prepared once per clip."""
    times = []
    for path in inputs:
        clip = patchvid.read_video(path, end="13f", max_size=256)
        problem = prepare_generate(clip.frames, patchvid.GenerateSettings())
        patchvid.solve(problem, 0)  # warm: numba's compiled kernels load on first use
        for seed in range(samples):
            started = time.perf_counter()
            patchvid.solve(problem, seed)
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def throughput(inputs: list[Path], samples: int, runs: int, work: Path) -> dict:
    solve = solve_seconds(inputs, min(samples, 3))
    results, reference = {}, None
    for name, extra in WAYS.items():
        rates, jobs, peaks, same = [], [], [], True
        for run in range(runs):
            folder = work / f"{name.replace(' ', '_').replace(',', '')}_{run}"
            wall, rows, _ = batch(inputs, folder, samples, extra)
            rates.append(60 * len(rows) / wall)
            jobs += [float(r["seconds"]) for r in rows if r["seconds"]]
            peaks += [float(r["peak_memory_mib"]) for r in rows if r["peak_memory_mib"]]
            outputs = media(folder)
            reference = reference or outputs
            same &= outputs == reference
            shutil.rmtree(folder)
        results[name] = {"per_minute": statistics.median(rates), "range": [min(rates), max(rates)],
                         "job_seconds": statistics.median(jobs), "overhead_seconds": statistics.median(jobs) - solve,
                         "peak_mib_median": statistics.median(peaks), "peak_mib_max": max(peaks),
                         "same_bytes": same, "runs": runs, "outputs": len(inputs) * samples}
    results["solve_seconds"] = solve
    return results


def interrupted(path: Path, cut: float, work: Path, size: int) -> dict:
    whole_dir, cut_dir = work / "whole", work / "cut"
    size_args = ["--max-size", str(size)]
    whole_wall, _, _ = batch([path], whole_dir, 100, ["--jobs", "2", *size_args])
    args = [sys.executable, "-m", "patchvid", "batch", str(path), "-o", str(cut_dir), "--samples", "100", "-q",
            "--jobs", "2", *CUT, *size_args]
    process = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
    while len(list(cut_dir.glob("*.mp4.json"))) < cut * 100 and process.poll() is None:
        time.sleep(0.1)
    process.send_signal(signal.SIGTERM)  # SIGINT stays ignored in a background job
    process.communicate(timeout=600)
    kept = len(media(cut_dir))
    started = time.perf_counter()
    again = subprocess.run(args, capture_output=True, text=True)
    resume_wall = time.perf_counter() - started
    with open(cut_dir / "batch.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    same = media(cut_dir) == media(whole_dir)
    result = {"exit_status_at_cut": process.returncode, "kept_at_cut": kept,
              "made_on_resume": sum(r["status"] == "made" for r in rows), "resume_exit": again.returncode,
              "resume_seconds": resume_wall, "uninterrupted_seconds": whole_wall, "outputs": len(media(cut_dir)),
              "same_bytes_as_uninterrupted": same}
    shutil.rmtree(whole_dir)
    shutil.rmtree(cut_dir)
    return result


def picture(results: dict, path: Path) -> None:
    """Horizontal bars: samples per minute of each way (median), a line over the run-to-run range."""
    from PIL import Image, ImageDraw

    names = list(WAYS)
    most = max(results[n]["range"][1] for n in names) * 1.15
    left, width, row, top = 170, 420, 40, 40
    im = Image.new("RGB", (left + width + 80, top + row * len(names) + 40), "white")
    draw = ImageDraw.Draw(im)
    draw.text((10, 10), f"patchvid batch: samples per minute at 13x144x256 ({results[names[0]]['outputs']} "
              "outputs a run, whole wall time)", fill="black")
    for i, name in enumerate(names):
        r = results[name]
        y = top + i * row
        x = left + width * r["per_minute"] / most
        draw.text((10, y + 10), name, fill="black")
        draw.rectangle([left, y + 6, x, y + row - 6], fill=["#888888", "#44aa77", "#4477aa"][i % 3])
        lo, hi = (left + width * v / most for v in r["range"])
        draw.line([(lo, y + row // 2), (hi, y + row // 2)], fill="black", width=2)
        draw.text((max(x, hi) + 6, y + 10), f"{r['per_minute']:.1f}", fill="black")
    draw.line([(left, top), (left, top + row * len(names))], fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    print(f"wrote {path}", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", nargs="+", default=["ballet", "waterfall"])
    parser.add_argument("--samples", type=int, default=6, help="samples per clip in the throughput runs")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cut", type=float, default=0.4, help="fraction of the 100 made before the interrupt")
    parser.add_argument("--resume-size", type=int, default=256,
                        help="--max-size of the interrupted 100-sample batch (256: 13x144x256)")
    parser.add_argument("--parts", nargs="+", default=["throughput", "resume"], choices=["throughput", "resume"])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    inputs = [clip_path(name) for name in args.clips]
    print(machine_line())
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="patchvid-bench-") as tmp:
        work = Path(tmp)
        if "throughput" in args.parts:
            out["throughput"] = t = throughput(inputs, args.samples, args.runs, work)
            print(f"\n{len(inputs)} clips ({', '.join(args.clips)}) x {args.samples} samples at 13x144x256, "
                  f"{args.runs} runs each; one solve in this process: {t['solve_seconds']:.2f} s (median)\n")
            print_header("way", "samples/min (median, range)", "job s (median)", "overhead/task s",
                         "worker peak MiB (median, max)", "same bytes")
            for name in WAYS:
                r = t[name]
                print(f"| {name} | {r['per_minute']:.1f} ({r['range'][0]:.1f}–{r['range'][1]:.1f}) | "
                      f"{r['job_seconds']:.2f} | {r['overhead_seconds']:.2f} | {r['peak_mib_median']:.0f}, "
                      f"{r['peak_mib_max']:.0f} | {'yes' if r['same_bytes'] else 'NO'} |")
            picture(t, ROOT / "docs" / "batch_throughput.png")
        if "resume" in args.parts:
            out["resume"] = r = interrupted(inputs[0], args.cut, work, args.resume_size)
            print(f"\n100 samples of {args.clips[0]} (--max-size {args.resume_size}), --jobs 2, interrupted "
                  f"(SIGTERM) after {args.cut:.0%}: exit "
                  f"{r['exit_status_at_cut']}, {r['kept_at_cut']} kept; the same command again: exit "
                  f"{r['resume_exit']}, {r['made_on_resume']} made in {r['resume_seconds']:.0f} s "
                  f"(uninterrupted: 100 in {r['uninterrupted_seconds']:.0f} s); {r['outputs']} outputs, "
                  f"{'the same bytes as' if r['same_bytes_as_uninterrupted'] else 'NOT the bytes of'} "
                  "the uninterrupted run")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
