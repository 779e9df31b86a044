"""Video analogies and collage editing: the layout of one input, rendered with the patches of another.

Both are the engine with the key and value pyramids of APPEARANCE and an output the size of
STRUCTURE; they differ in what tells the search where things go.

* ``mode="motion"`` (video analogies, VGPNN): each video's motion structure (optical-flow speed,
  quantised into a few levels; :func:`patchvid.structure.motion_structure`) is appended to the query
  and the key as a guide channel at every level, so a query patch that moves fast in STRUCTURE is
  matched to a fast-moving patch of APPEARANCE (lava flowing as waterfall water). The coarsest
  guess colours STRUCTURE's levels with APPEARANCE's mean colour at the same level.
* ``mode="labels"`` (sketch-to-video): STRUCTURE is a label video drawn by the user, dark = still,
  bright = fast (:func:`patchvid.structure.label_structure`), matched against APPEARANCE's motion
  structure as above.
* ``mode="colours"`` (collage editing and colour sketches): STRUCTURE is painted in APPEARANCE's own
  colours, e.g. a copy of the image with objects moved or duplicated. Its coarsest level is the
  starting guess and no guide is needed: the engine rebuilds it from APPEARANCE's patches, which
  makes the edit coherent (:func:`collage`).

No noise by default: the structure decides the layout, and seeds change only the searches.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import torch

from .engine import Guides, LevelReport, search_per_level, synthesize
from .errors import PatchvidError
from .generate import GenerateSettings, as_video, engine_settings, keep_layout, plan, to_frames, to_tensor
from .pyramid import build_pyramid
from .resize import resize
from .structure import label_structure, motion_structure

MODES = ("motion", "labels", "colours")
# guide weight: a step of one structure level (of 4) costs (2/3 * 2)^2 = 1.8 per voxel against about
# 0.01-0.1 for RGB differences of similar patches, so the structure decides which region a patch
# comes from and the colours decide which patch within it
WEIGHT = 2.0


def analogy_settings(mode: str = "motion", shape: tuple[int, int, int] | None = None, **overrides) -> GenerateSettings:
    """The generation settings an analogy starts from: no noise and no completeness weighting (the
    reference code turns it on for analogies; on lava -> waterfall at 228x128 alpha 0.5 turned the
    still regions into flat grey smears and took 59 s against 27 s without). For ``"colours"``, the
    pyramid keeps STRUCTURE's layout (:func:`~patchvid.generate.keep_layout`, needs its ``shape``)."""
    settings = GenerateSettings(noise=0.0)
    if mode == "colours" and shape is not None:
        settings = keep_layout(settings, shape)
    return dataclasses.replace(settings, **overrides)


def analogy(
    structure: np.ndarray,
    appearance: np.ndarray,
    *,
    mode: str = "motion",
    levels: int | None = None,
    weight: float = WEIGHT,
    seed: int = 0,
    settings: GenerateSettings | None = None,
    on_level: Callable[[LevelReport], None] | None = None,
    **overrides,
) -> np.ndarray:
    """Render the layout (and motion) of ``structure`` with the patches of ``appearance``.

    Args:
        structure: ``(T, H, W, 3) uint8`` video (or ``(H, W, 3)`` image) whose layout the output
            takes; the output has its size and length.
        appearance: ``(T', H', W', 3) uint8`` video or image whose patches the output is made of.
        mode: ``"motion"``, ``"labels"`` or ``"colours"`` (see the module's description).
        levels: motion levels of the structures (``"motion"``, default 4); for ``"labels"``, the
            number of label colours (default: every colour drawn), which APPEARANCE's motion
            structure then also gets.
        weight: how strongly the structure channel steers the search (``"motion"``, ``"labels"``).
        seed: seeds the searches (and the noise, if ``noise`` is set).
        settings: starting settings (default :func:`analogy_settings` for the mode and STRUCTURE's
            shape); ``overrides`` replace fields.
        on_level: progress callback per pyramid level.

    Returns:
        ``(T, H, W, 3) uint8`` (``(H, W, 3)`` for an image ``structure``).
    """
    if mode not in MODES:
        raise PatchvidError(f"unknown analogy mode {mode!r}; use one of {', '.join(MODES)}")
    if weight < 0:
        raise PatchvidError(f"the structure weight must be >= 0, got {weight}")
    a, image = as_video(structure, "structure")
    b, _ = as_video(appearance, "appearance")
    if mode == "motion" and (a.shape[0] < 2 or b.shape[0] < 2):
        raise PatchvidError("motion analogies need two videos of at least 2 frames; for images use mode 'colours'")
    if mode == "labels" and b.shape[0] < 2:
        raise PatchvidError("a label sketch is matched to the appearance's motion: it must be a video")
    scale = tuple(n / m for n, m in zip(a.shape[:3], b.shape[:3]))
    settings = dataclasses.replace(settings or analogy_settings(mode, a.shape[:3]), scale=scale, **overrides)
    p = plan(b.shape[:3], settings)
    values = build_pyramid(to_tensor(b, p.device), p.levels.input)
    a_video = to_tensor(a, p.device)
    if tuple(a_video.shape[1:]) != p.levels.output[0]:  # an input smaller than a patch was enlarged
        a_video = resize(a_video, p.levels.output[0])

    guides = None
    if mode == "colours":
        initial = resize(a_video, p.levels.output[-1])
    else:
        if mode == "motion":
            levels = levels or 4
            s_a = motion_structure(a, levels)
        else:
            s_a = label_structure(a, levels)
            levels = max(2, len(np.unique(s_a)))
        s_b = _structure_tensor(motion_structure(b, levels), p.device)
        s_a = resize(_structure_tensor(s_a, p.device), p.levels.output[0])
        query_guide = build_pyramid(s_a, p.levels.output)
        key_guide = build_pyramid(s_b, p.levels.input)
        guides = Guides(query_guide, key_guide, [weight] * len(p.levels.output))
        initial = colourise(query_guide[-1], key_guide[-1], values[-1])
    if settings.noise > 0:
        generator = torch.Generator(device="cpu").manual_seed(seed)
        initial = initial + (torch.randn(initial.shape, generator=generator) * settings.noise).to(p.device)
    search = search_per_level(settings.search, p.levels.output, p.levels.input, p.patch)
    out = synthesize(
        initial,
        values,
        p.levels.output,
        engine_settings(settings, p.patch),
        search,
        seed=seed,
        on_level=on_level,
        guides=guides,
    )
    # a STRUCTURE shorter than APPEARANCE's patch was synthesized at the patch's length: keep its own
    frames = to_frames(out)[: a.shape[0]]
    return frames[0] if image else frames


def collage(
    original: np.ndarray,
    edited: np.ndarray,
    *,
    seed: int = 0,
    settings: GenerateSettings | None = None,
    on_level: Callable[[LevelReport], None] | None = None,
    **overrides,
) -> np.ndarray:
    """Make a rough edit coherent: ``edited`` (a copy of ``original`` with objects moved, duplicated
    or removed by hand, any size) rebuilt from ``original``'s patches. Same as
    ``analogy(edited, original, mode="colours")``.

    Returns:
        frames of ``edited``'s shape, ``uint8``.
    """
    return analogy(edited, original, mode="colours", seed=seed, settings=settings, on_level=on_level, **overrides)


def colourise(
    query_guide: torch.Tensor, key_guide: torch.Tensor, value: torch.Tensor, width: float = 0.25
) -> torch.Tensor:
    """A first guess for a structure: each voxel of ``query_guide`` ``(1, T, H, W)`` gets the mean
    colour of the ``value`` ``(C, T', H', W')`` voxels whose ``key_guide`` ``(1, T', H', W')`` is
    close to its own (Gaussian weights of ``width``, in the guide's [-1, 1] units). Meant for the
    coarsest level, where both sides have a few thousand voxels."""
    q = query_guide.reshape(-1, 1)
    k = key_guide.reshape(1, -1)
    w = torch.exp(-((q - k) ** 2) / (2 * width**2))  # (Nq, Nk)
    colours = value.reshape(value.shape[0], -1)  # (C, Nk)
    mean = (w @ colours.T) / w.sum(1, keepdim=True).clamp(min=1e-12)  # (Nq, C)
    return mean.T.reshape(value.shape[0], *query_guide.shape[1:]).contiguous()


def _structure_tensor(structure: np.ndarray, device: torch.device) -> torch.Tensor:
    """``(T, H, W)`` in [0, 1] to ``(1, T, H, W) float32`` in [-1, 1] (the RGB channels' range)."""
    return torch.from_numpy(np.ascontiguousarray(structure, dtype=np.float32)).to(device)[None] * 2 - 1
