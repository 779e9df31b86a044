"""Editing recipes on generated footage: retargeting, video analogies and collages, inpainting, and their
commands (``patchvid retarget | analogy | collage | inpaint``) through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage as ndi

import patchvid.inpaint as inpaint_module
from patchvid.analogy import analogy, collage
from patchvid.cli import main
from patchvid.errors import PatchvidError
from patchvid.generate import to_tensor
from patchvid.inpaint import check_mask, inpaint, smooth_fill
from patchvid.media import read_video, write_video
from patchvid.metrics import coherence, nearest_distances
from patchvid.patches import unfold
from patchvid.retarget import retarget

from .conftest import make_clip

# ----------------------------------------------------------------------------------- footage


def noise(shape, colour, std, rng) -> np.ndarray:
    """A textured area: ``colour`` plus Gaussian noise of ``std`` grey levels (float, unclipped)."""
    return rng.normal(0, std, (*shape, 3)) + np.asarray(colour, dtype=float)


def disc_image(height=48, width=80, radius=4, centre=(24, 40), seed=0) -> np.ndarray:
    """Green noise (std 12) with one red disc, smaller than a patch at the coarsest level."""
    rng = np.random.default_rng(seed)
    img = noise((height, width), (60, 140, 60), 12, rng)
    y, x = np.mgrid[0:height, 0:width]
    img[(y - centre[0]) ** 2 + (x - centre[1]) ** 2 <= radius * radius] = (230, 30, 30)
    return np.clip(img, 0, 255).astype(np.uint8)


def red_blobs(img: np.ndarray) -> list[tuple[int, int, int]]:
    """``(height, width, area)`` of every connected red region."""
    red = (img[..., 0] > 150) & (img[..., 1] < 100) & (img[..., 2] < 100)
    labels, _ = ndi.label(red)
    return [(s[0].stop - s[0].start, s[1].stop - s[1].start, int((labels[s] == i + 1).sum()))
            for i, s in enumerate(ndi.find_objects(labels))]


SQUARE = 12  # side of STRUCTURE's moving square; it moves 3 px a frame to the right


def square_clip(frames=6, height=32, width=48, seed=1) -> tuple[np.ndarray, np.ndarray]:
    """STRUCTURE: a textured light square moving right over a still brown noise background, and
    where the square is ``(T, H, W) bool``."""
    rng = np.random.default_rng(seed)
    back = noise((height, width), (150, 110, 60), 12, rng)
    texture = noise((SQUARE, SQUARE), (230, 220, 200), 25, rng)
    y0 = (height - SQUARE) // 2
    out = np.empty((frames, height, width, 3), np.uint8)
    where = np.zeros((frames, height, width), bool)
    for t in range(frames):
        img = back.copy()
        img[y0 : y0 + SQUARE, 4 + 3 * t : 4 + 3 * t + SQUARE] = texture
        out[t] = np.clip(img, 0, 255)
        where[t, y0 : y0 + SQUARE, 4 + 3 * t : 4 + 3 * t + SQUARE] = True
    return out, where


def band_clip(frames=6, height=40, width=56, seed=2) -> np.ndarray:
    """APPEARANCE: still dark-blue noise above, cyan noise scrolling right 2 px a frame below (its
    moving region). No colour, nor any per-channel mix of its colours, is near STRUCTURE's."""
    rng = np.random.default_rng(seed)
    top = noise((height, width), (30, 40, 160), 12, rng)
    flowing = noise((height, width + 2 * frames), (40, 200, 200), 12, rng)
    out = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        img = top.copy()
        img[height // 2 :] = flowing[height // 2 :, 2 * (frames - t) : 2 * (frames - t) + width]
        out[t] = np.clip(img, 0, 255)
    return out


def cyan(frames: np.ndarray) -> np.ndarray:
    """Where ``frames`` has the colour of APPEARANCE's moving region (its still region has G ~40)."""
    return frames[..., 1] > 120


def red_discs_clip(frames=5, height=32, width=48, seed=0) -> np.ndarray:
    """Red discs (radius 4) moving over still blue noise."""
    rng = np.random.default_rng(seed)
    back = noise((height, width), (40, 60, 180), 10, rng)
    y, x = np.mgrid[0:height, 0:width]
    out = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        img = back.copy()
        for cx, cy in ((8 + t, 8), (38 - t, 24), (10 + t, 25)):
            img[(x - cx) ** 2 + (y - cy) ** 2 <= 16] = (220, 40, 40)
        out[t] = np.clip(img, 0, 255)
    return out


def is_red(frames: np.ndarray) -> np.ndarray:
    return (frames[..., 0].astype(int) > 150) & (frames[..., 2] < 110)


def is_blue_disc(frames: np.ndarray) -> np.ndarray:
    """conftest's blue disc (30, 30, 220); its background never has blue > 180 with red < 100."""
    return (frames[..., 2].astype(int) > 180) & (frames[..., 0] < 100)


def patch_rms(sample: np.ndarray, reference: np.ndarray, patch=(3, 7, 7)) -> torch.Tensor:
    """Every patch of ``sample``: RMS difference per value (grey levels) to its nearest patch of ``reference``."""
    rows = unfold(to_tensor(sample), patch)
    return (nearest_distances(rows, to_tensor(reference), patch) / rows.shape[1]).sqrt() * 127.5


# ------------------------------------------------------------------------------------ retarget

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


# ------------------------------------------------------------------------------------- analogy


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


# ------------------------------------------------------------------------------------- inpaint


def disc_hole(height=32, width=48) -> np.ndarray:
    """A region over the whole path of make_clip's blue disc (and clear of its red one)."""
    mask = np.zeros((height, width), bool)
    mask[16:28, 33:47] = True
    return mask


def recording_search(monkeypatch) -> list:
    """Make inpaint's searches record ``(level, patch, key shape, key_mask, nnf)`` of every call."""
    calls = []
    real = inpaint_module.search_per_level

    def per_level(name, query_shapes, key_shapes, patch):
        choose = real(name, query_shapes, key_shapes, patch)

        def pick(level):
            search = choose(level)

            def record(query, key, patch, **kwargs):
                match = search(query, key, patch, **kwargs)
                calls.append((level, patch, tuple(key.shape[1:]), kwargs.get("key_mask"), match.nnf.clone()))
                return match

            return record

        return pick

    monkeypatch.setattr(inpaint_module, "search_per_level", per_level)
    return calls


def test_inpaint_removal_keeps_the_outside_and_fills_only_from_outside(monkeypatch):
    clip = make_clip(5, 32, 48)
    mask = disc_hole()  # one (H, W) mask for every frame
    assert all(is_blue_disc(clip[t])[mask].sum() > 10 for t in range(5))
    calls = recording_search(monkeypatch)
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


# ------------------------------------------------------------------------- the command line

FAST = ["-q", "--iterations", "2"]


def patchvid_cli(*args):
    return subprocess.run([sys.executable, "-m", "patchvid", *map(str, args)], capture_output=True, text=True,
                          timeout=300)


def one_error_line(stderr: str, *words) -> str:
    """The single error line, which ends stderr (progress lines may come before it), with ``words``."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("patchvid: error: ")]
    assert len(errors) == 1 and stderr.strip().endswith(errors[0]), stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def save_mask(path, mask):
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def files(tmp_path):
    """A folder of PNG frames (lossless), an mp4, an image, masks, and the STRUCTURE/APPEARANCE clips."""
    clip = make_clip(4, 24, 32)
    write_video(tmp_path / "frames", clip)
    write_video(tmp_path / "clip.mp4", clip, 10)
    write_video(tmp_path / "photo.png", clip[0])
    mask = np.zeros((24, 32), bool)
    mask[8:16, 18:28] = True
    save_mask(tmp_path / "mask.png", mask)
    return tmp_path, clip, mask


def test_cli_retarget_writes_output_record_and_sheet(files):
    folder, clip, _ = files
    out, sheet = folder / "wide.mp4", folder / "sheet.png"
    assert main(["retarget", str(folder / "frames"), "-o", str(out), "--width", "40", "--frames", "6",
                 "--sheet", str(sheet), *FAST]) == 0
    assert read_video(out).frames.shape == (6, 24, 40, 3)
    record = json.loads((folder / "wide.mp4.json").read_text())
    assert record["plan"]["output_frames_height_width"] == [6, 24, 40]
    assert record["inputs"]["input"]["frames_height_width"] == [4, 24, 32]
    assert record["options"]["frames_height_width"] == [6, None, 40] and record["levels"]
    picture = read_video(sheet)
    assert picture.is_image and picture.frames.shape[1] == 2 * 120 + 4  # the input above the output

    assert main(["retarget", str(folder / "photo.png"), "-o", str(folder / "square.png"), "--size", "30x30",
                 *FAST]) == 0
    result = read_video(folder / "square.png")
    assert result.is_image and result.frames.shape == (1, 30, 30, 3)
    assert (folder / "square.png.json").exists()


def test_cli_analogy_and_collage(tmp_path):
    s, _ = square_clip()
    write_video(tmp_path / "s.mp4", s, 10)
    write_video(tmp_path / "a.mp4", band_clip(), 10)
    out, sheet = tmp_path / "out.mp4", tmp_path / "sheet.png"
    assert main(["analogy", str(tmp_path / "s.mp4"), str(tmp_path / "a.mp4"), "-o", str(out),
                 "--sheet", str(sheet), *FAST]) == 0
    assert read_video(out).frames.shape == s.shape
    record = json.loads((tmp_path / "out.mp4.json").read_text())
    assert set(record["inputs"]) == {"structure", "appearance"}
    assert record["options"]["mode"] == "motion" and record["plan"]["output_frames_height_width"] == [6, 32, 48]
    assert read_video(sheet).frames.shape[1] == 3 * 120 + 2 * 4  # structure, appearance, output

    img = band_clip(1)[0]
    write_video(tmp_path / "original.png", img)
    write_video(tmp_path / "edited.png", np.concatenate([img, img[:, :20]], axis=1))
    assert main(["collage", str(tmp_path / "original.png"), str(tmp_path / "edited.png"), "-o",
                 str(tmp_path / "c.png"), "--sheet", str(tmp_path / "c_sheet.png"), *FAST]) == 0
    result = read_video(tmp_path / "c.png")
    assert result.is_image and result.frames.shape == (1, 40, 76, 3)
    assert json.loads((tmp_path / "c.png.json").read_text())["command"].startswith("patchvid collage")
    assert read_video(tmp_path / "c_sheet.png").is_image

    assert main(["analogy", str(tmp_path / "edited.png"), str(tmp_path / "original.png"), "--mode", "colours",
                 "-o", str(tmp_path / "p.png"), *FAST]) == 0
    assert read_video(tmp_path / "p.png").frames.shape == (1, 40, 76, 3)

    # a still edited from a video: a still again, to an image file
    assert main(["collage", str(tmp_path / "a.mp4"), str(tmp_path / "edited.png"), "-o", str(tmp_path / "v.png"),
                 *FAST]) == 0
    assert read_video(tmp_path / "v.png").frames.shape == (1, 40, 76, 3)
    record = json.loads((tmp_path / "v.png.json").read_text())
    assert record["plan"]["output_frames_height_width"] == [1, 40, 76]


def test_cli_inpaint_keeps_the_outside(files):
    folder, clip, mask = files
    assert main(["inpaint", str(folder / "frames"), "--mask", str(folder / "mask.png"), "-o",
                 str(folder / "filled"), "--sheet", str(folder / "sheet.png"), *FAST]) == 0
    filled = read_video(folder / "filled").frames  # PNG frames: exact
    assert filled.shape == clip.shape and np.array_equal(filled[:, ~mask], clip[:, ~mask])
    assert np.abs(filled[:, mask].astype(int) - clip[:, mask]).mean() > 3
    record = json.loads((folder / "filled.json").read_text())
    assert record["options"] == {"mask": str((folder / "mask.png").resolve()), "fill": "cue"}
    assert read_video(folder / "sheet.png").is_image

    assert main(["inpaint", str(folder / "frames"), "--mask", str(folder / "mask.png"), "-o",
                 str(folder / "filled.mp4"), "--fill", "smooth", *FAST]) == 0
    coded = read_video(folder / "filled.mp4").frames.astype(int)
    assert coded.shape == clip.shape
    # H.264: to the codec's precision, i.e. as close as the input itself comes back from an mp4 (this
    # small noisy clip loses about 8 grey levels on average through yuv420p and CRF 16)
    error = np.abs(coded[:, ~mask] - clip[:, ~mask]).mean()
    codec = np.abs(read_video(folder / "clip.mp4").frames[:, ~mask].astype(int) - clip[:, ~mask]).mean()
    assert error < 1.15 * codec + 0.5, (error, codec)

    # an image through the real entry point, quietly: nothing on stderr at all
    r = patchvid_cli("inpaint", folder / "photo.png", "--mask", folder / "mask.png", "-o", folder / "photo_out.png",
                     *FAST)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    out = read_video(folder / "photo_out.png")
    assert out.is_image and np.array_equal(out.frames[0][~mask], clip[0][~mask])
    assert (folder / "photo_out.png.json").exists()


def failing_commands(folder):
    f = {name: str(folder / name) for name in ("frames", "clip.mp4", "photo.png", "mask.png", "out.mp4", "out.png")}
    small = str(save_mask(folder / "small_mask.png", np.ones((20, 32), bool)))
    empty = str(save_mask(folder / "empty_mask.png", np.zeros((24, 32), bool)))
    short = str(folder / "short_mask")
    write_video(short, np.full((3, 24, 32, 3), 255, np.uint8))
    return {
        "missing input": (["retarget", str(folder / "nope.mp4"), "-o", f["out.mp4"], "--width", "40"], ["not found"]),
        "missing appearance": (["analogy", f["clip.mp4"], str(folder / "nope.mp4"), "-o", f["out.mp4"]],
                               ["not found"]),
        "missing mask": (["inpaint", f["frames"], "--mask", str(folder / "nope.png"), "-o", f["out.mp4"]],
                         ["not found"]),
        "mask size": (["inpaint", f["frames"], "--mask", small, "-o", f["out.mp4"]], ["32x20", "32x24"]),
        "mask frames": (["inpaint", f["frames"], "--mask", short, "-o", f["out.mp4"]], ["3 frames", "4"]),
        "empty mask": (["inpaint", f["clip.mp4"], "--mask", empty, "-o", f["out.mp4"]], ["empty"]),
        "no size": (["retarget", f["clip.mp4"], "-o", f["out.mp4"]], ["--width"]),
        "too small": (["retarget", f["clip.mp4"], "-o", f["out.mp4"], "--width", "4"], ["width", "too small"]),
        "image frames": (["retarget", f["photo.png"], "-o", f["out.png"], "--frames", "3"], ["--frames"]),
        "image in motion mode": (["analogy", f["photo.png"], f["clip.mp4"], "-o", f["out.mp4"]], ["colours"]),
        "negative weight": (["analogy", f["clip.mp4"], f["clip.mp4"], "-o", f["out.mp4"], "--weight", "-1"],
                            ["--weight"]),
        "output is input": (["retarget", f["clip.mp4"], "-o", f["clip.mp4"], "--width", "40", "-y"],
                            ["overwrite the input"]),
        "output is mask": (["inpaint", f["frames"], "--mask", f["mask.png"], "-o", f["mask.png"], "-y"],
                           ["overwrite the input"]),
    }


FAILURES = ["missing input", "missing appearance", "missing mask", "mask size", "mask frames", "empty mask",
            "no size", "too small", "image frames", "image in motion mode", "negative weight", "output is input",
            "output is mask"]


@pytest.mark.parametrize("case", FAILURES)
def test_cli_bad_inputs_fail_in_one_line_and_write_nothing(files, capsys, case):
    folder, _, _ = files
    args, words = failing_commands(folder)[case]
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    capsys.readouterr()
    assert main(args) == 1
    one_error_line(capsys.readouterr().err, *words)
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before  # no output, no record


@pytest.mark.parametrize("case", ["mask size", "image in motion mode"])
def test_cli_bad_inputs_through_a_real_process(files, case):
    folder, _, _ = files
    args, words = failing_commands(folder)[case]
    before = sorted(p.name for p in folder.iterdir())
    r = patchvid_cli(*args)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    one_error_line(r.stderr, *words)
    assert sorted(p.name for p in folder.iterdir()) == before


BAD_OPTIONS = [
    ["retarget", "{clip}", "-o", "{out}", "--width", "0"],
    ["retarget", "{clip}", "-o", "{out}", "--height", "wide"],
    ["retarget", "{clip}", "-o", "{out}", "--scale", "1,2"],
    ["analogy", "{clip}", "{clip}", "-o", "{out}", "--mode", "sketch"],
    ["analogy", "{clip}", "{clip}", "-o", "{out}", "--levels", "0"],
    ["collage", "{clip}", "{clip}", "-o", "{out}", "--seed", "x"],
    ["inpaint", "{clip}", "--mask", "{mask}", "-o", "{out}", "--fill", "blur"],
    ["inpaint", "{clip}", "-o", "{out}"],  # no --mask
]


@pytest.mark.parametrize("args", BAD_OPTIONS, ids=lambda a: " ".join(a[:1] + a[-2:]))
def test_cli_bad_option_values_exit_2(files, capsys, args):
    folder, _, _ = files
    names = {"clip": str(folder / "clip.mp4"), "mask": str(folder / "mask.png"), "out": str(folder / "out.mp4")}
    with pytest.raises(SystemExit) as exit_:
        main([a.format(**names) for a in args])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err and "Traceback" not in err
    assert not (folder / "out.mp4").exists()


def test_cli_bad_option_value_through_a_real_process(files):
    folder, _, _ = files
    r = patchvid_cli("inpaint", folder / "clip.mp4", "--mask", folder / "mask.png", "-o", folder / "o.mp4",
                     "--fill", "blur")
    assert r.returncode == 2 and "Traceback" not in r.stderr and "--fill" in r.stderr
    assert not (folder / "o.mp4").exists()
