"""Time without limits: a clip extended before or after, and generation of any length.

Extension is inpainting in time. The output is ``before`` new frames, the kept frames, ``after``
new frames; the kept frames are known voxels, the new ones are holes, and every patch of the input
is a source. The pyramid keeps the cut sharp: at every level the kept part has exactly the input
level's frames (so it is the input's own pyramid, never a blend of kept and new frames), the new
parts are scaled like the input, and between levels each part is resized on its own
(:class:`~patchvid.synthesis.engine.Layout`). Patches that span the cut see the kept frames at
every level, so the new frames continue the clip's scenery and motion.

Any length is a sequence of windows: each window keeps the last ``context`` frames made so far and
adds ``window`` new ones; window ``k``'s seed derives from the seed and ``k``, so one window can be
made again from its context alone, and memory does not grow with the length
(:func:`extension_blocks`, :func:`endless`). Window 0 is exactly the one-window extension.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch

from ..errors import InputError
from ..frames import as_video, to_tensor
from ..synthesis.engine import Holes, Layout, LevelReport
from ..synthesis.planning import check_fits, estimate_bytes, plan
from ..synthesis.problem import Problem, input_pyramid, solve
from ..synthesis.pyramid import PyramidShapes, build_pyramid
from ..synthesis.settings import GenerateSettings
from .generate import loop_settings, prepare_generate

Shape3 = tuple[int, int, int]
# a solver: (problem, seed) -> (frames, source frame per output frame); solve_with_sources by default
Solver = Callable[[Problem, int], tuple[np.ndarray, list[int]]]


def extend_settings(**overrides) -> GenerateSettings:
    """The settings an extension starts from: generation's. Its noise goes into the new frames at
    the coarsest level; how different seeds' continuations are depends on the clip (on a still
    textured background with one moving square they differed by 6 grey levels, on a smooth one by
    0.1: the kept frames decide; BENCHMARKS.md has real clips)."""
    return GenerateSettings().replace(**overrides)


def window_seed(seed: int, index: int, direction: str = "after") -> int:
    """The seed of window ``index`` of a run seeded ``seed``, going ``direction`` in time. Window 0
    after the clip uses ``seed`` itself (so a one-window extension is the first window of a longer
    one, and an endless generation starts with the plain sample of that seed); every other window's
    is drawn from ``(seed, index, direction)``, independent of the others."""
    if index == 0 and direction == "after":
        return seed
    entropy = [seed, index, 0 if direction == "after" else 1]
    return int(np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def prepare_extension(
    frames: np.ndarray,
    *,
    before: int = 0,
    after: int = 0,
    known: np.ndarray | None = None,
    loop: bool = False,
    settings: GenerateSettings | None = None,
) -> Problem:
    """The problem of ``before`` new frames, then ``known`` (default: ``frames``), then ``after`` new
    frames, every new frame made of ``frames``' patches.

    Args:
        frames: ``(T, H, W, 3) uint8``: the clip whose patches are used (key and value).
        before, after: new frames before and after the kept ones (at least one of them > 0).
        known: ``(Tk, H, W, 3) uint8`` frames kept exactly in the output (a window's context);
            default ``frames``.
        loop: the output is periodic: its last frame leads into its first.
        settings: default :func:`extend_settings`; ``scale`` is ignored (the output keeps the size).

    Returns:
        a :class:`~patchvid.synthesis.problem.Problem` whose solution is ``(before + Tk + after, H, W,
        3) uint8``, the kept frames pasted back exactly.
    """
    video, image = as_video(frames)
    if image or video.shape[0] < 2:
        raise InputError("extending needs a video of at least 2 frames: an image has no motion to continue")
    _check_counts(before=before, after=after)
    if before + after == 0 and not loop:
        raise InputError("nothing to add: give a number of new frames before or after")
    kept, _ = as_video(video if known is None else known, "known", image=False)
    if kept.shape[1:] != video.shape[1:]:
        raise InputError(f"the kept frames are {kept.shape[2]}x{kept.shape[1]} but the clip is "
                         f"{video.shape[2]}x{video.shape[1]}")
    t, tk = video.shape[0], kept.shape[0]
    total = before + tk + after
    settings = (settings or extend_settings()).replace(scale=(total / t, 1.0, 1.0))
    if loop:
        settings = loop_settings(settings, t)
    p = plan(video.shape[:3], settings, holes=True)
    segments, outputs = _level_segments(p.levels, p.engine.patch[0], before, tk, after, t)
    levels = PyramidShapes(p.levels.input, outputs)
    p = dataclasses.replace(p, levels=levels, output_shape=outputs[0],
                            estimated_bytes=estimate_bytes(levels, p.engine, p.search, holes=True))
    check_fits(p)
    values = input_pyramid(to_tensor(video, p.device), p)
    if known is None:
        kept_levels = values
    else:
        kept_levels = build_pyramid(to_tensor(kept, p.device), [(s[1], *o[1:]) for s, o in zip(segments, outputs)])
    fill, known_levels = [], []
    for (b, k, a), part in zip(segments, kept_levels):
        c, _, h, w = part.shape
        mask = torch.ones((1, b + k + a, h, w), device=p.device)
        mask[:, b : b + k] = 0
        fill.append(mask)
        known_levels.append(torch.cat((part.new_zeros((c, b, h, w)), part, part.new_zeros((c, a, h, w))), dim=1))
    b, k, a = segments[-1]
    coarse = kept_levels[-1]
    initial = torch.cat((coarse[:, _bounce(k, b, backwards=True)], coarse, coarse[:, _bounce(k, a)]), dim=1)
    layout = Layout([tuple(n for n in s if n) for s in segments], (loop, False, False))
    holes = Holes(fill, known_levels)

    def paste_known(result: np.ndarray) -> np.ndarray:
        result[before : before + tk] = kept  # exact, not only to rounding
        return result

    return Problem(p, values, initial, noise=settings.noise, noise_where=fill[-1], holes=holes, layout=layout,
                   finish=paste_known)


def _check_counts(**counts) -> None:
    """Refuse a number of new frames that is not a whole number >= 0, naming it."""
    for name, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise InputError(f"{name} must be a whole number of frames >= 0, got {n!r}")


def _level_segments(
    levels: PyramidShapes, pt: int, before: int, kept: int, after: int, t: int
) -> tuple[list[Shape3], list[Shape3]]:
    """Per level, the frames ``(before, kept, after)`` and the output shape: the kept part has the
    input level's share of ``kept`` frames, each new part its share of its own (at least one frame
    when it has any), and the whole at least a patch's frames."""
    segments, outputs = [], []
    for level, (shape_in, shape_out) in enumerate(zip(levels.input, levels.output)):
        r = shape_in[0] / t
        if level == 0:
            b, k, a = before, kept, after
        else:
            b, k, a = (max(1, round(n * r)) if n else 0 for n in (before, kept, after))
        if b + k + a < pt:  # short parts at a coarse level: grow the new ones to fit a patch
            extra = pt - (b + k + a)
            b, a = (b + extra, a) if after == 0 else (b, a + extra)
        segments.append((b, k, a))
        outputs.append((b + k + a, *shape_out[1:]))
    return segments, outputs


def _bounce(n: int, count: int, backwards: bool = False) -> list[int]:
    """``count`` frame indices continuing ``n`` frames by playing them back and forth (ping-pong), so
    the first guess of a new part starts where the kept part ends."""
    if count == 0:
        return []
    if n == 1:
        return [0] * count
    period = 2 * (n - 1)
    forward = [(n - 1 - abs((n - 1 + i + 1) % period - (n - 1))) for i in range(count)]
    return [n - 1 - i for i in reversed(forward)] if backwards else forward


def solve_with_sources(problem: Problem, seed: int) -> tuple[np.ndarray, list[int]]:
    """:func:`~patchvid.synthesis.problem.solve`, and the input frame each output frame was copied
    from (for its sound)."""
    sources: list[int] = []

    def on_level(report: LevelReport) -> None:
        if report.source_frames is not None:
            sources[:] = report.source_frames

    frames = solve(problem, seed, on_level)
    return frames, sources[: len(frames)]


@dataclass
class Block:
    """New frames made by one window.

    Attributes:
        frames: ``(N, H, W, 3) uint8``.
        sources: ``N`` input frame indices: where each frame was copied from.
        index: the window's number (0 first); ``seed``: its seed.
    """

    frames: np.ndarray
    sources: list[int]
    index: int
    seed: int


def extension_blocks(
    frames: np.ndarray,
    *,
    direction: str = "after",
    count: int | None = None,
    seed: int = 0,
    window: int | None = None,
    context: int | None = None,
    first: tuple[np.ndarray, list[int]] | None = None,
    start: int = 0,
    settings: GenerateSettings | None = None,
    solver: Solver = solve_with_sources,
) -> Iterator[Block]:
    """New frames after (or before) a clip, window by window, in constant memory.

    Args:
        frames: ``(T, H, W, 3) uint8``: the clip (its patches are the source of every window).
        direction: ``"after"`` (blocks in playing order) or ``"before"`` (each block goes before the
            previous one: the first block yielded ends where the clip starts).
        count: new frames in all (the last block is cut to it); ``None``: endless.
        seed: window ``k`` is seeded :func:`window_seed`\\ (seed, k, direction).
        window: new frames per window (default twice the clip's length).
        context: frames of what was made before that each window keeps (default the clip's length:
            enough for a patch at the coarsest level).
        first: ``(frames, sources)`` the first window continues instead of the clip itself (endless
            generation continues a generated sample).
        start: the number of the first window (its seed's index).
        settings: default :func:`extend_settings`.
        solver: solves each window's problem (the command line's shows progress).

    Yields:
        :class:`Block`\\ s of new frames, in ``direction``'s order.
    """
    video, _ = as_video(frames)
    if direction not in ("after", "before"):
        raise InputError(f"direction must be 'after' or 'before', got {direction!r}")
    t = video.shape[0]
    window = 2 * t if window is None else window
    context = t if context is None else context
    if count is not None:
        _check_counts(count=count)
    if window < 1 or context < 1:
        raise InputError(f"window and context must be at least 1 frame, got {window} and {context}")
    made, sources = first if first is not None else (video, list(range(t)))
    after = direction == "after"
    for index in itertools.count(start):
        n = window if count is None else min(window, count)
        if n <= 0:
            return
        known = made[-context:] if after else made[:context]
        known_sources = sources[-len(known):] if after else sources[: len(known)]
        same = first is None and index == start and len(known) == t
        problem = prepare_extension(video, after=n if after else 0, before=0 if after else n,
                                    known=None if same else known, settings=settings)
        s = window_seed(seed, index, direction)
        out, out_sources = solver(problem, s)
        new = slice(len(known), None) if after else slice(0, n)
        block = Block(out[new], list(out_sources[new]), index, s)
        yield block
        made = np.concatenate((known, block.frames)) if after else np.concatenate((block.frames, known))
        sources = (list(known_sources) + block.sources) if after else (block.sources + list(known_sources))
        if count is not None:
            count -= n


def extend(
    frames: np.ndarray,
    *,
    after: int = 0,
    before: int = 0,
    seed: int = 0,
    loop: bool = False,
    window: int | None = None,
    settings: GenerateSettings | None = None,
    **overrides,
) -> np.ndarray:
    """``frames`` with new frames after its end and/or before its start, continuing its scenery and
    motion; the input's frames are kept exactly.

    Args:
        frames: ``(T, H, W, 3) uint8`` video.
        after, before: new frames to add (whole numbers >= 0).
        seed: different seeds give different continuations; the same seed the same frames.
        loop: make the whole output periodic (its end flows into its start); solved as one
            problem, so its length is bounded by memory.
        window: new frames per window for long extensions (default twice the clip's length).
        settings: default :func:`extend_settings`; ``overrides`` replace fields by name.

    Returns:
        ``(before + T + after, H, W, 3) uint8``; frames ``before .. before + T - 1`` are ``frames``.

    Example:
        >>> longer = extend(clip, after=50, seed=1)  # doctest: +SKIP
    """
    video, _ = as_video(frames)
    _check_counts(before=before, after=after)
    settings = (settings or extend_settings()).replace(**overrides)
    if loop:
        return solve(prepare_extension(video, before=before, after=after, loop=True, settings=settings), seed)
    if before + after == 0:
        raise InputError("nothing to add: give a number of new frames before or after")
    parts = []
    if before:
        blocks = extension_blocks(video, direction="before", count=before, seed=seed, window=window,
                                  settings=settings)
        parts += [b.frames for b in blocks][::-1]
    parts.append(video)
    if after:
        parts += [b.frames for b in extension_blocks(video, count=after, seed=seed, window=window, settings=settings)]
    return np.concatenate(parts)


def endless(
    frames: np.ndarray,
    *,
    seed: int = 0,
    window: int | None = None,
    settings: GenerateSettings | None = None,
    solver: Solver = solve_with_sources,
    **overrides,
) -> Iterator[Block]:
    """A new video with no end, window by window: first a generated sample of ``window`` frames
    (:mod:`~patchvid.tasks.generate`), then windows that each continue the frames before them.

    Args:
        frames: ``(T, H, W, 3) uint8`` video.
        seed: seeds every window (window ``k``: :func:`window_seed`\\ (seed, k)).
        window: frames per window (default twice the clip's length).
        settings: default generation's; ``overrides`` replace fields by name.
        solver: solves each window's problem.

    Yields:
        :class:`Block`\\ s of consecutive frames; take as many as wanted (``itertools.islice``).

    Example:
        >>> import itertools
        >>> blocks = itertools.islice(endless(clip, seed=3), 10)  # doctest: +SKIP
        >>> video = np.concatenate([b.frames for b in blocks])  # doctest: +SKIP
    """
    video, _ = as_video(frames)
    if video.shape[0] < 2:
        raise InputError("endless generation needs a video of at least 2 frames")
    settings = (settings or extend_settings()).replace(**overrides)
    t = video.shape[0]
    window = 2 * t if window is None else window
    if window < 1:
        raise InputError(f"window must be at least 1 frame, got {window}")
    first_frames, first_sources = solver(prepare_generate(video, settings.replace(scale=(window / t, 1.0, 1.0))), seed)
    yield Block(first_frames, list(first_sources), 0, seed)
    yield from extension_blocks(video, seed=seed, window=window, first=(first_frames, list(first_sources)), start=1,
                                settings=settings, solver=solver)


def frames_for(seconds: float, fps: float) -> int:
    """Frames that ``seconds`` last at ``fps`` (at least one for a positive duration)."""
    if not math.isfinite(seconds) or seconds <= 0:
        raise InputError(f"a duration must be a positive number of seconds, got {seconds}")
    return max(1, round(seconds * fps))
