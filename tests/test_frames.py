"""The one home of frame checks and conversions."""

import numpy as np
import pytest
import torch

from patchvid.errors import InputError, PatchvidError
from patchvid.frames import as_video, check_volume, to_frames, to_tensor

from .conftest import make_clip


def test_as_video_takes_videos_and_images():
    clip = make_clip(3, 8, 10)
    video, image = as_video(clip)
    assert video is clip and not image
    video, image = as_video(clip[0])
    assert video.shape == (1, 8, 10, 3) and image
    grey, _ = as_video(clip[..., :1], channels=(1, 3, 4))
    assert grey.shape == (3, 8, 10, 1)
    floats, _ = as_video(clip.astype(np.float32), any_dtype=True)
    assert floats.dtype == np.float32


@pytest.mark.parametrize(
    "frames, options, words",
    [
        (np.zeros((2, 4, 4, 3), np.float32), {}, "uint8"),
        (np.zeros((2, 4, 4, 4), np.uint8), {}, "(T, H, W, 3)"),
        (np.zeros((0, 4, 4, 3), np.uint8), {}, "empty"),
        (np.zeros((4, 4), np.uint8), {}, "(T, H, W, 3)"),
        (np.zeros((4, 4, 3), np.uint8), {"image": False}, "(T, H, W, 3)"),
        (np.zeros((2, 4, 4, 3), np.uint8), {"min_frames": 3}, "at least 3 frames"),
        ([[1, 2]], {}, "numpy array"),
    ],
)
def test_as_video_refuses_with_one_error_type(frames, options, words):
    with pytest.raises(InputError, match=None) as e:
        as_video(frames, "clip", **options)
    assert words in str(e.value) and str(e.value).startswith("clip")
    assert isinstance(e.value, PatchvidError) and isinstance(e.value, ValueError)  # one policy, NumPy's too


def test_conversions_round_trip():
    clip = make_clip(3, 8, 10)
    video = to_tensor(clip)
    assert tuple(video.shape) == (3, 3, 8, 10) and video.min() >= -1 and video.max() <= 1
    assert np.array_equal(to_frames(video), clip)
    beyond = torch.tensor([-3.0, -1.0, 0.0, 1.0, 3.0]).reshape(1, 1, 1, 5).expand(3, 1, 1, 5)
    assert to_frames(beyond)[0, 0, :, 0].tolist() == [0, 0, 128, 255, 255]  # rounded and clipped


def test_check_volume():
    assert check_volume(np.zeros((2, 3, 4)), "u").shape == (2, 3, 4)
    with pytest.raises(InputError, match="u must be"):
        check_volume(np.zeros((3, 4)), "u")
