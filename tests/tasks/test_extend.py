"""Time without limits on generated footage: extension before and after, windows, endless generation,
loops and tiles, and bad requests."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from scipy import ndimage as ndi

import patchvid
from patchvid.errors import InputError, PatchvidError
from patchvid.evaluation.metrics import coherence
from patchvid.synthesis.problem import solve
from patchvid.tasks.extend import (
    _bounce,
    endless,
    extend,
    extension_blocks,
    prepare_extension,
    window_seed,
)
from patchvid.tasks.generate import generate, loop_settings, wrap_axes
from patchvid.tasks.retarget import retarget

from ..conftest import orbit_clip

FRAMES, HEIGHT, WIDTH = 16, 32, 48
SIDE, START, Y0 = 5, 4, (HEIGHT - 5) // 2  # the square: side, first left edge, top row
NEW = 8  # new frames of the extensions shared by several tests
LIGHT = 650  # R+G+B above this: the square (250, 250, 240); the background stays below ~450


def square_clip(frames: int = FRAMES, seed: int = 0) -> np.ndarray:
    """A light 5x5 square moving right 1 px a frame (left edge 4 + t) over a still noise texture."""
    rng = np.random.default_rng(seed)
    back = rng.normal(0, 14, (HEIGHT, WIDTH, 3)) + (70, 90, 120)
    out = np.empty((frames, HEIGHT, WIDTH, 3), np.uint8)
    for t in range(frames):
        img = back.copy()
        img[Y0 : Y0 + SIDE, START + t : START + t + SIDE] = (250, 250, 240)
        out[t] = np.clip(img, 0, 255)
    return out


CLIP = square_clip()


@pytest.fixture(scope="module")
def after() -> np.ndarray:
    return extend(CLIP, after=NEW, seed=0)


@pytest.fixture(scope="module")
def before() -> np.ndarray:
    return extend(CLIP, before=NEW, seed=0)


def square_track(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: the x centroid of the light pixels and how many there are."""
    light = frames.astype(int).sum(-1) > LIGHT
    count = light.sum((1, 2))
    xs = np.array([np.nonzero(f)[1].mean() if f.any() else np.nan for f in light])
    return xs, count


def steps(frames: np.ndarray) -> np.ndarray:
    """Mean absolute difference between consecutive frames, in grey levels."""
    return np.abs(np.diff(frames.astype(int), axis=0)).mean(axis=(1, 2, 3))


# ------------------------------------------------------------------------------- extension


def test_extend_after_keeps_the_clip_and_adds_frames(after):
    assert after.shape == (FRAMES + NEW, HEIGHT, WIDTH, 3) and after.dtype == np.uint8
    assert np.array_equal(after[:FRAMES], CLIP)
    assert np.abs(after[FRAMES:].astype(int) - CLIP[-1]).mean() > 1  # not copies of the last frame


def test_extend_before_keeps_the_clip_and_adds_frames(before):
    assert before.shape == (NEW + FRAMES, HEIGHT, WIDTH, 3) and before.dtype == np.uint8
    assert np.array_equal(before[NEW:], CLIP)
    assert np.abs(before[:NEW].astype(int) - CLIP[0]).mean() > 1


def test_extend_both_ways_at_once():
    out = extend(CLIP, before=3, after=4, seed=2)
    assert out.shape == (3 + FRAMES + 4, HEIGHT, WIDTH, 3)
    assert np.array_equal(out[3 : 3 + FRAMES], CLIP)


def test_new_frames_are_made_of_input_patches(after, before):
    """Measured (full exact search, every patch): the new frames' patches are 2.6-3.7 grey levels RMS
    from their nearest input patch; the input with noise of 20 grey levels added is about 20."""
    rng = np.random.default_rng(0)
    noisy = np.clip(CLIP[-NEW:] + rng.normal(0, 20, CLIP[-NEW:].shape), 0, 255).astype(np.uint8)
    reference = coherence(noisy, CLIP, count=512)
    for new in (after[FRAMES:], before[:NEW]):
        distance = coherence(new, CLIP, count=512)
        assert distance < 0.3 * reference, (distance, reference)
    assert reference > 15


@pytest.mark.parametrize("seed", [0, 1])
def test_motion_continues_after_the_clip(after, seed):
    """The square keeps moving right at about 1 px a frame into the new frames. Measured (seeds
    0-2): centroids 18, 19, 20, 21 | 22, 22.5, 23-23.5, 24, 25, 26 (one frame lost a column)."""
    out = after if seed == 0 else extend(CLIP, after=NEW, seed=seed)
    xs, count = square_track(out[FRAMES - 4 : FRAMES + 5])  # 4 known frames, 5 new ones
    assert np.allclose(np.diff(xs[:4]), 1)  # the input's own speed
    assert np.all((count[4:] >= 15) & (count[4:] <= 35)), count  # one square, about its size
    speed = np.diff(xs[3:])  # from the last known frame on
    assert np.all(speed >= -0.25) and np.all(speed <= 2), xs  # never back, never a jump
    assert 3 <= xs[-1] - xs[3] <= 7, xs  # 5 frames at about 1 px a frame: not frozen


def test_motion_continues_before_the_clip(before):
    """Going back in time from the first frame the square keeps moving left, out of the picture.
    Measured: centroids (frames 4-8) 3, 4, 4.5, 5 | 6."""
    xs, count = square_track(before[NEW - 4 : NEW + 4])  # 4 new frames, 4 known ones
    assert np.allclose(np.diff(xs[4:]), 1)
    assert np.all((count[:4] >= 15) & (count[:4] <= 35)), count
    speed = np.diff(xs[:5])  # forward in time, up to the first known frame
    assert np.all(speed >= -0.25) and np.all(speed <= 2), xs
    assert 2 <= xs[4] - xs[0] <= 6, xs


def test_same_seed_same_frames_other_seed_other_frames(after):
    assert np.array_equal(extend(CLIP, after=NEW, seed=0), after)
    other = extend(CLIP, after=NEW, seed=3)
    assert np.array_equal(other[:FRAMES], CLIP)
    assert not np.array_equal(other[FRAMES:], after[FRAMES:])
    assert np.abs(other[FRAMES:].astype(int) - after[FRAMES:]).mean() > 1  # measured 5.9


def test_window_zero_is_the_one_window_extension(after):
    long = extend(CLIP, after=2 * NEW + 4, seed=0, window=NEW)  # windows of 8, 8 and 4 frames
    assert long.shape == (FRAMES + 2 * NEW + 4, HEIGHT, WIDTH, 3)
    assert np.array_equal(long[:FRAMES], CLIP)
    assert np.array_equal(long[: FRAMES + NEW], after)
    # the square goes on moving right through the windows. Measured: 21 at the clip's last frame,
    # 41 twenty frames later (with a jump back to 20 and on to 29 around the first window's end)
    xs, _ = square_track(long[FRAMES - 1 :])
    assert xs[-1] >= xs[0] + 10, xs


# ------------------------------------------------------------------- windows, with a stub solver


class StubSolver:
    """Stands in for the synthesis: new frames are filled with the call number, the kept ones are
    pasted by the problem's own finish; records each call's kept frames, new-frame count and seed."""

    def __init__(self):
        self.calls: list[tuple[np.ndarray, int, int]] = []

    def __call__(self, problem, seed):
        t, h, w = problem.output_shape
        new = problem.holes.fill[0][0, :, 0, 0].cpu().numpy() > 0.5
        out = np.zeros((t, h, w, 3), np.uint8)
        out[new] = len(self.calls) + 1
        out = problem.finish(out)
        self.calls.append((out[~new].copy(), int(new.sum()), seed))
        return out, list(range(t))


def test_extension_blocks_windows_contexts_and_seeds():
    stub = StubSolver()
    blocks = list(extension_blocks(CLIP, count=2 * NEW + 3, seed=11, window=NEW, context=6, solver=stub))
    assert [len(b.frames) for b in blocks] == [NEW, NEW, 3]  # the last one cut to the count
    assert [b.index for b in blocks] == [0, 1, 2]
    assert [b.seed for b in blocks] == [window_seed(11, k) for k in range(3)] == [s for *_, s in stub.calls]
    assert [n for _, n, _ in stub.calls] == [NEW, NEW, 3]
    made = CLIP
    for block, (kept, _, _) in zip(blocks, stub.calls):
        assert np.array_equal(kept, made[-6:])  # each window keeps the last `context` frames made
        assert np.all(block.frames == block.index + 1)  # and yields only its new frames
        made = np.concatenate((made, block.frames))


def test_extension_blocks_before_go_back_in_time():
    stub = StubSolver()
    blocks = list(extension_blocks(CLIP, direction="before", count=10, seed=5, window=6, solver=stub))
    assert [len(b.frames) for b in blocks] == [6, 4]
    assert [b.seed for b in blocks] == [window_seed(5, 0, "before"), window_seed(5, 1, "before")]
    assert np.array_equal(stub.calls[0][0], CLIP)  # context: the clip's length by default
    assert np.array_equal(stub.calls[1][0], np.concatenate((blocks[0].frames, CLIP))[:FRAMES])


def test_extension_blocks_default_window_and_endless_stream():
    stub = StubSolver()
    blocks = list(itertools.islice(extension_blocks(CLIP, solver=stub), 3))  # count None: no end
    assert [len(b.frames) for b in blocks] == [2 * FRAMES] * 3


def test_window_seed():
    assert window_seed(7, 0) == 7
    seeds = [window_seed(7, k) for k in range(1, 6)] + [window_seed(7, k, "before") for k in range(6)]
    assert len(set(seeds)) == len(seeds) and 7 not in seeds
    assert seeds == [window_seed(7, k) for k in range(1, 6)] + [window_seed(7, k, "before") for k in range(6)]
    assert window_seed(8, 1) != window_seed(7, 1)
    assert all(0 <= s < 2**63 for s in seeds)  # valid seeds for solve


def test_bounce_continues_the_kept_frames_back_and_forth():
    assert _bounce(4, 6) == [2, 1, 0, 1, 2, 3]
    assert _bounce(4, 6, backwards=True) == [0, 1, 2, 3, 2, 1]
    assert _bounce(1, 3) == [0, 0, 0] and _bounce(5, 0) == []
    for n, count in [(2, 5), (3, 9), (6, 4)]:
        forward = list(range(n)) + _bounce(n, count)
        backward = _bounce(n, count, backwards=True) + list(range(n))
        for sequence in (forward, backward):
            assert all(abs(a - b) == 1 for a, b in zip(sequence, sequence[1:])), sequence


def test_prepared_extension_keeps_the_input_pyramid_in_its_kept_part():
    problem = prepare_extension(CLIP, before=3, after=5)
    levels = problem.plan.levels
    assert levels.output[0] == (3 + FRAMES + 5, HEIGHT, WIDTH)
    for level, segments in enumerate(problem.layout.segments):
        t_in = levels.input[level][0]
        assert sum(segments) == levels.output[level][0]
        assert segments[1] == t_in  # the kept part: exactly the input level's frames
        b = segments[0]
        assert torch.equal(problem.holes.known[level][:, b : b + t_in], problem.values[level])
        fill = problem.holes.fill[level][0, :, 0, 0]
        assert fill[:b].eq(1).all() and fill[b : b + t_in].eq(0).all() and fill[b + t_in :].eq(1).all()
    assert problem.holes.key_hole is None  # every input patch is a source
    assert problem.holes.allowed_keys(0, problem.plan.patch) is None
    assert problem.layout.wrap == (False, False, False)


# --------------------------------------------------------------------------------------- endless


def test_endless_starts_with_a_generated_sample_and_continues_it():
    window = NEW
    blocks = list(itertools.islice(endless(CLIP, seed=4, window=window), 3))
    assert [b.index for b in blocks] == [0, 1, 2]
    assert [b.seed for b in blocks] == [4, window_seed(4, 1), window_seed(4, 2)]
    assert all(b.frames.shape == (window, HEIGHT, WIDTH, 3) for b in blocks)
    assert all(len(b.sources) == window for b in blocks)
    # block 0 is the plain sample of that seed at window / T of the length
    assert np.array_equal(blocks[0].frames, patchvid.generate(CLIP, seed=4, scale=(window / FRAMES, 1, 1)))
    # block 1 continues block 0: it is the extension of block 0's frames (the context: all made so far)
    again = solve(prepare_extension(CLIP, after=window, known=blocks[0].frames), window_seed(4, 1))
    assert np.array_equal(again[:window], blocks[0].frames)
    assert np.array_equal(again[window:], blocks[1].frames)
    # and the blocks join like frames inside a block (measured: within the blocks' own range)
    video = np.concatenate([b.frames for b in blocks])
    joins = steps(video)[[window - 1, 2 * window - 1]]
    assert np.all(joins <= 2 * steps(video).max()), (joins, steps(video))


# ------------------------------------------------------------------------------------ loops, tiles


LOOP_CLIP = orbit_clip(16, 12, height=HEIGHT, width=WIDTH, drift=1.0, seed=4)  # its own wrap jumps by 16


def test_loop_wraps_like_any_two_frames():
    """Measured (seeds 0-2): the loop's wrap 0.7-2.6 grey levels, its steps up to 4.0-4.6; a plain
    sample's wrap 17-18 (it keeps the input's brightness drift)."""
    loop = generate(LOOP_CLIP, seed=1, loop=True)
    plain = generate(LOOP_CLIP, seed=1)
    assert loop.shape == LOOP_CLIP.shape
    wrap = np.abs(loop[-1].astype(int) - loop[0]).mean()
    plain_wrap = np.abs(plain[-1].astype(int) - plain[0]).mean()
    assert wrap <= steps(loop).max(), (wrap, steps(loop))
    assert steps(loop).mean() > 0.5  # not a still picture, which would wrap trivially
    assert plain_wrap > 3 * steps(plain).max() and wrap < 0.3 * plain_wrap, (wrap, plain_wrap)


def test_retarget_loop_closes_the_loop():
    """Measured: at 16x32x56 the loop's wrap is 5.9 grey levels, its largest step 5.9 (median 4.9);
    a plain retarget's wrap is 18.2, as the input's. Changing the length does worse (at 14, 18, 20
    and 24 frames the wrap was 7.1-11.0, 1.02-1.2x the largest step), so only the width changes."""
    loop = retarget(LOOP_CLIP, (16, None, 56), loop=True)
    assert loop.shape == (16, HEIGHT, 56, 3)
    wrap = np.abs(loop[-1].astype(int) - loop[0]).mean()
    assert wrap <= 1.25 * steps(loop).max(), (wrap, steps(loop))
    assert wrap < 0.5 * np.abs(LOOP_CLIP[-1].astype(int) - LOOP_CLIP[0]).mean()


def test_extend_loop_keeps_the_clip_and_closes_the_loop():
    """Measured (seeds 0, 1; 6 new frames): the wrap is 8.3 and 4.7 grey levels, 1.19x and 0.85x the
    largest other step (the new frames must undo the clip's brightness drift); extended without
    the loop, the wrap is 18.1-18.5."""
    out = extend(LOOP_CLIP, after=6, loop=True, seed=0)
    assert out.shape == (16 + 6, HEIGHT, WIDTH, 3)
    assert np.array_equal(out[:16], LOOP_CLIP)
    wrap = np.abs(out[-1].astype(int) - out[0]).mean()
    assert wrap <= 1.5 * steps(out).max(), (wrap, steps(out))
    assert wrap < 0.6 * np.abs(LOOP_CLIP[-1].astype(int) - LOOP_CLIP[0]).mean()


def smooth_texture(height=40, width=64, seed=0) -> np.ndarray:
    """Blurred colour noise (not periodic: its last column is unrelated to its first)."""
    rng = np.random.default_rng(seed)
    x = ndi.gaussian_filter(rng.normal(0, 1, (height, width, 3)), (2.5, 2.5, 0))
    return np.clip(x / x.std() * 40 + (120, 110, 100), 0, 255).astype(np.uint8)


def column_steps(img: np.ndarray) -> np.ndarray:
    return np.abs(np.diff(img.astype(int), axis=1)).mean(axis=(0, 2))


def seam(img: np.ndarray, axis: int) -> float:
    return float(np.abs(np.take(img, -1, axis).astype(int) - np.take(img, 0, axis)).mean())


@pytest.mark.parametrize("seed", [0, 2])
def test_tile_x_joins_its_ends_like_neighbouring_columns(seed):
    """Measured (seeds 0-5): the tile's seam 5.0-8.6 grey levels, its neighbouring columns differ by
    3.9-13.2; the input's seam is 67 and a plain sample's 40-66."""
    img = smooth_texture()
    tile = generate(img, seed=seed, tile="x")
    plain = generate(img, seed=seed)
    assert tile.shape == img.shape
    assert seam(tile, 1) <= column_steps(tile).max(), (seam(tile, 1), column_steps(tile))
    assert seam(plain, 1) > 2 * column_steps(plain).max()
    assert seam(img, 1) > 3 * column_steps(img).max()
    rows = np.abs(np.diff(tile.astype(int), axis=0)).mean(axis=(1, 2))
    assert seam(tile, 0) > 2 * rows.max()  # only the width wraps


def test_wrap_axes_and_loop_settings():
    assert wrap_axes() == (False, False, False)
    assert wrap_axes(loop=True) == (True, False, False)
    assert wrap_axes(tile="x") == (False, False, True)
    assert wrap_axes(tile="y") == (False, True, False)
    assert wrap_axes(True, "xy") == (True, True, True)
    settings = patchvid.GenerateSettings()
    assert loop_settings(settings, 16).coarsest_frames == 16
    assert loop_settings(settings.replace(coarsest_frames=20), 16).coarsest_frames == 20


# -------------------------------------------------------------------------------------- bad input


def test_errors_are_input_errors():
    assert issubclass(InputError, PatchvidError)


@pytest.mark.parametrize("call, words", [
    (lambda: extend(CLIP[0], after=4), "image"),
    (lambda: extend(CLIP[:1], after=4), "2 frames"),
    (lambda: extend(CLIP), "nothing to add"),
    (lambda: extend(CLIP, after=0, before=0), "nothing to add"),
    (lambda: prepare_extension(CLIP, after=-1), "after"),
    (lambda: prepare_extension(CLIP, before=-2, after=3), "before"),
    (lambda: prepare_extension(CLIP, after=2.5), "after"),
    (lambda: prepare_extension(CLIP, after=4, known=CLIP[:, :16]), "kept frames"),
    (lambda: prepare_extension(CLIP, after=4, known=CLIP[0]), "known"),
    (lambda: list(extension_blocks(CLIP, direction="sideways", count=4)), "direction"),
    (lambda: list(extension_blocks(CLIP, count=4, window=0)), "window"),
    (lambda: next(endless(CLIP[:1])), "2 frames"),
    (lambda: next(endless(CLIP, window=0)), "window"),
    (lambda: wrap_axes(tile="z"), "tile"),
    (lambda: generate(CLIP, tile="z"), "tile"),
    (lambda: generate(CLIP[0], loop=True), "loop"),
    (lambda: generate(CLIP[:1], loop=True), "loop"),
], ids=["image", "one-frame", "nothing", "zero", "negative-after", "negative-before", "fraction",
        "known-size", "known-image", "direction", "window", "endless-one-frame", "endless-window",
        "tile-axes", "tile-generate", "loop-image", "loop-one-frame"])
def test_bad_requests_raise_input_errors(call, words):
    with pytest.raises(InputError, match=words):
        call()


@pytest.mark.parametrize("counts", [dict(after=-1), dict(before=-3), dict(before=3, after=-1)])
def test_extend_refuses_negative_counts(counts):
    with pytest.raises(InputError, match="after|before"):
        extend(CLIP, **counts)
