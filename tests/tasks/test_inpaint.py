"""Inpainting on generated footage: the outside kept exactly, holes filled only from outside, cues."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage as ndi

from patchvid.errors import PatchvidError
from patchvid.synthesis.engine import search_per_level, synthesize
from patchvid.tasks.inpaint import check_mask, inpaint, prepare_inpaint, smooth_fill

from ..conftest import is_blue_disc, is_red, make_clip, red_discs_clip


def disc_hole(height=32, width=48) -> np.ndarray:
    """A region over the whole path of make_clip's blue disc (and clear of its red one)."""
    mask = np.zeros((height, width), bool)
    mask[16:28, 33:47] = True
    return mask


def recorded_searches(problem) -> list:
    """Synthesize a prepared problem as :func:`~patchvid.synthesis.problem.solve` does, recording
    ``(level, patch, key shape, key_mask, nnf)`` of every search call."""
    plan = problem.plan
    calls = []
    choose = search_per_level(plan.search, plan.levels.output, plan.levels.input, plan.patch)

    def pick(level):
        search = choose(level)

        def record(query, key, patch, **kwargs):
            match = search(query, key, patch, **kwargs)
            calls.append((level, patch, tuple(key.shape[1:]), kwargs.get("key_mask"), match.nnf.clone()))
            return match

        return record

    synthesize(problem.initial, problem.values, plan.levels.output, plan.engine, pick, keys=problem.keys,
               holes=problem.holes, guides=problem.guides)
    return calls


def test_inpaint_removal_keeps_the_outside_and_fills_only_from_outside():
    clip = make_clip(5, 32, 48)
    mask = disc_hole()  # one (H, W) mask for every frame
    assert all(is_blue_disc(clip[t])[mask].sum() > 10 for t in range(5))
    problem = prepare_inpaint(clip, mask, fill="smooth")
    assert torch.equal(problem.holes.key_hole[0], torch.from_numpy(np.broadcast_to(mask, clip.shape[:3]).copy()))
    calls = recorded_searches(problem)
    out = inpaint(clip, mask, fill="smooth")

    assert out.shape == clip.shape and out.dtype == np.uint8
    assert np.array_equal(out[:, ~mask], clip[:, ~mask])  # exactly, in every frame
    assert not is_blue_disc(out)[:, mask].any()  # the disc is gone from every frame
    assert np.abs(out[:, mask].astype(int) - clip[:, mask]).mean() > 10

    # every search matched only allowed key patches, and at the finest level (whose values are the
    # output) no chosen patch overlaps the hole in any frame
    assert calls and all(key_mask is not None for *_, key_mask, _ in calls)
    for _, _, _, key_mask, nnf in calls:
        assert bool(key_mask[tuple(nnf.reshape(-1, 3).T)].all())
    finest = [c for c in calls if c[0] == 0]
    assert finest
    for _, (pt, ph, pw), key_shape, _, nnf in finest:
        hole = np.broadcast_to(mask, key_shape)
        for t, y, x in nnf.reshape(-1, 3).tolist():
            assert not hole[t : t + pt, y : y + ph, x : x + pw].any(), (t, y, x)


@pytest.fixture(scope="module")
def painted():
    """red_discs_clip with a red blob of a disc's size painted into a hole that holds no disc."""
    clip = red_discs_clip()
    h, w = clip.shape[1:3]
    y, x = np.mgrid[0:h, 0:w]
    mask = np.zeros((h, w), bool)
    mask[4:18, 24:38] = True
    assert not is_red(clip)[:, mask].any()
    blob = (x - 31) ** 2 + (y - 11) ** 2 <= 16
    painted = clip.copy()
    painted[:, blob] = (220, 40, 40)
    return painted, mask, blob


def test_inpaint_cue_makes_the_painted_blob_the_clips_object(painted):
    frames, mask, blob = painted
    cue = inpaint(frames, mask, fill="cue")
    assert np.array_equal(cue[:, ~mask], frames[:, ~mask])
    red = is_red(cue)
    for t in range(len(cue)):
        inside = red[t] & mask
        assert 30 <= inside.sum() <= 70, t  # one disc's worth of red (a disc has 49 pixels)
        assert ndi.label(inside)[1] == 1, t
    assert red[:, blob].mean() > 0.4
    assert np.array_equal(inpaint(frames, mask, fill="cue"), cue)  # deterministic

    smooth = inpaint(frames, mask, fill="smooth")
    assert np.array_equal(smooth[:, ~mask], frames[:, ~mask])
    assert not is_red(smooth)[:, mask].any()


def test_inpaint_image_and_errors(painted):
    frames, mask, _ = painted
    img = frames[0]
    out = inpaint(img, mask)
    assert out.shape == img.shape and np.array_equal(out[~mask], img[~mask])
    with pytest.raises(PatchvidError, match="fill"):
        inpaint(frames, mask, fill="blur")
    with pytest.raises(PatchvidError, match="32x24 but the input is 48x32"):
        inpaint(frames, mask[:24, :32])


def test_check_mask():
    shape = (4, 24, 32)
    one = np.zeros((24, 32), bool)
    one[5:9, 6:12] = True
    every = check_mask(one, shape)
    assert every.shape == shape and every.dtype == bool and all(np.array_equal(f, one) for f in every)
    assert every.flags.writeable and every.flags.c_contiguous
    assert check_mask(one[None], (1, 24, 32)).flags.writeable  # an image's mask, given as (H, W) or (1, H, W)
    assert check_mask(one.astype(np.uint8) * 255, (1, 24, 32)).shape == (1, 24, 32)
    per_frame = np.zeros(shape, bool)
    per_frame[2, 0, 0] = True
    assert np.array_equal(check_mask(per_frame, shape), per_frame)
    assert np.array_equal(check_mask(one[None], shape), every)  # one frame, like (H, W)

    with pytest.raises(PatchvidError, match="empty"):
        check_mask(np.zeros((24, 32)), shape)
    with pytest.raises(PatchvidError, match="covers everything"):
        check_mask(np.ones(shape), shape)
    with pytest.raises(PatchvidError, match="the mask is 30x24 but the input is 32x24"):
        check_mask(np.ones((24, 30)), shape)
    with pytest.raises(PatchvidError, match="the mask is 32x20 but the input is 32x24"):
        check_mask(np.ones((4, 20, 32)), shape)
    with pytest.raises(PatchvidError, match="3 frames but the input has 4"):
        check_mask(per_frame[:3], shape)
    with pytest.raises(PatchvidError, match="shape"):
        check_mask(np.ones((1, 4, 24, 32)), shape)


def test_smooth_fill_keeps_known_voxels_and_fills_within_the_neighbours():
    t, h, w = 4, 24, 32
    tt, yy, xx = torch.meshgrid(torch.arange(t), torch.arange(h), torch.arange(w), indexing="ij")
    video = torch.stack([xx / w, yy / h, (xx + yy + tt) / (h + w + t)]).float() * 2 - 1
    hole = torch.zeros(t, h, w, dtype=torch.bool)
    hole[:, 8:14, 10:20] = True  # inside
    hole[1:3, 18:, 25:] = True  # at a corner
    out = smooth_fill(video, hole)
    assert out.shape == video.shape
    assert torch.equal(out[:, ~hole], video[:, ~hole])
    assert torch.isfinite(out).all()
    labels, n = ndi.label(hole.numpy())
    for i in range(1, n + 1):
        region = labels == i
        ring = ndi.binary_dilation(region, np.ones((3, 3, 3), bool)) & ~hole.numpy()
        for c in range(3):
            known, filled = video[c].numpy()[ring], out[c].numpy()[region]
            assert known.min() - 1e-6 <= filled.min() and filled.max() <= known.max() + 1e-6, (i, c)
    constant = torch.full((3, t, h, w), 0.3)
    assert torch.allclose(smooth_fill(constant, hole), constant)


