"""The options every sub-command shares and the argparse types they are read with.

Nothing here imports torch, numba or OpenCV: ``patchvid --help`` builds every parser from this module
and the torch-free settings modules, and answers at once.
"""

from __future__ import annotations

import argparse
import math
import re

from ..synthesis.settings import DEVICES, SEARCHES, VOTES, GenerateSettings

# --------------------------------------------------------------------------------------- types


def parse_time(text: str) -> int | float:
    """``12f`` -> frame 12 (int); ``1.5``, ``1.5s`` or ``0:01.5`` -> 1.5 seconds (float)."""
    s = text.strip().lower()
    if re.fullmatch(r"\d+f", s):
        return int(s[:-1])
    m = re.fullmatch(r"(?:(\d+):)?(\d+(?:\.\d*)?)s?", s)
    if not m:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (use seconds like 2.5, 2.5s, 1:02, or frames like 12f)")
    return int(m.group(1) or 0) * 60 + float(m.group(2))


def int_at_least(minimum: int):
    """An argparse type: a whole number no smaller than ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}: {text!r}")
        return value

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def positive_float(text: str) -> float:
    """An argparse type: a finite number above zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


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
    default = GenerateSettings().engine.patch
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


def offset3(text: str) -> tuple[int, int, int]:
    """``T,Y,X`` whole numbers, any sign."""
    try:
        parts = tuple(int(p) for p in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(f"not an offset: {text!r} (use T,Y,X in frames and pixels, e.g. 0,20,-5)")
    return parts  # type: ignore[return-value]


def completeness_weight(text: str) -> float | None:
    """``--alpha``: a number above zero, or ``off``."""
    if text.lower() in ("off", "none"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number or 'off': {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"alpha must be > 0 (or 'off'), got {text}")
    return value


def frames_of(value: int | float | None, fps) -> int | None:
    """A :func:`parse_time` value in frames: ``int`` is frames already, ``float`` seconds."""
    if value is None:
        return None
    return int(value) if isinstance(value, int) else round(float(value) * fps)


# --------------------------------------------------------------------------------------- groups


def command_parser(sub, name: str, summary: str, description: str, examples: str) -> argparse.ArgumentParser:
    """A sub-command's parser with its one-line summary, description and examples."""
    return sub.add_parser(
        name,
        help=summary,
        description=description,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_input_arguments(parser: argparse.ArgumentParser, time_range: bool = True) -> None:
    g = parser.add_argument_group("input")
    if time_range:
        g.add_argument(
            "--start", type=parse_time, help="where to start in the input: seconds (2.5, 0:02.5) or a frame (12f)"
        )
        g.add_argument("--end", type=parse_time, help="where to stop in the input (exclusive), as --start")
    g.add_argument(
        "--max-size",
        type=positive_int,
        metavar="PIXELS",
        help="shrink the input so that its LONGER side is at most this many pixels (aspect kept)",
    )


def add_output_arguments(parser: argparse.ArgumentParser, output: bool = True) -> argparse._ArgumentGroup:
    """``-o``, ``-y``, ``-q`` and ``--report`` (``--json``: its old spelling on some commands)."""
    g = parser.add_argument_group("output")
    if output:
        g.add_argument(
            "-o",
            "--output",
            required=True,
            help="output file: .mp4/.mov/.mkv/.avi (H.264), .webm, .gif, an image (.png/.jpg), or a folder for "
            "PNG frames",
        )
    g.add_argument("-y", "--overwrite", action="store_true", help="replace existing outputs")
    g.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    g.add_argument(
        "--report",
        "--json",
        dest="report",
        metavar="FILE",
        help="where to write the JSON record of the run"
        + (" (default: beside each output, OUTPUT.json)" if output else ""),
    )
    return g


def add_run_arguments(parser: argparse.ArgumentParser, samples: bool = False) -> argparse._ArgumentGroup:
    """Seed, frame rate and contact sheet (and ``--samples`` where a command makes several)."""
    g = parser.add_argument_group("samples" if samples else "run")
    if samples:
        g.add_argument(
            "--samples",
            type=positive_int,
            default=1,
            metavar="N",
            help="how many variations; with N > 1, OUTPUT gets _000, _001, ... before its extension, or "
            "give a pattern such as out_{}.mp4",
        )
        g.add_argument("--seed", type=int, default=0,
                       help="seed of the first sample; sample i uses SEED + i (default 0)")
    else:
        g.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    g.add_argument("--fps", type=float, help="output frame rate (default: the input's; 25 for frames/images)")
    g.add_argument("--sheet", metavar="PNG", help="also write a contact sheet: input frames above output frames")
    return g


def add_scale_argument(group: argparse._ArgumentGroup, default: tuple | None = GenerateSettings().scale) -> None:
    """``--scale``, read by :func:`settings_from`."""
    group.add_argument(
        "--scale",
        type=floats(3),
        default=default,
        metavar="T,H,W",
        help="output size relative to the input: frames, height, width (e.g. 0.5 for half length as "
        "the published method, 1,1,1.5 for wider; default 1)",
    )


def add_method_arguments(
    parser: argparse.ArgumentParser, defaults: GenerateSettings | None = None, keeps_layout: str = ""
) -> None:
    """The "method" options read by :func:`settings_from`, with a task's own ``defaults``.
    ``keeps_layout`` (where the task can keep a given layout: in which case) leaves the coarsest
    level's size and frames unset, to be chosen per input (:func:`settings_from`)."""
    d = defaults or GenerateSettings()
    e = d.engine
    m = parser.add_argument_group("method")
    m.add_argument("--noise", type=float, default=d.noise, help=f"noise at the coarsest level (default {d.noise:g})")
    m.add_argument("--patch", type=patch_size, default=e.patch, metavar="TxHxW",
                   help="patch size in frames x height x width (default 3x7x7; images use 1 frame)")
    m.add_argument("--factor", type=floats(2), default=d.factor, metavar="F[,FS]",
                   help="pyramid scale per level, in time and space (default 0.85)")
    layout = f"; {keeps_layout}: half the short side / all frames, so that the given layout survives"
    m.add_argument("--coarsest-size", type=positive_int, default=None if keeps_layout else d.coarsest_size,
                   metavar="PIXELS", help=f"short side of the coarsest level (default {d.coarsest_size}"
                   f"{layout if keeps_layout else ''})")
    m.add_argument("--coarsest-frames", type=positive_int, default=None if keeps_layout else d.coarsest_frames,
                   metavar="N", help=f"frames of the coarsest level (default {d.coarsest_frames}"
                   f"{layout if keeps_layout else ''})")
    m.add_argument("--iterations", type=positive_int, default=e.iterations, metavar="N",
                   help=f"search-and-vote rounds per level (default {e.iterations})")
    m.add_argument("--coarsest-iterations", type=positive_int, default=e.coarsest_iterations, metavar="N",
                   help=f"rounds at the coarsest level (default {e.coarsest_iterations})")
    m.add_argument("--vote", choices=VOTES, default=e.vote,
                   help=f"how overlapping patches are combined (default {e.vote})")
    m.add_argument("--alpha", type=completeness_weight, default=e.alpha,
                   help="completeness weight: smaller uses more of the input; 'off' to disable "
                   f"(default: {'off' if e.alpha is None else f'{e.alpha:g}'})")
    m.add_argument("--search", choices=SEARCHES, default=d.search,
                   help="nearest-neighbour search: exact, PatchMatch, or auto (exact on small levels; default)")
    m.add_argument("--device", choices=DEVICES, default=d.device,
                   help="where to compute (default auto: CUDA when available)")


def settings_from(args: argparse.Namespace, keep_layout_of: tuple[int, int, int] | None = None) -> GenerateSettings:
    """The settings the method options give. With ``keep_layout_of`` (the ``(T, H, W)`` whose layout
    the task keeps), a --coarsest-size or --coarsest-frames left unset follows
    :func:`~patchvid.tasks.settings.keep_layout` for it; unset elsewhere, the usual default."""
    from ..tasks.settings import keep_layout

    d = GenerateSettings()
    settings = GenerateSettings(
        noise=args.noise,
        scale=getattr(args, "scale", None) or d.scale,
        factor=args.factor,
        coarsest_size=args.coarsest_size or d.coarsest_size,
        coarsest_frames=args.coarsest_frames or d.coarsest_frames,
        search=args.search,
        device=args.device,
    ).replace(
        patch=args.patch,
        iterations=args.iterations,
        coarsest_iterations=args.coarsest_iterations,
        vote=args.vote,
        alpha=args.alpha,
    )
    settings.validate()
    if keep_layout_of is not None:
        kept = keep_layout(settings, keep_layout_of)
        settings = settings.replace(
            coarsest_size=args.coarsest_size or kept.coarsest_size,
            coarsest_frames=args.coarsest_frames or kept.coarsest_frames,
        )
    return settings
