"""``--labels`` (generate, retarget): each output gets the labels that follow its pixels, written
without loss beside it, checked before the work and listed in its record."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import patchvid
from patchvid.cli import main
from patchvid.media import read_video, write_video

from ..conftest import assert_clean_failure, one_error_line, patchvid_cli
from ..tasks.test_augment import disc_clip

FAST = ["--iterations", "1", "-q"]
PALETTE = {0: (0, 0, 0), 3: (255, 0, 0), 9: (0, 128, 255)}


def colours(ids: np.ndarray) -> np.ndarray:
    out = np.zeros((*ids.shape, 3), np.uint8)
    for i, c in PALETTE.items():
        out[ids == i] = c
    return out


@pytest.fixture
def inputs(tmp_path):
    """``in.mp4`` (the disc clip) and ``labels`` (a folder of its colour-coded ids)."""
    frames, ids = disc_clip()
    write_video(tmp_path / "in.mp4", frames, 25)
    write_video(tmp_path / "labels", colours(ids))
    return tmp_path / "in.mp4", tmp_path / "labels"


def test_each_sample_gets_lossless_labels_and_a_record(inputs, out):
    video, labels = inputs
    assert main(["generate", str(video), "-o", str(out / "s.mp4"), "--labels", str(labels), "--samples", "2",
                 *FAST]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["s_000.mp4", "s_000.mp4.json", "s_000_labels.mp4",
                                                     "s_001.mp4", "s_001.mp4.json", "s_001_labels.mp4"]
    decoded = read_video(video).frames
    for i in range(2):
        written = read_video(out / f"s_{i:03d}_labels.mp4")
        _, expected = patchvid.augment(decoded, colours(disc_clip()[1]), seed=i, iterations=1)
        assert written.shape == (6, 32, 48)
        np.testing.assert_array_equal(written.frames, expected)  # lossless: decoded colour for colour
        record = json.loads((out / f"s_{i:03d}.mp4.json").read_text())
        assert record["samples"][0]["labels"] == {"input": str(labels.resolve()), "vote": "mode", "ids": 3,
                                                  "output": str(out / f"s_{i:03d}_labels.mp4"), "ids_in_output": 3}
        assert record["inputs"]["labels"]["ids"] == 3


@pytest.mark.parametrize("image, output, labels_output",
                         [(False, "s.gif", "s_labels"), (False, "frames", "frames_labels"),
                          (True, "s.jpg", "s_labels.png")])
def test_gifs_folders_and_images_get_png_labels(inputs, out, image, output, labels_output):
    video, labels = inputs
    if image:
        Image.fromarray(read_video(video).frames[0]).save(out.parent / "in.png")
        Image.fromarray(read_video(labels).frames[0]).save(out.parent / "labels.png")
        video, labels = out.parent / "in.png", out.parent / "labels.png"
    assert main(["generate", str(video), "-o", str(out / output), "--labels", str(labels), *FAST]) == 0
    written = read_video(out / labels_output)
    assert written.is_image == image and written.shape == ((1, 32, 48) if image else (6, 32, 48))
    assert {tuple(c) for c in written.frames.reshape(-1, 3)} <= set(PALETTE.values())


def test_full_size_labels_are_shrunk_with_the_input_by_nearest_neighbour(inputs, out, tmp_path):
    video, labels = inputs
    big = np.repeat(np.repeat(read_video(video).frames, 2, 1), 2, 2)
    write_video(tmp_path / "big.mp4", big, 25)
    write_video(tmp_path / "big_labels", np.repeat(np.repeat(read_video(labels).frames, 2, 1), 2, 2))
    assert main(["generate", str(tmp_path / "big.mp4"), "-o", str(out / "s.mp4"), "--labels",
                 str(tmp_path / "big_labels"), "--max-size", "48", *FAST]) == 0
    written = read_video(out / "s_labels.mp4")
    assert written.shape == (6, 32, 48)
    assert {tuple(c) for c in written.frames.reshape(-1, 3)} <= set(PALETTE.values())  # no filtered blends


def test_retarget_labels(inputs, out):
    video, labels = inputs
    argv = ["retarget", str(video), "-o", str(out / "w.mkv"), "--width", "64", "--labels", str(labels), *FAST]
    assert main(argv) == 0
    assert read_video(out / "w_labels.mkv").shape == (6, 32, 64)
    assert json.loads((out / "w.mkv.json").read_text())["samples"][0]["labels"]["vote"] == "mode"


def test_labels_of_another_size_are_one_clean_line(inputs, out):
    video, labels = inputs
    Image.fromarray(np.zeros((20, 48, 3), np.uint8)).save(out.parent / "small.png")
    assert_clean_failure(patchvid_cli("generate", video, "-o", out / "s.mp4", "--labels", out.parent / "small.png"),
                         "labels", "48x20", "48x32", folder=out)


@pytest.mark.parametrize("argv, words", [
    (["--labels", "short"], ["4 frames", "has 6"]),
    (["-o", "-"], ["not -"]),
    (["--frames", "40", "--window", "12"], ["--labels", "window"]),
])
def test_labels_that_cannot_be_made_are_refused_before_the_work(inputs, out, capsys, argv, words):
    video, labels = inputs
    write_video(labels.parent / "short", read_video(labels).frames[:4])
    argv = [str(labels.parent / a) if a == "short" else a for a in argv]
    output = [] if "-o" in argv else ["-o", str(out / "s.mp4")]
    assert main(["generate", str(video), *output, "--labels", str(labels), *argv, *FAST]) == 1  # the last --labels
    one_error_line(capsys.readouterr().err, *words)
    assert list(out.iterdir()) == []


def test_an_existing_label_output_is_kept_without_y(inputs, out, capsys):
    video, labels = inputs
    (out / "s_labels.mp4").write_bytes(b"mine")
    assert main(["generate", str(video), "-o", str(out / "s.mp4"), "--labels", str(labels), *FAST]) == 1
    one_error_line(capsys.readouterr().err, "s_labels.mp4", "exists")
    assert [p.name for p in out.iterdir()] == ["s_labels.mp4"] and (out / "s_labels.mp4").read_bytes() == b"mine"
