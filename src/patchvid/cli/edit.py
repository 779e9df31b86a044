"""``patchvid retarget | analogy | collage | inpaint``: editing one video (or image) with its patches.

Each handler reads its inputs, prepares its task's problem (``patchvid.tasks``) and hands it to the
runner, which checks memory, solves it with progress and writes the output and its record.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..tasks.settings import FILLS, GUIDE_WEIGHT, MODES, analogy_settings, inpaint_settings, retarget_settings
from .options import (
    add_input_arguments,
    add_labels_argument,
    add_method_arguments,
    add_output_arguments,
    add_run_arguments,
    command_parser,
    frame_count,
    frame_size,
    guide_weight,
    motion_bins,
    pixels,
    scales,
    settings_from,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "retarget",
        "a new size or length without stretching (wider, narrower, longer, shorter)",
        "Resize INPUT to a new width, height or length by rebuilding it from its own patches: objects "
        "keep their shape and speed; the scenery gets more (or less) of itself.",
        "  patchvid retarget clip.mp4 -o wide.mp4 --width 480\n"
        "  patchvid retarget clip.mp4 -o long.mp4 --scale 2,1,1      # twice as long, same speed\n"
        "  patchvid retarget photo.jpg -o square.png --size 300x300\n"
        "  patchvid retarget clip.mp4 -o loop.mp4 --frames 50 --loop  # 50 frames that play in a loop\n"
        "  patchvid retarget clip.mp4 -o wide.mp4 --width 480 --labels masks.mp4  # and wide_labels.mp4",
    )
    p.add_argument("input", help="video, GIF, folder of numbered frames, or image")
    _add_common(p)
    g = p.add_argument_group("output size (give --scale, or any of the others)")
    g.add_argument("--width", type=pixels, help=f"output width in pixels, {pixels.range}")
    g.add_argument("--height", type=pixels, help=f"output height in pixels, {pixels.range}")
    g.add_argument("--frames", type=frame_count, help=f"output length in frames, {frame_count.range}")
    g.add_argument("--size", type=frame_size, metavar="WxH", help="output width and height, e.g. 640x360")
    g.add_argument("--scale", type=scales, metavar="T,H,W",
                   help=f"output size relative to the input, per axis, each {scales.range}")
    g.add_argument("--loop", action="store_true", help="make the output periodic in time: it plays seamlessly "
                   "in a loop")
    add_labels_argument(p)
    add_method_arguments(p, retarget_settings())
    p.set_defaults(handler=run_retarget)

    p = command_parser(
        sub,
        "analogy",
        "the motion of one video in the look of another",
        "Render the layout and motion of STRUCTURE with the patches of APPEARANCE (the flow of lava "
        "made of waterfall water). The output has STRUCTURE's size and length. Each video's motion is "
        "measured by optical flow (OpenCV's DIS) and quantised into a few bins, from still to fastest; "
        "moving regions are then filled from moving regions. With --mode labels, STRUCTURE is a drawn "
        "label video (dark: still, bright: fast); with --mode colours, a sketch painted in APPEARANCE's "
        "own colours.",
        "  patchvid analogy lava.mp4 waterfall.mp4 -o lava_as_water.mp4\n"
        "  patchvid analogy sketch.mp4 waterfall.mp4 -o out.mp4 --mode labels",
    )
    p.add_argument("structure", help="video whose layout and motion the output follows (or a sketch)")
    p.add_argument("appearance", help="video (or image, with --mode colours) whose patches the output is made of")
    _add_common(p)
    g = p.add_argument_group("analogy")
    g.add_argument("--mode", choices=MODES, default="motion", help="what STRUCTURE is (default motion)")
    g.add_argument("--bins", "--levels", dest="bins", type=motion_bins,
                   help=f"motion bins, still to fastest, {motion_bins.range} (default 4; labels: every colour drawn)")
    g.add_argument("--weight", type=guide_weight, default=GUIDE_WEIGHT,
                   help=f"how strongly the structure steers, {guide_weight.range} (default {GUIDE_WEIGHT:g})")
    add_method_arguments(p, analogy_settings(), keeps_layout="with --mode colours")
    p.set_defaults(handler=run_analogy)

    p = command_parser(
        sub,
        "collage",
        "make a rough edit coherent (objects moved or duplicated by hand)",
        "EDITED is a copy of ORIGINAL (image or video) in which you moved, duplicated or painted over "
        "things roughly, in any image editor. The output has EDITED's layout, rebuilt from ORIGINAL's "
        "patches, so seams and pasted edges disappear.",
        "  patchvid collage photo.jpg edited.png -o result.png",
    )
    p.add_argument("original", help="the unedited image or video")
    p.add_argument("edited", help="your rough edit of it (any size)")
    _add_common(p)
    add_method_arguments(p, analogy_settings("colours"), keeps_layout="always")
    p.set_defaults(handler=run_collage)

    p = command_parser(
        sub,
        "inpaint",
        "fill a masked region with patches from the rest of the video",
        "Fill the region of INPUT that MASK marks in white with patches from outside it, coherent in "
        "space and time; everything outside the mask is kept as it was. By default (--fill cue) the "
        "colours inside the region steer what appears: paint a rough red blob there and the clip's red "
        "object appears. To remove what is there instead, use --fill smooth.",
        "  patchvid inpaint clip.mp4 --mask mask.png -o filled.mp4 --fill smooth\n"
        "  patchvid inpaint painted.mp4 --mask mask.mp4 -o out.mp4",
    )
    p.add_argument("input", help="video, GIF, folder of numbered frames, or image")
    p.add_argument("--mask", required=True,
                   help="image (used for every frame) or video of the same length; white = fill")
    p.add_argument("--fill", choices=FILLS, default="cue", help="what steers the filling (default cue)")
    _add_common(p)
    add_method_arguments(p, inpaint_settings(), keeps_layout="with --fill cue")
    p.set_defaults(handler=run_inpaint)


def _add_common(p: argparse.ArgumentParser) -> None:
    add_input_arguments(p)
    add_output_arguments(p)
    add_run_arguments(p)


# --------------------------------------------------------------------------------------- handlers


def run_retarget(args: argparse.Namespace) -> int:
    from ..tasks.retarget import prepare_retarget
    from .runner import Run, fail

    size = [args.frames, args.height, args.width]
    if args.size:
        try:
            w, h = (int(n) for n in args.size.lower().split("x"))
        except ValueError:
            fail(f"--size must be WIDTHxHEIGHT, e.g. 640x360; got {args.size!r}")
        if args.width or args.height:
            fail("give --size or --width/--height, not both")
        size[1:] = [h, w]
    if (args.scale is None) == all(n is None for n in size):
        fail("give the output size: --width, --height, --frames or --size, or --scale (not both)")
    settings = settings_from(args)
    run = Run(args, "retarget", [args.input], [Path(args.output)])
    video = run.read(args.input)
    labels = run.read_labels(video)
    if video.is_image and size[0] not in (None, 1):
        fail("an image has one frame: --frames does not apply")
    target = None if args.scale is not None else tuple(size)
    if args.loop and video.is_image:
        fail("an image has one frame: --loop applies to videos")
    problem = prepare_retarget(video.frames, target, scale=args.scale, settings=settings, loop=args.loop)
    # a retarget in space keeps the input's timeline; one in time has the engine's
    timeline = "same" if problem.output_shape[0] == video.shape[0] and not args.loop else "auto"
    return _solve(run, problem, video, args, {"scale": args.scale, "frames_height_width": size, "loop": args.loop},
                  settings, timeline, loop=args.loop, labels=labels)


def run_analogy(args: argparse.Namespace) -> int:
    from ..tasks.analogy import prepare_analogy
    from .runner import Run

    run = Run(args, "analogy", [args.structure, args.appearance], [Path(args.output)])
    structure = run.read(args.structure, "structure")
    appearance = run.read(args.appearance, "appearance")
    settings = settings_from(args, keep_layout_of=structure.shape if args.mode == "colours" else None)
    problem = prepare_analogy(structure.frames, appearance.frames, mode=args.mode, bins=args.bins,
                              weight=args.weight, settings=settings)
    # the output moves as the structure does: its timeline (and sound) is the structure's
    timeline = "same" if problem.output_shape[0] == structure.shape[0] else None
    return _solve(run, problem, structure, args, {"mode": args.mode, "bins": args.bins, "weight": args.weight},
                  settings, timeline)


def run_collage(args: argparse.Namespace) -> int:
    from ..tasks.analogy import prepare_analogy
    from .runner import Run

    run = Run(args, "collage", [args.original, args.edited], [Path(args.output)])
    original = run.read(args.original, "original")
    edited = run.read(args.edited, "edited")
    settings = settings_from(args, keep_layout_of=edited.shape)
    problem = prepare_analogy(edited.frames, original.frames, mode="colours", settings=settings)
    return _solve(run, problem, edited, args, {}, settings, "same")


def run_inpaint(args: argparse.Namespace) -> int:
    from ..tasks.inpaint import prepare_inpaint
    from .runner import Run

    run = Run(args, "inpaint", [args.input, args.mask], [Path(args.output)])
    video = run.read(args.input)
    mask = run.read_mask(args.mask, video)
    settings = settings_from(args, keep_layout_of=video.shape if args.fill == "cue" else None)
    problem = prepare_inpaint(video.frames, mask, fill=args.fill, settings=settings)
    return _solve(run, problem, video, args, {"mask": str(Path(args.mask).resolve()), "fill": args.fill}, settings,
                  "same")


def _solve(run, problem, lead, args: argparse.Namespace, options: dict, settings, timeline="auto",
           loop: bool = False, labels=None) -> int:
    """The steps after preparing: check, solve (with ``labels``: see :meth:`~patchvid.cli.runner.Run.solve`),
    write (at ``lead``'s rate and image-ness, with its sound on ``timeline``, looped with ``loop``: see
    :meth:`~patchvid.cli.runner.Run.write`), record."""
    run.check(problem)
    run.write(run.outputs[0], run.solve(problem, args.seed, labels), like=lead, timeline=timeline, loop=loop)
    run.finish(options, settings)
    return 0
