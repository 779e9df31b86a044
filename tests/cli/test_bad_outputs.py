"""Outputs that cannot be written as asked, through the real command line (issue 20): names that are
not patterns, devices, FIFOs and sockets, a folder where a file goes (and the reverse), two runs
writing one name, a full disk, a file too large, a name too long, standard output closed or full,
and signals at start-up or while writing. Every failure is one line, exit status 1 (130 for an
interrupt), with nothing left behind: no output, no ``.partial``, no record, and the input untouched."""

from __future__ import annotations

import errno
import os
import resource
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from patchvid.cli import main
from patchvid.cli.runner import numbered_outputs
from patchvid.errors import MediaError
from patchvid.media import atomic_output, read_video, write_video, writing

from ..conftest import assert_clean_failure, make_clip, one_error_line, orbit_clip, patchvid_cli

FAST = ["--iterations", "1", "-q"]


@pytest.fixture
def clip(tmp_path) -> Path:
    """A small video in its own folder (so that the output folder holds only what a run writes)."""
    (tmp_path / "in").mkdir()
    path = tmp_path / "in" / "in.mp4"
    write_video(path, make_clip(5, 20, 24), 10)
    return path


@pytest.fixture
def orbit(tmp_path) -> Path:
    """A 24-frame periodic clip as a folder of PNG frames, for loop and texture."""
    (tmp_path / "in").mkdir(exist_ok=True)
    path = tmp_path / "in" / "orbit"
    write_video(path, orbit_clip(24, 6))
    return path



def in_process(capsys, *args) -> str:
    """``main(ARGS)`` in this process (quicker than a new one once torch is loaded), which must fail
    with one error line: that line."""
    assert main([*map(str, args)]) == 1
    return one_error_line(capsys.readouterr().err)


def files(folder: Path) -> list[str]:
    """Everything in ``folder``, hidden names (a left ``.partial``) included."""
    return sorted(p.name for p in folder.iterdir())


def run_cli(*args, cwd=None, stdout=subprocess.PIPE, limit: int | None = None, env=None) -> subprocess.CompletedProcess:
    """``python -m patchvid ARGS`` with standard output sent where asked, and, with ``limit``, no
    file larger than ``limit`` bytes (RLIMIT_FSIZE, SIGXFSZ ignored: a write past it fails with EFBIG)."""

    def limited():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "patchvid", *map(str, args)], stdout=stdout, stderr=subprocess.PIPE,
                          text=True, cwd=cwd, timeout=300, preexec_fn=limited if limit else None, env=env)


# ----------------------------------------------------------------------- 1. names are names, patterns are explicit


def test_only_the_documented_placeholders_make_a_pattern():
    def names(output, count):
        return [str(p) for p in numbered_outputs(output, count)]

    assert names("s_{}.gif", 2) == ["s_0.gif", "s_1.gif"]
    assert names("s_{i}.gif", 2) == ["s_0.gif", "s_1.gif"]
    assert names("s_{i:03d}.mp4", 2) == ["s_000.mp4", "s_001.mp4"]
    assert names("s_{:02d}.mp4", 2) == ["s_00.mp4", "s_01.mp4"]
    assert names("s_%d.mp4", 2) == ["s_0.mp4", "s_1.mp4"]
    assert names("s_%04d.png", 1) == ["s_0000.png"]  # a pattern at any count
    for literal in ("100%done.mp4", "a{x}.mp4", "b{.mp4", "c}.mp4", "%o.mp4", "{:q}.mp4", "{0}.mp4", "%5d.mp4",
                    "}{.mp4", "%%.mp4", "{i:3d}.mp4"):
        assert names(literal, 1) == [literal]
        stem, ext = literal.rsplit(".", 1)
        assert names(literal, 2) == [f"{stem}_000.{ext}", f"{stem}_001.{ext}"]


def test_names_with_braces_and_percent_signs_are_written_as_given(clip, out):
    r = patchvid_cli("generate", clip, "-o", out / "100%done.mp4", *FAST)
    assert r.returncode == 0, r.stderr
    r = patchvid_cli("generate", clip, "-o", out / "a{x}.mp4", "--samples", "2", *FAST)
    assert r.returncode == 0, r.stderr
    for name in ("b{.mp4", "%o.mp4", "{:q}.mp4", "c}{.gif"):
        assert main(["generate", str(clip), "-o", str(out / name), *FAST]) == 0, name
    assert main(["generate", str(clip), "-o", str(out / "p_{i:02d}.mp4"), "--samples", "2", *FAST]) == 0
    made = [n for n in files(out) if not n.endswith(".json")]
    assert made == sorted(["100%done.mp4", "a{x}_000.mp4", "a{x}_001.mp4", "b{.mp4", "%o.mp4", "{:q}.mp4", "c}{.gif",
                           "p_00.mp4", "p_01.mp4"])
    for name in made:
        assert read_video(out / name).frames.shape[0] == 5
        assert (out / f"{name}.json").is_file()


# ----------------------------------------------------------------------- 2. devices, FIFOs and sockets


def special_files(folder: Path) -> dict[str, str]:
    """A FIFO, a socket and, where this user may make one, a copy of /dev/null: name -> kind."""
    made = {}
    os.mkfifo(folder / "fifo.mp4")
    made["fifo.mp4"] = "FIFO"
    with socket.socket(socket.AF_UNIX) as s:
        try:
            s.bind(str(folder / "sock.gif"))
            made["sock.gif"] = "socket"
        except OSError:  # a path too long for a socket address
            pass
    try:
        os.mknod(folder / "null.png", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        made["null.png"] = "character device"
    except (PermissionError, OSError):  # not root, or no CAP_MKNOD
        pass
    return made


def test_devices_fifos_and_sockets_are_never_replaced(clip, out, capsys):
    made = special_files(out)
    before = {name: os.lstat(out / name) for name in made}
    r = run_cli("generate", clip, "-o", out / "fifo.mp4", "-y", *FAST)
    assert_clean_failure(r, "fifo.mp4", "FIFO", "not a regular file")
    for name, kind in made.items():
        for overwrite in (["-y"], []):
            error = in_process(capsys, "generate", clip, "-o", out / name, "--end", "1f", *overwrite, *FAST)
            assert name in error and kind in error and "not a regular file" in error
    for name in made:  # still what it was: the same node, not a regular file
        after = os.lstat(out / name)
        assert (after.st_ino, stat.S_IFMT(after.st_mode)) == (before[name].st_ino, stat.S_IFMT(before[name].st_mode))
    assert files(out) == sorted(made)
    # a record or sheet that would go onto one is refused too, before the work
    assert "FIFO" in in_process(capsys, "generate", clip, "-o", out / "o.mp4", "--report", out / "fifo.mp4", "-y",
                                *FAST)
    assert files(out) == sorted(made)


@pytest.mark.skipif(os.geteuid() == 0, reason="as root a broken check could replace the real /dev/null")
def test_dev_null_is_refused_as_an_output(clip):
    r = run_cli("generate", clip, "-o", "/dev/null", "-y", *FAST)
    assert_clean_failure(r, "/dev/null", "character device")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_atomic_output_refuses_a_fifo_made_while_writing(tmp_path):
    target = tmp_path / "o.json"
    with pytest.raises(MediaError, match="FIFO"), atomic_output(target, replace=True) as tmp:
        tmp.write_text("{}")
        os.mkfifo(target)  # appears between the checks and the move
    assert stat.S_ISFIFO(os.lstat(target).st_mode)
    assert files(tmp_path) == ["o.json"]


# ----------------------------------------------------------------------- 3. a folder is not a file, nor the reverse


def test_a_file_output_never_replaces_a_folder_nor_a_folder_output_a_file(clip, out, capsys):
    (out / "x.mp4").mkdir()
    (out / "x.mp4" / "keep.txt").write_text("mine")
    (out / "frames").write_text("a file")
    (out / "rec").mkdir()
    (out / "o.gif.json").mkdir()
    r = run_cli("generate", clip, "-o", out / "x.mp4", "-y", *FAST)
    assert_clean_failure(r, "x.mp4", "is a folder")
    assert "is a file" in in_process(capsys, "generate", clip, "-o", out / "frames", "-y", *FAST)
    assert "rec is a folder" in in_process(capsys, "generate", clip, "-o", out / "o.mp4", "--report", out / "rec",
                                           "-y", *FAST)
    assert "rec is a folder" in in_process(capsys, "evaluate", clip, clip, "--report", out / "rec", "-y", "-q")
    # the record's name (beside the output) is a folder
    assert "o.gif.json is a folder" in in_process(capsys, "generate", clip, "-o", out / "o.gif", "-y", *FAST)
    assert files(out) == ["frames", "o.gif.json", "rec", "x.mp4"]
    assert files(out / "x.mp4") == ["keep.txt"] and (out / "frames").read_text() == "a file"
    # an existing folder whose name has no media extension is a frame folder, and -y replaces it
    (out / "take.v2").mkdir()
    assert main(["generate", str(clip), "-o", str(out / "take.v2"), "-y", *FAST]) == 0
    assert len(files(out / "take.v2")) == 5


def test_atomic_output_refuses_a_folder_made_while_writing(tmp_path):
    target = tmp_path / "o.png"
    with pytest.raises(MediaError, match="is a folder"), atomic_output(target, replace=True) as tmp:
        tmp.write_bytes(b"x")
        target.mkdir()
    assert target.is_dir() and files(tmp_path) == ["o.png"]


# ----------------------------------------------------------------------- 4. two runs, one name


def test_two_runs_writing_one_output_at_once_one_fails_with_output_exists(clip, out):
    args = [sys.executable, "-m", "patchvid", "generate", str(clip), "-o", str(out / "o.mp4"), *FAST]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    err = next(e for code, e in results if code == 1)
    one_error_line(err, "output exists", "o.mp4")
    assert files(out) == ["o.mp4", "o.mp4.json"]
    assert read_video(out / "o.mp4").frames.shape[0] == 5


def test_an_output_made_between_the_checks_and_the_move_is_kept(clip, out, monkeypatch, capsys):
    """The race, made certain: another process writes the name just before this run moves its file."""
    place = writing._place

    def intruder(tmp, path, folder, replace):
        if folder:
            path.mkdir()
            (path / "theirs.png").write_bytes(b"theirs")
        elif path.suffix == ".mp4":
            path.write_bytes(b"theirs")
        return place(tmp, path, folder, replace)

    monkeypatch.setattr(writing, "_place", intruder)
    for name in ("o.mp4", "frames"):
        assert main(["generate", str(clip), "-o", str(out / name), *FAST]) == 1
        one_error_line(capsys.readouterr().err, "output exists", name)
    assert files(out) == ["frames", "o.mp4"]
    assert (out / "o.mp4").read_bytes() == b"theirs" and files(out / "frames") == ["theirs.png"]
    # with -y the run replaces what it finds (a regular file)
    monkeypatch.setattr(writing, "_place", place)
    assert main(["generate", str(clip), "-o", str(out / "o.mp4"), "-y", *FAST]) == 0
    assert read_video(out / "o.mp4").frames.shape[0] == 5


def test_exclusive_placement_where_hard_links_are_unsupported(tmp_path, monkeypatch):
    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(writing.os, "link", no_links)
    target = tmp_path / "o.json"
    with atomic_output(target, replace=False) as tmp:
        tmp.write_text("first")
    assert target.read_text() == "first"
    with pytest.raises(MediaError, match="output exists"), atomic_output(target, replace=False) as tmp:
        tmp.write_text("second")
    assert target.read_text() == "first" and files(tmp_path) == ["o.json"]


def test_exclusive_folder_placement(tmp_path):
    target = tmp_path / "frames"
    with pytest.raises(MediaError, match="output exists"), atomic_output(target, folder=True, replace=False) as tmp:
        (tmp / "1.png").write_bytes(b"ours")
        target.mkdir()  # another run's folder, empty for now: rename would replace it
    assert files(target) == [] and files(tmp_path) == ["frames"]


# ----------------------------------------------------------------------- 5. full disk, file too large, name too long


@pytest.mark.parametrize("name", ["o.mp4", "o.gif", "frames", "one.png"])
def test_a_file_too_large_is_one_line_and_nothing_left(clip, out, name):
    one = ["--end", "1f"] if name.endswith(".png") else []
    r = run_cli("generate", clip, "-o", out / name, *one, *FAST, limit=1000)
    assert_clean_failure(r, name, "File too large", folder=out)
    assert files(clip.parent) == ["in.mp4"]


def test_a_record_that_cannot_be_written_takes_the_outputs_with_it(clip, orbit, out):
    # frames of about 1.5 KB fit under 2500 bytes, the records (3.5 KB and more) do not
    r = run_cli("generate", clip, "-o", out / "frames", "--samples", "2", *FAST, limit=2500)
    assert_clean_failure(r, "frames_000.json", "File too large", folder=out)
    r = run_cli("texture", orbit, "-o", out / "tx", "--duration", "40f", "-q", limit=2500)
    assert_clean_failure(r, "tx.json", "File too large", folder=out)
    r = run_cli("evaluate", clip, clip, "--report", out / "scores.json", "-q", limit=1000)
    assert_clean_failure(r, "scores.json", "File too large", folder=out)
    assert files(clip.parent) == ["in.mp4", "orbit"]


def test_a_full_disk_is_one_line_and_nothing_left(clip, out, monkeypatch, capsys):
    """ENOSPC (no small file system to fill here): every write of the record says so."""

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(Path, "write_text", full)
    assert main(["generate", str(clip), "-o", str(out / "o.mp4"), *FAST]) == 1
    one_error_line(capsys.readouterr().err, "o.mp4.json", "No space left on device")
    assert files(out) == []


def test_names_too_long(clip, out, capsys):
    r = run_cli("generate", clip, "-o", out / ("a" * 300 + ".mp4"), *FAST)
    assert_clean_failure(r, "too long", "304 bytes", folder=out)
    # the name fits, its record's does not: refused before the work
    assert "too long" in in_process(capsys, "generate", clip, "-o", out / ("b" * 250 + ".mp4"), *FAST)
    assert "too long" in in_process(capsys, "evaluate", clip, clip, "--report", out / ("c" * 300 + ".json"), "-q")
    assert "too long" in in_process(capsys, "loop", clip, "-o", out / ("d" * 300), "-q")  # a frame folder
    assert files(out) == []


# ----------------------------------------------------------------------- 6. standard output closed or full


def closed_pipe() -> int:
    """The writing end of a pipe nobody reads (its reading end closed): a write gets EPIPE."""
    read, write = os.pipe()
    os.close(read)
    return write


@pytest.mark.parametrize(("command", "stdout"), [
    (["loop", "{orbit}", "-o", "{out}/l.gif"], "closed"),
    (["loop", "{orbit}", "-o", "{out}/l.gif", "--report", "{out}/l.json"], "full"),
    (["texture", "{orbit}", "-o", "{out}/t.mp4", "--duration", "20f"], "closed"),
    (["evaluate", "{clip}", "{clip}", "--report", "{out}/scores.json", "-q"], "full"),
])
def test_standard_output_that_takes_no_result(command, stdout, clip, orbit, out):
    """The result line is part of the result: a closed pipe or a full device fails the run, and the
    outputs it wrote go with it."""
    args = [a.format(orbit=orbit, clip=clip, out=out) for a in command]
    if stdout == "closed":
        pipe = closed_pipe()
        try:
            r = run_cli(*args, stdout=pipe)
        finally:
            os.close(pipe)
        assert_clean_failure(r, "standard output", "broken pipe", folder=out)
    else:
        with open("/dev/full", "w") as full:
            r = run_cli(*args, stdout=full)
        assert_clean_failure(r, "standard output", "No space left on device", folder=out)


def test_a_video_to_standard_output_that_is_closed(clip, out):
    pipe = closed_pipe()
    try:
        r = run_cli("generate", clip, "-o", "-", *FAST, stdout=pipe, cwd=out)
    finally:
        os.close(pipe)
    assert_clean_failure(r, "standard output", folder=out)


# ----------------------------------------------------------------------- 7. signals at start-up and while writing


def interrupted(err: str) -> list[str]:
    """stderr without ``-X importtime``'s lines, checked: no traceback, ends with the interrupt."""
    lines = [line for line in err.splitlines() if not line.startswith("import time:")]
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert lines and lines[-1].startswith("patchvid: interrupted"), err
    return lines


@pytest.mark.parametrize("module", ["patchvid.errors", "argparse", "patchvid.cli.options", "numpy", "torch"])
def test_ctrl_c_while_python_imports_the_package(clip, out, module):
    """SIGINT sent as soon as ``module`` has been imported (``-X importtime`` says when, whatever the
    machine's speed): no traceback, 130, nothing written."""
    proc = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "patchvid", "generate", str(clip), "-o",
                             str(out / "o.mp4"), *FAST], stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("import time:") and line.rsplit("|", 1)[-1].strip() == module:
            proc.send_signal(signal.SIGINT)
            break
    else:
        pytest.fail(f"{module} was never imported: {''.join(seen)[-2000:]}")
    err = "".join(seen) + proc.communicate(timeout=120)[1]
    # 130; or killed by SIGINT, which CPython does at exit when an interrupt cut short C code run
    # from an import (a shell shows 130 for either)
    assert proc.returncode in (130, -signal.SIGINT), err
    interrupted(err)
    assert files(out) == []


@pytest.mark.parametrize("delay", [0.1, 0.2, 0.3, 0.6])
def test_ctrl_c_soon_after_start(clip, out, delay):
    proc = subprocess.Popen([sys.executable, "-m", "patchvid", "generate", str(clip), "-o", str(out / "o.mp4"),
                             *FAST], stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    err = proc.communicate(timeout=120)[1]
    if proc.returncode == 0:  # a fast machine finished first
        assert files(out) == ["o.mp4", "o.mp4.json"]
        return
    assert proc.returncode in (130, -signal.SIGINT), err
    interrupted(err)
    assert files(out) == []


@pytest.mark.parametrize("sig", [signal.SIGHUP, signal.SIGTERM])
def test_hangup_while_writing_a_frame_folder_leaves_nothing(orbit, out, sig):
    proc = subprocess.Popen([sys.executable, "-m", "patchvid", "texture", str(orbit), "-o", str(out / "tx"),
                             "--duration", "1500f", "-q"], stderr=subprocess.PIPE, text=True,
                            # the run keeps a hang-up ignored when it starts so (nohup): start it as a terminal would
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL))
    deadline = time.time() + 120
    partial = []
    while time.time() < deadline and proc.poll() is None:
        partial = [p for p in out.iterdir() if ".partial" in p.name]
        if partial and len(os.listdir(partial[0])) >= 10:  # mid-way through the frames
            break
        time.sleep(0.01)
    assert partial, "the frame folder was never being written"
    assert proc.poll() is None, "the run ended before it could be interrupted"
    proc.send_signal(sig)
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 130, err
    interrupted(err)
    assert files(out) == []


def test_an_ignored_hangup_stays_ignored(clip, out):
    """Under nohup (SIGHUP ignored when the command starts) a hangup does not stop the run."""
    proc = subprocess.Popen([sys.executable, "-m", "patchvid", "generate", str(clip), "-o", str(out / "o.mp4"), *FAST],
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN))
    time.sleep(0.5)
    proc.send_signal(signal.SIGHUP)
    err = proc.communicate(timeout=300)[1]
    assert proc.returncode == 0, err
    assert files(out) == ["o.mp4", "o.mp4.json"]
