"""The one command runner: the steps every sub-command goes through, in order.

1. :class:`Run` checks every output path (kind, collisions, existing files, the inputs) before any work;
2. :meth:`Run.read` and :meth:`Run.read_mask` read the inputs (memory checked before decoding,
   ``--start/--end/--max-size`` applied, notes printed);
3. the handler prepares its task (a library call);
4. :meth:`Run.check` estimates memory and refuses what would not fit (and an image file name for a
   multi-frame output);
5. :meth:`Run.solve` solves a prepared problem with progress per level;
6. :meth:`Run.write` writes each output atomically;
7. :meth:`Run.finish` writes the contact sheet and the JSON record (one schema for every command).

Handlers hold no algorithm: they parse, call the library, and hand the results to the runner.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import re
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import numpy as np

from .. import __version__, memory
from ..errors import PatchvidError
from ..frames import fit_size
from ..media import (
    DEFAULT_FPS,
    Encoding,
    Video,
    check_frames_fit,
    check_output,
    frame_range,
    output_kind,
    probe_video,
    read_video,
    write_text,
    write_video,
)
from ..media.writing import OUTPUTS, OutputLog, check_name, frame_writer
from .options import encoding_from
from .progress import Progress, round_callback, solve_work

# label outputs are written without loss: a decoded frame is the ids written, colour for colour
LABEL_ENCODING = Encoding(lossless=True)
SIZE_HINT = "use a smaller --max-size (or --max-size auto) or a shorter time range"


def fail(message: str) -> None:
    """Stop the command with a one-line error."""
    raise PatchvidError(message)


def check_memory(needed: int, what: str, hint: str = SIZE_HINT) -> None:
    """Refuse a request whose estimated memory exceeds what is available, before starting it."""
    memory.check_fits(needed, what, hint)


# CPU seconds per unit of :func:`~patchvid.cli.progress.solve_work` on one core of the 2-core
# development machine, from BENCHMARKS.md's timings (1.4 at 13x144x256 to 3 at 30x256x456, two cores).
_CPU_SECONDS_PER_WORK = 4e-6


def estimated_seconds(plan) -> float | None:
    """A rough time for one solve of ``plan`` on the CPU (``None`` on a GPU: not measured)."""
    if str(plan.device) != "cpu":
        return None
    cores = min(os.cpu_count() or 1, 16)
    return sum(solve_work(plan).values()) * _CPU_SECONDS_PER_WORK / cores


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


# The placeholders that make an output name a pattern, and nothing else: ``{}``, ``{i}``, ``{:0Nd}``,
# ``{i:0Nd}``, and ``%d`` or ``%0Nd`` where no letter follows (N: the width, 1 to 99, zero-padded).
# Every other character, other braces and percent signs included (``100%done.mp4``), is part of the
# name as it is; there are no escapes.
_PLACEHOLDER = re.compile(r"\{i?(?::0(?P<brace>[1-9]\d?)d)?\}|%(?:0(?P<percent>[1-9]\d?))?d(?![A-Za-z])")


def numbered_outputs(output: str, count: int) -> list[Path]:
    """Output paths for ``count`` samples.

    A name holding one of the placeholders ``{}``, ``{i}``, ``{i:0Nd}`` (or ``{:0Nd}``), ``%d`` or
    ``%0Nd`` (no letter after it) is a pattern, for any number of samples: each placeholder becomes the
    sample's number, 0, 1, ... (N digits wide, with leading zeros, where N is given). Any other name is
    taken literally, whatever it holds (``100%done.mp4``, ``a{x}.mp4``): the path itself for one
    sample, and for more the path with ``_000``, ``_001``, ... before its extension.

    Example:
        >>> [str(p) for p in numbered_outputs("s_{i:02d}.gif", 2)], [str(p) for p in numbered_outputs("100%.mp4", 2)]
        (['s_00.gif', 's_01.gif'], ['100%_000.mp4', '100%_001.mp4'])
    """
    if output == "-" and count > 1:
        fail("-o - writes one stream to standard output: give --samples 1, or file names")
    if _PLACEHOLDER.search(output):

        def number(i: int):
            return lambda m: f"{i:0{int(m['brace'] or m['percent'] or 1)}d}"

        paths = [Path(_PLACEHOLDER.sub(number(i), output)) for i in range(count)]
    elif count == 1:
        return [Path(output)]
    else:
        p = Path(output)
        paths = [p.with_name(f"{p.stem}_{i:03d}{p.suffix}") for i in range(count)]
    if len(set(paths)) != count:
        fail(f"the output pattern {output!r} does not give {count} different names")
    return paths


def label_output(output: Path) -> Path:
    """Where an output's labels go (``--labels``): beside it, ``_labels`` after its name. A video keeps
    its extension (written without loss), an image becomes a PNG, a GIF (a palette of at most 256
    colours) or a folder of frames a folder of PNG frames, its dots made underscores so that the
    name stays a folder's.

    Example:
        >>> [str(label_output(Path(p))) for p in ("x.mp4", "x.jpg", "a.b.gif", "frames/")]
        ['x_labels.mp4', 'x_labels.png', 'a_b_labels', 'frames_labels']
    """
    kind = output_kind(output)
    if kind == "video":
        return output.with_name(f"{output.stem}_labels{output.suffix}")
    if kind == "image":
        return output.with_name(f"{output.stem}_labels.png")
    name = output.stem if kind == "gif" else output.name
    return output.with_name(f"{name}_labels".replace(".", "_"))


def record_path(output: Path) -> Path:
    """Where an output's record goes by default: ``OUTPUT.json`` beside it."""
    return output.with_name(output.name.rstrip("/") + ".json")


def sheet_frames(frames: np.ndarray, columns: int = 6) -> np.ndarray:
    """The few frames a contact sheet shows, so that samples need not stay in memory."""
    frames = frames[None] if frames.ndim == 3 else frames
    return frames[np.unique(np.linspace(0, len(frames) - 1, min(columns, len(frames))).round().astype(int))]


def plan_record(problem) -> dict:
    """A prepared problem's plan as a JSON record: the output's size (and the size synthesized, where
    the output keeps fewer frames), patch, levels, device and the memory estimate."""
    plan = problem.plan
    return {
        "output_frames_height_width": list(problem.output_shape),
        "synthesized_frames_height_width": list(plan.output_shape),
        "patch": list(plan.patch),
        "noise_used": problem.noise,  # differs from the settings' noise where it adapts to the input
        "levels_input": [list(s) for s in plan.levels.input],
        "levels_output": [list(s) for s in plan.levels.output],
        "device": str(plan.device),
        "estimated_bytes": plan.estimated_bytes,
    }


class Run:
    """One run of a sub-command.

    Args:
        args: the parsed command line (``quiet``, ``overwrite``, ``report`` and, where the command
            has them, ``start``, ``end``, ``max_size``, ``fps``, ``sheet``).
        command: the sub-command's name.
        inputs: every path the command reads (no output may overwrite one).
        outputs: the media outputs, one record each unless ``--report`` asks for one of all; with
            ``--labels`` (an input too), each output's labels beside it (:func:`label_output`).
        records: ``False`` writes a record only when ``--report`` asks (commands with no media output).
    """

    def __init__(
        self,
        args: argparse.Namespace,
        command: str,
        inputs: Sequence[str | os.PathLike],
        outputs: Sequence[Path] = (),
        records: bool = True,
    ):
        self.args = args
        self.command = command
        self.progress = Progress(getattr(args, "quiet", False))
        self.outputs = [Path(p) for p in outputs]
        self.inputs: dict[str, dict] = {}
        self.samples: list[dict] = []
        self.sheet_rows: list[np.ndarray] = []
        self.problem = None
        self.labels: str | None = getattr(args, "labels", None)
        self._voted: np.ndarray | None = None  # the labels of the sample solved, until written
        self.sheet = Path(args.sheet) if getattr(args, "sheet", None) else None
        report = getattr(args, "report", None)
        self.to_stdout = any(str(p) == "-" for p in outputs)
        if self.to_stdout and len(self.outputs) > 1:
            fail("-o - writes one stream to standard output: give --samples 1, or file names")
        kept = [o for o in self.outputs if str(o) != "-"]
        if self.labels is not None:
            if self.to_stdout:
                fail("--labels writes a label file beside each output: give -o a file name, not -")
            inputs = [*inputs, self.labels]
        labelled = [label_output(o) for o in kept] if self.labels is not None else []
        self.reports = [Path(report)] if report else [record_path(o) for o in kept] if records else []
        files = self.reports + ([self.sheet] if self.sheet else [])  # never folders, whatever their names
        written = kept + labelled + files
        overwrite = bool(getattr(args, "overwrite", False))
        try:
            for path in written:  # first: a name too long would fail every other check with a traceback
                check_name(path)
            for path in self.outputs:
                output_kind(path)
            if self.sheet is not None and output_kind(self.sheet) != "image":
                fail(f"--sheet needs an image file name (.png, .jpg), got {self.sheet}")
            if len({p.resolve() for p in written}) != len(written):
                fail("the report, sheet or labels would overwrite an output")
            for path in self.reports:
                if path.is_dir():
                    fail(f"--report {path} is a folder")
            for path in kept + labelled:  # a media output is a folder of frames or a file by its name
                check_output(path, list(inputs), overwrite)
            for path in files:
                check_output(path, list(inputs), overwrite, folder=False)
        except OSError as e:  # what the checks' own looks at the file system may meet (a loop of links, ...)
            fail(f"cannot write {e.filename or 'an output'}: {e.strerror or e}")
        self.encoding = None
        if hasattr(args, "codec"):
            from ..media import Encoding
            from ..media.encoding import resolve

            self.encoding = Encoding(**encoding_from(args))
            for path in self.outputs:  # a codec the container cannot hold is refused before the work
                if output_kind(path) == "video":
                    resolve(path, self.encoding)
            for path in labelled:
                if output_kind(path) == "video":
                    resolve(path, LABEL_ENCODING)
        # every output this run puts in place is logged, so that a failed run removes them
        # (end_runs); without -y each is put in place exclusively (a name another run took is refused)
        self._log = OutputLog(replace=overwrite)
        self._token = OUTPUTS.set(self._log)
        _runs.append(self)

    # ----------------------------------------------------------------------------------- inputs

    def read(
        self,
        path: str,
        role: str = "input",
        *,
        time_range: bool = True,
        shrink: bool = True,
        min_frames: int = 1,
        purpose: str = "",
        sheet: bool = True,
    ) -> Video:
        """Read an input (the time range and ``--max-size`` of the command line unless told not to),
        after checking that its decoded frames fit in memory; refuse fewer than ``min_frames``
        frames, naming the ``purpose``; ``sheet``: show it on the contact sheet. ``-`` reads
        standard input."""
        start, end = (self.args.start, self.args.end) if time_range and hasattr(self.args, "start") else (None, None)
        max_size = getattr(self.args, "max_size", None) if shrink else None
        shown = path
        if path == "-":
            path = self._spool_stdin()
        probed = probe_video(path)
        if probed is None and max_size == "auto":
            max_size = None
        if probed is not None:
            first, last = frame_range(start, end, probed.fps, Path(path))
            frames = max(1, (last if last is not None else max(probed.frames, first + 1)) - first)
            if max_size == "auto":
                max_size = self._auto_size(probed, frames)
            nh, nw = fit_size(probed.height, probed.width, max_size)
            size = f"{probed.width}x{probed.height}"
            size += f", kept at {nw}x{nh}" if (nh, nw) != (probed.height, probed.width) else ""
            check_memory(frames * nh * nw * 3, f"video too large: {shown} is {size}: decoding {frames} frame"
                         f"{'s' if frames > 1 else ''}", "give a shorter --start/--end range or a smaller --max-size")
        video = read_video(path, start, end, max_size=max_size)
        for note in video.notes:
            self.progress(f"note: {note}")
        t, h, w = video.shape
        if video.is_image and min_frames > 1 or t < min_frames:
            got = "a single image" if video.is_image else f"{t} frames"
            fail(f"{shown} is {got}: {purpose} needs a clip of at least {min_frames} frames")
        what = "image" if video.is_image else f"{t} frames"
        size = f"{w}x{h}"
        if probed is not None and (probed.height, probed.width) != (h, w):
            size += f" (shrunk from {probed.width}x{probed.height}, --max-size {max_size})"
        details = [f"at {video.fps} fps"] if video.fps else []
        if video.colour is not None:
            assumed = "" if video.colour.tagged else " (untagged: assumed)"
            details.append(f"colour {video.colour.describe()}{assumed}")
        if video.source is not None and video.source.audio:
            details.append("with sound")
        self.progress(f"read {shown}: {what} of {size}" + (f", {', '.join(details)}" if details else ""))
        source = video.source
        self.inputs[role] = {
            "path": "-" if shown == "-" else str(Path(path).resolve()),
            "start": None if start is None else str(start),
            "end": None if end is None else str(end),
            "max_size": max_size,
            "frames_height_width": list(video.shape),
            "fps": str(video.fps) if video.fps else None,
            "colour": dataclasses.asdict(video.colour) if video.colour is not None else None,
            "rotation": source.rotation if source else 0,
            "sound": bool(source and source.audio),
            "timecode": source.timecode if source else None,
            "variable_frame_rate": bool(source and source.variable_rate),
        }
        if self.sheet is not None and sheet:
            self.sheet_rows.append(sheet_frames(video.frames))
        return video

    def read_labels(self, like: Video) -> np.ndarray | None:
        """The ``--labels`` input for ``like`` (``None`` without it): ``(T, H, W, 3) uint8`` colours,
        each distinct colour one id (``(H, W, 3)`` for an image; an image or a one-frame clip serves
        every frame), read with the command's time range. Labels at the input's full size are shrunk
        with it by ``--max-size``, by nearest neighbour: a filter would blend ids into new ones."""
        if self.labels is None:
            return None
        video = self.read(self.labels, "labels", shrink=False, sheet=False)
        t, h, w = like.shape
        lt, lh, lw = video.shape
        frames = video.frames if video.frames.ndim == 4 else video.frames[None]
        if (lh, lw) != (h, w):
            max_size = self.inputs.get("input", {}).get("max_size")
            if not isinstance(max_size, int) or fit_size(lh, lw, max_size) != (h, w):
                fail(f"the labels {self.labels} are {lw}x{lh} but the input is {w}x{h}: give labels of the "
                     "input's size")
            rows = ((np.arange(h) + 0.5) * lh / h).astype(int)  # the source pixel nearest each centre
            cols = ((np.arange(w) + 0.5) * lw / w).astype(int)
            frames = frames[:, rows][:, :, cols]
            self.progress(f"labels shrunk to {w}x{h} with the input (nearest neighbour)")
        if lt not in (1, t):
            fail(f"the labels {self.labels} have {lt} frames but the input has {t}: give one image or a video of "
                 "the same length")
        from ..synthesis.labels import colour_ids

        ids = self.inputs["labels"]["ids"] = int(len(np.unique(colour_ids(frames))))
        if ids > 256:  # masks saved with a lossy codec get a new colour at every blurred edge
            self.progress(f"note: the labels hold {ids} colours, each one id; labels saved with loss (H.264, JPEG) "
                          "gain colours at every edge: save them as PNG frames or with --lossless")
        return frames[0] if like.is_image else np.broadcast_to(frames, (t, h, w, 3))

    def _spool_stdin(self) -> str:
        """Standard input copied to a temporary file (media readers need to seek), removed at exit."""
        import atexit
        import shutil
        import tempfile

        if sys.stdin is None or sys.stdin.isatty():
            fail("input '-' reads standard input, but nothing is piped in (e.g. cat clip.mp4 | patchvid ...)")
        fd, name = tempfile.mkstemp(prefix="patchvid-stdin-")
        atexit.register(lambda: Path(name).unlink(missing_ok=True))
        with os.fdopen(fd, "wb") as f:
            shutil.copyfileobj(sys.stdin.buffer, f, 1 << 20)
        size = Path(name).stat().st_size
        if size == 0:
            fail("standard input is empty")
        self.progress(f"read {size / 2**20:.1f} MiB from standard input")
        return name

    def _auto_size(self, probed, frames: int) -> int | None:
        """``--max-size auto``: the largest longer side whose generation of ``frames`` frames fits in
        the memory available (half of it, leaving room for the task's own extras), said on stderr."""
        from ..synthesis.planning import plan
        from ..synthesis.settings import GenerateSettings

        available = memory.available_memory()
        longest = max(probed.height, probed.width)
        if available is None:
            return None
        settings = GenerateSettings()

        def fits(size: int) -> bool:
            h, w = fit_size(probed.height, probed.width, size)
            return plan((frames, h, w), settings).estimated_bytes <= 0.5 * available

        if fits(longest):
            self.progress(f"--max-size auto: the full size ({probed.width}x{probed.height}) fits in memory")
            return None
        low, high = 16, longest
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (mid, high) if fits(mid) else (low, mid)
        h, w = fit_size(probed.height, probed.width, low)
        self.progress(f"--max-size auto: {w}x{h} (longer side {low}) fits in the {available / 2**30:.1f} GiB available")
        return low

    def read_mask(self, path: str, like: Video, what: str = "the input", time_range: bool = True) -> np.ndarray:
        """A mask for ``like``: ``(H, W) bool`` (an image, or a one-frame clip, for every frame) or
        ``(T, H, W) bool``; white (grey >= 128) selects. A video mask is cut to the command's time
        range; a mask drawn at the input's full size is shrunk with it when ``--max-size`` shrank it."""
        start, end = (self.args.start, self.args.end) if time_range and hasattr(self.args, "start") else (None, None)
        max_size = self.inputs.get("input", {}).get("max_size") or getattr(self.args, "max_size", None)
        mask = read_video(path, start, end, max_size=None if max_size == "auto" else max_size)
        for note in mask.notes:
            self.progress(f"note: {note}")
        t, h, w = like.shape
        mt, mh, mw = mask.shape
        if (mh, mw) != (h, w):
            fail(f"the mask {path} is {mw}x{mh} but {what} is {w}x{h}")
        if not mask.is_image and mt != 1 and mt != t:
            fail(f"the mask {path} has {mt} frames but {what} has {t}: give one image or a video of the same length")
        selected = mask.frames.mean(axis=-1) >= 128
        if not selected.any():
            fail(f"the mask {path} is empty: it selects nothing (white, grey 128 or brighter, selects)")
        return selected[0] if selected.shape[0] == 1 else selected

    def rate(self, video: Video) -> Fraction:
        """The input's frame rate, or 25 fps (with a note) when it stores none."""
        if video.fps:
            return video.fps
        self.progress(f"note: the input stores no frame rate; using {DEFAULT_FPS} fps")
        return DEFAULT_FPS

    # ----------------------------------------------------------------------------------- work

    def check(self, problem) -> None:
        """Refuse a prepared problem whose output an image file cannot hold or whose memory would
        not fit; say what will be made."""
        self.problem = problem
        p = problem.plan
        t, h, w = problem.output_shape
        self.check_frames_fit(t)
        self.check_encodable(h, w)
        check_memory(p.estimated_bytes, f"{self.command} to {t}x{h}x{w}")
        line = (f"output {t} frames of {w}x{h}, patch {p.patch}, {len(p.levels)} levels, {p.device}, "
                f"memory about {p.estimated_bytes / 2**30:.1f} GiB")
        seconds = estimated_seconds(p)
        if seconds is not None:
            samples = max(1, len(self.outputs))
            line += f", roughly {_duration(seconds * samples)}" + (f" ({samples} samples)" if samples > 1 else "")
        self.progress(line)

    def check_encodable(self, height: int, width: int) -> None:
        """Refuse, before the work, a codec that cannot take frames of this size (DNxHR's minimum)."""
        from ..media.encoding import MIN_SIZE, resolve

        for path in self.outputs:
            if output_kind(path) == "video":
                codec = resolve(path, self.encoding).codec
                least_w, least_h = MIN_SIZE.get(codec, (1, 1))
                if width < least_w or height < least_h:
                    fail(f"{codec} needs frames of at least {least_w}x{least_h}, the output is {width}x{height} "
                         "(use --codec prores)")

    def check_frames_fit(self, frames: int) -> None:
        """Refuse, before the work, an output file that cannot hold ``frames`` frames."""
        for path in self.outputs:
            check_frames_fit(path, frames)

    def solve(self, problem, seed: int, labels: np.ndarray | None = None) -> np.ndarray:
        """Solve ``problem`` with ``seed``, a progress line per level; the frames it returns. With
        ``labels`` (:meth:`read_labels`), the output's labels are voted too, and :meth:`write` writes
        them beside the output."""
        which = f"sample {len(self.samples) + 1}/{len(self.outputs)}" if len(self.outputs) > 1 else ""
        frames, sources, levels, seconds = self._solve_with_bar(problem, seed, which or "solving", labels)
        sample = {"seed": seed, "seconds": seconds, "levels": levels}
        if not problem.image:
            sample["source_frames"] = sources
        self.samples.append(sample)
        return frames

    def solve_window(self, problem, seed: int, label: str) -> tuple[np.ndarray, list[int]]:
        """One window of an output made window by window (:mod:`patchvid.tasks.extend`): solved with a
        bar named ``label``; its seed and time go in the current sample's ``windows``. Returns the
        frames and the source frame of each (a ``Solver``)."""
        frames, sources, _, seconds = self._solve_with_bar(problem, seed, label)
        _, sample = self._current_sample()
        sample.setdefault("windows", []).append({"seed": seed, "solved_frames": len(frames), "seconds": seconds})
        return frames, sources

    def _solve_with_bar(self, problem, seed: int, label: str, labels: np.ndarray | None = None
                        ) -> tuple[np.ndarray, list[int], list[dict], float]:
        """``problem`` solved with a progress bar named ``label``: the frames, the source frame of
        each, the levels' reports and the seconds taken; with ``labels``, its labels are kept for
        :meth:`write`."""
        from ..synthesis.labels import solve_labelled
        from ..synthesis.problem import solve

        levels: list[dict] = []
        sources: list[int] = []

        def on_level(r) -> None:
            levels.append({k: v for k, v in dataclasses.asdict(r).items() if k != "source_frames"})
            if r.source_frames is not None:
                sources[:] = r.source_frames

        started = time.perf_counter()
        work = solve_work(problem.plan)
        with self.progress.bar(sum(work.values()), label) as bar:
            if labels is None:
                frames = solve(problem, seed, on_level, on_round=round_callback(bar, work))
            else:
                frames, self._voted = solve_labelled(problem, labels, seed, on_level, round_callback(bar, work))
        return frames, sources[: len(frames)], levels, round(time.perf_counter() - started, 3)

    def _current_sample(self) -> tuple[int, dict]:
        """The record of the output being made, begun here unless :meth:`solve`, :meth:`solve_window`
        or :meth:`start_sample` began it; and its index."""
        if not self.samples or "output" in self.samples[-1]:
            self.samples.append({})
        return len(self.samples) - 1, self.samples[-1]

    def _output_rate(self, like: Video | None, fps: Fraction | None = None, note: bool = True) -> tuple:
        """The rate asked for (``fps``, else ``--fps``, else ``like``'s; ``None``: none known, with a note
        if ``note``) and the exact rate written (25 fps when none is known)."""
        rate = fps or getattr(self.args, "fps", None) or (like.fps if like is not None else None)
        if rate is None and note:
            self.progress("note: the input stores no frame rate; writing 25 fps (set it with --fps)")
        return rate, Fraction(rate).limit_denominator(1_000_000) if rate else DEFAULT_FPS

    def _wrote(self, path: Path, index: int, sample: dict, rate, out_rate: Fraction, details: list[str]) -> None:
        """Record that ``path`` was written and say so, with the sample's number, seed and ``details``."""
        sample["output"] = str(path)
        sample["output_fps"] = str(out_rate) if rate else None
        said = [f"sample {index + 1}/{len(self.outputs)}"] if len(self.outputs) > 1 else []
        said += [f"seed {sample['seed']}"] if "seed" in sample else []
        said += details
        self.progress(f"wrote {path}" + (f" ({', '.join(said)})" if said else ""))

    def write_stream(
        self,
        path: Path,
        pieces: Iterable[tuple[np.ndarray, Sequence[int] | None]],
        like: Video | None,
        count: int,
    ) -> None:
        """Write an output of ``count`` frames piece by piece as the pieces are made: ``(frames,
        sources)`` pairs, ``sources`` the input frame each frame came from (its sound; ``None``: the
        input's own frames in order, from the first). A video file, ``-`` and a folder of PNG frames
        get each piece as it comes (memory does not grow with the length; files are still put in
        place atomically); a GIF is gathered (its encoder needs every frame), with a note saying so.
        The output is the one :meth:`write` gives for the frames gathered."""
        kind = output_kind(path)
        rate, out_rate = self._output_rate(like, note=count > 1 and kind in ("video", "gif"))
        index, sample = self._current_sample()
        options, sound = {}, None
        if kind == "video":
            options = self._carry(like, None, out_rate, False, sample, count, stream=True)
            sound = options.pop("sound", None)
        else:
            self._sound_left_out(like, kind, sample)
        started, written = time.perf_counter(), 0
        sheet: list[np.ndarray] = []
        wanted = set(np.linspace(0, count - 1, min(6, count)).round().astype(int).tolist())
        with frame_writer(path, out_rate, **options) as writer:
            for piece, sources in pieces:
                if written == 0 and writer.held and count > 1:  # a GIF (an image file holds one frame)
                    held = count * piece[0].nbytes / 2**20
                    self.progress(f"note: a GIF is written in one go: its {count} frames are held in memory until "
                                  f"then (about {held:.1f} MiB); for long runs write a video (.mp4) or PNG frames "
                                  "(a folder)")
                if sound is not None:
                    sound.add(range(written, written + len(piece)) if sources is None else sources)
                writer.write(piece)
                sheet += [piece[i - written].copy() for i in sorted(wanted) if written <= i < written + len(piece)]
                written += len(piece)
        for note in writer.notes:
            self.progress(f"note: {note}")
        if sound is not None:
            sample["sound"]["joins"] = sound.jumps
        if self.sheet is not None:
            self.sheet_rows.append(np.stack(sheet))
        sample["frames"] = written
        sample.setdefault("seconds", round(time.perf_counter() - started, 3))
        self._wrote(path, index, sample, rate, out_rate, [f"{written} frames", f"{time.perf_counter() - started:.1f}s"])

    def _sound_left_out(self, like: Video | None, kind: str, sample: dict) -> None:
        """Say, and record, that an output of ``kind`` (no video file) leaves the input's sound out."""
        if like is not None and like.source is not None and like.source.audio and not self._no_audio:
            self.progress(f"sound: left out ({kind} outputs hold none)")
            sample["sound"] = {"kept": False, "why": f"{kind} outputs hold none"}

    def start_sample(self, **fields) -> None:
        """Begin the record of an output that is not made by :meth:`solve` (a texture's seed)."""
        self.samples.append(fields)

    def write(
        self,
        path: Path,
        frames: np.ndarray,
        like: Video | None = None,
        fps: Fraction | None = None,
        timeline: str | Sequence[int] | None = "auto",
        loop: bool = False,
    ) -> None:
        """Write one output atomically at ``fps`` (default ``--fps``, else ``like``'s rate, else 25 fps
        with a note); an image input's one-frame result stays an image.

        ``like`` is the input whose colour description, sound and tags the output carries;
        ``timeline`` says how the output's frames relate to its time: ``"same"`` (its own frames in
        order: sound copied, tags and timecode kept), input frame indices per output frame (sound
        rebuilt from them; ``loop``: seamless at the wrap), ``None`` (no sound), or ``"auto"``: for a
        sample made by :meth:`solve`, the source frames the engine copied from."""
        frames = frames[0] if like is not None and like.is_image and frames.ndim == 4 and len(frames) == 1 else frames
        many = frames.ndim == 4 and len(frames) > 1
        kind = output_kind(path)
        rate, out_rate = self._output_rate(like, fps, note=many and kind in ("video", "gif"))
        index, sample = self._current_sample()
        if timeline == "auto":
            timeline = sample.get("source_frames")
        options = {}
        if kind == "video" and many:
            options = self._carry(like, timeline, out_rate, loop, sample, frames.shape[0])
        else:
            self._sound_left_out(like, kind, sample)
        for note in write_video(path, frames, rate, **options):
            self.progress(f"note: {note}")
        if self.sheet is not None:
            self.sheet_rows.append(sheet_frames(frames))
        self._wrote(path, index, sample, rate, out_rate, [f"{sample['seconds']:.1f}s"] if "seconds" in sample else [])
        if self._voted is not None:
            self._write_labels(label_output(path), sample, out_rate)

    def _write_labels(self, path: Path, sample: dict, rate: Fraction) -> None:
        """Write the labels of the sample just written (:meth:`solve`) to ``path``, without loss, and
        put them in its record."""
        from ..synthesis.labels import VOTE, colour_ids

        voted, self._voted = self._voted, None
        write_video(path, voted, rate, encoding=LABEL_ENCODING)
        ids = int(len(np.unique(colour_ids(voted))))
        sample["labels"] = {"input": self.inputs["labels"]["path"], "output": str(path), "vote": VOTE,
                            "ids": self.inputs["labels"]["ids"], "ids_in_output": ids}
        self.progress(f"wrote {path} (labels: {ids} of the input's {self.inputs['labels']['ids']} ids, {VOTE} vote)")

    @property
    def _no_audio(self) -> bool:
        return bool(getattr(self.args, "no_audio", False))

    def _carry(self, like: Video | None, timeline, rate: Fraction, loop: bool, sample: dict, count: int,
               stream: bool = False) -> dict:
        """What a video output carries from ``like``: colour, sound, tags, timecode, encoding; each
        said once and put in the sample's record. ``stream``: the output is written piece by piece,
        its sound a :class:`~patchvid.media.soundtrack.StreamedSound` (also returned as ``"sound"``)."""
        from ..media.metadata import footage_tags
        from ..media.soundtrack import soundtrack, streamed_soundtrack

        options: dict = {"encoding": self.encoding, "colour": like.colour if like is not None else None}
        source = like.source if like is not None else None
        sound = None
        if source is not None and source.audio:
            if self._no_audio:
                self.progress("sound: dropped (--no-audio)")
                sample["sound"] = {"kept": False, "why": "--no-audio"}
            else:
                if not isinstance(timeline, str) and timeline is not None and len(timeline) != count:
                    timeline = None
                if stream:
                    sound = streamed_soundtrack(source, like.fps, rate)
                    options["sound"] = sound.track
                else:
                    sound = soundtrack(source, timeline, like.fps, rate, loop=loop)
                if sound.message:
                    self.progress(sound.message)
                sample["sound"] = sound.record
        options["audio"] = sound.track if sound is not None else None
        if source is not None and timeline == "same":
            options["tags"] = footage_tags(source.tags)
            options["timecode"] = source.timecode
            sample["metadata"] = {"tags": options["tags"], "timecode": source.timecode}
            if source.timecode:
                self.progress(f"timecode {source.timecode} (the input's, at the first frame kept)")
        elif source is not None and (source.timecode or footage_tags(source.tags)):
            sample["metadata"] = {"tags": {}, "timecode": None,
                                  "why": "a new timeline: the input's tags and timecode describe other frames"}
        colour = (like.colour if like is not None and like.colour is not None else None)
        sample["colour"] = colour.as_output(*like.shape[1:]).describe() if colour is not None else None
        return options

    def say(self, text: str, quiet_too: bool = False) -> None:
        """A result on stdout (a seam ratio); ``-q`` silences it unless ``quiet_too`` (the score
        table, which is the command's result).

        The line is part of the result: if standard output cannot take it (a closed pipe, a full
        disk), the run fails like any failed write, with one error line and exit status 1, and the
        outputs it wrote are removed (see :func:`end_runs`)."""
        if quiet_too or not getattr(self.args, "quiet", False):
            stream = sys.stderr if self.to_stdout else sys.stdout  # stdout may be the video
            try:
                print(text, file=stream, flush=True)
            except OSError as e:
                _silence(stream)
                where = "standard error" if self.to_stdout else "standard output"
                reason = "closed (broken pipe)" if isinstance(e, BrokenPipeError) else e.strerror or str(e)
                fail(f"cannot write the result to {where}: {reason}")

    # ----------------------------------------------------------------------------------- records

    def finish(self, options: dict | None = None, settings=None, **results) -> None:
        """Write the contact sheet (if asked) and the JSON record: one for all outputs with
        ``--report``, else one beside each output holding its own sample."""
        if self.sheet is not None:  # a failed write here or below removes the run's outputs (end_runs)
            from ..pictures import contact_sheet

            write_video(self.sheet, contact_sheet(self.sheet_rows))
            self.progress(f"wrote {self.sheet} (inputs, then the outputs)")
        base = self.header() | {
            "inputs": self.inputs,
            "options": options or {},
            "settings": dataclasses.asdict(settings) if settings is not None else None,
            "plan": plan_record(self.problem) if self.problem is not None else None,
        }
        if getattr(self.args, "report", None):
            write_text(self.reports[0], _json(base | {"samples": self.samples} | results))
            return
        for path, sample in zip(self.reports, [s for s in self.samples if s.get("output") != "-"]):
            write_text(path, _json(base | {"samples": [sample]} | results))

    def header(self) -> dict:
        """What every record starts with: the version, the command line, when, and where it ran."""
        import torch

        argv = sys.argv[1:]
        return {
            "patchvid": __version__,
            "command": "patchvid " + " ".join(argv) if argv[:1] == [self.command] else f"patchvid {self.command}",
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "environment": {"python": platform.python_version(), "torch": torch.__version__,
                            "machine": platform.machine()},
        }


# ----------------------------------------------------------------------------------- ending runs

_runs: list[Run] = []  # the runs of the command now running, ended by end_runs


def end_runs(failed: bool) -> list[Path]:
    """End the command's runs (the command line calls this when a command returns or fails). On
    failure (an error, an interrupt, a result line standard output would not take) every output they
    put in place is removed, so that a failed run leaves nothing behind; the paths removed."""
    removed: list[Path] = []
    while _runs:
        run = _runs.pop()
        if failed:
            for path in run._log.discard():
                with contextlib.suppress(OSError):  # stderr closed too: the removal is what matters
                    run.progress(f"removed {path}: the run did not complete")
                removed.append(path)
        with contextlib.suppress(ValueError):  # set in another context: leave that context as it is
            OUTPUTS.reset(run._token)
    return removed


def _silence(stream) -> None:
    """Point a stream that failed at the null device, so that Python's flush at exit does not fail
    on it again (and print a second message)."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, stream.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture): nothing to do
        pass


def _json(record: dict) -> str:
    return json.dumps(_finite(record), indent=2, default=str) + "\n"


def _finite(value):
    """JSON has no infinity or NaN: those become ``None``."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
