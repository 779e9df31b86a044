"""Writing media atomically: videos, GIFs, images and folders of PNG frames."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from ..errors import InputError, MediaError
from .reading import DEFAULT_FPS, GIF_EXT, IMAGE_EXTS, _short

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
