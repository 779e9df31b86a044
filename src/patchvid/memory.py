"""How much memory a request may use: the one place that asks the OS and refuses what would not fit.

Every layer that allocates in proportion to what a user asked for (the media reader, the planner,
the command runner) checks here before allocating, so a request too large is one line, not an
allocator's traceback. Tests that need a small machine patch :func:`available_memory` here.
"""

from __future__ import annotations

import os

from .errors import ResourceError

DEFAULT_SHARE = 0.9
# of the available memory, what one request may plan to use (a batch's worker process: its part of it)
SHARE = DEFAULT_SHARE


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (``/proc/meminfo``'s MemAvailable, else the free
    pages the OS reports); ``None`` when unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(needed: int, what: str, hint: str) -> None:
    """Refuse, with a :class:`~patchvid.errors.ResourceError`, a request of ``needed`` bytes above
    :data:`SHARE` of the available memory: ``"{what} needs about N GiB but only M GiB is available; {hint}"``."""
    available = available_memory()
    if available is not None and needed > SHARE * available:
        shared = ""
        if SHARE < DEFAULT_SHARE:  # a batch's worker: its jobs share the memory with the others'
            shared = f" (this worker's share: {SHARE * available / 2**30:.1f} GiB; fewer --jobs give each more)"
        raise ResourceError(
            f"{what} needs about {needed / 2**30:.1f} GiB but only {available / 2**30:.1f} GiB is available{shared}; "
            f"{hint}"
        )
