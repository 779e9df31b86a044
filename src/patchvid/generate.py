"""Diverse generation (VGPNN): new videos, or images, that look like one input.

The recipe: build the input's space-time pyramid, start from its coarsest level resized to the
output's coarsest size plus Gaussian noise, and let the engine rebuild it from the input's patches,
level by level. Different seeds give different noise and so different samples.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .engine import SEARCHES, EngineSettings, LevelReport, level_threads, search_per_level, synthesize
from .errors import PatchvidError
from .patches import patch_grid
from .pyramid import PyramidShapes, build_pyramid, fit_patch, level_shapes
from .resize import resize
from .search import ExactSearch

Shape3 = tuple[int, int, int]


@dataclass(frozen=True)
class GenerateSettings:
    """Every parameter of a generation; the defaults are the published method's where we had no
    measurement to do better.

    Attributes:
        noise: standard deviation of the Gaussian noise added to the coarsest level, in units of the
            [-1, 1] value range. More noise, more diversity (and more artefacts).
        patch: ``(frames, height, width)`` of a patch. Images use one frame whatever is set here.
        factor: pyramid scale per level, ``(time, space)``.
        coarsest_size: pixels on the short side of the coarsest level.
        coarsest_frames: frames at the coarsest level (never fewer than the patch's).
        iterations: search-and-vote rounds per level (the coarsest has ``coarsest_iterations``).
        coarsest_iterations: rounds at the coarsest level.
        reduce: voting rule: ``"median"``, ``"mean"`` or ``"gaussian"``.
        alpha: completeness weight (``None``: off).
        scale: output size relative to the input, ``(time, height, width)``.
        search: ``"auto"`` (exact on small levels, PatchMatch on large ones), ``"exact"`` or
            ``"patchmatch"``.
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        large_voxels: levels whose output has more voxels (T*H*W) than this run
            ``large_iterations`` rounds (``None``: always ``iterations``); the reference code's rule.
        large_iterations: rounds at those levels.
        huge_voxels: levels with more output voxels than this use ``huge_patch`` (``None``: never).
        huge_patch: ``(frames, height, width)`` patch of those levels (each at most ``patch``'s).
    """

    # 4, not the published 5: on 7 real clips at 13x144x256 (K = 10) it keeps diversity at 0.42 with
    # 23 % less coherence error (BENCHMARKS.md, "Defaults from the quality–diversity sweep")
    noise: float = 4.0
    patch: Shape3 = (3, 7, 7)
    factor: tuple[float, float] = (0.85, 0.85)
    coarsest_size: int = 15
    coarsest_frames: int = 3
    iterations: int = 5
    coarsest_iterations: int = 1
    reduce: str = "median"
    alpha: float | None = None
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    search: str = "auto"
    device: str = "auto"
    large_voxels: int | None = 3_000_000
    large_iterations: int = 1
    huge_voxels: int | None = 7_500_000
    huge_patch: Shape3 = (3, 5, 5)

    def validate(self) -> None:
        """Raise :class:`PatchvidError` naming the first setting out of range."""
        checks = [
            (self.noise >= 0, f"noise must be >= 0, got {self.noise}"),
            (len(self.patch) == 3 and min(self.patch) >= 1, f"patch must be 3 sizes >= 1, got {self.patch}"),
            (all(0 < f < 1 for f in self.factor), f"pyramid factors must be between 0 and 1, got {self.factor}"),
            (self.coarsest_size >= 1 and self.coarsest_frames >= 1, "coarsest size and frames must be >= 1"),
            (self.iterations >= 1 and self.coarsest_iterations >= 1, "iterations must be >= 1"),
            (self.reduce in ("median", "mean", "gaussian"), f"unknown voting rule {self.reduce!r}"),
            (self.alpha is None or self.alpha > 0, f"alpha must be > 0, got {self.alpha}"),
            (len(self.scale) == 3 and min(self.scale) > 0, f"output scale must be 3 numbers > 0, got {self.scale}"),
            (self.search in SEARCHES, f"unknown search {self.search!r}"),
            (self.device in ("auto", "cpu", "cuda"), f"unknown device {self.device!r}"),
            (self.large_iterations >= 1, f"large_iterations must be >= 1, got {self.large_iterations}"),
            (
                len(self.huge_patch) == 3 and min(self.huge_patch) >= 1,
                f"huge_patch must be 3 sizes >= 1, got {self.huge_patch}",
            ),
        ]
        for ok, message in checks:
            if not ok:
                raise PatchvidError(message)


@dataclass(frozen=True)
class Plan:
    """What a generation will do, known before it starts: sizes, patch, levels, device, memory."""

    input_shape: Shape3
    output_shape: Shape3
    patch: Shape3
    levels: PyramidShapes
    device: torch.device
    estimated_bytes: int


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise PatchvidError("--device cuda asked for, but PyTorch sees no CUDA GPU")
    return torch.device(name)


def plan(shape: Shape3, settings: GenerateSettings) -> Plan:
    """Decide output size, patch size and pyramid levels for an input of ``(T, H, W)``."""
    settings.validate()
    t, h, w = shape
    out = tuple(max(1, round(n * s)) for n, s in zip(shape, settings.scale))
    patch = settings.patch if t > 1 else (1, *settings.patch[1:])
    # the output needs at least a patch's worth of frames when the input has them
    out = (max(out[0], min(t, patch[0])), max(out[1], min(h, patch[1])), max(out[2], min(w, patch[2])))
    patch = fit_patch(patch, shape, out)
    levels = level_shapes(shape, out, patch, settings.factor, settings.coarsest_size, settings.coarsest_frames)
    memory = estimate_bytes(levels, patch, settings.search, engine=engine_settings(settings, patch))
    return Plan(shape, out, patch, levels, resolve_device(settings.device), memory)


def engine_settings(settings: GenerateSettings, patch: Shape3) -> EngineSettings:
    """The engine's settings for a generation with ``settings`` and the plan's ``patch``."""
    return EngineSettings(
        patch,
        settings.iterations,
        settings.coarsest_iterations,
        settings.reduce,
        settings.alpha,
        settings.large_voxels,
        settings.large_iterations,
        settings.huge_voxels,
        settings.huge_patch,
    )


def estimate_bytes(
    levels: PyramidShapes,
    patch: Shape3,
    search: str = "auto",
    channels: int = 3,
    engine: EngineSettings | None = None,
) -> int:
    """Peak memory of a generation, dominated by the finest level: the pyramid, the query, the
    blurry key and the folded result, the search's working set (exact: both sides' unfolded patches;
    PatchMatch: channels-last copies of the two videos, two (Nq, 3) int64 fields and per-query
    distances), the field the engine keeps (the match and the upsampled start) and the fold's
    corner table. ``engine`` gives the per-level patch (default: ``patch`` everywhere). Data only:
    a 13x1080x1920 CPU generation peaked at 0.89x this (5.5 of 6.2 GB); the runtime (Python, torch,
    numba) adds about 0.4 GB, which dominates small inputs (benchmarks/speed.py)."""
    engine = engine or EngineSettings(patch)
    choose = search_per_level(search, levels.output, levels.input, patch)
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


def as_video(frames: np.ndarray, name: str = "frames") -> tuple[np.ndarray, bool]:
    """``(T, H, W, 3) uint8`` frames, or an ``(H, W, 3)`` image as one frame; and whether it was an
    image. Raises ValueError for anything else."""
    image = frames.ndim == 3
    video = frames[None] if image else frames
    if video.ndim != 4 or video.shape[-1] != 3 or video.dtype != np.uint8:
        raise ValueError(f"{name} must be (T, H, W, 3) or (H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    return video, image


def to_tensor(frames: np.ndarray, device: torch.device | str = "cpu") -> torch.Tensor:
    """``(T, H, W, 3) uint8`` to ``(3, T, H, W) float32`` in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(frames)).to(device).permute(3, 0, 1, 2).float() / 127.5 - 1


def to_frames(video: torch.Tensor) -> np.ndarray:
    """``(3, T, H, W)`` in [-1, 1] to ``(T, H, W, 3) uint8`` (rounded, clipped)."""
    return ((video + 1) * 127.5).round_().clamp_(0, 255).to(torch.uint8).permute(1, 2, 3, 0).cpu().numpy()


def generate(
    frames: np.ndarray,
    seed: int = 0,
    settings: GenerateSettings | None = None,
    on_level: Callable[[LevelReport], None] | None = None,
    **overrides,
) -> np.ndarray:
    """Make one new sample that looks like ``frames``.

    Args:
        frames: ``(T, H, W, 3) uint8`` RGB video, or ``(H, W, 3)`` for an image.
        seed: the sample's seed: the same seed gives the same output, other seeds other outputs.
        settings: every parameter (see :class:`GenerateSettings`); ``overrides`` replace fields of
            it by name, e.g. ``generate(frames, seed=3, noise=1.0, scale=(0.5, 1, 1))``.
        on_level: called after each pyramid level with a :class:`~patchvid.engine.LevelReport`.

    Returns:
        ``(T', H', W', 3) uint8`` (``(H', W', 3)`` for an image input), ``T' = round(T * scale[0])``
        and so on.

    Example:
        >>> import patchvid
        >>> clip = patchvid.read_video("clip.mp4", end=13)  # doctest: +SKIP
        >>> sample = patchvid.generate(clip.frames, seed=1)  # doctest: +SKIP
        >>> patchvid.write_video("sample.mp4", sample, clip.fps)  # doctest: +SKIP
    """
    settings = dataclasses.replace(settings or GenerateSettings(), **overrides)
    video, image = as_video(frames)
    p = plan(video.shape[:3], settings)
    with level_threads(math.prod(video.shape[:3]), p.device):  # small inputs: no thread barriers
        values = build_pyramid(to_tensor(video, p.device), p.levels.input)
    generator = torch.Generator(device="cpu").manual_seed(seed)
    coarsest = values[-1]
    start = resize(coarsest, p.levels.output[-1])
    noise = torch.randn(start.shape, generator=generator) * settings.noise
    initial = start + noise.to(p.device)
    engine = engine_settings(settings, p.patch)
    search = search_per_level(settings.search, p.levels.output, p.levels.input, p.patch)
    result = synthesize(initial, values, p.levels.output, engine, search, seed=seed, on_level=on_level)
    out = to_frames(result)
    return out[0] if image else out
