"""Quality measures with known answers: an input against itself, added noise, copies, shifts, shuffles."""

import math

import numpy as np
import pytest
import torch

from patchvid.errors import PatchvidError
from patchvid.evaluation import metrics
from patchvid.evaluation.resources import ResourceMeter
from patchvid.frames import to_tensor
from patchvid.synthesis.patches import patch_grid, unfold

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


def test_swd_with_a_cache_gives_the_same_distances(clip):
    cache: dict = {}
    samples = [noisy(clip, 4), clip[::-1].copy(), noisy(clip, 12)[:, 2:, 3:]]  # the last one smaller
    for sample in samples:
        assert metrics.sliced_wasserstein(sample, clip, cache=cache) == metrics.sliced_wasserstein(sample, clip)
    assert sorted(key[1] for key in cache) == [0.25, 0.5, 1.0]  # the reference's projections per scale, shared


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


def test_stratified_probes_cover_the_clip_one_per_cell():
    grid = (11, 66, 122)
    probes = metrics.probe_corners(grid, 1024, seed=3)
    cells = metrics.strata(grid, 1024)
    assert probes.design == "stratified" and 0.97 * 1024 <= len(probes.corners) == math.prod(cells) <= 1024
    assert probes.weights.sum() == pytest.approx(1.0) and (probes.weights > 0).all()
    t, rest = np.divmod(probes.corners, grid[1] * grid[2])
    y, x = np.divmod(rest, grid[2])
    cell = [np.searchsorted((np.arange(n + 1) * g) // n, v, side="right") - 1
            for v, g, n in zip((t, y, x), grid, cells)]
    flat = (cell[0] * cells[1] + cell[1]) * cells[2] + cell[2]
    assert (np.sort(flat) == np.arange(len(flat))).all()  # exactly one probe in every cell
    again = metrics.probe_corners(grid, 1024, seed=3)
    assert (again.corners == probes.corners).all()
    assert (metrics.probe_corners(grid, 1024, seed=4).corners != probes.corners).any()
    # pairs of neighbouring cells pool into the variance (an odd last one joins the pair before)
    assert np.bincount(probes.groups).min() >= 2 and np.bincount(probes.groups).max() <= 3


def test_random_probes_are_the_old_sample_and_small_grids_are_probed_everywhere():
    video = to_tensor(make_clip(6, 20, 24))
    random = metrics.probe_corners(patch_grid(video.shape[1:], (3, 5, 5)), 100, seed=5, design="random")
    assert torch.equal(metrics.patches_at(video, (3, 5, 5), random.corners),
                       metrics.sample_patches(video, (3, 5, 5), 100, seed=5))
    every = metrics.probe_corners((2, 3, 4), 24)
    assert every.design == "all" and (every.corners == np.arange(24)).all()
    assert metrics.estimate(np.arange(24.0), every) == metrics.Estimate(11.5, 0.0, 24, "all")
    with pytest.raises(PatchvidError, match="unknown probe design"):
        metrics.probe_corners((2, 3, 4), 10, design="grid")
    with pytest.raises(PatchvidError, match="at least 1"):
        metrics.probe_corners((2, 3, 4), 0)


def field_of_values(shape=(11, 60, 90), seed=0) -> np.ndarray:
    """A smooth space-time field with sparse bright blobs and noise: the shape of a nearest-distance map."""
    rng = np.random.default_rng(seed)
    t, y, x = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    field = 2 + np.sin(x / 9) * np.cos(y / 7) + 0.1 * t
    for _ in range(12):
        ct, cy, cx = (rng.integers(0, n) for n in shape)
        field += 6 * np.exp(-((t - ct) ** 2 / 4 + (y - cy) ** 2 / 9 + (x - cx) ** 2 / 9))
    return field + rng.exponential(0.2, shape)


def test_stratified_estimates_are_unbiased_less_noisy_and_their_intervals_cover():
    field = field_of_values()
    truth = field.mean()
    runs = {}
    for design in ("random", "stratified"):
        estimates = [metrics.estimate(field.reshape(-1)[p.corners], p)
                     for p in (metrics.probe_corners(field.shape, 512, seed, design) for seed in range(300))]
        values = np.array([e.value for e in estimates])
        runs[design] = values.std()
        assert abs(values.mean() - truth) < 3 * values.std() / np.sqrt(len(values))  # unbiased
        covered = np.mean([abs(e.value - truth) <= e.ci for e in estimates])
        assert covered >= 0.93, (design, covered)  # a 95 % interval (conservative for stratified probes)
    assert runs["stratified"] < 0.7 * runs["random"], runs


def test_coherence_estimate_reports_its_interval(clip):
    sample = noisy(clip, 10)
    e = metrics.coherence_estimate(sample, clip, count=200, seed=1)
    assert e.design == "stratified" and 150 <= e.probes <= 200 and 0 < e.ci < e.value
    assert e.value == metrics.coherence(sample, clip, count=200, seed=1)
    c = metrics.completeness_estimate(sample, clip, count=200, seed=1)
    assert c.value == metrics.completeness(sample, clip, count=200, seed=1) and c.ci > 0
    whole = metrics.coherence_estimate(sample, clip, count=10**6)
    assert whole.design == "all" and whole.ci == 0 and whole.probes == 4 * 18 * 26
    old = metrics.coherence(sample, clip, count=200, seed=1, probes="random")
    assert abs(old - e.value) < 3 * e.ci


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
