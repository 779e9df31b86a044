"""Media a user can hand patchvid that is not what it seems: decompression bombs, video headers
declaring huge frames, truncated GIFs, named pipes and devices, and files or folders whose frames
were silently dropped or mixed up (multi-page TIFF, APNG, animated WebP, non-square pixels, frames
numbered twice).

Each guard lives in the reader (:mod:`patchvid.media.reading`, :mod:`patchvid.media.decoding`), so
every command and every input role gets it; the tests go through the real command line (``main`` in
this process, or ``python -m patchvid`` where a hang or stderr's warnings are the question) with the
input and at least one other role (inpaint's mask, evaluate's sample, blend's target).

Every file is written here: with Pillow and PyAV, or, for a header that no encoder writes cheaply,
crafted byte by byte.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import warnings
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from patchvid import memory
from patchvid.cli import main
from patchvid.errors import MediaError, ResourceError
from patchvid.media import decoding, read_video
from patchvid.media.reading import MAX_IMAGE_PIXELS

from ..conftest import assert_clean_failure, make_clip, one_error_line, save_mask
from . import footage

SYNTH = ["--iterations", "1"]


# --------------------------------------------------------------------------------------- helpers


def run_cli(capsys, *args) -> tuple[int, str]:
    """``patchvid ARGS`` in this process: its exit status and stderr."""
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def cli(*args, stdin: bytes | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m patchvid ARGS`` in its own process, as a user runs it, killed after ``timeout``
    seconds (a read that blocks on a pipe fails the test instead of hanging it)."""
    result = subprocess.run([sys.executable, "-m", "patchvid", *map(str, args)], capture_output=True,
                            input=stdin, timeout=timeout)
    return subprocess.CompletedProcess(result.args, result.returncode, result.stdout.decode(errors="replace"),
                                       result.stderr.decode(errors="replace"))


def record(path: Path) -> dict:
    return json.loads(path.with_name(path.name + ".json").read_text())


def fail_cleanly(capsys, out: Path, *args, words=()) -> str:
    """Run ``args`` in this process: exit 1, one error line holding ``words``, nothing in ``out``."""
    code, err = run_cli(capsys, *args)
    assert code == 1, err
    line = one_error_line(err, *words)
    assert list(out.iterdir()) == [], list(out.iterdir())
    return line


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png_header(path: Path, width: int, height: int) -> Path:
    """A 1-bit greyscale PNG that declares ``width x height`` but holds a few bytes of pixels: what a
    decompression bomb's header says, in 100 bytes (the reader must refuse it from the header)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + _chunk(b"IEND", b""))
    return path


def write_huge_video(path: Path, side: int = 16000) -> Path:
    """One ``side x side`` frame, 1 bit a pixel, raw in NUT (32 MB at 16000; no count in the header):
    libx264 cannot make frames this large, and a raw 1-bit frame can be written at once."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("rawvideo", rate=25)
        stream.width = stream.height = side
        stream.pix_fmt = "monob"
        frame = av.VideoFrame(side, side, "monob")
        frame.pts = 0
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    return path


def noise_frames(count: int, height: int = 24, width: int = 32, seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)) for _ in range(count)]


def grey_frames(count: int, height: int = 24, width: int = 32) -> list[Image.Image]:
    """Frames whose grey level tells their index: 0, 40, 80, ..."""
    return [Image.fromarray(np.full((height, width, 3), 40 * i, np.uint8)) for i in range(count)]


def write_animation(path: Path, frames: list[Image.Image], duration: int = 40, **options) -> Path:
    """All ``frames`` in one file (GIF, APNG, animated WebP or multi-page TIFF by the name), as Pillow
    writes them (``save_all``)."""
    if path.suffix.lower() in (".tif", ".tiff"):
        frames[0].save(path, save_all=True, append_images=frames[1:], **options)
    else:
        frames[0].save(path, save_all=True, append_images=frames[1:], duration=duration, loop=0, **options)
    return path


def write_sar_clip(path: Path, frames: int = 6, height: int = 24, width: int = 32, sar=Fraction(2, 1)) -> np.ndarray:
    """An H.264 clip whose pixels are ``sar`` wide (anamorphic): the left half bright, the right
    dark. What it holds, ``(T, H, W, 3)``, as coded."""
    picture = np.full((frames, height, width, 3), 30, np.uint8)
    picture[:, :, : width // 2] = 200
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.sample_aspect_ratio = sar
        for i, rgb in enumerate(picture):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return picture



@pytest.fixture
def small(tmp_path) -> Path:
    """A small still image input (32x24)."""
    path = tmp_path / "small.png"
    Image.fromarray(make_clip(1)[0]).save(path)
    return path


@pytest.fixture
def short_gif(tmp_path) -> Path:
    """A 4-frame 32x24 GIF input."""
    path = tmp_path / "short.gif"
    write_animation(path, [Image.fromarray(f) for f in make_clip(4)])
    return path


def low_memory(monkeypatch, mib: int) -> None:
    """Pretend the reader has only ``mib`` MiB of memory available."""
    monkeypatch.setattr(memory, "available_memory", lambda: mib << 20)


# ------------------------------------------------------------------------ 1. decompression bombs


def test_png_bomb_is_refused_from_its_header_through_the_cli(tmp_path, out):
    bomb = write_png_header(tmp_path / "bomb.png", 30000, 30000)
    before = bomb.read_bytes()
    result = cli("generate", bomb, "-o", out / "x.png", "--max-size", "64", timeout=60)
    assert_clean_failure(result, "bomb.png is 30000x30000 (900 Mpx)", "decoding it needs", "GiB", folder=out)
    assert "DecompressionBomb" not in result.stderr
    assert bomb.read_bytes() == before


def test_png_bomb_as_mask_sample_or_target_is_refused(tmp_path, capsys, out, small):
    bomb = write_png_header(tmp_path / "bomb.png", 30000, 30000)
    for args in (["inpaint", small, "--mask", bomb, "-o", out / "x.png", *SYNTH],
                 ["evaluate", small, bomb, "--measures", "coherence"],
                 ["blend", small, bomb, "--mask", save_mask(tmp_path / "m.png", np.ones((24, 32), bool)),
                  "-o", out / "x.png"]):
        fail_cleanly(capsys, out, *args, words=("bomb.png is 30000x30000", "Mpx"))


def test_bomb_refused_by_the_library_whatever_the_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 1 << 50)  # a petabyte: still refused
    with pytest.raises(ResourceError, match=r"30000x30000 \(900 Mpx\).*268 Mpx"):
        read_video(write_png_header(tmp_path / "bomb.png", 30000, 30000))
    assert MAX_IMAGE_PIXELS < 30000 * 30000


def test_image_over_pillows_warning_limit_reads_without_its_warning(tmp_path):
    path = tmp_path / "under.png"
    Image.new("1", (9500, 9500)).save(path)  # 90 Mpx: over Pillow's 89 Mpx warning, under its error
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clip = read_video(path, max_size=64)
    assert clip.shape == (1, 64, 64) and clip.is_image
    assert not [w for w in caught if "Decompression" in type(w.message).__name__], caught
    assert Image.MAX_IMAGE_PIXELS == 1024 * 1024 * 1024 // 4 // 3  # Pillow's own limit is left as it was


def test_image_too_large_for_the_memory_is_refused_before_decoding(tmp_path, capsys, monkeypatch, out, short_gif):
    big = tmp_path / "big.png"
    Image.new("RGB", (3000, 2000), (90, 120, 30)).save(big)
    low_memory(monkeypatch, 32)
    fail_cleanly(capsys, out, "generate", big, "-o", out / "x.png", "--max-size", "64",
                 words=("big.png is 3000x2000 (6 Mpx)", "needs", "but only 0.0 GiB is available"))
    fail_cleanly(capsys, out, "inpaint", short_gif, "--mask", big, "-o", out / "x.gif", *SYNTH,
                 words=("big.png is 3000x2000",))


def test_jpeg_is_shrunk_while_decoding(tmp_path, capsys, monkeypatch, out):
    """A JPEG is decoded at 1/8 scale where --max-size allows: it fits where decoding it whole would not."""
    big = tmp_path / "big.jpg"
    Image.fromarray(np.kron(make_clip(1, 24, 32)[0], np.ones((125, 125, 1), np.uint8))).save(big, quality=90)
    low_memory(monkeypatch, 175)  # 3000x4000 decoded whole needs about 0.2 GiB; the run itself 0.13
    fail_cleanly(capsys, out, "generate", big, "-o", out / "x.png", words=("big.jpg is 4000x3000",))
    code, err = run_cli(capsys, "generate", big, "-o", out / "x.png", "--max-size", "64", *SYNTH)
    assert code == 0, err
    assert record(out / "x.png")["inputs"]["input"]["frames_height_width"] == [1, 48, 64]


def test_folder_frames_are_checked_too(tmp_path, capsys, out):
    folder = tmp_path / "frames"
    folder.mkdir()
    Image.fromarray(make_clip(1)[0]).save(folder / "1.png")
    write_png_header(folder / "2.png", 30000, 30000)
    fail_cleanly(capsys, out, "generate", folder, "-o", out / "x.gif", words=("2.png is 30000x30000",))


def gif_image_descriptors(data: bytes) -> list[int]:
    """Where each frame's image descriptor (``0x2C``, x, y, width, height, flags) starts in a GIF."""
    at = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)  # header, screen, global colours
    found = []
    while at < len(data) and data[at] != 0x3B:
        if data[at] == 0x21:  # an extension: its label, then sub-blocks
            at += 2
        else:
            found.append(at)
            flags = data[at + 9]
            at += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1  # local colours, LZW code size
        while data[at]:
            at += data[at] + 1
        at += 1
    return found


def test_gif_frame_reaching_past_its_screen_is_refused_before_decoding(tmp_path, short_gif):
    """A GIF frame may lie outside its logical screen: Pillow grows the canvas for it (a bomb in frame 2)."""
    data = bytearray(short_gif.read_bytes())
    second = gif_image_descriptors(bytes(data))[1]
    data[second + 5 : second + 9] = struct.pack("<HH", 60000, 60000)  # its width and height
    short_gif.write_bytes(bytes(data))
    with pytest.raises(MediaError, match="frames differ in size.*frame 2 is 600"):
        read_video(short_gif)


# ------------------------------------------------------------------ 2. huge frames in a video header


def test_video_with_huge_frames_is_refused_as_too_large(tmp_path, capsys, monkeypatch, out, small):
    big = write_huge_video(tmp_path / "big.nut")
    low_memory(monkeypatch, 512)  # one 16000x16000 RGB frame is 0.7 GiB
    line = fail_cleanly(capsys, out, "generate", big, "-o", out / "x.mp4", *SYNTH,
                        words=("video too large", "big.nut is 16000x16000", "GiB"))
    assert "corrupt" not in line
    # a sample to evaluate is read without the command's own memory check: the reader refuses it
    fail_cleanly(capsys, out, "evaluate", small, big, "--measures", "coherence",
                 words=("video too large", "16000x16000"))


def test_video_with_huge_frames_reads_shrunk_where_it_fits(tmp_path, capsys, monkeypatch, out, short_gif):
    big = write_huge_video(tmp_path / "big.nut")
    low_memory(monkeypatch, 512)
    clip = read_video(big, max_size=64)  # decoded at 16000x16000 (32 MB, 1 bit), kept at 64x64
    assert clip.frames.shape == (1, 64, 64, 3)
    # as a mask, it is refused in one line (not decoded until memory runs out)
    fail_cleanly(capsys, out, "inpaint", short_gif, "--mask", big, "-o", out / "x.gif", *SYNTH,
                 words=("video too large", "16000x16000"))


def test_video_whose_one_frame_does_not_fit_is_refused_by_probe(tmp_path, monkeypatch):
    big = write_huge_video(tmp_path / "big.nut", side=8000)
    low_memory(monkeypatch, 1)
    with pytest.raises(ResourceError, match="too large.*8000x8000.*one frame"):
        decoding.probe(big)


# ---------------------------------------------------------------------------- 3. truncated GIFs


def test_gif_cut_in_half_gives_the_frames_that_decode_with_a_note(tmp_path, capsys, out):
    whole = write_animation(tmp_path / "whole.gif", noise_frames(6))
    cut = tmp_path / "cut.gif"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    code, err = run_cli(capsys, "generate", cut, "-o", out / "x.gif", *SYNTH)
    assert code == 0, err
    assert "Traceback" not in err and "note: " in err and "cut.gif" in err and "truncated" in err
    frames = record(out / "x.gif")["inputs"]["input"]["frames_height_width"][0]
    assert 1 <= frames < 6


def test_truncated_gif_as_blend_target(tmp_path, capsys, out, small):
    whole = write_animation(tmp_path / "whole.gif", noise_frames(6))
    cut = tmp_path / "cut.gif"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    mask = save_mask(tmp_path / "m.png", np.pad(np.ones((8, 8), bool), ((8, 8), (12, 12))))
    code, err = run_cli(capsys, "blend", small, cut, "--mask", mask, "-o", out / "x.gif")
    assert code == 0, err
    assert "truncated" in err
    assert 1 <= len(read_video(out / "x.gif").frames) < 6


def test_gif_cut_inside_its_first_frame_is_refused_in_one_line(tmp_path, capsys, out):
    whole = write_animation(tmp_path / "whole.gif", noise_frames(6))
    cut = tmp_path / "cut.gif"
    cut.write_bytes(whole.read_bytes()[:1000])
    fail_cleanly(capsys, out, "generate", cut, "-o", out / "x.gif", words=("cut.gif",))


def test_every_cut_of_a_gif_reads_or_is_refused(tmp_path):
    """Pillow raises IndexError, struct.error, OSError, EOFError ... depending on where a GIF ends."""
    data = write_animation(tmp_path / "whole.gif", noise_frames(4)).read_bytes()
    cut = tmp_path / "cut.gif"
    outcomes = set()
    for size in range(13, len(data), 37):
        cut.write_bytes(data[:size])
        try:
            clip = read_video(cut)
        except MediaError:
            outcomes.add("refused")
            continue
        assert clip.notes and ("truncated" in clip.notes[-1]), (size, clip.notes)
        outcomes.add(len(clip.frames))
    assert {"refused", 1, 2, 3} <= outcomes


@pytest.mark.parametrize("ext", [".png", ".tif"])
def test_truncated_apng_or_tiff_gives_the_frames_that_decode(tmp_path, ext):
    data = write_animation(tmp_path / f"whole{ext}", noise_frames(4)).read_bytes()
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    clip = read_video(cut)
    assert 1 <= len(clip.frames) < 4
    assert any("truncated" in note for note in clip.notes)


# ------------------------------------------------------------- 4. named pipes, devices, sockets


def test_named_pipe_is_refused_without_being_opened(tmp_path, out):
    pipe = tmp_path / "clip.mp4"
    os.mkfifo(pipe)
    result = cli("generate", pipe, "-o", out / "x.mp4", timeout=60)  # opening it would block
    assert_clean_failure(result, "clip.mp4 is a named pipe, not a file", "use - to read standard input", folder=out)


@contextlib.contextmanager
def unblocked(pipe: Path):
    """While in this block, a reader that opened ``pipe`` (a regression) is let go after a few seconds
    (a writer opens and closes it: the read ends), so that an in-process test fails rather than hangs."""
    done = threading.Event()

    def writer():
        while not done.wait(2):
            with contextlib.suppress(OSError):  # fails while no one reads it
                os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()


def test_named_pipe_as_mask_or_sample(tmp_path, capsys, out, small):
    pipe = tmp_path / "mask.png"
    os.mkfifo(pipe)
    with unblocked(pipe):
        for args in (["inpaint", small, "--mask", pipe, "-o", out / "x.png", *SYNTH],
                     ["evaluate", small, pipe, "--measures", "coherence"]):
            fail_cleanly(capsys, out, *args, words=("mask.png is a named pipe",))


def test_character_device_is_refused(out):
    assert_clean_failure(cli("generate", "/dev/zero", "-o", out / "x.mp4", timeout=60),
                         "/dev/zero is a character device, not a file", folder=out)


def test_socket_is_refused(tmp_path, out):
    path = tmp_path / "s.png"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
    except OSError as e:  # a path too long for a socket name
        pytest.skip(f"cannot make a socket here: {e}")
    with server:
        assert_clean_failure(cli("generate", path, "-o", out / "x.png", timeout=60), "s.png is a socket", folder=out)


def test_named_pipe_among_a_folders_frames_is_refused(tmp_path, capsys, out):
    folder = tmp_path / "frames"
    folder.mkdir()
    Image.fromarray(make_clip(1)[0]).save(folder / "1.png")
    os.mkfifo(folder / "2.png")
    with unblocked(folder / "2.png"):
        fail_cleanly(capsys, out, "generate", folder, "-o", out / "x.gif", words=("2.png is a named pipe",))


def test_standard_input_still_works(tmp_path, out):
    clip = footage.write_bars(tmp_path / "bars.mp4", 24, 32, frames=4)
    result = cli("generate", "-", "-o", out / "x.mp4", *SYNTH, stdin=clip.read_bytes())
    assert result.returncode == 0, result.stderr
    assert (out / "x.mp4").is_file()


# ------------------------------------------------------------------------- 5. silently dropped


@pytest.mark.parametrize("ext, fps", [(".png", Fraction(25)), (".webp", Fraction(25)), (".tif", None)])
def test_every_frame_of_an_apng_webp_or_tiff_is_read(tmp_path, ext, fps):
    path = write_animation(tmp_path / f"a{ext}", grey_frames(5), **({"lossless": True} if ext == ".webp" else {}))
    clip = read_video(path)
    assert not clip.is_image and clip.fps == fps
    assert [int(f[0, 0, 0]) for f in clip.frames] == [0, 40, 80, 120, 160]
    assert read_video(path, start="1f", end="3f").frames.shape[0] == 2


def test_apng_default_image_is_not_a_frame(tmp_path):
    """An APNG may hold a still for viewers without animation, shown by none that animates."""
    path = write_animation(tmp_path / "a.png", grey_frames(5), default_image=True)
    assert [int(f[0, 0, 0]) for f in read_video(path).frames] == [40, 80, 120, 160]


def test_tiff_pages_of_different_sizes_are_refused(tmp_path):
    pages = [Image.new("RGB", (32, 24)), Image.new("RGB", (16, 12))]
    with pytest.raises(MediaError, match="frames differ in size.*16x12"):
        read_video(write_animation(tmp_path / "a.tif", pages))


def test_animations_through_the_cli(tmp_path, capsys, out, small):
    apng = write_animation(tmp_path / "a.png", [Image.fromarray(f) for f in make_clip(5)])
    code, err = run_cli(capsys, "generate", apng, "-o", out / "x.gif", *SYNTH)
    assert code == 0, err
    assert record(out / "x.gif")["inputs"]["input"]["frames_height_width"] == [5, 24, 32]
    assert record(out / "x.gif")["inputs"]["input"]["fps"] == "25"
    # a multi-page TIFF as blend's target: the output has all its pages
    tiff = write_animation(tmp_path / "t.tif", [Image.fromarray(f) for f in make_clip(4, seed=3)])
    mask = save_mask(tmp_path / "m.png", np.pad(np.ones((8, 8), bool), ((8, 8), (12, 12))))
    code, err = run_cli(capsys, "blend", small, tiff, "--mask", mask, "-o", out / "b.gif")
    assert code == 0, err
    assert len(read_video(out / "b.gif").frames) == 4


def test_non_square_pixels_are_resampled_to_square_with_a_note(tmp_path):
    write_sar_clip(tmp_path / "dv.mp4")
    clip = read_video(tmp_path / "dv.mp4")
    assert clip.shape == (6, 24, 64)
    assert any("sample aspect ratio 2:1" in note for note in clip.notes)
    row = clip.frames[0, 12, :, 0].astype(int)
    assert (abs(row[4:28] - 200) < 12).all() and (abs(row[36:60] - 30) < 12).all()  # the bright half is 32 wide
    probed = decoding.probe(tmp_path / "dv.mp4")
    assert (probed.height, probed.width) == (24, 64)
    assert read_video(tmp_path / "dv.mp4", max_size=32).shape == (6, 12, 32)


def test_non_square_pixels_through_the_cli_with_a_mask_drawn_as_shown(tmp_path, capsys, out):
    write_sar_clip(tmp_path / "dv.mp4")
    mask = save_mask(tmp_path / "m.png", np.pad(np.ones((8, 16), bool), ((8, 8), (24, 24))))  # 64x24, as shown
    code, err = run_cli(capsys, "inpaint", tmp_path / "dv.mp4", "--mask", mask, "-o", out / "x.mp4", *SYNTH)
    assert code == 0, err
    assert "non-square pixels" in err
    assert record(out / "x.mp4")["inputs"]["input"]["frames_height_width"] == [6, 24, 64]
    with av.open(str(out / "x.mp4")) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (64, 24)


def test_frames_numbered_twice_are_refused(tmp_path, capsys, out, short_gif):
    folder = tmp_path / "frames"
    folder.mkdir()
    for name in ("1.png", "01.png", "001.png", "2.png"):
        Image.fromarray(make_clip(1)[0]).save(folder / name)
    line = fail_cleanly(capsys, out, "generate", folder, "-o", out / "x.gif", words=("clash",))
    assert "1.png" in line and "01.png" in line and "001.png" in line
    fail_cleanly(capsys, out, "inpaint", short_gif, "--mask", folder, "-o", out / "x.gif", *SYNTH,
                 words=("clash", "001.png"))


def test_frames_with_one_number_in_two_formats_clash(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    Image.fromarray(make_clip(1)[0]).save(folder / "frame_7.png")
    Image.fromarray(make_clip(1)[0]).save(folder / "frame_07.jpg")
    Image.fromarray(make_clip(1)[0]).save(folder / "frame_8.png")
    with pytest.raises(MediaError, match="clash") as refused:
        read_video(folder)
    assert "frame_7.png" in str(refused.value) and "frame_07.jpg" in str(refused.value)
    assert "frame_8.png" not in str(refused.value)
