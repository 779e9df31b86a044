"""``patchvid extend``: a clip with new frames after its end and/or before its start; and the
window-by-window writing that ``generate --duration`` shares with it."""

from __future__ import annotations

import argparse
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

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
    check_disk(run.outputs, total, h, w)
    options = {"after_frames": after, "before_frames": before, "loop": args.loop, "samples": args.samples}
    window = args.window or 2 * t
    if args.loop or max(before, after) <= window:  # one problem
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
        head: list[tuple[np.ndarray, list[int]]] = []
        if before:  # made backwards from the clip's start, held until they can be written in order
            blocks = extension_blocks(video.frames, direction="before", count=before, seed=seed, window=window,
                                      settings=settings, solver=_solver(run, "before", before, window))
            head = [(b.frames, b.sources) for b in blocks][::-1]

        def pieces(head=head, seed=seed) -> Iterator[tuple[np.ndarray, list[int] | None]]:
            yield from head
            yield video.frames, list(range(t))
            if after:
                blocks = extension_blocks(video.frames, count=after, seed=seed, window=window, settings=settings,
                                          solver=_solver(run, "after", after, window))
                for b in blocks:
                    yield b.frames, b.sources

        run.write_stream(path, pieces(), video, total)
    run.finish(options | {"windows": n_windows, "window_frames": window}, settings)
    return 0


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


def check_disk(outputs: list[Path], frames: int, height: int, width: int) -> None:
    """Refuse at once outputs that cannot fit on their disk: at least :data:`DISK_BYTES_PER_PIXEL`
    per pixel of every frame of every output, against the free space of each one's folder."""
    from ..media import output_kind
    from .runner import fail

    for path in outputs:
        if str(path) == "-":
            continue
        kind = output_kind(path)
        least = DISK_BYTES_PER_PIXEL.get(kind, 0.01) * frames * height * width * len(outputs)
        folder = Path(path).resolve().parent
        while not folder.exists():
            folder = folder.parent
        free = shutil.disk_usage(folder).free
        if least > free:
            what = "PNG frames" if kind == "folder" else kind
            fail(f"{frames} frames of {width}x{height} need at least {least / 2**30:.1f} GiB on disk as {what} "
                 f"but {folder} has {free / 2**30:.1f} GiB free; ask for a shorter output")
