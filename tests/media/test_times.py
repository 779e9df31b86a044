"""The one rule for times (``patchvid.media.times``): numbers are seconds, text is read as on the
command line, frames are exact and seconds meet a frame rate only when turned into frames."""

from fractions import Fraction

import numpy as np
import pytest

from patchvid.errors import InputError, MediaError, PatchvidError
from patchvid.media.times import Time, frame_range, parse_time

NTSC = Fraction(30000, 1001)


@pytest.mark.parametrize(
    "text, frame",
    [("12f", 12), ("0f", 0), ("12F", 12), (" 7f\n", 7), ("100000f", 100000)],
)
def test_text_with_f_is_a_frame(text, frame):
    assert parse_time(text) == Time(frame=frame)


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("2.5", 2.5),
        ("2.5s", 2.5),
        ("2", 2.0),
        ("2S", 2.0),
        (".5", 0.5),
        ("3.", 3.0),
        ("0", 0.0),
        ("1:02.5", 62.5),
        ("0:02.5", 2.5),
        ("1:02", 62.0),
        ("0:00:01", 1.0),
        ("00:00:01.000", 1.0),
        ("01:02:03.250", 3723.25),
        ("1:00:00", 3600.0),
        ("10:00", 600.0),
        ("0:00:01.5s", 1.5),
    ],
)
def test_text_without_f_is_seconds(text, seconds):
    t = parse_time(text)
    assert t.frame is None and t.seconds == pytest.approx(seconds, abs=1e-12)


@pytest.mark.parametrize("number", [2, 2.0, np.int64(2), np.float32(2.0), Fraction(2)])
def test_every_kind_of_number_is_seconds(number):
    """An int is seconds too: the API's old int-means-frames rule is gone (``"2f"`` is frame 2)."""
    assert parse_time(number) == Time(seconds=2.0)
    assert parse_time(number).to_frame(Fraction(25)) == 50


def test_a_time_passes_through():
    t = Time(frame=3)
    assert parse_time(t) is t


@pytest.mark.parametrize(
    "value, words",
    [
        ("abc", "not a time"),
        ("", "not a time"),
        ("12 frames", "not a time"),
        ("1.5f", "not a time"),
        ("f", "not a time"),
        ("1:2:3:4", "not a time"),
        ("1e3", "not a time"),
        ("nan", "not a time"),
        ("inf", "not a time"),
        ("1:75", "below 60"),
        ("1:60:00", "below 60"),
        ("-1", "negative"),
        ("-2f", "negative"),
        ("-0:01", "negative"),
        (-1, "negative"),
        (-0.5, "negative"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (np.float64("-inf"), "finite"),
        (True, "not a time"),
        (None, "not a time"),
        ([1], "not a time"),
    ],
)
def test_what_is_not_a_time_is_refused_in_one_line(value, words):
    with pytest.raises(InputError, match=words) as e:
        parse_time(value)
    assert isinstance(e.value, PatchvidError) and "\n" not in str(e.value)


def test_text_refusal_names_the_forms():
    with pytest.raises(InputError) as e:
        parse_time("soon")
    assert "'soon'" in str(e.value) and "12f" in str(e.value) and "1:02.5" in str(e.value)


def test_a_time_holds_exactly_one_of_seconds_or_frame():
    for bad in (dict(), dict(seconds=1.0, frame=2)):
        with pytest.raises(InputError, match="not both or neither"):
            Time(**bad)
    with pytest.raises(InputError, match="negative"):
        Time(frame=-1)
    with pytest.raises(InputError, match="whole number"):
        Time(frame=1.5)
    with pytest.raises(InputError, match="negative"):
        Time(seconds=-1)
    assert Time(frame=np.int32(4)).frame == 4 and type(Time(frame=np.int32(4)).frame) is int
    assert str(Time(seconds=-0.0)) == "0s"


def test_to_frame_rounds_to_the_nearest_frame_with_halves_up():
    assert Time(seconds=0.5).to_frame(Fraction(25)) == 13  # 12.5: up, not to even
    assert Time(seconds=0.46).to_frame(Fraction(25)) == 12  # 11.5
    assert Time(seconds=0.1).to_frame(Fraction(10)) == 1  # the decimal written, not the float nearest it
    assert Time(seconds=1.0).to_frame(NTSC) == 30  # 29.97
    assert Time(seconds=2.0).to_frame(Fraction(2997, 100)) == 60  # 59.94
    assert Time(frame=12).to_frame(None) == 12 and Time(frame=12).to_frame(NTSC) == 12
    assert Time(seconds=3).to_frame(30) == 90  # an int rate works as well


def test_seconds_without_a_frame_rate_ask_for_frames():
    with pytest.raises(MediaError, match=r"^frames/ has no frame rate: give the time in frames \(e\.g\. 12f\)$"):
        Time(seconds=1.0).to_frame(None, "frames/")
    with pytest.raises(MediaError, match="the input has no frame rate"):
        Time(seconds=0.0).to_frame(None)


@pytest.mark.parametrize(
    "time, text",
    [(Time(frame=12), "12f"), (Time(seconds=1.5), "1.5s"), (Time(seconds=2.0), "2s"), (Time(seconds=0.1), "0.1s"),
     (Time(seconds=62.5), "62.5s"), (Time(seconds=1e20), "100000000000000000000s"), (Time(seconds=1e-7), "0.0000001s")],
)
def test_canonical_text_reads_back(time, text):
    assert str(time) == text
    assert parse_time(text) == time


def test_frame_range():
    assert frame_range(None, None, None, "x") == (0, None)
    assert frame_range("2f", "6f", None, "x") == (2, 6)
    assert frame_range(1, "2s", Fraction(10), "x") == (10, 20)
    assert frame_range(1.0, 13, Fraction(25), "clip.mp4") == (25, 325)  # the README's call: 13 s
    assert frame_range("0:00:01", None, NTSC) == (30, None)
    assert frame_range(None, "4f", None) == (0, 4)
    assert frame_range(Time(frame=3), Time(seconds=1), Fraction(10)) == (3, 10)


@pytest.mark.parametrize(
    "start, end, message",
    [
        ("5f", "3f", "empty or negative time range in c.mp4: start 5f, end 3f"),
        ("5f", "5f", "empty or negative time range in c.mp4: start 5f, end 5f"),
        (None, "0f", "empty or negative time range in c.mp4: start 0f, end 0f"),
        (1.0, 0.5, "empty or negative time range in c.mp4: start 1s (frame 10), end 0.5s (frame 5)"),
        (0, 0.01, "empty or negative time range in c.mp4: start 0s (frame 0), end 0.01s (frame 0)"),
    ],
)
def test_an_empty_range_is_refused(start, end, message):
    with pytest.raises(InputError) as e:
        frame_range(start, end, Fraction(10), "c.mp4")
    assert str(e.value) == message


def test_frame_range_refusals_name_what_is_wrong():
    with pytest.raises(MediaError, match="folder has no frame rate"):
        frame_range(None, 2, None, "folder")
    with pytest.raises(MediaError, match="has no frame rate"):
        frame_range("1s", "4f", None, "folder")
    with pytest.raises(InputError, match="not a time: 'later'"):
        frame_range(None, "later", Fraction(25), "c.mp4")
    with pytest.raises(InputError, match="negative"):
        frame_range(-1, None, Fraction(25), "c.mp4")
