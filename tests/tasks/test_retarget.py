"""Retargeting on generated footage: exact sizes, images, small objects keep their shape, bad requests."""

from __future__ import annotations

import numpy as np
import pytest

from patchvid.errors import PatchvidError
from patchvid.tasks.retarget import retarget

from ..conftest import disc_image, make_clip, red_blobs

CLIP = make_clip(5, 24, 32)


@pytest.mark.parametrize(
    "size, expected",
    [
        ((None, None, 48), (5, 24, 48)),  # wider
        ((None, None, 20), (5, 24, 20)),  # narrower
        ((None, 36, None), (5, 36, 32)),  # taller
        ((None, 18, None), (5, 18, 32)),  # lower
        ((10, None, None), (10, 24, 32)),  # longer: twice the frames
        ((3, None, None), (3, 24, 32)),  # shorter
        ((8, 30, 21), (8, 30, 21)),  # every axis at once
    ],
    ids=["wider", "narrower", "taller", "lower", "longer", "shorter", "combined"],
)
def test_retarget_gives_exactly_the_requested_size(size, expected):
    out = retarget(CLIP, size)
    assert out.shape == (*expected, 3) and out.dtype == np.uint8


def test_retarget_by_scale():
    assert retarget(CLIP, scale=(2.0, 1.0, 1.5)).shape == (10, 24, 48, 3)


def test_retarget_images_in_and_out():
    img = CLIP[0]
    assert retarget(img, (None, 30, 44)).shape == (30, 44, 3)
    assert retarget(img, (7, None, 20)).shape == (24, 20, 3)  # the frames entry does not apply to an image
    assert retarget(img, scale=(1.0, 1.0, 1.5)).shape == (24, 48, 3)


def test_retarget_small_object_keeps_its_size():
    """A disc smaller than a patch at the coarsest level stays a 9x9 disc whether the picture is made
    wider or narrower (a stretch would make it 15 or 6 pixels wide)."""
    img = disc_image()
    assert red_blobs(img) == [(9, 9, 49)]
    for width in (128, 56):
        out = retarget(img, (None, None, width))
        assert out.shape == (48, width, 3)
        blobs = red_blobs(out)
        assert blobs, f"width {width}: the red disc is gone"
        for h, w, area in blobs:
            assert (h, w) == (9, 9) and 45 <= area <= 53, (width, blobs)


def test_retarget_is_deterministic_by_seed():
    a = retarget(CLIP, (None, None, 40), seed=3)
    b = retarget(CLIP, (None, None, 40), seed=3)
    assert np.array_equal(a, b)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": (None, None, 0)},
        {"size": (0, None, None)},
        {"size": (None, -3, None)},
        {},  # neither size nor scale
        {"size": (None, None, 40), "scale": (1.0, 1.0, 1.25)},  # both
        {"size": (None, None, 4)},  # narrower than a patch: the plan could not give it
        {"size": (2, None, None)},  # fewer frames than a patch
        {"scale": (1.0, 0.0, 1.0)},
    ],
    ids=["width0", "frames0", "height-3", "neither", "both", "below-patch", "frames-below-patch", "scale0"],
)
def test_retarget_refuses_bad_requests(kwargs):
    with pytest.raises(PatchvidError):
        retarget(CLIP, **kwargs)


