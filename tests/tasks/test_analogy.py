"""Video analogies and collages on generated footage with known motion and colours."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from patchvid.errors import PatchvidError
from patchvid.evaluation.metrics import coherence
from patchvid.tasks.analogy import analogy, collage

from ..conftest import band_clip, cyan, patch_rms, square_clip


@pytest.fixture(scope="module")
def structure():
    return square_clip()


@pytest.fixture(scope="module")
def appearance():
    return band_clip()


def test_motion_analogy_has_structures_shape_and_appearances_patches(structure, appearance):
    s, square = structure
    out = analogy(s, appearance, mode="motion")
    assert out.shape == s.shape and out.dtype == np.uint8

    # made of APPEARANCE's patches: every patch is nearer to APPEARANCE than to STRUCTURE, and on
    # average far nearer than to STRUCTURE or than a random picture is
    to_appearance, to_structure = patch_rms(out, appearance), patch_rms(out, s)
    assert bool((to_appearance < to_structure).all()), (to_appearance.max(), to_structure.min())
    near = coherence(out, appearance)
    random = np.random.default_rng(0).integers(0, 256, s.shape, dtype=np.uint8)
    assert near < 0.25 * coherence(out, s)
    assert near < 0.25 * coherence(random, appearance)

    # STRUCTURE's moving square gets APPEARANCE's moving (cyan) colours, its still background far from
    # the square's path far less (optical flow on 32x48 frames spills motion a few pixels around it)
    still = ~ndi.binary_dilation(square, np.ones((1, 17, 17), bool))
    assert cyan(out)[square].mean() > 0.9
    assert cyan(out)[still].mean() < 0.5
    assert cyan(out)[square].mean() - cyan(out)[still].mean() > 0.5


def test_label_analogy_paints_the_bright_label_with_the_moving_region(structure, appearance):
    _, square = structure
    labels = np.zeros((*square.shape, 3), np.uint8)  # dark: still; bright: moving
    labels[square] = 255
    out = analogy(labels, appearance, mode="labels")
    assert out.shape == labels.shape
    assert cyan(out)[square].mean() > 0.6
    assert cyan(out)[~square].mean() < 0.2


def test_colours_mode_and_collage_follow_the_edited_shape(appearance):
    video = appearance[:, :, :48]
    assert analogy(appearance[:4, :32, :40], appearance, mode="colours").shape == (4, 32, 40, 3)
    assert collage(appearance, video[:4]).shape == (4, 40, 48, 3)
    img = appearance[0]
    wide = np.concatenate([img, img[:, ::-1]], axis=1)
    out = collage(img, wide)
    assert out.shape == wide.shape and out.dtype == np.uint8
    assert analogy(img[:24, :32], img, mode="colours").shape == (24, 32, 3)
    # a STRUCTURE shorter than APPEARANCE's patches (3 frames) keeps its own length: an edited still
    # of a video comes out as a still
    assert analogy(img, appearance, mode="colours").shape == img.shape
    assert collage(appearance, appearance[:1]).shape == (1, 40, 56, 3)
    assert collage(appearance, appearance[:2, :, :48]).shape == (2, 40, 48, 3)
    # an unedited picture comes back nearly as it was
    same = collage(img, img)
    assert np.abs(same.astype(int) - img).mean() < 1


def test_analogy_refuses_bad_requests(structure, appearance):
    s, _ = structure
    with pytest.raises(PatchvidError, match="mode"):
        analogy(s, appearance, mode="sketch")
    for one_frame in (s[:1], s[0]):
        with pytest.raises(PatchvidError, match="2 frames"):
            analogy(one_frame, appearance, mode="motion")
    with pytest.raises(PatchvidError, match="2 frames"):
        analogy(s, appearance[:1], mode="motion")
    with pytest.raises(PatchvidError):
        analogy(s, appearance, weight=-1.0)


