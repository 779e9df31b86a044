"""Long outputs written window by window in constant memory, for every kind of output: a folder of
PNG frames gets each frame as it is made (in the temporary folder that becomes the output), ``-``
gets each piece, ``extend --before`` spools the frames made before the clip to a hidden raw file
beside the output; the outputs are the ones gathering every frame gave, and a run that fails or is
interrupted midway leaves nothing behind."""

import io
import json
import subprocess
import sys

import av
import numpy as np
import pytest
from PIL import Image

import patchvid
from patchvid.cli import main
from patchvid.cli.runner import Run
from patchvid.errors import MediaError
from patchvid.media import read_video, write_video

from ..conftest import make_clip, patchvid_cli
from ..media.footage import write_with_sound

FAST = ["--iterations", "1", "-q"]
LONG = ["--frames", "20", "--window", "8", "--fps", "10", *FAST]  # 3 windows of 8 frames, the last cut to 4

# the write_stream of before this change, for comparison: every frame gathered, then Run.write
OLD_GATHERED = """
import sys
import numpy as np
from patchvid.cli import main, runner

def gathered(self, path, pieces, like, count):
    frames, timeline = [], []
    for piece, sources in pieces:
        frames.append(piece)
        timeline += list(range(len(piece))) if sources is None else list(sources)
    self.write(path, np.concatenate(frames), like, timeline=timeline)

runner.Run.write_stream = gathered
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def frames_dir(tmp_path_factory):
    """A folder of PNG frames (8 frames of 24x32): lossless, so frames compare exactly."""
    folder = tmp_path_factory.mktemp("input") / "frames"
    folder.mkdir()
    clip = make_clip(8, 24, 32)
    for i, frame in enumerate(clip):
        Image.fromarray(frame).save(folder / f"{i:03d}.png")
    return folder, clip


@pytest.fixture(scope="module")
def lossless(frames_dir, tmp_path_factory):
    """The windowed generation written through the video path without loss: its frames and sheet."""
    folder, _ = frames_dir
    where = tmp_path_factory.mktemp("lossless")
    result = patchvid_cli("generate", folder, "-o", where / "v.mkv", "--lossless", "--sheet", where / "sheet.png",
                          *LONG)
    assert result.returncode == 0, result.stderr
    frames = read_video(where / "v.mkv").frames
    assert frames.shape == (20, 24, 32, 3)
    return frames, (where / "sheet.png").read_bytes()


def partials(folder):
    """The hidden temporary files and folders in ``folder``."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def wrap_pieces(monkeypatch, after_first):
    """Make every ``Run.write_stream`` call ``after_first(path)`` from inside its pieces iterator, once
    the first piece was written and the second made (the writing itself is the real one)."""
    original = Run.write_stream

    def write_stream(self, path, pieces, like, count):
        def wrapped():
            for n, piece in enumerate(pieces):
                if n == 1:
                    after_first(path)
                yield piece

        return original(self, path, wrapped(), like, count)

    monkeypatch.setattr(Run, "write_stream", write_stream)


# ----------------------------------------------------------------------------------- PNG frames


def test_windowed_png_folder_is_the_frames_of_the_video_path_as_write_video_writes_them(frames_dir, lossless, out):
    folder, _ = frames_dir
    frames, sheet = lossless
    target = out / "png"
    result = patchvid_cli("generate", folder, "-o", target, "--sheet", out / "sheet.png", *LONG)
    assert result.returncode == 0, result.stderr
    assert np.array_equal(read_video(target).frames, frames)
    write_video(out / "reference", frames)  # the one-go folder writer: same names, same bytes
    names = sorted(p.name for p in (out / "reference").iterdir())
    assert names == [f"{i:05d}.png" for i in range(1, 21)]
    assert sorted(p.name for p in target.iterdir()) == names
    for name in names:
        assert (target / name).read_bytes() == (out / "reference" / name).read_bytes(), name
    assert (out / "sheet.png").read_bytes() == sheet  # the same frames on the contact sheet
    sample = json.loads((out / "png.json").read_text())["samples"][0]
    assert sample["frames"] == 20 and sample["output"] == str(target)
    assert [w["solved_frames"] for w in sample["windows"]] == [8, 16, 16]  # a generated window, then two continuing it
    assert partials(out) == []


def test_png_frames_are_written_as_the_windows_come(frames_dir, lossless, out, monkeypatch, capsys):
    folder, _ = frames_dir
    seen = []

    def look(path):  # after the first window (8 frames), before the second is made
        temporary = [p for p in out.iterdir() if p.name.startswith(".png.") and p.name.endswith(".partial")]
        seen.append((path.exists(), [sorted(q.name for q in p.iterdir()) for p in temporary]))

    wrap_pieces(monkeypatch, look)
    assert main(["generate", str(folder), "-o", str(out / "png"), *LONG]) == 0, capsys.readouterr().err
    assert seen == [(False, [[f"{i:05d}.png" for i in range(1, 9)]])]  # one temporary folder, 8 frames in it
    assert np.array_equal(read_video(out / "png").frames, lossless[0])
    assert partials(out) == []


@pytest.mark.parametrize("stop, code", [(KeyboardInterrupt, 130), (MediaError("disk on fire"), 1)])
def test_interrupted_png_folder_stream_leaves_nothing(frames_dir, out, monkeypatch, capsys, stop, code):
    folder, _ = frames_dir
    made = []

    def fail(path):
        made.extend(p.name for p in out.iterdir())  # the temporary folder holds the first window
        raise stop

    wrap_pieces(monkeypatch, fail)
    assert main(["generate", str(folder), "-o", str(out / "png"), *LONG]) == code
    assert len(made) == 1 and made[0].startswith(".png.") and made[0].endswith(".partial")
    assert list(out.iterdir()) == []  # no output, no temporary folder, no record
    assert ("interrupted" if code == 130 else "disk on fire") in capsys.readouterr().err


# ----------------------------------------------------------------------------------- GIF


def test_windowed_gif_is_the_one_go_gif_and_says_it_is_held(frames_dir, lossless, out):
    folder, _ = frames_dir
    result = patchvid_cli("generate", folder, "-o", out / "a.gif", *LONG[:-1])  # not -q: the notes
    assert result.returncode == 0, result.stderr
    notes = [line for line in result.stderr.splitlines() if "held in memory" in line]
    assert len(notes) == 1 and "note: " in notes[0] and "20 frames" in notes[0] and "MiB" in notes[0], result.stderr
    write_video(out / "reference.gif", lossless[0], 10)
    assert (out / "a.gif").read_bytes() == (out / "reference.gif").read_bytes()


# ----------------------------------------------------------------------------------- standard output


@pytest.mark.parametrize("sound", [False, True])
def test_stdout_stream_is_the_bytes_of_the_gathered_write(frames_dir, tmp_path, sound):
    folder, clip = frames_dir
    source = folder
    if sound:  # rebuilt block by block, as for a video file written window by window: the same samples
        source = tmp_path / "in.mp4"
        write_with_sound(source, clip, fps=10)
    args = ["generate", str(source), "-o", "-", *LONG]
    streamed = subprocess.run([sys.executable, "-m", "patchvid", *args], capture_output=True, timeout=300)
    gathered = subprocess.run([sys.executable, "-c", OLD_GATHERED, *args], capture_output=True, timeout=300)
    assert streamed.returncode == 0 and gathered.returncode == 0, (streamed.stderr, gathered.stderr)
    assert streamed.stdout == gathered.stdout
    with av.open(io.BytesIO(streamed.stdout)) as c:
        assert [s.type for s in c.streams] == (["video", "audio"] if sound else ["video"])
        assert sum(1 for _ in c.decode(video=0)) == 20


# ----------------------------------------------------------------------------------- extend --before


BEFORE = ["--before", "20f", "--after", "5f", "--window", "8", "--seed", "3", *FAST]
SPOOL_BYTES = 20 * 24 * 32 * 3 + 20 * 8  # the before-frames, then their source frames (int64)


def spooled(folder):
    return [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".before.partial")]


def test_extend_before_is_spooled_beside_the_output_and_gives_the_library_frames(frames_dir, out, monkeypatch,
                                                                                 capsys):
    folder, clip = frames_dir
    sizes = []
    solve_window = Run.solve_window

    def watching(self, problem, seed, label):  # while the windows after the clip are made
        if label.startswith("after"):
            sizes.extend((p.name, p.stat().st_size) for p in spooled(out))
        return solve_window(self, problem, seed, label)

    monkeypatch.setattr(Run, "solve_window", watching)
    assert main(["extend", str(folder), "-o", str(out / "ext"), *BEFORE]) == 0, capsys.readouterr().err
    assert len(sizes) == 1 and sizes[0][0].startswith(".ext.") and sizes[0][1] == SPOOL_BYTES, sizes
    expected = patchvid.extend(clip, before=20, after=5, window=8, seed=3, iterations=1)
    made = read_video(out / "ext").frames
    assert made.shape == (33, 24, 32, 3)
    assert np.array_equal(made, expected)
    assert np.array_equal(made[20:28], clip)
    record = json.loads((out / "ext.json").read_text())
    sample = record["samples"][0]
    assert sample["frames"] == 33 and record["options"]["windows"] == 4
    assert [w["solved_frames"] for w in sample["windows"]] == [16, 16, 12, 13]
    assert sorted(p.name for p in out.iterdir()) == ["ext", "ext.json"]  # the spool is gone


def test_extend_before_to_a_lossless_video_is_the_library_frames(frames_dir, out):
    folder, clip = frames_dir
    result = patchvid_cli("extend", folder, "-o", out / "ext.mkv", "--lossless", *BEFORE)
    assert result.returncode == 0, result.stderr
    expected = patchvid.extend(clip, before=20, after=5, window=8, seed=3, iterations=1)
    assert np.array_equal(read_video(out / "ext.mkv").frames, expected)
    assert sorted(p.name for p in out.iterdir()) == ["ext.mkv", "ext.mkv.json"]


def _interrupt_after_window(monkeypatch):
    """Ctrl-C while the first window after the clip is made (the spool full, the output begun)."""
    solve_window = Run.solve_window

    def interrupted(self, problem, seed, label):
        if label.startswith("after"):
            assert len(spooled(self.outputs[0].parent)) == 1
            raise KeyboardInterrupt
        return solve_window(self, problem, seed, label)

    monkeypatch.setattr(Run, "solve_window", interrupted)


def _fail_inside_pieces(monkeypatch):
    """An error raised from inside the pieces iterator, after the first before-block was written."""

    def fail(path):
        assert len(spooled(path.parent)) == 1
        raise MediaError("the disk went away")

    wrap_pieces(monkeypatch, fail)


def _output_taken_meanwhile(monkeypatch):
    """A bad output found late: another process makes the output while this one works (no -y)."""
    solve_window = Run.solve_window

    def taken(self, problem, seed, label):
        if label.startswith("after"):
            self.outputs[0].mkdir()
        return solve_window(self, problem, seed, label)

    monkeypatch.setattr(Run, "solve_window", taken)


@pytest.mark.parametrize("how, code, left", [(_interrupt_after_window, 130, []), (_fail_inside_pieces, 1, []),
                                             (_output_taken_meanwhile, 1, ["ext"])])
def test_extend_before_spool_is_removed_when_the_run_fails(frames_dir, out, monkeypatch, capsys, how, code, left):
    folder, _ = frames_dir
    how(monkeypatch)
    assert main(["extend", str(folder), "-o", str(out / "ext"), *BEFORE]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == left, err  # no spool, no temporary folder, no record
    if left:
        assert "output exists" in err and list((out / "ext").iterdir()) == []  # the other process's, untouched
