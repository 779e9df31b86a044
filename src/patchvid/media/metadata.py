"""Container tags and timecodes: what an editor expects to find again on the output.

Tags that describe the footage (creation time, location, camera, title) are carried; tags that
describe the old file (its encoder, brands, handlers) are not, since the output is a new file.
"""

from __future__ import annotations

import re
from fractions import Fraction

# Technical tags of the old file, rewritten by the muxer of the new one.
_NOT_CARRIED = frozenset(
    {"major_brand", "minor_version", "compatible_brands", "encoder", "handler_name", "vendor_id", "duration",
     "timecode"}
)


def footage_tags(tags: dict[str, str]) -> dict[str, str]:
    """The container tags worth keeping on an output made from the same footage."""
    return {k: v for k, v in tags.items() if k.lower() not in _NOT_CARRIED and v}


_TIMECODE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})([:;.,])(\d{2,3})$")


def offset_timecode(timecode: str, frames: int, fps: Fraction) -> str:
    """A SMPTE timecode ``HH:MM:SS:FF`` (``;`` before the frames for drop-frame) moved on by
    ``frames`` frames at ``fps``.

    Example:
        >>> offset_timecode("01:00:00:00", 50, Fraction(25))
        '01:00:02:00'
        >>> offset_timecode("00:00:59;29", 1, Fraction(30000, 1001))
        '00:01:00;02'
    """
    m = _TIMECODE.match(timecode.strip())
    if not m or fps <= 0:
        return timecode
    hh, mm, ss, sep, ff = int(m[1]), int(m[2]), int(m[3]), m[4], int(m[5])
    base = round(fps)  # the nominal rate a timecode counts in (30 for 29.97)
    drop = sep in ";," and base in (30, 60)
    dropped = 2 * (base // 30)  # frame numbers skipped each minute but every tenth
    minutes = 60 * hh + mm
    number = (minutes * 60 + ss) * base + ff
    if drop:
        number -= dropped * (minutes - minutes // 10)
    number += frames
    if number < 0:
        return timecode
    if drop:
        per_ten = 10 * 60 * base - 9 * dropped  # frames in ten minutes
        per_minute = 60 * base - dropped
        tens, rest = divmod(number, per_ten)
        number += 9 * dropped * tens + (dropped * ((rest - dropped) // per_minute) if rest > dropped else 0)
    ff = number % base
    total_seconds = number // base
    hh, mm, ss = total_seconds // 3600 % 24, total_seconds // 60 % 60, total_seconds % 60
    return f"{hh:02d}:{mm:02d}:{ss:02d}{sep}{ff:02d}"
