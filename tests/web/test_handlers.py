"""The web page's handlers (no browser, no Gradio): command lines per view, progress and error lines,
and real runs through the subprocess runner: a tiny generate, a cancel, a corrupt upload."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from fractions import Fraction

import numpy as np
import pytest
from PIL import Image

import patchvid
from patchvid.errors import InputError, PatchvidError
from patchvid.web import handlers as h

from ..conftest import make_clip


@pytest.fixture
def clip_path(tmp_path):
    path = tmp_path / "clip.mp4"
    patchvid.write_video(path, make_clip(8, 24, 32), Fraction(25))
    return path


def test_generate_argv_keeps_only_what_differs_from_the_defaults():
    argv = h.generate_argv("c.mp4", samples=2, seed=3, max_size="32",
                           method={"--noise": "", "--method": "default", "--patch": "3x7x7", "--iterations": 2,
                                   "--vote": "median"})
    assert argv == ["generate", "c.mp4", "-o", "out/sample.mp4", "--samples", "2", "--seed", "3", "--max-size", "32",
                    "--iterations", "2"]
    # the noise is unset by default (the --method preset's); given, it is passed even at the default's value
    assert h.generate_argv("c.mp4", method={"--noise": "4"})[-2:] == ["--noise", "4"]
    assert h.generate_argv(None, demo=True, samples=1)[:4] == ["generate", "--demo", "-o", "out/sample.mp4"]
    assert h.generate_argv("p.png")[3] == "out/sample.png"  # an image gives an image
    assert "--loop" in h.generate_argv("c.mp4", loop=True)
    with pytest.raises(InputError):
        h.generate_argv(None)
    with pytest.raises(InputError):
        h.generate_argv("c.mp4", method={"--nope": 1})


def test_every_view_builds_a_command_the_cli_parses():
    from patchvid.cli import build_parser

    views = [
        h.generate_argv("c.mp4", samples=3, method={"--alpha": "0.5", "--factor": "0.8"}),
        h.retarget_argv("c.mp4", width=48, frames=10, loop=True),
        h.extend_argv("c.mp4", after="2", before="12f", loop=True),
        h.inpaint_argv("c.mp4", "m.png", fill="smooth", method={"--coarsest-size": "9"}),
        h.cinemagraph_argv("c.mp4", "m.png", still=0, feather=2.5),
        h.analogy_argv("a.mp4", "b.mp4", mode="colours"),
        h.collage_argv("a.png", "b.png"),
        h.loop_argv("c.mp4", min_length="1"),
        h.texture_argv("c.mp4", duration="50f", seed=2),
        h.blend_argv("s.png", "t.mp4", "m.png", offset="0,4,5", mixed=True),
        h.evaluate_argv("c.mp4", ["a.mp4", "b.mp4"], loop=True),
    ]
    parser = build_parser()
    for argv in views:
        args = parser.parse_args(argv)
        assert args.command == argv[0]
        assert shlex.split(h.command_text(argv)) == ["patchvid", *argv]
    assert views[3][views[3].index("--fill") + 1] == "smooth"
    assert views[9][-3:] == ["--offset", "0,4,5", "--mixed"]
    with pytest.raises(InputError):
        h.retarget_argv("c.mp4")
    with pytest.raises(InputError):
        h.extend_argv("c.mp4", loop=True)
    with pytest.raises(InputError):
        h.evaluate_argv("c.mp4", [])


def test_method_options_have_the_cli_defaults_and_help():
    options = {o.flag: o for o in h.options_of("generate")}
    # the noise is the --method preset's unless given
    assert options["--noise"].default == "" and "default 4; paper 5, clean 3" in options["--noise"].help
    assert options["--method"].choices == ("default", "paper", "clean") and options["--method"].default == "default"
    assert options["--patch"].default == "3x7x7" and options["--factor"].default == "0.85"
    assert options["--vote"].choices and options["--alpha"].default == ""
    assert {o.flag: o for o in h.options_of("inpaint")}["--coarsest-size"].default == ""  # chosen per input


@pytest.mark.parametrize("line, fraction", [
    ("[   12.3s] sample 1/2: 40% (ETA 0:00:31)", 0.2),
    ("[    3.0s] sample 2/2: 100% in 0:00:03", 1.0),
    ("[    1.0s] measuring 2 samples: 50% (ETA 0:00:01)", 0.5),
    ("[    1.0s] sample 3/4: 0% (ETA 0:00:01)", 0.5),
])
def test_progress_lines_give_the_fraction_of_the_run(line, fraction):
    assert h.parse_progress(line).fraction == pytest.approx(fraction)


@pytest.mark.parametrize("line", ["[    0.1s] reading clip.mp4", "sample 1/2: 40%", "", "patchvid: error: x"])
def test_other_lines_are_no_progress(line):
    assert h.parse_progress(line) is None


def test_the_error_line_is_found():
    err = "[   0.1s] reading x\npatchvid: error: cannot read x.mp4: no video\n"
    assert h.error_line(err) == "cannot read x.mp4: no video"
    assert h.error_line("usage: ...\npatchvid generate: error: argument --noise: bad") == "argument --noise: bad"
    assert h.error_line("all fine") is None


def test_a_mask_is_saved_from_painted_layers(tmp_path):
    layer = np.zeros((12, 16, 4), np.uint8)
    layer[2:5, 3:9] = (255, 255, 255, 255)
    path = h.save_mask([layer], (12, 16), tmp_path / "m.png")
    mask = np.asarray(Image.open(path))
    assert mask.shape == (12, 16) and mask[3, 4] == 255 and mask[8, 12] == 0 and mask.sum() == 18 * 255
    assert np.asarray(Image.open(h.save_mask([layer[::2, ::2]], (12, 16), tmp_path / "n.png"))).any()
    with pytest.raises(InputError, match="paint"):
        h.save_mask([np.zeros((12, 16, 4), np.uint8)], (12, 16), tmp_path / "e.png")


def test_the_score_table_has_a_row_per_measure():
    headers, rows = h.score_table({"samples": [{"path": "a", "coherence": 8.0, "nnfdiv_scale": 1.0},
                                               {"path": "b", "coherence": 9.0}],
                                   "mean": {"coherence": 8.5}, "diversity": 0.2})
    assert headers == ["measure", "#1", "#2", "mean"]
    assert rows == [["coherence", 8.0, 9.0, 8.5], ["diversity", None, None, 0.2]]


def test_uploads_are_described_and_checked(tmp_path, clip_path):
    assert h.check_upload(clip_path, 10).startswith("32x24, 8 frames at 25 fps")
    with pytest.raises(InputError, match="limit of 5"):
        h.check_upload(clip_path, 10, max_frames=5)
    with pytest.raises(InputError, match="MB"):
        h.check_upload(clip_path, 1e-6)
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    with pytest.raises(InputError) as e:
        h.check_upload(bad, 10)
    assert "\n" not in str(e.value)


@pytest.mark.slow
def test_a_tiny_generate_through_the_handler(tmp_path, clip_path):
    steps = []
    argv = h.generate_argv(str(clip_path), samples=2, max_size=32, method={"--iterations": 2})
    result = h.execute(argv, tmp_path / "run", steps.append)
    assert [p.name for p in result.outputs] == ["sample_000.mp4", "sample_001.mp4"]
    assert [p.name for p in result.records] == ["sample_000.mp4.json", "sample_001.mp4.json"]
    for path in result.outputs:
        assert patchvid.read_video(path).frames.shape == (8, 24, 32, 3)
    fractions = [s.fraction for s in steps]
    assert fractions == sorted(fractions) and max(f for f in fractions if f < 1) > 0.4 and fractions[-1] == 1.0
    assert result.command == h.command_text(argv)


@pytest.mark.slow
def test_cancel_stops_the_run_and_leaves_nothing(tmp_path):
    path = tmp_path / "big.mp4"
    patchvid.write_video(path, make_clip(24, 96, 128), Fraction(25))
    run = h.Run(h.generate_argv(str(path), samples=4), tmp_path / "run")
    for step in run.follow(poll=0.2):
        if step.fraction > 0:
            break
    started = time.perf_counter()
    run.cancel()
    assert time.perf_counter() - started < h.STOP_SECONDS
    assert run.process.returncode == 130
    with pytest.raises(h.Cancelled):
        run.result()
    assert list((tmp_path / "run" / h.OUT).iterdir()) == []


def test_a_corrupt_upload_gives_the_one_error_line(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(h.RunError) as e:
        h.execute(h.generate_argv(str(bad), max_size=32), tmp_path / "run")
    message = str(e.value)
    assert isinstance(e.value, PatchvidError) and "\n" not in message and "bad.mp4" in message
    assert list((tmp_path / "run" / h.OUT).iterdir()) == []


def test_the_workspace_prunes_and_removes_its_runs(tmp_path):
    ws = h.Workspace(tmp_path, keep=2)
    folders = [ws.new_folder("x") for _ in range(4)]
    assert [f.exists() for f in folders] == [False, False, True, True]
    ws.close()
    assert not ws.root.exists()


def test_without_gradio_the_command_says_how_to_install_it():
    code = "import sys; sys.modules['gradio'] = None; from patchvid.cli import main; sys.exit(main(['ui']))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr == "patchvid: error: the web UI needs Gradio: pip install 'patchvid[ui]'\n"


def test_the_estimate_says_the_size_memory_and_time_before_a_run(tmp_path):
    import patchvid

    from ..conftest import make_clip

    clip = tmp_path / "clip.mp4"
    patchvid.write_video(clip, make_clip(8, 48, 64), 25)
    line = h.generate_estimate(str(clip), "32", 2)
    assert line.startswith("**Estimate:** 8 frames of 32x24, memory about ") and "for 2 on this machine" in line
    assert h.generate_estimate(str(clip), "", 1).startswith("**Estimate:** 8 frames of 64x48")
    assert h.generate_estimate(str(tmp_path / "missing.mp4"), "32", 1) == ""
