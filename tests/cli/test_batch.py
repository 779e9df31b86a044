"""``patchvid batch``: inputs from globs, folders and manifests, templates, resumption, failures,
worker processes and Ray, each checked on tiny generated clips through the real command line."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import patchvid
from patchvid.cli.batch import Entry, output_name, read_inputs, split_options

from ..conftest import make_clip, one_error_line, patchvid_cli

TINY = ["--max-size", "32"]


def clips(folder: Path, count: int = 2, frames: int = 6) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(count):
        path = folder / f"clip{k}.mp4"
        patchvid.write_video(path, make_clip(frames, 24, 32, seed=k), 10)
        paths.append(path)
    return paths


def media(folder: Path) -> dict[str, bytes]:
    """Every output of a batch folder (not records or reports), by name."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".mp4"}


def report(folder: Path) -> list[dict]:
    with open(folder / "batch.csv", newline="") as f:
        return list(csv.DictReader(f))


# ----------------------------------------------------------------------------------- planning


def test_split_options_passes_the_tasks_options_with_their_values():
    mine, theirs = split_options(["batch", "a.mp4", "--max-size", "128", "-o", "out", "--noise=2", "b.mp4",
                                  "--samples", "3", "--task", "retarget", "--size", "0.5,1,1"])
    assert mine == ["batch", "a.mp4", "-o", "out", "b.mp4", "--samples", "3", "--task", "retarget"]
    assert theirs == ["--max-size", "128", "--noise=2", "--size", "0.5,1,1"]


def test_globs_folders_and_manifests(tmp_path):
    paths = clips(tmp_path / "in", 3)
    (tmp_path / "in" / "notes.txt").write_text("not media")
    assert [e.input for e in read_inputs([str(tmp_path / "in")])] == [str(p) for p in paths]
    assert [e.input for e in read_inputs([str(tmp_path / "in" / "clip[02].mp4")])] == [str(paths[0]), str(paths[2])]
    manifest = tmp_path / "m.csv"
    manifest.write_text("input,samples,seeds,options\nin/clip0.mp4,2,,--noise 2\nin/clip1.mp4,,5;9,\n")
    rows = read_inputs([str(manifest)])
    assert rows == [Entry(str(tmp_path / "in" / "clip0.mp4"), None, 2, None, ("--noise", "2")),
                    Entry(str(tmp_path / "in" / "clip1.mp4"), (5, 9), None, None, ())]
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text(json.dumps({"input": "in/clip2.mp4", "seeds": [3], "options": {"max-size": 16}}) + "\n")
    assert read_inputs([str(jsonl)]) == [Entry(str(tmp_path / "in" / "clip2.mp4"), (3,), None, None,
                                               ("--max-size", "16"))]
    assert output_name("{stem}/{index}-{seed:04d}{ext}", stem="a", seed=7, index=2, task="generate",
                       ext=".gif") == "a/2-0007.gif"


def test_a_manifest_makes_its_rows_outputs_named_by_the_template(tmp_path):
    clips(tmp_path / "in", 2)
    manifest = tmp_path / "m.jsonl"
    manifest.write_text(json.dumps({"input": "in/clip0.mp4", "seeds": [4, 9]}) + "\n"
                        + json.dumps({"input": "in/clip1.mp4", "options": "--noise 0"}) + "\n")
    r = patchvid_cli("batch", manifest, "-o", tmp_path / "out", "--name", "{index}_{stem}_s{seed}{ext}", *TINY)
    assert r.returncode == 0, r.stderr
    assert sorted(media(tmp_path / "out")) == ["0_clip0_s4.mp4", "0_clip0_s9.mp4", "1_clip1_s0.mp4"]
    record = json.loads((tmp_path / "out" / "0_clip0_s9.mp4.json").read_text())
    assert record["samples"][0]["seed"] == 9 and record["inputs"]["input"]["max_size"] == 32
    assert "1_clip1_s0.mp4" in {Path(row["output"]).name for row in report(tmp_path / "out")}


def test_an_empty_manifest_is_refused(tmp_path):
    (tmp_path / "m.csv").write_text("input\n")
    r = patchvid_cli("batch", tmp_path / "m.csv", "-o", tmp_path / "out")
    assert r.returncode == 1
    one_error_line(r.stderr, "has no rows")
    assert not (tmp_path / "out").exists()


def test_names_that_collide_are_refused_before_any_work(tmp_path):
    clips(tmp_path / "a", 1)
    clips(tmp_path / "b", 1)
    r = patchvid_cli("batch", tmp_path / "a", tmp_path / "b", "-o", tmp_path / "out", *TINY)
    assert r.returncode == 1
    one_error_line(r.stderr, "two outputs would be named", "{index}")
    assert not (tmp_path / "out").exists()


def test_a_mistyped_task_option_is_a_usage_error_before_reading(tmp_path):
    r = patchvid_cli("batch", tmp_path / "missing.mp4", "-o", tmp_path / "out", "--noise", "-3")
    assert r.returncode == 2 and "--noise" in r.stderr and "Traceback" not in r.stderr
    r = patchvid_cli("batch", tmp_path / "missing.mp4", "-o", tmp_path / "out", "--frobnicate")
    assert r.returncode == 2 and "--frobnicate" in r.stderr


# ----------------------------------------------------------------------------------- running


def test_a_corrupt_input_is_reported_and_the_batch_goes_on(tmp_path):
    good = clips(tmp_path / "in", 1)[0]
    bad = tmp_path / "in" / "broken.mp4"
    bad.write_bytes(good.read_bytes()[:2000])
    r = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "out", "--samples", "2", "-q", *TINY)
    assert r.returncode == 2, r.stderr  # the number of failed outputs
    assert r.stderr.count("patchvid batch: failed: ") == 2  # errors, said under -q too
    assert "Traceback" not in r.stderr and "broken.mp4" in r.stderr
    assert sorted(media(tmp_path / "out")) == ["clip0_000.mp4", "clip0_001.mp4"]
    statuses = {Path(row["output"]).name: (row["status"], row["error"]) for row in report(tmp_path / "out")}
    assert statuses["clip0_000.mp4"] == ("made", "")
    assert statuses["broken_001.mp4"][0] == "failed" and "broken.mp4" in statuses["broken_001.mp4"][1]
    assert not any(".partial" in p.name for p in (tmp_path / "out").iterdir())


def test_two_jobs_give_the_bytes_of_one_and_a_rerun_skips_what_exists(tmp_path):
    clips(tmp_path / "in", 2)
    one = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "one", "--samples", "2", "--jobs", "1", *TINY)
    two = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "two", "--samples", "2", "--jobs", "2", *TINY)
    assert one.returncode == 0 and two.returncode == 0, one.stderr + two.stderr
    assert len(media(tmp_path / "one")) == 4 and media(tmp_path / "one") == media(tmp_path / "two")
    rows = report(tmp_path / "two")
    assert all(row["status"] == "made" and float(row["peak_memory_mib"]) > 0 for row in rows)
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "two").iterdir()}
    again = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "two", "--samples", "3", *TINY)
    assert again.returncode == 0, again.stderr
    assert "4 exist with a record (skipped), 2 to make" in again.stderr
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "two").iterdir()}
    assert all(after[name] == before[name] for name in before if name != "batch.csv")
    assert sorted(set(after) - set(before)) == ["clip0_002.mp4", "clip0_002.mp4.json", "clip1_002.mp4",
                                                "clip1_002.mp4.json"]


def test_an_interrupted_batch_resumed_makes_exactly_what_was_missing(tmp_path):
    clips(tmp_path / "in", 3)
    args = ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "cut"), "--samples", "2", *TINY]
    whole = patchvid_cli(*args[:3], str(tmp_path / "whole"), *args[4:])
    assert whole.returncode == 0, whole.stderr
    process = subprocess.Popen([sys.executable, "-m", "patchvid", *args], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not list((tmp_path / "cut").glob("*.mp4.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "Traceback" not in err and "the same command again makes the rest" in err
    kept = media(tmp_path / "cut")
    assert 1 <= len(kept) < 6
    for name in kept:  # whatever was kept is complete and has its record; nothing half-written
        assert (tmp_path / "cut" / f"{name}.json").is_file()
    assert not any(".partial" in p.name for p in (tmp_path / "cut").iterdir())
    statuses = [row["status"] for row in report(tmp_path / "cut")]
    assert statuses.count("made") == len(kept) and "not made (interrupted)" in statuses
    resumed = patchvid_cli(*args)
    assert resumed.returncode == 0, resumed.stderr
    assert f"{len(kept)} exist with a record (skipped), {6 - len(kept)} to make" in resumed.stderr
    assert media(tmp_path / "cut") == media(tmp_path / "whole")


def test_other_tasks_and_their_options(tmp_path):
    clips(tmp_path / "in", 1, frames=8)
    r = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "out", "--task", "retarget", "--size", "24x16",
                     "--seed", "3", *TINY)
    assert r.returncode == 0, r.stderr
    (name,) = media(tmp_path / "out")
    assert name == "clip0_003.mp4"
    assert patchvid.read_video(tmp_path / "out" / name).frames.shape[1:3] == (16, 24)
    r = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "loops", "--task", "loop", *TINY)
    assert r.returncode == 0, r.stderr
    assert sorted(media(tmp_path / "loops")) == ["clip0_loop.mp4"]
    r = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "no", "--task", "loop", "--samples", "2", *TINY)
    assert r.returncode == 1
    one_error_line(r.stderr, "loop has no seed")


def test_the_output_folder_must_be_a_folder_and_owned_options_are_refused(tmp_path):
    clips(tmp_path / "in", 1)
    (tmp_path / "file").write_text("x")
    r = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "file", *TINY)
    assert r.returncode == 1
    one_error_line(r.stderr, "is a file")
    manifest = tmp_path / "m.csv"
    manifest.write_text("input,options\nin/clip0.mp4,--seed 3\n")
    r = patchvid_cli("batch", manifest, "-o", tmp_path / "out", *TINY)
    assert r.returncode == 1
    one_error_line(r.stderr, "--seed", "batch")


# ----------------------------------------------------------------------------------- Ray


def halves(folder: Path, names: list[str]) -> str:
    """A label image per clip name (left half 0, right half 255), and the ``--labels`` template."""
    folder.mkdir()
    ids = np.zeros((24, 32), np.uint8)
    ids[:, 16:] = 255
    for name in names:
        Image.fromarray(ids).save(folder / f"{name}.png")
    return str(folder / "{stem}.png")


def test_labels_follow_each_variation_and_a_resume_needs_them(tmp_path):
    clips(tmp_path / "in", 2)
    labels = halves(tmp_path / "masks", ["clip0", "clip1"])
    r = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "out", "--samples", "2", "--jobs", "2",
                     "--labels", labels, *TINY)
    assert r.returncode == 0, r.stderr
    for name in ["clip0_000", "clip0_001", "clip1_000", "clip1_001"]:
        made = patchvid.read_video(tmp_path / "out" / f"{name}_labels.mp4").frames
        assert made.shape == (6, 24, 32, 3) and set(np.unique(made)) <= {0, 255}  # lossless, never blended
    (tmp_path / "out" / "clip1_001_labels.mp4").unlink()
    again = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "out", "--samples", "2", "-y",
                         "--labels", labels, *TINY)
    assert again.returncode == 0 and "3 exist with a record (skipped), 1 to make" in again.stderr, again.stderr
    r = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "loops", "--task", "loop", "--labels", labels)
    assert r.returncode == 1
    one_error_line(r.stderr, "labels follow the pixels of generate and retarget")


def test_a_local_ray_instance_gives_the_bytes_of_a_local_run(tmp_path):
    pytest.importorskip("ray", reason="Ray is the optional extra patchvid[ray]")
    clips(tmp_path / "in", 2)
    (tmp_path / "in" / "broken.mp4").write_bytes(b"\x00" * 100)
    labels = halves(tmp_path / "masks", ["clip0", "clip1", "broken"])
    local = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "local", "--samples", "2", "--labels", labels,
                         *TINY)
    ray = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "ray", "--samples", "2", "--ray",
                       "--ray-workers", "2", "--labels", labels, *TINY)
    assert local.returncode == 2 and ray.returncode == 2, local.stderr + ray.stderr
    assert len(media(tmp_path / "ray")) == 8 and media(tmp_path / "ray") == media(tmp_path / "local")  # with labels
    record = json.loads((tmp_path / "ray" / "clip1_001.mp4.json").read_text())
    assert record["inputs"]["input"]["path"] == str((tmp_path / "in" / "clip1.mp4").resolve())
    assert record["samples"][0]["output"] == str(tmp_path / "ray" / "clip1_001.mp4")
    failed = [row for row in report(tmp_path / "ray") if row["status"] == "failed"]
    assert len(failed) == 2 and all(str(tmp_path / "in" / "broken.mp4") in row["error"] for row in failed)
    assert "patchvid-ray-" not in ray.stderr
    assert os.environ.get("RAY_ADDRESS") is None  # the test started and stopped its own instance
    assert np.all([row["status"] == "made" for row in report(tmp_path / "ray") if "clip" in row["output"]])


def _descendants(pid: int) -> list[int]:
    """The processes started by ``pid``, its children's children included (Ray's workers are the
    raylet's), from Linux's /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _kill_one(pattern: str, parent: subprocess.Popen, deadline: float) -> None:
    """SIGKILL the first process ``parent`` started whose command line holds ``pattern`` (a worker)."""
    while time.monotonic() < deadline and parent.poll() is None:
        for pid in _descendants(parent.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if pattern in command:
                time.sleep(0.5)  # into its job
                os.kill(pid, signal.SIGKILL)
                return
        time.sleep(0.05)
    raise AssertionError(f"no process matching {pattern!r} to kill")


@pytest.mark.parametrize("way", ["local", "ray"])
def test_a_job_whose_worker_is_killed_is_run_again(tmp_path, way):
    if way == "ray":
        pytest.importorskip("ray", reason="Ray is the optional extra patchvid[ray]")
    clips(tmp_path / "in", 1)
    whole = patchvid_cli("batch", tmp_path / "in", "-o", tmp_path / "whole", "--samples", "2", *TINY)
    assert whole.returncode == 0, whole.stderr
    extra = ["--ray", "--ray-workers", "2"] if way == "ray" else ["--jobs", "2"]
    process = subprocess.Popen([sys.executable, "-m", "patchvid", "batch", str(tmp_path / "in"), "-o",
                                str(tmp_path / "out"), "--samples", "2", *TINY, *extra], stderr=subprocess.PIPE,
                               text=True)
    _kill_one("ray::_shipped" if way == "ray" else "multiprocessing.spawn import spawn_main", process,
              time.monotonic() + 120)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 0, err
    rows = report(tmp_path / "out")
    assert all(row["status"] == "made" for row in rows) and max(int(row["attempts"]) for row in rows) == 2
    assert media(tmp_path / "out") == media(tmp_path / "whole")


def test_each_worker_plans_in_its_share_of_the_memory():
    code = ("import patchvid.memory as m; from patchvid.cli.batch import _worker_ready; _worker_ready(3)\n"
            "m.available_memory = lambda: 3 * 2**30\n"
            "try:\n    m.check_fits(2**30, 'generate', 'smaller')\nexcept m.ResourceError as e:\n    print(e)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "needs about 1.0 GiB but only 3.0 GiB is available (this worker's share: 0.9 GiB; fewer --jobs" in r.stdout
