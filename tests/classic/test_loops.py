"""Video Textures and loops on generated clips with known answers."""

import numpy as np
import pytest

from patchvid.classic import loops as L

from ..conftest import orbit_clip


def with_dead_end(clip: np.ndarray, tail: int) -> np.ndarray:
    """The clip with its last ``tail`` frames replaced by frames unlike any other (fading to white)."""
    out = clip.copy()
    n = len(out)
    for k in range(tail):
        out[n - tail + k] = np.clip(out[n - tail + k] * 0.3 + 60 + 20 * k, 0, 255).astype(np.uint8)
    return out


def test_distances_are_rms_differences_of_thumbnails():
    clip = orbit_clip(6, 6)
    d = L.frame_distances(clip, size=16)
    thumbs = L.thumbnails(clip, 16).astype(np.float64)
    assert thumbs.shape == (6, 12, 16, 3)
    direct = np.sqrt(((thumbs[2] - thumbs[4]) ** 2).mean())
    assert d[2, 4] == pytest.approx(direct, rel=1e-6)
    assert np.allclose(d, d.T) and np.all(np.diag(d) == 0)


def test_diagonal_filter_tells_motion_directions_apart():
    """A pendulum swinging forward then back: frames 3 and 13 show the same pose, moving in opposite
    directions. Their raw distance is 0; filtered along the diagonals it is not."""
    poses = np.concatenate([np.arange(9), np.arange(7, -1, -1), np.arange(1, 9)])  # 0..8, 7..0, 1..8
    frames = np.zeros((len(poses), 8, 24, 3), dtype=np.uint8)
    for t, p in enumerate(poses):
        frames[t, :, 2 * p : 2 * p + 4] = 255
    d = L.frame_distances(frames, size=24)
    same_pose_other_way = (3, 13)  # poses[3] == poses[13] == 3
    assert poses[3] == poses[13] and d[same_pose_other_way] == 0
    dp = L.filter_diagonals(d, taps=2)
    assert dp[same_pose_other_way] > 0.5 * np.median(d[d > 0])
    same_pose_same_way = (3, 19)  # poses[19] == 3, moving forward again
    assert poses[19] == 3 and dp[same_pose_same_way] < 1e-4
    assert L.binomial_weights(2).tolist() == [1 / 8, 3 / 8, 3 / 8, 1 / 8]


@pytest.mark.parametrize("period", [7, 10])
def test_periodic_clip_gives_a_loop_of_whole_periods_with_an_invisible_seam(period):
    clip = orbit_clip(64, period, seed=period)
    loop = L.find_loop(L.filter_diagonals(L.frame_distances(clip)), min_length=period // 2 + 1)
    assert loop.length % period == 0
    ratio = L.seam_ratio(clip[loop.start : loop.end], clip)
    assert 0.8 < ratio < 1.25


def test_find_loop_respects_the_length_range():
    clip = orbit_clip(40, 8)
    dp = L.filter_diagonals(L.frame_distances(clip))
    loop = L.find_loop(dp, min_length=17, max_length=30)
    assert 17 <= loop.length <= 30 and loop.length % 8 == 0 and loop.end <= 39
    with pytest.raises(ValueError, match="no loop"):
        L.find_loop(dp, min_length=45)


def test_transition_rows_sum_to_one_and_pruning_keeps_few():
    clip = orbit_clip(50, 9)
    a = L.analyse(clip, L.AnalysisSettings(keep=4))
    p = a.probabilities
    assert p.shape == (49, 49)
    assert np.allclose(p.sum(axis=1), 1)
    assert np.all(p >= 0)
    assert (p > 0).sum(axis=1).max() <= 4
    # the usual continuation i -> i+1 is kept for most frames
    assert np.mean(p[np.arange(48), np.arange(1, 49)] > 0) > 0.8


def test_no_transition_leads_into_a_dead_end():
    n, tail = 60, 8
    clip = with_dead_end(orbit_clip(n, 10, seed=3), tail)
    dead = slice(n - tail, n - 1)  # states (frames up to n-2) in the tail
    a = L.analyse(clip)
    assert a.probabilities[: n - tail, dead].max() == 0
    walk = L.random_play(a.probabilities, 3000, seed=1)
    assert (walk >= n - tail).sum() == 0
    # without dead-end avoidance the walk does run into the tail
    blind = L.analyse(clip, L.AnalysisSettings(discount=0.0))
    assert blind.probabilities[: n - tail, dead].max() > 0.5


def test_policy_iteration_matches_value_iteration():
    costs = np.random.default_rng(0).random((40, 40))
    f_policy, m_policy, rounds = L.future_cost(costs, power=2, discount=0.99, method="policy")
    f_value, m_value, sweeps = L.future_cost(costs, power=2, discount=0.99, method="value", tol=1e-14)
    assert np.allclose(m_policy, m_value, atol=1e-9)
    assert np.allclose(f_policy, f_value, atol=1e-9)
    assert rounds < 20 < sweeps
    # the fixed point: m[i] = min_j C[i,j]^p + α m[j]
    assert np.allclose(m_policy, (costs**2 + 0.99 * m_policy[None, :]).min(axis=1))


def test_random_play_is_reproducible_by_seed():
    a = L.analyse(orbit_clip(40, 8))
    one = L.random_play(a.probabilities, 500, seed=11)
    again = L.random_play(a.probabilities, 500, seed=11)
    other = L.random_play(a.probabilities, 500, seed=12)
    assert np.array_equal(one, again)
    assert not np.array_equal(one, other)
    assert one[0] == 0
    steps = a.probabilities[one[:-1], one[1:]]
    assert np.all(steps > 0)  # every step is an allowed transition
    assert len(L.jumps(one)) > 0


def test_play_crossfades_jumps():
    clip = orbit_clip(30, 10, noise=0)
    order = np.array([3, 4, 5, 20, 21, 22, 23, 24, 25])
    out = L.play(clip, order, overlap=3)
    assert np.array_equal(out[:3], clip[[3, 4, 5]])  # before the jump: unchanged
    assert not np.array_equal(out[3], clip[20])  # just after: blended with frame 6
    mix = 0.75 * clip[6].astype(np.float32) + 0.25 * clip[20]
    assert np.abs(out[3].astype(np.float32) - mix).max() <= 0.51
    assert np.array_equal(out[6:], clip[[23, 24, 25]])  # after the fade: the clip itself
    assert np.array_equal(L.play(clip, order, overlap=0), clip[order])


def test_blending_lowers_the_seam_ratio():
    clip = orbit_clip(60, 12, drift=3.0, seed=4)  # the drift makes every wrap jump in brightness
    loop = L.find_loop(L.filter_diagonals(L.frame_distances(clip)), min_length=24, max_length=36)
    raw = clip[loop.start : loop.end]
    before = L.seam_ratio(raw, clip)
    faded, used = L.crossfade_loop(clip, loop, 6)
    closed = L.poisson_loop(raw)
    assert before > 2.5
    assert used == 6
    assert L.seam_ratio(faded, clip) < 0.6 * before
    assert L.seam_ratio(closed, clip) < 0.6 * before
    assert faded.shape == closed.shape == raw.shape and closed.dtype == np.uint8


def test_crossfade_uses_the_frames_around_the_loop():
    clip = orbit_clip(40, 10, noise=0, drift=2.0)  # no two frames alike
    out, used = L.crossfade_loop(clip, L.Loop(start=12, length=20, cost=0), 4)
    assert used == 4
    assert np.array_equal(out[:16], clip[12:28])
    # the last frame is mostly the frame just before the loop's start
    assert L.frame_difference(out[-1], clip[11]) < L.frame_difference(out[-1], clip[31])
    # no frames before the start: the fade uses the frames after the end instead
    out, used = L.crossfade_loop(clip, L.Loop(start=0, length=20, cost=0), 4)
    assert used == 4 and np.array_equal(out[4:], clip[4:20])
    assert L.frame_difference(out[0], clip[20]) < L.frame_difference(out[0], clip[0])


def test_seam_ratio_of_a_still_clip():
    still = np.full((5, 4, 4, 3), 100, np.uint8)
    assert L.seam_ratio(still, still) == 1.0
    moved = still.copy()
    moved[-1] = 120
    assert L.seam_ratio(moved, still) == np.inf


def test_cinemagraph_keeps_the_still_outside_the_region():
    clip = orbit_clip(20, 10)
    mask = np.zeros(clip.shape[1:3], dtype=bool)
    mask[4:20, 6:26] = True
    opacity = L.feather(mask, 1.5)
    out = L.composite(clip[5:15], clip[5], opacity)
    far = ~L.feather(mask, 4.0).astype(bool)  # well away from the region
    assert np.all(out[:, far] == clip[5][far])
    core = np.zeros_like(mask)
    core[9:15, 11:21] = True
    assert np.abs(out[:, core].astype(int) - clip[5:15][:, core]).max() <= 1
    assert opacity[3, 15] < 0.5 < opacity[4, 15]  # the edge lies between rows 3 and 4 ...
    assert opacity[3, 15] + opacity[4, 15] == pytest.approx(1, abs=1e-3)  # ... with the blend centred on it
