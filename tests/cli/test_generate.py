"""The command line, run as a user runs it: a separate process, exit status, one-line messages,
and no file left behind on failure."""

import json
import os
import signal
import subprocess
import sys
import time

import av
import numpy as np
import pytest
from PIL import Image

from patchvid import GenerateSettings
from patchvid.cli import main
from patchvid.media import read_video, write_video

from ..conftest import assert_clean_failure, make_clip, patchvid_cli

FAST = ["--iterations", "1", "-q"]


@pytest.fixture
def small_video(tmp_path):
    path = tmp_path / "in.mp4"
    write_video(path, make_clip(5, 20, 24), 10)
    return path


def test_missing_file(tmp_path):
    assert_clean_failure(patchvid_cli("generate", tmp_path / "nope.mp4", "-o", tmp_path / "o.mp4"), "not found",
                         folder=tmp_path)


def test_file_that_is_not_media(tmp_path):
    (tmp_path / "notes.mp4").write_text("this is not a video\n" * 50)
    assert_clean_failure(patchvid_cli("generate", tmp_path / "notes.mp4", "-o", tmp_path / "o.mp4"),
                         "not a readable", folder=tmp_path, expected=["notes.mp4"])


def test_empty_file(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert_clean_failure(patchvid_cli("generate", tmp_path / "empty.mp4", "-o", tmp_path / "o.mp4"), "empty",
                         folder=tmp_path, expected=["empty.mp4"])


def test_truncated_video(tmp_path, small_video):
    data = small_video.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(data[: len(data) // 2])
    result = patchvid_cli("generate", tmp_path / "cut.mp4", "-o", tmp_path / "o.mp4")
    assert_clean_failure(result, "cut.mp4", folder=tmp_path, expected=["cut.mp4", "in.mp4"])


def test_corrupt_video_body(tmp_path):
    path = tmp_path / "bad.mp4"
    write_video(path, make_clip(8, 32, 32), 10)
    data = bytearray(path.read_bytes())
    at = data.find(b"mdat")  # keep the container's index, destroy the coded pictures
    size = int.from_bytes(data[at - 4 : at], "big")
    data[at + 4 : at - 4 + size] = bytes(size - 8)
    path.write_bytes(bytes(data))
    result = patchvid_cli("generate", path, "-o", tmp_path / "o.mp4")
    assert_clean_failure(result, "corrupt", "bad.mp4", folder=tmp_path, expected=["bad.mp4"])


def test_video_with_no_frames(tmp_path):
    path = tmp_path / "hollow.mkv"
    with av.open(str(path), "w") as c:  # a header and a stream, but no frames
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 32, 32, "yuv420p"
        c.start_encoding()
    result = patchvid_cli("generate", path, "-o", tmp_path / "o.mp4")
    assert_clean_failure(result, "frames", folder=tmp_path, expected=["hollow.mkv"])


def test_empty_folder(tmp_path):
    (tmp_path / "frames").mkdir()
    assert_clean_failure(patchvid_cli("generate", tmp_path / "frames", "-o", tmp_path / "o.mp4"), "no frames")


def test_folder_with_mixed_frame_sizes(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    Image.new("RGB", (32, 24)).save(folder / "1.png")
    Image.new("RGB", (30, 24)).save(folder / "2.png")
    assert_clean_failure(patchvid_cli("generate", folder, "-o", tmp_path / "o.mp4"), "differ in size", "2.png",
                         folder=tmp_path, expected=["frames"])


def test_unwritable_output_paths(tmp_path, small_video):
    r = patchvid_cli("generate", small_video, "-o", tmp_path / "missing" / "o.mp4")
    assert_clean_failure(r, "does not exist")
    (tmp_path / "file").write_text("x")
    assert_clean_failure(patchvid_cli("generate", small_video, "-o", tmp_path / "file" / "o.mp4"), "does not exist")
    assert_clean_failure(patchvid_cli("generate", small_video, "-o", tmp_path / "o.xyz"), "unknown output format")


def test_output_that_would_overwrite_the_input(tmp_path, small_video):
    before = small_video.read_bytes()
    assert_clean_failure(patchvid_cli("generate", small_video, "-o", small_video, "-y"), "overwrite the input")
    assert small_video.read_bytes() == before


def test_existing_output_needs_overwrite(tmp_path, small_video):
    out = tmp_path / "o.mp4"
    out.write_bytes(b"keep me")
    assert_clean_failure(patchvid_cli("generate", small_video, "-o", out, *FAST), "exists", "--overwrite")
    assert out.read_bytes() == b"keep me"
    assert main(["generate", str(small_video), "-o", str(out), "-y", *FAST]) == 0
    assert read_video(out).frames.shape == (5, 20, 24, 3)


def test_request_that_would_not_fit_in_memory_is_refused(tmp_path, small_video):
    result = patchvid_cli("generate", small_video, "-o", tmp_path / "o.mp4", "--scale", "1,400,400")
    assert_clean_failure(result, "GiB", "smaller output", folder=tmp_path, expected=["in.mp4"])


def test_video_result_to_image_file_is_refused_before_work(tmp_path, small_video):
    assert_clean_failure(patchvid_cli("generate", small_video, "-o", tmp_path / "o.png"), "image file", "frames")


def test_bad_option_values_exit_nonzero_without_traceback(tmp_path, small_video):
    for args in (["--patch", "3x0x7"], ["--noise", "-2"], ["--factor", "1.5"], ["--start", "soon"]):
        r = patchvid_cli("generate", small_video, "-o", tmp_path / "o.mp4", *args)
        assert r.returncode != 0 and "Traceback" not in r.stderr, (args, r.stderr)
    assert not (tmp_path / "o.mp4").exists()


def test_greyscale_and_rgba_inputs(tmp_path, capsys):
    rgb = make_clip(1, 24, 24)[0]
    Image.fromarray(rgb).convert("L").save(tmp_path / "grey.png")
    Image.fromarray(rgb).convert("RGBA").save(tmp_path / "rgba.png")
    assert main(["generate", str(tmp_path / "grey.png"), "-o", str(tmp_path / "g.png"), "--iterations", "1"]) == 0
    assert main(["generate", str(tmp_path / "rgba.png"), "-o", str(tmp_path / "a.png"), "--iterations", "1"]) == 0
    assert "alpha channel dropped" in capsys.readouterr().err
    assert read_video(tmp_path / "g.png").frames.shape == (1, 24, 24, 3)
    assert read_video(tmp_path / "a.png").is_image


def test_samples_seeds_and_reports(tmp_path, small_video, capsys):
    args = ["generate", str(small_video), "-o", str(tmp_path / "out.mp4"), "--samples", "2", "--seed", "4",
            "--iterations", "1"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "level" in err and "sample 2/2" in err and "s]" in err  # progress with elapsed time
    first = read_video(tmp_path / "out_000.mp4").frames
    second = read_video(tmp_path / "out_001.mp4").frames
    assert np.abs(first.astype(int) - second).mean() > 3
    report = json.loads((tmp_path / "out_001.mp4.json").read_text())
    assert report["samples"][0]["seed"] == 5
    assert report["settings"]["noise"] == GenerateSettings().noise and report["patchvid"]
    assert report["inputs"]["input"]["frames_height_width"] == [5, 20, 24]
    # the same command again gives the same frames
    assert main(args + ["-y", "-q"]) == 0
    assert np.array_equal(read_video(tmp_path / "out_000.mp4").frames, first)
    assert capsys.readouterr().err == ""  # -q


def test_pattern_outputs_and_single_report(tmp_path, small_video):
    assert main(["generate", str(small_video), "-o", str(tmp_path / "v{}.gif"), "--samples", "2",
                 "--report", str(tmp_path / "run.json"), *FAST]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4", "run.json", "v0.gif", "v1.gif"]
    assert len(json.loads((tmp_path / "run.json").read_text())["samples"]) == 2


def test_frame_folder_output_and_time_range(tmp_path, small_video):
    assert main(["generate", str(small_video), "-o", str(tmp_path / "frames"), "--start", "1f", "--end", "4f",
                 "--scale", "1,1,1.5", *FAST]) == 0
    assert read_video(tmp_path / "frames").frames.shape == (3, 20, 36, 3)


def test_help_states_the_size_cap():
    r = patchvid_cli("generate", "--help")
    assert r.returncode == 0
    text = " ".join(r.stdout.split())  # as read, whatever the terminal's wrapping
    assert "LONGER side" in text and "--samples" in text and "--vote" in text and "'auto'" in text


def test_ctrl_c_leaves_no_partial_output(tmp_path):
    src = tmp_path / "in.mp4"
    write_video(src, make_clip(6, 24, 32), 10)
    proc = subprocess.Popen([sys.executable, "-m", "patchvid", "generate", str(src), "-o", str(tmp_path / "o.mp4"),
                             "--samples", "50"], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not list(tmp_path.glob("o_000.mp4")):  # interrupt mid-run
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "interrupted" in err
    leftovers = [p.name for p in tmp_path.iterdir() if ".partial" in p.name or p.name.startswith(".")]
    assert leftovers == []
    for p in tmp_path.glob("o_*.mp4"):  # finished samples are complete files
        assert read_video(p).frames.shape[0] == 6


def test_sigterm_is_handled_like_ctrl_c(tmp_path):
    src = tmp_path / "in.mp4"
    write_video(src, make_clip(8, 40, 64), 10)
    proc = subprocess.Popen([sys.executable, "-m", "patchvid", "generate", str(src), "-o", str(tmp_path / "o.mp4"),
                             "--samples", "50"], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    first = proc.stderr.readline()  # the command is running (and its handlers are set) once it reports
    assert "read" in first, first
    proc.terminate()
    err = first + proc.communicate(timeout=60)[1]
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_contact_sheet(tmp_path, small_video):
    assert main(["generate", str(small_video), "-o", str(tmp_path / "o.mp4"), "--samples", "2",
                 "--sheet", str(tmp_path / "sheet.png"), *FAST]) == 0
    sheet = read_video(tmp_path / "sheet.png").frames[0]
    assert sheet.shape[0] == 3 * 120 + 2 * 4  # the input and two samples, one row each
    r = patchvid_cli("generate", small_video, "-o", tmp_path / "p.mp4", "--sheet", tmp_path / "sheet.mp4")
    assert_clean_failure(r, "--sheet")


# paper: half of 5 frames, and at least a patch's 3
@pytest.mark.parametrize(("method", "noise", "frames"), [("default", 4.0, 5), ("paper", 5.0, 3), ("clean", 3.0, 5)])
def test_method_presets_set_noise_and_length(tmp_path, small_video, method, noise, frames):
    out = tmp_path / "o.mp4"
    assert main(["generate", str(small_video), "-o", str(out), "--method", method, *FAST]) == 0
    record = json.loads(out.with_name("o.mp4.json").read_text())
    assert record["options"]["method"] == method
    assert record["settings"]["noise"] == GenerateSettings.preset(method).noise == noise
    assert read_video(out).frames.shape[0] == frames


def test_explicit_options_win_over_the_method_preset(tmp_path, small_video):
    out = tmp_path / "o.mp4"
    # 4 is the default's noise: given explicitly it must still beat the paper's 5
    assert main(["generate", str(small_video), "-o", str(out), "--method", "paper", "--noise", "4",
                 "--scale", "1", *FAST]) == 0
    record = json.loads(out.with_name("o.mp4.json").read_text())
    assert record["settings"]["noise"] == 4.0 and record["settings"]["scale"] == [1.0, 1.0, 1.0]
    assert read_video(out).frames.shape[0] == 5


def test_unknown_preset_is_refused(tmp_path, small_video):
    r = patchvid_cli("generate", small_video, "-o", tmp_path / "o.mp4", "--method", "fast")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "argument --method: invalid choice: 'fast'" in r.stderr.strip().splitlines()[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_noise_mode_and_the_noise_used_are_recorded(tmp_path, small_video):
    out = tmp_path / "o.mp4"
    assert main(["generate", str(small_video), "-o", str(out), "--noise-mode", "adaptive", "--noise", "4",
                 *FAST]) == 0
    record = json.loads(out.with_name("o.mp4.json").read_text())
    assert record["settings"]["adaptive_noise"] is True and record["settings"]["noise"] == 4.0
    assert record["plan"]["noise_used"] != 4.0 and record["plan"]["noise_used"] > 0
    assert main(["generate", str(small_video), "-o", str(out), "-y", "--noise-mode", "fixed", *FAST]) == 0
    record = json.loads(out.with_name("o.mp4.json").read_text())
    assert record["settings"]["adaptive_noise"] is False and record["plan"]["noise_used"] == record["settings"]["noise"]
