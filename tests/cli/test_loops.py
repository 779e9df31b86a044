"""``patchvid loop | texture | cinemagraph | blend`` through the real command line."""

import json

import numpy as np
import pytest
from PIL import Image

from patchvid.cli import main
from patchvid.media import read_video, write_video

from ..conftest import assert_clean_failure, needs_shared_data, orbit_clip, patchvid_cli, save_mask


@pytest.fixture
def orbit(tmp_path):
    """A 48-frame clip with a period of 8 frames, as a lossless folder of PNG frames... and its frames."""
    clip = orbit_clip(48, 8, height=32, width=40, seed=1)
    path = tmp_path / "orbit"
    write_video(path, clip)
    return path, clip


def test_loop_finds_whole_periods_and_records_the_seam(tmp_path, orbit, capsys):
    path, clip = orbit
    out, record = tmp_path / "loop.gif", tmp_path / "loop.json"
    assert main(["loop", str(path), "-o", str(out), "--min-length", "10f", "--json", str(record)]) == 0
    printed = capsys.readouterr().out
    assert "seam ratio" in printed and "before" in printed and "after" in printed
    r = json.loads(record.read_text())
    assert r["loop"]["length"] % 8 == 0 and r["loop"]["length"] >= 10
    assert 0.7 < r["seam_ratio"]["before"] < 1.3
    assert r["blend"] == {"method": "crossfade", "crossfade_frames": 5, "screen": None}
    video = read_video(out)
    assert video.frames.shape[0] == r["loop"]["length"]
    assert video.fps == 25  # the folder stores no rate: 25, which GIF stores exactly
    with Image.open(out) as gif:
        assert gif.info.get("loop") == 0  # loops forever


def test_loop_with_poisson_lowers_a_visible_seam(tmp_path, capsys):
    clip = orbit_clip(40, 10, height=24, width=32, drift=3.0, seed=2)
    write_video(tmp_path / "drift", clip)
    record = tmp_path / "r.json"
    code = main(["loop", str(tmp_path / "drift"), "-o", str(tmp_path / "o.mp4"), "--blend", "poisson",
                 "--min-length", "20f", "--json", str(record), "-q"])
    assert code == 0
    assert capsys.readouterr().out == ""  # -q: nothing printed
    seam = json.loads(record.read_text())["seam_ratio"]
    assert seam["before"] > 2 and seam["after"] < 0.6 * seam["before"]


def test_gif_rate_is_rounded_to_what_gif_stores(tmp_path):
    write_video(tmp_path / "in.mp4", orbit_clip(30, 6), 30)
    assert main(["loop", str(tmp_path / "in.mp4"), "-o", str(tmp_path / "o.gif"), "-q"]) == 0
    assert read_video(tmp_path / "o.gif").fps == pytest.approx(100 / 3)


def test_texture_is_reproducible_by_seed(tmp_path, orbit):
    path, _ = orbit
    records = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        out, rec = tmp_path / f"{name}.gif", tmp_path / f"{name}.json"
        assert main(["texture", str(path), "-o", str(out), "--duration", "60f", "--seed", str(seed),
                     "--json", str(rec), "-q"]) == 0
        records.append(json.loads(rec.read_text()))
        assert read_video(out).frames.shape[0] == 60
    assert records[0]["jumps"] == records[1]["jumps"]
    assert records[0]["jumps"] != records[2]["jumps"]
    assert all(j["probability"] > 0 for j in records[0]["jumps"])
    assert np.array_equal(read_video(tmp_path / "a.gif").frames, read_video(tmp_path / "b.gif").frames)


def test_texture_duration_in_seconds(tmp_path):
    write_video(tmp_path / "in.mp4", orbit_clip(20, 5), 10)
    assert main(["texture", str(tmp_path / "in.mp4"), "-o", str(tmp_path / "o.mp4"), "--duration", "4.5s",
                 "-q"]) == 0
    out = read_video(tmp_path / "o.mp4")
    assert out.frames.shape[0] == 45 and out.fps == 10


def test_cinemagraph_is_still_outside_the_mask(tmp_path, orbit):
    path, clip = orbit
    mask = np.zeros(clip.shape[1:3], dtype=bool)
    mask[:, :20] = True  # the left half loops
    save_mask(tmp_path / "mask.png", mask)
    out, rec = tmp_path / "c", tmp_path / "c.json"  # a folder of PNG frames: lossless, to check pixels
    assert main(["cinemagraph", str(path), "--mask", str(tmp_path / "mask.png"), "-o", str(out), "--still", "3",
                 "--feather", "1", "--json", str(rec), "-q"]) == 0
    frames = read_video(out).frames
    r = json.loads(rec.read_text())
    assert r["still"] == 3 and r["seam_ratio"]["after"] is not None
    assert np.all(frames[:, :, 26:] == clip[3, :, 26:])  # right side: the still frame, in every frame
    assert np.abs(np.diff(frames[:, :, :14].astype(int), axis=0)).max() > 50  # left side: moving


def test_blend_makes_the_paste_seamless(tmp_path):
    rng = np.random.default_rng(0)
    target = np.clip(rng.normal(120, 3, (6, 32, 40, 3)), 0, 255).astype(np.uint8)
    source = np.clip(rng.normal(40, 3, (6, 16, 16, 3)), 0, 255).astype(np.uint8)
    write_video(tmp_path / "target", target)
    write_video(tmp_path / "source", source)
    mask = np.zeros((16, 16), bool)
    mask[3:13, 3:13] = True
    save_mask(tmp_path / "m.png", mask)
    rec = tmp_path / "b.json"
    assert main(["blend", str(tmp_path / "source"), str(tmp_path / "target"), "--mask", str(tmp_path / "m.png"),
                 "-o", str(tmp_path / "out"), "--offset", "0,8,10", "--json", str(rec), "-q"]) == 0
    out = read_video(tmp_path / "out").frames
    # the dark source takes the target's brightness: no edge, no dark square
    assert abs(out[:, 11:21, 13:23].mean() - 120) < 5
    assert np.array_equal(out[:, :, :8], target[:, :, :8])  # far from the region: untouched
    r = json.loads(rec.read_text())
    assert r["region_voxels"] == 6 * 100 and r["offset_t_y_x"] == [0, 8, 10]


# ----------------------------------------------------------------------------------------- errors


def test_mask_size_mismatch_names_both_sizes(tmp_path, orbit):
    path, _ = orbit
    save_mask(tmp_path / "small.png", np.ones((10, 12), bool))
    result = patchvid_cli("cinemagraph", path, "--mask", tmp_path / "small.png", "-o", tmp_path / "o.gif", "-q")
    assert_clean_failure(result, "12x10", "40x32", folder=tmp_path, expected=["orbit", "small.png"])


def test_empty_mask_is_refused(tmp_path, orbit):
    path, _ = orbit
    save_mask(tmp_path / "empty.png", np.zeros((32, 40), bool))
    result = patchvid_cli("blend", path, path, "--mask", tmp_path / "empty.png", "-o", tmp_path / "o.mp4", "-q")
    assert_clean_failure(result, "selects nothing", folder=tmp_path, expected=["orbit", "empty.png"])


def test_user_errors_are_one_line(tmp_path, orbit, capsys):
    path, _ = orbit
    save_mask(tmp_path / "m.png", np.ones((32, 40), bool))
    Image.fromarray(np.zeros((32, 40, 3), np.uint8)).save(tmp_path / "still.png")
    mask_video = tmp_path / "mv"
    write_video(mask_video, np.full((5, 32, 40, 3), 255, np.uint8))
    cases = [
        (["loop", str(tmp_path / "still.png"), "-o", str(tmp_path / "o.mp4")], "single image"),
        (["loop", str(path), "-o", str(tmp_path / "o.mp4"), "--min-length", "200f"], "at most 47"),
        (["loop", str(path), "-o", str(tmp_path / "o.mp4"), "--max-length", "4f", "--min-length", "10f"], "shorter"),
        (["loop", str(path), "-o", str(tmp_path / "o.txt")], "unknown output format"),
        (["texture", str(path), "-o", str(tmp_path / "o.mp4"), "--duration", "10f", "--first", "47"], "--first"),
        (["cinemagraph", str(path), "--mask", str(mask_video), "-o", str(tmp_path / "o.mp4")], "5 frames"),
        (["cinemagraph", str(path), "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "o.mp4"),
          "--still", "99"], "--still"),
        (["blend", str(path), str(path), "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "o.mp4"),
          "--offset", "0,100,0"], "outside the target"),
        (["blend", str(path), str(path), "--mask", str(tmp_path / "m.png"), "-o", str(tmp_path / "o.mp4")],
         "whole target"),
        (["loop", str(path), "-o", str(path)], "overwrite"),
    ]
    for argv, words in cases:
        assert main(argv + ["-q"]) == 1, argv
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("patchvid: error: ") and words in err[0], (argv, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png", "mv", "orbit", "still.png"]


def test_crossfade_and_poisson_are_exclusive(tmp_path, orbit, capsys):
    path, _ = orbit
    with pytest.raises(SystemExit) as stop:
        main(["loop", str(path), "-o", str(tmp_path / "o.mp4"), "--crossfade", "3", "--blend", "poisson"])
    assert stop.value.code == 2 and "not allowed with" in capsys.readouterr().err
    assert not (tmp_path / "o.mp4").exists()


def test_existing_output_is_kept(tmp_path, orbit, capsys):
    path, _ = orbit
    (tmp_path / "o.mp4").write_bytes(b"precious")
    assert main(["texture", str(path), "-o", str(tmp_path / "o.mp4"), "--duration", "10f", "-q"]) == 1
    assert "exists" in capsys.readouterr().err
    assert (tmp_path / "o.mp4").read_bytes() == b"precious"


# ----------------------------------------------------------------------------------------- real footage


def test_loop_on_real_footage(tmp_path):
    clip = needs_shared_data("videos", "waterfall_456x256.mp4")
    rec = tmp_path / "r.json"
    result = patchvid_cli("loop", clip, "-o", tmp_path / "w.mp4", "--max-size", "228", "--json", rec)
    assert result.returncode == 0, result.stderr
    r = json.loads(rec.read_text())
    assert r["seam_ratio"]["after"] <= r["seam_ratio"]["before"]
    assert read_video(tmp_path / "w.mp4").frames.shape[0] == r["loop"]["length"]


def test_old_option_spellings_still_work(tmp_path, orbit):
    path, _ = orbit
    for name, flag in (("new", "--discount"), ("old", "--alpha")):
        out = tmp_path / f"{name}.gif"
        assert main(["texture", str(path), "-o", str(out), "--duration", "20f", flag, "0.9", "--json",
                     str(tmp_path / f"{name}.json"), "-q"]) == 0
    new, old = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("new", "old"))
    assert new["settings"]["discount"] == old["settings"]["discount"] == 0.9 and new["jumps"] == old["jumps"]
