"""Which back end runs a compiled step: numba kernels on the CPU, vectorised torch elsewhere.

The patch fold and PatchMatch both take ``backend="auto" | "numba" | "torch"`` and ask here; numba is
a dependency, but a missing or broken install must leave the torch path working.
"""

from __future__ import annotations

from functools import lru_cache

import torch

from ..errors import InputError

BACKENDS = ("auto", "numba", "torch")


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
