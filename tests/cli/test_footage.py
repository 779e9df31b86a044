"""Footage as cameras and phones make it, through the real command line: colour matrices and ranges,
display rotation, sound, timecodes and tags, variable frame rates, 10 bits and HDR, every codec,
pipes, and the memory a large clip takes to read.

The media are written with PyAV directly (:mod:`tests.media.footage`), and outputs are read back
without patchvid where the question is what a player would show.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import av
import numpy as np
import pytest

from patchvid import memory
from patchvid.cli import main
from patchvid.media import Encoding, read_video, write_video
from patchvid.media.audio import largest_jump, read_audio

from ..conftest import make_clip, one_error_line, orbit_clip, save_mask
from ..media import footage

FPS = 25
SYNTH = ["--iterations", "1"]  # enough for what these tests look at: the media around the pixels


def run_cli(capsys, *args) -> tuple[int, str]:
    """``patchvid ARGS`` in this process (the same parser, runner and error handling as a user's
    shell, without a new interpreter's start-up): its exit status and stderr."""
    code = main([str(a) for a in args])
    return code, capsys.readouterr().err


def record(path) -> dict:
    return json.loads(path.with_name(path.name + ".json").read_text())


def video_stream(path):
    """The first video stream's codec, pixel format, colour tags (FFmpeg's integers), first frame's
    display rotation, and every stream's type, with the container's and streams' tags."""
    with av.open(str(path)) as container:
        v = container.streams.video[0]
        cc = v.codec_context
        rotation = next(container.decode(v)).rotation
        return {
            "codec": cc.codec.canonical_name,  # the format's name (av1), not the decoder's (libdav1d)
            "pix_fmt": cc.format.name,
            "tags": (cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range),
            "rotation": rotation,
            "types": [s.type for s in container.streams],
            "metadata": dict(container.metadata),
            "stream_metadata": [dict(s.metadata) for s in container.streams],
        }


def sound_matches_video(path) -> tuple[float, float]:
    """``(audio seconds, video seconds)`` of an output."""
    video = read_video(path)
    audio = read_audio(path)
    assert audio is not None, f"{path} has no sound"
    return audio.duration, len(video.frames) / float(video.fps)


def bar_errors(rgb: np.ndarray, rows: slice) -> list[float]:
    """Largest difference (grey levels) from each bar's colour in the bars' interiors, ``rows``
    only, with the values rounded to 8 bits as a player shows them."""
    shown = np.clip(np.round(rgb), 0, 255)
    return [float(np.abs(shown[:, rows, cols] - footage.BARS[i]).max())
            for i, cols in enumerate(footage.bar_interiors(rgb.shape[2]))]


# ----------------------------------------------------------------------------------------- colour


@pytest.mark.parametrize("matrix, colour_range", [("smpte170m", "tv"), ("bt709", "pc")])
def test_colour_bars_round_trip_by_their_own_tags(tmp_path, capsys, matrix, colour_range):
    source, out = tmp_path / "bars.mp4", tmp_path / "out.mp4"
    footage.write_bars(source, 32, 128, matrix=matrix, colour_range=colour_range)
    # the decoder uses the clip's own matrix and range: the bars read back as they were made
    assert max(bar_errors(read_video(source).frames, slice(2, -2))) <= 2
    mask = np.zeros((32, 128), bool)
    mask[12:20, 116:124] = True  # inside the black bar; the rows compared are clear of it
    save_mask(tmp_path / "mask.png", mask)
    # CRF 8: the codec's own loss at its default (16) can move a flat full-range colour by a chroma
    # code, 1.9 levels of blue; this checks the matrix and range, and swscale's rounding (3 levels before)
    code, err = run_cli(capsys, "inpaint", source, "--mask", tmp_path / "mask.png", "-o", out, "--crf", "8",
                        *SYNTH)
    assert code == 0, err
    assert f"colour {matrix}/{colour_range}" in err
    yuv, tags, bits = footage.read_planes(out)
    assert tags == {"matrix": matrix, "primaries": matrix, "transfer": matrix, "range": colour_range}
    rgb = footage.yuv_to_rgb(yuv, tags["matrix"], tags["range"], bits)
    for rows in (slice(2, 10), slice(22, 30)):
        assert max(bar_errors(rgb, rows)) <= 2, bar_errors(rgb, rows)
    assert record(out)["samples"][0]["colour"] == f"{matrix}/{colour_range}"


def test_hd_untagged_is_read_as_bt709_and_written_tagged_and_bt601_hd_keeps_its_tags(tmp_path, capsys):
    """An untagged HD clip is read as players read it (BT.709) and the output says so; a clip tagged
    BT.601 at HD stays BT.601. The tags matter: the other matrix puts green off by far more than 2."""
    patch = tmp_path / "patch.mp4"
    write_video(patch, np.full((4, 32, 32, 3), 128, np.uint8), 25)  # flat: its gradients fit on any target
    mask = np.zeros((32, 32), bool)
    mask[8:24, 8:24] = True
    save_mask(tmp_path / "mask.png", mask)
    cases = {"untagged": (None, "bt709", "smpte170m"), "bt601": ("smpte170m", "smpte170m", "bt709")}
    for name, (tag, expected, other) in cases.items():
        target, out = tmp_path / f"{name}.mp4", tmp_path / f"{name}_out.mp4"
        footage.write_bars(target, 720, 1280, frames=4, matrix=tag)
        read = read_video(target)
        assert (read.colour.matrix, read.colour.tagged) == (expected, tag is not None)
        # blend (Poisson cloning) writes the target's HD frames with a small region changed
        code, err = run_cli(capsys, "blend", patch, target, "--mask", tmp_path / "mask.png", "-o", out,
                            "--offset", "0,600,600")
        assert code == 0, err
        said = next(line for line in err.splitlines() if f"read {target}" in line)
        assert ("(untagged: assumed)" in said) == (tag is None), said
        info = video_stream(out)
        assert info["tags"] == (footage.MATRIX_CODE[expected], footage.PRIMARIES_CODE[expected],
                                footage.TRANSFER_CODE[expected], footage.RANGE_CODE["tv"])
        yuv, tags, bits = footage.read_planes(out)
        rows = slice(20, 580)  # clear of the pasted region
        assert max(bar_errors(footage.yuv_to_rgb(yuv, tags["matrix"], "tv", bits), rows)) <= 2
        wrong = bar_errors(footage.yuv_to_rgb(yuv, other, "tv", bits), rows)
        assert wrong[footage.GREEN] > 10, wrong  # read with the other matrix, green is far off (> 2)
        assert record(out)["inputs"]["target"]["colour"]["tagged"] == (tag is not None)


# -------------------------------------------------------------------------------------- rotation


def test_rotated_phone_clip_comes_out_upright_and_takes_a_portrait_mask(tmp_path, capsys):
    source, out = tmp_path / "phone.mp4", tmp_path / "out.mp4"
    coded = footage.write_rotated(source, frames=6, height=24, width=32, rotation=-90)
    # a player turns the coded frame 90 degrees clockwise: the top-left marker goes top-right
    upright = np.rot90(coded, k=-1, axes=(1, 2))
    read = read_video(source)
    assert read.frames.shape == (6, 32, 24, 3)
    assert np.abs(read.frames.astype(int) - upright).max() <= 3
    assert read.frames[0, :6, -6:].min() > 200 and read.frames[0, :6, :6].max() < 150
    portrait = np.zeros((32, 24), bool)  # drawn at the displayed size
    portrait[14:18, 6:12] = True
    save_mask(tmp_path / "portrait.png", portrait)
    code, err = run_cli(capsys, "inpaint", source, "--mask", tmp_path / "portrait.png", "-o", out, *SYNTH)
    assert code == 0, err
    assert "rotation" in err and "upright" in err
    info = video_stream(out)
    assert info["rotation"] == 0  # the frames are upright already: no player turns them again
    shown = read_video(out).frames
    assert shown.shape == (6, 32, 24, 3)
    assert shown[:, :6, -6:].min() > 200 and shown[:, -4:].max() < 60  # marker top-right, dark bar at the bottom
    assert record(out)["inputs"]["input"]["rotation"] == 270  # degrees counter-clockwise: 90 clockwise
    # the coded (landscape) size is not the picture's
    save_mask(tmp_path / "landscape.png", np.rot90(portrait))
    code, err = run_cli(capsys, "inpaint", source, "--mask", tmp_path / "landscape.png", "-o", tmp_path / "x.mp4")
    assert code == 1
    one_error_line(err, "32x24", "24x32")


# ------------------------------------------------------------------------------------------ sound


@pytest.fixture(scope="module")
def sounding(tmp_path_factory):
    """Two 12-frame clips with different tones (A: a disc circling every 6 frames; B: moving discs)
    and a mask: the inputs of every command."""
    folder = tmp_path_factory.mktemp("sound")
    a, b = folder / "a.mp4", folder / "b.mp4"
    footage.write_clip(a, orbit_clip(12, 6, 24, 32), FPS, matrix="smpte170m", sound=footage.tone(12 / FPS))
    footage.write_clip(b, make_clip(12, 24, 32), FPS, matrix="smpte170m", sound=footage.tone(12 / FPS, hz=550))
    mask = np.zeros((24, 32), bool)
    mask[10:14, 12:18] = True
    save_mask(folder / "mask.png", mask)
    return folder


# (command line with A, B and MASK for the clips, the output's sound: copied from A or rebuilt)
COMMANDS = {
    "generate": (["generate", "A", *SYNTH, "--coarsest-size", "8"], "rebuilt"),
    "retarget-space": (["retarget", "A", "--width", "40", *SYNTH, "--coarsest-size", "8"], "copied"),
    "retarget-time": (["retarget", "A", "--frames", "16", *SYNTH, "--coarsest-size", "8"], "rebuilt"),
    "analogy": (["analogy", "A", "B", *SYNTH], "copied"),  # the structure's sound
    "collage": (["collage", "B", "A", *SYNTH], "copied"),  # the edit's
    "inpaint": (["inpaint", "A", "--mask", "MASK", *SYNTH], "copied"),
    "loop": (["loop", "A"], "looped"),
    "texture": (["texture", "A", "--duration", "20f"], "rebuilt"),
    "cinemagraph": (["cinemagraph", "A", "--mask", "MASK"], "looped"),
    "blend": (["blend", "B", "A", "--mask", "MASK"], "copied"),  # the target's
}


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_command_that_writes_video_keeps_the_sound(sounding, tmp_path, capsys, name):
    args, how = COMMANDS[name]
    names = {"A": sounding / "a.mp4", "B": sounding / "b.mp4", "MASK": sounding / "mask.png"}
    out = tmp_path / "out.mp4"
    code, err = run_cli(capsys, *[names.get(a, a) for a in args], "-o", out)
    assert code == 0, err
    assert "sound: " in err
    audio_seconds, video_seconds = sound_matches_video(out)
    assert abs(audio_seconds - video_seconds) <= 1 / FPS, (audio_seconds, video_seconds)
    sound = record(out)["samples"][0]["sound"]
    assert sound["kept"] and sound["how"] == how
    if how == "copied":  # A's own samples, not B's: packets copied, not re-encoded
        mine = read_audio(names["A"]).samples
        np.testing.assert_array_equal(read_audio(out).samples, mine)


def test_loop_sound_wraps_without_a_click(sounding, tmp_path, capsys):
    out = tmp_path / "loop.mp4"
    code, err = run_cli(capsys, "loop", sounding / "a.mp4", "-o", out)
    assert code == 0, err
    source = read_audio(sounding / "a.mp4").samples
    own = largest_jump(source)
    loop = record(out)["loop"]
    per_frame = 48000 // FPS
    naive = source[loop["start"] * per_frame : loop["end"] * per_frame]  # the loop's sound as it is
    assert np.abs(naive[-1] - naive[0]).max() > 2 * own  # repeated as it is, the wrap would click
    sound = read_audio(out).samples
    assert len(sound) == loop["length"] * per_frame
    assert np.abs(sound[-1] - sound[0]).max() <= own  # the last sample runs into the first smoothly
    s = record(out)["samples"][0]["sound"]
    assert s["largest_step_at_joins"] <= s["largest_step_in_input"]


def test_surround_sound_keeps_its_channels(tmp_path, capsys):
    source = tmp_path / "surround.mp4"
    footage.write_with_sound(source, orbit_clip(12, 6, 24, 32), FPS, layout="5.1")
    mask = np.zeros((24, 32), bool)
    mask[10:14, 12:18] = True
    save_mask(tmp_path / "mask.png", mask)
    loudness = np.sqrt(np.mean(read_audio(source).samples ** 2, axis=0))  # per channel (AAC's LFE is ~silent)
    for args in (["inpaint", source, "--mask", tmp_path / "mask.png", *SYNTH], ["loop", source]):
        out = tmp_path / f"{args[0]}.mp4"
        code, err = run_cli(capsys, *args, "-o", out)
        assert code == 0, err
        audio = read_audio(out)
        assert (audio.channels, audio.layout) == (6, "5.1"), args[0]
        np.testing.assert_allclose(np.sqrt(np.mean(audio.samples**2, axis=0)), loudness, rtol=0.2, atol=1e-3)


def test_no_audio_drops_the_sound_and_a_gif_says_it_has_none(sounding, tmp_path, capsys):
    out = tmp_path / "silent.mp4"
    code, err = run_cli(capsys, "loop", sounding / "a.mp4", "-o", out, "--no-audio")
    assert code == 0, err
    assert "--no-audio" in err
    assert video_stream(out)["types"] == ["video"]
    assert record(out)["samples"][0]["sound"] == {"kept": False, "why": "--no-audio"}
    code, err = run_cli(capsys, "loop", sounding / "a.mp4", "-o", tmp_path / "loop.gif")
    assert code == 0, err
    assert "sound: left out" in err and "gif" in err


# ---------------------------------------------------------------------------- timecode and tags


def test_timecode_moves_with_start_tags_are_kept_and_a_new_timeline_has_neither(tmp_path, capsys):
    source = tmp_path / "camera.mp4"
    footage.write_with_timecode(source, make_clip(31, 24, 32), FPS, "01:00:00:00", sound=True)
    mask = np.zeros((24, 32), bool)
    mask[10:14, 12:18] = True
    save_mask(tmp_path / "mask.png", mask)
    out = tmp_path / "edit.mp4"
    code, err = run_cli(capsys, "inpaint", source, "--mask", tmp_path / "mask.png", "-o", out, "--start", "1",
                        *SYNTH)
    assert code == 0, err
    info = video_stream(out)
    assert info["types"] == ["video", "audio", "data"]  # the data stream is the timecode (tmcd) track
    assert info["stream_metadata"][0]["timecode"] == "01:00:01:00"  # 25 frames on
    assert info["metadata"]["creation_time"] == footage.CREATION_TIME
    assert info["metadata"]["location"] == footage.LOCATION
    assert "encoder" not in record(out)["samples"][0]["metadata"]["tags"]  # the old file's, not carried
    assert record(out)["samples"][0]["metadata"]["timecode"] == "01:00:01:00"
    # the copied sound decodes to the input's own samples over the range (mp4: sample-exact)
    kept = read_audio(source, 1.0, 1.0 + 6 / FPS).samples
    np.testing.assert_array_equal(read_audio(out).samples, kept)

    new = tmp_path / "new.mp4"
    code, err = run_cli(capsys, "generate", source, "-o", new, "--start", "1", *SYNTH, "--coarsest-size", "8")
    assert code == 0, err
    info = video_stream(new)
    assert "data" not in info["types"]
    assert not any("timecode" in m for m in [info["metadata"], *info["stream_metadata"]])
    assert "creation_time" not in info["metadata"] and "location" not in info["metadata"]
    metadata = record(new)["samples"][0]["metadata"]
    assert metadata["timecode"] is None and "new timeline" in metadata["why"]


# ------------------------------------------------------------------------------ variable frame rate


def test_variable_frame_rate_is_resampled_by_timestamps_as_a_player_shows_it(tmp_path, capsys):
    source = tmp_path / "phone.mp4"
    frames = footage.numbered_frames(12)
    times = footage.write_vfr(source, frames)
    code, err = run_cli(capsys, "loop", source, "-o", tmp_path / "o.mp4")
    assert code == 0, err
    notes = [line for line in err.splitlines() if "variable frame rate" in line]
    assert len(notes) == 1 and "resampled by timestamps" in notes[0] and "25 fps" in notes[0]
    assert record(tmp_path / "o.mp4")["inputs"]["input"]["variable_frame_rate"] is True
    with av.open(str(source)) as container:
        stream = container.streams.video[0]
        duration, rate = stream.duration * stream.time_base, stream.average_rate
    read = read_video(source)
    assert read.fps == rate and len(read.frames) == round(duration * rate)
    # output frame k (at 40k ms) shows a frame a player shows within half a frame of that time
    shown = np.round((read.frames.mean(axis=(1, 2, 3)) - 30) / 16).astype(int)
    ends = [*times[1:], float(duration * 1000)]
    half = 500 / float(rate)
    for k, i in enumerate(shown):
        slot = 1000 * k / float(rate)
        assert times[i] <= slot + half and ends[i] >= slot - half, (k, list(shown))


# ------------------------------------------------------------------------------------------ codecs


# (extra options, extension, the stream's codec and pixel format)
CODECS = {
    "h264": (["--codec", "h264"], ".mp4", "h264", "yuv420p"),
    "hevc": (["--codec", "hevc"], ".mp4", "hevc", "yuv420p"),
    "prores": (["--codec", "prores"], ".mov", "prores", "yuv422p10le"),
    "dnxhr": (["--codec", "dnxhr"], ".mov", "dnxhd", "yuv422p"),
    "av1": (["--codec", "av1"], ".mp4", "av1", "yuv420p"),
    "vp9": (["--codec", "vp9"], ".webm", "vp9", "yuv420p"),
    "10-bit": (["--pix-fmt", "yuv420p10le"], ".mp4", "h264", "yuv420p10le"),
    "4:2:2": (["--pix-fmt", "yuv422p"], ".mp4", "h264", "yuv422p"),
}
DNXHR_LEAST = (120, 256)  # FFmpeg's DNxHR encoder takes nothing smaller (height, width)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """Clips with sound for the encoders: 24x32, and DNxHR's smallest size."""
    folder = tmp_path_factory.mktemp("codecs")
    for name, (h, w) in {"small": (24, 32), "dnxhr": DNXHR_LEAST}.items():
        footage.write_with_sound(folder / f"{name}.mp4", orbit_clip(8, 4, h, w))
    return folder


@pytest.mark.parametrize("name", list(CODECS))
def test_every_codec_writes_a_file_that_decodes(plain, tmp_path, capsys, name):
    options, ext, codec, pix_fmt = CODECS[name]
    source = plain / ("dnxhr.mp4" if name == "dnxhr" else "small.mp4")
    out = tmp_path / f"out{ext}"
    code, err = run_cli(capsys, "loop", source, "-o", out, *options)
    assert code == 0, err
    info = video_stream(out)
    assert (info["codec"], info["pix_fmt"]) == (codec, pix_fmt)
    assert "audio" in info["types"]  # AAC copied into mp4/mov, Opus for WebM
    back = read_video(out)
    assert len(back.frames) == record(out)["loop"]["length"] and back.fps == FPS
    assert back.frames.shape[1:3] == read_video(source).frames.shape[1:3]


@pytest.mark.parametrize("codec, ext", [("h264", ".mp4"), ("hevc", ".mkv"), ("vp9", ".webm")])
def test_lossless_decodes_to_the_frames_given(tmp_path, codec, ext):
    frames = make_clip(6, 24, 32)
    path = tmp_path / f"lossless{ext}"
    write_video(path, frames, FPS, encoding=Encoding(codec=codec, lossless=True))
    np.testing.assert_array_equal(read_video(path).frames, frames)


def test_lossless_from_the_command_line_keeps_every_value(tmp_path, capsys):
    frames = orbit_clip(12, 6, 24, 32)
    write_video(tmp_path / "frames", frames)  # PNG frames: the input itself is exact
    out = tmp_path / "cut.mp4"
    code, err = run_cli(capsys, "loop", tmp_path / "frames", "-o", out, "--lossless", "--crossfade", "0")
    assert code == 0, err
    loop = record(out)["loop"]  # a plain cut: the output is the loop's frames as they are
    np.testing.assert_array_equal(read_video(out).frames, frames[loop["start"] : loop["end"]])


@pytest.mark.parametrize("options, name, words", [
    (["--codec", "prores"], "x.mp4", ["prores", ".mp4", ".mov"]),
    (["--lossless", "--crf", "3"], "x.mp4", ["--lossless", "--crf"]),
    (["--codec", "av1", "--lossless"], "x.mp4", ["av1", "lossless"]),
    (["--codec", "dnxhr"], "x.mov", ["dnxhr", "256x120", "32x24"]),
])
def test_wrong_encodings_fail_with_one_line_and_leave_no_file(plain, tmp_path, capsys, options, name, words):
    code, err = run_cli(capsys, "loop", plain / "small.mp4", "-o", tmp_path / name, *options)
    assert code == 1
    one_error_line(err, *words)
    assert list(tmp_path.iterdir()) == []


def test_wrong_encoding_is_refused_before_the_work(plain, tmp_path, capsys):
    code, err = run_cli(capsys, "generate", plain / "small.mp4", "-o", tmp_path / "x.mp4", "--codec", "prores",
                        *SYNTH, "--coarsest-size", "8")
    assert code == 1
    one_error_line(err, "prores")
    assert not [line for line in err.splitlines() if "level" in line or "solving" in line], err


# ------------------------------------------------------------------------------------ 10-bit, HDR


def test_10bit_input_stays_10bit_with_a_note_and_hdr_keeps_its_tags(tmp_path, capsys):
    clip = orbit_clip(8, 4, 24, 32)
    footage.write_10bit(tmp_path / "ten.mp4", clip)
    footage.write_hdr(tmp_path / "hdr.mp4", clip)
    code, err = run_cli(capsys, "loop", tmp_path / "ten.mp4", "-o", tmp_path / "ten_out.mp4")
    assert code == 0, err
    assert "note: 10-bit input: written yuv420p10le" in err
    assert video_stream(tmp_path / "ten_out.mp4")["pix_fmt"] == "yuv420p10le"
    assert record(tmp_path / "ten_out.mp4")["inputs"]["input"]["colour"]["bits"] == 10

    code, err = run_cli(capsys, "loop", tmp_path / "hdr.mp4", "-o", tmp_path / "hdr_out.mp4")
    assert code == 0, err
    info = video_stream(tmp_path / "hdr_out.mp4")
    assert info["pix_fmt"] == "yuv420p10le"
    assert info["tags"] == (footage.MATRIX_CODE["bt2020nc"], footage.PRIMARIES_CODE["bt2020"],
                            footage.TRANSFER_CODE["smpte2084"], footage.RANGE_CODE["tv"])
    assert record(tmp_path / "hdr_out.mp4")["samples"][0]["colour"] == "bt2020nc/tv/bt2020/smpte2084, 10-bit"
    # written at 8 bits on request, it keeps its tags and says what that costs
    code, err = run_cli(capsys, "loop", tmp_path / "hdr.mp4", "-o", tmp_path / "hdr8.mp4", "--pix-fmt", "yuv420p")
    assert code == 0, err
    assert "HDR" in err and "banding" in err
    assert video_stream(tmp_path / "hdr8.mp4")["tags"] == info["tags"]


# ------------------------------------------------------------------------------------------- pipes


def test_pipe_in_and_out(sounding, tmp_path, capsys):
    out = tmp_path / "out.mkv"
    with open(sounding / "a.mp4", "rb") as stdin, open(out, "wb") as stdout:
        result = subprocess.run([sys.executable, "-m", "patchvid", "retarget", "-", "-o", "-", "--width", "40",
                                 *SYNTH, "--coarsest-size", "8"], stdin=stdin, stdout=stdout, stderr=subprocess.PIPE,
                                text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    back = read_video(out)
    assert back.frames.shape == (12, 24, 40, 3)
    audio_seconds, video_seconds = sound_matches_video(out)
    assert abs(audio_seconds - video_seconds) <= 1 / FPS
    assert list(tmp_path.iterdir()) == [out]  # no record beside a stream, no temporary left

    code, err = run_cli(capsys, "generate", sounding / "a.mp4", "-o", "-", "--samples", "2")
    assert code == 1
    one_error_line(err, "-o -", "--samples 1")
    assert capsys.readouterr().out == ""

    result = subprocess.run([sys.executable, "-m", "patchvid", "retarget", "-", "-o", tmp_path / "x.mp4",
                             "--width", "40"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1
    one_error_line(result.stderr, "standard input")
    assert not (tmp_path / "x.mp4").exists()


# ------------------------------------------------------------------------------------------ memory

MEASURE = textwrap.dedent("""
    import json, resource, sys
    import av
    import patchvid.media as media

    def peak():
        # this process's peak RSS in bytes: VmHWM, since Linux carries ru_maxrss across exec from
        # the parent (pytest, with torch loaded, is larger than what is measured here)
        try:
            with open("/proc/self/status") as status:
                return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) * 1024
        except OSError:
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    path, max_size = sys.argv[1], (int(sys.argv[2]) or None)
    with av.open(path) as container:  # the decoder's libraries loaded and one frame decoded
        next(container.decode(video=0)).to_ndarray(format="rgb24")
    before = peak()
    frames = media.read_video(path, max_size=max_size).frames
    print(json.dumps({"grown": peak() - before, "bytes": frames.nbytes, "shape": frames.shape}))
""")


def test_reading_1080p_takes_the_frames_memory_and_shrinking_far_less(tmp_path):
    path = footage.write_gradients(tmp_path / "big.mp4", frames=20, height=1080, width=1920)
    full = 20 * 1080 * 1920 * 3
    results = {}
    for max_size in (0, 256):
        result = subprocess.run([sys.executable, "-c", MEASURE, path, str(max_size)], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        results[max_size] = json.loads(result.stdout)
    assert results[0]["shape"] == [20, 1080, 1920, 3] and results[0]["bytes"] == full
    assert results[0]["grown"] >= full  # measured at all: the frames themselves are in it
    assert results[0]["grown"] <= 1.2 * full, results[0]["grown"] / full  # one array: no list, no stack, no copy
    assert results[256]["shape"] == [20, 144, 256, 3]
    assert results[256]["grown"] <= 0.25 * full, results[256]["grown"] / full  # never held at full size



# ------------------------------------------------------------------------------------ --max-size auto


def test_max_size_auto_fits_the_run_to_the_memory_available(tmp_path, capsys, monkeypatch):
    from patchvid.synthesis.planning import plan
    from patchvid.synthesis.settings import GenerateSettings

    write_video(tmp_path / "in.mp4", make_clip(6, 48, 64), 25)
    code, err = run_cli(capsys, "generate", tmp_path / "in.mp4", "-o", tmp_path / "full.mp4", "--max-size", "auto",
                        *SYNTH, "--coarsest-size", "8")
    assert code == 0, err
    assert "--max-size auto: the full size (64x48) fits" in err
    assert read_video(tmp_path / "full.mp4").shape == (6, 48, 64)

    # a machine with little memory left: a 640x480 clip is scaled to fit, and the size is said
    write_video(tmp_path / "big.mp4", make_clip(6, 480, 640), 25)
    budget = plan((6, 480, 640), GenerateSettings()).estimated_bytes  # the full size needs it all
    monkeypatch.setattr(memory, "available_memory", lambda: budget)
    code, err = run_cli(capsys, "generate", tmp_path / "big.mp4", "-o", tmp_path / "fit.mp4", "--max-size", "auto",
                        *SYNTH, "--coarsest-size", "8")
    assert code == 0, err
    line = next(line for line in err.splitlines() if "--max-size auto:" in line)
    read = record(tmp_path / "fit.mp4")["inputs"]["input"]
    t, h, w = read["frames_height_width"]
    assert f"{w}x{h}" in line and 320 <= w < 640 and abs(h - w * 3 / 4) <= 1  # auto leaves half free
    assert read["max_size"] == w and read_video(tmp_path / "fit.mp4").shape[1] == h

    # without auto the full-size request is refused before the work, and the message offers auto
    code, err = run_cli(capsys, "generate", tmp_path / "big.mp4", "-o", tmp_path / "no.mp4", *SYNTH)
    assert code == 1 and "--max-size auto" in one_error_line(err) and not (tmp_path / "no.mp4").exists()
