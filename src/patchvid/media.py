"""Reading and writing media: videos, GIFs, folders of numbered frames and single images.

In memory a clip is always ``(T, H, W, 3) uint8`` RGB, with its frame rate as an exact fraction.
Every write goes to a temporary name in the destination folder and is renamed into place only
when complete, so an interrupted run never leaves a half-written output.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

from .errors import InputError, MediaError

VIDEO_EXTS = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"})
IMAGE_EXTS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
GIF_EXT = ".gif"
DEFAULT_FPS = Fraction(25)

# x264's macroblock-tree rate control gives different bytes from run to run on tiny frames
# (measured at 24x20); without it the same frames always encode to the same file.
_H264 = ("libx264", {"crf": "16", "preset": "medium", "x264-params": "no-mbtree=1"})
_ENCODERS = {  # container extension -> (codec, extra options)
    ".mp4": _H264,
    ".m4v": _H264,
    ".mov": _H264,
    ".mkv": _H264,
    ".avi": _H264,
    ".webm": ("libvpx-vp9", {"crf": "24", "b": "0", "row-mt": "1"}),
}


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


# --------------------------------------------------------------------------------------- reading


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


# --------------------------------------------------------------------------------------- writing


def output_kind(path: str | os.PathLike) -> str:
    """``'video'``, ``'gif'``, ``'image'`` or ``'folder'`` (a path with no extension) by the name."""
    p = Path(path)
    ext = p.suffix.lower()
    if str(path).endswith(("/", os.sep)) or ext == "" or p.is_dir():
        return "folder"
    if ext in _ENCODERS:
        return "video"
    if ext == GIF_EXT:
        return "gif"
    if ext in IMAGE_EXTS:
        return "image"
    supported = ", ".join(sorted(_ENCODERS) + [GIF_EXT] + sorted(IMAGE_EXTS))
    raise MediaError(f"unknown output format {ext!r} for {path} (use one of {supported}, or a folder)")


def check_frames_fit(path: str | os.PathLike, frames: int) -> None:
    """Refuse an output that cannot hold ``frames`` frames (an image file holds one): the one place
    that says so, checked before the work and again when writing."""
    if frames > 1 and output_kind(path) == "image":
        raise MediaError(f"{path} is an image file but the output has {frames} frames: use .mp4, .gif or a folder")


def write_video(path: str | os.PathLike, frames: np.ndarray, fps: Fraction | float | None = None) -> list[str]:
    """Write frames atomically, the format chosen by the path's extension.

    Args:
        path: ``.mp4/.mov/.mkv/.avi`` (H.264, yuv420p), ``.webm`` (VP9), ``.gif`` (loops forever),
            an image file (one frame only), or a folder (no extension): ``00001.png, 00002.png, ...``.
        frames: ``(T, H, W, 3)`` or ``(H, W, 3)`` uint8 RGB.
        fps: frame rate, kept exactly in video containers (GIF stores hundredths of a second);
            ``None`` means 25.

    Returns:
        Notes about what had to change to fit the format (padding to even size, GIF timing).

    Raises:
        MediaError: unknown extension, a multi-frame clip to an image file, or a failed write.
    """
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = frames[None]
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or frames.shape[0] == 0:
        raise InputError(f"frames must be (T, H, W, 3) uint8 with T >= 1, got {frames.shape} {frames.dtype}")
    rate = Fraction(fps).limit_denominator(1_000_000) if fps is not None else DEFAULT_FPS
    kind = output_kind(path)
    p = Path(path)
    if kind == "folder":
        with atomic_output(p, folder=True) as tmp:
            for i, frame in enumerate(frames):
                Image.fromarray(frame).save(tmp / f"{i + 1:05d}.png")
        return []
    if kind == "image":
        check_frames_fit(p, frames.shape[0])
        with atomic_output(p) as tmp:
            Image.fromarray(frames[0]).save(tmp, format=Image.registered_extensions()[p.suffix.lower()])
        return []
    if kind == "gif":
        centis = max(2, round(100 / rate))
        notes = [] if Fraction(100, centis) == rate else [f"GIF stores {Fraction(100, centis)} fps, not {rate}"]
        images = [Image.fromarray(f) for f in frames]
        with atomic_output(p) as tmp:
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=centis * 10, loop=0)
        return notes
    return _write_av(p, frames, rate)


def _write_av(path: Path, frames: np.ndarray, rate: Fraction) -> list[str]:
    notes = []
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")
        notes.append(f"padded {w}x{h} to {frames.shape[2]}x{frames.shape[1]} (yuv420p needs even sizes)")
    codec, options = _ENCODERS[path.suffix.lower()]
    with atomic_output(path) as tmp:
        try:
            with av.open(str(tmp), mode="w", format=_container_format(path)) as container:
                stream = container.add_stream(codec, rate=rate, options=options)
                stream.width, stream.height = frames.shape[2], frames.shape[1]
                stream.pix_fmt = "yuv420p"
                stream.time_base = 1 / rate
                for i, frame in enumerate(frames):
                    vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
                    vf.pts = i
                    vf.time_base = 1 / rate  # not stream.time_base: the muxer changes it once the header is written
                    container.mux(stream.encode(vf))
                container.mux(stream.encode(None))
        except av.FFmpegError as e:
            raise MediaError(f"could not write {path}: {_short(e)}") from None
    return notes


def _container_format(path: Path) -> str:
    return {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska", ".avi": "avi", ".webm": "webm"}[
        path.suffix.lower()
    ]


@contextlib.contextmanager
def atomic_output(path: Path, folder: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block completes.

    On any exception, Ctrl-C included, the temporary file or folder is removed and ``path`` is left
    as it was.
    """
    parent = path.parent if str(path.parent) else Path(".")
    try:
        if folder:
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=parent))
        else:
            fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=parent)
            os.close(fd)
            tmp = Path(name)
    except OSError as e:
        raise MediaError(f"cannot write to {parent}: {e.strerror}") from None
    try:
        yield tmp
        if folder and path.is_dir():
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if not folder:
                os.chmod(tmp, 0o644 & ~_umask())
            os.replace(tmp, path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a small text file (a JSON report) atomically."""
    with atomic_output(Path(path)) as tmp:
        tmp.write_text(text)


def check_output(path: str | os.PathLike, inputs: list[str | os.PathLike], overwrite: bool) -> None:
    """Refuse an output path before any work is done: overwriting an input, an existing file
    without ``overwrite``, or a folder that does not exist or cannot be written."""
    p = Path(path)
    for src in inputs:
        s = Path(src)
        if s.exists() and p.exists() and os.path.samefile(s, p):
            raise MediaError(f"output {p} would overwrite the input")
        if s.is_dir() and p.resolve().is_relative_to(s.resolve()):
            raise MediaError(f"output {p} is inside the input folder {s}")
    if p.exists() and not overwrite:
        raise MediaError(f"output exists: {p} (use -y/--overwrite to replace it)")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise MediaError(f"output folder does not exist: {parent}")
    try:
        fd, name = tempfile.mkstemp(prefix=".patchvid-probe.", dir=parent)
        os.close(fd)
        os.unlink(name)
    except OSError as e:
        raise MediaError(f"cannot write to {parent}: {e.strerror}") from None
