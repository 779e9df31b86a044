"""The shared options of the command line: times, frame rates, encoding, and options anywhere
between a command's positionals."""

import argparse
import json
from fractions import Fraction

import pytest

from patchvid.cli import IntermixedParser, build_parser, main
from patchvid.cli.options import (
    CODECS,
    FRAME_RATE_NAMES,
    add_encoding_arguments,
    encoding_from,
    frame_rate,
    frames_of,
    parse_time,
)
from patchvid.errors import InputError
from patchvid.media import write_video
from patchvid.media.times import Time

from ..conftest import make_clip, one_error_line, patchvid_cli

MEDIA_COMMANDS = ["generate", "retarget", "analogy", "inpaint", "collage", "loop", "texture", "cinemagraph", "blend"]


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(list(argv))


# ----------------------------------------------------------------------------------- times


@pytest.mark.parametrize(
    "text, time",
    [("12f", Time(frame=12)), ("2.5", Time(seconds=2.5)), ("2.5s", Time(seconds=2.5)), ("1:02.5", Time(seconds=62.5)),
     ("0:00:01", Time(seconds=1.0)), ("00:00:01.000", Time(seconds=1.0)), ("2", Time(seconds=2.0))],
)
def test_parse_time_gives_a_time(text, time):
    assert parse_time(text) == time
    assert parse("generate", "in.mp4", "-o", "o.mp4", "--end", text).end == time


@pytest.mark.parametrize("text, words", [("soon", "not a time: 'soon'"), ("-3", "negative"), ("1:75", "below 60"),
                                         ("1.5f", "not a time")])
def test_a_bad_time_is_an_argparse_error(text, words):
    with pytest.raises(argparse.ArgumentTypeError, match=words):
        parse_time(text)


def test_a_bad_time_on_the_command_line_is_one_line(tmp_path):
    result = patchvid_cli("loop", tmp_path / "in.mp4", "-o", tmp_path / "o.gif", "--min-length", "two seconds")
    assert result.returncode == 2
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith("patchvid loop: error: argument --min-length: not a time: 'two seconds'"), line
    assert "12f" in line and "Traceback" not in result.stderr


def test_frames_of():
    assert frames_of(None, Fraction(25)) is None
    assert frames_of(Time(frame=7), None) == 7
    assert frames_of(Time(seconds=2), Fraction(25)) == 50
    assert frames_of(parse_time("1:00"), Fraction(30000, 1001)) == 1798  # 60 s at 29.97 fps: 1798.2
    assert frames_of(parse_time("0.5"), Fraction(25)) == 13  # halves up


def test_the_demo_range_is_a_start_in_seconds_and_an_end_in_frames(monkeypatch, tmp_path):
    import patchvid.data
    from patchvid.cli.generate import DEMO_RANGE, use_demo

    monkeypatch.setattr(patchvid.data, "bundled_clip", lambda: tmp_path / "bunny.mp4")
    args = argparse.Namespace(input=None, start=None, end=None, max_size=None)
    use_demo(args)
    assert args.start == Time(seconds=DEMO_RANGE[0]) and args.end == Time(frame=63)  # 2 s at 25 fps, + 13 frames
    assert (str(args.start), str(args.end)) == ("2s", "63f")


# ----------------------------------------------------------------------------------- frame rates


@pytest.mark.parametrize(
    "text, rate",
    [
        ("30", Fraction(30)),
        ("25", Fraction(25)),
        ("29.97", Fraction(2997, 100)),  # exactly what was typed: NTSC is 30000/1001 or ntsc
        ("23.976", Fraction(23976, 1000)),
        ("30000/1001", Fraction(30000, 1001)),
        ("24000/1001", Fraction(24000, 1001)),
        ("60000:1001", Fraction(60000, 1001)),
        (" 12.5 ", Fraction(25, 2)),
        ("1e3", Fraction(1000)),
        ("0.01", Fraction(1, 100)),
        ("NTSC", Fraction(30000, 1001)),
    ],
)
def test_frame_rate_is_exact(text, rate):
    assert frame_rate(text) == rate and isinstance(frame_rate(text), Fraction)


def test_ffmpeg_rate_names():
    # libavutil/parseutils.c video_rate_abbrs, as av_parse_video_rate reads them
    ffmpeg = {
        "ntsc": Fraction(30000, 1001), "pal": Fraction(25), "qntsc": Fraction(30000, 1001), "qpal": Fraction(25),
        "sntsc": Fraction(30000, 1001), "spal": Fraction(25), "film": Fraction(24),
        "ntsc-film": Fraction(24000, 1001),
    }
    assert ffmpeg == FRAME_RATE_NAMES
    for name, rate in FRAME_RATE_NAMES.items():
        assert frame_rate(name) == rate


@pytest.mark.parametrize(
    "text, words",
    [
        ("0", "from 0.01 to 1000"),
        ("-25", "from 0.01 to 1000"),
        ("1e-9", "from 0.01 to 1000"),
        ("1001", "from 0.01 to 1000"),
        ("0/1", "from 0.01 to 1000"),
        ("nan", "finite"),
        ("inf", "finite"),
        ("-inf", "finite"),
        ("1/0", "not a frame rate"),
        ("fast", "not a frame rate: 'fast' (use e.g. 25, 29.97, 30000/1001, or ntsc, pal"),
        ("", "not a frame rate"),
        ("30 fps", "not a frame rate"),
    ],
)
def test_frame_rate_refusals(text, words):
    with pytest.raises(argparse.ArgumentTypeError, match=words.replace("(", r"\(").replace(".", r"\.")):
        frame_rate(text)


def test_every_fps_option_is_a_fraction():
    assert parse("generate", "in.mp4", "-o", "o.mp4", "--fps", "29.97").fps == Fraction(2997, 100)
    assert parse("retarget", "in.mp4", "-o", "o.mp4", "--fps", "ntsc-film").fps == Fraction(24000, 1001)
    assert parse("generate", "in.mp4", "-o", "o.mp4").fps is None


def test_a_bad_fps_exits_with_one_line(tmp_path):
    result = patchvid_cli("generate", tmp_path / "in.mp4", "-o", tmp_path / "o.mp4", "--fps", "0")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "patchvid generate: error: argument --fps: a frame rate must be from 0.01 to 1000 frames per second, got '0'")


def test_fps_is_written_exactly(tmp_path):
    from patchvid.media import read_video

    write_video(tmp_path / "in", make_clip(4, 16, 20))
    out = tmp_path / "o.mp4"
    assert main(["generate", str(tmp_path / "in"), "-o", str(out), "--iterations", "1", "-q", "--fps", "ntsc"]) == 0
    assert read_video(out).fps == Fraction(30000, 1001)
    assert json.loads((tmp_path / "o.mp4.json").read_text())["samples"][0]["output_fps"] == "30000/1001"


# ----------------------------------------------------------------------------------- encoding


def test_encoding_defaults_are_unset():
    assert encoding_from(parse("generate", "in.mp4", "-o", "o.mp4")) == {
        "codec": None, "crf": None, "preset": None, "pix_fmt": None, "lossless": False}
    assert parse("loop", "in.mp4", "-o", "o.mp4").no_audio is False


def test_encoding_options_are_read():
    args = parse("generate", "in.mp4", "-o", "o.mov", "--codec", "prores", "--pix-fmt", "yuv422p10le", "--preset",
                 "Slow", "--crf", "18", "--no-audio")
    assert encoding_from(args) == {"codec": "prores", "crf": 18, "preset": "slow", "pix_fmt": "yuv422p10le",
                                   "lossless": False}
    assert args.no_audio is True
    assert encoding_from(parse("blend", "s", "t", "--mask", "m", "-o", "o.mkv", "--lossless"))["lossless"] is True
    for codec in CODECS:
        args = parse("texture", "in", "--duration", "2", "-o", "o.mp4", "--codec", codec)
        assert encoding_from(args)["codec"] == codec


def test_encoding_fields_are_those_of_the_writers_encoding():
    """The runner calls ``Encoding(**encoding_from(args))``: the keys are exactly its fields."""
    import dataclasses
    import importlib

    for name in ("patchvid.media.encoding", "patchvid.media.writing"):
        try:
            encoding = importlib.import_module(name).Encoding
            break
        except (ImportError, AttributeError):
            continue
    else:
        pytest.skip("the media package has no Encoding yet")
    fields = {f.name for f in dataclasses.fields(encoding)}
    args = parse("generate", "in.mp4", "-o", "o.mp4", "--codec", "av1", "--preset", "8", "--pix-fmt", "yuv420p10le")
    assert set(encoding_from(args)) == fields
    assert encoding(**encoding_from(args)).preset == "8"


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--crf", "64"], "must be from 0 to 63"),
        (["--crf", "-1"], "must be at least 0"),
        (["--crf", "high"], "not a whole number"),
        (["--codec", "mpeg2"], "invalid choice: 'mpeg2'"),
        (["--preset", "very slow"], "not a preset name"),
        (["--pix-fmt", "yuv420p;rm"], "not a pixel format name"),
    ],
)
def test_bad_encoding_options_are_argparse_errors(argv, words, capsys):
    with pytest.raises(SystemExit) as e:
        parse("generate", "in.mp4", "-o", "o.mp4", *argv)
    assert e.value.code == 2
    assert words in capsys.readouterr().err


def test_lossless_and_crf_together_are_refused():
    with pytest.raises(InputError, match="give --lossless or --crf 20, not both"):
        encoding_from(parse("generate", "in.mp4", "-o", "o.mp4", "--lossless", "--crf", "20"))


def test_encoding_from_a_command_without_the_options():
    assert encoding_from(argparse.Namespace()) == {"codec": None, "crf": None, "preset": None, "pix_fmt": None,
                                                   "lossless": False}
    p = argparse.ArgumentParser()
    add_encoding_arguments(p)
    assert encoding_from(p.parse_args(["--crf", "0"]))["crf"] == 0


@pytest.mark.parametrize("command", [*MEDIA_COMMANDS, "evaluate"])
def test_help_of_every_command(command, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert f"usage: patchvid {command}" in out
    # every command with a media output can choose its encoding; evaluate writes none of its own
    assert ("--codec {h264,hevc,prores,dnxhr,av1,vp9}" in out) == (command != "evaluate")
    assert ("--no-audio" in out) == (command != "evaluate")


# ----------------------------------------------------------------------------------- options anywhere


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["evaluate", "in", "--end", "13f", "s1", "s2"], {"input": "in", "sample": ["s1", "s2"]}),
        (["evaluate", "in", "s1", "--measures", "swd", "s2", "-q"], {"input": "in", "sample": ["s1", "s2"]}),
        (["evaluate", "--end", "13f", "in", "s1"], {"input": "in", "sample": ["s1"]}),
        (["analogy", "a", "--mode", "labels", "b", "-o", "o.mp4"], {"structure": "a", "appearance": "b"}),
        (["collage", "a", "-o", "o.png", "b"], {"original": "a", "edited": "b"}),
        (["blend", "s", "--mask", "m.png", "t", "-o", "o.mp4"], {"source": "s", "target": "t", "mask": "m.png"}),
        (["generate", "-o", "o.mp4", "--end", "4f", "in", "--samples", "2"], {"input": "in", "samples": 2}),
        (["generate", "--demo", "-o", "o.mp4"], {"input": None, "demo": True}),
        (["loop", "-o", "o.gif", "in", "--min-length", "2s"], {"input": "in", "min_length": Time(seconds=2.0)}),
    ],
)
def test_options_may_sit_between_positionals(argv, expected):
    args = vars(parse(*argv))
    assert {k: args.get(k) for k in expected} == expected
    if "--end" in argv:
        assert args["end"] == Time(frame=int(argv[argv.index("--end") + 1][:-1]))


def test_intermixed_parsing_keeps_argparse_errors(capsys):
    with pytest.raises(SystemExit):
        parse("loop", "-o", "o.gif")
    assert "the following arguments are required: input" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse("evaluate", "in", "--nosie", "3", "s1")
    assert "unrecognized arguments: --nosie" in capsys.readouterr().err


def test_the_top_level_parser_cannot_be_intermixed_itself():
    """Why each sub-command parses intermixed instead: argparse refuses a parser with sub-commands."""
    with pytest.raises(TypeError, match="nargs=A..."):
        build_parser().parse_intermixed_args(["evaluate", "in", "--end", "13f", "s1"])
    assert all(isinstance(p, IntermixedParser) for p in _subparsers(build_parser()).values())


def _subparsers(parser: argparse.ArgumentParser) -> dict:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices


def test_evaluate_with_an_option_between_input_and_samples(tmp_path):
    write_video(tmp_path / "input", make_clip(8, 16, 20))
    write_video(tmp_path / "s1", make_clip(4, 16, 20, seed=1))
    write_video(tmp_path / "s2", make_clip(4, 16, 20, seed=2))
    report = tmp_path / "scores.json"
    result = patchvid_cli("evaluate", tmp_path / "input", "--end", "4f", tmp_path / "s1", "--measures", "coherence",
                          tmp_path / "s2", "--report", report)
    assert result.returncode == 0, result.stderr
    r = json.loads(report.read_text())
    assert [s["path"] for s in r["samples"]] == [str(tmp_path / "s1"), str(tmp_path / "s2")]
    assert r["inputs"]["input"]["end"] == "4f" and r["inputs"]["input"]["frames_height_width"] == [4, 16, 20]


def test_generate_with_options_around_its_input(tmp_path):
    write_video(tmp_path / "in.gif", make_clip(10, 16, 20), 10)  # a GIF: a rate for --start in seconds, exact frames
    out = tmp_path / "o.mp4"
    assert main(["generate", "--start", "0.2", "-q", str(tmp_path / "in.gif"), "--end", "6f", "-o", str(out),
                 "--iterations", "1"]) == 0
    inputs = json.loads((tmp_path / "o.mp4.json").read_text())["inputs"]["input"]
    assert (inputs["start"], inputs["end"], inputs["frames_height_width"]) == ("0.2s", "6f", [4, 16, 20])


def test_seconds_for_a_folder_of_frames_is_one_error_line(tmp_path):
    write_video(tmp_path / "frames", make_clip(6, 16, 20))
    result = patchvid_cli("generate", tmp_path / "frames", "--end", "2", "-o", tmp_path / "o.mp4")
    assert result.returncode == 1
    one_error_line(result.stderr, "has no frame rate: give the time in frames (e.g. 12f)")


def test_lossless_with_crf_on_the_command_line_is_one_error_line(tmp_path):
    write_video(tmp_path / "in", make_clip(4, 16, 20))
    result = patchvid_cli("generate", tmp_path / "in", "-o", tmp_path / "o.mp4", "--iterations", "1", "--lossless",
                          "--crf", "20")
    assert result.returncode == 1
    one_error_line(result.stderr, "give --lossless or --crf 20, not both")
    assert not (tmp_path / "o.mp4").exists()
