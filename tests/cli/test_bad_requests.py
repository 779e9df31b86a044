"""Requests that cannot be done well, through the real command line (issue 20): each ends in one line
``patchvid: error: ...`` with exit status 1 and nothing written, or says plainly what it could not do.

* memory: a request beyond memory is refused from its plan, before any work; an allocator failure
  anywhere (NumPy's MemoryError, torch's CPU and CUDA allocators) ends in the same one line;
* inpainting: a mask that leaves no patch to fill from at a coarse level starts finer, and one that
  leaves none at all (or covers everything) is refused;
* blending: a solver that stopped short of its tolerance with a visible error, or a result that
  clipping to 0..255 would wreck, is refused; a region partly outside the target is blended as the
  part inside would be alone;
* video textures: a clip whose transitions allow one playback only says so.
"""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

from patchvid import memory
from patchvid.cli import main
from patchvid.errors import ResourceError
from patchvid.media import read_video, write_video

from ..conftest import assert_clean_failure, make_clip, one_error_line, orbit_clip, patchvid_cli, save_mask


@pytest.fixture
def clip_file(tmp_path):
    write_video(tmp_path / "in.mp4", make_clip(6, 24, 32), 25)
    return tmp_path / "in.mp4"


def record(path) -> dict:
    return json.loads(path.with_name(path.name + ".json").read_text())


# ----------------------------------------------------------------------------------------- memory


@pytest.mark.parametrize("request_", [
    ["retarget", "--width", "100000"],
    ["retarget", "--height", "100000"],
    ["generate", "--scale", "1,1000,1000"],
])
def test_a_request_beyond_memory_is_refused_from_its_plan_before_any_work(tmp_path, clip_file, request_):
    # before: retarget --width 100000 said "memory about 1.6 GiB", solved for 11 s and died in torch's
    # allocator with a traceback (a 36 GB resize matrix); generate --scale 1,1000,1000 allocated 10 GB
    # for its first guess and took 51 s to be refused
    command, *options = request_
    started = time.perf_counter()
    result = patchvid_cli(command, clip_file, "-o", tmp_path / "out.mp4", *options)
    assert_clean_failure(result, "needs about", "GiB", "smaller output", folder=tmp_path, expected=["in.mp4"])
    assert "output 6 frames" not in result.stderr and "solving" not in result.stderr  # no work began
    assert time.perf_counter() - started < 60


def test_the_estimate_covers_what_a_stretched_retarget_uses():
    """Peak RSS of ``patchvid retarget`` (8x72x128 to 4096 wide) less a tiny run's, measured at 716 to
    816 MiB in four runs; the estimate was 305 MiB before it counted the cached float64 resize matrices
    (quadratic in the stretched side), the finish and the write."""
    from patchvid.synthesis.planning import plan
    from patchvid.tasks.settings import retarget_settings

    p = plan((8, 72, 128), retarget_settings().replace(scale=(1, 1, 32)))
    assert p.output_shape == (8, 72, 4096)
    assert 816 * 2**20 < p.estimated_bytes < 2 * 816 * 2**20


def test_only_an_enlarging_plan_is_refused_at_once(monkeypatch):
    """A plan whose output is larger than its input is refused by ``plan`` itself (preparing it would
    allocate output-sized tensors before any check); one no larger is left to the caller's check,
    as --max-size auto plans sizes only to compare their estimates."""
    from patchvid.synthesis import planning
    from patchvid.synthesis.settings import GenerateSettings

    small = planning.plan((6, 24, 32), GenerateSettings())
    monkeypatch.setattr(memory, "available_memory", lambda: small.estimated_bytes // 2)
    assert planning.plan((6, 24, 32), GenerateSettings()).estimated_bytes == small.estimated_bytes
    with pytest.raises(ResourceError, match="an output of 6 frames of 64x24 needs about"):
        planning.plan((6, 24, 32), GenerateSettings(scale=(1, 1, 2)))


@pytest.mark.parametrize("failure", ["torch-cpu", "torch-cuda", "numpy"])
def test_an_allocator_failure_anywhere_ends_in_one_line(tmp_path, clip_file, capsys, monkeypatch, failure):
    import patchvid.tasks.retarget as retarget

    def fail(*args, **kwargs):
        if failure == "torch-cpu":
            torch.empty(1 << 50, dtype=torch.uint8)  # "DefaultCPUAllocator: can't allocate memory"
        if failure == "torch-cuda":
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
        np.empty(1 << 50, np.uint8)  # numpy's _ArrayMemoryError, a MemoryError

    monkeypatch.setattr(retarget, "prepare_retarget", fail)
    assert main(["retarget", str(clip_file), "-o", str(tmp_path / "out.mp4"), "--width", "40", "-q"]) == 1
    assert "out of memory" in one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_other_runtime_errors_are_still_bugs(tmp_path, clip_file, monkeypatch):
    import patchvid.tasks.retarget as retarget

    def fail(*args, **kwargs):
        raise RuntimeError("shape mismatch")

    monkeypatch.setattr(retarget, "prepare_retarget", fail)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        main(["retarget", str(clip_file), "-o", str(tmp_path / "out.mp4"), "--width", "40", "-q"])


# ----------------------------------------------------------------------------------------- inpainting


def test_a_mask_covering_the_whole_input_is_refused(tmp_path, clip_file):
    save_mask(tmp_path / "all.png", np.ones((24, 32), bool))
    result = patchvid_cli("inpaint", clip_file, "--mask", tmp_path / "all.png", "-o", tmp_path / "out.mp4", "-q")
    assert_clean_failure(result, "covers everything", folder=tmp_path, expected=["all.png", "in.mp4"])


def test_an_input_too_small_for_its_mask_is_refused(tmp_path):
    # before: "the hole leaves no key patch at a level of shape (4, 8, 8)", raised by the engine mid-solve
    write_video(tmp_path / "tiny", make_clip(4, 8, 8))
    mask = np.zeros((8, 8), bool)
    mask[2:6, 2:6] = True
    save_mask(tmp_path / "m.png", mask)
    for fill in ("cue", "smooth"):
        result = patchvid_cli("inpaint", tmp_path / "tiny", "--mask", tmp_path / "m.png", "-o", tmp_path / "out",
                              "--fill", fill, "-q")
        assert_clean_failure(result, "too small", "3x7x7", "8x8 input", folder=tmp_path, expected=["m.png", "tiny"])


def test_a_mask_leaving_too_little_at_coarse_levels_starts_finer(tmp_path):
    # only 8 columns are known: a patch fits there at full size, none at the coarsest levels (before:
    # "the hole leaves no key patch at a level of shape (6, 15, 20)", raised after the work had begun)
    from patchvid.synthesis.planning import plan
    from patchvid.tasks.settings import inpaint_settings

    clip = make_clip(6, 48, 64)
    write_video(tmp_path / "in", clip)
    mask = np.ones((48, 64), bool)
    mask[:, :8] = False
    save_mask(tmp_path / "m.png", mask)
    for fill in ("cue", "smooth"):
        out = tmp_path / f"{fill}_out"
        result = patchvid_cli("inpaint", tmp_path / "in", "--mask", tmp_path / "m.png", "-o", out, "--fill", fill,
                              "--iterations", "1", "-q")
        assert result.returncode == 0, result.stderr
        frames = read_video(out).frames
        assert np.array_equal(frames[:, :, :8], clip[:, :, :8])  # the known part exactly
        levels = record(out)["plan"]["levels_input"]
        full = plan(clip.shape[:3], inpaint_settings(fill, clip.shape[:3])).levels.input
        assert levels == [list(s) for s in full[: len(levels)]] and len(levels) < len(full)


# ----------------------------------------------------------------------------------------- blending


def flat_case(tmp_path, bright_disc_on_dark=False):
    """A target of one colour and a source of the same colour with a red disc in the middle: the
    seamless paste of the source's square around the disc is the source itself. With
    ``bright_disc_on_dark``, a bright disc on a dark source pasted on a bright target, whose solution
    leaves 0..255 (221..451)."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:24, 0:24]
    disc = (y - 12) ** 2 + (x - 12) ** 2 <= 36
    if bright_disc_on_dark:
        target = np.clip(rng.normal(230, 3, (4, 40, 48, 3)), 0, 255).astype(np.uint8)
        source = rng.normal(20, 3, (4, 24, 24, 3))
        source[:, disc] = 240
    else:
        target = np.clip(rng.normal((100, 120, 140), 3, (4, 40, 48, 3)), 0, 255).astype(np.uint8)
        source = rng.normal((100, 120, 140), 3, (4, 24, 24, 3))
        source[:, disc] = (230, 40, 40)
    source = np.clip(source, 0, 255).astype(np.uint8)
    write_video(tmp_path / "source", source)
    write_video(tmp_path / "target", target)
    square = np.zeros((24, 24), bool)
    square[3:21, 3:21] = True
    save_mask(tmp_path / "square.png", square)
    save_mask(tmp_path / "disc.png", (y - 12) ** 2 + (x - 12) ** 2 <= 100)
    return source, target, square


def blend(tmp_path, *args, source="source", mask="square.png", out="out"):
    return patchvid_cli("blend", tmp_path / source, tmp_path / "target", "--mask", tmp_path / mask,
                        "-o", tmp_path / out, "-q", *args)


def test_a_solver_stopped_with_a_visible_error_is_refused(tmp_path):
    # before: --max-iter 1 wrote the result of one CG iteration on the disc-shaped region (relative
    # residual 0.15, up to 20-29 grey levels off) with a note
    flat_case(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    result = blend(tmp_path, "--offset", "0,8,12", "--max-iter", "1", mask="disc.png")
    assert_clean_failure(result, "did not converge in 1 iteration", "grey levels off", folder=tmp_path,
                         expected=before)
    # the box-shaped region is solved exactly in one iteration: nothing to refuse
    assert blend(tmp_path, "--offset", "0,8,12", "--max-iter", "1").returncode == 0


def test_a_blend_that_clipping_would_wreck_is_refused(tmp_path):
    # before: written, with 36 % of the region clipped and its mean colour 139 grey levels from the source's
    flat_case(tmp_path, bright_disc_on_dark=True)
    before = sorted(p.name for p in tmp_path.iterdir())
    for options in (["--offset", "0,8,12"], ["--offset", "0,-6,30"], ["--offset", "0,8,12", "--mixed"]):
        assert_clean_failure(blend(tmp_path, *options), "does not fit in 0..255", folder=tmp_path, expected=before)


def test_a_region_partly_outside_the_target_is_blended_as_the_part_inside(tmp_path):
    source, target, square = flat_case(tmp_path)
    result = blend(tmp_path, "--offset", "0,-6,30", "--mixed")
    assert result.returncode == 0, result.stderr
    assert record(tmp_path / "out")["dropped_voxels"] == 4 * (3 * 18 + 15 * 3)  # rows 3..5 (y < 0), columns 18..20
    out = read_video(tmp_path / "out").frames.astype(float)
    # the source's rows 6.. and columns ..17 land inside: they keep the source's colours
    inside = out[:, 0:18, 30:48][:, square[6:24, 0:18]].reshape(-1, 3)
    kept = source[:, 6:24, 0:18][:, square[6:24, 0:18]].reshape(-1, 3)
    assert np.abs(inside.mean(axis=0) - kept.mean(axis=0)).max() < 2  # mean colour (measured: 0.8)
    # the same as pasting the part inside alone
    write_video(tmp_path / "cut", source[:, 6:24, 0:18])
    save_mask(tmp_path / "cut.png", square[6:24, 0:18])
    assert blend(tmp_path, "--offset", "0,0,30", "--mixed", source="cut", mask="cut.png", out="alone").returncode == 0
    assert np.array_equal(read_video(tmp_path / "alone").frames, read_video(tmp_path / "out").frames)


# ----------------------------------------------------------------------------------------- textures


def test_a_texture_with_one_possible_playback_says_so(tmp_path):
    # before: seeds 1 and 2 wrote identical frames and nothing said why
    write_video(tmp_path / "short", make_clip(4, 24, 32))
    outputs = []
    for seed in (1, 2):
        out = tmp_path / f"t{seed}"
        result = patchvid_cli("texture", tmp_path / "short", "-o", out, "--duration", "20f", "--seed", seed)
        assert result.returncode == 0, result.stderr
        notes = [line for line in result.stderr.splitlines() if "only one playback is possible" in line]
        assert len(notes) == 1 and "every seed gives the same frames" in notes[0]
        assert record(out)["only_one_playback"] is True
        outputs.append(read_video(out).frames)
    assert np.array_equal(*outputs)


def test_a_texture_whose_seeds_matter_says_nothing(tmp_path):
    write_video(tmp_path / "orbit", orbit_clip(24, 8, height=24, width=32))
    outputs = []
    for seed in (1, 2):
        out = tmp_path / f"t{seed}"
        result = patchvid_cli("texture", tmp_path / "orbit", "-o", out, "--duration", "40f", "--seed", seed)
        assert result.returncode == 0, result.stderr
        assert "playback" not in result.stderr and "same frames" not in result.stderr
        assert record(out)["only_one_playback"] is False
        outputs.append(read_video(out).frames)
    assert not np.array_equal(*outputs)
