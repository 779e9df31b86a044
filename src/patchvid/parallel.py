"""Worker processes that are safe with numba, OpenMP and torch, and share the cores between them.

A pool made here starts its workers with ``spawn`` (a fresh interpreter each), never ``fork``: GNU
OpenMP's threads, which torch and numba use, do not survive ``fork``, and a forked child that uses
them hangs or aborts. Each worker runs on ``cores // jobs`` threads (at least one), so that ``jobs``
workers together do not oversubscribe the machine. Results do not depend on the thread count
(every random choice comes from the seed), so any number of jobs gives the same bytes.

:func:`generate_many` (``patchvid.generate_many``) makes many samples of one input on such a pool.
Nothing here imports torch until a worker or a sample needs it.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    import numpy as np

    from .synthesis.settings import GenerateSettings


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


# ------------------------------------------------------------------------------ many samples of one input

# the frames, settings and wrap of the samples a worker makes, and the problem prepared from them
# (once per process, on its first task)
_worker_input: tuple | None = None
_worker_problem = None


def generate_many(
    frames: np.ndarray,
    seeds: Iterable[int] = range(4),
    jobs: int = 1,
    settings: GenerateSettings | None = None,
    *,
    loop: bool = False,
    tile: str = "",
    **overrides: Any,
) -> Iterator[np.ndarray]:
    """Samples of ``frames``, one per seed, in the order of ``seeds``, made by ``jobs`` processes.

    Each sample has the bytes of ``patchvid.generate(frames, seed=s, settings, loop=loop, tile=tile,
    **overrides)`` whatever ``jobs`` is. The problem (the input's pyramid) is prepared once per
    process, and the frames go to each worker once, not with each seed. ``jobs=1`` runs here, on
    this process's threads; more start a :func:`process_pool` of spawned workers of
    :func:`worker_threads` threads each, with at most ``2 * jobs`` seeds in flight: the samples are
    yielded as they are ready, in order, so a huge ``seeds`` (``range(10**6)``) holds only a few in
    memory. Closing the iterator early (``break``) drops the seeds not started and ends the workers.

    Args:
        frames: ``(T, H, W, 3) uint8`` RGB video, or ``(H, W, 3)`` for an image.
        seeds: the samples' seeds, whole numbers from 0 to ``2**63 - 1``; read lazily.
        jobs: worker processes (1: none, in this process).
        settings, loop, tile, overrides: as for :func:`patchvid.generate`.

    Returns:
        An iterator of ``(T', H', W', 3) uint8`` samples (``(H', W', 3)`` for an image), as
        :func:`patchvid.generate` returns.

    Raises:
        InputError: ``jobs`` is not a whole number of at least 1; the frames or settings are bad (at
            the call, before any sample is made); a seed is out of range (when its sample is due).

    Example:
        >>> import patchvid
        >>> clip = patchvid.read_video("clip.mp4", end="13f")  # doctest: +SKIP
        >>> for seed, sample in enumerate(patchvid.generate_many(clip.frames, range(8), jobs=2)):  # doctest: +SKIP
        ...     patchvid.write_video(f"sample_{seed}.mp4", sample, clip.fps)

    With ``jobs > 1`` the workers are spawned: a script that calls this must guard its top level
    with ``if __name__ == "__main__":`` (see :mod:`multiprocessing`).
    """
    from .synthesis.settings import GenerateSettings
    from .tasks.generate import prepare_generate, wrap_axes

    check_jobs(jobs)
    settings = (settings or GenerateSettings()).replace(**overrides)
    if jobs == 1:
        return _samples_here(prepare_generate(frames, settings, loop=loop, tile=tile), iter(seeds))
    from .frames import as_video
    from .synthesis.planning import plan

    wrap_axes(loop, tile)
    plan(as_video(frames)[0].shape[:3], settings)  # bad frames or settings fail here, not in a worker
    return _samples_in_pool(jobs, (frames, settings, loop, tile), iter(seeds))


def _samples_here(problem: Any, seeds: Iterator[int]) -> Iterator[np.ndarray]:
    from .synthesis.problem import solve

    for seed in seeds:
        yield solve(problem, seed)


def _samples_in_pool(jobs: int, job_input: tuple, seeds: Iterator[int]) -> Iterator[np.ndarray]:
    pool = process_pool(jobs, _receive_input, job_input)
    pending: deque[Future] = deque()
    try:
        for seed in itertools.islice(seeds, 2 * jobs):
            pending.append(pool.submit(_sample, seed))
        while pending:
            sample = pending.popleft().result()
            for seed in itertools.islice(seeds, 1):
                pending.append(pool.submit(_sample, seed))
            yield sample
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _receive_input(frames: np.ndarray, settings: GenerateSettings, loop: bool, tile: str) -> None:
    global _worker_input, _worker_problem
    _worker_input, _worker_problem = (frames, settings, loop, tile), None


def _sample(seed: int) -> np.ndarray:
    """One sample, in a worker of :func:`generate_many`."""
    global _worker_problem
    from .synthesis.problem import solve
    from .tasks.generate import prepare_generate

    if _worker_problem is None:
        frames, settings, loop, tile = _worker_input
        _worker_problem = prepare_generate(frames, settings, loop=loop, tile=tile)
    return solve(_worker_problem, seed)
