"""``patchvid extend``: a clip with new frames after its end and/or before its start; and the
window-by-window writing that ``generate --duration`` shares with it."""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from ..errors import MediaError
from .options import (
    add_input_arguments,
    add_method_arguments,
    add_output_arguments,
    add_run_arguments,
    command_parser,
    duration,
    frame_count,
    settings_from,
)

# the least an output takes on disk per pixel of each frame, to refuse at once what cannot fit (an
# H.264 file of smooth generated footage at the default CRF took 0.03-0.3 bytes per pixel; PNG 1-2)
DISK_BYTES_PER_PIXEL = {"video": 0.01, "gif": 0.1, "folder": 0.5, "image": 0.5}


def register(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "extend",
        "new frames after a clip's end or before its start",
        "Continue INPUT's scenery and motion past its end (--after) and/or before its start (--before); "
        "its own frames are kept exactly. Different seeds give different continuations. Long extensions "
        "are made window by window in constant memory and written as they are made.",
        "  patchvid extend clip.mp4 -o longer.mp4 --after 5s\n"
        "  patchvid extend clip.mp4 -o both.mp4 --before 2s --after 50f --samples 3\n"
        "  patchvid extend clip.mp4 -o loop.mp4 --after 2s --loop",
    )
    p.add_argument("input", help="video, GIF or folder of numbered frames")
    g = p.add_argument_group("extension")
    g.add_argument("--after", type=duration, help="how much to add after the end: seconds (5, 5s, 1:30, 2m) or "
                   "frames (50f)")
    g.add_argument("--before", type=duration, help="how much to add before the start, as --after")
    g.add_argument("--loop", action="store_true",
                   help="make the whole output periodic: its last frame flows into its first (one window, "
                   "so its length is bounded by memory)")
    g.add_argument("--window", type=frame_count, metavar="N",
                   help="new frames per window of a long extension (default twice the input's length)")
    add_input_arguments(p)
    add_output_arguments(p)
    add_run_arguments(p, samples=True)
    add_method_arguments(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..tasks.extend import extension_blocks, prepare_extension
    from .runner import Run, fail, numbered_outputs

    if args.after is None and args.before is None:
        fail("give --after and/or --before: how much to add")
    settings = settings_from(args)
    run = Run(args, "extend", [args.input], numbered_outputs(args.output, args.samples))
    video = run.read(args.input)
    if video.is_image or video.shape[0] < 2:
        fail("extend needs a video of at least 2 frames: an image has no motion to continue")
    fps = run.rate(video)
    after = args.after.to_frame(fps) if args.after is not None else 0
    before = args.before.to_frame(fps) if args.before is not None else 0
    if after + before == 0:
        fail("--after and --before add no frame at this frame rate: give at least one frame (1f)")
    t, h, w = video.shape
    total = before + t + after
    run.check_frames_fit(total)
    window = args.window or 2 * t
    one = args.loop or max(before, after) <= window
    check_disk(run.outputs, total, h, w, spooled=0 if one else before)
    options = {"after_frames": after, "before_frames": before, "loop": args.loop, "samples": args.samples}
    if one:  # one problem
        problem = prepare_extension(video.frames, before=before, after=after, loop=args.loop, settings=settings)
        run.check(problem)
        for i, path in enumerate(run.outputs):
            frames = run.solve(problem, args.seed + i)
            sources = run.samples[-1].get("source_frames", [])
            timeline = sources[:before] + list(range(t)) + sources[before + t:]
            run.samples[-1]["source_frames"] = timeline
            run.write(path, frames, like=video, timeline=timeline, loop=args.loop)
        run.finish(options | {"windows": 1}, settings)
        return 0
    first = prepare_extension(video.frames, after=min(after, window) if after else 0,
                              before=0 if after else min(before, window), settings=settings)
    run.check(first)  # a window's memory: every window is at most this size
    n_windows = math.ceil(before / window) + math.ceil(after / window)
    run.progress(f"{n_windows} windows of at most {window} new frames, each knowing the {t} frames before it")
    for i, path in enumerate(run.outputs):
        seed = args.seed + i
        run.samples.append({"seed": seed, "windows": []})
        with BeforeSpool(path, before, h, w) as head:
            if before:  # made backwards from the clip's start, spooled until they can be written in order
                head.fill(extension_blocks(video.frames, direction="before", count=before, seed=seed, window=window,
                                           settings=settings, solver=_solver(run, "before", before, window)))

            def pieces(head=head, seed=seed) -> Iterator[tuple[np.ndarray, list[int] | None]]:
                yield from head.pieces()
                yield video.frames, list(range(t))
                if after:
                    blocks = extension_blocks(video.frames, count=after, seed=seed, window=window,
                                              settings=settings, solver=_solver(run, "after", after, window))
                    for b in blocks:
                        yield b.frames, b.sources

            run.write_stream(path, pieces(), video, total)
    run.finish(options | {"windows": n_windows, "window_frames": window}, settings)
    return 0


class BeforeSpool:
    """The frames made before a clip, spooled to disk until they can be written in playing order.

    They are made backwards from the clip's start (each block before the previous one), and the
    output is written from its first frame, so they wait: in a hidden raw file beside the output
    (``.NAME.XXXX.before.partial``, in the system's temporary folder for ``-``), uint8 frames in
    playing order then their source frames, not in memory. The file is removed when the ``with``
    block ends, however it ends (an error, Ctrl-C).

    Args:
        output: the output the frames go to.
        count: frames before the clip (0: no file is made).
        height, width: the frames' size.
    """

    def __init__(self, output: Path, count: int, height: int, width: int):
        self.output = Path(output)
        self.count = count
        self.shape = (height, width, 3)
        self.frame_bytes = height * width * 3
        self.path: Path | None = None
        self.spans: list[tuple[int, int]] = []  # (first frame, frames) of each block, in playing order
        self._file = None

    def __enter__(self) -> BeforeSpool:
        if self.count:
            folder = Path(tempfile.gettempdir()) if str(self.output) == "-" else self.output.parent
            name = "patchvid" if str(self.output) == "-" else self.output.name[:100]
            try:
                fd, where = tempfile.mkstemp(prefix=f".{name}.", suffix=".before.partial", dir=folder)
            except OSError as e:
                raise MediaError(f"cannot spool the frames before the clip in {folder}: {e.strerror or e}") from None
            self.path = Path(where)
            self._file = os.fdopen(fd, "r+b")
        return self

    def __exit__(self, *exc) -> None:
        file, self._file = self._file, None
        try:
            if file is not None:
                with contextlib.suppress(OSError):
                    file.close()
        finally:
            if self.path is not None:
                self.path.unlink(missing_ok=True)

    def fill(self, blocks: Iterable) -> None:
        """Spool :class:`~patchvid.tasks.extend.Block`\\ s made backwards (``direction="before"``):
        each one's frames end where the previous one's begin, the first's at the clip."""
        end = self.count
        for block in blocks:
            first = end - len(block.frames)
            self._at(first * self.frame_bytes, np.ascontiguousarray(block.frames, np.uint8))
            self._at(self.count * self.frame_bytes + first * 8, np.asarray(block.sources, np.int64))
            self.spans.append((first, len(block.frames)))
            end = first
        self.spans.reverse()

    def pieces(self) -> Iterator[tuple[np.ndarray, list[int]]]:
        """The spooled blocks in playing order, one ``(frames, sources)`` in memory at a time."""
        for first, n in self.spans:
            frames = np.empty((n, *self.shape), np.uint8)
            sources = np.empty(n, np.int64)
            self._at(first * self.frame_bytes, frames, read=True)
            self._at(self.count * self.frame_bytes + first * 8, sources, read=True)
            yield frames, sources.tolist()

    def _at(self, offset: int, array: np.ndarray, read: bool = False) -> None:
        """Write ``array`` at byte ``offset`` of the file, or fill it from there (``read``)."""
        try:
            self._file.seek(offset)
            view = memoryview(array).cast("B")
            if not read:
                self._file.write(view)
            elif self._file.readinto(view) != len(view):
                raise OSError(f"{self.path} is shorter than what was spooled")
        except OSError as e:
            raise MediaError(f"cannot spool the frames before the clip to {self.path}: {e.strerror or e}") from None


def _solver(run, where: str, count: int, window: int):
    """A solver for the windows of one side, showing ``window k/n``."""
    total = math.ceil(count / window)
    done = [0]

    def solve(problem, seed):
        done[0] += 1
        return run.solve_window(problem, seed, f"{where}: window {done[0]}/{total}")

    return solve


def stream_generate(run, args, video, settings, count: int, window: int) -> None:
    """``generate`` of ``count`` frames, window by window (:func:`patchvid.tasks.extend.endless`),
    each output written as its windows are made."""
    import itertools

    from ..tasks.extend import endless

    t, h, w = video.shape
    check_disk(run.outputs, count, h, w)
    n_windows = math.ceil(count / window)
    run.progress(f"{n_windows} windows of {window} frames, each continuing the {t} frames before it")
    for i, path in enumerate(run.outputs):
        seed = args.seed + i
        run.samples.append({"seed": seed, "windows": []})
        solver = _solver(run, f"sample {i + 1}/{len(run.outputs)}" if len(run.outputs) > 1 else "generate",
                         count, window)
        blocks = itertools.islice(endless(video.frames, seed=seed, window=window, settings=settings,
                                          solver=solver), n_windows)

        def pieces(blocks=blocks) -> Iterator[tuple[np.ndarray, list[int]]]:
            left = count
            for b in blocks:
                yield b.frames[:left], b.sources[:left]
                left -= len(b.frames)

        run.write_stream(path, pieces(), video, count)


def check_disk(outputs: list[Path], frames: int, height: int, width: int, spooled: int = 0) -> None:
    """Refuse at once outputs that cannot fit on their disk: at least :data:`DISK_BYTES_PER_PIXEL`
    per pixel of every frame of every output, plus the ``spooled`` frames a :class:`BeforeSpool`
    keeps beside them (raw, 3 bytes a pixel), against the free space of each one's folder."""
    from ..media import output_kind
    from .runner import fail

    for path in outputs:
        if str(path) == "-":
            continue
        kind = output_kind(path)
        least = DISK_BYTES_PER_PIXEL.get(kind, 0.01) * frames * height * width * len(outputs)
        least += spooled * (height * width * 3 + 8)
        folder = Path(path).resolve().parent
        while not folder.exists():
            folder = folder.parent
        free = shutil.disk_usage(folder).free
        if least > free:
            what = "PNG frames" if kind == "folder" else kind
            fail(f"{frames} frames of {width}x{height} need at least {least / 2**30:.1f} GiB on disk as {what} "
                 f"but {folder} has {free / 2**30:.1f} GiB free; ask for a shorter output")
