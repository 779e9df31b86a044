"""Video analogies and collage editing: the layout of one input, rendered with the patches of another.

Both are the engine with the key and value pyramids of APPEARANCE and an output the size of
STRUCTURE; they differ in what tells the search where things go.

* ``mode="motion"`` (video analogies, VGPNN): each video's motion structure (optical-flow speed,
  quantised into a few bins; :func:`patchvid.structure.motion_structure`) is appended to the query
  and the key as a guide channel at every level, so a query patch that moves fast in STRUCTURE is
  matched to a fast-moving patch of APPEARANCE (lava flowing as waterfall water). The coarsest
  guess colours STRUCTURE's bins with APPEARANCE's mean colour in the same bin.
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

from collections.abc import Callable

import numpy as np
import torch

from ..errors import InputError
from ..frames import as_video, to_tensor
from ..synthesis.engine import Guides, LevelReport
from ..synthesis.planning import plan
from ..synthesis.problem import Problem, input_pyramid, solve
from ..synthesis.pyramid import build_pyramid
from ..synthesis.resize import resize
from ..synthesis.settings import GenerateSettings
from .settings import GUIDE_WEIGHT, MODES, MOTION_BINS, analogy_settings
from .structure import label_structure, motion_structure


def prepare_analogy(
    structure: np.ndarray,
    appearance: np.ndarray,
    *,
    mode: str = "motion",
    bins: int | None = None,
    weight: float = GUIDE_WEIGHT,
    settings: GenerateSettings | None = None,
) -> Problem:
    """The analogy problem: APPEARANCE's pyramids as key and value, an output of STRUCTURE's size,
    and what steers the search by ``mode`` (see :func:`analogy`)."""
    if mode not in MODES:
        raise InputError(f"unknown analogy mode {mode!r}; use one of {', '.join(MODES)}")
    if not 0 <= weight <= 1000:  # nan and infinities too (the command line's range: cli/options.py WEIGHT)
        raise InputError(f"the structure weight must be a number from 0 to 1000, got {weight}")
    a, image = as_video(structure, "structure")
    b, _ = as_video(appearance, "appearance")
    if mode == "motion" and (a.shape[0] < 2 or b.shape[0] < 2):
        raise InputError("motion analogies need two videos of at least 2 frames; for images use mode 'colours'")
    if mode == "labels" and b.shape[0] < 2:
        raise InputError("a label sketch is matched to the appearance's motion: it must be a video")
    scale = tuple(n / m for n, m in zip(a.shape[:3], b.shape[:3]))
    settings = (settings or analogy_settings(mode, a.shape[:3])).replace(scale=scale)
    p = plan(b.shape[:3], settings, guides=0 if mode == "colours" else 1)  # motion and labels add a guide
    values = input_pyramid(to_tensor(b, p.device), p)
    a_video = to_tensor(a, p.device)
    if tuple(a_video.shape[1:]) != p.output_shape:  # an input smaller than a patch was enlarged
        a_video = resize(a_video, p.output_shape)

    guides = None
    if mode == "colours":
        initial = resize(a_video, p.levels.output[-1])
    else:
        if mode == "motion":
            bins = bins or MOTION_BINS
            s_a = motion_structure(a, bins)
        else:
            s_a = label_structure(a, bins)
            bins = max(2, len(np.unique(s_a)))
        s_b = _structure_tensor(motion_structure(b, bins), p.device)
        s_a = resize(_structure_tensor(s_a, p.device), p.output_shape)
        query_guide = build_pyramid(s_a, p.levels.output)
        key_guide = build_pyramid(s_b, p.levels.input)
        guides = Guides(query_guide, key_guide, [weight] * len(p.levels.output))
        initial = colourise(query_guide[-1], key_guide[-1], values[-1])
    # a STRUCTURE shorter than APPEARANCE's patch is synthesized at the patch's length: keep its own
    return Problem(p, values, initial, noise=settings.noise, guides=guides, frames=a.shape[0], image=image)


def analogy(
    structure: np.ndarray,
    appearance: np.ndarray,
    *,
    mode: str = "motion",
    bins: int | None = None,
    weight: float = GUIDE_WEIGHT,
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
        bins: motion bins of the structures (``"motion"``, default 4); for ``"labels"``, the
            number of label colours (default: every colour drawn), which APPEARANCE's motion
            structure then also gets.
        weight: how strongly the structure channel steers the search (``"motion"``, ``"labels"``).
        seed: seeds the searches (and the noise, if ``noise`` is set).
        settings: starting settings (default :func:`~patchvid.tasks.settings.analogy_settings` for
            the mode and STRUCTURE's shape); ``overrides`` replace fields by name.
        on_level: progress callback per pyramid level.

    Returns:
        ``(T, H, W, 3) uint8`` (``(H, W, 3)`` for an image ``structure``).
    """
    a, _ = as_video(structure, "structure")
    settings = (settings or analogy_settings(mode, a.shape[:3])).replace(**overrides)
    problem = prepare_analogy(structure, appearance, mode=mode, bins=bins, weight=weight, settings=settings)
    return solve(problem, seed, on_level)


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
