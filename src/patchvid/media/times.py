"""One rule for times, in the Python API and on the command line.

A number (``int`` or ``float``) is seconds. A string is read as the command line reads it: ``"12f"``
is frame 12; ``"2.5"``, ``"2.5s"``, ``"1:02.5"`` (M:SS), ``"0:00:01"`` and ``"00:00:01.000"``
(H:MM:SS.mmm) are seconds. Frames are exact; seconds become frames only against a frame rate, rounded
to the nearest frame (halves up), so a folder of frames, which has no rate, takes frames only.

Nothing here imports more than the standard library.
"""

from __future__ import annotations

import math
import numbers
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ..errors import InputError, MediaError

FORMS = "seconds like 2.5, 2.5s, 1:02.5, 0:00:01.000, or a frame like 12f"

_FRAME = re.compile(r"(\d+)f")
# [[H:]M:]S[.fff][s]: the fields before the seconds are whole numbers
_CLOCK = re.compile(r"(?:(?:(\d+):)?(\d+):)?(\d+(?:\.\d*)?|\.\d+)(s?)")


@dataclass(frozen=True)
class Time:
    """A point in a clip: a time in seconds or a frame index; exactly one of the two is set.

    Attributes:
        seconds: seconds from the clip's first frame (finite, >= 0), or ``None``.
        frame: a frame index (>= 0), or ``None``.

    Example:
        >>> Time(frame=12).to_frame(None)
        12
        >>> Time(seconds=0.5).to_frame(Fraction(25))
        13
        >>> str(Time(seconds=1.5)), str(Time(frame=12))
        ('1.5s', '12f')
    """

    seconds: float | None = None
    frame: int | None = None

    def __post_init__(self) -> None:
        if (self.seconds is None) == (self.frame is None):
            raise InputError(f"a Time holds seconds or a frame, not both or neither: {self!r}")
        if self.frame is not None:
            if isinstance(self.frame, bool) or not isinstance(self.frame, numbers.Integral):
                raise InputError(f"a frame index must be a whole number, got {self.frame!r}")
            if self.frame < 0:
                raise InputError(f"a frame index cannot be negative: {self.frame}")
            object.__setattr__(self, "frame", int(self.frame))  # numpy integers become plain ints
        else:
            object.__setattr__(self, "seconds", _seconds(self.seconds))

    def to_frame(self, fps: Fraction | None, source: str | os.PathLike = "") -> int:
        """The frame index at this time in a clip of ``fps`` frames per second (nearest, halves up).

        Raises:
            MediaError: a time in seconds and ``fps`` is ``None`` (``source``, a folder of frames
                or an image, stores no rate).

        Example:
            >>> Time(seconds=1.0).to_frame(Fraction(30000, 1001))
            30
            >>> Time(frame=7).to_frame(Fraction(25))
            7
        """
        if self.frame is not None:
            return self.frame
        if not fps:
            raise MediaError(f"{source or 'the input'} has no frame rate: give the time in frames (e.g. 12f)")
        # the decimal the caller wrote (0.1, not the float nearest it), exact against an exact rate
        return math.floor(Fraction(repr(self.seconds)) * Fraction(fps) + Fraction(1, 2))

    def __str__(self) -> str:
        """The canonical text, which :func:`parse_time` reads back: ``"12f"`` or ``"1.5s"``."""
        if self.frame is not None:
            return f"{self.frame}f"
        return f"{Decimal(repr(self.seconds)).normalize():f}s"


def _seconds(value: object) -> float:
    """``value`` as finite, non-negative seconds, or an :class:`InputError` naming what is wrong."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"not a time: {value!r} (give a number of seconds, or text: {FORMS})")
    seconds = float(value)
    if not math.isfinite(seconds):
        raise InputError(f"a time must be a finite number of seconds, got {value!r}")
    if seconds < 0:
        raise InputError(f"a time cannot be negative: {value!r}")
    return seconds + 0.0  # -0.0 -> 0.0


def parse_time(value: str | int | float | Time) -> Time:
    """A :class:`Time` from a number of seconds, a command-line string, or a :class:`Time`.

    Raises:
        InputError: text that is not a time; a negative, NaN or infinite number.

    Example:
        >>> parse_time("12f"), parse_time(2)
        (Time(seconds=None, frame=12), Time(seconds=2.0, frame=None))
        >>> [parse_time(t).seconds for t in ("2.5", "2.5s", "1:02.5", "0:00:01", "00:00:01.000")]
        [2.5, 2.5, 62.5, 1.0, 1.0]
    """
    if isinstance(value, Time):
        return value
    if not isinstance(value, str):
        return Time(seconds=_seconds(value))
    text = value.strip().lower()
    if m := _FRAME.fullmatch(text):
        return Time(frame=int(m.group(1)))
    if text.startswith("-") and (_FRAME.fullmatch(text[1:]) or _CLOCK.fullmatch(text[1:])):
        raise InputError(f"a time cannot be negative: {value!r}")
    m = _CLOCK.fullmatch(text)
    if not m:
        raise InputError(f"not a time: {value!r} (use {FORMS})")
    hours, minutes, seconds = int(m.group(1) or 0), int(m.group(2) or 0), float(m.group(3))
    # in a clock time a field past the first counts up to 60 only: 1:75 is a typo, not 2:15
    if (m.group(2) is not None and seconds >= 60) or (m.group(1) is not None and minutes >= 60):
        raise InputError(f"not a time: {value!r} (minutes and seconds after a colon are below 60)")
    return Time(seconds=hours * 3600 + minutes * 60 + seconds)


def frame_range(
    start: str | int | float | Time | None,
    end: str | int | float | Time | None,
    fps: Fraction | None,
    source: str | os.PathLike = "",
) -> tuple[int, int | None]:
    """The first frame and the exclusive last one (``None``: to the end) between ``start`` and ``end``.

    Args:
        start: where to start, anything :func:`parse_time` takes; ``None`` is the first frame.
        end: where to stop (exclusive), the same; ``None`` is the end of the clip.
        fps: the clip's frame rate, ``None`` where it stores none (then only frames can be given).
        source: the clip's name, for messages.

    Raises:
        InputError: a value that is not a time, or a range that ends at or before its start.
        MediaError: a time in seconds for a clip with no frame rate.

    Example:
        >>> frame_range(1.0, "2s", Fraction(25))
        (25, 50)
        >>> frame_range("2f", 1, Fraction(10))
        (2, 10)
        >>> frame_range(None, None, None)
        (0, None)
        >>> frame_range(1.0, "13f", Fraction(25), "clip.mp4")
        Traceback (most recent call last):
        ...
        patchvid.errors.InputError: empty or negative time range in clip.mp4: start 1s (frame 25), end 13f
    """
    first_time = None if start is None else parse_time(start)
    last_time = None if end is None else parse_time(end)
    first = 0 if first_time is None else first_time.to_frame(fps, source)
    last = None if last_time is None else last_time.to_frame(fps, source)
    if last is not None and last <= first:
        where = f" in {source}" if str(source) else ""
        raise InputError(f"empty or negative time range{where}: start {_describe(first_time, first)}, "
                         f"end {_describe(last_time, last)}")
    return first, last


def _describe(time: Time | None, frame: int) -> str:
    """``"13f"``, or ``"1s (frame 25)"`` where seconds were turned into a frame."""
    if time is None or time.frame is not None:
        return f"{frame}f"
    return f"{time} (frame {frame})"
