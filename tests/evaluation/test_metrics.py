"""Quality measures with known answers: an input against itself, added noise, copies, shifts, shuffles."""

import numpy as np
import pytest
import torch

from patchvid.errors import PatchvidError
from patchvid.evaluation import metrics
from patchvid.evaluation.resources import ResourceMeter
from patchvid.frames import to_tensor
from patchvid.synthesis.patches import unfold

from ..conftest import make_clip


def noisy(clip: np.ndarray, amplitude: float, seed: int = 1) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0, amplitude, clip.shape)
    return np.clip(clip + noise, 0, 255).astype(np.uint8)


def tiles_shuffled(clip: np.ndarray, tile: int, seed: int = 0) -> np.ndarray:
    """The clip with its ``tile`` x ``tile`` squares put in a random order (every frame alike)."""
    _, h, w, _ = clip.shape
    ny, nx = h // tile, w // tile
    out = clip.copy()
    for i, j in enumerate(np.random.default_rng(seed).permutation(ny * nx)):
        (ty, tx), (sy, sx) = divmod(i, nx), divmod(int(j), nx)
        out[:, ty * tile : (ty + 1) * tile, tx * tile : (tx + 1) * tile] = clip[
            :, sy * tile : (sy + 1) * tile, sx * tile : (sx + 1) * tile
        ]
    return out


def test_the_input_against_itself_scores_zero(clip):
    for scale in (1.0, 0.5):
        assert metrics.coherence(clip, clip, scale=scale) < 1e-3
        assert metrics.completeness(clip, clip, scale=scale) < 1e-3
    assert metrics.sliced_wasserstein(clip, clip) == {1.0: 0.0, 0.5: 0.0, 0.25: 0.0}


def test_noise_raises_every_distance_with_its_amplitude(clip):
    amplitudes = (2, 8, 32)
    rows = []
    for a in amplitudes:
        sample = noisy(clip, a)
        swd = metrics.sliced_wasserstein(sample, clip, scales=(1.0, 0.5))
        rows.append((metrics.coherence(sample, clip), metrics.completeness(sample, clip),
                     metrics.coherence(sample, clip, scale=0.5), swd[1.0], swd[0.5]))
    rows = np.array(rows)
    assert (rows[0] > 0.1).all(), rows
    assert (np.diff(rows, axis=0) > 0).all(), rows
    # white noise of amplitude a moves each patch by about a: coherence is in grey levels
    assert 0.5 * amplitudes[1] < rows[1, 0] < 1.5 * amplitudes[1]


def test_a_crop_is_coherent_but_not_complete(clip):
    crop = clip[:, 4:20, 6:26]
    assert metrics.coherence(crop, clip) < 1e-3  # every patch of the crop is in the input...
    assert metrics.completeness(crop, clip) > 5  # ...but much of the input is not in the crop


def test_measures_are_deterministic_and_sample_patches_matches_unfold():
    clip = make_clip(6, 40, 48, seed=3)
    sample = noisy(clip, 10)
    assert metrics.coherence(sample, clip, count=300) == metrics.coherence(sample, clip, count=300)
    assert metrics.sliced_wasserstein(sample, clip, count=500) == metrics.sliced_wasserstein(sample, clip, count=500)
    video = to_tensor(clip)
    rows = metrics.sample_patches(video, (3, 5, 5), count=50, seed=4)
    every = unfold(video, (3, 5, 5))
    assert rows.shape == (50, every.shape[1])
    # the rows are the unfolded patches at 50 distinct corners, in corner order
    corners = np.sort(np.random.default_rng(4).choice(len(every), size=50, replace=False))
    assert torch.equal(rows, every[corners])


def test_nearest_distances_are_exact_whatever_the_chunking():
    key = to_tensor(make_clip(7, 16, 18, seed=5))
    query = metrics.sample_patches(to_tensor(make_clip(5, 16, 18, seed=6)), (3, 5, 5), count=40)
    brute = torch.cdist(query.double(), unfold(key, (3, 5, 5)).double()).min(1).values ** 2
    for max_bytes in (1, 10_000, 64 * 2**20):  # one frame of corners at a time ... all at once
        found = metrics.nearest_distances(query, key, (3, 5, 5), max_bytes=max_bytes)
        torch.testing.assert_close(found.double(), brute, rtol=1e-4, atol=1e-5)


def test_diversity_known_answers(clip):
    assert metrics.diversity([clip, clip, clip], clip) == 0.0
    other = noisy(clip, 20)
    grey = clip.astype(np.float64) @ metrics.LUMA
    expected = np.abs(other.astype(np.float64) @ metrics.LUMA - grey).mean() / 2 / grey.std()
    assert metrics.diversity([clip, other], clip) == pytest.approx(expected)
    # the input may differ in size from the samples
    assert metrics.diversity([clip, other], clip[:, :12]) > 0


@pytest.mark.parametrize(
    ("samples", "words"),
    [
        (lambda c: [c], "at least 2 samples, got 1"),
        (lambda c: [c, c[:, :20]], "equal size: sample 1 is 6 frames of 32x24, sample 2 is 6 frames of 32x20"),
    ],
)
def test_diversity_refuses_what_it_cannot_measure(clip, samples, words):
    with pytest.raises(PatchvidError, match=words):
        metrics.diversity(samples(clip), clip)


def test_diversity_of_a_uniform_input_is_refused(clip):
    with pytest.raises(PatchvidError, match="uniform input"):
        metrics.diversity([clip, clip], np.full_like(clip, 90))


def test_patch_measures_refuse_clips_too_small():
    with pytest.raises(PatchvidError, match="too small"):
        metrics.coherence(np.zeros((2, 2, 2, 3), np.uint8), make_clip())


def test_nnfdiv_low_for_copies_and_shifts_higher_for_rearrangements():
    clip = make_clip(4, 32, 40, seed=2)
    image = clip[:1]
    assert metrics.nnf_diversity(image, image) == 0.0  # identity field: constant
    shifted = metrics.nnf_diversity(clip[:, :, 5:], clip)  # a crop is a shift without wrap-around
    halves = metrics.nnf_diversity(np.concatenate([clip[:, :, 20:], clip[:, :, :20]], axis=2), clip)
    rearranged = metrics.nnf_diversity(tiles_shuffled(clip, 8), clip)
    # only the patches across the seam of the swapped halves match anywhere: a small clip has many
    assert shifted < 0.5, shifted
    assert rearranged > 3 * halves > 3 * shifted, (shifted, halves, rearranged)


def test_nnfdiv_shrinks_large_clips_to_bound_the_search():
    assert metrics.nnf_scale((8, 48, 64), (8, 48, 64), (3, 7, 7), 10**12) == 1.0
    scale = metrics.nnf_scale((8, 48, 64), (8, 48, 64), (3, 7, 7), 10**7)
    assert 0.3 < scale < 1.0


def test_frechet_distance_of_gaussians():
    assert metrics.frechet_distance(np.zeros(1), np.eye(1), np.ones(1), 4 * np.eye(1)) == pytest.approx(2.0)
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 4))
    cov = a.T @ a / 50
    assert metrics.frechet_distance(np.ones(4), cov, np.ones(4), cov) == pytest.approx(0.0, abs=1e-9)
    singular = np.diag([1.0, 0.0, 0.0, 2.0])  # small clips give singular covariances
    assert metrics.frechet_distance(np.zeros(4), singular, np.zeros(4), singular) == pytest.approx(0.0, abs=1e-9)


def test_resource_meter_sees_an_allocation():
    with ResourceMeter(interval=0.001) as use:
        block = np.ones(80 * 2**20 // 8)  # 80 MiB, touched
        block.sum()
        del block
    assert use.seconds > 0
    if use.start_rss_bytes is not None:  # /proc is there (Linux)
        assert use.peak_rss_bytes - use.start_rss_bytes > 60 * 2**20
