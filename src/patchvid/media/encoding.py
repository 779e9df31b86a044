"""Encoder choices: codec, quality, pixel format, and which containers can hold them.

A user names a codec (``h264``, ``hevc``, ``prores``, ``dnxhr``, ``av1``, ``vp9``) or lets the
output's extension choose (H.264 for .mp4/.mov/.mkv/.avi, VP9 for .webm); :func:`resolve` turns
that into the FFmpeg encoder, its options and the pixel format, or says in one line why not.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import av

from ..errors import InputError

CONTAINERS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi", ".webm": "webm"}
STREAM_FORMAT = "matroska"  # for ``-o -``: a format that needs no seeking back


@dataclass(frozen=True)
class _Codec:
    encoder: str
    pix_fmt: str  # the default
    deep_pix_fmt: str | None  # the default for 10-bit sources, where the codec has one
    containers: frozenset[str]
    crf: tuple[str, int, int, int] | None  # option name, default, lowest, highest
    preset: tuple[str, str] | None  # option name, default
    options: dict[str, str] = field(default_factory=dict)
    lossless: tuple[str, dict[str, str], str] | None = None  # encoder, options, pixel format


CODECS: dict[str, _Codec] = {
    # x264's macroblock-tree rate control gives different bytes from run to run on tiny frames
    # (measured at 24x20); without it the same frames always encode to the same file.
    "h264": _Codec("libx264", "yuv420p", "yuv420p10le", frozenset({"mp4", "mov", "matroska", "avi"}),
                   ("crf", 16, 0, 51), ("preset", "medium"), {"x264-params": "no-mbtree=1"},
                   ("libx264rgb", {"qp": "0", "preset": "medium"}, "rgb24")),
    "hevc": _Codec("libx265", "yuv420p", "yuv420p10le", frozenset({"mp4", "mov", "matroska"}),
                   ("crf", 20, 0, 51), ("preset", "medium"), {"x265-params": "log-level=error"},
                   ("libx265", {"x265-params": "lossless=1:log-level=error"}, "gbrp")),
    "prores": _Codec("prores_ks", "yuv422p10le", "yuv422p10le", frozenset({"mov", "matroska"}),
                     None, None, {"profile": "3"}),
    "dnxhr": _Codec("dnxhd", "yuv422p", "yuv422p10le", frozenset({"mov", "matroska"}), None, None,
                    {"profile": "dnxhr_hq"}),
    "av1": _Codec("libsvtav1", "yuv420p", "yuv420p10le", frozenset({"mp4", "matroska", "webm"}),
                  ("crf", 32, 0, 63), ("preset", "8"), {}),
    "vp9": _Codec("libvpx-vp9", "yuv420p", None, frozenset({"webm", "matroska", "mp4"}),
                  ("crf", 24, 0, 63), None, {"b": "0", "row-mt": "1"},
                  ("libvpx-vp9", {"lossless": "1", "row-mt": "0", "threads": "1"}, "gbrp")),
}
BY_EXTENSION = {".webm": "vp9"}  # every other container: h264
# The smallest frames (width, height) an encoder takes: FFmpeg's DNxHR refuses smaller ones.
MIN_SIZE = {"dnxhr": (256, 120)}

# The profile ProRes and DNxHR need for a pixel format other than their default.
_PROFILE_FOR = {("prores", "yuv444p10le"): "4", ("dnxhr", "yuv422p10le"): "dnxhr_hqx",
                ("dnxhr", "yuv444p10le"): "dnxhr_444"}


@dataclass(frozen=True)
class Encoding:
    """How to encode a video output (``None``: the codec's default).

    Attributes:
        codec: ``h264``, ``hevc``, ``prores``, ``dnxhr``, ``av1`` or ``vp9``; ``None``: by extension.
        crf: constant-rate quality (lower is better; H.264 default 16).
        preset: the encoder's speed preset (x264/x265 ``medium``, SVT-AV1 ``8``).
        pix_fmt: pixel format (``yuv420p10le`` for 10-bit, ``yuv422p`` for 4:2:2, ...).
        lossless: encode without loss (RGB, so that decoded frames equal the frames given).
    """

    codec: str | None = None
    crf: int | None = None
    preset: str | None = None
    pix_fmt: str | None = None
    lossless: bool = False


@dataclass(frozen=True)
class Resolved:
    """An :class:`Encoding` made concrete for one output."""

    codec: str
    encoder: str
    options: dict[str, str]
    pix_fmt: str
    container: str
    rgb: bool  # the pixel format is RGB (no matrix)
    notes: tuple[str, ...] = ()


def container_of(path: str | os.PathLike) -> str:
    """The FFmpeg format an output path gets (``-`` is standard output: a stream format)."""
    if str(path) == "-":
        return STREAM_FORMAT
    return CONTAINERS[Path(path).suffix.lower()]


def resolve(path: str | os.PathLike, encoding: Encoding | None = None, bits: int = 8) -> Resolved:
    """The encoder, options and pixel format for writing ``path`` with ``encoding``.

    Args:
        path: the output (its extension picks the container, and the codec when none is named).
        encoding: what the user asked for.
        bits: the source's bits per component: 10-bit sources get the codec's 10-bit format unless
            a pixel format is named.

    Raises:
        InputError: an unknown codec, a codec the container cannot hold, a pixel format the encoder
            lacks, or a quality option the codec does not take.
    """
    e = encoding or Encoding()
    container = container_of(path)
    ext = ".mkv" if str(path) == "-" else Path(path).suffix.lower()
    name = e.codec or BY_EXTENSION.get(ext, "h264")
    if name not in CODECS:
        raise InputError(f"unknown codec {name!r} (use one of {', '.join(CODECS)})")
    codec = CODECS[name]
    if container not in codec.containers:
        fits = sorted(x for x, f in CONTAINERS.items() if f in codec.containers)
        raise InputError(f"{name} cannot be written to {ext or 'this'} files (use {', '.join(fits)})")
    if e.lossless and e.crf is not None:
        raise InputError("--lossless and --crf contradict each other: give one")
    notes: list[str] = []
    if e.lossless:
        if codec.lossless is None:
            lossless = [n for n, c in CODECS.items() if c.lossless]
            raise InputError(f"{name} has no lossless mode (use --codec {' or '.join(lossless)})")
        encoder, options, pix_fmt = codec.lossless
        options = dict(options)
        if e.pix_fmt and e.pix_fmt != pix_fmt:
            raise InputError(f"--lossless writes {pix_fmt} (RGB, no conversion): drop --pix-fmt {e.pix_fmt}")
    else:
        encoder, options = codec.encoder, dict(codec.options)
        pix_fmt = e.pix_fmt or (codec.deep_pix_fmt if bits > 8 and codec.deep_pix_fmt else codec.pix_fmt)
        if bits > 8 and not e.pix_fmt and codec.deep_pix_fmt:
            notes.append(f"{bits}-bit input: written {pix_fmt} (the synthesis works at 8 bits)")
        if codec.crf is None and e.crf is not None:
            raise InputError(f"{name} takes no --crf: its quality is set by its profile")
        if codec.crf is not None:
            option, default, low, high = codec.crf
            crf = default if e.crf is None else e.crf
            if not low <= crf <= high:
                raise InputError(f"--crf for {name} must be {low}-{high}, got {crf}")
            options[option] = str(crf)
        if (name, pix_fmt) in _PROFILE_FOR:
            options["profile"] = _PROFILE_FOR[(name, pix_fmt)]
    if e.preset is not None:
        if codec.preset is None:
            raise InputError(f"{name} takes no --preset")
        options[codec.preset[0]] = e.preset
    elif codec.preset is not None and codec.preset[0] not in options:
        options[codec.preset[0]] = codec.preset[1]
    if name == "hevc" and container in ("mp4", "mov"):
        options["tag"] = "hvc1"  # what Apple's players look for
    available = _pixel_formats(encoder)
    if available and pix_fmt not in available:
        raise InputError(f"{name} ({encoder}) cannot write {pix_fmt} (it writes {', '.join(available)})")
    return Resolved(name, encoder, options, pix_fmt, container, pix_fmt.startswith(("gbr", "rgb", "bgr")),
                    tuple(notes))


def _pixel_formats(encoder: str) -> list[str]:
    try:
        return [f.name for f in (av.Codec(encoder, "w").video_formats or [])]
    except (av.FFmpegError, ValueError):  # pragma: no cover - an FFmpeg build without it
        raise InputError(f"this FFmpeg build has no {encoder} encoder") from None


def chroma_steps(pix_fmt: str) -> tuple[int, int]:
    """How many pixels one chroma sample covers, ``(rows, columns)``: frame sizes must be multiples."""
    fmt = av.VideoFormat(pix_fmt, 64, 64)
    comps = fmt.components
    if len(comps) < 3 or fmt.name.startswith(("gbr", "rgb", "bgr")):
        return 1, 1
    return 64 // max(1, comps[1].height), 64 // max(1, comps[1].width)
