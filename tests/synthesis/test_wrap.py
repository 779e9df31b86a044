"""Periodic outputs: the wrapped fold and padding, the periodic resize, and the layout's resize of
parts in time apart (loops, tiles, extensions)."""

from __future__ import annotations

import functools
import itertools
import math

import pytest
import torch

from patchvid.errors import InputError
from patchvid.synthesis import patches
from patchvid.synthesis.backends import numba_available
from patchvid.synthesis.engine import Layout
from patchvid.synthesis.patches import fold_nnf, fold_nnf_wrapped, pad_wrapped, patch_grid, unfold
from patchvid.synthesis.resize import resize, resize_matrix

from ..conftest import smooth_video

WRAPS = [(True, False, False), (False, False, True), (True, False, True), (True, True, True)]


def random_field(value_shape, grid, patch, seed) -> torch.Tensor:
    """``(*grid, 3)``: a random valid corner of ``value_shape`` ``(T, H, W)`` for each output corner."""
    g = torch.Generator().manual_seed(seed)
    limits = patch_grid(value_shape, patch)
    return torch.stack([torch.randint(0, n, grid, generator=g) for n in limits], dim=-1)


def brute_force_periodic_vote(value, nnf, patch, vote, wrap, out_shape) -> torch.Tensor:
    """Every output voxel reduced over the values that all patches covering it (modulo the size along
    the wrapped axes) propose; the median is the lower one, as torch's and the kernel's."""
    c = value.shape[0]
    votes: dict[tuple[int, int, int], list[torch.Tensor]] = {}
    for corner in itertools.product(*(range(n) for n in nnf.shape[:3])):
        source = nnf[corner].tolist()
        for offset in itertools.product(*(range(p) for p in patch)):
            voxel = []
            for axis in range(3):
                i = corner[axis] + offset[axis]
                if wrap[axis]:
                    i %= out_shape[axis]
                voxel.append(i)
            s = [source[a] + offset[a] for a in range(3)]
            votes.setdefault(tuple(voxel), []).append(value[:, s[0], s[1], s[2]])
    out = torch.full((c, *out_shape), math.nan)
    for voxel, proposed in votes.items():
        stack = torch.stack(proposed)  # (n, C)
        if vote == "median":
            ordered = stack.sort(0).values
            out[(slice(None), *voxel)] = ordered[(len(proposed) - 1) // 2]
        else:
            out[(slice(None), *voxel)] = stack.mean(0)
    return out


@pytest.mark.parametrize("backend", ["auto", "torch", "numba"])
@pytest.mark.parametrize("wrap", WRAPS, ids=lambda w: "".join("THW"[i] for i in range(3) if w[i]))
@pytest.mark.parametrize("vote", ["median", "mean"])
def test_wrapped_fold_is_the_periodic_vote(monkeypatch, backend, wrap, vote):
    if backend == "numba" and not numba_available():
        pytest.skip("numba is not installed")
    if backend != "auto":  # fold_nnf_wrapped folds with the default back end: pin it to one
        monkeypatch.setattr(patches, "fold_nnf", functools.partial(fold_nnf, backend=backend))
    patch = (3, 3, 4)
    out_shape = (6, 5, 7)
    grid = tuple(n if w else n - p + 1 for n, p, w in zip(out_shape, patch, wrap))
    g = torch.Generator().manual_seed(1)
    # few distinct values, so medians often tie: the rule for an even count matters
    value = torch.randint(-3, 4, (2, 5, 6, 8), generator=g).float() / 3
    nnf = random_field(value.shape[1:], grid, patch, seed=2)
    out = fold_nnf_wrapped(value, nnf, patch, vote, wrap)
    expected = brute_force_periodic_vote(value, nnf, patch, vote, wrap, out_shape)
    assert out.shape == (2, *out_shape)
    assert not expected.isnan().any()  # every voxel got votes
    if vote == "median":
        assert torch.equal(out, expected)
    else:
        torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)


def test_wrapped_fold_differs_from_the_plain_fold_near_the_ends():
    # the patches spanning the wrap must vote at the start too: a plain fold of the same field would
    # not give the first samples those votes
    patch = (3, 1, 1)
    value = torch.arange(8.0).view(1, 8, 1, 1)
    nnf = torch.zeros(5, 1, 1, 3, dtype=torch.int64)
    nnf[:, 0, 0, 0] = torch.tensor([0, 1, 2, 3, 5])  # the last patch (samples 4, 0, 1) copies 5, 6, 7
    out = fold_nnf_wrapped(value, nnf, patch, "mean", (True, False, False)).flatten()
    # sample 0: patches 0 (offset 0: 0), 3 (offset 2: 5) and 4 (offset 1: 6)
    assert out[0].item() == pytest.approx((0 + 5 + 6) / 3)
    assert out[4].item() == pytest.approx((4 + 4 + 5) / 3)  # patches 2 (offset 2), 3 (offset 1), 4 (offset 0)
    plain = fold_nnf(value, nnf[:3], patch, "mean").flatten()  # the corners that do not span the wrap
    assert plain[0].item() == 0 and out[0].item() != plain[0].item()


def test_without_wrap_the_wrapped_fold_is_the_fold():
    patch = (3, 3, 3)
    value = smooth_video((6, 8, 9), seed=0)
    nnf = random_field(value.shape[1:], (3, 4, 5), patch, seed=3)
    assert torch.equal(fold_nnf_wrapped(value, nnf, patch, "median", (False, False, False)),
                       fold_nnf(value, nnf, patch, "median"))


@pytest.mark.parametrize("wrap", WRAPS, ids=lambda w: "".join("THW"[i] for i in range(3) if w[i]))
def test_padded_video_has_every_periodic_patch(wrap):
    patch = (3, 3, 5)
    video = smooth_video((5, 6, 9), seed=4)
    padded = pad_wrapped(video, patch, wrap)
    grid = patch_grid(padded.shape[1:], patch)
    for axis in range(3):
        n = video.shape[axis + 1]
        assert grid[axis] == (n if wrap[axis] else n - patch[axis] + 1)
    # the patch at the last corner is the wrapped patch: its samples taken modulo the size
    last = tuple(g - 1 for g in grid)
    index = [torch.tensor([(c + d) % video.shape[a + 1] for d in range(patch[a])]) for a, c in enumerate(last)]
    wrapped = video[:, index[0][:, None, None], index[1][None, :, None], index[2][None, None, :]]
    rows = unfold(padded, patch).reshape(*grid, -1)
    assert torch.equal(rows[last], wrapped.reshape(-1))
    # and the unwrapped part is the video itself
    assert torch.equal(padded[:, : video.shape[1], : video.shape[2], : video.shape[3]], video)


def test_pad_wrapped_leaves_one_sample_patches_alone():
    video = smooth_video((4, 5, 6), seed=5)
    assert torch.equal(pad_wrapped(video, (1, 1, 1), (True, True, True)), video)


# ---------------------------------------------------------------------------------- periodic resize


@pytest.mark.parametrize("sizes", [(8, 16), (16, 8), (12, 7), (5, 13), (30, 9), (9, 9)])
def test_periodic_resize_matrix_rows_sum_to_one(sizes):
    m = resize_matrix(*sizes, periodic=True)
    assert m.shape == (sizes[1], sizes[0])
    torch.testing.assert_close(m.sum(1), torch.ones(sizes[1], dtype=torch.float64), atol=1e-12, rtol=0)


@pytest.mark.parametrize("sizes, gain", [((12, 30), 0.2), ((16, 40), 0.2), ((8, 16), 0.5),
                                         ((24, 13), 0.9), ((30, 12), 0.9)])
def test_periodic_resize_of_a_periodic_signal_is_right_at_the_ends(sizes, gain):
    """Measured (2 periods): enlarging, the clamped resize is 4-30x worse at the ends than the
    periodic one; shrinking, where antialiasing dominates, 1.4-1.5x."""
    n_in, n_out = sizes
    periods = 2  # well below the Nyquist frequency of both sizes

    def sine(n):
        return torch.sin(2 * torch.pi * periods * (torch.arange(n, dtype=torch.float64) + 0.5) / n)

    truth = sine(n_out)
    periodic = (resize_matrix(n_in, n_out, periodic=True) @ sine(n_in) - truth).abs()
    clamped = (resize_matrix(n_in, n_out) @ sine(n_in) - truth).abs()
    ends = torch.cat((torch.arange(3), torch.arange(n_out - 3, n_out)))
    middle = periodic[3:-3].max()
    assert periodic[ends].max() <= 1.05 * middle  # the ends are no worse than the middle
    assert periodic[ends].max() < gain * clamped[ends].max()


@pytest.mark.parametrize("n_in, n_out, shift", [(8, 16, 1), (8, 16, 3), (12, 6, 2), (9, 27, 1)])
def test_periodic_resize_commutes_with_a_roll(n_in, n_out, shift):
    assert (shift * n_out) % n_in == 0
    g = torch.Generator().manual_seed(6)
    signal = torch.randn(n_in, dtype=torch.float64, generator=g)
    m = resize_matrix(n_in, n_out, periodic=True)
    rolled_after = (m @ signal).roll(shift * n_out // n_in)
    resized_rolled = m @ signal.roll(shift)
    torch.testing.assert_close(resized_rolled, rolled_after, atol=1e-12, rtol=0)
    # the clamped resize does not: its ends repeat the edge sample
    clamped = resize_matrix(n_in, n_out)
    assert not torch.allclose(clamped @ signal.roll(shift), (clamped @ signal).roll(shift * n_out // n_in))


def test_resize_wraps_only_the_axes_asked():
    video = smooth_video((8, 6, 10), seed=7)
    out = resize(video, (16, 12, 10), wrap=(True, False, False))
    # time: periodic, so a roll by one input frame is a roll by two output frames
    rolled = resize(video.roll(1, dims=1), (16, 12, 10), wrap=(True, False, False))
    torch.testing.assert_close(rolled, out.roll(2, dims=1), atol=1e-5, rtol=0)
    # height: clamped, the same as a plain resize there
    torch.testing.assert_close(out, resize(resize(video, (8, 12, 10)), (16, 12, 10), wrap=(True, False, False)),
                               atol=1e-5, rtol=0)
    plain = resize(video, (16, 12, 10))
    assert (out - plain)[:, [0, -1]].abs().max() > 1e-3  # the ends differ in time
    torch.testing.assert_close(out[:, 4:-4], plain[:, 4:-4], atol=1e-5, rtol=0)  # the middle does not


# ---------------------------------------------------------------------------------- layout segments


def two_part_video(first: int, second: int, h=6, w=7) -> torch.Tensor:
    return torch.cat((torch.full((3, first, h, w), -0.8), torch.full((3, second, h, w), 0.6)), dim=1)


@pytest.mark.parametrize("coarse, fine", [((3, 2), (7, 5)), ((2, 4), (3, 9)), ((4, 4), (4, 10))])
def test_layout_keeps_a_cut_between_parts_sharp(coarse, fine):
    query = two_part_video(*coarse)
    layout = Layout(segments=[fine, coarse])
    out = layout.upsample(query, 0, (sum(fine), 9, 11))
    assert out.shape == (3, sum(fine), 9, 11)
    # each part is still exactly its constant: nothing of the other side leaked across the cut
    assert torch.allclose(out[:, : fine[0]], torch.tensor(-0.8), atol=1e-6)
    assert torch.allclose(out[:, fine[0] :], torch.tensor(0.6), atol=1e-6)
    # whereas resizing it whole blends the two sides near the cut
    whole = resize(query, (sum(fine), 9, 11))
    assert (whole[:, fine[0] - 1 : fine[0] + 1] - out[:, fine[0] - 1 : fine[0] + 1]).abs().max() > 0.05


def test_layout_with_one_part_is_the_plain_resize():
    query = smooth_video((4, 5, 6), seed=8)
    for segments in (None, [(9,), (4,)]):
        assert torch.equal(Layout(segments=segments).upsample(query, 0, (9, 8, 11)), resize(query, (9, 8, 11)))


def test_layout_parts_wrap_in_space_not_in_time():
    query = smooth_video((6, 5, 8), seed=9)
    layout = Layout(segments=[(6, 4), (3, 3)], wrap=(False, False, True))
    out = layout.upsample(query, 0, (10, 5, 16))
    # the width is periodic: a roll by one input column is a roll by two output columns
    rolled = layout.upsample(query.roll(1, dims=3), 0, (10, 5, 16))
    torch.testing.assert_close(rolled, out.roll(2, dims=3), atol=1e-5, rtol=0)
    torch.testing.assert_close(out[:, :6], resize(query[:, :3], (6, 5, 16), wrap=(False, False, True)),
                               atol=1e-6, rtol=0)


@pytest.mark.parametrize("segments", [
    [(7, 5), (3, 2, 1)],  # a different number of parts
    [(7, 5), (3, 3)],  # the coarse parts do not sum to the query's frames
    [(7, 6), (3, 2)],  # the fine parts do not sum to the level's frames
])
def test_layout_refuses_mismatched_segments(segments):
    query = two_part_video(3, 2)
    with pytest.raises(InputError, match="segments"):
        Layout(segments=segments).upsample(query, 0, (12, 6, 7))
