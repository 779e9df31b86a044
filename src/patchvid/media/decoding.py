"""Decoding video files with PyAV, the way a player shows them.

* colour: YUV is converted with the clip's own matrix and range (untagged: as players assume);
* orientation: the display rotation (phone clips) is applied, so frames are upright;
* size: ``max_size`` is applied by the decoder's scaler while converting, so a 4K clip is never held
  at 4K, and frames are written into one preallocated array (no list to stack);
* pixels: non-square pixels (a sample aspect ratio other than 1:1, as DV and anamorphic clips store) are
  resampled to square ones while converting (the width times the ratio), as a player shows them;
* memory: the frame size in the header is checked against the memory available before anything is
  decoded (:func:`patchvid.memory.check_fits`), so a clip too large to decode is refused in one line;
* time: the decoder seeks to ``start``; each frame goes to the slot its timestamp falls in (the
  first of two in one slot is kept) and a slot no frame falls in holds the frame before it, as a
  player shows it, so a variable-frame-rate clip is resampled to a constant rate by its timestamps
  (and the user told).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from .. import memory
from ..errors import MediaError, ResourceError
from ..frames import fit_size
from .colour import Colour
from .metadata import offset_timecode

_I = av.video.reformatter.Interpolation
# Scaling filter for shrinking while decoding: swscale widens its bicubic taps by the ratio, so this
# is an antialiased bicubic (like the library's own resize) at decoder speed.
_SHRINK = _I.BICUBIC
# YUV to RGB with exact rounding and chroma interpolated to every pixel: swscale's default fast path
# rounds its coefficients to 8 bits and is up to 3 grey levels off (BT.601 green 191 reads 188).
_ACCURATE = _I.ACCURATE_RND | _I.FULL_CHR_H_INT
# Decoder threads at most. Each frame thread holds about a frame more (7 MiB at 1080p): FFmpeg's own
# count (cores + 1, up to 16) made reading 20 frames of 1080p take 1.9 times their size on 16 cores.
# Two decode 1080p H.264 far faster than any synthesis runs.
_DECODER_THREADS = 2
# Frames to allocate for when the header gives no count, at most (the array grows as frames come),
# and at most this many bytes of them.
_GUESS_FRAMES = 64
_GUESS_BYTES = 1 << 30


@dataclass(frozen=True)
class Source:
    """Where a clip's frames came from: what a writer needs to carry sound and tags across.

    Attributes:
        path: the file.
        start: seconds into the file (from its first frame) of the first frame kept.
        duration: seconds the kept frames cover (frames / fps).
        tags: the container's tags (creation time, location, ...).
        timecode: SMPTE timecode of the first frame kept (the file's, moved on by ``start``).
        rotation: degrees the frames were turned to be upright (0, 90, 180, 270 counter-clockwise).
        audio: the file has a sound track.
        variable_rate: the file's frames were unevenly spaced and were resampled.
    """

    path: str
    start: float = 0.0
    duration: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)
    timecode: str | None = None
    rotation: int = 0
    audio: bool = False
    variable_rate: bool = False


@dataclass(frozen=True)
class Probe:
    """A video file's header (and first frame): enough to plan memory before decoding.

    ``frames`` is the declared count (``0`` when the container does not say); ``height`` and
    ``width`` are as displayed (after the rotation).
    """

    frames: int
    height: int
    width: int
    fps: Fraction | None
    rotation: int
    colour: Colour
    audio: bool


def _open(path: Path):
    try:
        return av.open(str(path))
    except av.error.EOFError:
        raise MediaError(f"no decodable frames in {path}: the file ends before any frame") from None
    except (av.FFmpegError, OSError, UnicodeDecodeError) as e:
        raise MediaError(f"not a readable video or image: {path} ({_short(e)})") from None


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _rate(stream) -> Fraction | None:
    fps = stream.average_rate or stream.guessed_rate
    return Fraction(fps) if fps else None


def _quarter_turns(frame) -> int:
    """Counter-clockwise quarter turns that make ``frame`` upright (its display matrix's rotation)."""
    try:
        rotation = frame.rotation
    except (AttributeError, ValueError):
        return 0
    return round((rotation or 0) / 90) % 4


def probe(path: str | Path) -> Probe | None:
    """The header of a video file and its first frame's orientation and colour; ``None`` when it
    is not a video PyAV can open (the reader then says why). The size is as displayed: turned by the
    rotation and with square pixels (see :func:`decode`).

    Raises:
        ResourceError: the header's frame size is too large to decode one frame in the memory available.
    """
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_count = 1  # one frame: frame threads would each decode (and hold) one more
            _check_frame_fits(path, stream, None, None)
            frame = next(container.decode(stream), None)
            if frame is None:
                return None
            turns = _quarter_turns(frame)
            h, w = frame.height, frame.width
            colour = Colour.of_frame(frame, h, w)
            sar = _pixel_aspect(stream)
            if sar is not None:
                w = _display_width(w, sar)
            if turns % 2:
                h, w = w, h
            return Probe(max(stream.frames, 0), h, w, _rate(stream), 90 * turns, colour,
                         bool(container.streams.audio))
    except (av.FFmpegError, IndexError, OSError, StopIteration, UnicodeDecodeError):
        return None


def decode(path: Path, first: int, last: int | None, max_size: int | None = None):
    """Decode frames ``[first, last)`` of a video file (indices at its average rate).

    Args:
        path: the file.
        first, last: the frames to keep (``last`` exclusive; ``None``: to the end).
        max_size: the longer side of the frames returned, at most (aspect kept), or ``None``.

    Returns:
        ``(frames, fps, colour, source, notes)``: ``(T, H, W, 3) uint8`` upright RGB, the rate
        (exact), the source's :class:`Colour`, its :class:`Source`, and what the user should know.

    Frames whose pixels are not square (a sample aspect ratio other than 1:1) are resampled to square
    pixels, the width times the ratio (what a player shows), with a note.

    Raises:
        MediaError: not a video, no video stream, corrupt or truncated, or no frame in the range.
        ResourceError: the frames (their size in the header, times the frames kept) would not fit in
            the memory available; checked before decoding.
    """
    container = _open(path)
    with container:
        if not container.streams.video:
            raise MediaError(f"no video stream in {path}")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        stream.thread_count = min(_DECODER_THREADS, os.cpu_count() or 1)
        fps = _rate(stream)
        rate = fps or Fraction(25)
        _check_frame_fits(path, stream, _capacity(stream, first, last, rate, _header_frame_bytes(stream, max_size)),
                          max_size)
        fmt = stream.codec_context.format
        notes = ["alpha channel dropped"] if fmt is not None and len(fmt.components) in (2, 4) else []
        origin = stream.start_time
        seeked = False
        if first > 0 and origin is not None and stream.time_base:
            # to the key frame at or before the start; a container without an index stays put
            target = origin + int(Fraction(first, 1) / rate / stream.time_base)
            try:
                container.seek(target, stream=stream, backward=True)
                seeked = True
            except av.FFmpegError:
                seeked = False
        out: np.ndarray | None = None
        filled = -1  # the last slot written, relative to ``first``
        repeats = drops = decoded = 0
        colour: Colour | None = None
        turns = 0
        size = None  # (coded height, coded width) to convert to
        times: list[float] = []
        previous_slot = first - 1
        held = None  # the last frame before ``first``
        try:
            for frame in container.decode(stream):
                decoded += 1
                if frame.pts is not None and stream.time_base:
                    if decoded == 1 and not seeked:
                        origin = frame.pts  # the first frame is frame 0, whatever the header's start
                    seconds = float((frame.pts - (origin or 0)) * stream.time_base)
                    slot = round(seconds * rate)
                    if len(times) < 4096:
                        times.append(seconds)
                else:
                    slot = previous_slot + 1
                previous_slot = slot
                if slot < first:
                    held = frame  # what a player shows until the first frame kept
                    continue
                if last is not None and slot >= last:
                    if filled >= 0:  # a gap before the end holds the last frame, as a player does
                        if last - first > len(out):
                            out = _grow(out, last - first, path)
                        out[filled + 1 : last - first] = out[filled]
                        repeats += last - first - filled - 1
                        filled = last - first - 1
                    break
                if colour is None:
                    colour = Colour.of_frame(frame, frame.height, frame.width)
                    turns = _quarter_turns(frame)
                    shown = frame.width
                    sar = _pixel_aspect(stream)
                    if sar is not None:
                        shown = _display_width(frame.width, sar)
                        notes.append(f"non-square pixels (sample aspect ratio {sar.numerator}:{sar.denominator}): "
                                     f"resampled to square pixels, {frame.width}x{frame.height} shown as "
                                     f"{shown}x{frame.height}, as a player shows it")
                    h, w = (shown, frame.height) if turns % 2 else (frame.height, shown)
                    nh, nw = fit_size(h, w, max_size)
                    size = (nw, nh) if turns % 2 else (nh, nw)
                    capacity = _capacity(stream, first, last, rate, nh * nw * 3)
                    out = _allocate(path, capacity, nh, nw)
                index = slot - first
                if index <= filled:  # two frames in one slot: keep the first
                    drops += 1
                    continue
                rgb = _upright(frame, size, colour, turns)
                if index >= len(out):
                    out = _grow(out, index + 1, path)
                if index > filled + 1:  # a gap holds the frame before it, as a player does
                    before = out[filled] if filled >= 0 else _upright(held, size, colour, turns) if held else rgb
                    out[filled + 1 : index] = before
                out[index] = rgb
                rgb = None  # not two converted frames alive at once while the next one converts
                repeats += index - filled - 1
                filled = index
            else:
                declared = stream.frames
                count = filled + 1 + first if seeked else decoded
                if last is None and declared > 0 and count < declared and not _uneven(times):
                    # an mp4/mov index lists every frame, so missing ones mean a cut file; other
                    # containers' counts are often wrong (OpenCV's AVIs), so only note it there
                    message = f"{path} declares {declared} frames but only {count} decode"
                    if "mp4" in container.format.name:
                        raise MediaError(f"truncated video: {message}")
                    notes.append(f"{message}; using those")
        except MemoryError:  # FFmpeg's ENOMEM (av.error.MemoryError) or an array's
            raise ResourceError(f"video too large: {path}: memory ran out decoding frame {decoded} "
                                f"({_size_text(stream)}); read a shorter time range or at a smaller max size") from None
        except av.FFmpegError as e:
            raise MediaError(f"corrupt video: {path}: decoding failed at frame {decoded} ({_short(e)})") from None
        if decoded == 0:
            raise MediaError(f"no decodable frames in {path}")
        if out is None or filled < 0:
            raise MediaError(f"the time range selects no frames: {path} has {previous_slot + 1}")
        frames = out[: filled + 1] if filled + 1 == len(out) else out[: filled + 1].copy()
        variable = _uneven(times)
        if variable or repeats or drops:
            spread = np.diff(times) * 1000 if len(times) > 1 else np.zeros(1)
            notes.append(
                f"variable frame rate (frames {spread.min():.0f}-{spread.max():.0f} ms apart): resampled by "
                f"timestamps to a constant {rate} fps ({repeats} repeated, {drops} dropped)"
            )
        if turns:
            notes.append(f"display rotation {90 * turns} degrees applied: frames are upright "
                         f"({frames.shape[2]}x{frames.shape[1]})")
        tags = {str(k): str(v) for k, v in container.metadata.items()}
        timecode = _timecode(container, stream)
        source = Source(
            path=str(path),
            start=float(first / rate),
            duration=float(len(frames) / rate),
            tags=tags,
            timecode=offset_timecode(timecode, first, rate) if timecode else None,
            rotation=90 * turns,
            audio=bool(container.streams.audio),
            variable_rate=variable,
        )
    return frames, fps, colour, source, notes


def _upright(frame, size: tuple[int, int], colour: Colour, turns: int) -> np.ndarray:
    """:func:`_convert`, then turned by the display rotation."""
    rgb = _convert(frame, size, colour)
    return np.rot90(rgb, turns) if turns else rgb


def _convert(frame, size: tuple[int, int], colour: Colour) -> np.ndarray:
    """One decoded frame to ``(h, w, 3) uint8`` RGB at ``size`` (coded orientation), with its own
    matrix and range."""
    h, w = size
    shrink = (h, w) != (frame.height, frame.width)
    if frame.format.name in ("rgb24",) and not shrink:
        return frame.to_ndarray()
    kwargs = {"interpolation": _SHRINK} if shrink else {}
    if frame.format.name.startswith(("yuv", "nv", "p0", "p2")):
        kwargs = {"interpolation": (_SHRINK if shrink else _I.BILINEAR) | _ACCURATE,
                  "src_colorspace": colour.sws_matrix(), "src_color_range": colour.sws_range()}
    return frame.reformat(width=w, height=h, format="rgb24", **kwargs).to_ndarray()


def _capacity(stream, first: int, last: int | None, rate: Fraction, frame_bytes: int = 0) -> int:
    """How many frames to allocate for: the range, or what the header says is left (when it says
    nothing, a few: :data:`_GUESS_FRAMES`, at most :data:`_GUESS_BYTES` of ``frame_bytes`` each)."""
    declared = stream.frames
    if not declared and stream.duration and stream.time_base:
        declared = int(float(stream.duration * stream.time_base) * rate) + 1
    guess = max(1, min(_GUESS_FRAMES, _GUESS_BYTES // max(frame_bytes, 1)))
    left = max(declared - first, 1) if declared else guess
    return max(1, min(left, last - first) if last is not None else left)


def _allocate(path: Path, frames: int, height: int, width: int) -> np.ndarray:
    try:
        return np.empty((frames, height, width, 3), np.uint8)
    except MemoryError:
        raise ResourceError(f"video too large: {path}: {frames} frames of {width}x{height} need "
                            f"{frames * height * width * 3 / 2**30:.1f} GiB, more than this machine can allocate; "
                            "read a shorter time range or at a smaller max size") from None


def _grow(out: np.ndarray, needed: int, path: Path) -> np.ndarray:
    """``out`` with room for ``needed`` frames (or twice as many), refused when the new array and
    the old together would not fit."""
    t, h, w, _ = out.shape
    frames = max(needed, 2 * t)
    memory.check_fits(frames * h * w * 3, f"video too large: {path}: {frames} frames of {w}x{h} (while decoding)",
               "read a shorter time range or at a smaller max size")
    bigger = _allocate(path, frames, h, w)
    bigger[:t] = out
    return bigger


def _pixel_aspect(stream) -> Fraction | None:
    """The clip's sample (pixel) aspect ratio where it is not 1:1: the container's, else the codec's
    (as FFmpeg guesses it); ``None`` for square pixels, none stored, or an implausible ratio."""
    for ratio in (stream.sample_aspect_ratio, stream.codec_context.sample_aspect_ratio):
        if ratio and ratio.numerator > 0 and ratio.denominator > 0:
            ratio = Fraction(ratio.numerator, ratio.denominator)
            return ratio if ratio != 1 and Fraction(1, 16) <= ratio <= 16 else None
    return None


def _display_width(width: int, sar: Fraction) -> int:
    """A coded width as shown with square pixels."""
    return max(1, round(width * sar))


def _yuv_bytes(fmt, height: int, width: int) -> int:
    """Bytes of one decoded frame of ``fmt`` (its padded bits per pixel; 3 bytes a pixel if unknown)."""
    bits = getattr(fmt, "padded_bits_per_pixel", 0) if fmt is not None else 0
    return height * width * (bits or 24) // 8


def _header_frame_bytes(stream, max_size: int | None) -> int:
    """Bytes of one kept ``uint8`` RGB frame, from the header's size (0 when it gives none)."""
    cc = stream.codec_context
    h, w = cc.height, cc.width
    if not (h and w):
        return 0
    sar = _pixel_aspect(stream)
    nh, nw = fit_size(h, _display_width(w, sar) if sar else w, max_size)
    return nh * nw * 3


def _size_text(stream) -> str:
    cc = stream.codec_context
    if not (cc.width and cc.height):
        return "frame size unknown"
    return f"{cc.width}x{cc.height}, {cc.width * cc.height / 1e6:.0f} Mpx a frame"


def _check_frame_fits(path, stream, frames: int | None, max_size: int | None) -> None:
    """Refuse, before decoding, a clip whose header's frame size would not fit in memory: the decoded
    frame (one more in each decoder thread), its conversion to RGB (at ``max_size``) and the ``frames``
    kept; ``frames=None``: the decoded frame alone (a probe). A header without a size is not checked
    (the array for the frames kept is then checked as it grows)."""
    cc = stream.codec_context
    h, w = cc.height, cc.width
    if not (h and w):
        return
    sar = _pixel_aspect(stream)
    shown = _display_width(w, sar) if sar else w
    nh, nw = fit_size(h, shown, max_size)
    threads = max(stream.thread_count or 1, 1)
    decoded = _yuv_bytes(cc.format, h, w) * (1 + threads)
    working = decoded + (0 if frames is None else nh * nw * 3)
    kept = (frames or 0) * nh * nw * 3
    shrunk = f" at {nw}x{nh}" if (nh, nw) != (h, shown) else ""
    what = "one frame" if frames is None else f"{frames} frame{'s' if frames > 1 else ''}{shrunk}"
    fits_one = decoded < memory.SHARE * (memory.available_memory() or 0)
    hint = ("read a shorter time range or at a smaller max size" if fits_one
            else "its frames are too large to decode on this machine")
    memory.check_fits(working + kept, f"video too large: {path} is {shown}x{h} ({h * shown / 1e6:.0f} Mpx a frame): "
               f"decoding {what}", hint)


def _uneven(times: list[float]) -> bool:
    """Frame times spaced unevenly by more than a container's rounding of them."""
    if len(times) < 3:
        return False
    steps = np.diff(np.sort(np.asarray(times)))
    median = float(np.median(steps))
    return median > 0 and float(steps.max() - steps.min()) > 0.25 * median


def _timecode(container, stream) -> str | None:
    """The file's start timecode: on the video stream, the container, or a timecode (tmcd) track."""
    for tags in [stream.metadata, container.metadata, *(s.metadata for s in container.streams.data)]:
        value = tags.get("timecode")
        if value:
            return str(value)
    return None
