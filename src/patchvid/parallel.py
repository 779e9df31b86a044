"""Worker processes that are safe with numba, OpenMP and torch, and share the cores between them.

A pool made here starts its workers with ``spawn`` (a fresh interpreter each), never ``fork``: GNU
OpenMP's threads, which torch and numba use, do not survive ``fork``, and a forked child that uses
them hangs or aborts. Each worker runs on ``cores // jobs`` threads (at least one), so that ``jobs``
workers together do not oversubscribe the machine. Results do not depend on the thread count
(every random choice comes from the seed), so any number of jobs gives the same bytes.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

from .errors import InputError


def cores() -> int:
    """The CPU cores this process may use (its affinity where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def check_jobs(jobs: int) -> int:
    """``jobs`` if it is a whole number of at least 1."""
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise InputError(f"jobs must be a whole number of at least 1, got {jobs!r}")
    return jobs


def worker_threads(jobs: int) -> int:
    """Threads per worker when ``jobs`` workers share this machine's cores.

    Example:
        >>> worker_threads(10**6)
        1
    """
    return max(1, cores() // check_jobs(jobs))


def set_threads(threads: int) -> None:
    """Set torch's and numba's thread counts in this process (a worker's initializer)."""
    import torch

    torch.set_num_threads(threads)
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency
        return
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))


def process_pool(
    jobs: int, initializer: Callable[..., None] | None = None, initargs: tuple = ()
) -> ProcessPoolExecutor:
    """A pool of ``jobs`` spawned worker processes, each on :func:`worker_threads` threads, each
    running ``initializer(*initargs)`` once when it starts (after setting its threads)."""
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_worker,
                               initargs=(worker_threads(jobs), initializer, initargs))


def _start_worker(threads: int, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    set_threads(threads)
    if initializer is not None:
        initializer(*initargs)
