"""Conditional inpainting: fill a masked region of a video (or image) with patches from outside it.

The recipe: the input's pyramid is the key and the value, and the output has the input's size.
At every level the voxels outside the (resized, slightly grown) mask are put back after each vote,
so only the masked region is synthesized, and no key/value patch that touches the mask may be used
(:class:`~patchvid.synthesis.engine.Holes`): the hole is filled only with what is outside it, coherently in
space and time because patches are space-time blocks.

What starts inside the hole steers what appears there:

* ``fill="cue"`` (conditional inpainting): the input's own colours inside the mask are the first
  guess, so a red blob painted into the hole becomes the clip's red object, a blue one sky or water.
* ``fill="smooth"`` (removal): the hole is first filled by a smooth interpolation of its border
  (push-pull), so what was there has no say and the surroundings continue into it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import InputError
from ..frames import as_video, to_tensor
from ..synthesis.engine import Holes, LevelReport
from ..synthesis.planning import Plan, check_fits, estimate_bytes, plan
from ..synthesis.problem import Problem, input_pyramid, solve
from ..synthesis.pyramid import PyramidShapes, build_pyramid
from ..synthesis.settings import GenerateSettings
from .settings import FILLS, inpaint_settings

# a coarse voxel belongs to the hole when the resized mask reaches this: any influence of the hole
# (its content would leak into kept voxels and key patches otherwise)
HOLE_THRESHOLD = 0.01


def check_mask(mask: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """``mask`` as ``(T, H, W) bool`` for a video of ``shape`` ``(T, H, W)``: a single ``(H, W)``
    mask is used for every frame. Raises :class:`InputError` naming the sizes when it does not
    fit, and when it is empty or covers everything."""
    mask = np.asarray(mask).astype(bool)
    t, h, w = shape
    if mask.ndim == 3 and mask.shape[0] == 1:
        mask = mask[0]
    if mask.ndim == 2:
        if mask.shape != (h, w):
            raise InputError(f"the mask is {mask.shape[1]}x{mask.shape[0]} but the input is {w}x{h}")
        mask = np.broadcast_to(mask, shape).copy()  # a view of one frame would be read-only
    elif mask.ndim != 3:
        raise InputError(f"the mask must be (H, W) or (T, H, W), got shape {mask.shape}")
    elif mask.shape[1:] != (h, w):
        raise InputError(f"the mask is {mask.shape[2]}x{mask.shape[1]} but the input is {w}x{h}")
    elif mask.shape[0] != t:
        raise InputError(f"the mask has {mask.shape[0]} frames but the input has {t}")
    if not mask.any():
        raise InputError("the mask is empty: nothing to fill (white marks the region to fill)")
    if mask.all():
        raise InputError("the mask covers everything: nothing is left to fill it from")
    return np.ascontiguousarray(mask)


def prepare_inpaint(
    frames: np.ndarray, mask: np.ndarray, *, fill: str = "cue", settings: GenerateSettings | None = None
) -> Problem:
    """The inpainting problem: the input's pyramid as key and value, holes that keep everything
    outside the (grown) mask and forbid key patches touching it, noise only inside it, and the
    input pasted back outside the mask at the end (see :func:`inpaint`). Coarse levels where the
    grown hole leaves no key patch are left out (the synthesis starts finer); an input with no key
    patch at full size, or a request that would not fit in memory, is refused before any tensor."""
    if fill not in FILLS:
        raise InputError(f"unknown fill {fill!r}; use one of {', '.join(FILLS)}")
    video, image = as_video(frames)
    hole_np = check_mask(mask, video.shape[:3])
    settings = (settings or inpaint_settings(fill, video.shape[:3])).replace(scale=(1.0, 1.0, 1.0))
    p = plan(video.shape[:3], settings, holes=True)
    check_fits(p)  # before the pyramids, holes and smooth fill below are allocated
    hole = torch.from_numpy(hole_np).to(p.device)
    grown = [hole] + [m[0] > HOLE_THRESHOLD for m in build_pyramid(hole[None].float(), p.levels.input)[1:]]
    p = _levels_with_keys(p, grown)
    grown = grown[: len(p.levels)]
    x = to_tensor(video, p.device)
    if fill == "smooth":
        x = smooth_fill(x, hole)
    values = input_pyramid(x, p)
    holes = Holes([g[None].float() for g in grown], values, grown)

    def paste_known(result: np.ndarray) -> np.ndarray:
        result[~hole_np] = video[~hole_np]  # exact, not only to rounding
        return result

    return Problem(p, values, values[-1], noise=settings.noise, noise_where=holes.fill[-1], holes=holes,
                   finish=paste_known, image=image)


def _levels_with_keys(p: Plan, grown: list[torch.Tensor]) -> Plan:
    """``p`` cut to the levels, finest first, where the (grown) hole leaves a key patch to fill it from
    (:meth:`~patchvid.synthesis.engine.Holes.allowed_keys`' rule): a large or fragmented hole covers all
    of a coarse level, and the synthesis then starts at the coarsest level that still has one. Raises
    :class:`InputError` when not even the full-size input has one (a mask leaving too little, a tiny
    input)."""
    holes = Holes(grown, grown, grown)  # only key_hole is read
    keep = 0
    for level, shape in enumerate(p.levels.output):
        patch = p.engine.level_patch(shape)
        try:
            holes.allowed_keys(level, patch)
        except InputError:
            break
        keep = level + 1
    if keep == 0:
        t, h, w = p.input_shape
        pt, ph, pw = p.engine.level_patch(p.levels.output[0])
        raise InputError(
            f"too small to fill from: every {pt}x{ph}x{pw} patch (frames x height x width) of the {w}x{h} input "
            f"({t} frame{'s' * (t != 1)}) touches the mask, so none is left to fill it with; use a smaller mask "
            "or a smaller patch"
        )
    if keep == len(p.levels):
        return p
    levels = PyramidShapes(p.levels.input[:keep], p.levels.output[:keep])
    return dataclasses.replace(p, levels=levels, estimated_bytes=estimate_bytes(levels, p.engine, p.search, holes=True))


def inpaint(
    frames: np.ndarray,
    mask: np.ndarray,
    *,
    fill: str = "cue",
    seed: int = 0,
    settings: GenerateSettings | None = None,
    on_level: Callable[[LevelReport], None] | None = None,
    **overrides,
) -> np.ndarray:
    """Fill the masked region of ``frames`` with patches from outside it.

    Args:
        frames: ``(T, H, W, 3) uint8`` video or ``(H, W, 3)`` image.
        mask: ``(T, H, W)`` or ``(H, W)`` (every frame), nonzero/True = fill.
        fill: ``"cue"`` (the colours inside the mask steer the result) or ``"smooth"`` (remove).
        seed: seeds the searches and the noise (``noise`` setting, 0 by default; with noise, seeds
            give different fillings).
        settings: starting settings (default :func:`~patchvid.tasks.settings.inpaint_settings`);
            ``overrides`` replace fields by name.
        on_level: progress callback per pyramid level.

    Returns:
        frames of the input's shape; outside the mask exactly the input.
    """
    video, _ = as_video(frames)
    settings = (settings or inpaint_settings(fill, video.shape[:3])).replace(**overrides)
    return solve(prepare_inpaint(frames, mask, fill=fill, settings=settings), seed, on_level)


def smooth_fill(video: torch.Tensor, hole: torch.Tensor) -> torch.Tensor:
    """``video`` ``(C, T, H, W)`` with the voxels where ``hole`` ``(T, H, W) bool`` is True replaced
    by a smooth interpolation of the known ones (push-pull: known values are averaged onto coarser
    and coarser grids until no gap is left, and the gaps are filled from there on the way back)."""
    known = (~hole)[None].float()
    return torch.where(hole[None], _push_pull(video * known, known), video)


def _push_pull(weighted: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Colour where ``weight > 0`` is ``weighted / weight``; elsewhere it comes from coarser grids."""
    value = weighted / weight.clamp(min=1e-12)
    if bool((weight > 0).all()):
        return value
    shape = weight.shape[1:]
    if max(shape) <= 1:
        raise InputError("nothing known to fill from")
    kernel = tuple(2 if n > 1 else 1 for n in shape)
    coarse_weighted = F.avg_pool3d(weighted[None], kernel, ceil_mode=True)[0]
    coarse_weight = F.avg_pool3d(weight[None], kernel, ceil_mode=True)[0]
    coarse = _push_pull(coarse_weighted, coarse_weight)
    up = F.interpolate(coarse[None], size=shape, mode="trilinear", align_corners=False)[0]
    return torch.where(weight > 0, value, up)
