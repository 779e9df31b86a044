"""Reading media: videos, GIFs, folders of numbered frames and single images, as ``(T, H, W, 3) uint8``."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from ..errors import MediaError
from ..frames import fit_size
from . import decoding, times
from .colour import Colour
from .decoding import Source

VIDEO_EXTS = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"})
IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
GIF_EXT = ".gif"
DEFAULT_FPS = Fraction(25)

@dataclass
class Video:
    """A clip in memory.

    Attributes:
        frames: ``(T, H, W, 3) uint8`` RGB frames, upright.
        fps: frame rate as an exact fraction (``Fraction(30000, 1001)`` for NTSC), or ``None`` when
            the source stores none (a single image, a folder of frames).
        is_image: the source was a single still image.
        notes: things the reader changed that a user should know (alpha dropped, rotation, ...).
        colour: how the source was coded (its matrix, range, primaries, transfer, bit depth), for
            writing the output the same way; ``None`` for images, GIFs and frames (sRGB).
        source: the file, time range, tags, timecode and sound the frames came from (video files).

    Example:
        >>> import numpy as np
        >>> Video(np.zeros((13, 144, 256, 3), np.uint8), Fraction(25))
        Video(13 frames of 256x144 at 25 fps)
    """

    frames: np.ndarray
    fps: Fraction | None = None
    is_image: bool = False
    notes: list[str] = field(default_factory=list)
    colour: Colour | None = None
    source: Source | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(frames, height, width)``."""
        t, h, w, _ = self.frames.shape
        return t, h, w

    def __repr__(self) -> str:
        t, h, w = self.shape
        what = f"image of {w}x{h}" if self.is_image else f"{t} frames of {w}x{h}"
        rate = f" at {self.fps} fps" if self.fps else ""
        sound = ", with sound" if self.source is not None and self.source.audio else ""
        return f"Video({what}{rate}{sound})"


def read_video(
    path: str | os.PathLike,
    start: str | float | times.Time | None = None,
    end: str | float | times.Time | None = None,
    max_size: int | None = None,
) -> Video:
    """Read a video, animated GIF, folder of numbered frames, or single image.

    Args:
        path: a video file (mp4, mov, mkv, webm, avi, ...), a GIF, a folder of frames named by
            number (``1.png, 2.png, ..., 10.png`` in numeric order; zero-padded names and jpg work
            too), or an image file.
        start: first frame to keep: a number (``int`` or ``float``) is seconds; a string is read as on
            the command line: ``"12f"`` is frame 12, ``"2.5"``, ``"2.5s"``, ``"1:02.5"``, ``"0:00:01.000"``
            are seconds (see :mod:`patchvid.media.times`). A folder of frames has no rate: frames only.
        end: where to stop (exclusive), the same forms as ``start``.
        max_size: shrink the frames while decoding them so that their longer side is at most this
            many pixels (aspect kept): a 4K clip is never held at 4K.

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
        return _read_folder(p, start, end, max_size)
    if p.stat().st_size == 0:
        raise MediaError(f"input is an empty file: {p}")
    ext = p.suffix.lower()
    if ext in IMAGE_EXTS:
        return _read_image(p, max_size)
    if ext == GIF_EXT:
        return _read_gif(p, start, end, max_size)
    return _read_av(p, start, end, max_size)


def frame_range(
    start: str | float | times.Time | None, end: str | float | times.Time | None, fps: Fraction | None, source: Path
) -> tuple[int, int | None]:
    """First frame and exclusive last (``None``: to the end): :func:`patchvid.media.times.frame_range`."""
    return times.frame_range(start, end, fps, source)


def _natural_key(name: str) -> list:
    return [int(tok) if tok.isdigit() else tok.lower() for tok in re.split(r"(\d+)", name)]


def _read_folder(folder: Path, start, end, max_size: int | None) -> Video:
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
        arr, note = _load_image(f, max_size)
        if frames and arr.shape != frames[0].shape:
            raise MediaError(
                f"frames differ in size: {chosen[0].name} is {frames[0].shape[1]}x{frames[0].shape[0]}, "
                f"{f.name} is {arr.shape[1]}x{arr.shape[0]}"
            )
        if note and note not in notes:
            notes.append(note)
        frames.append(arr)
    return Video(np.stack(frames), None, False, notes)


def _load_image(path: Path, max_size: int | None = None) -> tuple[np.ndarray, str | None]:
    """One image as ``(H, W, 3) uint8`` (upright by its EXIF orientation, the longer side at most
    ``max_size``) and a note when something was dropped."""
    try:
        with Image.open(path) as im:
            im = _shrink(ImageOps.exif_transpose(im), max_size)
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


def _shrink(im: Image.Image, max_size: int | None) -> Image.Image:
    """``im`` with its longer side at most ``max_size`` (Pillow's antialiased bicubic)."""
    h, w = fit_size(im.height, im.width, max_size)
    if (h, w) == (im.height, im.width):
        return im
    if im.mode not in ("RGB", "RGBA", "L", "LA"):
        im = im.convert("RGBA" if "transparency" in im.info or im.mode.endswith("A") else "RGB")
    return im.resize((w, h), Image.Resampling.BICUBIC, reducing_gap=3.0)


def _read_image(path: Path, max_size: int | None) -> Video:
    arr, note = _load_image(path, max_size)
    return Video(arr[None], None, True, [note] if note else [])


def _read_gif(path: Path, start, end, max_size: int | None) -> Video:
    try:
        with Image.open(path) as im:
            durations, frames, notes = [], [], []
            for frame in ImageSequence.Iterator(im):
                durations.append(frame.info.get("duration", 100) or 100)
                arr, note = _to_rgb(_shrink(frame, max_size))
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


def probe_video(path: str | os.PathLike) -> decoding.Probe | None:
    """A video file's declared frames, displayed size, rate, rotation, colour and sound, read from its
    header and first frame without decoding the rest; ``None`` for other inputs."""
    p = Path(path)
    if p.is_dir() or p.suffix.lower() in IMAGE_EXTS | {GIF_EXT} or not p.is_file():
        return None
    return decoding.probe(p)


def _read_av(path: Path, start, end, max_size: int | None) -> Video:
    probed = decoding.probe(path)
    fps = probed.fps if probed is not None else None
    first, last = frame_range(start, end, fps, path)
    frames, fps, colour, source, notes = decoding.decode(path, first, last, max_size)
    return Video(frames, fps, False, notes, colour, source)


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


