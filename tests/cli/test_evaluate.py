"""``patchvid evaluate`` through the real command line."""

import hashlib
import json

import numpy as np
import pytest
import torch

import patchvid
from patchvid.cli import main
from patchvid.media import read_video, write_video

from ..conftest import assert_clean_failure, make_clip, needs_shared_data, patchvid_cli


@pytest.fixture
def footage(tmp_path):
    """An input and two samples as lossless PNG folders: the input itself and a noisy copy."""
    clip = make_clip()
    noisy = np.clip(clip + np.random.default_rng(0).normal(0, 12, clip.shape), 0, 255).astype(np.uint8)
    paths = []
    for name, frames in (("input", clip), ("same", clip), ("noisy", noisy)):
        write_video(tmp_path / name, frames)
        paths.append(tmp_path / name)
    return paths


def test_scores_two_samples_into_a_table_and_json(tmp_path, footage, capsys):
    source, same, noisy = footage
    report = tmp_path / "scores.json"
    args = ["evaluate", str(source), str(same), str(noisy), "--json", str(report), "--measures",
            "coherence,completeness,swd,nnfdiv,diversity"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    for row in ("coherence, half resolution", "completeness", "patch SWD, 1/4 resolution", "NNFDIV", "diversity"):
        assert row in out
    assert "measuring sample 2/2" in err  # progress goes to stderr
    r = json.loads(report.read_text())
    first, second = r["samples"]
    assert first["coherence"] < 1e-3 and first["completeness"] < 1e-3 and first["swd_1"] == 0
    assert second["coherence"] > 5 and second["completeness"] > 5 and second["swd_1"] > first["swd_1"]
    assert r["diversity"] > 0 and r["skipped"] == {}
    assert r["mean"]["coherence"] == pytest.approx((first["coherence"] + second["coherence"]) / 2)
    assert r["std"]["coherence"] == pytest.approx(np.std([first["coherence"], second["coherence"]], ddof=1))
    # every measure with the half-width of its 95 % confidence interval: 0 for the copy (every probe at
    # distance 0), and at half resolution, where so small a clip has fewer patches than the probes and
    # every one is measured
    for key in ("coherence", "coherence_half", "completeness", "completeness_half"):
        assert first[key + "_ci"] == 0
    assert second["coherence_half_ci"] == second["completeness_half_ci"] == 0
    assert 0 < second["coherence_ci"] < second["coherence"] / 10 and second["completeness_ci"] > 0
    assert "_ci: half-width of the 95 % confidence interval" in r["definitions"]["coherence"]
    assert main(args) == 1  # the report exists now: -y replaces it
    assert "output exists" in capsys.readouterr().err
    assert main([*args, "-y"]) == 0


def test_probed_measures_report_their_confidence_interval(tmp_path, capsys):
    clip = make_clip(6, 48, 64)  # 9744 patches, more than the probes at either scale
    paths = []
    for name, frames in (("input", clip), ("a", clip[::-1]), ("b", clip[:, :, ::-1])):
        write_video(tmp_path / name, frames)
        paths.append(str(tmp_path / name))
    report = tmp_path / "scores.json"
    assert main(["evaluate", *paths, "--measures", "coherence,completeness", "--json", str(report)]) == 0
    out = capsys.readouterr().out.splitlines()
    r = json.loads(report.read_text())
    for sample in r["samples"]:
        for key in ("coherence", "coherence_half", "completeness", "completeness_half"):
            assert 0 < sample[key + "_ci"] < sample[key] / 2, (key, sample)
    assert out[4].split() == ["measure", "unit", "#1", "#2", "mean", "std"]
    row = next(line for line in out if line.startswith("coherence  "))
    a, b = r["samples"]
    cells = row.split()[-4:]
    assert cells[:2] == [f"{x['coherence']:.2f}±{x['coherence_ci']:.2f}" for x in (a, b)]
    assert cells[2:] == [f"{r['mean']['coherence']:.2f}", f"{r['std']['coherence']:.2f}"]


def folder_digest(folder) -> str:
    listing = hashlib.sha256()
    for entry in sorted(p for p in folder.iterdir() if p.is_file()):
        listing.update(entry.name.encode() + b"\0" + hashlib.sha256(entry.read_bytes()).digest())
    return listing.hexdigest()


def test_the_report_names_the_versions_and_hashes_of_what_it_measured(tmp_path, footage):
    source, same, noisy = footage
    still = tmp_path / "still.png"
    write_video(still, make_clip(1, 24, 32))
    report = tmp_path / "scores.json"
    assert main(["evaluate", str(source), str(noisy), str(still), "--measures", "coherence", "-q",
                 "--json", str(report)]) == 0
    r = json.loads(report.read_text())
    assert r["versions"] == {"patchvid": patchvid.__version__, "torch": torch.__version__, "numpy": np.__version__}
    hashes = r["hashes"]
    assert hashes["input"] == {"path": str(source), "sha256": folder_digest(source),
                               "frames_sha256": hashlib.sha256(read_video(source).frames.tobytes()).hexdigest()}
    first, second = hashes["samples"]
    assert first["sha256"] == folder_digest(noisy) != hashes["input"]["sha256"]
    assert second["sha256"] == hashlib.sha256(still.read_bytes()).hexdigest()  # a single file: its bytes
    assert second["frames_sha256"] == hashlib.sha256(read_video(still).frames.tobytes()).hexdigest()
    assert "frames_sha256" in r["definitions"]["hashes"]


def test_generated_samples_are_hashed_by_their_frames(tmp_path):
    write_video(tmp_path / "input", make_clip(4, 16, 20))
    report = tmp_path / "run.json"
    assert main(["evaluate", "--generate", str(tmp_path / "input"), "--samples", "1", "--iterations", "1",
                 "--measures", "coherence", "-q", "--json", str(report)]) == 0
    (sample,) = json.loads(report.read_text())["hashes"]["samples"]
    assert sample["path"] is None and sample["sha256"] is None and len(sample["frames_sha256"]) == 64


def test_what_does_not_apply_is_left_out_with_the_reason(footage, capsys):
    source, same, _ = footage
    assert main(["evaluate", str(source), str(same), "-q", "--loop"]) == 0
    out = capsys.readouterr().out
    assert "left out: diversity: diversity needs at least 2 samples, got 1" in out
    assert "loop seam ratio" in out and "SIFID of motion" in out


def test_generate_then_measure_reports_time_and_memory(tmp_path, capsys):
    write_video(tmp_path / "input", make_clip(4, 16, 20))
    report = tmp_path / "run.json"
    assert main(["evaluate", "--generate", str(tmp_path / "input"), "--samples", "2", "--iterations", "1",
                 "--measures", "cost,diversity,coherence", "--save", str(tmp_path / "s_{}.gif"),
                 "--json", str(report)]) == 0
    r = json.loads(report.read_text())
    assert [s["seed"] for s in r["samples"]] == [0, 1]
    assert all(s["seconds"] > 0 and s["peak_rss_mib"] > 0 for s in r["samples"])
    assert r["settings"]["engine"]["iterations"] == 1
    assert read_video(tmp_path / "s_1.gif").frames.shape == (4, 16, 20, 3)
    out = capsys.readouterr().out
    assert "generation time" in out and "peak memory (RSS)" in out


def test_diversity_of_one_sample_fails_cleanly(footage):
    source, same, _ = footage
    assert_clean_failure(patchvid_cli("evaluate", source, same, "--measures", "diversity", "-q"),
                         "diversity needs at least 2 samples, got 1")


def test_samples_of_different_sizes_fail_cleanly_where_diversity_needs_equal_sizes(tmp_path, footage, capsys):
    source, same, _ = footage
    write_video(tmp_path / "small", make_clip(6, 20, 28))
    args = ["evaluate", str(source), str(same), str(tmp_path / "small"), "-q"]
    assert main([*args, "--measures", "diversity,swd"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["patchvid: error: diversity needs samples of equal size: sample 1 is 6 frames of 32x24, "
                   "sample 2 is 6 frames of 28x20"]
    assert main([*args, "--measures", "swd"]) == 0  # measures of one sample at a time take any size
    assert main([*args, "--measures", "coherence"]) == 0
    assert "left out" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ([], "give at least one SAMPLE"),
        (["SAME", "--generate"], "not both"),
        (["SAME", "--samples", "3"], "--samples needs --generate"),
        (["SAME", "--measures", "cost"], "needs --generate"),
        (["missing.mp4"], "input not found"),
    ],
)
def test_bad_requests_fail_with_one_line(footage, capsys, extra, words):
    source, same, _ = footage
    extra = [str(same) if a == "SAME" else a for a in extra]
    assert main(["evaluate", str(source), *extra]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("patchvid: error: ") and words in err[-1], err


def test_unknown_measure_is_an_argument_error(footage, capsys):
    source, same, _ = footage
    with pytest.raises(SystemExit) as e:
        main(["evaluate", str(source), str(same), "--measures", "beauty"])
    assert e.value.code == 2 and "unknown measure 'beauty'" in capsys.readouterr().err


@pytest.mark.realdata
def test_real_footage_against_itself(tmp_path, capsys):
    source = needs_shared_data("frames", "airballoons")
    frames = read_video(source, end="4f", max_size=48).frames
    write_video(tmp_path / "copy", frames)  # what --end 4f --max-size 48 reads
    assert main(["evaluate", str(source), str(tmp_path / "copy"), "--end", "4f", "--max-size", "48", "-q",
                 "--measures", "coherence,swd,features"]) == 0
    out = capsys.readouterr().out
    assert "NNFDIV" not in out
    for line in out.splitlines():
        if line.startswith(("coherence", "patch SWD", "SIFID")):
            assert float(line.split()[-1].split("±")[0]) == pytest.approx(0, abs=0.01), line


def test_without_the_weights_package_features_are_left_out_or_refused(footage, capsys, monkeypatch):
    from patchvid.evaluation import features

    def missing(name):
        raise features.importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(features.importlib.metadata, "distribution", missing)
    features.load_efficientnet_lite0.cache_clear()
    try:
        source, same, _ = footage
        assert main(["evaluate", str(source), str(same), "-q", "--measures", "coherence,features"]) == 1
        assert "pip install 'patchvid[eval]'" in capsys.readouterr().err
        assert main(["evaluate", str(source), str(same), "-q"]) == 0  # by default: left out, with the hint
        out = capsys.readouterr().out
        assert "left out: features:" in out and "pip install 'patchvid[eval]'" in out and "SIFID" not in out
    finally:
        features.load_efficientnet_lite0.cache_clear()
