"""Wall time of the whole ``patchvid evaluate`` command (start-up, reading, every default measure,
the report) on the same files, for one or more source trees of patchvid, e.g. an older commit's:

    git worktree add /tmp/before 47baf2c
    python benchmarks/evaluate_cli.py --sources /tmp/before/src src --runs 3

Footage: ballet (``../shared/data``), 13 frames at 144x256, written as a PNG folder with
``--samples`` samples of ``patchvid.generate`` (seeds 0, 1, ...; made once, by the tree this script
imports). Each run calls the command once per tree, alternately, in a fresh process with
``PYTHONPATH`` set to that tree, so that a change of load on the shared machine hits them all; the
table gives medians. Checks that every tree reports the same diversity (a measure no change of
search touches). Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
from PIL import Image

import patchvid


def save_folder(frames, folder: Path) -> Path:
    folder.mkdir(parents=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"{i:04d}.png")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", nargs="+", type=Path, required=True, help="src folders of patchvid to time")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=4)
    args = parser.parse_args()
    try:
        clip = common.load_clip("ballet", 13, (144, 256))
    except common.MissingFootage as e:
        print(f"needs the ballet clip: {e}", file=sys.stderr)
        return 1
    print(common.machine_line() + "\n")
    times: dict[Path, list[float]] = {s: [] for s in args.sources}
    diversity: dict[Path, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        files = [save_folder(clip, tmp / "input")] + [
            save_folder(patchvid.generate(clip, seed=k), tmp / f"sample{k}") for k in range(args.samples)]
        for run in range(args.runs):
            for source in args.sources:
                report = tmp / f"report{run}.json"
                env = dict(os.environ, PYTHONPATH=str(source.resolve()))
                start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "patchvid", "evaluate", *map(str, files), "-q", "-y",
                                "--report", str(report)], check=True, env=env, cwd=tmp, stdout=subprocess.DEVNULL)
                times[source].append(time.perf_counter() - start)
                diversity[source] = json.loads(report.read_text())["diversity"]
                print(f"  {source}: run {run + 1} {times[source][-1]:.1f} s", file=sys.stderr, flush=True)
    print(f"### `patchvid evaluate INPUT` with {args.samples} samples (13x144x256), whole command\n")
    common.print_header("source", "median s", "median s per sample", "runs s", "diversity")
    for source, ts in times.items():
        print(f"| {source} | {statistics.median(ts):.1f} | {statistics.median(ts) / args.samples:.2f} | "
              f"{', '.join(f'{t:.1f}' for t in ts)} | {diversity[source]:.4f} |")
    first = statistics.median(times[args.sources[0]])
    for source in args.sources[1:]:
        print(f"\n{first / statistics.median(times[source]):.1f}x faster than {args.sources[0]}: {source}")
    same = len(set(diversity.values())) == 1
    print(f"\nsame diversity from every tree: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
