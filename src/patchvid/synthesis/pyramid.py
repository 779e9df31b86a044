"""The space-time pyramid: which sizes each level has, and the levels themselves.

Level 0 is the full-size video; each further level is smaller by ``factor`` in time and in space,
every one resized directly from the full-size video (antialiased cubic, so no blur accumulates).
A dimension stops shrinking when it reaches its minimum (the patch size, the coarsest spatial size
on the short side, the coarsest number of frames) while the others go on; the pyramid ends when all
have. The output (whose size may differ from the input's) has a level for each input level, at the
same relative scale and never smaller than a patch, so the search always has patches to match.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..errors import InputError
from .resize import resize

Shape3 = tuple[int, int, int]
Patch = tuple[int, int, int]


@dataclass(frozen=True)
class PyramidShapes:
    """Sizes ``(T, H, W)`` of each level, finest first, for the input and for the output."""

    input: list[Shape3]
    output: list[Shape3]

    def __len__(self) -> int:
        return len(self.input)


def fit_patch(patch: Patch, *shapes: Shape3) -> Patch:
    """Shrink a patch so that it fits in every given ``(T, H, W)`` (a 2-frame clip gets 2-frame
    patches, an image 1-frame patches)."""
    return tuple(min([p] + [s[i] for s in shapes]) for i, p in enumerate(patch))  # type: ignore[return-value]


def level_shapes(
    shape: Shape3,
    out_shape: Shape3,
    patch: Patch,
    factor: tuple[float, float] = (0.85, 0.85),
    coarsest_size: int = 15,
    coarsest_frames: int = 3,
) -> PyramidShapes:
    """Choose the pyramid levels.

    Args:
        shape: input ``(T, H, W)``.
        out_shape: output ``(T, H, W)`` at full size.
        patch: ``(pt, ph, pw)``; must already fit both shapes (see :func:`fit_patch`).
        factor: scale from one level to the next, ``(time, space)``, each in (0, 1).
        coarsest_size: pixels on the short side of the input's coarsest level.
        coarsest_frames: frames of the input's coarsest level (never fewer than ``pt``).

    Returns:
        The input's and output's level sizes, finest first; no two consecutive levels are equal.
    """
    ft, fs = factor
    if not (0 < ft < 1 and 0 < fs < 1):
        raise InputError(f"pyramid factors must be in (0, 1), got {factor}")
    t, h, w = shape
    pt, ph, pw = patch
    if fit_patch(patch, shape, out_shape) != tuple(patch):
        raise InputError(f"patch {patch} does not fit input {shape} and output {out_shape}")
    s_min = min(1.0, max(coarsest_size, ph, pw) / min(h, w))
    t_min = min(t, max(pt, coarsest_frames))
    n_space = math.ceil(math.log(s_min) / math.log(fs) - 1e-9) if s_min < 1 else 0
    n_time = math.ceil(math.log(t_min / t) / math.log(ft) - 1e-9) if t_min < t else 0
    inputs: list[Shape3] = []
    outputs: list[Shape3] = []
    for i in range(max(n_space, n_time) + 1):
        s = max(fs**i, s_min)
        ti = max(t_min, round(t * ft**i))
        level_in = (ti, max(ph, round(h * s)), max(pw, round(w * s)))
        level_out = (
            max(pt, round(out_shape[0] * ti / t)),
            max(ph, round(out_shape[1] * s)),
            max(pw, round(out_shape[2] * s)),
        )
        if inputs and inputs[-1] == level_in and outputs[-1] == level_out:
            continue
        inputs.append(level_in)
        outputs.append(level_out)
    return PyramidShapes(inputs, outputs)


def build_pyramid(video: torch.Tensor, shapes: list[Shape3]) -> list[torch.Tensor]:
    """Resize ``(C, T, H, W)`` to each shape, finest first, each level directly from ``video``."""
    return [resize(video, s) for s in shapes]
