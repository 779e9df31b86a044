"""Planning a synthesis before it starts: sizes, patch, pyramid levels, device and peak memory.

A :class:`Plan` is known from shapes alone, so front ends can refuse a request that would not fit
in memory, or an image file name for a multi-frame output, before any pixel is computed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch

from ..errors import PatchvidError
from .engine import search_per_level
from .patches import patch_grid
from .pyramid import PyramidShapes, fit_patch, level_shapes
from .search import ExactSearch
from .settings import EngineSettings, GenerateSettings

Shape3 = tuple[int, int, int]


@dataclass(frozen=True)
class Plan:
    """What a synthesis will do.

    Attributes:
        input_shape: ``(T, H, W)`` of the video whose patches are used (the key and value).
        output_shape: ``(T, H, W)`` synthesized; always ``levels.output[0]``.
        patch: the patch at full size, fitted to both shapes (an image gets one-frame patches).
        levels: the pyramid's input and output sizes, finest first.
        engine: the settings' engine with the fitted patch.
        search: the search name (``"auto"``, ``"exact"``, ``"patchmatch"``).
        device: where it runs.
        estimated_bytes: peak memory (:func:`estimate_bytes`).
    """

    input_shape: Shape3
    output_shape: Shape3
    patch: Shape3
    levels: PyramidShapes
    engine: EngineSettings
    search: str
    device: torch.device
    estimated_bytes: int


def resolve_device(name: str) -> torch.device:
    """``"auto"`` (CUDA when PyTorch sees a GPU), ``"cpu"`` or ``"cuda"`` as a device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise PatchvidError("--device cuda asked for, but PyTorch sees no CUDA GPU")
    return torch.device(name)


def plan(shape: Shape3, settings: GenerateSettings) -> Plan:
    """Decide output size, patch size and pyramid levels for an input of ``(T, H, W)``; the output
    is ``settings.scale`` times the input, never smaller than a patch where the input is not."""
    settings.validate()
    t, h, w = shape
    out = tuple(max(1, round(n * s)) for n, s in zip(shape, settings.scale))
    patch = settings.engine.patch if t > 1 else (1, *settings.engine.patch[1:])
    # the output needs at least a patch's worth of frames when the input has them
    out = (max(out[0], min(t, patch[0])), max(out[1], min(h, patch[1])), max(out[2], min(w, patch[2])))
    patch = fit_patch(patch, shape, out)
    levels = level_shapes(shape, out, patch, settings.factor, settings.coarsest_size, settings.coarsest_frames)
    engine = dataclasses.replace(settings.engine, patch=patch)
    memory = estimate_bytes(levels, engine, settings.search)
    return Plan(shape, levels.output[0], patch, levels, engine, settings.search, resolve_device(settings.device),
                memory)


def estimate_bytes(levels: PyramidShapes, engine: EngineSettings, search: str = "auto", channels: int = 3) -> int:
    """Peak memory of a synthesis, dominated by the finest level: the pyramid, the query, the
    blurry key and the folded result, the search's working set (exact: both sides' unfolded patches;
    PatchMatch: channels-last copies of the two videos, two (Nq, 3) int64 fields and per-query
    distances), the field the engine keeps (the match and the upsampled start) and the fold's
    corner table. Data only: a 13x1080x1920 CPU generation peaked at 0.89x this (5.5 of 6.2 GB);
    the runtime (Python, torch, numba) adds about 0.4 GB, which dominates small inputs
    (benchmarks/speed.py)."""
    choose = search_per_level(search, levels.output, levels.input, engine.patch)
    pyramid = sum(math.prod(s) for s in levels.input) * channels * 4
    worst = 0
    for level, (key_shape, query_shape) in enumerate(zip(levels.input, levels.output)):
        p = engine.level_patch(query_shape)
        n_key = math.prod(patch_grid(key_shape, p))
        n_query = math.prod(patch_grid(query_shape, p))
        video_bytes = (math.prod(key_shape) + math.prod(query_shape)) * channels * 4
        if isinstance(choose(level), ExactSearch):
            working = (n_key + n_query) * channels * math.prod(p) * 4 + 2 * ExactSearch.max_bytes
        else:
            working = video_bytes + n_query * 64
        fields = n_query * (2 * 24 + 4 + 8)  # the match and the start (int64 corners), distances, fold table
        worst = max(worst, 3 * video_bytes + working + fields)
    return pyramid + worst
