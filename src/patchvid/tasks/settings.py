"""Each task's starting settings and choices, in one torch-free module (the command line reads them
at start-up for its defaults and help).

Every task takes a :class:`~patchvid.synthesis.settings.GenerateSettings`; the functions here give
the one it starts from when the caller gives none.
"""

from __future__ import annotations

import dataclasses

from ..synthesis.settings import GenerateSettings

Shape3 = tuple[int, int, int]

# analogy modes: what STRUCTURE is (patchvid.tasks.analogy)
MODES = ("motion", "labels", "colours")
# inpainting fills: what steers the filling (patchvid.tasks.inpaint)
FILLS = ("cue", "smooth")
# guide weight of analogies: a step of one structure level (of 4) costs (2/3 * 2)^2 = 1.8 per voxel
# against about 0.01-0.1 for RGB differences of similar patches, so the structure decides which
# region a patch comes from and the colours decide which patch within it
GUIDE_WEIGHT = 2.0
# motion levels of an analogy's structures (the quantisation bins of patchvid.tasks.structure)
MOTION_BINS = 4
# completeness weight of retargeting (units: summed squared patch distance, values in [-1, 1]); see
# BENCHMARKS.md, "Editing", for the measurement that chose it (benchmarks/retarget_alpha.py)
RETARGET_ALPHA = 0.5


def keep_layout(settings: GenerateSettings, shape: Shape3) -> GenerateSettings:
    """``settings`` with a pyramid that starts at half of ``shape`` ``(T, H, W)``'s short side and
    all of its frames, for edits whose layout is given (colour cues, collages, sketches): these
    enter the synthesis at the coarsest level, where a balloon-sized cue or a pasted flag is under a
    pixel at the default 15 px and smeared by downscaling in time. Measured on air balloons
    (13x144x256, benchmarks/edit_sheets.py): a painted balloon survived only with the coarsest level
    at 72 px and 13 frames (48 px with 13 frames, or 72 px with 7, faded it out); a duplicated flag in
    a 250x188 image survived at 80 px, not at 64."""
    t, h, w = shape
    return dataclasses.replace(
        settings,
        coarsest_size=max(settings.coarsest_size, min(h, w) // 2),
        coarsest_frames=max(settings.coarsest_frames, t),
    )


def retarget_settings(**overrides) -> GenerateSettings:
    """The settings retargeting starts from: no noise, completeness weighting on."""
    return GenerateSettings(noise=0.0).replace(alpha=RETARGET_ALPHA, **overrides)


def analogy_settings(mode: str = "motion", shape: Shape3 | None = None, **overrides) -> GenerateSettings:
    """The settings an analogy starts from: no noise and no completeness weighting (the reference
    code turns it on for analogies; on lava -> waterfall at 228x128 alpha 0.5 turned the still
    regions into flat grey smears and took 59 s against 27 s without). For ``"colours"``, the
    pyramid keeps STRUCTURE's layout (:func:`keep_layout`, needs its ``shape``)."""
    settings = GenerateSettings(noise=0.0)
    if mode == "colours" and shape is not None:
        settings = keep_layout(settings, shape)
    return settings.replace(**overrides)


def inpaint_settings(fill: str = "cue", shape: Shape3 | None = None) -> GenerateSettings:
    """No noise, no completeness weight; for ``"cue"`` a pyramid that keeps the cue
    (:func:`keep_layout`; with the default 15 px coarsest level a balloon-sized cue vanished,
    measured in benchmarks/edit_sheets.py). Removal keeps the full pyramid: the larger the hole, the
    coarser the level that must invent its content."""
    settings = GenerateSettings(noise=0.0)
    return keep_layout(settings, shape) if fill == "cue" and shape is not None else settings
