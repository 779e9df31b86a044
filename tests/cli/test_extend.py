"""``patchvid extend``, ``generate --duration/--frames/--loop/--tile`` and ``retarget --loop``, run as a
user runs them: exact kept frames, window-by-window outputs, sound, records, and one-line refusals."""

import json

import av
import numpy as np
import pytest
from PIL import Image

from patchvid.media import read_video, write_video

from ..conftest import assert_clean_failure, make_clip, patchvid_cli
from ..media.footage import write_with_sound

FAST = ["--iterations", "1", "-q"]


@pytest.fixture
def frames_dir(tmp_path):
    """A folder of PNG frames: lossless, so kept frames can be compared exactly."""
    folder = tmp_path / "frames"
    folder.mkdir()
    clip = make_clip(8, 24, 32)
    for i, frame in enumerate(clip):
        Image.fromarray(frame).save(folder / f"{i:03d}.png")
    return folder, clip


def test_extend_after_and_before_keeps_the_frames_exactly(frames_dir, out):
    folder, clip = frames_dir
    target = out / "longer"
    result = patchvid_cli("extend", folder, "-o", target, "--after", "5f", "--before", "3f", *FAST)
    assert result.returncode == 0, result.stderr
    made = read_video(target).frames
    assert made.shape == (3 + 8 + 5, 24, 32, 3)
    assert np.array_equal(made[3:11], clip)
    record = json.loads((out / "longer.json").read_text())
    assert record["options"]["after_frames"] == 5 and record["options"]["before_frames"] == 3
    assert record["samples"][0]["source_frames"][3:11] == list(range(8))


def test_long_extension_is_made_in_windows_and_keeps_the_clip(frames_dir, out):
    folder, clip = frames_dir
    target = out / "long.mkv"
    result = patchvid_cli("extend", folder, "-o", target, "--after", "20f", "--window", "8", "--lossless", *FAST,
                          "--fps", "10")
    assert result.returncode == 0, result.stderr
    made = read_video(target).frames
    assert made.shape[0] == 8 + 20
    assert np.array_equal(made[:8], clip)  # lossless H.264 in RGB round trips exactly
    record = json.loads((out / "long.mkv.json").read_text())
    assert record["options"]["windows"] == 3
    assert [w["solved_frames"] for w in record["samples"][0]["windows"]] == [16, 16, 12]


def test_extension_seeds(frames_dir, out):
    folder, _ = frames_dir
    runs = {}
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        result = patchvid_cli("extend", folder, "-o", out / name, "--after", "4f", "--seed", seed, *FAST)
        assert result.returncode == 0, result.stderr
        runs[name] = read_video(out / name).frames
    assert np.array_equal(runs["a"], runs["b"])
    assert not np.array_equal(runs["a"][8:], runs["c"][8:])


def test_generate_frames_streams_windows_with_sound(tmp_path, out):
    source = tmp_path / "in.mp4"
    write_with_sound(source, make_clip(8, 24, 32), fps=25)
    target = out / "long.mp4"
    result = patchvid_cli("generate", source, "-o", target, "--frames", "40", "--window", "10", *FAST)
    assert result.returncode == 0, result.stderr
    with av.open(str(target)) as c:
        video = c.streams.video[0]
        audio = c.streams.audio[0]
        frames = sum(1 for _ in c.decode(video))
        c.seek(0)
        samples = sum(f.samples for f in c.decode(audio))
    assert frames == 40
    # the sound lasts as long as the pictures (AAC adds its priming at most)
    assert abs(samples / audio.rate - 40 / 25) < 0.05
    record = json.loads((out / "long.mp4.json").read_text())
    sample = record["samples"][0]
    assert sample["sound"]["kept"] and sample["sound"]["how"] == "rebuilt"
    assert len(sample["windows"]) == 4 and sample["frames"] == 40


def test_generate_duration_in_one_window_is_the_plain_sample(frames_dir, out):
    folder, _ = frames_dir
    one = patchvid_cli("generate", folder, "-o", out / "a", "--frames", "12", *FAST, "--fps", "10")
    two = patchvid_cli("generate", folder, "-o", out / "b", "--scale", "1.5,1,1", *FAST, "--fps", "10")
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert np.array_equal(read_video(out / "a").frames, read_video(out / "b").frames)


def test_generate_loop_wraps_smoothly(frames_dir, out):
    folder, _ = frames_dir
    result = patchvid_cli("generate", folder, "-o", out / "loop", "--loop", "--iterations", "2", "-q")
    assert result.returncode == 0, result.stderr
    made = read_video(out / "loop").frames.astype(float)
    steps = [np.abs(made[i + 1] - made[i]).mean() for i in range(len(made) - 1)]
    assert np.abs(made[0] - made[-1]).mean() <= 1.5 * max(steps)
    assert json.loads((out / "loop.json").read_text())["options"]["loop"] is True


def test_generate_tile_of_an_image(tmp_path, out):
    image = tmp_path / "t.png"
    Image.fromarray(make_clip(1, 32, 48)[0]).save(image)
    result = patchvid_cli("generate", image, "-o", out / "tile.png", "--tile", "x", *FAST)
    assert result.returncode == 0, result.stderr
    assert np.asarray(Image.open(out / "tile.png")).shape == (32, 48, 3)


def test_retarget_loop(frames_dir, out):
    folder, _ = frames_dir
    result = patchvid_cli("retarget", folder, "-o", out / "r", "--frames", "12", "--loop", *FAST)
    assert result.returncode == 0, result.stderr
    assert read_video(out / "r").frames.shape[0] == 12


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--after", "0"], ["more than zero"]),
        (["--after=-2s"], ["negative"]),
        (["--after", "0f"], ["more than zero"]),
        (["--after", "soon"], ["not a time"]),
        ([], ["--after"]),
    ],
)
def test_extend_bad_durations(frames_dir, out, args, words):
    folder, _ = frames_dir
    result = patchvid_cli("extend", folder, "-o", out / "x.mp4", *args)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert all(w in result.stderr for w in words), result.stderr
    assert list(out.iterdir()) == []


def test_extend_beyond_the_disk_is_refused_at_once(tmp_path, out):
    source = tmp_path / "big.mkv"
    write_video(source, np.full((2, 512, 512, 3), 90, np.uint8), 25)
    result = patchvid_cli("extend", source, "-o", out / "x", "--after", "10000000f")  # 2.6 Tpx of PNG frames
    assert_clean_failure(result, "on disk", folder=out)


def test_extend_an_image_is_refused(tmp_path, out):
    image = tmp_path / "i.png"
    Image.fromarray(make_clip(1, 24, 32)[0]).save(image)
    assert_clean_failure(patchvid_cli("extend", image, "-o", out / "x.png", "--after", "3f"), "image",
                         folder=out)


def test_generate_length_clashes(frames_dir, out):
    folder, _ = frames_dir
    assert_clean_failure(patchvid_cli("generate", folder, "-o", out / "x", "--frames", "9", "--duration", "2"),
                         "not both", folder=out)
    assert_clean_failure(patchvid_cli("generate", folder, "-o", out / "x", "--frames", "9", "--scale", "2,1,1"),
                         "not both", folder=out)


def test_generate_mp4_input_keeps_rate(tmp_path, out):
    source = tmp_path / "in.mp4"
    write_video(source, make_clip(6, 24, 32), 12)
    result = patchvid_cli("generate", source, "-o", out / "o.mp4", "--duration", "2", "--window", "8", *FAST)
    assert result.returncode == 0, result.stderr
    video = read_video(out / "o.mp4")
    assert video.fps == 12 and video.shape[0] == 24
