import pytest
import torch

from patchvid.synthesis.patches import patch_grid, unfold
from patchvid.synthesis.search import ExactSearch, from_flat, to_flat


def brute_force(query, key, patch, alpha=None):
    q, k = unfold(query, patch).double(), unfold(key, patch).double()
    dist = ((q[:, None, :] - k[None, :, :]) ** 2).sum(-1)
    score = dist if alpha is None else dist / (alpha + dist.min(0).values)
    return score.argmin(1), dist, score


def assert_best(chosen, expected, score):
    """The chosen key is the brute-force one, or one whose score ties with it to float32 precision."""
    rows = torch.arange(len(expected))
    torch.testing.assert_close(score[rows, chosen], score[rows, expected], rtol=1e-5, atol=1e-6)
    assert (chosen == expected).double().mean() > 0.98


@pytest.mark.parametrize("shapes", [((3, 4, 9, 10), (3, 5, 8, 12)), ((1, 1, 12, 12), (1, 1, 9, 15))])
@pytest.mark.parametrize("max_bytes", [64, 4096, 2**30])
def test_exact_matches_brute_force(shapes, max_bytes):
    g = torch.Generator().manual_seed(1)
    query, key = torch.rand(shapes[0], generator=g), torch.rand(shapes[1], generator=g)
    patch = (min(3, shapes[0][1]), 3, 3)
    search = ExactSearch(max_bytes=max_bytes)
    match = search(query, key, patch)
    expected, dist, score = brute_force(query, key, patch)
    key_grid = patch_grid(key.shape[1:], patch)
    assert_best(to_flat(match.nnf, key_grid).reshape(-1), expected, score)
    torch.testing.assert_close(match.distance.reshape(-1).double(), dist.min(1).values, atol=1e-4, rtol=1e-5)


def test_memory_bound_is_respected():
    query, key = torch.rand(3, 4, 12, 12), torch.rand(3, 4, 12, 12)
    small = ExactSearch(max_bytes=10_000)
    small(query, key, (3, 5, 5))
    assert 0 < small.peak_block_bytes <= 10_000
    large = ExactSearch(max_bytes=2**30)
    large(query, key, (3, 5, 5))
    n = 2 * 8 * 8
    assert large.peak_block_bytes == n * n * 4  # one block for everything when it fits


def test_alpha_weighting_is_the_defined_score():
    g = torch.Generator().manual_seed(2)
    query, key = torch.rand(3, 3, 10, 10, generator=g), torch.rand(3, 3, 10, 10, generator=g)
    patch = (3, 3, 3)
    grid = patch_grid(key.shape[1:], patch)
    for alpha in (1e-3, 0.1, 10.0):
        match = ExactSearch(max_bytes=3000)(query, key, patch, alpha=alpha)
        expected, _, score = brute_force(query, key, patch, alpha)
        assert_best(to_flat(match.nnf, grid).reshape(-1), expected, score)


def test_alpha_spreads_matches_over_more_of_the_key():
    # every query is close to key patch 0 only; completeness weighting must send some elsewhere
    key = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(3))
    query = key[:, :, :3, :3].repeat(1, 1, 3, 3) + 0.01 * torch.rand(1, 1, 9, 9)
    patch = (1, 3, 3)
    plain = ExactSearch()(query, key, patch)
    weighted = ExactSearch()(query, key, patch, alpha=1e-3)
    used_plain = len(set(to_flat(plain.nnf, (1, 6, 6)).reshape(-1).tolist()))
    used_weighted = len(set(to_flat(weighted.nnf, (1, 6, 6)).reshape(-1).tolist()))
    assert used_weighted > used_plain
    assert weighted.distance.mean() >= plain.distance.mean()  # distance is unweighted


def test_flat_index_round_trip():
    grid = (4, 5, 6)
    index = torch.arange(4 * 5 * 6)
    assert torch.equal(to_flat(from_flat(index, grid), grid), index)
