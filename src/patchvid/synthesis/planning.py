"""Planning a synthesis before it starts: sizes, patch, pyramid levels, device and peak memory.

A :class:`Plan` is known from shapes alone, so front ends can refuse a request that would not fit
in memory, or an image file name for a multi-frame output, before any pixel is computed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch

from .. import memory
from ..errors import PatchvidError, ResourceError
from .engine import search_per_level
from .patches import patch_grid
from .pyramid import PyramidShapes, fit_patch, level_shapes
from .search import CACHE_BLOCK_BYTES, ExactSearch
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


def plan(shape: Shape3, settings: GenerateSettings, *, guides: int = 0, holes: bool = False) -> Plan:
    """Decide output size, patch size and pyramid levels for an input of ``(T, H, W)``; the output
    is ``settings.scale`` times the input, never smaller than a patch where the input is not.
    ``guides`` (guide channels, an analogy's) and ``holes`` (inpainting's masks) are what the task adds
    to the memory estimate (:func:`estimate_bytes`).

    Raises:
        ResourceError: the output is larger than the input and its synthesis would not fit in the
            memory available (:func:`check_fits`). Preparing such a request allocates output-sized
            tensors before any caller could check :attr:`Plan.estimated_bytes`, so it is refused
            here, at once; a request no larger than its input is left to the caller's check (what
            preparing it allocates is bounded by the input, and ``--max-size auto`` plans such
            sizes only to compare their estimates).
    """
    settings.validate()
    t, h, w = shape
    out = tuple(max(1, round(n * s)) for n, s in zip(shape, settings.scale))
    patch = settings.engine.patch if t > 1 else (1, *settings.engine.patch[1:])
    # the output needs at least a patch's worth of frames when the input has them
    out = (max(out[0], min(t, patch[0])), max(out[1], min(h, patch[1])), max(out[2], min(w, patch[2])))
    patch = fit_patch(patch, shape, out)
    levels = level_shapes(shape, out, patch, settings.factor, settings.coarsest_size, settings.coarsest_frames)
    engine = dataclasses.replace(settings.engine, patch=patch)
    memory = estimate_bytes(levels, engine, settings.search, guides=guides, holes=holes)
    p = Plan(shape, levels.output[0], patch, levels, engine, settings.search, resolve_device(settings.device), memory)
    if math.prod(p.output_shape) > math.prod(shape):
        check_fits(p)
    return p


# What the estimate counts beyond the synthesis itself, measured (peak RSS of whole CLI runs less a
# tiny run's, /tmp scripts of issue 20): H.264 encoding holds about 75-100 bytes per pixel of a frame
# whatever the length (x264's look-ahead), a GIF about 7 bytes per voxel (PIL copies and palettes)
WRITER_BYTES_PER_PIXEL = 128
WRITER_BYTES_PER_VOXEL = 8
# per query patch of a search: the start field and its clamped copy (int64 corners), the flat start
# and its distances, and the kernels' two fields, distances and scores (double-buffered)
SEARCH_BYTES_PER_QUERY = 124
# per query patch, with holes: the start moved onto allowed keys (flat, drawn, chosen and corners)
SEARCH_BYTES_PER_QUERY_HOLES = 48
# per key patch of a search with completeness weighting (alpha): the reverse search's start and its
# kernels' arrays, and the estimated nearest distances and weights
SEARCH_BYTES_PER_KEY = 112
# the C allocator's share on top (freed blocks it keeps, fragmentation) and what every run adds once
# (encoder and thread pools), fitted to the runs measured (see estimate_bytes)
ALLOCATOR_OVERHEAD = 1.25
RUN_BYTES = 48 * 2**20
# the share of the memory available a plan may use (the command line's check_memory uses the same)


def estimate_bytes(levels: PyramidShapes, engine: EngineSettings, search: str = "auto", channels: int = 3,
                   guides: int = 0, holes: bool = False) -> int:
    """Peak memory of a whole task, from the first pyramid to the written file.

    It is what stays allocated throughout (the value pyramid, the input's frames and those of an
    output-sized layout, ``guides`` guide channels' pyramids on both sides, the hole masks if ``holes``, and the
    float64 resize matrices, which :func:`~patchvid.synthesis.resize.resize_matrix` keeps cached:
    ``n_out x n_in`` per axis and pair of sizes, quadratic in a stretched output's length) plus the
    largest of what each step adds: preparing (inpainting's smooth fill, pyramid resizes, an analogy's
    first guess); each level (the query, its replacement and the resize temporaries, the blurry key,
    the guided copies, the search's working set, exact: the unfolded patches of both sides (the key's
    twice with holes) and its distance blocks; PatchMatch: channels-last copies of both videos and the
    fields per query and, with ``alpha``, per key; and the level's float32 resize matrices); finishing
    (the result, its conversion to uint8 and inpainting's paste) and writing (the uint8 frames and the
    encoder's buffers). The runtime (Python, torch, numba's compiled kernels) adds about 0.4 GB, which
    is already taken when a caller compares this with the memory available.

    Measured against the peak RSS of CLI runs less a tiny run's (22 runs: generation, retargets to
    1024-4096 wide, 1024-2048 high and 64 frames, collages and inpainting at 72x128 to 288x512, mp4
    and GIF; runs differ by about 10 % from one to the next): 0.2 to 0.9 of this estimate, the small
    runs lowest. Analogies, whose plan must declare their guide (``guides=1``), used 0.6-0.9 of it
    declared and up to 1.07 undeclared. Before the resize matrices, the finish and the write were
    counted, a retarget to 8x72x4096 used 2.6 times the estimate (779 of 305 MiB), inpainting and
    collages up to 1.4 times.
    """
    choose = search_per_level(search, levels.output, levels.input, engine.patch)
    c, g = channels, guides
    cg = c + g
    key_voxels = [math.prod(s) for s in levels.input]
    out_voxels = [math.prod(s) for s in levels.output]
    k0, q0 = key_voxels[0], out_voxels[0]
    t0, h0, w0 = levels.output[0]

    # the value pyramid, the input's frames, and an analogy's structure (a collage's layout) frames
    held = sum(key_voxels) * c * 4 + 3 * k0 + 3 * q0
    if g:
        held += (sum(key_voxels) + sum(out_voxels)) * g * 4
    if holes:
        held += sum(out_voxels) * 4 + sum(key_voxels) + 2 * k0  # fill weights, key holes, the mask
    pairs = _resize_pairs(levels, output_pyramid=g > 0)
    held += 8 * sum(n * m for n, m in pairs)

    steps = [
        max(5 * c * k0 * 4 if holes else 0,  # the smooth fill's push-pull
            2 * c * max(k0, q0) * 4,  # a pyramid level resized from the full size
            12 * out_voxels[-1] * key_voxels[-1] if g else 0),  # an analogy's first guess (its weight matrix)
        3 * c * q0 * 4 + 3 * q0 + (5 * q0 if holes else 0),  # the result, to uint8, the paste
        3 * q0 + max(WRITER_BYTES_PER_PIXEL * h0 * w0, WRITER_BYTES_PER_VOXEL * q0),  # the write
    ]
    coarsest = len(levels) - 1
    for level, (key_shape, query_shape) in enumerate(zip(levels.input, levels.output)):
        p = engine.level_patch(query_shape)
        n_key = math.prod(patch_grid(key_shape, p))
        n_query = math.prod(patch_grid(query_shape, p))
        q, k = out_voxels[level], key_voxels[level]
        data = 3 * c * q * 4 + c * k * 4 + (cg * (q + k) * 4 if g else 0)
        if isinstance(choose(level), ExactSearch):
            block = min(ExactSearch.max_bytes, CACHE_BLOCK_BYTES)
            working = (n_query + (2 if holes else 1) * n_key) * cg * math.prod(p) * 4 + 4 * block
        else:
            working = cg * (q + k) * 4 + (n_key * SEARCH_BYTES_PER_KEY if engine.alpha is not None else 0)
        working += n_query * (SEARCH_BYTES_PER_QUERY + (SEARCH_BYTES_PER_QUERY_HOLES if holes else 0))
        matrix = 0
        if level < coarsest:
            finer = (levels.output[level], levels.input[level])
            coarser = (levels.output[level + 1], levels.input[level + 1])
            matrix = 4 * max((n * m for fine, coarse in zip(finer, coarser) for n, m in zip(fine, coarse) if n != m),
                             default=0)
        steps.append(data + working + matrix)
    return round(ALLOCATOR_OVERHEAD * (held + max(steps))) + RUN_BYTES


def _resize_pairs(levels: PyramidShapes, output_pyramid: bool = True) -> set[tuple[int, int]]:
    """The ``(n_in, n_out)`` sizes of every resize matrix a task builds: the input's pyramid (and the
    holes'), each from the full size; the coarse-to-fine steps of the output and of the key; with
    ``output_pyramid``, the output-sized pyramid of an analogy's guide; a collage's first guess."""
    pairs = set()

    def add(a: Shape3, b: Shape3) -> None:
        pairs.update((n, m) for n, m in zip(a, b) if n != m)

    add(levels.output[0], levels.output[-1])  # a collage's first guess
    for i, (key_shape, out_shape) in enumerate(zip(levels.input, levels.output)):
        add(levels.input[0], key_shape)
        if output_pyramid:
            add(levels.output[0], out_shape)
        if i > 0:
            add(levels.output[i], levels.output[i - 1])
            add(levels.input[i], levels.input[i - 1])
    return pairs


def check_fits(p: Plan, hint: str = "ask for a smaller output") -> None:
    """Refuse, with a :class:`~patchvid.errors.ResourceError`, a plan whose :attr:`Plan.estimated_bytes`
    exceeds :data:`patchvid.memory.SHARE` of the memory available, before anything is allocated for it."""
    available = memory.available_memory()
    if available is not None and p.estimated_bytes > memory.SHARE * available:
        t, h, w = p.output_shape
        what = f"an output of {t} frames of {w}x{h}" if t > 1 else f"an output of {w}x{h}"
        raise ResourceError(f"{what} needs about {p.estimated_bytes / 2**30:.1f} GiB but only "
                            f"{available / 2**30:.1f} GiB is available; {hint}")
