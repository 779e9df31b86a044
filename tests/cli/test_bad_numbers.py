"""Issue 20: every numeric option of every sub-command is finite and in a documented range, and a value
outside it ends in one line naming the option and the range (argparse's usage error, exit status 2)
before any input is read; the library refuses the same numbers at its door with an InputError."""

from __future__ import annotations

import argparse
import functools
import json
import math

import pytest

from patchvid.cli import build_parser, main
from patchvid.cli.options import MAX_SEED
from patchvid.errors import InputError

from ..conftest import make_clip, one_error_line

# the positionals and required options of each command; the files need not exist: argparse fails first
BASE = {
    "generate": ["in.mp4", "-o", "o.mp4"],
    "retarget": ["in.mp4", "-o", "o.mp4"],
    "analogy": ["a.mp4", "b.mp4", "-o", "o.mp4"],
    "collage": ["a.png", "b.png", "-o", "o.png"],
    "inpaint": ["in.mp4", "--mask", "m.png", "-o", "o.mp4"],
    "loop": ["in.mp4", "-o", "o.gif"],
    "texture": ["in.mp4", "--duration", "2", "-o", "o.mp4"],
    "cinemagraph": ["in.mp4", "--mask", "m.png", "-o", "o.gif"],
    "blend": ["s.mp4", "t.mp4", "--mask", "m.png", "-o", "o.mp4"],
    "evaluate": ["in.mp4", "s.mp4"],
    "extend": ["in.mp4", "-o", "o.mp4"],
    "batch": ["in.mp4", "-o", "out"],
    "ui": [],
}

NON_FINITE = ["nan", "inf", "-inf", "NaN", "Infinity"]


def real(below: list[str], above: list[str], good: list[str], words: str) -> tuple[list[str], list[str], str]:
    """A number option: non-finite values, ``below`` and ``above`` its range are refused with ``words``."""
    return [*below, *NON_FINITE, *above], good, words


def whole(below: list[str], above: list[str], good: list[str], words: str) -> tuple[list[str], list[str], str]:
    """A whole-number option: also no fractions or exponents."""
    return [*below, *NON_FINITE, "1.5", "1e308", "two", *above], good, words


PIXELS = whole(["0", "-1"], ["100001", str(10**400)], ["1", "100000"], "from 1 to 100000")
FRAMES = whole(["0"], ["10000001"], ["1", "10000000"], "from 1 to 10000000")
FRAME_INDEX = whole(["-1"], ["10000001"], ["0", "10000000"], "from 0 to 10000000")
ROUNDS = whole(["0"], ["1001"], ["1", "1000"], "from 1 to 1000")
SEED = whole(["-1", str(-(2**63))], [str(2**63), str(2**64), str(10**30)], ["0", str(MAX_SEED)],
             "from 0 to 9223372036854775807")
SAMPLES = whole(["0"], ["10001"], ["1", "10000"], "from 1 to 10000")
JOBS = whole(["0"], ["1025"], ["1", "1024"], "from 1 to 1024")
# times: parse_time's own messages (forms, not ranges) for what is not a time; at most 10000000 s or frames
TIME = (["nan", "inf", "-inf", "-1", "1e308", "1e3", "99999999999999999999999", "10000001", "10000001f"],
        ["0", "12f", "10000000", "10000000f", "1:02.5"], "")
# lengths: more than zero, also in minutes or hours
DURATION = (["nan", "inf", "-inf", "-1", "0", "0f", "0m", "1e308", "10000001", "10000001f", "200000m", "nanm"],
            ["1f", "12f", "0.5", "10m", "1.5h", "10000000", "10000000f", "1:02.5"], "")

INPUT = {"--max-size": whole(["0"], ["100001"], ["1", "100000", "auto"], "'auto' or a whole number from 1 to 100000")}
TIMES = {"--start": TIME, "--end": TIME}
ENCODING = {"--crf": whole(["-1"], ["64"], ["0", "63"], "0 to 63")}
RUN = {
    "--seed": SEED,
    "--fps": real(["0", "-25", "1e-9", "0.009"], ["1001", "1e308"], ["0.01", "1000", "ntsc"], "0.01 to 1000"),
}
SCALE = {"--scale": real(["0", "-1", "1,0,1", "1,-1,1"], ["1001", "1e308", "1,1,1001", "1,nan,1", "1,inf,1", "1,2"],
                         ["1000", "1e-9", "1,1,1.5", "0.5,1000,2"], "each above 0 and at most 1000")}
METHOD = {
    "--noise": real(["-0.5", "-1e-9"], ["100.5", "1e308"], ["0", "100", "4"], "from 0 to 100"),
    "--patch": (["nan", "inf", "1e308", "0", "3x0x7", "3x7x1001", f"{10**400}"], ["1", "3x7x7", "1000"],
                "each size from 1 to 1000"),
    "--factor": real(["0", "-0.5", "0.8,0"], ["1", "0.995", "1e308", "0.8,nan", "0.8,1.5"], ["0.99", "1e-9", "0.7,0.8"],
                     "each above 0 and at most 0.99"),
    "--coarsest-size": PIXELS,
    "--coarsest-frames": FRAMES,
    "--iterations": ROUNDS,
    "--coarsest-iterations": ROUNDS,
    "--alpha": real(["0", "-1", "1e-9", "9e-7"], ["1000.5", "1e308"], ["1e-6", "1000", "0.5", "off"],
                    "'off' or a number from 1e-6 to 1000"),
}
LOOP = {
    "--min-length": TIME,
    "--max-length": TIME,
    "--crossfade": FRAME_INDEX,
    "--screen": real(["0", "-1", "1e-9"], ["100.5", "1e300", "1e308"], ["1e-8", "100", "0.001"], "from 1e-8 to 100"),
    "--analysis-size": PIXELS,
}
OPTIONS = {
    "generate": {**INPUT, **TIMES, **ENCODING, **RUN, "--samples": SAMPLES, **SCALE, **METHOD,
                 "--duration": DURATION, "--frames": FRAMES, "--window": FRAMES},
    "extend": {**INPUT, **TIMES, **ENCODING, **RUN, "--samples": SAMPLES, **METHOD,
               "--after": DURATION, "--before": DURATION, "--window": FRAMES},
    "retarget": {
        **INPUT, **TIMES, **ENCODING, **RUN, **SCALE, **METHOD,
        "--width": PIXELS, "--height": PIXELS, "--frames": FRAMES,
        "--size": (["nanxnan", "infx5", "0x5", "5x0", "-5x5", "100001x5", "5x100001", "1e308x1", "5"],
                   ["640x360", "100000x1"], "each a whole number from 1 to 100000"),
    },
    "analogy": {
        **INPUT, **TIMES, **ENCODING, **RUN, **METHOD,
        "--bins": whole(["1", "0"], ["257"], ["2", "256"], "from 2 to 256"),
        "--weight": real(["-0.5"], ["1000.5", "1e308"], ["0", "1000", "2"], "from 0 to 1000"),
    },
    "collage": {**INPUT, **TIMES, **ENCODING, **RUN, **METHOD},
    "inpaint": {**INPUT, **TIMES, **ENCODING, **RUN, **METHOD},
    "loop": {**INPUT, **TIMES, **ENCODING, **LOOP},
    "texture": {
        **INPUT, **TIMES, **ENCODING,
        "--duration": TIME,
        "--seed": SEED,
        "--first": FRAME_INDEX,
        "--crossfade": FRAME_INDEX,
        "--temperature": real(["0", "-1", "1e-5"], ["100.5", "1e308"], ["1e-4", "100", "0.05"], "from 0.0001 to 100"),
        "--discount": real(["-0.1", "-1e-9"], ["1", "1.5", "1e308"], ["0", "0.999999"], "from 0 to below 1"),
        "--keep": FRAMES,
        "--analysis-size": PIXELS,
    },
    "cinemagraph": {
        **INPUT, **TIMES, **ENCODING, **LOOP,
        "--still": FRAME_INDEX,
        "--feather": real(["-1", "-1e-9"], ["1000.5", "1e308"], ["0", "1000", "2.5"], "from 0 to 1000"),
    },
    "blend": {
        **ENCODING,
        "--offset": (["0,0,nan", "0,0,inf", "0,0,100001", "0,-100001,0", "1e308,0,0", "0,0", "0,0,1.5"],
                     ["0,0,0", "-100000,100000,-5"], "each from -100000 to 100000"),
        "--tol": real(["0", "-1", "1e-13"], ["1.5", "1e308"], ["1e-12", "1", "0.001"], "from 1e-12 to 1"),
        "--max-iter": whole(["0"], ["1000001"], ["1", "1000000"], "from 1 to 1000000"),
    },
    "evaluate": {**INPUT, **TIMES, "--samples": SAMPLES, "--seed": SEED, **SCALE, **METHOD},
    "batch": {"--samples": SAMPLES, "--seed": SEED, "--jobs": JOBS, "--ray-workers": JOBS},
    "ui": {"--port": whole(["0", "-1"], ["65536"], ["1", "65535"], "from 1 to 65535"),
           "--max-upload-mb": whole(["0"], ["100001"], ["1", "100000"], "from 1 to 100000")},
}
# what a typed option may be without being a number
NOT_NUMBERS = {"--preset", "--pix-fmt", "--measures"}



def _cases(which: int) -> list[tuple]:
    """Every value of a row on the first command that has it; the options that several commands share
    (one function adds them to each) get their first (below the range), last (above) and ``nan`` on the
    others."""
    cases, seen = [], set()
    for command, options in OPTIONS.items():
        for option, row in options.items():
            values = row[which]
            if (option, id(row)) in seen:
                values = list(dict.fromkeys([values[0], *(["nan"] if "nan" in values else []), values[-1]]))
            seen.add((option, id(row)))
            cases += [(command, option, v, row[2]) if which == 0 else (command, option, v) for v in values]
    return cases


BAD, GOOD = _cases(0), _cases(1)


@functools.cache
def _parser() -> argparse.ArgumentParser:
    return build_parser()


def _sub_parsers() -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _names(command: str, option: str) -> str:
    """How argparse names the option in its messages: every spelling, ``--bins/--levels``."""
    for action in _sub_parsers()[command]._actions:
        if option in action.option_strings:
            return "/".join(action.option_strings)
    raise AssertionError(f"{command} has no {option}")


def test_every_typed_option_is_in_the_table():
    """A new numeric option needs a range and a row here; no option reads a bare int or float."""
    parsers = _sub_parsers()
    assert set(parsers) == set(OPTIONS)
    for command, p in parsers.items():
        for action in p._actions:
            if not action.option_strings:
                continue
            assert action.type not in (int, float), (command, action.option_strings)
            if action.type is not None and action.option_strings[0] not in NOT_NUMBERS:
                assert action.option_strings[0] in OPTIONS[command], (command, action.option_strings)


@pytest.mark.parametrize("command, option, value, words", BAD, ids=[f"{c} {o}={v}" for c, o, v, _ in BAD])
def test_a_bad_number_is_one_usage_line(command, option, value, words, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, *BASE[command], f"{option}={value}"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and err.rstrip().endswith(lines[0]), err
    assert lines[0].startswith(f"patchvid {command}: error: argument {_names(command, option)}: "), lines[0]
    assert words in lines[0] and repr(value) in lines[0], lines[0]


@pytest.mark.parametrize("command, option, value", GOOD, ids=[f"{c} {o}={v}" for c, o, v in GOOD])
def test_the_ends_of_each_range_are_accepted(command, option, value):
    _parser().parse_args([command, *BASE[command], f"{option}={value}"])


def test_texture_alpha_is_the_discount(capsys):
    with pytest.raises(SystemExit):
        main(["texture", *BASE["texture"], "--alpha=inf"])
    assert "argument --discount/--alpha: must be a number from 0 to below 1, got 'inf'" in capsys.readouterr().err


def test_a_time_past_the_top_names_it(capsys):
    with pytest.raises(SystemExit):
        main(["loop", *BASE["loop"], "--min-length", "99999999999999999999999"])
    assert ("argument --min-length: a time must be at most 10000000 seconds or 10000000f, got "
            "'99999999999999999999999'") in capsys.readouterr().err


def test_the_help_states_the_ranges(capsys):
    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for words in ("0 to 2**63 - 1", "from 0 to 100 in units of the [-1, 1] value range", "above 0 and at most 0.99",
                  "from 1e-6 to 1000", "each above 0 and at most 1000", "1 to 10000"):
        assert words in out, words


# ----------------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("command", [c for c, options in OPTIONS.items() if "--seed" in options])
@pytest.mark.parametrize("value", ["-1", str(2**64)])
def test_every_seed_is_from_0_to_2_63(command, value, capsys):
    with pytest.raises(SystemExit) as e:
        main([command, *BASE[command], "--seed", value])
    assert e.value.code == 2
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert line == (f"patchvid {command}: error: argument --seed: must be a whole number from 0 to "
                    f"9223372036854775807, got {value!r}")


def test_the_largest_seed_is_generated_and_recorded(tmp_path):
    from patchvid.media import write_video

    write_video(tmp_path / "in", make_clip(4, 16, 20))
    out = tmp_path / "o.mp4"
    argv = ["generate", str(tmp_path / "in"), "-o", str(out), "--iterations", "1", "-q", "--seed", str(MAX_SEED)]
    assert main(argv) == 0
    assert json.loads((tmp_path / "o.mp4.json").read_text())["samples"][0]["seed"] == MAX_SEED


def test_seeds_past_the_top_with_samples_are_one_error_line(capsys):
    """SEED + i for each sample must stay in range too: refused before any input is read."""
    assert main(["generate", "in.mp4", "-o", "o.mp4", "--seed", str(MAX_SEED), "--samples", "2"]) == 1
    one_error_line(capsys.readouterr().err, "--seed", "2**63 - 1", str(MAX_SEED - 1))
    assert main(["evaluate", "--generate", "in.mp4", "--seed", str(MAX_SEED - 2), "--samples", "4"]) == 1
    one_error_line(capsys.readouterr().err, "--seed", "--samples 4")


# ----------------------------------------------------------------------------------- the library's door


@pytest.fixture(scope="module")
def small():
    return make_clip(4, 16, 20)


@pytest.mark.parametrize(
    "overrides, words",
    [
        ({"noise": math.inf}, "noise"),
        ({"noise": -math.inf}, "noise"),
        ({"noise": math.nan}, "noise"),
        ({"noise": 1e308}, "noise"),
        ({"noise": 100.5}, "noise"),
        ({"scale": (1.0, math.nan, 1.0)}, "scale"),
        ({"scale": (math.inf, 1.0, 1.0)}, "scale"),
        ({"scale": (1.0, 1.0, 0.0)}, "scale"),
        ({"factor": (math.nan, 0.85)}, "factor"),
        ({"factor": (0.85, 1.0)}, "factor"),
        ({"factor": (0.85, 0.995)}, "factor"),
        ({"alpha": math.inf}, "alpha"),
        ({"alpha": math.nan}, "alpha"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1e-9}, "alpha"),
        ({"alpha": 1e308}, "alpha"),
    ],
    ids=lambda x: str(x),
)
def test_generate_refuses_bad_numbers(small, overrides, words):
    import patchvid

    with pytest.raises(InputError, match=words):
        patchvid.generate(small, **overrides)


@pytest.mark.parametrize("scale", [(1.0, math.inf, 1.0), (math.nan, 1.0, 1.0)])
def test_retarget_refuses_a_bad_scale(small, scale):
    import patchvid

    with pytest.raises(InputError, match="scale"):
        patchvid.retarget(small, scale=scale)


@pytest.mark.parametrize("weight", [math.inf, -math.inf, math.nan, 1e308, 1000.5, -0.5])
def test_analogy_refuses_a_bad_weight(small, weight):
    import patchvid

    with pytest.raises(InputError, match="weight"):
        patchvid.analogy(small, small, weight=weight)


@pytest.mark.parametrize(
    "field, value",
    [("temperature", math.inf), ("temperature", math.nan), ("temperature", 0.0), ("temperature", 1e308),
     ("power", math.inf), ("power", math.nan), ("discount", math.nan), ("discount", math.inf)],
)
def test_texture_refuses_bad_analysis_numbers(small, field, value):
    import patchvid
    from patchvid.classic.settings import AnalysisSettings

    with pytest.raises(InputError, match=field):
        patchvid.texture(small, 10, settings=AnalysisSettings(**{field: value}))


@pytest.mark.parametrize(
    "option, value, accepted",
    [("--noise", v, ok) for v, ok in ((0.0, True), (100.0, True), (100.0001, False), (-1e-9, False))]
    + [("--factor", v, ok) for v, ok in ((1e-9, True), (0.99, True), (0.9901, False), (1.0, False), (0.0, False))]
    + [("--alpha", v, ok) for v, ok in ((1e-6, True), (1000.0, True), (9.9e-7, False), (1000.001, False))]
    + [("--temperature", v, ok) for v, ok in ((1e-4, True), (100.0, True), (9.9e-5, False), (100.001, False))],
)
def test_the_library_and_the_command_line_agree_on_each_bound(option, value, accepted):
    from patchvid.classic.settings import AnalysisSettings
    from patchvid.synthesis.settings import GenerateSettings

    command = "texture" if option == "--temperature" else "generate"
    try:
        _parser().parse_args([command, *BASE[command], f"{option}={value!r}"])
        cli = True
    except SystemExit:
        cli = False
    settings = {
        "--noise": lambda: GenerateSettings(noise=value),
        "--factor": lambda: GenerateSettings(factor=(value, value)),
        "--alpha": lambda: GenerateSettings().replace(alpha=value),
        "--temperature": lambda: AnalysisSettings(temperature=value),
    }[option]()
    try:
        settings.validate()
        library = True
    except InputError:
        library = False
    assert cli == library == accepted
