"""Reading media: videos, GIFs, folders of numbered frames and single images, as ``(T, H, W, 3) uint8``.

Guards every input gets, whatever its role (input, mask, appearance, evaluated sample, ...):

* only a regular file or a folder is opened: a named pipe, device or socket is refused before it is
  opened (it would block, or never end);
* an image's size is read from its header before it is decoded, and an image too large to decode in
  the memory available, or over :data:`MAX_IMAGE_PIXELS` (a decompression bomb), is refused in one
  line; Pillow's own bomb warning and error are replaced by that check;
* every frame of an animated GIF, PNG (APNG) or WebP and every page of a multi-page TIFF is read (as
  a clip); a truncated one gives the frames that decode, with a note;
* a folder whose names give two files the same number (``1.png``, ``01.png``) is refused.
"""

from __future__ import annotations

import os
import re
import stat
import struct
import threading
import warnings
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .. import memory
from ..errors import MediaError, ResourceError
from ..frames import fit_size
from . import decoding, times
from .colour import Colour
from .decoding import Source, _short

VIDEO_EXTS = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"})
IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
GIF_EXT = ".gif"
DEFAULT_FPS = Fraction(25)
# The largest image (pixels) read, whatever the memory: 16384x16384. Pillow's own limit (179 Mpx,
# an error with a traceback, and a warning from 89 Mpx) is lifted while reading, for this and the
# memory check before decoding.
MAX_IMAGE_PIXELS = 1 << 28
# Formats whose files may hold several frames that are a clip (a JPEG's second picture, MPO, is a
# preview or a depth map: only its first is read).
_ANIMATED = frozenset({"GIF", "PNG", "WEBP", "TIFF"})
# What Pillow's parsers raise on a corrupt or truncated file.
_CORRUPT = (UnidentifiedImageError, OSError, EOFError, SyntaxError, ValueError, IndexError, KeyError, TypeError,
            ZeroDivisionError, struct.error)
_PILLOW = threading.RLock()  # Pillow's limit is module state: one read changes it at a time
_NOT_A_FILE = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
               (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))

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
            too), or an image file. An animated GIF, PNG (APNG) or WebP, or a multi-page TIFF, is a
            clip of all its frames (the rate from their durations; a TIFF stores none); a truncated
            one gives the frames that decode, with a note. Only a regular file or a folder is read.
        start: first frame to keep: a number (``int`` or ``float``) is seconds; a string is read as on
            the command line: ``"12f"`` is frame 12, ``"2.5"``, ``"2.5s"``, ``"1:02.5"``, ``"0:00:01.000"``
            are seconds (see :mod:`patchvid.media.times`). A folder of frames has no rate: frames only.
        end: where to stop (exclusive), the same forms as ``start``.
        max_size: shrink the frames while decoding them so that their longer side is at most this
            many pixels (aspect kept): a 4K clip is never held at 4K. A JPEG is decoded at the
            smallest scale its decoder offers that is still at least this size; other images (PNG,
            TIFF, WebP, GIF frames) are decoded whole and then shrunk, so only what fits in memory
            decoded whole is read.

    Returns:
        A :class:`Video` with ``(T, H, W, 3) uint8`` frames. Greyscale becomes RGB and alpha is
        dropped (with a note); non-square video pixels are resampled to square ones (with a note).

    Raises:
        MediaError: the path is missing, is not a file or folder (a named pipe, a device), is not
            media, is corrupt, or holds no frames; a folder's names number two files the same.
        ResourceError: decoding it would not fit in the memory available (checked from its header,
            before decoding), or an image is over :data:`MAX_IMAGE_PIXELS`.

    Example:
        >>> clip = read_video("clip.mp4", start=1.0, end=3.0)  # doctest: +SKIP
        >>> clip.frames.shape, clip.fps  # doctest: +SKIP
        ((50, 360, 640, 3), Fraction(25, 1))
    """
    p = Path(path)
    info = _file_or_folder(p)
    if stat.S_ISDIR(info.st_mode):
        return _read_folder(p, start, end, max_size)
    if info.st_size == 0:
        raise MediaError(f"input is an empty file: {p}")
    if p.suffix.lower() in IMAGE_EXTS | {GIF_EXT}:
        return _read_pillow(p, start, end, max_size)
    return _read_av(p, start, end, max_size)


def _file_or_folder(path: Path) -> os.stat_result:
    """``path``'s status, refusing (before anything opens it) a path that is neither a regular file
    nor a folder: reading a named pipe, device or socket blocks or never ends."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise MediaError(f"input not found: {path}") from None
    except OSError as e:
        raise MediaError(f"cannot read {path}: {e.strerror or e}") from None
    if stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode):
        return info
    what = next((name for test, name in _NOT_A_FILE if test(info.st_mode)), "not a regular file")
    raise MediaError(f"{path} is {what}, not a file: use - to read standard input")


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
    _refuse_clashes(folder, files)
    first, last = frame_range(start, end, None, folder)
    chosen = files[first:last]
    if not chosen:
        raise MediaError(f"the time range selects no frames: {folder} has {len(files)}")
    out: np.ndarray | None = None
    notes: list[str] = []
    for i, f in enumerate(chosen):
        _file_or_folder(f)  # a named pipe called 3.png would block
        arr, note = _load_image(f, max_size, frames=len(chosen) if out is None else 0)
        if out is None:
            out = np.empty((len(chosen), *arr.shape), np.uint8)
        elif arr.shape != out.shape[1:]:
            raise MediaError(
                f"frames differ in size: {chosen[0].name} is {out.shape[2]}x{out.shape[1]}, "
                f"{f.name} is {arr.shape[1]}x{arr.shape[0]}"
            )
        out[i] = arr
        if note and note not in notes:
            notes.append(note)
    return Video(out, None, False, notes)


def _refuse_clashes(folder: Path, files: list[Path]) -> None:
    """Refuse a folder where two names number the same frame (``1.png``, ``01.png``, ``1.jpg``):
    which comes first is a guess."""
    seen: dict[tuple, list[str]] = {}
    for f in files:
        seen.setdefault(tuple(_natural_key(f.stem)), []).append(f.name)
    clash = next((names for names in seen.values() if len(names) > 1), None)
    if clash:
        clash = sorted(clash, key=lambda name: (len(name), name))
        listed = ", ".join(clash[:-1]) + f" and {clash[-1]}"
        raise MediaError(f"frame names clash in {folder}: {listed} are the same frame number: keep one of them")


@contextmanager
def _pillow_checked():
    """Pillow with its decompression-bomb limit lifted and its warnings silenced: the reader checks
    each image's size against its own limit and the memory available instead (:func:`_check_size`),
    and says itself what a user should know of a damaged file (Pillow warns of a truncated TIFF,
    corrupt EXIF, ... on stderr)."""
    with _PILLOW, warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        warnings.filterwarnings("ignore", module=r"PIL(\.|$)")
        limit = Image.MAX_IMAGE_PIXELS
        Image.MAX_IMAGE_PIXELS = None
        try:
            yield
        finally:
            Image.MAX_IMAGE_PIXELS = limit


def _stored_bytes(mode: str) -> int:
    """Bytes a pixel takes in Pillow's memory in ``mode``."""
    return 1 if mode in ("1", "L", "P") else 2 if mode.startswith("I;16") else 4


def _check_size(path: Path, im: Image.Image, max_size: int | None, frames: int = 1, animated: bool = False) -> None:
    """Refuse, from the header (before decoding), an image over :data:`MAX_IMAGE_PIXELS` or one whose
    decoding would not fit in memory: the decoded picture, its turn upright, its conversion to RGB
    (and the frame before it, for an animation), and the ``frames`` kept at ``max_size``."""
    w, h = im.size
    pixels = w * h
    nh, nw = fit_size(h, w, max_size)
    shrinking = (nh, nw) != (h, w)
    stored = _stored_bytes(im.mode)
    working = pixels * (2 * stored + 4 + (4 if animated else 0) + (0 if shrinking else 6))
    kept = frames * nh * nw * 3 * (2 if animated else 1)  # an animation's frames are listed, then stacked
    size = f"{path} is {w}x{h} ({pixels / 1e6:.0f} Mpx)"
    if pixels > MAX_IMAGE_PIXELS:
        raise ResourceError(
            f"{size}: decoding it needs {working / 2**30:.1f} GiB; images over {MAX_IMAGE_PIXELS / 1e6:.0f} Mpx "
            f"({_side(MAX_IMAGE_PIXELS)}x{_side(MAX_IMAGE_PIXELS)}) are refused as a likely decompression bomb: "
            "scale it down first"
        )
    what = f"{size}: decoding it" if frames <= 1 else f"{size}, {frames} frames: decoding them"
    memory.check_fits(working + kept, what, "scale it down first" if frames <= 1 else
                        "scale it down or read fewer frames")


def _side(pixels: int) -> int:
    return int(pixels**0.5)


def _draft(im: Image.Image, max_size: int | None) -> None:
    """Decode a JPEG at the smallest of its decoder's scales (1/2, 1/4, 1/8) still at least ``max_size``."""
    if max_size is not None and im.format == "JPEG":
        h, w = fit_size(im.height, im.width, max_size)
        if (h, w) != (im.height, im.width):
            im.draft(None, (w, h))


def _load_image(path: Path, max_size: int | None = None, frames: int = 1) -> tuple[np.ndarray, str | None]:
    """One image as ``(H, W, 3) uint8`` (upright by its EXIF orientation, the longer side at most
    ``max_size``) and a note when something was dropped; its size checked first (``frames`` of it
    to be kept)."""
    with _pillow_checked():
        try:
            im = Image.open(path)
        except _CORRUPT as e:
            raise MediaError(f"not a readable image: {path} ({_short(e)})") from None
        with im:
            return _decode_still(im, path, max_size, frames)


def _decode_still(im: Image.Image, path: Path, max_size: int | None, frames: int = 1) -> tuple[np.ndarray, str | None]:
    _draft(im, max_size)
    _check_size(path, im, max_size, frames)
    try:
        ImageOps.exif_transpose(im, in_place=True)  # no copy of an image that is upright already
        return _to_rgb(_shrink(im, max_size))
    except _CORRUPT as e:
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
    if im.mode == "1":
        im = im.convert("L")  # a byte a pixel, not four
    elif im.mode not in ("RGB", "RGBA", "L", "LA"):
        im = im.convert("RGBA" if "transparency" in im.info or im.mode.endswith("A") else "RGB")
    return im.resize((w, h), Image.Resampling.BICUBIC, reducing_gap=3.0)


def _read_pillow(path: Path, start, end, max_size: int | None) -> Video:
    """An image file, or every frame of an animated GIF, PNG or WebP or multi-page TIFF."""
    gif = path.suffix.lower() == GIF_EXT
    what = "GIF" if gif else "image"
    with _pillow_checked():
        try:
            im = Image.open(path)
        except _CORRUPT as e:
            raise MediaError(f"not a readable {what}: {path} ({_short(e)})") from None
        with im:
            count = _frame_count(im) if gif or im.format in _ANIMATED else 1
            if not gif and count == 1:
                arr, note = _decode_still(im, path, max_size)
                return Video(arr[None], None, True, [note] if note else [])
            return _read_frames(im, path, count, start, end, max_size)


def _frame_count(im: Image.Image) -> int | None:
    """The frames (pages) the header declares; ``None`` when counting them fails (a truncated file)."""
    try:
        return max(1, int(getattr(im, "n_frames", 1)))
    except _CORRUPT:
        return None
    finally:
        with suppress(*_CORRUPT):
            im.seek(0)


def _read_frames(im: Image.Image, path: Path, count: int | None, start, end, max_size: int | None) -> Video:
    """Every frame of an animation or multi-page file, the rate from their durations (a GIF's 0 or
    missing is 100 ms, as browsers show it); a truncated file gives the frames before the cut."""
    kind = {"GIF": "GIF", "PNG": "animated PNG", "WEBP": "animated WebP", "TIFF": "TIFF"}.get(
        im.format or "", "animation")
    _check_size(path, im, max_size, frames=count or 1, animated=True)
    durations: list[float] = []
    frames: list[np.ndarray] = []
    notes: list[str] = []
    timed = im.format in ("GIF", "PNG", "WEBP")
    skip = 1 if im.format == "PNG" and getattr(im, "default_image", False) else 0  # APNG's still for old viewers
    index = skip
    problem = None
    size = im.size
    while count is None or index < count:
        try:
            if index:
                im.seek(index)
            if im.size != size:  # a TIFF page, or a GIF frame reaching past its screen: before decoding it
                raise MediaError(f"{kind} {path}: its frames differ in size (frame 1 is {size[0]}x{size[1]}, "
                                 f"frame {index + 1 - skip} is {im.width}x{im.height}): save the one you want "
                                 "as its own image")
            arr, note = _to_rgb(_shrink(im, max_size))
            duration = im.info.get("duration") if timed else None  # a WebP frame's is known once decoded
        except EOFError:
            break  # the last frame (a count that was not known)
        except _CORRUPT as e:
            if not frames:
                raise MediaError(f"not a readable {kind}: {path} ({_short(e)})") from None
            problem = _short(e)
            break
        frames.append(arr)
        durations.append(float(duration or 100) if timed else 0.0)
        if note and note not in notes:
            notes.append(note)
        index += 1
    if not frames:
        raise MediaError(f"{kind} has no frames: {path}")
    read = len(frames)
    using = f"using the {read} frame{'s' if read > 1 else ''} that decode{'' if read > 1 else 's'}"
    if problem is not None or (count is not None and read < count - skip):
        cut = f" ({problem[:80]})" if problem else ""
        notes.append(f"{path} is truncated or corrupt after frame {read}{cut}: {using}")
    elif im.format == "GIF" and not _ends_with(path, b";"):
        notes.append(f"{path} ends without the GIF trailer (truncated?): {using}")
    if im.format != "GIF" and read == 1:  # a still after all (a damaged file's count was unknown)
        return Video(frames[0][None], None, True, notes)
    if im.format == "TIFF":
        notes.append(f"a multi-page TIFF: its {read} pages are read as {read} frames")
    fps = Fraction(1000) / Fraction(float(np.median(durations))).limit_denominator(1000) if timed else None
    first, last = frame_range(start, end, fps, path)
    kept = frames[first:last]
    if not kept:
        raise MediaError(f"the time range selects no frames: {path} has {read}")
    return Video(np.stack(kept), fps, False, notes)


def _ends_with(path: Path, tail: bytes) -> bool:
    try:
        with open(path, "rb") as f:
            f.seek(-len(tail), os.SEEK_END)
            return f.read() == tail
    except OSError:
        return True


def probe_video(path: str | os.PathLike) -> decoding.Probe | None:
    """A video file's declared frames, displayed size, rate, rotation, colour and sound, read from its
    header and first frame without decoding the rest; ``None`` for other inputs."""
    p = Path(path)
    if p.is_dir() or p.suffix.lower() in IMAGE_EXTS | {GIF_EXT} or not p.is_file():
        return None  # a named pipe or device is refused by read_video, without being opened here
    return decoding.probe(p)


def _read_av(path: Path, start, end, max_size: int | None) -> Video:
    probed = decoding.probe(path)
    fps = probed.fps if probed is not None else None
    first, last = frame_range(start, end, fps, path)
    frames, fps, colour, source, notes = decoding.decode(path, first, last, max_size)
    return Video(frames, fps, False, notes, colour, source)


