"""Key-patch exclusion (``key_mask``) in both nearest-neighbour searches: matches land only on allowed
key patches, exhaustive search is the brute-force minimum over them, PatchMatch (both back ends) gets
near it, and no mask means exactly the old behaviour."""

from __future__ import annotations

import pytest
import torch

from patchvid.synthesis.backends import numba_available
from patchvid.synthesis.patches import patch_grid, unfold
from patchvid.synthesis.patchmatch import PatchMatch
from patchvid.synthesis.search import ExactSearch, to_flat

from ..conftest import grid_corners, make_clip, smooth_video

PATCH = (3, 5, 5)
NO_NUMBA = pytest.mark.skipif(not numba_available(), reason="numba missing")
# (backend, schedule) of every PatchMatch variant; the torch back end has jump flooding only
PM_KINDS = [
    pytest.param("numba", "scan", marks=NO_NUMBA, id="numba-scan"),
    pytest.param("numba", "jump", marks=NO_NUMBA, id="numba-jump"),
    pytest.param("torch", "jump", id="torch-jump"),
]
ALL_KINDS = [pytest.param("exact", None, id="exact"), *PM_KINDS]


def make_search(kind, schedule=None, passes=12):
    if kind == "exact":
        return ExactSearch(max_bytes=20_000)  # several blocks, so the column subset is blocked too
    return PatchMatch(passes=passes, schedule=schedule or "jump", random_candidates=3, backend=kind)


def clip_tensor(frames: int, height: int, width: int) -> torch.Tensor:
    """conftest's structured clip as a ``(3, T, H, W)`` float video in [0, 1]."""
    return torch.from_numpy(make_clip(frames, height, width)).permute(3, 0, 1, 2).float() / 255


def all_allowed(match, mask) -> bool:
    return bool(mask[tuple(match.nnf.reshape(-1, 3).T)].all())


def true_distances(query, key, match) -> torch.Tensor:
    q, k = unfold(query, PATCH), unfold(key, PATCH)
    flat = to_flat(match.nnf, patch_grid(key.shape[1:], PATCH)).reshape(-1)
    return ((q - k[flat]) ** 2).sum(1)


def brute_force(query, key, mask, alpha=None):
    """Scores ``(Nq, Nk)`` float64 with disallowed keys at +inf, and the best allowed key per query."""
    q, k = unfold(query, PATCH).double(), unfold(key, PATCH).double()
    dist = torch.cdist(q, k) ** 2
    score = dist if alpha is None else dist / (alpha + dist.min(0).values)
    score = score.masked_fill(~mask.reshape(1, -1), float("inf"))
    return score, score.argmin(1)


# ------------------------------------------------------------------------------ exhaustive search


@pytest.mark.parametrize("alpha", [None, 0.5])
@pytest.mark.parametrize("max_bytes", [256, 2**30])
def test_exact_search_is_the_brute_force_minimum_over_allowed_keys(alpha, max_bytes):
    g = torch.Generator().manual_seed(0)
    query, key = torch.rand(3, 4, 9, 10, generator=g), torch.rand(3, 5, 8, 12, generator=g)
    kg = patch_grid(key.shape[1:], PATCH)
    mask = torch.rand(kg, generator=g) < 0.4
    m = ExactSearch(max_bytes=max_bytes)(query, key, PATCH, alpha=alpha, key_mask=mask)
    assert all_allowed(m, mask)
    score, expected = brute_force(query, key, mask, alpha)
    chosen = to_flat(m.nnf, kg).reshape(-1)
    rows = torch.arange(len(expected))
    torch.testing.assert_close(score[rows, chosen], score[rows, expected], rtol=1e-5, atol=1e-6)
    assert (chosen == expected).double().mean() > 0.98
    torch.testing.assert_close(m.distance.reshape(-1), true_distances(query, key, m), rtol=1e-4, atol=1e-4)


def test_exact_search_gives_the_best_allowed_key_when_the_copy_is_masked():
    key = smooth_video((6, 24, 32), seed=0)  # every patch distinct: a copy is the only one
    query = key[:, 1:5, 2:20, 3:27]  # every query patch has an identical key patch, shifted by (1, 2, 3)
    kg = patch_grid(key.shape[1:], PATCH)
    mask = torch.ones(kg, dtype=torch.bool)
    mask[1:3, 4:14, 6:20] = False
    m = ExactSearch()(query, key, PATCH, key_mask=mask)
    assert all_allowed(m, mask)
    copy = grid_corners(patch_grid(query.shape[1:], PATCH)) + torch.tensor([1, 2, 3])
    copy_allowed = mask[tuple(copy.reshape(-1, 3).T)].reshape(copy.shape[:3])
    assert 0.2 < (~copy_allowed).float().mean() < 0.6
    # where the copy is allowed it is found, elsewhere the brute-force best allowed key is
    assert torch.equal(m.nnf[copy_allowed], copy[copy_allowed])
    assert m.distance[copy_allowed].max() < 1e-4 and m.distance[~copy_allowed].min() > 1e-3
    score, expected = brute_force(query, key, mask)
    rows = torch.arange(len(expected))
    chosen = to_flat(m.nnf, kg).reshape(-1)
    torch.testing.assert_close(score[rows, chosen], score[rows, expected], rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------------ PatchMatch


@pytest.mark.parametrize(("backend", "schedule"), PM_KINDS)
def test_patchmatch_near_exact_when_the_copy_is_masked(backend, schedule):
    key = clip_tensor(6, 24, 32)
    query = key[:, 1:5, 2:20, 3:27]
    mask = torch.ones(patch_grid(key.shape[1:], PATCH), dtype=torch.bool)
    mask[1:3, 4:14, 6:20] = False
    exact = ExactSearch()(query, key, PATCH, key_mask=mask)
    pm = make_search(backend, schedule)
    # measured 1.001-1.009 (random start) and 1.001-1.002 (from the unmasked answer, which points into
    # the masked box and must be moved out of it)
    for init in (None, ExactSearch()(query, key, PATCH).nnf):
        m = pm(query, key, PATCH, init=init, key_mask=mask, seed=0)
        assert all_allowed(m, mask)
        assert (m.distance.mean() / exact.distance.mean()).item() < 1.04
        torch.testing.assert_close(m.distance.reshape(-1), true_distances(query, key, m), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("backend", "schedule"), PM_KINDS)
def test_patchmatch_finds_the_only_allowed_copy(backend, schedule):
    # the key holds a video (all patches distinct) twice, side by side; a box is masked out of each copy
    # (not the same one), so every query patch has an allowed identical key patch, and where one copy
    # is masked the other one must be found
    clip = smooth_video((5, 20, 24), seed=2)
    key = torch.cat((clip, clip), dim=3)
    query = clip[:, 1:5, 2:18, 3:21]
    mask = torch.ones(patch_grid(key.shape[1:], PATCH), dtype=torch.bool)
    mask[:, 2:10, 4:14] = False
    mask[:, 10:16, 24 + 6 : 24 + 16] = False
    first = grid_corners(patch_grid(query.shape[1:], PATCH)) + torch.tensor([1, 2, 3])
    second = first + torch.tensor([0, 0, 24])
    first_ok = mask[tuple(first.reshape(-1, 3).T)].reshape(first.shape[:3])
    second_ok = mask[tuple(second.reshape(-1, 3).T)].reshape(first.shape[:3])
    assert (first_ok | second_ok).all() and (~first_ok).sum() > 50 and (~second_ok).sum() > 50
    m = make_search(backend, schedule, passes=10)(query, key, PATCH, key_mask=mask, seed=0)
    assert torch.equal(m.nnf[~first_ok], second[~first_ok])
    assert torch.equal(m.nnf[~second_ok], first[~second_ok])
    assert ((m.nnf == first).all(-1) | (m.nnf == second).all(-1)).all()
    assert m.distance.max() < 1e-4


@pytest.mark.parametrize(("backend", "schedule"), PM_KINDS)
def test_patchmatch_completeness_weighting_with_a_mask(backend, schedule):
    # test_patchmatch's completeness set-up (a query that overuses half the key), with a hole in the key
    key = smooth_video((4, 20, 28), seed=15)
    query = torch.cat((key[:, :, :, :14], key[:, :, :, :14]), dim=3)
    kg = patch_grid(key.shape[1:], PATCH)
    alpha = 0.5
    mask = torch.ones(kg, dtype=torch.bool)
    mask[:, 4:12, 2:8] = False
    score, _ = brute_force(query, key, mask, alpha)
    rows = torch.arange(score.shape[0])

    def mean_score(match):
        return score[rows, to_flat(match.nnf, kg).reshape(-1)].mean().item()

    exact = ExactSearch()(query, key, PATCH, alpha=alpha, key_mask=mask)
    plain = ExactSearch()(query, key, PATCH, key_mask=mask)
    m = make_search(backend, schedule, passes=8)(query, key, PATCH, alpha=alpha, key_mask=mask, seed=0)
    assert all_allowed(m, mask)
    # measured 1.010-1.027 (without the mask the same search gets 1.005-1.018)
    assert mean_score(m) < 1.05 * mean_score(exact)
    assert mean_score(m) < 0.6 * mean_score(plain)
    torch.testing.assert_close(m.distance.reshape(-1), true_distances(query, key, m), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("backend", "schedule"), PM_KINDS)
def test_patchmatch_with_a_sparse_mask(backend, schedule):
    """With few allowed keys, most candidates are rejected; the field must still end on allowed keys,
    with true distances, and improve on its start."""
    key, query = smooth_video((5, 20, 24), seed=3), smooth_video((5, 18, 22), seed=4)
    mask = torch.rand(patch_grid(key.shape[1:], PATCH), generator=torch.Generator().manual_seed(5)) < 0.03
    start = PatchMatch(passes=0, backend=backend)(query, key, PATCH, key_mask=mask, seed=0)
    assert all_allowed(start, mask)
    for alpha in (None, 0.5):
        m = make_search(backend, schedule, passes=4)(query, key, PATCH, alpha=alpha, key_mask=mask, seed=0)
        assert all_allowed(m, mask)
        torch.testing.assert_close(m.distance.reshape(-1), true_distances(query, key, m), rtol=1e-4, atol=1e-4)
        if alpha is None:
            assert m.distance.mean() < 0.9 * start.distance.mean()  # measured 0.71-0.77


# ------------------------------------------------------------------------------------ both searches


@pytest.mark.parametrize("alpha", [None, 0.5])
@pytest.mark.parametrize(("kind", "schedule"), ALL_KINDS)
def test_a_single_allowed_key_takes_every_query(kind, schedule, alpha):
    key, query = smooth_video((4, 12, 14), seed=6), smooth_video((4, 10, 16), seed=7)
    mask = torch.zeros(patch_grid(key.shape[1:], PATCH), dtype=torch.bool)
    mask[1, 3, 5] = True
    m = make_search(kind, schedule, passes=2)(query, key, PATCH, alpha=alpha, key_mask=mask, seed=1)
    assert torch.equal(m.nnf, torch.tensor([1, 3, 5]).expand_as(m.nnf))
    torch.testing.assert_close(m.distance.reshape(-1), true_distances(query, key, m), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(("backend", "schedule"), PM_KINDS)
def test_masked_patchmatch_is_deterministic_given_seed(backend, schedule):
    key, query = smooth_video((5, 20, 24), seed=7), smooth_video((5, 18, 26), seed=8)
    mask = torch.rand(patch_grid(key.shape[1:], PATCH), generator=torch.Generator().manual_seed(9)) < 0.5
    pm = make_search(backend, schedule, passes=3)
    a, b = (pm(query, key, PATCH, alpha=0.5, key_mask=mask, seed=11) for _ in range(2))
    c = pm(query, key, PATCH, alpha=0.5, key_mask=mask, seed=12)
    assert torch.equal(a.nnf, b.nnf) and torch.equal(a.distance, b.distance)
    assert not torch.equal(a.nnf, c.nnf)


@pytest.mark.parametrize("kind", ["exact", pytest.param("numba", marks=NO_NUMBA), "torch"])
def test_bad_masks_are_refused(kind):
    key, query = smooth_video((4, 10, 12), seed=1), smooth_video((4, 10, 12), seed=2)
    kg = patch_grid(key.shape[1:], PATCH)
    search = make_search(kind, passes=1)
    with pytest.raises(ValueError, match="key_mask has shape"):
        search(query, key, PATCH, key_mask=torch.ones(kg[0], kg[1], kg[2] + 1, dtype=torch.bool))
    with pytest.raises(ValueError, match="key_mask has shape"):
        search(query, key, PATCH, key_mask=torch.ones(kg, dtype=torch.bool).reshape(-1))
    with pytest.raises(ValueError, match="allows no key patch"):
        search(query, key, PATCH, key_mask=torch.zeros(kg, dtype=torch.bool))
    with pytest.raises(ValueError, match="dtype torch.bool"):
        search(query, key, PATCH, key_mask=torch.ones(kg))


@pytest.mark.parametrize("alpha", [None, 0.5])
@pytest.mark.parametrize(("kind", "schedule"), ALL_KINDS)
def test_no_mask_is_the_old_behaviour(kind, schedule, alpha):
    key, query = smooth_video((5, 16, 20), seed=9), smooth_video((5, 14, 18), seed=10)
    search = make_search(kind, schedule, passes=3)
    before = search(query, key, PATCH, alpha=alpha, seed=4)
    after = search(query, key, PATCH, alpha=alpha, seed=4, key_mask=None)
    assert torch.equal(before.nnf, after.nnf) and torch.equal(before.distance, after.distance)
