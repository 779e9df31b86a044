"""The options every sub-command shares and the argparse types they are read with.

Nothing here imports torch, numba or OpenCV: ``patchvid --help`` builds every parser from this module
and the torch-free settings modules, and answers at once.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import re
from fractions import Fraction
from typing import TYPE_CHECKING

from ..errors import InputError
from ..synthesis.settings import DEVICES, PRESETS, SEARCHES, VOTES, GenerateSettings

if TYPE_CHECKING:
    from ..media.times import Time

# --------------------------------------------------------------------------------------- types


def parse_time(text: str) -> Time:
    """An argparse type: a :class:`~patchvid.media.times.Time` by the one rule of
    :mod:`patchvid.media.times`, at most :data:`MAX_FRAMES` seconds or frames.

    Example:
        >>> parse_time("12f"), str(parse_time("1:02.5"))
        (Time(seconds=None, frame=12), '62.5s')
    """
    from ..media import times  # here, not at the top: the media package loads PyAV and Pillow

    try:
        value = times.parse_time(text)
    except InputError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if (value.frame if value.frame is not None else value.seconds) > MAX_FRAMES:  # PyAV seeks in 64-bit units
        raise argparse.ArgumentTypeError(f"a time must be at most {MAX_FRAMES} seconds or {MAX_FRAMES}f, got {text!r}")
    return value


def duration(text: str) -> Time:
    """An argparse type: a length of time, as :func:`parse_time` reads it (``5``, ``5s``, ``1:30``,
    ``50f``) or in minutes or hours (``10m``, ``1.5h``); more than zero.

    Example:
        >>> duration("10m").seconds, duration("50f").frame, duration("1:30").seconds
        (600.0, 50, 90.0)
    """
    from ..media.times import Time

    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*(m|min|h)", text.strip().lower())
    value = Time(seconds=float(m.group(1)) * (3600 if m.group(2) == "h" else 60)) if m else parse_time(text)
    amount = value.frame if value.frame is not None else value.seconds
    if not math.isfinite(amount) or amount <= 0:
        raise argparse.ArgumentTypeError(f"a duration must be more than zero, got {text!r}")
    if amount > MAX_FRAMES:
        raise argparse.ArgumentTypeError(f"a duration must be at most {MAX_FRAMES} seconds or {MAX_FRAMES}f, "
                                         f"got {text!r}")
    return value


# ffmpeg's names for frame rates (libavutil/parseutils.c, video_rate_abbrs, read by av_parse_video_rate)
FRAME_RATE_NAMES: dict[str, Fraction] = {
    "ntsc": Fraction(30000, 1001),
    "pal": Fraction(25),
    "qntsc": Fraction(30000, 1001),
    "qpal": Fraction(25),
    "sntsc": Fraction(30000, 1001),
    "spal": Fraction(25),
    "film": Fraction(24),
    "ntsc-film": Fraction(24000, 1001),
}
# a frame every 100 s at the slowest (GIF holds at most 655 s a frame); 1000 fps at the fastest
MIN_FRAME_RATE, MAX_FRAME_RATE = Fraction(1, 100), Fraction(1000)


def frame_rate(text: str) -> Fraction:
    """An argparse type: an exact frame rate. ``30``, ``29.97`` (exactly 2997/100: NTSC is
    ``30000/1001`` or ``ntsc``), ``30000/1001`` (or ``30000:1001``), or one of ffmpeg's names
    (:data:`FRAME_RATE_NAMES`); from 0.01 to 1000 frames per second.

    Example:
        >>> frame_rate("29.97"), frame_rate("ntsc"), frame_rate("24000/1001")
        (Fraction(2997, 100), Fraction(30000, 1001), Fraction(24000, 1001))
    """
    s = text.strip().lower()
    if s in FRAME_RATE_NAMES:
        return FRAME_RATE_NAMES[s]
    try:
        rate = Fraction(s.replace(":", "/"))  # exact from the text: no float rounding in between
    except (ValueError, ZeroDivisionError):
        try:
            finite = math.isfinite(float(s))
        except ValueError:
            finite = True
        names = ", ".join(FRAME_RATE_NAMES)
        why = (f"use e.g. 25, 29.97, 30000/1001, or {names}" if finite
               else f"it must be a finite number from {float(MIN_FRAME_RATE):g} to {MAX_FRAME_RATE}")
        raise argparse.ArgumentTypeError(f"not a frame rate: {text!r} ({why})") from None
    if not MIN_FRAME_RATE <= rate <= MAX_FRAME_RATE:
        raise argparse.ArgumentTypeError(
            f"a frame rate must be from {float(MIN_FRAME_RATE):g} to {MAX_FRAME_RATE} frames per second, got {text!r}"
        )
    return rate


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

# The ranges of the numeric options (issue 20: every number finite, in a documented range, refused in
# one line naming the option and the range). The library's own checks at its door keep the same
# ranges where it has them (GenerateSettings.validate, EngineSettings.validate, AnalysisSettings.validate,
# prepare_analogy); tests/cli/test_bad_numbers.py checks that both agree on each bound.
MAX_PIXELS = 100_000  # a side of a frame, in pixels (16K video is 15360 wide)
MAX_FRAMES = 10_000_000  # frames of a clip (4.6 days at 25 fps); also the most seconds of a time
MAX_SEED = 2**63 - 1  # every seed used (SEED + samples - 1) fits a signed 64-bit integer: torch, numpy, JSON
MAX_SAMPLES = 10_000
MAX_ITERATIONS = 1000  # search-and-vote rounds of a level
MAX_PATCH = 1000  # each size of a patch
MAX_OFFSET = 100_000  # --offset, frames and pixels either way
MOTION_BINS = (2, 256)  # --bins: still to fastest
NOISE = (0.0, 100.0)  # in units of the [-1, 1] value range: 100 drowns every input
MAX_SCALE = 1000.0  # --scale, per axis: a tiny input may grow that much; the memory check refuses what cannot fit
MAX_FACTOR = 0.99  # --factor: closer to 1 makes thousands of levels
ALPHA = (1e-6, 1000.0)  # --alpha: above 1000 it weighs like 'off'; below 1e-6 float32 scores overflow
WEIGHT = (0.0, 1000.0)  # analogy --weight
FEATHER = (0.0, 1000.0)  # cinemagraph --feather, pixels
SCREEN = (1e-8, 100.0)  # Poisson closure lambda: the correction spreads 1/sqrt(lambda) = 10000 to 0.1 frames
TEMPERATURE = (1e-4, 100.0)  # texture --temperature
TOL = (1e-12, 1.0)  # blend --tol, a relative residual
MAX_SOLVER_ITERATIONS = 1_000_000  # blend --max-iter


def _number_text(x: float) -> str:
    """``x`` as the range in a message writes it: ``100``, ``0.99``, ``1e-8``."""
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return re.sub(r"e([+-])0*(\d)", lambda m: "e" + ("-" if m[1] == "-" else "") + m[2], f"{x:g}")


def range_words(low: float, high: float, *, low_open: bool = False, high_open: bool = False) -> str:
    """The range in words, as the messages and the help write it.

    Example:
        >>> range_words(0, 100), range_words(0, 1, high_open=True), range_words(0, 0.99, low_open=True)
        ('from 0 to 100', 'from 0 to below 1', 'above 0 and at most 0.99')
    """
    lo, hi = _number_text(low), _number_text(high)
    if low_open and high_open:
        return f"above {lo} and below {hi}"
    if low_open:
        return f"above {lo} and at most {hi}"
    if high_open:
        return f"from {lo} to below {hi}"
    return f"from {lo} to {hi}"


def _within(value: float, low: float, high: float, low_open: bool, high_open: bool) -> bool:
    """Whether ``value`` is in the range (``nan`` and infinities never are)."""
    if not math.isfinite(value):
        return False
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    return above and below


def number_in(low: float, high: float, *, low_open: bool = False, high_open: bool = False):
    """An argparse type: a finite number from ``low`` to ``high`` (either end excluded with
    ``low_open`` / ``high_open``); anything else, ``nan`` and infinities included, is refused with
    the range.

    Example:
        >>> number_in(0, 100)("2.5")
        2.5
        >>> number_in(0, 100)("inf")
        Traceback (most recent call last):
        argparse.ArgumentTypeError: must be a number from 0 to 100, got 'inf'
    """
    words = range_words(low, high, low_open=low_open, high_open=high_open)

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not _within(value, low, high, low_open, high_open):
            raise argparse.ArgumentTypeError(f"must be a number {words}, got {text!r}")
        return value

    parse.range = words  # type: ignore[attr-defined]
    return parse


def whole_in(low: int, high: int):
    """An argparse type: a whole number from ``low`` to ``high``.

    Example:
        >>> whole_in(1, 1000)("7")
        7
    """
    words = f"from {low} to {high}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number {words}, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be a whole number {words}, got {text!r}")
        return value

    parse.range = words  # type: ignore[attr-defined]
    return parse


positive_float = number_in(0, math.inf, low_open=True)  # kept for callers that want no upper bound
pixels = whole_in(1, MAX_PIXELS)  # a size in pixels: --width, --coarsest-size, --analysis-size, ...
frame_count = whole_in(1, MAX_FRAMES)  # a number of frames: --frames, --coarsest-frames, --keep
frame_index = whole_in(0, MAX_FRAMES)  # a frame, or frames of a crossfade: --first, --still, --crossfade
samples_count = whole_in(1, MAX_SAMPLES)
rounds = whole_in(1, MAX_ITERATIONS)
seed_value = whole_in(0, MAX_SEED)
SEED_RANGE = f"0 to 2**63 - 1 = {MAX_SEED}"
motion_bins = whole_in(*MOTION_BINS)
solver_iterations = whole_in(1, MAX_SOLVER_ITERATIONS)
noise_level = number_in(*NOISE)
completeness = number_in(*ALPHA)
guide_weight = number_in(*WEIGHT)
feather_pixels = number_in(*FEATHER)
screen_lambda = number_in(*SCREEN)
jump_temperature = number_in(*TEMPERATURE)
discount_factor = number_in(0, 1, high_open=True)
tolerance = number_in(*TOL)


def max_size(text: str) -> int | str:
    """``--max-size``: a whole number of pixels (1 to :data:`MAX_PIXELS`), or ``auto``."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        return pixels(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be 'auto' or a whole number {pixels.range}, got {text!r}") from None


def frame_size(text: str) -> str:
    """``--size WxH``: two whole numbers of pixels, each from 1 to :data:`MAX_PIXELS`; the text as
    ``WxH`` (the handler reads it)."""
    try:
        w, h = (int(n) for n in text.lower().split("x"))
    except ValueError:
        w = h = 0
    if not (1 <= w <= MAX_PIXELS and 1 <= h <= MAX_PIXELS):
        raise argparse.ArgumentTypeError(
            f"must be WIDTHxHEIGHT, e.g. 640x360, each a whole number {pixels.range}, got {text!r}")
    return f"{w}x{h}"


def floats(count: int, low: float = 0.0, high: float = MAX_SCALE, *, low_open: bool = True, high_open: bool = False):
    """An argparse type for ``count`` comma-separated numbers (one number is repeated), each finite
    and in the range (by default above 0 and at most :data:`MAX_SCALE`: an output scale).

    Example:
        >>> floats(3)("1,1,1.5"), floats(2, high=0.99)("0.8")
        ((1.0, 1.0, 1.5), (0.8, 0.8))
    """
    words = range_words(low, high, low_open=low_open, high_open=high_open)
    numbers = f"1 or {count} numbers" if count > 1 else "a number"

    def parse(text: str) -> tuple[float, ...]:
        try:
            parts = [float(p) for p in text.replace("x", ",").split(",")]
        except ValueError:
            parts = []
        if len(parts) == 1:
            parts *= count
        if len(parts) != count or not all(_within(v, low, high, low_open, high_open) for v in parts):
            raise argparse.ArgumentTypeError(f"must be {numbers}, each {words}, got {text!r}")
        return tuple(parts)

    parse.range = words  # type: ignore[attr-defined]
    return parse


scales = floats(3)
factors = floats(2, 0.0, MAX_FACTOR)


def patch_size(text: str) -> tuple[int, int, int]:
    """``3x7x7`` or ``3,7,7`` (frames, height, width); ``7`` means 7x7 with the default frames;
    each size from 1 to :data:`MAX_PATCH`."""
    default = GenerateSettings().engine.patch
    why = f"use e.g. 3x7x7, each size from 1 to {MAX_PATCH}"
    try:
        parts = [int(p) for p in text.replace("x", ",").split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a patch size: {text!r} ({why})") from None
    if len(parts) == 1:
        parts = [default[0], parts[0], parts[0]]
    elif len(parts) == 2:
        parts = [parts[0], parts[1], parts[1]]
    if len(parts) != 3 or min(parts) < 1 or max(parts) > MAX_PATCH:
        raise argparse.ArgumentTypeError(f"not a patch size: {text!r} ({why})")
    return tuple(parts)  # type: ignore[return-value]


def offset3(text: str) -> tuple[int, int, int]:
    """``T,Y,X`` whole numbers, any sign, each within +-:data:`MAX_OFFSET`."""
    try:
        parts = tuple(int(p) for p in text.split(","))
    except ValueError:
        parts = ()
    if len(parts) != 3 or max(map(abs, parts)) > MAX_OFFSET:
        raise argparse.ArgumentTypeError(f"not an offset: {text!r} (use T,Y,X in frames and pixels, e.g. 0,20,-5, "
                                         f"each from -{MAX_OFFSET} to {MAX_OFFSET})")
    return parts  # type: ignore[return-value]


def completeness_weight(text: str) -> float | None:
    """``--alpha``: a number from :data:`ALPHA`'s low to its high end, or ``off``."""
    if text.strip().lower() in ("off", "none"):
        return None
    try:
        return completeness(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be 'off' or a number {completeness.range}, got {text!r}") from None


def crf(text: str) -> int:
    """``--crf``: a whole number from 0 (best) to 63 (smallest; each codec has its own top)."""
    try:
        value = int_at_least(0)(text)
    except argparse.ArgumentTypeError as e:
        raise argparse.ArgumentTypeError(f"{e} (a whole number from 0 to 63)") from None
    if value > 63:
        raise argparse.ArgumentTypeError(f"must be from 0 to 63: {text!r}")
    return value


def encoder_name(what: str):
    """An argparse type for a name the encoder checks itself (a preset, a pixel format): here only its
    spelling, so that the check needs no PyAV at start-up."""

    def parse(text: str) -> str:
        name = text.strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
            raise argparse.ArgumentTypeError(f"not a {what} name: {text!r}")
        return name

    return parse


def frames_of(value: Time | None, fps: Fraction | None) -> int | None:
    """A :func:`parse_time` value as a frame count or index at ``fps`` (``None`` stays ``None``).

    Example:
        >>> frames_of(parse_time("2s"), Fraction(25)), frames_of(parse_time("7f"), None), frames_of(None, 25)
        (50, 7, None)
    """
    return None if value is None else value.to_frame(fps)


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
        type=max_size,
        metavar="PIXELS",
        help="shrink the input while decoding so that its LONGER side is at most this many pixels (aspect "
        "kept); 'auto': the largest size whose run fits in the memory available",
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
    if output:  # every command with a media output can choose how it is encoded
        add_encoding_arguments(parser)
    return g


CODECS = ("h264", "hevc", "prores", "dnxhr", "av1", "vp9")
ENCODING_FIELDS = ("codec", "crf", "preset", "pix_fmt", "lossless")


def add_encoding_arguments(parser: argparse.ArgumentParser) -> argparse._ArgumentGroup:
    """The "encoding" options of a video output, read by :func:`encoding_from`."""
    g = parser.add_argument_group("encoding", "how a video output (.mp4, .mov, .mkv, .avi, .webm) is encoded")
    g.add_argument("--codec", choices=CODECS,
                   help="video codec (default: by the output's extension: H.264 for .mp4/.mov/.mkv/.avi, VP9 for "
                   ".webm)")
    g.add_argument("--crf", type=crf, metavar="N",
                   help="constant quality: 0 (best, largest) to 63 (H.264/HEVC stop at 51; default: the codec's)")
    g.add_argument("--preset", type=encoder_name("preset"), metavar="NAME",
                   help="encoder speed for size, e.g. veryfast, medium, slow (H.264/HEVC; default: the codec's)")
    g.add_argument("--pix-fmt", type=encoder_name("pixel format"), metavar="NAME",
                   help="pixel format, e.g. yuv420p (default for H.264), yuv420p10le, yuv422p, yuv444p")
    g.add_argument("--lossless", action="store_true", help="encode without loss (the codec's lossless mode)")
    g.add_argument("--no-audio", action="store_true", help="drop the input's sound (default: kept where it fits)")
    return g


def encoding_from(args: argparse.Namespace) -> dict:
    """The encoding options as the keyword arguments of ``patchvid.media.writing.Encoding``: every
    field of :data:`ENCODING_FIELDS`, ``None`` where not given (``lossless``: ``False``). A parser
    without the options gives the same unset fields.

    Raises:
        InputError: ``--lossless`` with ``--crf`` (a quality setting has no meaning without loss).

    Example:
        >>> p = argparse.ArgumentParser(); _ = add_encoding_arguments(p)
        >>> encoding_from(p.parse_args(["--codec", "hevc", "--crf", "20"]))
        {'codec': 'hevc', 'crf': 20, 'preset': None, 'pix_fmt': None, 'lossless': False}
    """
    fields = {name: getattr(args, name, None) for name in ENCODING_FIELDS}
    fields["lossless"] = bool(fields["lossless"])
    if fields["lossless"] and fields["crf"] is not None:
        raise InputError(f"give --lossless or --crf {fields['crf']}, not both")
    return fields


def add_labels_argument(parser: argparse.ArgumentParser) -> None:
    """``--labels``, read by :meth:`~patchvid.cli.runner.Run.read_labels`."""
    parser.add_argument_group("labels").add_argument(
        "--labels", metavar="LABELS",
        help="a label video, image or folder of INPUT (segmentation masks, instance ids: each distinct colour is "
        "one id), read like INPUT (same --start/--end; shrunk with --max-size by nearest neighbour). Each output "
        "gets its labels beside it, made of the same source pixels (the most frequent label of the overlapping "
        "patches: never blended), written without loss: x.mp4 -> x_labels.mp4, x.png -> x_labels.png, a .gif "
        "or folder -> a folder x_labels of PNG frames",
    )


def add_run_arguments(parser: argparse.ArgumentParser, samples: bool = False) -> argparse._ArgumentGroup:
    """Seed, frame rate and contact sheet (and ``--samples`` where a command makes several)."""
    g = parser.add_argument_group("samples" if samples else "run")
    if samples:
        g.add_argument(
            "--samples",
            type=samples_count,
            default=1,
            metavar="N",
            help=f"how many variations, 1 to {MAX_SAMPLES}; with N > 1, OUTPUT gets _000, _001, ... before its "
            "extension. An OUTPUT holding a placeholder is a pattern instead, at any N: {} or {i} (the sample's "
            "number), {i:0Nd} (N digits, e.g. out_{i:03d}.mp4), %%d or %%0Nd (with no letter after it); any other "
            "name, braces and %% signs included, is taken as it is",
        )
        g.add_argument("--seed", type=seed_value, default=0,
                       help=f"seed of the first sample; sample i uses SEED + i, {SEED_RANGE} (default 0)")
    else:
        g.add_argument("--seed", type=seed_value, default=0,
                       help=f"seed of every random choice, {SEED_RANGE} (default 0)")
    g.add_argument("--fps", type=frame_rate, metavar="RATE",
                   help="output frame rate: 25, 29.97, 30000/1001 or ntsc, pal, film, ntsc-film (default: the "
                   "input's; 25 for frames/images)")
    g.add_argument("--sheet", metavar="PNG", help="also write a contact sheet: input frames above output frames")
    return g


def add_scale_argument(group: argparse._ArgumentGroup, default: tuple | None = GenerateSettings().scale) -> None:
    """``--scale``, read by :func:`settings_from`."""
    group.add_argument(
        "--scale",
        type=scales,
        default=default,
        metavar="T,H,W",
        help="output size relative to the input: frames, height, width (e.g. 0.5 for half length as "
        f"the published method, 1,1,1.5 for wider; each {scales.range}; default 1"
        + ("; --method paper 0.5,1,1)" if default is None else ")"),
    )


NOISE_MODES = ("fixed", "adaptive")  # GenerateSettings.adaptive_noise False, True


def add_method_arguments(
    parser: argparse.ArgumentParser, defaults: GenerateSettings | None = None, keeps_layout: str = "",
    presets: bool = False,
) -> None:
    """The "method" options read by :func:`settings_from`, with a task's own ``defaults``.
    ``keeps_layout`` (where the task can keep a given layout: in which case) leaves the coarsest
    level's size and frames unset, to be chosen per input (:func:`settings_from`). ``presets``: a
    ``--method`` option picks one of :data:`~patchvid.synthesis.settings.PRESETS`, whose values the
    options given explicitly override."""
    d = defaults or GenerateSettings()
    e = d.engine
    m = parser.add_argument_group("method")
    if presets:
        m.add_argument("--method", choices=list(PRESETS), default="default",
                       help="a set of the settings below: default (noise 4), paper (the published settings: "
                       "noise 5, half the frames) or clean (noise 3: fewer artefacts, less diversity); "
                       "options given explicitly win")
        noise_default = "; " + ", ".join(f"{k} {GenerateSettings.preset(k).noise:g}" for k in PRESETS if k != "default")
    m.add_argument("--noise", type=noise_level, default=None if presets else d.noise,
                   help=f"noise at the coarsest level, {noise_level.range} in units of the [-1, 1] value range "
                   f"(default {d.noise:g}{noise_default if presets else ''})")
    if presets:
        m.add_argument("--noise-mode", choices=NOISE_MODES, default=None,
                       help="fixed: --noise as given; adaptive: scaled by how far apart the input's coarsest "
                       "patches are (the paper's rule of thumb; it did not even out diversity across clips, "
                       "BENCHMARKS.md) (default: "
                       + ", ".join(f"{NOISE_MODES[GenerateSettings.preset(k).adaptive_noise]} for {k}"
                                   for k in PRESETS) + ")")
    m.add_argument("--patch", type=patch_size, default=e.patch, metavar="TxHxW",
                   help=f"patch size in frames x height x width, each 1 to {MAX_PATCH} (default 3x7x7; images use "
                   "1 frame)")
    m.add_argument("--factor", type=factors, default=d.factor, metavar="F[,FS]",
                   help=f"pyramid scale per level, in time and space, each {factors.range} (default 0.85)")
    layout = f"; {keeps_layout}: half the short side / all frames, so that the given layout survives"
    m.add_argument("--coarsest-size", type=pixels, default=None if keeps_layout else d.coarsest_size,
                   metavar="PIXELS", help=f"short side of the coarsest level, {pixels.range} (default {d.coarsest_size}"
                   f"{layout if keeps_layout else ''})")
    m.add_argument("--coarsest-frames", type=frame_count, default=None if keeps_layout else d.coarsest_frames,
                   metavar="N", help=f"frames of the coarsest level, {frame_count.range} (default {d.coarsest_frames}"
                   f"{layout if keeps_layout else ''})")
    m.add_argument("--iterations", type=rounds, default=e.iterations, metavar="N",
                   help=f"search-and-vote rounds per level, {rounds.range} (default {e.iterations})")
    m.add_argument("--coarsest-iterations", type=rounds, default=e.coarsest_iterations, metavar="N",
                   help=f"rounds at the coarsest level, {rounds.range} (default {e.coarsest_iterations})")
    m.add_argument("--vote", choices=VOTES, default=e.vote,
                   help=f"how overlapping patches are combined (default {e.vote})")
    m.add_argument("--alpha", type=completeness_weight, default=e.alpha,
                   help=f"completeness weight, {completeness.range}: smaller uses more of the input; 'off' to "
                   f"disable (default: {'off' if e.alpha is None else f'{e.alpha:g}'})")
    m.add_argument("--search", choices=SEARCHES, default=d.search,
                   help="nearest-neighbour search: exact, PatchMatch, or auto (exact on small levels; default)")
    m.add_argument("--device", choices=DEVICES, default=d.device,
                   help="where to compute (default auto: CUDA when available)")


def settings_from(args: argparse.Namespace, keep_layout_of: tuple[int, int, int] | None = None) -> GenerateSettings:
    """The settings the method options give. With ``keep_layout_of`` (the ``(T, H, W)`` whose layout
    the task keeps), a --coarsest-size or --coarsest-frames left unset follows
    :func:`~patchvid.tasks.settings.keep_layout` for it; unset elsewhere, the usual default."""
    from ..tasks.settings import keep_layout

    last_seed = getattr(args, "seed", 0) + (getattr(args, "samples", None) or 1) - 1
    if last_seed > MAX_SEED:
        raise InputError(f"--seed {args.seed} with --samples {args.samples} gives seeds up to {last_seed}, past "
                         f"2**63 - 1: give --seed at most {MAX_SEED - args.samples + 1}")
    d = GenerateSettings.preset(getattr(args, "method", None) or "default")
    settings = dataclasses.replace(
        d,
        noise=d.noise if args.noise is None else args.noise,
        adaptive_noise=d.adaptive_noise if getattr(args, "noise_mode", None) is None
        else args.noise_mode == "adaptive",
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
