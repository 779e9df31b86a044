"""Motion structure (flow magnitude, quantisation) and label structure, on generated and real footage."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy import ndimage as ndi

from patchvid import read_video, write_video
from patchvid.errors import PatchvidError
from patchvid.tasks.structure import PIP_OPENCV, flow_magnitude, label_structure, motion_structure, quantise

from ..conftest import needs_shared_data

SPEED = 2  # px/frame of the moving square


def moving_square(frames: int = 6, height: int = 64, width: int = 96, side: int = 20, seed: int = 0):
    """A textured still background with a textured square moving ``SPEED`` px/frame to the right.

    Returns ``(T, H, W, 3) uint8`` frames and ``(T, H, W) bool`` masks of the square."""
    rng = np.random.default_rng(seed)
    bg = ndi.gaussian_filter(rng.uniform(0, 255, (height, width)), 1.2)
    fg = ndi.gaussian_filter(rng.uniform(0, 255, (side, side)), 1.2)
    bg = (bg - bg.min()) / np.ptp(bg) * 180 + 20
    fg = (fg - fg.min()) / np.ptp(fg) * 180 + 40
    out = np.empty((frames, height, width, 3), np.uint8)
    masks = np.zeros((frames, height, width), bool)
    y0 = (height - side) // 2
    for t in range(frames):
        img = bg.copy()
        x0 = 10 + SPEED * t
        img[y0 : y0 + side, x0 : x0 + side] = fg
        masks[t, y0 : y0 + side, x0 : x0 + side] = True
        out[t] = np.repeat(img[..., None], 3, -1).round().astype(np.uint8)
    return out, masks


@pytest.fixture(scope="module")
def square():
    return moving_square()


def far_from(masks: np.ndarray, distance: int = 12) -> np.ndarray:
    """Background pixels at least ``distance`` px from the square's whole path."""
    return ~ndi.binary_dilation(masks.any(0), iterations=distance)


@pytest.mark.parametrize("method", ["dis", "farneback"])
def test_flow_magnitude_is_speed_in_pixels_per_frame(square, method):
    frames, masks = square
    mag = flow_magnitude(frames, method=method)
    assert mag.shape == frames.shape[:3] and mag.dtype == np.float32
    assert (mag >= 0).all()
    inner = np.stack([ndi.binary_erosion(m, iterations=4) for m in masks[:-1]])
    assert abs(np.median(mag[:-1][inner]) - SPEED) < 0.3
    assert np.percentile(mag[:, far_from(masks)], 99) < 0.3
    np.testing.assert_array_equal(mag[-1], mag[-2])  # the last frame reuses the one before


def test_flow_magnitude_is_deterministic_across_runs_and_threads(square):
    cv2 = pytest.importorskip("cv2")
    frames, _ = square
    ref = flow_magnitude(frames)
    threads = cv2.getNumThreads()
    try:
        cv2.setNumThreads(1)
        single = flow_magnitude(frames.copy())
    finally:
        cv2.setNumThreads(threads)
    np.testing.assert_array_equal(single, ref)
    np.testing.assert_array_equal(flow_magnitude(frames.copy()), ref)


def test_flow_magnitude_single_frame_gray_rgba_and_tiny(square):
    frames, _ = square
    one = flow_magnitude(frames[:1])
    assert one.shape == (1, 64, 96) and one.dtype == np.float32 and not one.any()
    grey = flow_magnitude(frames[..., :1])
    rgba = flow_magnitude(np.concatenate([frames, np.full_like(frames[..., :1], 7)], -1))
    np.testing.assert_allclose(grey, flow_magnitude(frames), atol=1e-6)
    np.testing.assert_allclose(rgba, flow_magnitude(frames), atol=1e-6)
    # DIS fails or crashes on frames under 16 px high; they are padded inside
    tiny = flow_magnitude(frames[:3, 20:28, :60])
    assert tiny.shape == (3, 8, 60) and np.isfinite(tiny).all()


def test_motion_structure_moving_square_high_still_background_low(square):
    frames, masks = square
    s = motion_structure(frames)
    assert s.shape == frames.shape[:3] and s.dtype == np.float32
    assert s.min() >= 0 and s.max() <= 1
    np.testing.assert_allclose(np.unique(s), np.unique(s * 3).round() / 3, atol=1e-6)  # on the 4-level grid
    inner = np.stack([ndi.binary_erosion(m, iterations=5) for m in masks])
    assert (s[inner] == 1).all()
    assert (s[:, far_from(masks)] == 0).all()
    np.testing.assert_array_equal(s, motion_structure(frames))  # deterministic


def test_motion_structure_single_frame_is_still(square):
    frames, _ = square
    s = motion_structure(frames[:1])
    assert s.shape == (1, 64, 96) and s.dtype == np.float32 and not s.any()


@pytest.mark.parametrize("levels", [2, 3, 4, 6])
def test_quantise_ramp_gives_exactly_levels_values(levels):
    ramp = np.broadcast_to(np.linspace(0, 8, 200, dtype=np.float32), (3, 10, 200))
    q = quantise(ramp, levels)
    assert q.shape == ramp.shape and q.dtype == np.float32
    np.testing.assert_allclose(np.unique(q), np.linspace(0, 1, levels), atol=1e-6)
    assert (np.diff(q, axis=2) >= 0).all()  # monotone along the ramp


def test_quantise_is_normalised_and_still_stays_still():
    rng = np.random.default_rng(1)
    mag = np.zeros((4, 40, 60), np.float32)
    mag[:, 10:30, 20:45] = 3.0
    mag += rng.uniform(0, 0.3, mag.shape).astype(np.float32)
    np.testing.assert_array_equal(quantise(mag), quantise(mag * 2.5))  # another speed, same structure
    still = rng.uniform(0, 0.1, mag.shape).astype(np.float32)  # flow noise of still footage
    assert not quantise(still).any()  # far below min_motion: all level 0, not stretched over the levels
    assert not quantise(np.zeros((1, 5, 5), np.float32)).any()


def test_quantise_smoothing_removes_speckle():
    rng = np.random.default_rng(2)
    mag = rng.uniform(0, 1.6, (5, 48, 64)).astype(np.float32)  # noise up to 40% of the motion
    mag[:, 16:36, 20:44] += 4.0
    raw = quantise(mag, sigma=0, sigma_t=0)
    smooth = quantise(mag)
    assert np.unique(raw[:, :, :12]).size > 1  # unsmoothed, the noisy still part scatters over levels
    assert (smooth[:, :, :12] == 0).all() and (smooth[:, 20:32, 24:40] == 1).all()


def test_quantise_and_structure_refuse_bad_input(square):
    frames, _ = square
    for bad in (lambda: quantise(np.zeros((2, 4, 4)), bins=1),
                lambda: quantise(np.zeros((4, 4))),
                lambda: quantise(np.full((1, 2, 2), np.nan)),
                lambda: motion_structure(frames.astype(np.float32)),
                lambda: motion_structure(frames[0]),
                lambda: flow_magnitude(frames, method="lucas"),
                lambda: label_structure(frames, bins=0)):
        with pytest.raises(PatchvidError) as e:
            bad()
        assert "\n" not in str(e.value)


def test_missing_opencv_is_a_patchvid_error_with_the_pip_command(square, monkeypatch):
    monkeypatch.setitem(sys.modules, "cv2", None)  # makes `import cv2` raise ImportError
    with pytest.raises(PatchvidError, match="pip install") as e:
        flow_magnitude(square[0])
    assert PIP_OPENCV in str(e.value)
    np.testing.assert_array_equal(label_structure(label_video()[0]), label_video()[1] / 2)  # no OpenCV needed


COLOURS = {"blue": (20, 40, 230), "red": (220, 30, 30), "green": (40, 210, 60)}  # luminance 44 < 87 < 142


def label_video(frames: int = 4, height: int = 64, width: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """A 3-colour sketch (blue ground, a red square, a green disc moving) and its true labels 0, 1, 2."""
    y, x = np.mgrid[0:height, 0:width]
    labels = np.zeros((frames, height, width), np.int64)
    for t in range(frames):
        labels[t, 8:30, 10:40] = 1
        labels[t][(x - 55 - 3 * t) ** 2 + (y - 40) ** 2 <= 14**2] = 2
    palette = np.array([COLOURS["blue"], COLOURS["red"], COLOURS["green"]], np.uint8)
    return palette[labels], labels


def test_label_structure_maps_colours_to_levels_by_luminance():
    video, labels = label_video()
    s = label_structure(video)
    assert s.shape == labels.shape and s.dtype == np.float32
    np.testing.assert_array_equal(s, labels / 2)
    np.testing.assert_array_equal(label_structure(video, bins=3), s)
    two = label_structure(video, bins=2)  # the two most common colours: blue ground and the red square
    assert set(np.unique(two)) == {0.0, 1.0} and (two[labels == 0] == 0).all() and (two[labels == 1] == 1).all()
    with pytest.raises(PatchvidError, match="fewer than bins=4"):
        label_structure(video, bins=4)
    assert not label_structure(np.full((2, 8, 8, 3), 90, np.uint8)).any()  # one colour: all 0


def test_label_structure_tolerates_noise_and_compression(tmp_path):
    video, labels = label_video()
    noisy = np.clip(video + np.random.default_rng(3).normal(0, 8, video.shape), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(label_structure(noisy), labels / 2)

    write_video(tmp_path / "sketch.mp4", video, 10)  # H.264 yuv420: noise and chroma bleeding at edges
    decoded = read_video(tmp_path / "sketch.mp4").frames
    assert decoded.shape == video.shape and not np.array_equal(decoded, video)
    s = label_structure(decoded)
    np.testing.assert_allclose(np.unique(s), [0, 0.5, 1])
    assert (s == labels / 2).mean() > 0.98
    inside = ndi.morphological_gradient(labels, size=(1, 5, 5)) == 0  # 2 px or more from an edge
    assert (s[inside] == (labels / 2)[inside]).all()


@pytest.mark.realdata
def test_waterfall_water_moves_more_than_rocks():
    path = needs_shared_data("videos", "waterfall_456x256.mp4")
    frames = read_video(path, end="10f").frames
    s = motion_structure(frames)
    assert s.shape == (10, 256, 456) and s.dtype == np.float32
    values, counts = np.unique(s, return_counts=True)
    assert len(values) == 4 and counts.min() > 0.01 * s.size  # not degenerate: every level used
    assert 0.02 < s.mean() < 0.5
    water = s[:, 90:170, 210:280]  # the falling water (boxes in y, x), lower down where it is fast
    rocks = s[:, 10:100, 30:150]  # the rock face to its left
    assert water.mean() > 0.8 and (rocks == 0).mean() > 0.95


def test_label_structure_keeps_a_region_whose_colour_is_a_mix_of_two_others(tmp_path):
    """Edge bands of blended chroma are dropped, but a region of its own in a mixed colour is a label."""
    labels = np.zeros((4, 64, 96), np.int64)
    labels[:, 8:30, 10:40] = 1
    labels[:, 30:60, 50:90] = 2
    palette = np.array([[20, 40, 220], [220, 30, 30], [120, 35, 125]], np.uint8)  # blue, red, their mix
    write_video(tmp_path / "mix.mp4", palette[labels], 10)
    s = label_structure(read_video(tmp_path / "mix.mp4").frames)
    assert len(np.unique(s)) == 3
