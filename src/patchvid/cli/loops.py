"""``patchvid loop``, ``texture``, ``cinemagraph`` and ``blend``: classic single-video methods
(Video Textures, seamless loops, cinemagraphs, space-time Poisson cloning)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..classic.settings import DEFAULT_CROSSFADE, DEFAULT_SCREEN, AnalysisSettings
from .options import (
    SEED_RANGE,
    add_input_arguments,
    add_output_arguments,
    command_parser,
    discount_factor,
    feather_pixels,
    frame_count,
    frame_index,
    frames_of,
    jump_temperature,
    offset3,
    parse_time,
    pixels,
    screen_lambda,
    seed_value,
    solver_iterations,
    tolerance,
)


def _add_loop_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("loop")
    g.add_argument("--min-length", type=parse_time, metavar="TIME",
                   help="shortest loop: seconds (2.5) or frames (60f) (default: 1 s, at most half the clip)")
    g.add_argument("--max-length", type=parse_time, metavar="TIME", help="longest loop (default: the whole clip)")
    hide = g.add_mutually_exclusive_group()
    hide.add_argument("--crossfade", type=frame_index, metavar="N",
                      help=f"hide the jump with a crossfade of N frames, {frame_index.range} (default "
                      f"{DEFAULT_CROSSFADE}; 0: a plain cut)")
    hide.add_argument("--blend", choices=("crossfade", "poisson"),
                      help="how to hide the jump: crossfade, or a space-time Poisson closure "
                      "(screened, periodic in time)")
    g.add_argument("--screen", type=screen_lambda, default=DEFAULT_SCREEN, metavar="LAMBDA",
                   help="Poisson closure: how far the correction spreads, about 1/sqrt(LAMBDA) frames; LAMBDA "
                   f"{screen_lambda.range} (default 0.001)")
    g.add_argument("--analysis-size", type=pixels, default=64, metavar="PIXELS",
                   help=f"longer side of the small frames that frames are compared on, {pixels.range} (default 64)")


def register(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub, "loop", "the best seamless loop in a clip",
        "Find the loop in INPUT whose end best matches its start, and hide the jump. Prints the "
        "seam ratio before and after (the difference across the wrap over the clip's typical frame step; "
        "1 is invisible).",
        "  patchvid loop waves.mp4 -o waves.gif --min-length 2s\n"
        "  patchvid loop tree.avi -o tree.mp4 --blend poisson --report tree.json",
    )
    p.add_argument("input", help="video, GIF or folder of numbered frames")
    add_input_arguments(p)
    _add_loop_arguments(p)
    add_output_arguments(p)
    p.set_defaults(handler=run_loop)

    d = AnalysisSettings()
    p = command_parser(
        sub, "texture", "endless, non-repeating playback of a clip (Video Textures)",
        "Play INPUT for as long as wanted by jumping between frames that look alike (Video "
        "Textures): a seeded random walk on transition probabilities that avoids dead ends; jumps crossfaded.",
        "  patchvid texture candle.mp4 -o candle.mp4 --duration 60s --seed 3",
    )
    p.add_argument("input", help="video, GIF or folder of numbered frames")
    add_input_arguments(p)
    g = p.add_argument_group("texture")
    g.add_argument("--duration", type=parse_time, required=True, metavar="TIME",
                   help="length of the output: seconds (60, 60s, 1:00) or frames (1500f)")
    g.add_argument("--seed", type=seed_value, default=0,
                   help=f"seed of the random walk, {SEED_RANGE}; the same seed gives the same video")
    g.add_argument("--first", type=frame_index, default=0, metavar="K",
                   help=f"frame to start on, {frame_index.range} (default 0)")
    g.add_argument("--crossfade", type=frame_index, default=4, metavar="N",
                   help=f"frames over which each jump is crossfaded, {frame_index.range} (default 4; 0: plain cuts)")
    g.add_argument("--temperature", type=jump_temperature, default=d.temperature,
                   help=f"how freely to jump: σ over the mean transition cost, {jump_temperature.range} (default "
                   f"{d.temperature:g}; about 0.005 to 0.1)")
    g.add_argument("--discount", "--alpha", dest="discount", type=discount_factor, default=d.discount,
                   help=f"dead-end avoidance: discount of future costs, {discount_factor.range} (default "
                   f"{d.discount:g}; 0: off)")
    g.add_argument("--keep", type=frame_count, default=d.keep, metavar="N",
                   help=f"at most N transitions per frame after pruning, {frame_count.range} (default {d.keep})")
    g.add_argument("--analysis-size", type=pixels, default=d.size, metavar="PIXELS",
                   help=f"longer side of the small frames that frames are compared on, {pixels.range} (default "
                   f"{d.size})")
    add_output_arguments(p)
    p.set_defaults(handler=run_texture)

    p = command_parser(
        sub, "cinemagraph", "a still frame with one looping region",
        "A still frame everywhere except the region of MASK (white), which loops seamlessly; the "
        "region's edge is feathered into the still.",
        "  patchvid cinemagraph fountain.mp4 --mask water.png -o fountain.gif --still 0",
    )
    p.add_argument("input", help="video, GIF or folder of numbered frames")
    p.add_argument("--mask", required=True,
                   help="image (or video of the same length) of the input's size: white loops, black stays still")
    add_input_arguments(p)
    _add_loop_arguments(p)
    g = p.add_argument_group("cinemagraph")
    g.add_argument("--still", type=frame_index, metavar="K",
                   help="frame shown outside the region, counted from --start (default: the loop's first frame)")
    g.add_argument("--feather", type=feather_pixels, metavar="PIXELS",
                   help=f"softness of the region's edge, {feather_pixels.range} (default: 0.8%% of the longer side, "
                   "at least 2)")
    add_output_arguments(p)
    p.set_defaults(handler=run_cinemagraph)

    p = command_parser(
        sub, "blend", "space-time Poisson cloning of a region of one video into another",
        "Paste the region of SOURCE selected by MASK (white) into TARGET so that no seam shows, "
        "in x, y and time: the source's gradients are kept and its colours follow the target's at the "
        "region's border. The output has TARGET's frames, size and rate.",
        "  patchvid blend fish.mp4 pond.mp4 --mask fish_mask.png -o pond_fish.mp4 --offset 0,40,120\n"
        "  patchvid blend logo.png wall.mp4 --mask logo_mask.png -o out.mp4 --mixed",
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
    g.add_argument("--tol", type=tolerance, default=1e-3,
                   help=f"solver's relative residual, {tolerance.range} (default 0.001)")
    g.add_argument("--max-iter", type=solver_iterations, default=500, metavar="N",
                   help=f"solver iterations at most, {solver_iterations.range} (default 500)")
    add_output_arguments(p)
    p.set_defaults(handler=run_blend)


# --------------------------------------------------------------------------------------- handlers


def _hide(args: argparse.Namespace) -> tuple[str, int]:
    """``("crossfade", n)``, ``("cut", 0)`` or ``("poisson", 0)`` from --blend and --crossfade."""
    if args.blend == "poisson":
        return "poisson", 0
    n = DEFAULT_CROSSFADE if args.crossfade is None else args.crossfade
    return ("crossfade", n) if n > 0 else ("cut", 0)


def _how(hide: str, used: int) -> str:
    return {"crossfade": f"{used}-frame crossfade", "poisson": "Poisson closure", "cut": "plain cut"}[hide]


def _loop_record(loop) -> dict:
    return {"start": loop.start, "length": loop.length, "end": loop.end, "cost": round(loop.cost, 4)}


def _blend_record(hide: str, used: int, screen: float) -> dict:
    return {"method": hide, "crossfade_frames": used, "screen": screen if hide == "poisson" else None}


def _lengths(args: argparse.Namespace, video, fps, hide: str) -> tuple[int, int]:
    from ..classic import loops
    from .runner import check_memory

    lengths = loops.loop_lengths(video.shape[0], fps, frames_of(args.min_length, fps),
                                 frames_of(args.max_length, fps), hide)
    check_memory(loops.analysis_bytes(video.shape[0]), f"comparing all pairs of {video.shape[0]} frames",
                 "give a shorter --start/--end range")
    return lengths


def run_loop(args: argparse.Namespace) -> int:
    from ..classic import loops
    from .runner import Run

    run = Run(args, "loop", [args.input], [Path(args.output)])
    video = run.read(args.input, min_frames=4, purpose="a loop")
    fps = run.rate(video)
    hide, crossfade = _hide(args)
    lo, hi = _lengths(args, video, fps, hide)
    result = loops.loop(video.frames, lo, hi, hide=hide, crossfade=crossfade, screen=args.screen,
                        analysis_size=args.analysis_size)
    best = result.loop
    run.progress(f"compared {video.shape[0]} frames in {result.seconds['analysis']:.2f}s; best loop "
                 f"{best.start}..{best.end - 1} ({best.length} frames), cost {best.cost:.2f}")
    if hide == "crossfade" and result.crossfade < crossfade:
        run.progress(f"note: crossfade shortened to {result.crossfade} frames: the clip has no more frames around "
                     "the loop")
    run.check_frames_fit(len(result.frames))
    run.write(run.outputs[0], result.frames, like=video, fps=fps,
              timeline=range(best.start, best.start + len(result.frames)), loop=True)
    how = _how(hide, result.crossfade)
    run.say(f"loop: frames {best.start}..{best.end - 1} of {video.shape[0]} ({best.length} frames, "
            f"{best.length / float(fps):.2f} s); seam ratio {result.seam_before:.2f} before, "
            f"{result.seam_after:.2f} after the {how}")
    run.finish(
        {"min_length": lo, "max_length": hi, "analysis_size": args.analysis_size},
        loop=_loop_record(best),
        search={"min_length": lo, "max_length": hi, "analysis_size": args.analysis_size,
                "cost": "D'[start+length, start]: RMS grey levels between thumbnails, diagonally filtered"},
        blend=_blend_record(hide, result.crossfade, args.screen),
        typical_step=round(result.typical_step, 4),
        seam_ratio={"before": round(result.seam_before, 4), "after": round(result.seam_after, 4)},
        seconds={k: round(v, 3) for k, v in result.seconds.items()},
    )
    return 0


def run_texture(args: argparse.Namespace) -> int:
    from ..classic import loops
    from .runner import Run, check_memory, fail

    run = Run(args, "texture", [args.input], [Path(args.output)])
    video = run.read(args.input, min_frames=3, purpose="a video texture")
    fps = run.rate(video)
    t, h, w = video.shape
    length = frames_of(args.duration, fps)
    if length < 1:
        fail(f"--duration {args.duration} is shorter than one frame")
    if args.first >= t - 1:
        fail(f"--first {args.first} is not a frame that can be played on from (0..{t - 2})")
    check_memory(length * h * w * 3, f"a texture of {length} frames of {w}x{h}",
                 "give a shorter --duration or a smaller --max-size")
    check_memory(loops.analysis_bytes(t, matrices=7), f"comparing all pairs of {t} frames",
                 "give a shorter --start/--end range")
    run.check_frames_fit(length)
    settings = AnalysisSettings(size=args.analysis_size, discount=args.discount, temperature=args.temperature,
                                keep=args.keep)
    result = loops.texture(video.frames, length, args.seed, first=args.first, crossfade=args.crossfade,
                           settings=settings)
    a = result.analysis
    run.progress(f"analysed {t} frames in {sum(a.seconds.values()):.2f}s "
                 f"(future cost: {a.rounds} rounds of policy iteration)")
    if result.likeliest == 1.0:
        run.progress("note: only one playback is possible: every seed gives the same frames (each frame played "
                     "keeps a single transition; a longer clip or a higher --temperature may keep more)")
    elif result.likeliest > 0.5:
        run.progress(f"note: most seeds give the same frames: a seed takes the likeliest jump at every step with "
                     f"probability {result.likeliest:.0%} (a higher --temperature jumps more freely)")
    run.start_sample(seed=args.seed)
    run.write(run.outputs[0], result.frames, like=video, fps=fps, timeline=result.order.tolist())
    run.say(f"texture: {length} frames ({length / float(fps):.2f} s) from {t}; {len(result.jumps)} jumps; "
            f"seed {args.seed}")
    p, c = a.probabilities, a.costs
    run.finish(
        {"duration_frames": length, "first": args.first, "crossfade_frames": args.crossfade},
        settings,
        seed=args.seed,
        frames=length,
        sigma=a.sigma,
        policy_iteration_rounds=a.rounds,
        transitions_per_frame=round(float((p > 0).sum(axis=1).mean()), 3),
        only_one_playback=result.likeliest == 1.0,
        likeliest_playback_probability=round(result.likeliest, 4),
        jumps=[{"at": pos, "from": i, "to": j, "probability": round(float(p[i, j]), 6),
                "cost": round(float(c[i, j]), 4)} for pos, i, j in result.jumps],
        crossfade_frames=args.crossfade,
        seconds={k: round(v, 3) for k, v in a.seconds.items()},
    )
    return 0


def run_cinemagraph(args: argparse.Namespace) -> int:
    from ..classic import loops
    from .runner import Run, fail

    run = Run(args, "cinemagraph", [args.input, args.mask], [Path(args.output)])
    video = run.read(args.input, min_frames=4, purpose="a cinemagraph")
    fps = run.rate(video)
    mask = run.read_mask(args.mask, video, f"the input {args.input}")
    run.progress(f"mask selects {100 * mask.mean():.1f}% of the {'frame' if mask.ndim == 2 else 'clip'}")
    if args.still is not None and args.still >= video.shape[0]:
        fail(f"--still {args.still} is not a frame of the input (0..{video.shape[0] - 1})")
    hide, crossfade = _hide(args)
    lo, hi = _lengths(args, video, fps, hide)
    result = loops.cinemagraph(video.frames, mask, lo, hi, still=args.still, feather_radius=args.feather, hide=hide,
                               crossfade=crossfade, screen=args.screen, analysis_size=args.analysis_size)
    best = result.loop
    run.progress(f"best loop of the region {best.start}..{best.end - 1} ({best.length} frames), cost {best.cost:.2f}")
    run.check_frames_fit(len(result.frames))
    run.write(run.outputs[0], result.frames, like=video, fps=fps,
              timeline=range(best.start, best.start + len(result.frames)), loop=True)
    run.say(f"cinemagraph: still frame {result.still}, region loops frames {best.start}..{best.end - 1} "
            f"({best.length} frames, {best.length / float(fps):.2f} s); seam ratio in the region "
            f"{result.seam_before:.2f} before, {result.seam_after:.2f} after the {_how(hide, result.crossfade)}")
    run.finish(
        {"min_length": lo, "max_length": hi, "analysis_size": args.analysis_size},
        mask={"path": str(Path(args.mask).resolve()), "fraction": round(float(mask.mean()), 5),
              "per_frame": mask.ndim == 3, "feather_pixels": result.feather},
        still=result.still,
        loop=_loop_record(best),
        search={"min_length": lo, "max_length": hi, "analysis_size": args.analysis_size},
        blend=_blend_record(hide, result.crossfade, args.screen),
        seam_ratio={"before": round(result.seam_before, 4), "after": round(result.seam_after, 4),
                    "measured_on": "the masked region"},
    )
    return 0


def run_blend(args: argparse.Namespace) -> int:
    from ..classic import poisson
    from .runner import Run, check_memory

    run = Run(args, "blend", [args.source, args.target, args.mask], [Path(args.output)])
    source = run.read(args.source, "source", time_range=False, shrink=False)
    target = run.read(args.target, "target", time_range=False, shrink=False)
    mask = run.read_mask(args.mask, source, f"the source {args.source}", time_range=False)
    tt, th, tw = target.shape
    check_memory(tt * th * tw * 3 * 4 * 2, f"blending into {tt} frames of {tw}x{th}", "use a shorter target")
    run.check_frames_fit(tt)
    out, clone = poisson.blend(source.frames, target.frames, mask, args.offset, args.mixed, args.tol, args.max_iter)
    if clone.outside:
        run.progress(f"note: {clone.outside} voxels of the masked region fall outside the target and were dropped")
    iterations = max(clone.solve.iterations)
    run.progress(f"solved {clone.voxels} unknowns x 3 channels in {iterations} iterations "
                 f"(residual {max(clone.solve.residuals):.1e})")
    if max(clone.solve.residuals) > args.tol:  # poisson.blend refuses what the rounding would not hide
        run.progress(f"note: stopped at --max-iter {args.max_iter} before reaching --tol {args.tol}; the estimated "
                     f"error, {max(clone.solve.errors):.2f} grey levels, is below what rounding shows")
    if clone.clipped:
        run.progress(f"note: {clone.clipped:.1%} of the region's values fell outside 0..255 and were clipped "
                     f"(its mean colour moved by {clone.clip_shift:.1f} grey levels)")
    run.write(run.outputs[0], out, fps=run.rate(target) if tt > 1 else None, like=target, timeline="same")
    run.say(f"blend: {clone.voxels} voxels of {args.source} into {args.target} "
            f"({'mixed' if args.mixed else 'source'} gradients, {iterations} iterations)")
    run.finish(
        {"offset_t_y_x": list(args.offset), "mixed": args.mixed, "tol": args.tol, "max_iter": args.max_iter},
        mask=str(Path(args.mask).resolve()),
        offset_t_y_x=list(args.offset),
        guidance="mixed" if args.mixed else "source",
        region_voxels=clone.voxels,
        dropped_voxels=clone.outside,
        solved_box_t_y_x=[[s.start, s.stop] for s in clone.box],
        iterations=clone.solve.iterations,
        residuals=[float(f"{r:.3e}") for r in clone.solve.residuals],
        error_estimates=[float(f"{e:.3e}") for e in clone.solve.errors],
        clipped_share=round(clone.clipped, 5),
        clip_mean_shift=round(clone.clip_shift, 3),
        tol=args.tol,
    )
    return 0
