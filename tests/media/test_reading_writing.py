from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from patchvid.errors import InputError, MediaError
from patchvid.media import check_output, frame_range, read_video, write_video
from patchvid.media.times import Time

from ..conftest import make_clip, needs_shared_data


@pytest.mark.parametrize(
    "ext, fps",
    [(".mp4", Fraction(30000, 1001)), (".mov", Fraction(25)), (".mkv", Fraction(24)), (".webm", Fraction(10)),
     (".avi", Fraction(15)), (".gif", Fraction(20))],
)
def test_video_round_trip_keeps_count_size_and_rate(tmp_path, ext, fps):
    frames = make_clip(7, 24, 32)
    path = tmp_path / f"clip{ext}"
    write_video(path, frames, fps)
    back = read_video(path)
    assert back.frames.shape == frames.shape
    assert back.fps == fps
    assert isinstance(back.fps, Fraction)
    # lossy codecs and 4:2:0 chroma on a tiny, saturated clip: compare brightness
    luma = np.array([0.299, 0.587, 0.114])
    assert np.abs(back.frames @ luma - frames @ luma).mean() < 4


def test_mp4_is_h264_yuv420p_with_even_size(tmp_path):
    path = tmp_path / "odd.mp4"
    notes = write_video(path, make_clip(3, 25, 33), 25)
    assert notes and "even" in notes[0]
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264"
        assert s.codec_context.pix_fmt == "yuv420p"
        assert (s.codec_context.width, s.codec_context.height) == (34, 26)


def test_gif_rate_is_rounded_to_hundredths(tmp_path):
    notes = write_video(tmp_path / "a.gif", make_clip(3), Fraction(30000, 1001))
    assert notes and "GIF" in notes[0]
    assert read_video(tmp_path / "a.gif").fps == Fraction(100, 3)


def test_time_range_numbers_are_seconds_and_text_as_on_the_command_line(tmp_path):
    frames = make_clip(20, 16, 16)
    path = tmp_path / "c.mp4"
    write_video(path, frames, 10)
    whole = read_video(path).frames
    assert np.array_equal(read_video(path, start="5f", end="12f").frames, whole[5:12])
    assert np.array_equal(read_video(path, start=0.5, end=1.5).frames, whole[5:15])
    assert np.array_equal(read_video(path, start=1, end=2).frames, whole[10:20])  # an int is seconds too
    assert np.array_equal(read_video(path, start="0.5s", end="0:01.2").frames, whole[5:12])
    assert np.array_equal(read_video(path, start=Time(frame=3), end="00:00:01.000").frames, whole[3:10])
    assert read_video(path, start=1.0, end=13).frames.shape[0] == 10  # the README's call: 13 s is past the end
    with pytest.raises(MediaError, match="the time range selects no frames: .* has 20"):
        read_video(path, start="50f")
    with pytest.raises(MediaError, match="the time range selects no frames"):
        read_video(path, start=5)  # 5 s = frame 50, not frame 5
    with pytest.raises(InputError, match="empty or negative time range in .*c.mp4: start 5f, end 3f"):
        read_video(path, start="5f", end="3f")
    with pytest.raises(InputError, match="not a time: '12 frames'"):
        read_video(path, end="12 frames")
    with pytest.raises(InputError, match="negative"):
        read_video(path, start=-1)


def test_gif_time_range_uses_its_rate(tmp_path):
    write_video(tmp_path / "a.gif", make_clip(10, 8, 8), 20)
    assert read_video(tmp_path / "a.gif", start=0.1, end="0.3s").frames.shape[0] == 4  # frames 2..5 at 20 fps
    assert read_video(tmp_path / "a.gif", end="3f").frames.shape[0] == 3


def test_frame_range_is_still_importable_from_media_and_reading():
    from patchvid.media.reading import frame_range as from_reading

    assert from_reading is frame_range
    assert frame_range(1, "3f", Fraction(2), "x") == (2, 3)


def test_frame_folder_is_read_in_numeric_order(tmp_path):
    frames = make_clip(12, 8, 8)
    for i, f in enumerate(frames, start=1):  # 1.png ... 12.png: lexicographic order would put 10 after 1
        Image.fromarray(f).save(tmp_path / f"{i}.png")
    (tmp_path / "notes.txt").write_text("not a frame")
    back = read_video(tmp_path)
    assert np.array_equal(back.frames, frames)
    assert back.fps is None
    assert np.array_equal(read_video(tmp_path, start="2f", end="4f").frames, frames[2:4])
    assert read_video(tmp_path, end="12f").frames.shape[0] == 12
    # a folder stores no frame rate: a number (seconds) cannot be turned into frames
    with pytest.raises(MediaError, match="has no frame rate: give the time in frames"):
        read_video(tmp_path, end=4)
    with pytest.raises(MediaError, match="has no frame rate"):
        read_video(tmp_path, start="0:01")


def test_zero_padded_jpg_folder(tmp_path):
    frames = make_clip(3, 16, 16)
    for i, f in enumerate(frames):
        Image.fromarray(f).save(tmp_path / f"frame_{i:04d}.jpg", quality=95)
    assert read_video(tmp_path).frames.shape == (3, 16, 16, 3)


def test_folder_output_round_trip(tmp_path):
    frames = make_clip(4, 10, 12)
    write_video(tmp_path / "out", frames)
    assert np.array_equal(read_video(tmp_path / "out").frames, frames)
    write_video(tmp_path / "out", frames[:2])  # replacing a folder output leaves only the new frames
    assert read_video(tmp_path / "out").frames.shape[0] == 2


def test_image_round_trip_and_modes(tmp_path):
    rgb = make_clip(1, 20, 30)[0]
    write_video(tmp_path / "a.png", rgb)
    img = read_video(tmp_path / "a.png")
    assert img.is_image and np.array_equal(img.frames[0], rgb)
    Image.fromarray(rgb).convert("L").save(tmp_path / "grey.png")
    grey = read_video(tmp_path / "grey.png")
    assert grey.frames.shape == (1, 20, 30, 3) and not grey.notes
    Image.fromarray(rgb).convert("RGBA").save(tmp_path / "rgba.png")
    rgba = read_video(tmp_path / "rgba.png")
    assert rgba.frames.shape == (1, 20, 30, 3) and "alpha" in rgba.notes[0]


def test_multi_frame_result_to_an_image_file_is_refused(tmp_path):
    with pytest.raises(MediaError, match="image file"):
        write_video(tmp_path / "a.png", make_clip(3))
    assert not list(tmp_path.iterdir())


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    import patchvid.media.writing as media

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(media.av.VideoFrame, "from_ndarray", broken)
    with pytest.raises(KeyboardInterrupt):
        write_video(tmp_path / "x.mp4", make_clip(3))
    assert not list(tmp_path.iterdir())


def test_check_output(tmp_path):
    src = tmp_path / "in.mp4"
    write_video(src, make_clip(3))
    with pytest.raises(MediaError, match="overwrite the input"):
        check_output(src, [src], overwrite=True)
    with pytest.raises(MediaError, match="exists"):
        check_output(src, [], overwrite=False)
    with pytest.raises(MediaError, match="does not exist"):
        check_output(tmp_path / "nope" / "o.mp4", [src], overwrite=False)
    check_output(tmp_path / "fresh.mp4", [src], overwrite=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mp4"]


def test_real_footage_is_read_whole():
    path = needs_shared_data("videos", "ballet_640x360.mp4")
    clip = read_video(path)
    assert clip.frames.shape == (101, 360, 640, 3)
    assert clip.fps == 25
    folder = read_video(needs_shared_data("frames", "airballoons"))
    assert folder.frames.shape == (20, 144, 256, 3)


def test_long_clip_round_trip(tmp_path):
    # timestamps must stay right past the encoder's first buffered frames
    frames = np.repeat(make_clip(1, 16, 16), 90, axis=0)
    write_video(tmp_path / "long.mp4", frames, Fraction(30000, 1001))
    back = read_video(tmp_path / "long.mp4")
    assert back.frames.shape[0] == 90 and back.fps == Fraction(30000, 1001)


def test_cut_mp4_with_index_first_is_an_error(tmp_path):
    path = tmp_path / "fast.mp4"
    with av.open(str(path), "w", options={"movflags": "faststart"}) as c:  # index before the pictures
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
        for f in make_clip(40, 64, 64):
            c.mux(s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")))
        c.mux(s.encode(None))
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(MediaError, match="fast.mp4"):
        read_video(path)


def test_avi_whose_header_overstates_its_length_is_read_with_a_note(tmp_path):
    path = tmp_path / "opencv.avi"
    write_video(path, make_clip(6, 16, 16), 10)
    data = bytearray(path.read_bytes())
    for at in (data.find(b"avih") + 8 + 16, data.find(b"strh") + 8 + 32):  # dwTotalFrames, dwLength
        data[at : at + 4] = (444).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    clip = read_video(path)
    assert clip.frames.shape[0] == 6
    assert "declares 444 frames" in clip.notes[0]


@pytest.mark.parametrize("ext", [".webm", ".mkv", ".mp4"])
def test_same_frames_same_bytes(tmp_path, ext):
    """Matroska and WebM muxers write random segment IDs unless asked to be bit-exact."""
    frames = make_clip(4)
    write_video(tmp_path / f"a{ext}", frames, 25)
    write_video(tmp_path / f"b{ext}", frames, 25)
    assert (tmp_path / f"a{ext}").read_bytes() == (tmp_path / f"b{ext}").read_bytes()
