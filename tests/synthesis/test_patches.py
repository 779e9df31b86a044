import math

import pytest
import torch

from patchvid.synthesis.backends import numba_available
from patchvid.synthesis.patches import fold, fold_nnf, gaussian_weights, patch_grid, patch_spread, unfold


def video(c=3, t=5, h=11, w=13, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (c, t, h, w), generator=g).float() / 127.5 - 1


def identity_nnf(grid):
    return torch.stack(torch.meshgrid(*[torch.arange(n) for n in grid], indexing="ij"), -1)


def test_unfold_layout():
    v = video()
    rows = unfold(v, (3, 5, 5))
    assert rows.shape == (3 * 7 * 9, 3 * 3 * 5 * 5)
    # row of corner (t=1, y=2, x=3), element (channel 2, dt 1, dy 4, dx 0)
    row = (1 * 7 + 2) * 9 + 3
    col = ((2 * 3 + 1) * 5 + 4) * 5 + 0
    assert rows[row, col] == v[2, 2, 6, 3]


def assert_backends_agree(v, nnf, patch, vote) -> None:
    """The compiled fold gives the torch fold's result: the median exactly, the mean to rounding."""
    compiled = fold_nnf(v, nnf, patch, vote, backend="numba")
    reference = fold_nnf(v, nnf, patch, vote, backend="torch")
    if vote == "median":
        assert torch.equal(compiled, reference)
    else:
        torch.testing.assert_close(compiled, reference, atol=1e-6, rtol=0)


@pytest.mark.parametrize("vote", ["median", "mean", "gaussian"])
@pytest.mark.parametrize("patch", [(3, 5, 5), (1, 3, 3), (2, 1, 4)])
@pytest.mark.parametrize("max_bytes", [1, 10_000, 2**30])  # one frame per chunk ... all at once
def test_fold_of_unfold_returns_the_video(vote, patch, max_bytes):
    v = video()
    out = fold(unfold(v, patch), tuple(v.shape), patch, vote, max_bytes=max_bytes)
    if vote == "median":
        assert torch.equal(out, v)
    else:
        torch.testing.assert_close(out, v, atol=1e-6, rtol=0)


@pytest.mark.parametrize("vote", ["median", "mean", "gaussian"])
def test_fold_nnf_identity_returns_the_value(vote):
    v = video()
    patch = (3, 5, 5)
    out = fold_nnf(v, identity_nnf(patch_grid(v.shape[1:], patch)), patch, vote, max_bytes=5000)
    torch.testing.assert_close(out, v, atol=1e-6, rtol=0)


def test_fold_nnf_copies_a_shifted_region():
    v = video(t=6, h=14, w=16)
    patch = (3, 3, 3)
    nnf = identity_nnf((2, 5, 6))
    nnf[..., 1] += 2  # every patch comes from 2 rows lower
    nnf[..., 0] += 1  # and one frame later
    out = fold_nnf(v, nnf, patch)
    assert out.shape == (3, 4, 7, 8)
    assert torch.equal(out, v[:, 1:5, 2:9, 0:8])


def test_median_rejects_an_outlier_patch_the_mean_does_not():
    patch = (1, 3, 3)
    v = torch.zeros(1, 1, 5, 5)
    patches = unfold(v, patch)
    patches[4] = 10.0  # one wild patch among nine covering the centre
    median = fold(patches, (1, 1, 5, 5), patch, "median")
    mean = fold(patches, (1, 1, 5, 5), patch, "mean")
    assert median[0, 0, 2, 2] == 0
    assert mean[0, 0, 2, 2] == pytest.approx(10 / 9)


def test_gaussian_weights_peak_at_centre():
    w = gaussian_weights((3, 7, 7))
    assert w.shape == (3, 7, 7)
    assert w.argmax() == w.numel() // 2


@pytest.mark.parametrize("vote", ["median", "mean", "gaussian"])
def test_compiled_fold_agrees_with_the_torch_fold(vote):
    if not numba_available():
        pytest.skip("numba not installed: only the torch fold exists")
    v = video(t=6, h=15, w=17, seed=4)
    patch = (3, 5, 5)
    grid = patch_grid(v.shape[1:], patch)
    g = torch.Generator().manual_seed(5)
    nnf = torch.stack([torch.randint(0, n, grid, generator=g) for n in grid], -1)  # incoherent: many votes differ
    assert_backends_agree(v, nnf, patch, vote)


@pytest.mark.parametrize("vote", ["median", "mean"])
@pytest.mark.parametrize("patch", [(3, 5, 5), (1, 7, 7), (2, 1, 4), (3, 3, 1)])
def test_compiled_fold_agrees_on_piecewise_coherent_fields(vote, patch):
    """Real fields are made of shifted copies (few distinct votes per voxel, counted by the compiled
    median) with incoherent spots (many distinct votes, selected among): both must give the torch
    fold's median exactly."""
    if not numba_available():
        pytest.skip("numba not installed: only the torch fold exists")
    v = video(t=7, h=19, w=23, seed=6)
    grid = patch_grid(v.shape[1:], patch)
    g = torch.Generator().manual_seed(7)
    nnf = identity_nnf(grid)
    for _ in range(6):  # rectangles moved by one random shift each
        lo = [int(torch.randint(0, n, (1,), generator=g)) for n in grid]
        hi = [min(n, a + int(torch.randint(1, n + 1, (1,), generator=g))) for a, n in zip(lo, grid)]
        shift = torch.tensor([int(torch.randint(-n + 1, n, (1,), generator=g)) for n in grid])
        region = nnf[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        region += shift
    noise = torch.rand(grid, generator=g) < 0.1  # isolated random matches
    random = torch.stack([torch.randint(0, n, grid, generator=g) for n in grid], -1)
    nnf = torch.where(noise[..., None], random, nnf)
    nnf = torch.minimum(nnf.clamp(min=0), torch.tensor(grid) - 1)
    assert_backends_agree(v, nnf, patch, vote)


def test_patch_spread_is_the_distance_to_the_nearest_disjoint_patch():
    # stripes of period 4: the patch 4 columns on is the same and does not overlap
    stripes = (torch.arange(40) % 4).float().expand(1, 1, 4, 40).contiguous()
    assert patch_spread(stripes, (1, 4, 4)) == 0.0
    # a ramp: shifted copies one voxel away are close, but they overlap and do not count
    ramp = torch.arange(40.0).expand(1, 1, 4, 40).contiguous()  # one patch high: no copies above or below
    d = patch_spread(ramp, (1, 4, 4))
    assert d == pytest.approx(4 * 4, rel=1e-5)  # the nearest disjoint patch is 4 columns away: 4 per value, 16 values
    assert patch_spread(2 * ramp, (1, 4, 4)) == pytest.approx(2 * d, rel=1e-5)


def test_patch_spread_of_a_level_where_every_patch_overlaps():
    video = torch.rand(3, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    assert 0 < patch_spread(video, (3, 7, 7)) < math.inf  # 4 patches, all overlapping: the nearest other
    assert patch_spread(video[:, :, :7, :7], (3, 7, 7)) == 0.0  # one patch
