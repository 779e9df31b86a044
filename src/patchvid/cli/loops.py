"""``patchvid loop``, ``texture``, ``cinemagraph`` and ``blend``: classic single-video methods
(Video Textures, seamless loops, cinemagraphs, space-time Poisson cloning)."""

from __future__ import annotations

import argparse
import math
from fractions import Fraction
from pathlib import Path

import numpy as np

from .. import loops, poisson
from ..media import DEFAULT_FPS, Video, check_output, output_kind, read_video, write_video
from ..resize import fit_size, resize_frames
from .common import (
    Progress,
    add_input_arguments,
    add_output_arguments,
    check_memory,
    fail,
    load_input,
    non_negative_int,
    parse_time,
    positive_int,
    record_header,
    write_report,
)

DEFAULT_CROSSFADE = 5


# --------------------------------------------------------------------------------------- arguments


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def offset3(text: str) -> tuple[int, int, int]:
    """``T,Y,X`` whole numbers, any sign."""
    try:
        parts = tuple(int(p) for p in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"not an offset: {text!r} (use T,Y,X in frames and pixels, e.g. 0,20,-5)")
    return parts  # type: ignore[return-value]


def _add_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="FILE", help="also write a JSON record of the choices and costs to FILE")


def _add_loop_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    g = parser.add_argument_group(what)
    g.add_argument("--min-length", type=parse_time, metavar="TIME",
                   help="shortest loop: seconds (2.5) or frames (60f) (default: 1 s, at most half the clip)")
    g.add_argument("--max-length", type=parse_time, metavar="TIME", help="longest loop (default: the whole clip)")
    hide = g.add_mutually_exclusive_group()
    hide.add_argument("--crossfade", type=non_negative_int, metavar="N",
                      help=f"hide the jump with a crossfade of N frames (default {DEFAULT_CROSSFADE}; 0: a plain cut)")
    hide.add_argument("--blend", choices=("crossfade", "poisson"),
                      help="how to hide the jump: crossfade, or a space-time Poisson closure "
                      "(screened, periodic in time)")
    g.add_argument("--screen", type=positive_float, default=1e-3, metavar="LAMBDA",
                   help="Poisson closure: how far the correction spreads, about 1/sqrt(LAMBDA) frames (default 0.001)")
    g.add_argument("--analysis-size", type=positive_int, default=64, metavar="PIXELS",
                   help="longer side of the small frames that frames are compared on (default 64)")


def register(sub: argparse._SubParsersAction) -> None:
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser(
        "loop",
        help="the best seamless loop in a clip",
        description="Find the loop in INPUT whose end best matches its start, and hide the jump. Prints the "
        "seam ratio before and after (the difference across the wrap over the clip's typical frame step; "
        "1 is invisible).",
        epilog="examples:\n  patchvid loop waves.mp4 -o waves.gif --min-length 2s\n"
        "  patchvid loop tree.avi -o tree.mp4 --blend poisson --json tree.json",
        formatter_class=fmt,
    )
    p.add_argument("input", help="video, GIF or folder of numbered frames")
    add_input_arguments(p)
    _add_loop_arguments(p, "loop")
    add_output_arguments(p, report=False)
    _add_json(p)
    p.set_defaults(handler=run_loop)

    d = loops.AnalysisSettings()
    p = sub.add_parser(
        "texture",
        help="endless, non-repeating playback of a clip (Video Textures)",
        description="Play INPUT for as long as wanted by jumping between frames that look alike (Video "
        "Textures): a seeded random walk on transition probabilities that avoids dead ends; jumps crossfaded.",
        epilog="examples:\n  patchvid texture candle.mp4 -o candle.mp4 --duration 60s --seed 3",
        formatter_class=fmt,
    )
    p.add_argument("input", help="video, GIF or folder of numbered frames")
    add_input_arguments(p)
    g = p.add_argument_group("texture")
    g.add_argument("--duration", type=parse_time, required=True, metavar="TIME",
                   help="length of the output: seconds (60, 60s, 1:00) or frames (1500f)")
    g.add_argument("--seed", type=int, default=0, help="seed of the random walk; the same seed gives the same video")
    g.add_argument("--first", type=non_negative_int, default=0, metavar="K", help="frame to start on (default 0)")
    g.add_argument("--crossfade", type=non_negative_int, default=4, metavar="N",
                   help="frames over which each jump is crossfaded (default 4; 0: plain cuts)")
    g.add_argument("--temperature", type=positive_float, default=d.temperature,
                   help=f"how freely to jump: σ over the mean transition cost (default {d.temperature:g}; "
                   "about 0.005 to 0.1)")
    g.add_argument("--alpha", type=float, default=d.alpha,
                   help=f"dead-end avoidance: discount of future costs in [0, 1) (default {d.alpha:g}; 0: off)")
    g.add_argument("--keep", type=positive_int, default=d.keep, metavar="N",
                   help=f"at most N transitions per frame after pruning (default {d.keep})")
    g.add_argument("--analysis-size", type=positive_int, default=d.size, metavar="PIXELS",
                   help=f"longer side of the small frames that frames are compared on (default {d.size})")
    add_output_arguments(p, report=False)
    _add_json(p)
    p.set_defaults(handler=run_texture)

    p = sub.add_parser(
        "cinemagraph",
        help="a still frame with one looping region",
        description="A still frame everywhere except the region of MASK (white), which loops seamlessly; the "
        "region's edge is feathered into the still.",
        epilog="examples:\n  patchvid cinemagraph fountain.mp4 --mask water.png -o fountain.gif --still 0",
        formatter_class=fmt,
    )
    p.add_argument("input", help="video, GIF or folder of numbered frames")
    p.add_argument("--mask", required=True,
                   help="image (or video of the same length) of the input's size: white loops, black stays still")
    add_input_arguments(p)
    _add_loop_arguments(p, "loop")
    g = p.add_argument_group("cinemagraph")
    g.add_argument("--still", type=non_negative_int, metavar="K",
                   help="frame shown outside the region, counted from --start (default: the loop's first frame)")
    g.add_argument("--feather", type=float, metavar="PIXELS",
                   help="softness of the region's edge (default: 0.8%% of the longer side, at least 2)")
    add_output_arguments(p, report=False)
    _add_json(p)
    p.set_defaults(handler=run_cinemagraph)

    p = sub.add_parser(
        "blend",
        help="space-time Poisson cloning of a region of one video into another",
        description="Paste the region of SOURCE selected by MASK (white) into TARGET so that no seam shows, "
        "in x, y and time: the source's gradients are kept and its colours follow the target's at the "
        "region's border. The output has TARGET's frames, size and rate.",
        epilog="examples:\n  patchvid blend fish.mp4 pond.mp4 --mask fish_mask.png -o pond_fish.mp4 --offset 0,40,120\n"
        "  patchvid blend logo.png wall.mp4 --mask logo_mask.png -o out.mp4 --mixed",
        formatter_class=fmt,
    )
    p.add_argument("source", help="video, GIF, folder of frames or image to take the region from")
    p.add_argument("target", help="video, GIF, folder of frames or image to paste into")
    p.add_argument("--mask", required=True,
                   help="image (or video of SOURCE's length) of SOURCE's size: white is pasted")
    g = p.add_argument_group("blend")
    g.add_argument("--offset", type=offset3, default=(0, 0, 0), metavar="T,Y,X",
                   help="where SOURCE's first frame and top-left pixel land in TARGET (default 0,0,0)")
    g.add_argument("--mixed", action="store_true",
                   help="mixed gradients: keep TARGET's own texture where it is stronger than SOURCE's")
    g.add_argument("--tol", type=positive_float, default=1e-3, help="solver's relative residual (default 0.001)")
    g.add_argument("--max-iter", type=positive_int, default=500, metavar="N", help="solver iterations at most")
    add_output_arguments(p, report=False)
    _add_json(p)
    p.set_defaults(handler=run_blend)


# --------------------------------------------------------------------------------------- shared steps


def _check_outputs(args: argparse.Namespace, inputs: list[str]) -> None:
    """Refuse bad output paths before any work."""
    output_kind(args.output)
    check_output(args.output, inputs, args.overwrite)
    if args.json:
        if Path(args.json).resolve() == Path(args.output).resolve():
            fail("--json and -o name the same file")
        if Path(args.json).is_dir():
            fail(f"--json {args.json} is a folder")
        check_output(args.json, inputs, args.overwrite)


def _rate(video: Video, progress: Progress) -> Fraction:
    if video.fps:
        return video.fps
    progress(f"note: the input stores no frame rate; using {DEFAULT_FPS} fps")
    return DEFAULT_FPS


def _frames_of(value: int | float, fps: Fraction) -> int:
    """A ``parse_time`` value in frames: ``int`` is frames already, ``float`` seconds."""
    return int(value) if isinstance(value, int) else round(float(value) * fps)


def _need_frames(video: Video, path: str, least: int, what: str) -> None:
    if video.is_image or video.shape[0] < least:
        got = "a single image" if video.is_image else f"{video.shape[0]} frames"
        fail(f"{path} is {got}: {what} needs a clip of at least {least} frames")


def _loop_lengths(args: argparse.Namespace, n: int, fps: Fraction) -> tuple[int, int]:
    """``(min, max)`` loop length in frames; a loop can use frames ``0 .. n-2`` (frame ``n-1`` judges the seam)."""
    longest = n - 1
    hi = longest if args.max_length is None else _frames_of(args.max_length, fps)
    lo = min(max(2, round(fps)), longest // 2) if args.min_length is None else _frames_of(args.min_length, fps)
    lo = max(lo, 3 if args.blend == "poisson" else 2)  # the closure needs a frame between the wrap's two sides
    if args.min_length is not None and lo > longest:
        fail(f"--min-length is {lo} frames but a loop of this {n}-frame clip has at most {longest}")
    if hi < lo:
        fail(f"--max-length ({hi} frames) is shorter than the shortest loop ({lo} frames)")
    return lo, min(hi, longest)


def _check_analysis_memory(frames: int, matrices: int = 3) -> None:
    """Frame-to-frame matrices are ``frames²`` float64 each."""
    check_memory(matrices * 8 * frames * frames, f"comparing all pairs of {frames} frames",
                 "give a shorter --start/--end range")


def _hide(args: argparse.Namespace) -> tuple[str, int]:
    """``("crossfade", n)``, ``("cut", 0)`` or ``("poisson", 0)``."""
    if args.blend == "poisson":
        return "poisson", 0
    n = DEFAULT_CROSSFADE if args.crossfade is None else args.crossfade
    return ("crossfade", n) if n > 0 else ("cut", 0)


def _close(frames: np.ndarray, loop: loops.Loop, method: str, overlap: int, screen: float) -> tuple[np.ndarray, int]:
    """The loop's frames with the wrap hidden; the crossfade length actually used."""
    if method == "poisson":
        return loops.poisson_loop(frames[loop.start : loop.end], screen), 0
    if method == "crossfade":
        return loops.crossfade_loop(frames, loop, overlap)
    return frames[loop.start : loop.end].copy(), 0


def _blend_record(method: str, used: int, screen: float) -> dict:
    return {"method": method, "crossfade_frames": used, "screen": screen if method == "poisson" else None}


def _finite(x: float) -> float | None:
    return round(x, 4) if math.isfinite(x) else None


def _record(args: argparse.Namespace, command: str, videos: dict[str, tuple[str, Video]], fps) -> dict:
    return record_header(command) | {
        "inputs": {
            role: {
                "path": str(Path(path).resolve()),
                "frames_height_width": list(v.shape),
                "fps": str(v.fps) if v.fps else None,
            }
            for role, (path, v) in videos.items()
        },
        "output": str(args.output),
        "output_fps": str(fps),
    }


def _write(args: argparse.Namespace, frames: np.ndarray, fps: Fraction, progress: Progress) -> None:
    if output_kind(args.output) == "image" and frames.ndim == 4 and len(frames) > 1:
        fail(f"{args.output} is an image file but the result has {len(frames)} frames: use .mp4, .gif or a folder")
    for note in write_video(args.output, frames, fps):
        progress(f"note: {note}")
    progress(f"wrote {args.output}")


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, flush=True)


def load_mask(
    path: str,
    frames: int,
    height: int,
    width: int,
    of: str,
    start=None,
    end=None,
    max_size: int | None = None,
) -> np.ndarray:
    """A mask as bool ``(H, W)`` (an image, or a one-frame clip) or ``(T, H, W)``: white (grey >= 128) selects.

    A video mask is cut with the same ``start``/``end`` as its clip. A mask drawn at the clip's full
    size is shrunk with it when ``max_size`` shrank the clip.
    """
    m = read_video(path, start, end)
    mt, mh, mw = m.shape
    if (mh, mw) != (height, width):
        if max_size is not None and fit_size(mh, mw, max_size) == (height, width):
            m.frames = resize_frames(m.frames, height, width)
        else:
            fail(f"mask {path} is {mw}x{mh} but {of} is {width}x{height}")
    if not m.is_image and mt != 1 and mt != frames:
        fail(f"mask {path} has {mt} frames but {of} has {frames}: give one image or a video of the same length")
    selected = m.frames.mean(axis=-1) >= 128
    if not selected.any():
        fail(f"mask {path} selects nothing: no pixel is 128 or brighter (white selects)")
    return selected[0] if selected.shape[0] == 1 else selected


# --------------------------------------------------------------------------------------- commands


def run_loop(args: argparse.Namespace) -> int:
    progress = Progress(args.quiet)
    _check_outputs(args, [args.input])
    video = load_input(args.input, args.start, args.end, args.max_size, progress)
    _need_frames(video, args.input, 4, "a loop")
    fps = _rate(video, progress)
    frames = video.frames
    lo, hi = _loop_lengths(args, len(frames), fps)
    method, overlap = _hide(args)
    _check_analysis_memory(len(frames))

    started = progress.elapsed()
    distances = loops.frame_distances(frames, args.analysis_size)
    filtered = loops.filter_diagonals(distances)
    loop = loops.find_loop(filtered, lo, hi)
    analysis_s = progress.elapsed() - started
    progress(f"compared {len(frames)} frames in {analysis_s:.2f}s; best loop {loop.start}..{loop.end - 1} "
             f"({loop.length} frames), cost {loop.cost:.2f}")
    typical = loops.typical_step(frames)
    raw = frames[loop.start : loop.end]
    before = loops.seam_ratio(raw, typical)
    started = progress.elapsed()
    out, used = _close(frames, loop, method, overlap, args.screen)
    blend_s = progress.elapsed() - started
    after = loops.seam_ratio(out, typical)
    how = {"crossfade": f"{used}-frame crossfade", "poisson": "Poisson closure", "cut": "plain cut"}[method]
    if method == "crossfade" and used < overlap:
        progress(f"note: crossfade shortened to {used} frames: the clip has no more frames around the loop")
    progress(f"{how} in {blend_s:.2f}s")
    _write(args, out, fps, progress)
    _say(args, f"loop: frames {loop.start}..{loop.end - 1} of {len(frames)} ({loop.length} frames, "
         f"{loop.length / float(fps):.2f} s); seam ratio {before:.2f} before, {after:.2f} after the {how}")
    if args.json:
        record = _record(args, "loop", {"input": (args.input, video)}, fps) | {
            "loop": {"start": loop.start, "length": loop.length, "end": loop.end, "cost": _finite(loop.cost)},
            "search": {"min_length": lo, "max_length": hi, "analysis_size": args.analysis_size,
                       "cost": "D'[start+length, start]: RMS grey levels between thumbnails, diagonally filtered"},
            "blend": _blend_record(method, used, args.screen),
            "typical_step": _finite(typical),
            "seam_ratio": {"before": _finite(before), "after": _finite(after)},
            "seconds": {"analysis": round(analysis_s, 3), "blend": round(blend_s, 3)},
        }
        write_report(args.json, record)
    return 0


def run_texture(args: argparse.Namespace) -> int:
    progress = Progress(args.quiet)
    _check_outputs(args, [args.input])
    if not 0 <= args.alpha < 1:
        fail(f"--alpha must be in [0, 1), got {args.alpha}")
    video = load_input(args.input, args.start, args.end, args.max_size, progress)
    _need_frames(video, args.input, 3, "a video texture")
    fps = _rate(video, progress)
    frames = video.frames
    n_out = _frames_of(args.duration, fps)
    if n_out < 1:
        fail(f"--duration {args.duration} is shorter than one frame")
    if args.first >= len(frames) - 1:
        fail(f"--first {args.first} is not a frame that can be played on from (0..{len(frames) - 2})")
    t, h, w = video.shape
    check_memory(n_out * h * w * 3, f"a texture of {n_out} frames of {w}x{h}",
                 "give a shorter --duration or a smaller --max-size")
    _check_analysis_memory(t, matrices=7)
    settings = loops.AnalysisSettings(size=args.analysis_size, alpha=args.alpha, temperature=args.temperature,
                                      keep=args.keep)
    analysis = loops.analyse(frames, settings)
    progress(f"analysed {t} frames in {sum(analysis.seconds.values()):.2f}s "
             f"(future cost: {analysis.rounds} rounds of policy iteration)")
    order = loops.random_play(analysis.probabilities, n_out, args.seed, args.first)
    out = loops.play(frames, order, args.crossfade)
    jumps = loops.jumps(order)
    _write(args, out, fps, progress)
    _say(args, f"texture: {n_out} frames ({n_out / float(fps):.2f} s) from {t}; {len(jumps)} jumps; seed {args.seed}")
    if args.json:
        p, c = analysis.probabilities, analysis.costs
        record = _record(args, "texture", {"input": (args.input, video)}, fps) | {
            "seed": args.seed,
            "frames": n_out,
            "settings": {"analysis_size": settings.size, "taps": settings.taps, "power": settings.power,
                         "alpha": settings.alpha, "temperature": settings.temperature, "sigma": analysis.sigma,
                         "keep": settings.keep, "threshold": settings.threshold, "window": settings.window},
            "policy_iteration_rounds": analysis.rounds,
            "transitions_per_frame": round(float((p > 0).sum(axis=1).mean()), 3),
            "jumps": [{"at": pos, "from": i, "to": j, "probability": round(float(p[i, j]), 6),
                       "cost": round(float(c[i, j]), 4)} for pos, i, j in jumps],
            "crossfade_frames": args.crossfade,
            "seconds": {k: round(v, 3) for k, v in analysis.seconds.items()},
        }
        write_report(args.json, record)
    return 0


def run_cinemagraph(args: argparse.Namespace) -> int:
    progress = Progress(args.quiet)
    _check_outputs(args, [args.input, args.mask])
    video = load_input(args.input, args.start, args.end, args.max_size, progress)
    _need_frames(video, args.input, 4, "a cinemagraph")
    fps = _rate(video, progress)
    frames = video.frames
    t, h, w = video.shape
    mask = load_mask(args.mask, t, h, w, f"the input {args.input}", args.start, args.end, args.max_size)
    progress(f"mask selects {100 * mask.mean():.1f}% of the {'frame' if mask.ndim == 2 else 'clip'}")
    if args.still is not None and args.still >= t:
        fail(f"--still {args.still} is not a frame of the input (0..{t - 1})")
    lo, hi = _loop_lengths(args, t, fps)
    method, overlap = _hide(args)
    _check_analysis_memory(t)

    distances = loops.frame_distances(frames, args.analysis_size, mask=mask)
    loop = loops.find_loop(loops.filter_diagonals(distances), lo, hi)
    progress(f"best loop of the region {loop.start}..{loop.end - 1} ({loop.length} frames), cost {loop.cost:.2f}")
    still_index = loop.start if args.still is None else args.still
    still = frames[still_index]
    radius = args.feather if args.feather is not None else max(2.0, 0.008 * max(h, w))
    region = mask if mask.ndim == 2 else mask[loop.start : loop.end]
    alpha = loops.feather(region, radius)
    weights = loops.feather(mask if mask.ndim == 2 else mask.any(axis=0), radius)
    typical = loops.typical_step(frames, weights)
    raw = loops.cinemagraph(frames[loop.start : loop.end], still, alpha)
    before = loops.seam_ratio(raw, typical, weights)
    looped, used = _close(frames, loop, method, overlap, args.screen)
    out = loops.cinemagraph(looped, still, alpha)
    after = loops.seam_ratio(out, typical, weights)
    how = {"crossfade": f"{used}-frame crossfade", "poisson": "Poisson closure", "cut": "plain cut"}[method]
    _write(args, out, fps, progress)
    _say(args, f"cinemagraph: still frame {still_index}, region loops frames {loop.start}..{loop.end - 1} "
         f"({loop.length} frames, {loop.length / float(fps):.2f} s); seam ratio in the region {before:.2f} before, "
         f"{after:.2f} after the {how}")
    if args.json:
        record = _record(args, "cinemagraph", {"input": (args.input, video)}, fps) | {
            "mask": {"path": str(Path(args.mask).resolve()), "fraction": round(float(mask.mean()), 5),
                     "per_frame": mask.ndim == 3, "feather_pixels": radius},
            "still": still_index,
            "loop": {"start": loop.start, "length": loop.length, "end": loop.end, "cost": _finite(loop.cost)},
            "search": {"min_length": lo, "max_length": hi, "analysis_size": args.analysis_size},
            "blend": _blend_record(method, used, args.screen),
            "seam_ratio": {"before": _finite(before), "after": _finite(after), "measured_on": "the masked region"},
        }
        write_report(args.json, record)
    return 0


def run_blend(args: argparse.Namespace) -> int:
    progress = Progress(args.quiet)
    _check_outputs(args, [args.source, args.target, args.mask])
    source = load_input(args.source, None, None, None, progress)
    target = load_input(args.target, None, None, None, progress)
    st, sh, sw = source.shape
    mask = load_mask(args.mask, st, sh, sw, f"the source {args.source}")
    tt, th, tw = target.shape
    src = source.frames
    if st == 1 and tt > 1:
        # a still source (an image) is pasted into every frame from its offset on
        src = np.broadcast_to(src, (tt,) + src.shape[1:])
        mask = mask if mask.ndim == 2 else mask[0]
    check_memory(tt * th * tw * 3 * 4 * 2, f"blending into {tt} frames of {tw}x{th}", "use a shorter target")
    try:
        result, clone = poisson.seamless_clone(target.frames, src, mask, args.offset, args.mixed, args.tol,
                                               args.max_iter)
    except ValueError as e:  # the region misses the target or covers all of it: the user's placement
        fail(f"{e} (source {sw}x{sh}x{st} frames, target {tw}x{th}x{tt} frames, --offset "
             f"{','.join(map(str, args.offset))})")
    if clone.outside:
        progress(f"note: {clone.outside} voxels of the masked region fall outside the target and were dropped")
    iters = max(clone.solve.iterations)
    progress(f"solved {clone.voxels} unknowns x 3 channels in {iters} iterations "
             f"(residual {max(clone.solve.residuals):.1e})")
    if max(clone.solve.residuals) > args.tol:
        progress(f"note: stopped at --max-iter {args.max_iter} before reaching --tol {args.tol}")
    out = np.clip(np.rint(result), 0, 255).astype(np.uint8)
    fps = _rate(target, progress) if tt > 1 else (target.fps or DEFAULT_FPS)
    _write(args, out, fps, progress)
    _say(args, f"blend: {clone.voxels} voxels of {args.source} into {args.target} "
         f"({'mixed' if args.mixed else 'source'} gradients, {iters} iterations)")
    if args.json:
        box = clone.box
        record = _record(args, "blend", {"source": (args.source, source), "target": (args.target, target)}, fps) | {
            "mask": str(Path(args.mask).resolve()),
            "offset_t_y_x": list(args.offset),
            "guidance": "mixed" if args.mixed else "source",
            "region_voxels": clone.voxels,
            "dropped_voxels": clone.outside,
            "solved_box_t_y_x": [[s.start, s.stop] for s in box],
            "iterations": clone.solve.iterations,
            "residuals": [float(f"{r:.3e}") for r in clone.solve.residuals],
            "tol": args.tol,
        }
        write_report(args.json, record)
    return 0

