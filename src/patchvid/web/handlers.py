"""What the web page does, without Gradio: a view's inputs become a ``patchvid`` command line, run as
a subprocess in a folder of its own, followed through its progress lines, cancelled by SIGTERM.

The page shows the command (``shlex.join``) so that a run can be scripted, and every output is the
command line's own, with the JSON record it writes beside it. Nothing here imports torch or Gradio.

Example:
    >>> argv = generate_argv("clip.mp4", samples=2, max_size=32)
    >>> shlex.join(["patchvid", *argv])
    'patchvid generate clip.mp4 -o out/sample.mp4 --samples 2 --max-size 32'
    >>> parse_progress("[   12.3s] sample 1/2: 40% (ETA 0:00:31)")
    Step(fraction=0.2, text='sample 1/2: 40% (ETA 0:00:31)')
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError, PatchvidError

OUT = "out"  # the outputs' sub-folder of a run folder (inputs the page makes, a mask, stay beside it)
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".gif"})
KEEP_RUNS = 20  # run folders kept per workspace; older ones are pruned as new runs start
STOP_SECONDS = 10.0  # how long a cancelled run gets to clean up before it is killed


class RunError(PatchvidError):
    """A run that failed: the command line's one error line (without ``patchvid: error:``)."""


class Cancelled(PatchvidError):
    """A run stopped by the user (the command removed what it wrote)."""


# ------------------------------------------------------------------------------------ options


@dataclass(frozen=True)
class Option:
    """One option of a sub-command as the page shows it: its flag, the CLI's default as text
    (``""``: unset), its help, its choices (a drop-down) or whether it is a switch."""

    flag: str
    default: str
    help: str
    choices: tuple[str, ...] = ()
    switch: bool = False


@functools.cache
def _sub_parsers() -> dict[str, argparse.ArgumentParser]:
    from ..cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def default_text(value: object) -> str:
    """A parsed default as the command line would take it: ``(3, 7, 7)`` -> ``3x7x7`` for a patch,
    ``(0.85, 0.85)`` -> ``0.85``, ``None`` -> ``""``.

    Example:
        >>> default_text((3, 7, 7)), default_text((0.85, 0.85)), default_text(None), default_text(4.0)
        ('3x7x7', '0.85', '', '4')
    """
    if value is None:
        return ""
    if isinstance(value, tuple):
        if len(set(value)) == 1:
            return default_text(value[0])
        if all(isinstance(v, int) for v in value):
            return "x".join(str(v) for v in value)
        return ",".join(default_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@functools.cache
def options_of(command: str, group: str = "method") -> tuple[Option, ...]:
    """The options of ``patchvid COMMAND``'s argument group ``group``, with the CLI's own defaults
    and help (read from its parser, so the page cannot drift from it)."""
    parser = _sub_parsers()[command]
    found = next((g for g in parser._action_groups if g.title == group), None)
    if found is None:
        raise InputError(f"patchvid {command} has no {group!r} options")
    options = []
    for action in found._group_actions:
        if not action.option_strings or action.help == argparse.SUPPRESS:
            continue
        switch = action.nargs == 0
        default = "" if switch else default_text(action.default)
        help_text = (action.help or "").replace("%%", "%")
        options.append(Option(action.option_strings[0], default, help_text,
                              tuple(action.choices or ()), switch))
    return tuple(options)


def choices_of(command: str, flag: str) -> list[str]:
    """The choices of ``patchvid COMMAND``'s option ``flag`` (``inpaint --fill``: cue, smooth)."""
    return list(_sub_parsers()[command]._option_string_actions[flag].choices or ())


def options_argv(command: str, values: Mapping[str, object] | None, group: str = "method") -> list[str]:
    """``--flag value`` for each option of ``group`` whose value differs from the CLI's default (a
    switch: ``--flag`` when true). Unknown flags are refused."""
    if not values:
        return []
    known = {o.flag: o for o in options_of(command, group)}
    argv: list[str] = []
    for flag, value in values.items():
        option = known.get(flag)
        if option is None:
            raise InputError(f"patchvid {command} has no option {flag} in {group!r}")
        if option.switch:
            argv += [flag] if value else []
            continue
        text = "" if value is None else str(value).strip()
        if isinstance(value, float) and value.is_integer():
            text = str(int(value))
        if text and text != option.default:
            argv += [flag, text]
    return argv


def _flags(pairs: Sequence[tuple[str, object]]) -> list[str]:
    """``--flag value`` for each value given (``None``/``""`` left out; ``True`` alone; ``False`` out)."""
    argv: list[str] = []
    for flag, value in pairs:
        if value is None or value is False or (isinstance(value, str) and not value.strip()):
            continue
        if value is True:
            argv.append(flag)
        else:
            argv += [flag, str(int(value)) if isinstance(value, float) and value.is_integer() else str(value).strip()]
    return argv


def output_suffix(path: str | os.PathLike | None, video: str = ".mp4") -> str:
    """The suffix of an output made from ``path``: ``.png`` for an image, else ``video``."""
    return ".png" if path is not None and Path(path).suffix.lower() in IMAGE_SUFFIXES else video


def _input_options(max_size: object = None, start: object = None, end: object = None) -> list[str]:
    return _flags([("--start", start), ("--end", end), ("--max-size", max_size)])


# ------------------------------------------------------------------------------------ views


def generate_argv(input: str | None, *, demo: bool = False, samples: int = 2, seed: int = 0, max_size: object = None,
                  start: object = None, end: object = None, loop: bool = False, scale: str | None = None,
                  method: Mapping[str, object] | None = None) -> list[str]:
    """``patchvid generate``: ``samples`` variations of ``input`` (or the bundled clip, ``demo``)."""
    if demo == bool(input):
        raise InputError("give a video or image, or use the demo clip")
    source = ["--demo"] if demo else [str(input)]
    return ["generate", *source, "-o", f"{OUT}/sample{output_suffix(input)}",
            *_flags([("--samples", samples if samples != 1 else None), ("--seed", seed or None), ("--loop", loop),
                     ("--scale", scale)]),
            *_input_options(max_size, start, end), *options_argv("generate", method)]


def retarget_argv(input: str, *, width: object = None, height: object = None, frames: object = None,
                  loop: bool = False, seed: int = 0, max_size: object = None, start: object = None, end: object = None,
                  method: Mapping[str, object] | None = None) -> list[str]:
    """``patchvid retarget``: a new width, height or length, made of the clip's patches."""
    if not any((width, height, frames)):
        raise InputError("give a new width, height or number of frames")
    return ["retarget", str(input), "-o", f"{OUT}/retargeted{output_suffix(input)}",
            *_flags([("--width", width), ("--height", height), ("--frames", frames), ("--loop", loop),
                     ("--seed", seed or None)]),
            *_input_options(max_size, start, end), *options_argv("retarget", method)]


def extend_argv(input: str, *, after: object = None, before: object = None, loop: bool = False, samples: int = 1,
                seed: int = 0, max_size: object = None, start: object = None, end: object = None,
                method: Mapping[str, object] | None = None) -> list[str]:
    """``patchvid extend``: more of the clip before and/or after it (``loop``: the whole plays in a loop)."""
    if not (after or before):
        raise InputError("give a length to add after or before the clip")
    return ["extend", str(input), "-o", f"{OUT}/extended.mp4",
            *_flags([("--after", after), ("--before", before), ("--loop", loop),
                     ("--samples", samples if samples != 1 else None), ("--seed", seed or None)]),
            *_input_options(max_size, start, end), *options_argv("extend", method)]


def inpaint_argv(input: str, mask: str, *, fill: str = "cue", seed: int = 0, max_size: object = None,
                 start: object = None, end: object = None, method: Mapping[str, object] | None = None) -> list[str]:
    """``patchvid inpaint``: the white region of ``mask`` filled with the clip's patches."""
    return ["inpaint", str(input), "--mask", str(mask), "-o", f"{OUT}/inpainted{output_suffix(input)}",
            *_flags([("--fill", fill if fill != "cue" else None), ("--seed", seed or None)]),
            *_input_options(max_size, start, end), *options_argv("inpaint", method)]


def cinemagraph_argv(input: str, mask: str, *, still: object = None, feather: object = None,
                     max_size: object = None, start: object = None, end: object = None,
                     output: str = ".mp4") -> list[str]:
    """``patchvid cinemagraph``: a still frame but for the white region of ``mask``, which loops."""
    return ["cinemagraph", str(input), "--mask", str(mask), "-o", f"{OUT}/cinemagraph{output}",
            *_flags([("--still", still), ("--feather", feather)]), *_input_options(max_size, start, end)]


def analogy_argv(structure: str, appearance: str, *, mode: str = "motion", seed: int = 0, max_size: object = None,
                 method: Mapping[str, object] | None = None) -> list[str]:
    """``patchvid analogy``: ``structure``'s layout and motion made of ``appearance``'s patches."""
    return ["analogy", str(structure), str(appearance), "-o", f"{OUT}/analogy{output_suffix(structure)}",
            *_flags([("--mode", mode if mode != "motion" else None), ("--seed", seed or None)]),
            *_input_options(max_size), *options_argv("analogy", method)]


def collage_argv(original: str, edited: str, *, seed: int = 0, max_size: object = None,
                 method: Mapping[str, object] | None = None) -> list[str]:
    """``patchvid collage``: a rough edit of ``original`` made whole with its patches."""
    return ["collage", str(original), str(edited), "-o", f"{OUT}/collage{output_suffix(original)}",
            *_flags([("--seed", seed or None)]), *_input_options(max_size), *options_argv("collage", method)]


def loop_argv(input: str, *, min_length: object = None, max_length: object = None, max_size: object = None,
              start: object = None, end: object = None, output: str = ".mp4") -> list[str]:
    """``patchvid loop``: the clip's best seamless loop."""
    return ["loop", str(input), "-o", f"{OUT}/loop{output}",
            *_flags([("--min-length", min_length), ("--max-length", max_length)]),
            *_input_options(max_size, start, end)]


def texture_argv(input: str, *, duration: object, seed: int = 0, max_size: object = None, start: object = None,
                 end: object = None) -> list[str]:
    """``patchvid texture``: a video texture of any length, jumping between similar frames."""
    if not duration:
        raise InputError("give the texture's duration (seconds, or frames as 50f)")
    return ["texture", str(input), "--duration", str(duration).strip(), "-o", f"{OUT}/texture.mp4",
            *_flags([("--seed", seed or None)]), *_input_options(max_size, start, end)]


def blend_argv(source: str, target: str, mask: str, *, offset: str | None = None, mixed: bool = False) -> list[str]:
    """``patchvid blend``: ``source``'s masked region pasted into ``target`` without a seam."""
    suffix = output_suffix(target)
    return ["blend", str(source), str(target), "--mask", str(mask), "-o", f"{OUT}/blended{suffix}",
            *_flags([("--offset", offset if offset and offset.replace(" ", "") != "0,0,0" else None),
                     ("--mixed", mixed)])]


def evaluate_argv(input: str, samples: Sequence[str], *, max_size: object = None, start: object = None,
                  end: object = None, loop: bool = False) -> list[str]:
    """``patchvid evaluate``: scores of ``samples`` against ``input``, in the report ``out/scores.json``."""
    if not samples:
        raise InputError("give at least one sample to score")
    return ["evaluate", str(input), *map(str, samples), "--report", f"{OUT}/scores.json",
            *_flags([("--loop", loop)]), *_input_options(max_size, start, end)]


def command_text(argv: Sequence[str]) -> str:
    """The command as a user types it: ``patchvid generate clip.mp4 -o out/sample.mp4``."""
    return shlex.join(["patchvid", *argv])


# ------------------------------------------------------------------------------------ progress


@dataclass(frozen=True)
class Step:
    """A progress line read: the fraction of the whole run done, and the line's text."""

    fraction: float
    text: str


_LINE = re.compile(r"^\[\s*[\d.]+s\]\s(?P<text>.*)$")
_BAR = re.compile(r"^(?P<what>.*?): (?P<percent>\d+)% (?:\(ETA [^)]*\)|in \S+)$")
_OF = re.compile(r"\b(?:sample|window|output|task) (?P<i>\d+)/(?P<n>\d+)\b")


def parse_progress(line: str) -> Step | None:
    """A fraction from one of the CLI's stderr lines: ``[   12.3s] sample 1/2: 40% (ETA 0:00:31)``
    -> 0.2 (the first of two samples 40 % done); ``None`` for a line that is no bar's.

    Example:
        >>> parse_progress("[    3.0s] sample 2/2: 100% in 0:00:03").fraction
        1.0
        >>> parse_progress("[    0.1s] reading clip.mp4") is None
        True
    """
    m = _LINE.match(line.strip())
    if not m:
        return None
    text = m["text"]
    bar = _BAR.match(text)
    if not bar:
        return None
    fraction = min(100, int(bar["percent"])) / 100
    of = _OF.search(bar["what"])
    if of and 1 <= int(of["i"]) <= int(of["n"]):
        fraction = (int(of["i"]) - 1 + fraction) / int(of["n"])
    return Step(round(fraction, 6), text)


def message_of(line: str) -> str | None:
    """The message of a progress line (``[   1.2s] reading x`` -> ``reading x``), else ``None``."""
    m = _LINE.match(line.strip())
    return m["text"] if m else None


_ERROR = re.compile(r"^patchvid(?: [a-z]+)?: error: (?P<message>.+)$")


def error_line(stderr: str) -> str | None:
    """The CLI's one error line in ``stderr`` (``patchvid: error: ...``, or argparse's
    ``patchvid generate: error: ...``), without its prefix; the last one if several.

    Example:
        >>> error_line("[  0.1s] reading x\\npatchvid: error: cannot read x.mp4: not a video\\n")
        'cannot read x.mp4: not a video'
    """
    found = None
    for line in stderr.splitlines():
        m = _ERROR.match(line.strip())
        if m:
            found = m["message"]
    return found


# ------------------------------------------------------------------------------------ runs


@dataclass
class Result:
    """What a finished run made: its outputs and JSON records (paths in its folder), the command."""

    argv: list[str]
    folder: Path
    outputs: list[Path] = field(default_factory=list)
    records: list[Path] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0

    @property
    def command(self) -> str:
        return command_text(self.argv)

    def report(self) -> dict | None:
        """The evaluate report (``scores.json``), read; ``None`` if this run wrote none."""
        for path in self.records:
            if path.name == "scores.json":
                return json.loads(path.read_text())
        return None


def _is_record(path: Path) -> bool:
    return path.suffix == ".json"


def _listing(folder: Path) -> tuple[list[Path], list[Path]]:
    """The outputs and records in ``folder`` (a folder of frames is one output), sorted."""
    if not folder.is_dir():
        return [], []
    entries = sorted(folder.iterdir())
    return [p for p in entries if not _is_record(p)], [p for p in entries if _is_record(p)]


class Run:
    """``patchvid ARGV`` running as a subprocess in ``folder`` (its outputs under ``folder/out``).

    Iterate :meth:`follow` for its progress, then :meth:`result`; :meth:`cancel` stops it (SIGTERM: the
    command removes what it wrote and exits 130), and is safe to call at any time, from any thread.
    """

    def __init__(self, argv: Sequence[str], folder: str | os.PathLike):
        self.argv = list(argv)
        self.folder = Path(folder)
        (self.folder / OUT).mkdir(parents=True, exist_ok=True)
        self.cancelled = False
        self.fraction = 0.0
        self.last = ""  # the last message line
        self._stderr: list[str] = []
        self._stdout: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._ended = False  # the progress stream has ended
        self._started = time.perf_counter()
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
        env.pop("COLUMNS", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "patchvid", *self.argv], cwd=self.folder, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
            start_new_session=True,  # its own group: a Ctrl-C to the server is not sent to it twice
        )
        self._readers = [threading.Thread(target=self._read, args=(self.process.stderr, True), daemon=True),
                         threading.Thread(target=self._read, args=(self.process.stdout, False), daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, is_err: bool) -> None:
        for line in stream:
            (self._stderr if is_err else self._stdout).append(line)
            if is_err:
                self._lines.put(line)
        if is_err:
            self._lines.put(None)

    def follow(self, poll: float = 0.5) -> Iterator[Step]:
        """Progress until the run ends: a :class:`Step` per progress line, and one every ``poll`` s
        without a line (so that a caller can yield and be cancelled)."""
        while not self._ended:
            try:
                line = self._lines.get(timeout=poll)
            except queue.Empty:
                yield Step(self.fraction, self.last)
                continue
            if line is None:
                self._ended = True
                return
            step = parse_progress(line)
            message = message_of(line)
            if message:
                self.last = message
            if step is not None:
                self.fraction = max(self.fraction, step.fraction) if step.fraction else step.fraction
            yield Step(self.fraction, self.last)

    def result(self) -> Result:
        """The finished run's outputs and records.

        Raises:
            Cancelled: :meth:`cancel` stopped it.
            RunError: it failed: the message is the command's one error line.
        """
        for _ in self.follow():
            pass
        code = self.process.wait()
        for reader in self._readers:
            reader.join(timeout=5)
        stderr, stdout = "".join(self._stderr), "".join(self._stdout)
        if self.cancelled or code == 130:
            raise Cancelled("cancelled: the run was stopped and what it had written was removed")
        if code != 0:
            raise RunError(error_line(stderr) or f"the command failed (exit status {code}): "
                           + (stderr.strip().splitlines() or ["no message"])[-1])
        outputs, records = _listing(self.folder / OUT)
        return Result(self.argv, self.folder, outputs, records, stdout, stderr,
                      round(time.perf_counter() - self._started, 3))

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def cancel(self, wait: float = STOP_SECONDS) -> None:
        """Stop the run: SIGTERM (the command cleans up and exits 130), SIGKILL if it has not ended
        within ``wait`` seconds. Nothing happens to a run that has ended."""
        if self.process.poll() is not None:
            return
        self.cancelled = True
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def execute(argv: Sequence[str], folder: str | os.PathLike,
            on_progress: Callable[[Step], None] | None = None) -> Result:
    """Run ``patchvid ARGV`` in ``folder`` to its end (see :class:`Run`); ``on_progress`` gets each step.
    The subprocess is stopped if this is interrupted."""
    run = Run(argv, folder)
    try:
        for step in run.follow():
            if on_progress is not None:
                on_progress(step)
        return run.result()
    finally:
        run.cancel()


# ------------------------------------------------------------------------------------ folders


class Workspace:
    """A temporary folder holding one folder per run; removed by :meth:`close` (the app calls it as it
    closes, and at exit), and pruned to the newest :data:`KEEP_RUNS` runs as runs start."""

    def __init__(self, root: str | os.PathLike | None = None, keep: int = KEEP_RUNS):
        self.root = Path(tempfile.mkdtemp(prefix="patchvid-ui-", dir=root))
        self.keep = keep
        self._lock = threading.Lock()
        self._count = 0
        self.runs: dict[str, set[Run]] = {}  # running runs by session, for Cancel

    def new_folder(self, name: str = "run") -> Path:
        """A fresh run folder (older ones beyond :attr:`keep` are removed)."""
        with self._lock:
            self._count += 1
            folder = self.root / f"{self._count:05d}-{re.sub(r'[^a-z0-9]+', '-', name.lower())}"
            folder.mkdir()
            self.prune()
            return folder

    def prune(self) -> None:
        """Remove the oldest run folders beyond :attr:`keep` (never one whose run is running)."""
        busy = {run.folder for runs in self.runs.values() for run in runs if run.running}
        folders = sorted(p for p in self.root.iterdir() if p.is_dir())
        for old in folders[: max(0, len(folders) - self.keep)]:
            if old not in busy:
                shutil.rmtree(old, ignore_errors=True)

    def start(self, argv: Sequence[str], folder: Path, session: str = "") -> Run:
        """Start ``argv`` in ``folder``, remembered under ``session`` for :meth:`cancel`."""
        run = Run(argv, folder)
        with self._lock:
            self.runs.setdefault(session, set()).add(run)
        return run

    def forget(self, run: Run, session: str = "") -> None:
        with self._lock:
            self.runs.get(session, set()).discard(run)

    def cancel(self, session: str = "") -> int:
        """Cancel the runs of ``session``; how many were running."""
        with self._lock:
            runs = list(self.runs.pop(session, ()))
        stopped = sum(run.running for run in runs)
        for run in runs:
            run.cancel()
        return stopped

    def close(self) -> None:
        """Stop every run and remove the folder."""
        with self._lock:
            runs = [run for group in self.runs.values() for run in group]
            self.runs.clear()
        for run in runs:
            run.cancel(wait=3.0)
        shutil.rmtree(self.root, ignore_errors=True)


# ------------------------------------------------------------------------------------ inputs


def check_upload(path: str | os.PathLike | None, max_mb: float, max_frames: int = 2000) -> str:
    """A line about an uploaded input (``256x144, 13 frames at 25 fps, 0.3 MB``), after refusing one
    above ``max_mb`` megabytes or ``max_frames`` frames, or one that is no media.

    Raises:
        InputError: too large, too long, or not readable as a video or image.
    """
    if not path:
        raise InputError("no file given")
    p = Path(path)
    size = p.stat().st_size / 1e6
    if size > max_mb:
        raise InputError(f"{p.name} is {size:.1f} MB, above this page's limit of {max_mb:g} MB")
    from ..media import probe_video, read_video

    try:
        probe = probe_video(p)
        if probe is not None:
            frames, width, height, fps = probe.frames, probe.width, probe.height, probe.fps
        else:
            video = read_video(p)
            (frames, height, width), fps = video.shape, video.fps
    except PatchvidError as e:
        raise InputError(str(e)) from None
    except Exception as e:  # a decoder's own error on a corrupt file
        raise InputError(f"cannot read {p.name}: {e}") from None
    if frames > max_frames:
        raise InputError(f"{p.name} has {frames} frames, above this page's limit of {max_frames}: trim it first")
    rate = f" at {float(fps):.4g} fps" if fps else ""
    length = "an image" if p.suffix.lower() in IMAGE_SUFFIXES else f"{frames or '?'} frames{rate}"
    return f"{width}x{height}, {length}, {size:.2f} MB"


def generate_estimate(path: str | os.PathLike | None, max_size: str, samples: int) -> str:
    """What a generate run of ``path`` at ``--max-size`` would take, before it runs: the size it works
    at, the planner's memory estimate and the runner's rough time (``""`` when there is no input yet
    or it cannot be read: the upload line says why).

    Example:
        >>> generate_estimate(None, "256", 2)
        ''
    """
    if not path:
        return ""
    from ..cli.runner import estimated_seconds
    from ..frames import fit_size
    from ..media import probe_video, read_video
    from ..synthesis.planning import plan
    from ..synthesis.settings import GenerateSettings

    try:
        probe = probe_video(path)
        if probe is not None:
            frames, height, width = probe.frames, probe.height, probe.width
        else:
            frames, height, width = read_video(path).shape
        size = int(max_size) if str(max_size).strip().isdigit() else None
        h, w = fit_size(height, width, size)
        p = plan((max(1, frames), h, w), GenerateSettings())
    except (PatchvidError, OSError, ValueError):
        return ""
    seconds = estimated_seconds(p)
    count = max(1, int(samples))
    took = f", roughly {seconds * count:.0f} s for {count} on this machine's CPU" if seconds else ""
    return f"**Estimate:** {frames} frames of {w}x{h}, memory about {p.estimated_bytes / 2**30:.2f} GiB{took}"


def first_frame(path: str | os.PathLike):
    """The first frame of a video, GIF or image, ``(H, W, 3) uint8``, at its full size (a mask drawn on
    it is shrunk with the input by ``--max-size``)."""
    from ..media import read_video

    try:
        return read_video(path, end="1f").frames[0]
    except PatchvidError as e:
        raise InputError(str(e)) from None
    except Exception as e:
        raise InputError(f"cannot read {Path(path).name}: {e}") from None


def save_mask(layers: Sequence, size: tuple[int, int], path: str | os.PathLike):
    """Painted layers (``(H, W, 4)`` RGBA arrays, as the image editor gives them) as a black and white
    PNG of ``size`` (``(height, width)``): white wherever any layer has paint.

    Raises:
        InputError: nothing painted.
    """
    import numpy as np
    from PIL import Image

    height, width = size
    mask = np.zeros((height, width), bool)
    for layer in layers or ():
        if layer is None:
            continue
        a = np.asarray(layer)
        painted = a[..., 3] > 0 if a.ndim == 3 and a.shape[2] == 4 else (a.reshape(*a.shape[:2], -1).max(-1) > 0)
        if painted.shape != (height, width):
            painted = np.asarray(Image.fromarray(painted).resize((width, height), Image.NEAREST))
        mask |= painted
    if not mask.any():
        raise InputError("paint the region on the frame first (white strokes mark it)")
    Image.fromarray(mask.astype(np.uint8) * 255).save(path)
    return Path(path)


def score_table(report: Mapping) -> tuple[list[str], list[list]]:
    """The evaluate report's scores as a table: a row per measure, a column per sample and the mean
    (as the command prints it), and a last row for the diversity of the set.

    Example:
        >>> score_table({"samples": [{"coherence": 8.0}, {"coherence": 9.0}], "mean": {"coherence": 8.5}})
        (['measure', '#1', '#2', 'mean'], [['coherence', 8.0, 9.0, 8.5]])
    """
    samples = list(report.get("samples") or [])
    measures: list[str] = []
    for row in samples:
        for key, value in row.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and key not in measures \
                    and not key.endswith("_scale"):
                measures.append(key)
    mean = report.get("mean") or {}
    rows = [[m, *[row.get(m) for row in samples], mean.get(m)] for m in measures]
    if report.get("diversity") is not None:
        rows.append(["diversity", *[None] * len(samples), report["diversity"]])
    return ["measure", *[f"#{i + 1}" for i in range(len(samples))], "mean"], rows
