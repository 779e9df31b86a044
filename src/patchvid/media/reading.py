"""Reading media: videos, GIFs, folders of numbered frames and single images, as ``(T, H, W, 3) uint8``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from ..errors import MediaError

VIDEO_EXTS = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"})
IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
GIF_EXT = ".gif"
DEFAULT_FPS = Fraction(25)

@dataclass
class Video:
    """A clip in memory.

    Attributes:
        frames: ``(T, H, W, 3) uint8`` RGB frames.
        fps: frame rate as an exact fraction (``Fraction(30000, 1001)`` for NTSC), or ``None`` when
            the source stores none (a single image, a folder of frames).
        is_image: the source was a single still image.
        notes: things the reader changed that a user should know (alpha dropped, ...).
    """

    frames: np.ndarray
    fps: Fraction | None = None
    is_image: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(frames, height, width)``."""
        t, h, w, _ = self.frames.shape
        return t, h, w




def read_video(
    path: str | os.PathLike,
    start: int | float | None = None,
    end: int | float | None = None,
) -> Video:
    """Read a video, animated GIF, folder of numbered frames, or single image.

    Args:
        path: a video file (mp4, mov, mkv, webm, avi, ...), a GIF, a folder of frames named by
            number (``1.png, 2.png, ..., 10.png`` in numeric order; zero-padded names and jpg work
            too), or an image file.
        start: first frame to keep: an ``int`` is a frame index, a ``float`` a time in seconds.
        end: where to stop (exclusive), same units as ``start``.

    Returns:
        A :class:`Video` with ``(T, H, W, 3) uint8`` frames. Greyscale becomes RGB and alpha is
        dropped (with a note).

    Raises:
        MediaError: the path is missing, is not media, is corrupt or truncated, or holds no frames.

    Example:
        >>> clip = read_video("clip.mp4", start=1.0, end=3.0)  # doctest: +SKIP
        >>> clip.frames.shape, clip.fps  # doctest: +SKIP
        ((50, 360, 640, 3), Fraction(25, 1))
    """
    p = Path(path)
    if not p.exists():
        raise MediaError(f"input not found: {p}")
    if p.is_dir():
        return _read_folder(p, start, end)
    if p.stat().st_size == 0:
        raise MediaError(f"input is an empty file: {p}")
    ext = p.suffix.lower()
    if ext in IMAGE_EXTS:
        return _read_image(p)
    if ext == GIF_EXT:
        return _read_gif(p, start, end)
    return _read_av(p, start, end)


def frame_range(
    start: int | float | None, end: int | float | None, fps: Fraction | None, source: Path
) -> tuple[int, int | None]:
    """Turn a start/end in frames (``int``) or seconds (``float``) into frame indices."""

    def to_index(value: int | float | None, default: int | None) -> int | None:
        if value is None:
            return default
        if isinstance(value, (int, np.integer)):
            return int(value)
        if fps is None:
            raise MediaError(f"{source} has no frame rate: give the time range in frames (e.g. 12f)")
        return round(float(value) * fps)

    first = to_index(start, 0)
    last = to_index(end, None)
    if first < 0 or (last is not None and last <= first):
        raise MediaError(f"empty or negative time range: start={start}, end={end}")
    return first, last


def _natural_key(name: str) -> list:
    return [int(tok) if tok.isdigit() else tok.lower() for tok in re.split(r"(\d+)", name)]


def _read_folder(folder: Path, start, end) -> Video:
    files = sorted(
        (f for f in folder.iterdir() if f.suffix.lower() in IMAGE_EXTS and not f.name.startswith(".")),
        key=lambda f: _natural_key(f.name),
    )
    if not files:
        raise MediaError(f"folder has no frames (png/jpg/...): {folder}")
    first, last = frame_range(start, end, None, folder)
    chosen = files[first:last]
    if not chosen:
        raise MediaError(f"the time range selects no frames: {folder} has {len(files)}")
    frames, notes = [], []
    for f in chosen:
        arr, note = _load_image(f)
        if frames and arr.shape != frames[0].shape:
            raise MediaError(
                f"frames differ in size: {chosen[0].name} is {frames[0].shape[1]}x{frames[0].shape[0]}, "
                f"{f.name} is {arr.shape[1]}x{arr.shape[0]}"
            )
        if note and note not in notes:
            notes.append(note)
        frames.append(arr)
    return Video(np.stack(frames), None, False, notes)


def _load_image(path: Path) -> tuple[np.ndarray, str | None]:
    """One image as ``(H, W, 3) uint8`` and a note when something was dropped."""
    try:
        with Image.open(path) as im:
            im = ImageOps.exif_transpose(im)
            return _to_rgb(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise MediaError(f"not a readable image: {path} ({_short(e)})") from None


def _to_rgb(im: Image.Image) -> tuple[np.ndarray, str | None]:
    note = None
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (im.mode == "P" and "transparency" in im.info):
        note = "alpha channel dropped"
    if im.mode.startswith("I;16"):
        arr = (np.asarray(im, dtype=np.uint16) >> 8).astype(np.uint8)
        return np.repeat(arr[..., None], 3, axis=2), note
    return np.asarray(im.convert("RGB"), dtype=np.uint8).copy(), note


def _read_image(path: Path) -> Video:
    arr, note = _load_image(path)
    return Video(arr[None], None, True, [note] if note else [])


def _read_gif(path: Path, start, end) -> Video:
    try:
        with Image.open(path) as im:
            durations, frames, notes = [], [], []
            for frame in ImageSequence.Iterator(im):
                durations.append(frame.info.get("duration", 100) or 100)
                arr, note = _to_rgb(frame)
                frames.append(arr)
                if note and note not in notes:
                    notes.append(note)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise MediaError(f"not a readable GIF: {path} ({_short(e)})") from None
    if not frames:
        raise MediaError(f"GIF has no frames: {path}")
    fps = Fraction(1000, int(np.median(durations)))
    first, last = frame_range(start, end, fps, path)
    frames = frames[first:last]
    if not frames:
        raise MediaError(f"the time range selects no frames: {path} has {len(durations)}")
    return Video(np.stack(frames), fps, False, notes)


def probe_video(path: str | os.PathLike) -> tuple[int, int, int] | None:
    """``(frames, height, width)`` from a video's header without decoding it, when declared."""
    p = Path(path)
    if p.is_dir() or p.suffix.lower() in IMAGE_EXTS | {GIF_EXT}:
        return None
    try:
        with av.open(str(p)) as container:
            s = container.streams.video[0]
            if s.frames > 0:
                return s.frames, s.codec_context.height, s.codec_context.width
    except (av.FFmpegError, IndexError, OSError):
        pass
    return None


def _read_av(path: Path, start, end) -> Video:
    try:
        container = av.open(str(path))
    except av.error.EOFError:
        raise MediaError(f"no decodable frames in {path}: the file ends before any frame") from None
    except (av.FFmpegError, OSError) as e:
        raise MediaError(f"not a readable video or image: {path} ({_short(e)})") from None
    with container:
        if not container.streams.video:
            raise MediaError(f"no video stream in {path}")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        fps = stream.average_rate or stream.guessed_rate
        fps = Fraction(fps) if fps else None
        first, last = frame_range(start, end, fps, path)
        declared = stream.frames
        has_alpha = len(stream.codec_context.format.components) in (2, 4) if stream.codec_context.format else False
        frames: list[np.ndarray] = []
        notes = ["alpha channel dropped"] if has_alpha else []
        index = 0
        try:
            for frame in container.decode(stream):
                if last is not None and index >= last:
                    break
                if index >= first:
                    frames.append(frame.to_ndarray(format="rgb24"))
                index += 1
            else:
                if declared > 0 and index < declared:
                    # an mp4/mov index lists every frame, so missing ones mean a cut file; other
                    # containers' counts are often wrong (OpenCV's AVIs), so only note it there
                    message = f"{path} declares {declared} frames but only {index} decode"
                    if "mp4" in container.format.name:
                        raise MediaError(f"truncated video: {message}")
                    notes.append(f"{message}; using those")
        except av.FFmpegError as e:
            raise MediaError(f"corrupt video: {path}: decoding failed at frame {index} ({_short(e)})") from None
    if index == 0:
        raise MediaError(f"no decodable frames in {path}")
    if not frames:
        raise MediaError(f"the time range selects no frames: {path} has {index}")
    return Video(np.stack(frames), fps, False, notes)


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


