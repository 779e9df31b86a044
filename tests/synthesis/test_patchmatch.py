"""PatchMatch search: exactness on shifted copies, quality against exhaustive search, completeness
weighting, determinism, images and mismatched shapes, both back ends, and nnf upsampling."""

from __future__ import annotations

import pytest
import torch

from patchvid.synthesis.backends import numba_available
from patchvid.synthesis.patches import patch_grid, unfold
from patchvid.synthesis.patchmatch import PatchMatch, upsample_nnf
from patchvid.synthesis.resize import resize
from patchvid.synthesis.search import ExactSearch

from ..conftest import grid_corners, smooth_video

BACKENDS = ["torch", pytest.param("numba", marks=pytest.mark.skipif(not numba_available(), reason="numba missing"))]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("schedule", ["scan", "jump"])
def test_shifted_copy_is_found_exactly(backend, schedule):
    key = smooth_video((7, 22, 30), seed=0)
    shift = (1, 2, 3)
    query = key[:, 1:6, 2:20, 3:27]  # a crop: every query patch has an identical key patch
    patch = (3, 5, 5)
    m = PatchMatch(passes=10, schedule=schedule, backend=backend)(query, key, patch, seed=1)
    expected = grid_corners(patch_grid(query.shape[1:], patch)) + torch.tensor(shift)
    assert m.nnf.dtype == torch.int64 and m.distance.dtype == torch.float32
    assert torch.equal(m.nnf, expected)
    assert m.distance.abs().max() < 1e-4


@pytest.mark.parametrize("backend", BACKENDS)
def test_quality_close_to_exact_search(backend):
    key, query = smooth_video((6, 24, 32), seed=0), smooth_video((5, 20, 28), seed=1)
    patch = (3, 5, 5)
    exact = ExactSearch()(query, key, patch)
    approx = PatchMatch(passes=12, random_candidates=3, backend=backend)(query, key, patch, seed=2)
    ratio = (approx.distance.mean() / exact.distance.mean()).item()
    assert 1.0 - 1e-4 <= ratio < 1.06
    # reported distances are the true distances of the reported matches
    q, k = unfold(query, patch), unfold(key, patch)
    kg = patch_grid(key.shape[1:], patch)
    flat = (approx.nnf[..., 0] * kg[1] + approx.nnf[..., 1]) * kg[2] + approx.nnf[..., 2]
    true = ((q - k[flat.reshape(-1)]) ** 2).sum(1)
    torch.testing.assert_close(approx.distance.reshape(-1), true, rtol=1e-4, atol=1e-4)


def test_starts_from_init_and_never_gets_worse():
    key, query = smooth_video((6, 24, 32), seed=3), smooth_video((5, 20, 28), seed=4)
    patch = (3, 5, 5)
    exact = ExactSearch()(query, key, patch)
    # starting at the answer, no pass may move away from it (ties aside, distances cannot grow)
    m = PatchMatch(passes=2)(query, key, patch, init=exact.nnf, seed=0)
    assert torch.all(m.distance <= exact.distance + 1e-4)
    # a start outside the key grid is clamped into it
    wild = exact.nnf + 1000
    m = PatchMatch(passes=0)(query, key, patch, init=wild)
    kg = torch.tensor(patch_grid(key.shape[1:], patch))
    assert torch.equal(m.nnf, (kg - 1).expand_as(m.nnf))
    with pytest.raises(ValueError, match="init has shape"):
        PatchMatch()(query, key, patch, init=exact.nnf[:-1])


@pytest.mark.parametrize("backend", BACKENDS)
def test_images_and_different_shapes(backend):
    key = smooth_video((1, 32, 40), seed=5)
    query = smooth_video((1, 26, 47), seed=6)  # wider than the key, shorter
    patch = (1, 5, 5)
    exact = ExactSearch()(query, key, patch)
    m = PatchMatch(passes=16, random_candidates=3, backend=backend)(query, key, patch, seed=0)
    assert m.nnf.shape == (1, 22, 43, 3)
    assert torch.all(m.nnf[..., 0] == 0)
    assert torch.all(m.nnf.amin((0, 1, 2)) >= 0)
    assert torch.all(m.nnf.amax((0, 1, 2)) < torch.tensor(patch_grid(key.shape[1:], patch)))
    assert (m.distance.mean() / exact.distance.mean()).item() < 1.06


@pytest.mark.parametrize("backend", BACKENDS)
def test_deterministic_given_seed(backend):
    key, query = smooth_video((5, 20, 24), seed=7), smooth_video((5, 18, 26), seed=8)
    pm = PatchMatch(passes=3, backend=backend)
    a, b = pm(query, key, (3, 5, 5), seed=11), pm(query, key, (3, 5, 5), seed=11)
    c = pm(query, key, (3, 5, 5), seed=12)
    assert torch.equal(a.nnf, b.nnf) and torch.equal(a.distance, b.distance)
    assert not torch.equal(a.nnf, c.nnf)


@pytest.mark.skipif(not numba_available(), reason="numba missing")
def test_torch_and_numba_paths_agree_in_quality():
    key, query = smooth_video((6, 24, 32), seed=9), smooth_video((5, 20, 28), seed=10)
    patch = (3, 5, 5)
    pm = {b: PatchMatch(passes=8, schedule="jump", random_candidates=3, backend=b) for b in ("numba", "torch")}
    d = {b: pm[b](query, key, patch, seed=0).distance.mean().item() for b in pm}
    assert abs(d["numba"] - d["torch"]) / d["numba"] < 0.03
    # same start, propagation only: the two implementations of jump flooding give the same field
    exact = ExactSearch()(query, key, patch)
    start = exact.nnf.roll(1, 2)  # a damaged but coherent field
    rerun = {b: PatchMatch(passes=4, schedule="jump", random_candidates=0, backend=b) for b in pm}
    out = {b: rerun[b](query, key, patch, init=start) for b in pm}
    assert (out["numba"].nnf == out["torch"].nnf).all(-1).float().mean() > 0.999


@pytest.mark.parametrize("features", [0, 6])
def test_lower_bound_pruning_does_not_change_the_result(features):
    key, query = smooth_video((5, 20, 24), seed=13), smooth_video((5, 18, 22), seed=14)
    base = PatchMatch(passes=4, features=0)(query, key, (3, 5, 5), seed=1)
    pruned = PatchMatch(passes=4, features=features)(query, key, (3, 5, 5), seed=1)
    assert (base.nnf == pruned.nnf).all(-1).float().mean() > 0.999


def _exact_scores(query, key, patch, nnf, alpha):
    """Completeness-weighted score of each match, with the exact per-key minimum distance."""
    q, k = unfold(query, patch), unfold(key, patch)
    d = torch.cdist(q.double(), k.double()) ** 2
    nearest = d.min(0).values
    kg = patch_grid(key.shape[1:], patch)
    flat = ((nnf[..., 0] * kg[1] + nnf[..., 1]) * kg[2] + nnf[..., 2]).reshape(-1)
    return d[torch.arange(q.shape[0]), flat] / (alpha + nearest[flat]), flat


@pytest.mark.parametrize("backend", BACKENDS)
def test_completeness_weighting_behaves_like_exact_search(backend):
    # a query that overuses one part of the key: its second half repeats its first half
    key = smooth_video((4, 20, 28), seed=15)
    query = torch.cat((key[:, :, :, :14], key[:, :, :, :14]), dim=3)
    patch, alpha = (3, 5, 5), 0.5
    exact_plain, exact_alpha = ExactSearch()(query, key, patch), ExactSearch()(query, key, patch, alpha=alpha)
    pm = PatchMatch(passes=10, random_candidates=3, backend=backend)
    plain, weighted = pm(query, key, patch, seed=0), pm(query, key, patch, alpha=alpha, seed=0)

    def used(m):
        return _exact_scores(query, key, patch, m.nnf, alpha)[1].unique().numel()

    # the weight makes both searches use more of the key (measured: exact 383 -> 414 keys, PatchMatch
    # 385 -> 418) ...
    gain_exact = used(exact_alpha) - used(exact_plain)
    assert gain_exact > 10
    assert used(weighted) - used(plain) > 0.5 * gain_exact
    # ... at the cost of higher plain distances, by as much as exhaustive search pays (+26 %) ...
    rise_exact = exact_alpha.distance.mean() / exact_plain.distance.mean()
    rise_pm = weighted.distance.mean() / plain.distance.mean()
    assert rise_exact > 1.1 and abs(rise_pm - rise_exact) < 0.1
    # ... and the weighted search scores (with exact weights) nearly as well as exhaustive weighted search
    s_exact = _exact_scores(query, key, patch, exact_alpha.nnf, alpha)[0].mean()
    s_pm = _exact_scores(query, key, patch, weighted.nnf, alpha)[0].mean()
    s_plain = _exact_scores(query, key, patch, plain.nnf, alpha)[0].mean()
    assert s_pm < s_exact * 1.05
    assert s_pm < 0.6 * s_plain


def test_upsample_nnf_keeps_a_coherent_field_coherent():
    coarse_grid, fine_grid = (3, 8, 10), (3, 16, 20)
    shift = torch.tensor([0, 1, 2])
    coarse = grid_corners(coarse_grid) + shift
    coarse = torch.minimum(coarse, torch.tensor(coarse_grid) - 1)
    fine = upsample_nnf(coarse, coarse_grid, fine_grid, fine_grid)
    expected = grid_corners(fine_grid) + torch.tensor([0, 2, 4])
    inside = (expected < torch.tensor(fine_grid)).all(-1) & (grid_corners(fine_grid)[..., 1:] < 12).all(-1)
    assert fine.shape == (*fine_grid, 3) and fine.dtype == torch.int64
    assert torch.equal(fine[inside], expected[inside])
    assert inside.float().mean() > 0.4


def test_upsample_nnf_identity_and_bounds():
    patch = (3, 7, 7)
    grid = patch_grid((8, 36, 64), patch)
    ident = grid_corners(grid)
    assert torch.equal(upsample_nnf(ident, grid, grid, grid, patch), ident)
    # to a finer level whose key differs in shape from the query (retargeting), with another patch size
    fine_q, fine_k = patch_grid((9, 42, 60), (3, 5, 5)), patch_grid((9, 42, 75), (3, 5, 5))
    out = upsample_nnf(ident, grid, fine_q, fine_k, (3, 5, 5), coarse_patch=patch)
    assert out.shape == (*fine_q, 3)
    assert torch.all(out >= 0) and torch.all(out < torch.tensor(fine_k))
    # the identity maps to the same relative place: key x grows with query x, centres line up
    centre_q = out[4, 20, :, 2].float()
    assert torch.all(centre_q.diff() >= 0)
    assert abs(out[4, 20, 28, 2].item() - 28 * 75 / 60) <= 2


def test_upsample_nnf_then_search_is_cheap_and_good():
    """A coarse level's field, upsampled, is a start from which a couple of passes reach exact quality."""
    key = smooth_video((5, 32, 40), seed=16)
    query = key[:, :, 4:28, 6:38]
    patch = (3, 5, 5)
    coarse_k, coarse_q = resize(key, (5, 16, 20)), resize(query, (5, 12, 16))
    coarse = ExactSearch()(coarse_q, coarse_k, patch)
    start = upsample_nnf(
        coarse.nnf,
        patch_grid(coarse_k.shape[1:], patch),
        patch_grid(query.shape[1:], patch),
        patch_grid(key.shape[1:], patch),
        patch,
    )
    assert (start == grid_corners(start.shape[:3]) + torch.tensor([0, 4, 6])).all(-1).float().mean() > 0.5
    m = PatchMatch(passes=3)(query, key, patch, init=start)
    assert m.distance.max() < 1e-4  # the crop is found everywhere
