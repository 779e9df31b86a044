"""Which back end runs a compiled step: numba kernels on the CPU, vectorised torch elsewhere; and
whether the numba kernels run in parallel or serially.

The patch fold and PatchMatch both take ``backend="auto" | "numba" | "torch"`` and ask here; numba is
a dependency, but a missing or broken install must leave the torch path working.

Forked processes. GNU OpenMP's thread pool, which torch and numba's default ``omp`` threading layer
use, does not survive ``fork``: in a child forked after the parent ran a synthesis (a PyTorch
``DataLoader`` worker, a ``multiprocessing`` pool on Linux), torch's first multi-threaded op hangs
and numba's first parallel kernel aborts the process ("fork() called from a process already using
GNU OpenMP"), even at one numba thread. So this module, which every synthesis imports with torch,
registers once (:func:`os.register_at_fork`) a handler that runs in each forked child: it marks the
process as forked and sets torch to one thread (as a ``DataLoader`` does in its own workers), and
:class:`Kernel` then calls each kernel's serial twin, compiled from the same Python function with
``prange`` as ``range``, which never touches numba's thread pool (the parent keeps the parallel
kernels). Another handler starts numba's threading layer in the parent before a fork, if it has not
started yet: started in the child, it would put OpenMP, and torch, back on all the cores. A forked
child thus runs patchvid single-threaded, with the same bytes as its parent. (numba's ``workqueue``
layer would survive ``fork`` but aborts when two Python threads launch kernels at once, so it is
not switched to.) Spawned workers (:mod:`patchvid.parallel`) start fresh and keep their threads.
"""

from __future__ import annotations

import os
import types
import warnings
from collections.abc import Callable
from functools import lru_cache, update_wrapper
from typing import Any

import torch

from ..errors import InputError

BACKENDS = ("auto", "numba", "torch")

# set in a child forked from this process (and in its own children): see the module's docstring
_forked = False


def _before_fork() -> None:
    # numba's threading layer, if it first started in the child, would set OpenMP's thread count
    # there back to all the cores (torch's too, on OpenMP's dead pool: a hang); started here, the
    # child inherits it started. It resets this process's count as well: torch's is put back
    if not numba_available():
        return
    import numba

    threads = torch.get_num_threads()
    numba.get_num_threads()  # starts numba's threads, once
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def _after_fork_in_child() -> None:
    global _forked
    _forked = True
    torch.set_num_threads(1)


os.register_at_fork(before=_before_fork, after_in_child=_after_fork_in_child)


def forked() -> bool:
    """Whether this process was forked from one that had imported patchvid's synthesis: then the
    numba kernels run serially (see the module's docstring); elsewhere in parallel, on numba's
    threads (on one thread as fast as serially)."""
    return _forked


# every parallel transformation off: ``prange`` is ``range`` and no parfor is made, so the twin never
# touches numba's thread pool. Compiled through parallel's passes all the same, it is as fast as the
# parallel kernel on one thread, with the same bytes; plain ``njit(parallel=False)`` took 1.5x as long
# in scan_pass (13x64x112 levels, this machine)
_SERIAL_OPTIONS = ("comprehension", "reduction", "inplace_binop", "setitem", "numpy", "stencil", "fusion", "prange")


class Kernel:
    """A parallel numba kernel (``prange`` over its outer loop) and its serial twin, both compiled
    on first use from the one Python function ``func``; calling it runs the twin that
    :func:`forked` asks for. Both give the same bytes.

    The twin is a copy of ``func`` named ``<name>_serial``: numba's disk cache names its files by the
    function's name and keys them by signature, not by compile options, so two dispatchers of one
    function would load each other's machine code.
    """

    def __init__(self, func: Callable[..., Any], **options: Any) -> None:
        from numba import njit

        twin = types.FunctionType(func.__code__, func.__globals__, f"{func.__name__}_serial",
                                  func.__defaults__, func.__closure__)
        twin.__qualname__ = f"{func.__qualname__}_serial"
        twin.__module__ = func.__module__
        twin.__doc__ = func.__doc__
        self.parallel = njit(parallel=True, **options)(func)
        # a fresh dict: numba pops the options it reads
        self.serial = njit(parallel=dict.fromkeys(_SERIAL_OPTIONS, False), **options)(twin)
        update_wrapper(self, func)

    def __call__(self, *args: Any) -> Any:
        if not _forked:
            return self.parallel(*args)
        from numba.core.errors import NumbaPerformanceWarning

        with warnings.catch_warnings():  # the twin has no parfor by design: numba's warning is no news
            warnings.filterwarnings("ignore", "\nThe keyword argument 'parallel=True'", NumbaPerformanceWarning)
            return self.serial(*args)


def kernel(**options: Any) -> Callable[[Callable[..., Any]], Kernel]:
    """Decorator: ``@kernel(cache=True)`` makes a :class:`Kernel` of a function whose outer loop is a
    ``prange`` (the other ``options`` go to ``numba.njit`` for both twins)."""
    return lambda func: Kernel(func, **options)


@lru_cache(maxsize=1)
def numba_available() -> bool:
    """Whether numba imports (checked once per process)."""
    try:
        import numba  # noqa: F401
    except ImportError:  # pragma: no cover - exercised only without numba
        return False
    return True


def choose_backend(name: str, device: torch.device) -> str:
    """``"numba"`` or ``"torch"`` for a step on tensors of ``device``: ``"auto"`` takes numba for CPU
    tensors when it is installed.

    Raises:
        InputError: an unknown name, or ``"numba"`` without numba or for a GPU tensor.
    """
    if name not in BACKENDS:
        raise InputError(f"unknown back end {name!r}; use one of {', '.join(BACKENDS)}")
    if name == "auto":
        return "numba" if device.type == "cpu" and numba_available() else "torch"
    if name == "numba" and (device.type != "cpu" or not numba_available()):
        raise InputError("backend='numba' needs numba installed and CPU tensors")
    return name
