"""What every sub-command shares: input and output options, progress lines, reports, memory checks."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from .. import __version__
from ..errors import PatchvidError, ResourceError
from ..media import Video, probe_video, read_video, write_text
from ..resize import fit_size, resize_frames


def parse_time(text: str) -> int | float:
    """``12f`` -> frame 12 (int); ``1.5``, ``1.5s`` or ``0:01.5`` -> 1.5 seconds (float)."""
    s = text.strip().lower()
    if re.fullmatch(r"\d+f", s):
        return int(s[:-1])
    m = re.fullmatch(r"(?:(\d+):)?(\d+(?:\.\d*)?)s?", s)
    if not m:
        raise argparse.ArgumentTypeError(f"not a time: {text!r} (use seconds like 2.5, 2.5s, 1:02, or frames like 12f)")
    return int(m.group(1) or 0) * 60 + float(m.group(2))


def int_at_least(minimum: int):
    """An argparse type: a whole number no smaller than ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}: {text!r}")
        return value

    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("input")
    g.add_argument(
        "--start", type=parse_time, help="where to start in the input: seconds (2.5, 0:02.5) or a frame (12f)"
    )
    g.add_argument("--end", type=parse_time, help="where to stop in the input (exclusive), as --start")
    g.add_argument(
        "--max-size",
        type=positive_int,
        metavar="PIXELS",
        help="shrink the input so that its LONGER side is at most this many pixels (aspect kept)",
    )


def add_output_arguments(parser: argparse.ArgumentParser, report: bool = True) -> None:
    g = parser.add_argument_group("output")
    g.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file: .mp4/.mov/.mkv/.avi (H.264), .webm, .gif, an image (.png/.jpg), or a folder for PNG frames",
    )
    g.add_argument("-y", "--overwrite", action="store_true", help="replace an existing output")
    g.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    if report:
        g.add_argument(
            "--report",
            metavar="FILE",
            help="where to write the JSON record of the run (default: beside each output, OUTPUT.json)",
        )


class Progress:
    """Progress lines on stderr, each with the time since the command started."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.started = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{self.elapsed():7.1f}s] {message}", file=sys.stderr, flush=True)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation, where the OS says; ``None`` when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(needed: int, what: str, hint: str) -> None:
    """Refuse a request whose estimated memory exceeds what is available, before starting it."""
    available = available_memory()
    if available is not None and needed > 0.9 * available:
        raise ResourceError(
            f"{what} needs about {needed / 2**30:.1f} GiB but only {available / 2**30:.1f} GiB is available; {hint}"
        )


def load_input(path: str, start, end, max_size: int | None, progress: Progress) -> Video:
    """Read an input with its time range, after checking the decoded frames will fit in memory,
    and shrink it to ``max_size``."""
    probed = probe_video(path)
    if probed is not None:
        frames, height, width = probed
        check_memory(frames * height * width * 3, f"decoding {path} ({frames} frames of {width}x{height})",
                     "give a shorter --start/--end range")
    video = read_video(path, start, end)
    for note in video.notes:
        progress(f"note: {note}")
    t, h, w = video.shape
    nh, nw = fit_size(h, w, max_size)
    if (nh, nw) != (h, w):
        progress(f"shrinking {w}x{h} to {nw}x{nh} (--max-size {max_size})")
        video.frames = resize_frames(video.frames, nh, nw)
    what = "image" if video.is_image else f"{t} frames"
    progress(f"read {path}: {what} of {nw}x{nh}" + (f" at {video.fps} fps" if video.fps else ""))
    return video


def record_header(command: str) -> dict:
    """What every JSON record starts with: the version, the command line, when, and where it ran."""
    return {
        "patchvid": __version__,
        "command": "patchvid " + " ".join(sys.argv[1:]) if sys.argv[1:2] == [command] else f"patchvid {command}",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "environment": {"python": platform.python_version(), "torch": torch.__version__, "machine": platform.machine()},
    }


def describe_input(args: argparse.Namespace, video: Video) -> dict:
    """The input of a run as a record: its path, the part and size used, its frame rate."""
    return {
        "path": str(Path(args.input).resolve()),
        "start": args.start,
        "end": args.end,
        "max_size": args.max_size,
        "frames_height_width": list(video.shape),
        "fps": str(video.fps) if video.fps else None,
    }


def write_report(path: str | os.PathLike, record: dict) -> None:
    write_text(path, json.dumps(record, indent=2, default=str) + "\n")


def fail(message: str) -> None:
    """Stop the command with a one-line error."""
    raise PatchvidError(message)


def numbered_outputs(output: str, count: int) -> list[Path]:
    """Output paths for ``count`` samples: the path itself for one sample; for more, the path with
    ``_000``, ``_001``, ... before the extension, or the path as a pattern when it holds ``{}``,
    ``{i}`` or ``%d``-style placeholders."""
    if "{" in output:
        paths = [Path(output.format(i, i=i)) for i in range(count)]
    elif re.search(r"%0?\d*d", output):
        paths = [Path(output % i) for i in range(count)]
    elif count == 1:
        return [Path(output)]
    else:
        p = Path(output)
        paths = [p.with_name(f"{p.stem}_{i:03d}{p.suffix}") for i in range(count)]
    if len(set(paths)) != count:
        fail(f"the output pattern {output!r} does not give {count} different names")
    return paths
