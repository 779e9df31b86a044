"""Writing media atomically: videos, GIFs, images and folders of PNG frames."""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import errno
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Protocol

import av
import numpy as np
from PIL import Image

from ..errors import InputError, MediaError
from .colour import Colour
from .decoding import _short
from .encoding import CONTAINERS, MIN_SIZE, Encoding, chroma_steps, resolve
from .reading import DEFAULT_FPS, GIF_EXT, IMAGE_EXTS

# RGB to YUV with exact rounding: swscale's default fast path is a code off in about one chroma value
# of three (BT.601 bars: Cb 183 for 184).
_I = av.video.reformatter.Interpolation
_ACCURATE = _I.BILINEAR | _I.ACCURATE_RND


class AudioTrack(Protocol):
    """A sound track a :class:`VideoWriter` muxes beside the frames (copied or encoded)."""

    def add_to(self, container) -> bool: ...
    def mux_until(self, container, seconds: float) -> None: ...
    def finish(self, container) -> None: ...

def output_kind(path: str | os.PathLike) -> str:
    """``'video'``, ``'gif'``, ``'image'`` or ``'folder'`` (a path with no extension) by the name."""
    p = Path(path)
    ext = p.suffix.lower()
    if str(path) == "-":
        return "video"  # standard output: a stream format
    if str(path).endswith(("/", os.sep)) or ext == "" or p.is_dir():
        return "folder"
    if ext in CONTAINERS:
        return "video"
    if ext == GIF_EXT:
        return "gif"
    if ext in IMAGE_EXTS:
        return "image"
    supported = ", ".join(sorted(CONTAINERS) + [GIF_EXT] + sorted(IMAGE_EXTS))
    raise MediaError(f"unknown output format {ext!r} for {path} (use one of {supported}, or a folder)")


def check_frames_fit(path: str | os.PathLike, frames: int) -> None:
    """Refuse an output that cannot hold ``frames`` frames (an image file holds one): the one place
    that says so, checked before the work and again when writing."""
    if frames > 1 and output_kind(path) == "image":
        raise MediaError(f"{path} is an image file but the output has {frames} frames: use .mp4, .gif or a folder")


def write_video(
    path: str | os.PathLike,
    frames: np.ndarray,
    fps: Fraction | float | None = None,
    *,
    encoding: Encoding | None = None,
    colour: Colour | None = None,
    audio: AudioTrack | None = None,
    tags: dict[str, str] | None = None,
    timecode: str | None = None,
) -> list[str]:
    """Write frames atomically, the format chosen by the path's extension.

    Args:
        path: ``.mp4/.mov/.mkv/.avi`` (H.264 unless ``encoding`` names another codec), ``.webm``
            (VP9), ``.gif`` (loops forever), an image file (one frame only), a folder (no
            extension): ``00001.png, 00002.png, ...``, or ``-``: Matroska on standard output.
        frames: ``(T, H, W, 3)`` or ``(H, W, 3)`` uint8 RGB.
        fps: frame rate, kept exactly in video containers (GIF stores hundredths of a second);
            ``None`` means 25.
        encoding: codec, quality and pixel format of a video output (default: H.264 CRF 16 yuv420p).
        colour: the source's colour description, written as tags and used for the RGB to YUV
            matrix; ``None`` (or an untagged source): BT.709 for HD and larger, BT.601 below.
        audio: a sound track to add (:class:`~patchvid.media.audio.AudioCopy` or
            :class:`~patchvid.media.audio.AudioEncode`).
        tags: container tags to write (creation time, location, ...).
        timecode: the start timecode (``HH:MM:SS:FF``) of a video output.

    Returns:
        Notes about what had to change to fit the format (padding to even size, GIF timing, ...).

    Raises:
        MediaError: unknown extension, a multi-frame clip to an image file, or a failed write.
        InputError: frames of the wrong layout, or an encoding the container cannot hold.
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
        with FolderWriter(p) as folder:
            folder.write(frames)
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
    with VideoWriter(path, rate, encoding=encoding, colour=colour, audio=audio, tags=tags,
                     timecode=timecode) as writer:
        writer.write(frames)
    return writer.notes


def frame_writer(path: str | os.PathLike, fps: Fraction, **video_options) -> VideoWriter | FolderWriter | HeldWriter:
    """The writer that takes an output's frames piece by piece, by the output's kind: a video file
    or ``-`` (:class:`VideoWriter`) and a folder of PNG frames (:class:`FolderWriter`) get each piece
    as it comes, so memory does not grow with the length; a GIF or an image file
    (:class:`HeldWriter`, ``held``) is gathered and written when the ``with`` block ends. Each is
    atomic, as :func:`write_video`.

    Args:
        path: the output, as :func:`write_video`'s.
        fps: the exact frame rate.
        video_options: ``encoding``, ``colour``, ``audio``, ``tags``, ``timecode`` of a video output
            (refused for the other kinds, which hold none of them).
    """
    kind = output_kind(path)
    if kind == "video":
        return VideoWriter(path, fps, **video_options)
    if video_options:
        raise InputError(f"a {kind} output takes no {', '.join(sorted(video_options))}")
    return FolderWriter(path) if kind == "folder" else HeldWriter(path, fps)


class FolderWriter:
    """A folder of PNG frames (``00001.png, 00002.png, ...``) written frame by frame, atomically:
    each frame is saved into the temporary folder as it comes, and the folder appears under its name
    only when the ``with`` block completes; on any exception, Ctrl-C included, nothing is left.

    Args:
        path: the folder to make.
    """

    held = False  # each frame is saved as it comes

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.frames = 0
        self.notes: list[str] = []
        self._stack: contextlib.ExitStack | None = None
        self._tmp: Path | None = None

    def __enter__(self) -> FolderWriter:
        self._stack = contextlib.ExitStack()
        self._tmp = self._stack.enter_context(atomic_output(self.path, folder=True))
        return self

    def __exit__(self, kind, error, trace) -> None:
        _end_block(self._stack, self.frames, self.path, kind, error, trace)
        self._stack = None

    def write(self, frames: np.ndarray) -> None:
        """Save ``(T, H, W, 3)`` or ``(H, W, 3)`` uint8 RGB frames, numbered on from the last."""
        for frame in frames[None] if frames.ndim == 3 else frames:
            Image.fromarray(frame).save(self._tmp / f"{self.frames + 1:05d}.png")
            self.frames += 1


class HeldWriter:
    """An output that cannot be written piece by piece (a GIF: its encoder merges repeated frames and
    needs them all; an image file): the frames are gathered in memory and written by
    :func:`write_video` when the ``with`` block completes (nothing is written on an exception).

    Args:
        path: a ``.gif`` or image file.
        fps: the exact frame rate.
    """

    held = True  # every frame stays in memory until the end

    def __init__(self, path: str | os.PathLike, fps: Fraction):
        self.path = Path(path)
        self.rate = fps
        self.frames = 0
        self.notes: list[str] = []
        self._pieces: list[np.ndarray] = []

    def __enter__(self) -> HeldWriter:
        return self

    def __exit__(self, kind, error, trace) -> None:
        pieces, self._pieces = self._pieces, []
        if kind is None:
            if not pieces:
                raise MediaError(f"no frames were written to {self.path}")
            frames = np.concatenate(pieces)
            del pieces
            self.notes += write_video(self.path, frames, self.rate)

    def write(self, frames: np.ndarray) -> None:
        """Keep ``(T, H, W, 3)`` or ``(H, W, 3)`` uint8 RGB frames for the write at the end."""
        frames = frames[None] if frames.ndim == 3 else frames
        self._pieces.append(frames)
        self.frames += len(frames)


def _end_block(stack: contextlib.ExitStack, frames: int, path, kind, error, trace) -> None:
    """End a piece-by-piece writer's ``with`` block (its ``stack`` holds the :func:`atomic_output`):
    a block that completed with no frame fails, and then, as on any exception, nothing is left."""
    if kind is None and frames == 0:
        try:
            raise MediaError(f"no frames were written to {path}")
        except MediaError:
            stack.__exit__(*sys.exc_info())
            raise
    stack.__exit__(kind, error, trace)


class VideoWriter:
    """A video output written frame by frame, atomically: frames reach the encoder as they come
    (so a long output need not be held in memory) and the file appears under its name only when
    the ``with`` block completes; on any exception, Ctrl-C included, nothing is left.

    Args:
        path: a video file (``.mp4``, ``.mov``, ``.mkv``, ``.avi``, ``.webm``) or ``-`` (Matroska on
            standard output; not atomic, as a pipe cannot be).
        fps: the exact frame rate.
        encoding, colour, audio, tags, timecode: as :func:`write_video`.

    Example:
        >>> with VideoWriter("out.mp4", Fraction(25)) as writer:  # doctest: +SKIP
        ...     for chunk in chunks:
        ...         writer.write(chunk)  # (T, H, W, 3) uint8
    """

    held = False  # frames reach the encoder as they come (a :class:`HeldWriter` gathers them)

    def __init__(
        self,
        path: str | os.PathLike,
        fps: Fraction,
        *,
        encoding: Encoding | None = None,
        colour: Colour | None = None,
        audio: AudioTrack | None = None,
        tags: dict[str, str] | None = None,
        timecode: str | None = None,
    ):
        self.path = path
        self.rate = Fraction(fps).limit_denominator(1_000_000)
        self.colour = colour
        self.audio = audio
        self.tags = tags or {}
        self.timecode = timecode
        self.frames = 0
        self.resolved = resolve(path, encoding, colour.bits if colour is not None else 8)
        self.notes: list[str] = list(self.resolved.notes)
        self._stack: contextlib.ExitStack | None = None
        self._container = self._stream = None
        self._audio_on = False
        self._size: tuple[int, int] = (0, 0)
        self._out = Colour()

    def __enter__(self) -> VideoWriter:
        self._stack = contextlib.ExitStack()
        if str(self.path) == "-":
            self._target = sys.stdout.buffer
        else:
            self._target = str(self._stack.enter_context(atomic_output(Path(self.path))))
        return self

    def __exit__(self, kind, error, trace) -> None:
        stack, self._stack = self._stack, None
        if kind is None:
            try:
                if self._container is None:
                    raise MediaError(f"no frames were written to {self.path}")
                self._close()
            except BaseException:
                self._abandon()
                stack.__exit__(*sys.exc_info())
                raise
        else:
            self._abandon()
        stack.__exit__(kind, error, trace)

    def write(self, frames: np.ndarray) -> None:
        """Encode ``(T, H, W, 3)`` or ``(H, W, 3)`` uint8 RGB frames (all the same size)."""
        frames = frames[None] if frames.ndim == 3 else frames
        try:
            if self._container is None:
                self._open(frames.shape[1], frames.shape[2])
            h, w = self._size
            for frame in frames:
                if frame.shape[:2] != (h, w):
                    frame = np.pad(frame, ((0, h - frame.shape[0]), (0, w - frame.shape[1]), (0, 0)), mode="edge")
                video_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
                if self.resolved.rgb:
                    video_frame = video_frame.reformat(format=self.resolved.pix_fmt)
                else:
                    video_frame = video_frame.reformat(format=self.resolved.pix_fmt,
                                                       dst_colorspace=self._out.sws_matrix(),
                                                       dst_color_range=self._out.sws_range(),
                                                       interpolation=_ACCURATE)
                video_frame.pts = self.frames
                video_frame.time_base = 1 / self.rate  # not the stream's: the muxer changes it with the header
                self._container.mux(self._stream.encode(video_frame))
                self.frames += 1
                if self._audio_on:
                    self.audio.mux_until(self._container, float(self.frames / self.rate))
        except av.FFmpegError as e:
            raise MediaError(f"could not write {self._shown}: {_reason(e)}") from None
        except OSError as e:  # a Python stream's (``-o -``): a closed pipe, a full disk
            raise MediaError(f"could not write {self._shown}: {e.strerror or e}") from None

    # ----------------------------------------------------------------------------------- internals

    def _open(self, height: int, width: int) -> None:
        r = self.resolved
        least_w, least_h = MIN_SIZE.get(r.codec, (1, 1))
        if width < least_w or height < least_h:
            raise InputError(f"{r.codec} needs frames of at least {least_w}x{least_h}, these are {width}x{height} "
                             "(use --codec prores)")
        step_y, step_x = chroma_steps(r.pix_fmt)
        h, w = -(-height // step_y) * step_y, -(-width // step_x) * step_x
        if (h, w) != (height, width):
            self.notes.append(f"padded {width}x{height} to {w}x{h} ({r.pix_fmt} needs even sizes)")
        self._size = (h, w)
        self._out = (self.colour or Colour(tagged=False)).as_output(height, width)
        if self._out.hdr and not r.pix_fmt.endswith(("10le", "12le")):
            self.notes.append(f"HDR input ({self._out.transfer}) written at 8 bits: expect banding "
                              "(use --pix-fmt yuv420p10le)")
        if r.encoder == "libsvtav1":
            os.environ.setdefault("SVT_LOG", "1")  # errors only: SVT-AV1 prints its banner otherwise
        # Matroska and WebM write random segment IDs unless asked to be bit-exact
        container = av.open(self._target, mode="w", format=r.container, container_options={"fflags": "+bitexact"})
        try:
            for key, value in self.tags.items():
                container.metadata[key] = value
            if self.timecode:
                container.metadata["timecode"] = self.timecode
            stream = container.add_stream(r.encoder, rate=self.rate, options=r.options)
            stream.width, stream.height = w, h
            stream.pix_fmt = r.pix_fmt
            stream.time_base = 1 / self.rate
            codes = self._out.codes()
            if r.rgb:
                codes |= {"colorspace": 0, "color_range": 2}  # RGB: no matrix, full range
            for name, value in codes.items():
                setattr(stream.codec_context, name, value)
            self._audio_on = self.audio is not None and self.audio.add_to(container)
            if self.audio is not None and not self._audio_on:
                self.notes.append(f"the sound cannot go into a {r.container} file as it is: left out")
        except BaseException:
            container.close()
            raise
        self._container, self._stream = container, stream

    def _close(self) -> None:
        try:
            self._container.mux(self._stream.encode(None))
            if self._audio_on:
                self.audio.finish(self._container)
            self._container.close()
        except av.FFmpegError as e:
            raise MediaError(f"could not write {self._shown}: {_reason(e)}") from None
        except OSError as e:
            raise MediaError(f"could not write {self._shown}: {e.strerror or e}") from None
        self._container = None

    @property
    def _shown(self) -> str:
        return "standard output" if str(self.path) == "-" else str(self.path)

    def _abandon(self) -> None:
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
            self._container = None


def _reason(e: BaseException) -> str:
    """Why a write failed, in a few words: the system's reason for an OS error (FFmpeg's included:
    "File too large", not the temporary file's name), else the message's first line."""
    if isinstance(e, OSError) and isinstance(e.strerror, str) and e.strerror:
        return e.strerror
    return _short(e)


# ----------------------------------------------------------------------------------- putting outputs in place


@dataclasses.dataclass
class OutputLog:
    """What one command's outputs may do and what they did: whether an existing output may be
    replaced (``-y``), and every output :func:`atomic_output` put in place under it, so that a run
    that fails after some of its outputs were written can remove them (:meth:`discard`)."""

    replace: bool = True
    placed: list[tuple[Path, int, int]] = dataclasses.field(default_factory=list)

    def discard(self) -> list[Path]:
        """Remove every output placed under this log that is still the one placed (the same file,
        not one another process has put there since); the paths removed."""
        removed = []
        for path, device, inode in reversed(self.placed):
            try:
                st = os.lstat(path)
                if (st.st_dev, st.st_ino) != (device, inode):
                    continue
                if stat.S_ISDIR(st.st_mode):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
                removed.append(path)
            except OSError:
                continue
        self.placed.clear()
        return removed


# The log of the command now running (set by the command line's runner); outside a command, outputs
# replace what is there (the library's behaviour) and nothing is logged.
OUTPUTS: contextvars.ContextVar[OutputLog | None] = contextvars.ContextVar("patchvid_outputs", default=None)

_SPECIAL = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
            (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"))


def _existing(path: Path) -> os.stat_result | None:
    """``path``'s status (through a symbolic link), ``None`` where nothing is there."""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _refuse_kind(path: Path, st: os.stat_result, folder: bool) -> None:
    """Refuse to put an output where ``st`` says something it must not replace is: a device, FIFO
    or socket (never replaced), a folder for a file output, a file for a folder output."""
    for test, what in _SPECIAL:
        if test(st.st_mode):
            raise MediaError(f"output {path} is {what}, not a regular file: patchvid writes only files and folders "
                             "(give a file name)")
    if folder and not stat.S_ISDIR(st.st_mode):
        raise MediaError(f"output {path} is a file, not a folder (a name with no extension is a folder of PNG frames): "
                         "give a file name with an extension, or another name")
    if not folder and stat.S_ISDIR(st.st_mode):
        raise MediaError(f"output {path} is a folder, not a file: give another name (or a name with no extension "
                         "for a folder of PNG frames)")


def _exists_error(path: Path, meanwhile: bool = False) -> MediaError:
    when = "made by another process while this one worked; " if meanwhile else ""
    return MediaError(f"output exists: {path} ({when}use -y/--overwrite to replace it)")


# errors of os.link where the file system has no hard links (FAT, some network and FUSE file systems)
_NO_LINKS = {errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS, errno.EACCES}


def _place(tmp: Path, path: Path, folder: bool, replace: bool) -> None:
    """Move the finished ``tmp`` onto ``path``. Without ``replace`` the move is exclusive: if
    anything is at ``path`` (another run made it since the checks), :class:`MediaError` "output
    exists" and ``tmp`` is left to the caller."""
    st = _existing(path)
    if st is not None:
        _refuse_kind(path, st, folder)
        if not replace:
            raise _exists_error(path, meanwhile=True)
    if folder:
        if st is not None:  # replace a folder: move it aside, move the new one in, remove the old
            old = path.with_name(f".{path.name[:100]}.old-{os.getpid()}")
            os.replace(path, old)
            os.replace(tmp, path)
            if old.is_symlink():
                old.unlink()
            else:
                shutil.rmtree(old, ignore_errors=True)
            return
        try:
            os.mkdir(path)  # claim the name: fails if another run made it meanwhile
        except FileExistsError:
            raise _exists_error(path, meanwhile=True) from None
        try:
            os.replace(tmp, path)  # onto the empty folder just made, which rename may replace
        except BaseException:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            raise
    elif replace:
        os.replace(tmp, path)
    else:
        try:
            os.link(tmp, path)  # fails with EEXIST if anything is there: no replacing
        except FileExistsError:
            raise _exists_error(path, meanwhile=True) from None
        except OSError as e:
            if e.errno not in _NO_LINKS:
                raise
            _place_exclusively_without_links(tmp, path)
        else:
            os.unlink(tmp)


def _place_exclusively_without_links(tmp: Path, path: Path) -> None:
    """Where hard links are unsupported: claim ``path`` with an exclusive create, then rename onto
    the claim (the name shows an empty file for that moment)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        raise _exists_error(path, meanwhile=True) from None
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def _remove(tmp: Path) -> None:
    if tmp.is_dir() and not tmp.is_symlink():
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def atomic_output(path: Path, folder: bool = False, replace: bool | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` only if the block completes.

    On any exception, Ctrl-C included, the temporary file or folder is removed and ``path`` is left
    as it was. Only a regular file (a folder, for ``folder``) is ever replaced: a device, FIFO or
    socket at ``path``, or a folder where a file goes (or the reverse), is refused. Without
    ``replace`` (``None``: the running command's ``-y``, see :data:`OUTPUTS`; outside a command:
    replace) the move is exclusive, so that of two runs writing one name the second fails with
    "output exists". A write that fails in the block or in the move (disk full, file too large, name
    too long) is a :class:`MediaError` naming ``path`` and the system's reason.
    """
    path = Path(path)
    log = OUTPUTS.get()
    replace = (log.replace if log is not None else True) if replace is None else replace
    parent = path.parent if str(path.parent) else Path(".")
    st = _existing(path)
    if st is not None:
        _refuse_kind(path, st, folder)  # before the work; again just before the move
    # the temporary name is short enough for any name the file system takes (its 255 bytes)
    try:
        if folder:
            tmp = Path(tempfile.mkdtemp(prefix=f".{path.name[:100]}.", suffix=".partial", dir=parent))
        else:
            fd, name = tempfile.mkstemp(prefix=f".{path.stem[:100]}.", suffix=f".partial{path.suffix[:16]}",
                                        dir=parent)
            os.close(fd)
            tmp = Path(name)
    except OSError as e:
        raise MediaError(f"cannot write {path}: {e.strerror or e}") from None
    try:
        yield tmp
        if not folder:
            os.chmod(tmp, 0o644 & ~_umask())
        made = os.lstat(tmp)
        _place(tmp, path, folder, replace)
    except OSError as e:
        _remove(tmp)
        raise MediaError(f"cannot write {path}: {e.strerror or e}") from None
    except BaseException:
        _remove(tmp)
        raise
    if log is not None:
        log.placed.append((path, made.st_dev, made.st_ino))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write a small text file (a JSON report) atomically; a failed write (disk full, file too large)
    is a :class:`MediaError` naming the path."""
    with atomic_output(Path(path)) as tmp:
        tmp.write_text(text)


def _named_folder(path: str | os.PathLike) -> bool:
    """Whether a media output's name makes it a folder of frames: a trailing separator, or no known
    file extension (so ``frames`` and an existing folder ``take.v2`` are folders; ``x.mp4`` never is)."""
    ext = Path(path).suffix.lower()
    return str(path).endswith(("/", os.sep)) or ext not in (set(CONTAINERS) | {GIF_EXT} | set(IMAGE_EXTS))


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def check_name(path: str | os.PathLike) -> None:
    """Refuse an output name longer than its file system takes (255 bytes on most), naming it
    shortly; checked before anything looks at the path, which would fail on it."""
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    try:
        size, most = len(os.fsencode(p.name)), _name_max(parent)
        if size > most:
            shown = p.name if len(p.name) <= 40 else f"{p.name[:20]}...{p.name[-12:]}"
            raise MediaError(f"output name too long: {shown} is {size} bytes, the file system takes {most}")
    except OSError as e:
        raise MediaError(f"cannot write {p}: {e.strerror or e}") from None


def check_output(
    path: str | os.PathLike, inputs: list[str | os.PathLike], overwrite: bool, folder: bool | None = None
) -> None:
    """Refuse an output path before any work is done: a name too long for its file system
    (:func:`check_name`), a device, FIFO or socket, overwriting an input, a folder where a file goes or the reverse
    (``folder``: whether the output is a folder; ``None``: by the name, as a media output), an
    existing file without ``overwrite``, or a folder that does not exist or cannot be written."""
    p = Path(path)
    folder = _named_folder(path) if folder is None else folder
    parent = p.parent if str(p.parent) else Path(".")
    check_name(p)
    try:
        st = _existing(p)
        if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
            _refuse_kind(p, st, folder)  # a device, FIFO or socket: before anything else
        for src in inputs:
            s = Path(src)
            if s.exists() and st is not None and os.path.samefile(s, p):
                raise MediaError(f"output {p} would overwrite the input")
            if s.is_dir() and p.resolve().is_relative_to(s.resolve()):
                raise MediaError(f"output {p} is inside the input folder {s}")
        if st is not None:
            _refuse_kind(p, st, folder)
            if not overwrite:
                raise _exists_error(p)
        if not parent.is_dir():
            raise MediaError(f"output folder does not exist: {parent}")
    except OSError as e:
        raise MediaError(f"cannot write {p}: {e.strerror or e}") from None
    try:
        fd, name = tempfile.mkstemp(prefix=".patchvid-probe.", dir=parent)
        os.close(fd)
        os.unlink(name)
    except OSError as e:
        raise MediaError(f"cannot write to {parent}: {e.strerror}") from None
