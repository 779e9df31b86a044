"""The exact nearest-patch search (branch and bound) against a float64 brute force."""

import numpy as np
import pytest
import torch

import patchvid
from patchvid.errors import PatchvidError
from patchvid.evaluation import metrics, nearest
from patchvid.frames import to_tensor
from patchvid.synthesis.patches import unfold

from ..conftest import make_clip, needs_shared_data
from .test_metrics import noisy


def brute_force(query: torch.Tensor, key: torch.Tensor, patch) -> torch.Tensor:
    """Every query row against every key patch, in float64: the reference answer."""
    rows = unfold(key, patch).double()
    return torch.cat([torch.cdist(q.double(), rows).min(1).values ** 2 for q in query.split(256)])


def assert_exact(query, key, patch, **kwargs):
    found = nearest.nearest_distances(query, key, patch, **kwargs)
    assert found.dtype == torch.float32 and found.shape == (query.shape[0],)
    brute = brute_force(query, key, patch)
    # the answer is recomputed as sum (q - k)^2 in float32: a relative rounding of about 1e-6 of |q - k|^2
    torch.testing.assert_close(found.double(), brute, rtol=1e-5, atol=1e-6)
    return found


def test_nearest_distances_are_exact_whatever_the_chunking():
    key = to_tensor(make_clip(7, 16, 18, seed=5))
    query = metrics.sample_patches(to_tensor(make_clip(5, 16, 18, seed=6)), (3, 5, 5), count=40)
    for max_bytes in (1, 10_000, 64 * 2**20):  # one frame of corners at a time ... all at once
        assert_exact(query, key, (3, 5, 5), max_bytes=max_bytes)


def test_branch_and_bound_equals_brute_force_on_random_clips():
    rng = np.random.default_rng(0)
    for shape, patch in (((6, 20, 26), (3, 7, 7)), ((4, 30, 40), (3, 5, 5)), ((1, 40, 50), (1, 7, 7))):
        key = to_tensor(rng.integers(0, 256, (*shape, 3), dtype=np.uint8))
        other = to_tensor(rng.integers(0, 256, (*shape, 3), dtype=np.uint8))
        # far from everything (another noise clip), and copies of the key's own patches (distance 0)
        query = torch.cat([metrics.sample_patches(other, patch, 200, seed=1),
                           metrics.sample_patches(key, patch, 100, seed=2)])
        found = assert_exact(query, key, patch, max_bytes=50_000)
        assert (found[200:] == 0).all()


def test_branch_and_bound_equals_brute_force_on_generated_footage():
    """Patches of a sample made by patchvid.generate (copied from the input, as a real sample's are,
    and blended where they meet) and of a noisy copy, against the input and the other way round."""
    clip = make_clip(6, 40, 56, seed=1)
    sample = patchvid.generate(clip, seed=0, iterations=2)
    for query_clip, key_clip in ((sample, clip), (clip, sample), (noisy(clip, 6), clip)):
        for scale in (1.0, 0.5):
            q, k = metrics._video(query_clip, scale), metrics._video(key_clip, scale)
            rows = metrics.sample_patches(q, (3, 7, 7), 400, seed=3)
            assert_exact(rows, k, (3, 7, 7))
            assert_exact(rows, k, (3, 7, 7), max_bytes=1)


@pytest.mark.realdata
def test_branch_and_bound_equals_brute_force_on_real_footage():
    from patchvid.media import read_video

    clip = read_video(needs_shared_data("videos", "ballet_640x360.mp4"), end="8f", max_size=96).frames
    sample = patchvid.generate(clip, seed=0, iterations=2)
    for query_clip, key_clip in ((sample, clip), (clip, sample)):
        rows = metrics.sample_patches(to_tensor(query_clip), (3, 7, 7), 500, seed=0)
        assert_exact(rows, to_tensor(key_clip), (3, 7, 7))


def test_branch_and_bound_with_ties_flat_regions_and_large_values():
    flat = np.zeros((5, 24, 30, 3), np.uint8)
    flat[:, :, 15:] = 200  # two uniform halves: almost every patch has thousands of exact twins
    flat[:, 10:14, 8:12] = 90
    key = to_tensor(flat)
    query = torch.cat([metrics.sample_patches(key, (3, 5, 5), 300, seed=0),
                       metrics.sample_patches(to_tensor(noisy(flat, 3)), (3, 5, 5), 300, seed=0)])
    found = assert_exact(query, key, (3, 5, 5))
    assert (found[:300] == 0).all()
    # a uniform key: every key patch is the same
    uniform = to_tensor(np.full((4, 12, 12, 3), 77, np.uint8))
    assert_exact(query[:50], uniform, (3, 5, 5))
    # values far outside [-1, 1] (the bounds' margins grow with them)
    big = to_tensor(make_clip(5, 20, 24, seed=4)) * 300
    rows = metrics.sample_patches(to_tensor(make_clip(5, 20, 24, seed=5)) * 300, (3, 5, 5), 200)
    assert_exact(rows, big, (3, 5, 5))


def test_branch_and_bound_on_tiny_clips():
    one = to_tensor(make_clip(3, 7, 7, seed=2))  # a key of exactly one patch
    query = metrics.sample_patches(to_tensor(make_clip(4, 9, 9, seed=3)), (3, 7, 7), 10)
    assert_exact(query, one, (3, 7, 7))
    assert_exact(query[:1], one, (3, 7, 7))
    image = to_tensor(make_clip(1, 9, 11, seed=4))  # a single image, 1-frame patches, 2 channels of 3
    assert_exact(metrics.sample_patches(image, (1, 3, 3), 20), image, (1, 3, 3))
    grey = to_tensor(make_clip(3, 8, 8, seed=5))[:1]  # one channel: 9 values a patch, fewer than the directions
    assert_exact(unfold(grey, (1, 3, 3)), grey, (1, 3, 3))
    empty = nearest.nearest_distances(query[:0], one, (3, 7, 7))
    assert empty.shape == (0,)


def test_branch_and_bound_never_worse_than_the_exhaustive_search():
    clip = make_clip(6, 32, 40, seed=7)
    rows = metrics.sample_patches(to_tensor(noisy(clip, 10)), (3, 7, 7), 300)
    new = nearest.nearest_distances(rows, to_tensor(clip), (3, 7, 7))
    old = nearest.exhaustive_nearest_distances(rows, to_tensor(clip), (3, 7, 7))
    # the same answers; where they differ, the exhaustive search's |q|^2 + |k|^2 - 2qk chose a farther patch
    assert (new <= old * (1 + 1e-5) + 1e-6).all()
    torch.testing.assert_close(new, old, rtol=1e-3, atol=1e-4)


def test_nearest_distances_refuses_rows_of_the_wrong_length():
    key = to_tensor(make_clip(4, 12, 12))
    with pytest.raises(PatchvidError, match=r"must be \(N, 225\) for 3 channels of \(3, 5, 5\), got \(3, 74\)"):
        nearest.nearest_distances(torch.zeros(3, 74), key, (3, 5, 5))


def test_a_key_index_answers_every_query_as_a_fresh_search():
    key = to_tensor(make_clip(6, 24, 30, seed=8))
    queries = [metrics.sample_patches(to_tensor(noisy(make_clip(6, 24, 30, seed=8), a)), (3, 5, 5), 150, seed=a)
               for a in (2, 20)]
    for max_bytes in (nearest.DEFAULT_BYTES, 20_000):  # kept whole, and prepared again chunk by chunk
        index = nearest.KeyIndex(key, (3, 5, 5), max_bytes)
        assert (index._kept is not None) == (max_bytes == nearest.DEFAULT_BYTES)
        for query in queries + queries[:1]:
            assert torch.equal(index.distances(query), nearest.nearest_distances(query, key, (3, 5, 5), max_bytes))
    with pytest.raises(PatchvidError, match="must be"):
        index.distances(torch.zeros(2, 9))


def test_coherence_with_a_cache_gives_the_same_estimates():
    clip = make_clip(6, 32, 40, seed=2)
    samples = [noisy(clip, 4), clip[::-1].copy(), noisy(clip, 12)]
    cache: dict = {}
    for sample in samples:
        for scale in (1.0, 0.5):
            assert metrics.coherence_estimate(sample, clip, scale=scale, cache=cache) == \
                metrics.coherence_estimate(sample, clip, scale=scale)
    assert sorted(s for s, _ in cache) == [0.5, 1.0]  # one prepared search per scale, shared by the samples
