"""Antialiased cubic resizing of videos along time, height and width.

Each axis is resized by one matrix product with a ``(n_out, n_in)`` matrix of Keys cubic weights
(a = -0.5, as in PIL and PyTorch). When shrinking, the kernel is stretched by the inverse scale so
that it also low-pass filters (antialiasing); borders repeat the edge sample. Resizing to the same
size returns the input unchanged.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from functools import lru_cache

import numpy as np
import torch

from ..errors import InputError
from ..frames import fit_size  # noqa: F401  (re-exported: sizes are chosen beside the resize)

Shape3 = tuple[int, int, int]


def cubic(x: torch.Tensor, a: float = -0.5) -> torch.Tensor:
    """Keys' cubic convolution kernel, zero outside ``|x| < 2``."""
    x = x.abs()
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return torch.where(x <= 1, near, torch.where(x < 2, far, torch.zeros_like(x)))


@lru_cache(maxsize=256)
def resize_matrix(n_in: int, n_out: int, antialias: bool = True, periodic: bool = False) -> torch.Tensor:
    """``(n_out, n_in) float64`` matrix that resamples a signal of ``n_in`` samples to ``n_out``.

    Samples are pixel centres: output sample ``i`` sits at input coordinate
    ``(i + 0.5) * n_in / n_out - 0.5``. Rows sum to 1. ``periodic``: the signal is one period of a
    repeating one (a loop's time), so taps past an end wrap around instead of repeating the edge.
    """
    if n_in < 1 or n_out < 1:
        raise InputError(f"cannot resize {n_in} samples to {n_out}")
    if n_in == n_out:
        return torch.eye(n_in, dtype=torch.float64)
    scale = n_out / n_in
    stretch = 1 / scale if (antialias and scale < 1) else 1.0
    centres = (torch.arange(n_out, dtype=torch.float64) + 0.5) / scale - 0.5
    reach = math.ceil(2 * stretch)
    taps = torch.floor(centres)[:, None] + torch.arange(-reach, reach + 2, dtype=torch.float64)[None]
    weights = cubic((taps - centres[:, None]) / stretch)
    weights = weights / weights.sum(1, keepdim=True)
    matrix = torch.zeros(n_out, n_in, dtype=torch.float64)
    index = taps.long() % n_in if periodic else taps.clamp(0, n_in - 1).long()
    matrix.scatter_add_(1, index, weights)
    return matrix


def resize(
    video: torch.Tensor, size: Shape3, antialias: bool = True, wrap: tuple[bool, bool, bool] = (False, False, False)
) -> torch.Tensor:
    """Resize a video in time and space.

    Args:
        video: ``(C, T, H, W)`` float tensor (any device).
        size: target ``(T, H, W)``.
        antialias: low-pass filter when shrinking (the pyramid needs it; upsampling ignores it).
        wrap: per axis ``(T, H, W)``, whether the video is periodic along it (a loop, a tile).

    Returns:
        ``(C, *size)``, same dtype and device. Values may overshoot the input's range slightly, as
        cubic interpolation does.
    """
    out = video
    for axis, n_out, periodic in zip((1, 2, 3), size, wrap):
        n_in = out.shape[axis]
        if n_in == n_out:
            continue
        m = resize_matrix(n_in, int(n_out), antialias, bool(periodic)).to(device=out.device, dtype=out.dtype)
        with single_threaded(out.device):
            out = torch.movedim(torch.tensordot(m, out, dims=([1], [axis])), 0, axis)
    return out.contiguous()


@contextlib.contextmanager
def single_threaded(device: torch.device) -> Iterator[None]:
    """Run torch's CPU ops on one thread meanwhile: MKL's matrix products round differently with
    different thread counts (ballet's 13x144x256 pyramid differed in 5 of its 15 levels between 1
    and 2 threads), and the same command must give the same bytes whatever the threads. A resize's
    product is a small part of a level's work."""
    if device.type != "cpu" or torch.get_num_threads() == 1:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def resize_frames(frames: np.ndarray, height: int, width: int, chunk: int = 16) -> np.ndarray:
    """Resize ``(T, H, W, 3) uint8`` frames in space, a few frames at a time to bound memory."""
    t = frames.shape[0]
    out = np.empty((t, height, width, 3), dtype=np.uint8)
    for t0 in range(0, t, chunk):
        block = torch.from_numpy(frames[t0 : t0 + chunk]).permute(3, 0, 1, 2).float()
        small = resize(block, (block.shape[1], height, width))
        out[t0 : t0 + chunk] = small.round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 3, 0).numpy()
    return out
