"""``patchvid retarget | analogy | collage | inpaint`` through the real command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from patchvid.cli import main
from patchvid.media import read_video, write_video

from ..conftest import band_clip, make_clip, one_error_line, patchvid_cli, save_mask, square_clip

FAST = ["-q", "--iterations", "2"]


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
    assert record["options"]["frames_height_width"] == [6, None, 40] and record["samples"][0]["levels"]
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
        "output is input": (["retarget", f["clip.mp4"], "-o", f["clip.mp4"], "--width", "40", "-y"],
                            ["overwrite the input"]),
        "output is mask": (["inpaint", f["frames"], "--mask", f["mask.png"], "-o", f["mask.png"], "-y"],
                           ["overwrite the input"]),
    }


FAILURES = ["missing input", "missing appearance", "missing mask", "mask size", "mask frames", "empty mask",
            "no size", "too small", "image frames", "image in motion mode", "output is input",
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
    ["analogy", "{clip}", "{clip}", "-o", "{out}", "--weight", "-1"],
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

