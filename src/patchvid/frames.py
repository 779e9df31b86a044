"""Frames in memory: the one home of frame checks and of the conversions between the two layouts.

* frames, as media and users hold them: ``(T, H, W, 3) uint8`` RGB (an image is ``(H, W, 3)``);
* videos, as the synthesis works on them: ``(3, T, H, W) float32`` in [-1, 1], on any device.

Example:
    >>> import numpy as np
    >>> video, image = as_video(np.zeros((4, 6, 3), np.uint8))
    >>> video.shape, image
    ((1, 4, 6, 3), True)
    >>> tuple(to_tensor(video).shape)
    (3, 1, 4, 6)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError

if TYPE_CHECKING:
    import torch


def as_video(
    frames: np.ndarray,
    name: str = "frames",
    *,
    channels: Sequence[int] = (3,),
    any_dtype: bool = False,
    min_frames: int = 1,
    image: bool = True,
) -> tuple[np.ndarray, bool]:
    """``frames`` as ``(T, H, W, C)`` and whether it was an image (``(H, W, C)``, read as one frame).

    Args:
        frames: the array to check.
        name: what to call it in the error.
        channels: the channel counts accepted (RGB by default).
        any_dtype: accept any numeric dtype, not only ``uint8``.
        min_frames: refuse fewer frames than this.
        image: accept an ``(H, W, C)`` image (as one frame).

    Raises:
        InputError: not a numpy array of that layout, an empty axis, or too few frames.
    """
    if not isinstance(frames, np.ndarray):
        raise InputError(f"{name} must be a numpy array, not {type(frames).__name__}")
    is_image = frames.ndim == 3 and image
    video = frames[None] if is_image else frames
    dtype_ok = np.issubdtype(video.dtype, np.number) if any_dtype else video.dtype == np.uint8
    if video.ndim != 4 or video.shape[-1] not in channels or not dtype_ok or 0 in video.shape:
        c = "C" if len(channels) > 1 else channels[0]
        layout = f"(T, H, W, {c}) or (H, W, {c})" if image else f"(T, H, W, {c})"
        kind = "numbers" if any_dtype else "uint8"
        raise InputError(f"{name} must be {layout} {kind} with no empty axis, got {frames.shape} {frames.dtype}")
    if video.shape[0] < min_frames:
        got = "an image" if is_image else f"{video.shape[0]} frames"
        raise InputError(f"{name} must have at least {min_frames} frames, got {got}")
    return video, is_image


def fit_size(height: int, width: int, max_size: int | None) -> tuple[int, int]:
    """The largest ``(height, width)`` with the same aspect whose longer side is at most ``max_size``."""
    if max_size is None or max(height, width) <= max_size:
        return height, width
    scale = max_size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))



def check_volume(volume: np.ndarray, name: str) -> np.ndarray:
    """A ``(T, H, W)`` or ``(T, H, W, C)`` array of any numbers (a Poisson solver's volume).

    Raises:
        InputError: any other number of axes.
    """
    volume = np.asarray(volume)
    if volume.ndim not in (3, 4):
        raise InputError(f"{name} must be (T, H, W) or (T, H, W, C), got shape {volume.shape}")
    return volume


def to_tensor(frames: np.ndarray, device: torch.device | str | None = None) -> torch.Tensor:
    """``(T, H, W, 3) uint8`` frames to a ``(3, T, H, W) float32`` video in [-1, 1] on ``device``."""
    import torch  # here, not at the top: the frame checks serve torch-free modules (Poisson) too

    return torch.from_numpy(np.ascontiguousarray(frames)).to(device or "cpu").permute(3, 0, 1, 2).float() / 127.5 - 1


def to_frames(video: torch.Tensor) -> np.ndarray:
    """A ``(3, T, H, W)`` video in [-1, 1] to ``(T, H, W, 3) uint8`` frames (rounded, clipped)."""
    import torch

    return ((video + 1) * 127.5).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 3, 0).cpu().numpy()
