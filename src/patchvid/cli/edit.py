"""``patchvid retarget | analogy | collage | inpaint``: editing one video (or image) with its patches.

Every command reads its inputs, checks outputs and memory before any work, runs one recipe with
progress per pyramid level, and writes the output atomically with a JSON record beside it.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..analogy import MODES, WEIGHT, analogy, analogy_settings, collage
from ..engine import LevelReport
from ..generate import GenerateSettings, Plan, keep_layout, plan
from ..inpaint import FILLS, check_mask, inpaint
from ..media import Video, check_output, output_kind, read_video, write_video
from ..pictures import contact_sheet
from ..resize import fit_size, resize_frames
from ..retarget import check_output_size, output_scale, retarget, retarget_settings
from .common import (
    Progress,
    add_input_arguments,
    add_output_arguments,
    check_memory,
    describe_input,
    fail,
    load_input,
    positive_int,
    record_header,
    write_report,
)
from .generate import add_method_arguments, floats, plan_record, settings_from, sheet_frames


def register(sub: argparse._SubParsersAction) -> None:
    _register_retarget(sub)
    _register_analogy(sub)
    _register_collage(sub)
    _register_inpaint(sub)


# --------------------------------------------------------------------------------- the commands


def _register_retarget(sub) -> None:
    p = _parser(
        sub,
        "retarget",
        "a new size or length without stretching (wider, narrower, longer, shorter)",
        "Resize INPUT to a new width, height or length by rebuilding it from its own patches: objects "
        "keep their shape and speed; the scenery gets more (or less) of itself.",
        "  patchvid retarget clip.mp4 -o wide.mp4 --width 480\n"
        "  patchvid retarget clip.mp4 -o long.mp4 --scale 2,1,1      # twice as long, same speed\n"
        "  patchvid retarget photo.jpg -o square.png --size 300x300",
    )
    p.add_argument("input", help="video, GIF, folder of numbered frames, or image")
    add_input_arguments(p)
    add_output_arguments(p)
    g = p.add_argument_group("output size (give --scale, or any of the others)")
    g.add_argument("--width", type=positive_int, help="output width in pixels")
    g.add_argument("--height", type=positive_int, help="output height in pixels")
    g.add_argument("--frames", type=positive_int, help="output length in frames")
    g.add_argument("--size", metavar="WxH", help="output width and height, e.g. 640x360")
    g.add_argument("--scale", type=floats(3), metavar="T,H,W", help="output size relative to the input, per axis")
    _common_options(p, retarget_settings())
    p.set_defaults(handler=_run_retarget)


def _run_retarget(args) -> int:
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

    def scale_of(video: Video) -> tuple[float, float, float]:
        if args.scale is not None:
            return args.scale
        if video.is_image and size[0] not in (None, 1):
            fail("an image has one frame: --frames does not apply")
        return output_scale(video.shape, tuple(size))

    def make_plan(videos: dict[str, Video], settings: GenerateSettings) -> Plan:
        p = plan(videos["input"].shape, dataclasses.replace(settings, scale=scale_of(videos["input"])))
        if args.scale is None:
            check_output_size(tuple(size), p.output_shape)
        return p

    return _run(
        args,
        "retarget",
        {"input": args.input},
        lambda videos: settings,
        make_plan,
        lambda videos, settings, on_level: retarget(
            videos["input"].frames,
            scale=scale_of(videos["input"]),
            seed=args.seed,
            settings=settings,
            on_level=on_level,
        ),
        {"scale": args.scale, "frames_height_width": size},
    )


def _register_analogy(sub) -> None:
    p = _parser(
        sub,
        "analogy",
        "the motion of one video in the look of another",
        "Render the layout and motion of STRUCTURE with the patches of APPEARANCE (the flow of lava "
        "made of waterfall water). The output has STRUCTURE's size and length. Each video's motion is "
        "measured by optical flow (OpenCV's DIS) and quantised into a few levels, from still to fastest; "
        "moving regions are then filled from moving regions. With --mode labels, STRUCTURE is a drawn "
        "label video (dark: still, bright: fast); with --mode colours, a sketch painted in APPEARANCE's "
        "own colours.",
        "  patchvid analogy lava.mp4 waterfall.mp4 -o lava_as_water.mp4\n"
        "  patchvid analogy sketch.mp4 waterfall.mp4 -o out.mp4 --mode labels",
    )
    p.add_argument("structure", help="video whose layout and motion the output follows (or a sketch)")
    p.add_argument("appearance", help="video (or image, with --mode colours) whose patches the output is made of")
    add_input_arguments(p)
    add_output_arguments(p)
    g = p.add_argument_group("analogy")
    g.add_argument("--mode", choices=MODES, default="motion", help="what STRUCTURE is (default motion)")
    g.add_argument("--levels", type=positive_int, help="motion levels (default 4; labels: every colour drawn)")
    g.add_argument(
        "--weight", type=float, default=WEIGHT, help=f"how strongly the structure steers (default {WEIGHT:g})"
    )
    _common_options(p, analogy_settings(), keeps_layout="with --mode colours")
    p.set_defaults(handler=_run_analogy)


def _run_analogy(args) -> int:
    if args.weight < 0:
        fail(f"--weight must be >= 0, got {args.weight}")
    settings_for = _settings(args, keeps_layout=args.mode == "colours", follow="structure")
    return _run(
        args,
        "analogy",
        {"structure": args.structure, "appearance": args.appearance},
        settings_for,
        lambda v, settings: _plan_following(settings, v["structure"], v["appearance"]),
        lambda v, settings, on_level: analogy(
            v["structure"].frames,
            v["appearance"].frames,
            mode=args.mode,
            levels=args.levels,
            weight=args.weight,
            seed=args.seed,
            settings=settings,
            on_level=on_level,
        ),
        {"mode": args.mode, "levels": args.levels, "weight": args.weight},
        follow="structure",
    )


def _register_collage(sub) -> None:
    p = _parser(
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
    add_input_arguments(p)
    add_output_arguments(p)
    _common_options(p, analogy_settings("colours"), keeps_layout="always")
    p.set_defaults(handler=_run_collage)


def _run_collage(args) -> int:
    return _run(
        args,
        "collage",
        {"original": args.original, "edited": args.edited},
        _settings(args, keeps_layout=True, follow="edited"),
        lambda v, settings: _plan_following(settings, v["edited"], v["original"]),
        lambda v, settings, on_level: collage(
            v["original"].frames, v["edited"].frames, seed=args.seed, settings=settings, on_level=on_level
        ),
        {},
        follow="edited",
    )


def _register_inpaint(sub) -> None:
    p = _parser(
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
    p.add_argument(
        "--mask", required=True, help="image (used for every frame) or video of the same length; white = fill"
    )
    p.add_argument("--fill", choices=FILLS, default="cue", help="what steers the filling (default cue)")
    add_input_arguments(p)
    add_output_arguments(p)
    _common_options(p, GenerateSettings(noise=0.0), keeps_layout="with --fill cue")
    p.set_defaults(handler=_run_inpaint)


def _run_inpaint(args) -> int:
    masks: dict[str, np.ndarray] = {}

    def mask_of(video: Video, progress: Progress) -> np.ndarray:
        if "m" not in masks:
            masks["m"] = _load_mask(args, video, progress)
        return masks["m"]

    progress_box: list[Progress] = []
    return _run(
        args,
        "inpaint",
        {"input": args.input},
        _settings(args, keeps_layout=args.fill == "cue", follow="input"),
        lambda v, settings: plan(v["input"].shape, settings),
        lambda v, settings, on_level: inpaint(
            v["input"].frames,
            mask_of(v["input"], progress_box[0]),
            fill=args.fill,
            seed=args.seed,
            settings=settings,
            on_level=on_level,
        ),
        {"mask": str(Path(args.mask).resolve()), "fill": args.fill},
        inputs_checked=[args.mask],
        before=lambda v, progress: (progress_box.append(progress), mask_of(v["input"], progress)),
    )


# ------------------------------------------------------------------------------------ shared


def _parser(sub, name: str, summary: str, description: str, examples: str) -> argparse.ArgumentParser:
    return sub.add_parser(
        name,
        help=summary,
        description=description,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def _common_options(p: argparse.ArgumentParser, defaults: GenerateSettings, keeps_layout: str = "") -> None:
    """Seed, fps, sheet and the method options; ``keeps_layout`` (when the task can keep a given
    layout: which case) leaves the coarsest level's size and frames unset, to be chosen per input."""
    g = p.add_argument_group("run")
    g.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    g.add_argument("--fps", type=float, help="output frame rate (default: the input's; 25 for frames/images)")
    g.add_argument("--sheet", metavar="PNG", help="also write a contact sheet: input frames above output frames")
    add_method_arguments(p, defaults)
    if keeps_layout:
        p.set_defaults(coarsest_size=None, coarsest_frames=None)
        for action in p._actions:
            if action.dest in ("coarsest_size", "coarsest_frames"):
                action.help = (action.help or "").split(" (default")[0] + (
                    f" (default {getattr(defaults, action.dest)}; {keeps_layout}: half the short side / all frames, "
                    "so that the given layout survives)"
                )


def _settings(args, keeps_layout: bool, follow: str) -> Callable[[dict[str, Video]], GenerateSettings]:
    """The settings for the inputs once read: where the task keeps a given layout (colour cues,
    collages, sketches), --coarsest-size and --coarsest-frames left unset follow
    :func:`~patchvid.generate.keep_layout` for the ``follow`` input; elsewhere the usual defaults."""
    size, frames = args.coarsest_size, args.coarsest_frames
    d = GenerateSettings()
    args.coarsest_size, args.coarsest_frames = size or d.coarsest_size, frames or d.coarsest_frames
    base = settings_from(args)

    def resolve(videos: dict[str, Video]) -> GenerateSettings:
        if not keeps_layout:
            return base
        k = keep_layout(base, videos[follow].shape)
        return dataclasses.replace(
            base, coarsest_size=size or k.coarsest_size, coarsest_frames=frames or k.coarsest_frames
        )

    return resolve


def _ratio(target: Video, source: Video) -> tuple[float, float, float]:
    """The scale that turns ``source``'s shape into ``target``'s."""
    return tuple(a / b for a, b in zip(target.shape, source.shape))  # type: ignore[return-value]


def _plan_following(settings: GenerateSettings, target: Video, source: Video) -> Plan:
    """The plan of an analogy or collage: ``source``'s patches at ``target``'s size and length (a
    ``target`` shorter than a patch is synthesized at the patch's length and then cut to its own)."""
    p = plan(source.shape, dataclasses.replace(settings, scale=_ratio(target, source)))
    return dataclasses.replace(p, output_shape=(min(p.output_shape[0], target.shape[0]), *p.output_shape[1:]))


def _load_mask(args, video: Video, progress: Progress) -> np.ndarray:
    """The mask as ``(T, H, W) bool`` (white = fill), cut to the same time range and shrunk as the
    input when --max-size shrank it."""
    mask = read_video(args.mask, args.start, args.end)
    for note in mask.notes:
        progress(f"note: {note}")
    m = mask.frames
    t, h, w = video.shape
    if m.shape[1:3] != (h, w) and args.max_size and fit_size(*m.shape[1:3], args.max_size) == (h, w):
        m = resize_frames(m, h, w)
    grey = m[..., :3].mean(axis=-1) if m.shape[-1] >= 3 else m[..., 0]
    if mask.is_image or m.shape[0] == 1:
        grey = grey[0]
    return check_mask(grey > 127, (t, h, w))


def _run(
    args,
    command: str,
    paths: dict[str, str],
    settings_for: Callable[[dict[str, Video]], GenerateSettings],
    make_plan: Callable[[dict[str, Video], GenerateSettings], Plan],
    produce: Callable[[dict[str, Video], GenerateSettings, Callable[[LevelReport], None]], np.ndarray],
    options: dict,
    follow: str | None = None,
    inputs_checked: list[str] = (),  # type: ignore[assignment]
    before: Callable[[dict[str, Video], Progress], object] | None = None,
) -> int:
    """Check outputs, read the inputs, plan and check memory, run ``produce``, write the output,
    a contact sheet if asked, and the JSON record. ``follow`` names the input whose frame rate and
    image-ness the output takes (default: the first)."""
    progress = Progress(args.quiet)
    out = Path(args.output)
    report = Path(args.report) if args.report else out.with_name(out.name.rstrip("/") + ".json")
    output_kind(out)
    if args.sheet and output_kind(args.sheet) != "image":
        fail(f"--sheet needs an image file name (.png, .jpg), got {args.sheet}")
    written = [out, report] + ([Path(args.sheet)] if args.sheet else [])
    if len(set(written)) != len(written):
        fail("the report or sheet would overwrite the output")
    sources = list(paths.values()) + list(inputs_checked)
    for path in written:
        check_output(path, sources, args.overwrite)

    videos = {name: load_input(path, args.start, args.end, args.max_size, progress) for name, path in paths.items()}
    lead = videos[follow or next(iter(paths))]
    if before is not None:
        before(videos, progress)
    settings = settings_for(videos)
    p = make_plan(videos, settings)
    if output_kind(out) == "image" and p.output_shape[0] > 1:
        fail(f"{out} is an image file but the output has {p.output_shape[0]} frames: use .mp4, .gif or a folder")
    check_memory(
        p.estimated_bytes,
        f"{command} to {p.output_shape[0]}x{p.output_shape[1]}x{p.output_shape[2]}",
        "use a smaller --max-size or a shorter time range",
    )
    progress(
        f"output {p.output_shape[0]} frames of {p.output_shape[2]}x{p.output_shape[1]}, patch {p.patch}, "
        f"{len(p.levels)} levels, {p.device}"
    )
    levels: list[dict] = []

    def on_level(r: LevelReport) -> None:
        levels.append(dataclasses.asdict(r))
        progress(
            f"level {len(p.levels) - r.level}/{len(p.levels)} {r.shape[0]}x{r.shape[1]}x{r.shape[2]}: {r.seconds:.2f}s"
        )

    started = progress.elapsed()
    frames = produce(videos, settings, on_level)
    seconds = progress.elapsed() - started
    if frames.ndim == 3:
        frames = frames[None]
    fps = args.fps or lead.fps
    if fps is None and output_kind(out) in ("video", "gif") and frames.shape[0] > 1:
        progress("note: the input stores no frame rate; writing 25 fps (set it with --fps)")
    for note in write_video(out, frames[0] if lead.is_image and frames.shape[0] == 1 else frames, fps):
        progress(f"note: {note}")
    progress(f"wrote {out} ({seconds:.1f}s)")
    if args.sheet:
        rows = [sheet_frames(v.frames) for v in videos.values()] + [sheet_frames(frames)]
        write_video(args.sheet, contact_sheet(rows))
        progress(f"wrote {args.sheet} (inputs, then the output)")
    inputs = {}
    for name, video in videos.items():
        args.input = paths[name]
        inputs[name] = describe_input(args, video)
    record = record_header(command) | {
        "inputs": inputs,
        "options": options,
        "settings": dataclasses.asdict(settings),
        "plan": plan_record(p),
        "output": str(out),
        "seed": args.seed,
        "seconds": round(seconds, 3),
        "levels": levels,
        "output_fps": str(fps) if fps else None,
    }
    write_report(report, record)
    return 0
