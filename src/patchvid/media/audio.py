"""Sound: read the input's audio, rebuild it for a new timeline, and put it into an output container.

Three ways an output keeps the input's sound, by how a task changes the timeline:

* same timeline (inpainting, ...): :class:`AudioCopy` copies the input's packets for a time range,
  with no re-encode;
* frames shown in a new order (loops, textures) or a new timeline (generated video):
  :func:`follow_frames` rebuilds the sound from the input time each output frame came from,
  crossfading at every jump, and :class:`AudioEncode` encodes the result;
* an output that cannot hold the copied codec (AAC in WebM): decode with :func:`read_audio` and
  encode with :class:`AudioEncode`.

Times are seconds from the input's first video frame (the origin :func:`patchvid.media.read_video`
counts frames from), or from the audio's own start in a file without video.
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container
import numpy as np
from av.packet import PacketSideData, packet_sidedata_type_from_literal

from ..errors import InputError, MediaError
from .decoding import _short
from .reading import GIF_EXT, IMAGE_EXTS

# Decoding restarts this long before a requested start so that the decoder's overlap state (one
# AAC packet, 80 ms of Opus, MP3's bit reservoir) is rebuilt before the first kept sample.
_PREROLL = Fraction(1, 5)
# A cut copy keeps this much before its start (at least one packet) where the container can hide it.
_COPY_PREROLL = Fraction(1, 10)

# Output container format -> audio encoders it takes, best first (the first one this FFmpeg has wins).
_ENCODERS = {
    "mp4": ("aac",),
    "mov": ("aac",),
    "ipod": ("aac",),
    "matroska": ("aac", "libopus"),
    "webm": ("libopus", "libvorbis"),
    # AVI players expect MP3; AAC in AVI is a fallback ffmpeg accepts
    "avi": ("libmp3lame", "aac"),
}
_BIT_RATE_PER_CHANNEL = {"aac": 64_000, "libopus": 48_000, "libvorbis": 64_000, "libmp3lame": 96_000}
_STEREO_ONLY = frozenset({"libmp3lame"})


@dataclass(eq=False)
class Audio:
    """Decoded sound.

    Attributes:
        samples: ``(N, C) float32``, nominally in ``[-1, 1]`` (lossy decoders may overshoot slightly).
        rate: sample rate in Hz.
        layout: FFmpeg channel layout name (``'mono'``, ``'stereo'``, ``'5.1'``, ...).
        codec: the source stream's codec name, for messages.
    """

    samples: np.ndarray
    rate: int
    layout: str
    codec: str | None = None

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.samples.shape[0] / self.rate

    @property
    def channels(self) -> int:
        return self.samples.shape[1]

    def __repr__(self) -> str:
        return f"Audio({self.duration:.2f} s, {self.rate} Hz, {self.layout})"


@dataclass(frozen=True)
class AudioInfo:
    """The first audio stream of a file, from its header: stream index, codec name, sample rate (Hz),
    channel count, layout name and duration in seconds (``None`` when the file does not say)."""

    index: int
    codec: str
    rate: int
    channels: int
    layout: str
    duration: float | None


# ----------------------------------------------------------------------------------------- reading


def _may_have_audio(path: Path) -> bool:
    return not (path.is_dir() or path.suffix.lower() in IMAGE_EXTS | {GIF_EXT})


def _open(path: Path) -> av.container.InputContainer:
    if not path.exists():
        raise MediaError(f"input not found: {path}")
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError) as e:
        raise MediaError(f"not a readable video: {path} ({_short(e)})") from None


def _origin(container: av.container.InputContainer, stream: av.AudioStream) -> Fraction:
    """Time zero in seconds of the file's clock: the first video frame's time, else the audio's start."""
    for s in (*container.streams.video, stream):
        if s.start_time is not None:
            return s.start_time * s.time_base
    return Fraction(0)


def _declared_duration(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    if stream.duration:
        return float(stream.duration * stream.time_base)
    tag = stream.metadata.get("DURATION")  # Matroska keeps a stream's length only as a tag
    if tag:
        try:
            h, m, s = tag.split(":")
            return int(h) * 3600 + int(m) * 60 + float(s)
        except ValueError:
            pass
    return container.duration / 1_000_000 if container.duration else None


def probe_audio(path: str | os.PathLike) -> AudioInfo | None:
    """Describe the first audio stream of a file without decoding it.

    Returns:
        An :class:`AudioInfo`, or ``None`` when the input holds no sound (images, folders of frames,
        GIFs, videos without an audio stream).

    Raises:
        MediaError: the file is missing or not readable as media.
    """
    p = Path(path)
    if not _may_have_audio(p):
        return None
    with _open(p) as container:
        if not container.streams.audio:
            return None
        s = container.streams.audio[0]
        return AudioInfo(
            index=s.index,
            codec=s.codec_context.name,
            rate=s.sample_rate,
            channels=s.channels,
            layout=s.layout.name,
            duration=_declared_duration(container, s),
        )


def _to_float(frame: av.AudioFrame) -> np.ndarray:
    """A decoded frame as ``(n, C) float32``, integer formats scaled to ``[-1, 1)``."""
    x = frame.to_ndarray()
    channels = frame.layout.nb_channels
    x = x.T if frame.format.is_planar else x.reshape(-1, channels)
    if x.dtype == np.uint8:
        return (x.astype(np.float32) - 128) / 128
    if np.issubdtype(x.dtype, np.integer):
        return x.astype(np.float32) / float(2 ** (8 * x.dtype.itemsize - 1))
    return x.astype(np.float32)


def read_audio(path: str | os.PathLike, start: float = 0.0, end: float | None = None) -> Audio | None:
    """Decode ``[start, end)`` seconds of a file's first audio stream, sample-accurately.

    The decoder starts a little before ``start`` (a seek, then a preroll that is thrown away) and the
    samples are placed by the frames' timestamps, so a range equals the same samples of a whole-file
    read. Parts of the range the stream does not cover (audio starting after the video) are silence.

    Args:
        path: a video file.
        start: first second to keep, from the first video frame.
        end: where to stop (exclusive); ``None`` means the end of the audio. The result is shorter
            when the audio ends first.

    Returns:
        The sound as :class:`Audio`, or ``None`` when the input has no audio stream.

    Raises:
        MediaError: the file is missing or unreadable, decoding fails, or the range is empty or negative.
    """
    if start < 0 or (end is not None and end <= start):
        raise MediaError(f"empty or negative time range: start={start}, end={end}")
    p = Path(path)
    if not _may_have_audio(p):
        return None
    with _open(p) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        rate = stream.sample_rate
        first = round(Fraction(start) * rate)
        last = None if end is None else round(Fraction(end) * rate)
        try:
            seek = Fraction(start) > _PREROLL
            chunks = _decode(container, stream, first, last, seek)
            if chunks is None:  # the seek landed after the start (a poor index): decode from the top
                container.seek(0)
                chunks = _decode(container, stream, first, last, False)
        except av.FFmpegError as e:
            raise MediaError(f"corrupt audio in {p}: {_short(e)}") from None
        layout, codec, channels = stream.layout.name, stream.codec_context.name, stream.channels
    stop = last if last is not None else max((pos + len(x) for pos, x in chunks), default=first)
    samples = np.zeros((max(0, stop - first), channels), np.float32)
    covered = first
    for pos, x in chunks:  # place each decoded run by its time; gaps stay silent
        a, b = max(pos, first), min(pos + len(x), stop)
        if b > a:
            samples[a - first : b - first] = x[a - pos : b - pos]
            covered = max(covered, b)
    if last is not None:  # shorter when the audio ends before `end`
        samples = samples[: max(0, covered - first)]
    return Audio(samples, rate, layout, codec)


def _decode(container, stream, first: int, last: int | None, seek: bool) -> list[tuple[int, np.ndarray]] | None:
    """Decoded runs ``(sample position from the origin, (n, C) float32)`` covering ``[first, last)``,
    cut to where the packets say the stream ends; ``None`` when a seek overshot ``first``."""
    rate, tb = stream.sample_rate, stream.time_base
    origin = _origin(container, stream)
    if seek:
        container.seek(math.floor((origin + Fraction(first, rate) - _PREROLL) / tb), stream=stream, backward=True)
    chunks: list[tuple[int, np.ndarray]] = []
    counted: int | None = None  # where the next frame starts when the stream is continuous
    stream_end: int | None = None  # end of the last packet, which drops the encoder's padding after it
    exact_clock = tb <= Fraction(1, rate)  # Matroska's ms stamps would cut real samples
    for packet in container.demux(stream):
        if exact_clock and packet.pts is not None and packet.duration:
            stream_end = round(((packet.pts + packet.duration) * tb - origin) * rate)
        for frame in packet.decode():
            x = _to_float(frame)
            pos = counted
            if frame.pts is not None:
                stamped = round((frame.pts * frame.time_base - origin) * rate)
                # count samples while the stamps agree: container clocks in ms (Matroska) are coarser
                if pos is None or abs(stamped - pos) > len(x) // 2:
                    pos = stamped
            if pos is None:
                pos = 0
            if seek and counted is None and pos > first:
                return None
            counted = pos + len(x)
            if counted > first:
                chunks.append((pos, x))
        if last is not None and counted is not None and counted >= last:
            break
    else:
        if stream_end is not None:
            chunks = [(pos, x[: max(0, stream_end - pos)]) for pos, x in chunks]
    return chunks


# ------------------------------------------------------------------------------- following frames


def _round_div(num: np.ndarray, den: int) -> np.ndarray:
    """``round(num / den)`` for integers, halves to even, as Python's ``round`` of a fraction."""
    q, r = np.divmod(num, den)
    up = (2 * r > den) | ((2 * r == den) & (q % 2 == 1))
    return q + up


def _positions(indices: np.ndarray, rate: int, fps: Fraction) -> np.ndarray:
    """Sample where each frame index starts: ``round(index / fps * rate)``, exactly."""
    return _round_div(indices.astype(np.int64) * (rate * fps.denominator), fps.numerator)


def _padded(samples: np.ndarray, margin: int) -> np.ndarray:
    """``samples`` with ``margin`` mirrored samples fading to silence at each end, then one silent
    sample each side that every read further out lands on: reads just past the audio stay continuous."""
    n, c = samples.shape
    out = np.zeros((n + 2 * margin + 2, c), np.float32)
    if n == 0:
        return out
    body = np.pad(samples, ((margin, margin), (0, 0)), mode="symmetric")
    if margin:
        fade = np.cos(np.pi / 2 * (np.arange(margin) + 0.5) / margin).astype(np.float32)[:, None]
        body[:margin] *= fade[::-1]
        body[n + margin :] *= fade
    out[1:-1] = body
    return out


def follow_frames(
    audio: Audio,
    source_frames: Sequence[int] | np.ndarray,
    source_fps: Fraction | float,
    output_fps: Fraction | float,
    *,
    loop: bool = False,
    crossfade: float = 0.02,
) -> Audio:
    """Sound for a video whose frame ``i`` shows input frame ``source_frames[i]``.

    Output frame ``i`` lasts ``1 / output_fps`` and plays the audio of input frame
    ``source_frames[i]``, which starts ``k / source_fps`` seconds into ``audio``. Runs that follow the
    input's clock (``k, k+1, ...`` at equal rates) are copied as one continuous segment, so an
    unchanged timeline gives the input's own samples back exactly. A run at a different rate is cut
    wherever the sound would drift a frame (the larger of the two frame durations) from the pictures.
    At each jump an equal-power crossfade of ``crossfade`` seconds, centred on the cut and shortened
    to half of a shorter segment, joins the two segments. A segment that would read past the end of
    the audio is moved back to end with it, so sound is always present.

    Args:
        audio: the input's sound.
        source_frames: ``(T,)`` input frame index of every output frame.
        source_fps: the input's frame rate.
        output_fps: the output's frame rate.
        loop: also crossfade the end into the start, so the sound repeats seamlessly with the video.
        crossfade: crossfade length in seconds; 0 joins the segments with hard cuts.

    Returns:
        :class:`Audio` of exactly ``round(T / output_fps * rate)`` samples, same rate and layout.

    Raises:
        InputError: a negative frame index, a rate that is not positive, a negative crossfade, or
            samples that are not ``(N, C)``.
    """
    frames = np.asarray(source_frames, dtype=np.int64).reshape(-1)
    sfps, ofps = Fraction(source_fps).limit_denominator(1_000_000), Fraction(output_fps).limit_denominator(1_000_000)
    if sfps <= 0 or ofps <= 0 or crossfade < 0:
        raise InputError(f"rates must be positive and crossfade >= 0, got {source_fps}, {output_fps}, {crossfade}")
    if frames.size and frames.min() < 0:
        raise InputError(f"source frame indices must be >= 0, got {frames.min()}")
    if audio.samples.ndim != 2:
        raise InputError(f"audio samples must be (N, C), got shape {audio.samples.shape}")
    rate, src = audio.rate, np.ascontiguousarray(audio.samples, np.float32)
    n_src = src.shape[0]
    out_pos = _positions(np.arange(frames.size + 1), rate, ofps)
    total = int(out_pos[-1])
    out = np.zeros((total, src.shape[1]), np.float32)
    if total == 0 or n_src == 0:
        return Audio(out, rate, audio.layout, audio.codec)
    src_pos = _positions(frames, rate, sfps)

    # segments: output [a, b) plays the source continuously from p
    tolerance = rate * max(1 / sfps, 1 / ofps)
    segments: list[list[int]] = []
    for i in range(frames.size):
        if segments:
            a, p = segments[-1][0], segments[-1][2]
            if abs(int(src_pos[i]) - (p + int(out_pos[i]) - a)) < tolerance:
                continue
            segments[-1][1] = int(out_pos[i])
        segments.append([int(out_pos[i]), total, int(src_pos[i])])
    segments = [s for s in segments if s[1] > s[0]]
    for s in segments:  # keep the sound within the audio where it fits
        s[2] = max(0, min(s[2], n_src - (s[1] - s[0])))

    width = round(crossfade * rate)
    margin = width + 1
    padded = _padded(src, margin)

    def read(p: int, n: int) -> np.ndarray:
        lo = p + margin + 1
        if lo >= 0 and lo + n <= len(padded):
            return padded[lo : lo + n]
        return padded[np.clip(np.arange(lo, lo + n), 0, len(padded) - 1)]

    curves: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # equal-power fade-out and fade-in by length

    for a, b, p in segments:
        out[a:b] = read(p, b - a)
    joins = list(zip(segments[:-1], segments[1:]))
    if loop:
        joins.append((segments[-1], segments[0]))
    for (a0, b0, p0), (a1, b1, p1) in joins:
        if p1 == p0 + (b0 - a0):  # the next segment continues this one: nothing to join
            continue
        before, after = min(width // 2, (b0 - a0) // 2), min(width - width // 2, (b1 - a1) // 2)
        n = before + after
        if n == 0:
            continue
        if n not in curves:
            theta = (np.pi / 2 * (np.arange(n) + 0.5) / n)[:, None]
            curves[n] = np.cos(theta).astype(np.float32), np.sin(theta).astype(np.float32)
        fade_out, fade_in = curves[n]
        mixed = read(p0 + (b0 - a0) - before, n) * fade_out + read(p1 - before, n) * fade_in
        if a1 - before >= 0:
            out[a1 - before : a1 + after] = mixed
        else:  # the wrap join of a loop straddles the end and the start
            out[(a1 - before + np.arange(n)) % total] = mixed
    return Audio(out, rate, audio.layout, audio.codec)


def largest_jump(samples: np.ndarray, at: Sequence[int] | None = None, radius: int = 2) -> float:
    """The click measure: the largest absolute step between neighbouring samples, in any channel.

    Args:
        samples: ``(N, C)`` or ``(N,)`` sound.
        at: sample indices of joins (the first sample after each cut); ``None`` measures everywhere.
        radius: with ``at``, look at steps within this many samples of each join.

    Returns:
        The largest step (0 for fewer than two samples). A join is click-free when its step is no
        larger than the input's own largest step.
    """
    x = np.asarray(samples, dtype=np.float32)
    x = x.reshape(len(x), -1)
    if len(x) < 2:
        return 0.0
    steps = np.abs(np.diff(x, axis=0)).max(axis=1)  # steps[t] = |x[t+1] - x[t]|
    if at is None:
        return float(steps.max())
    picked = [steps[max(0, j - 1 - radius) : max(0, j + radius)] for j in np.asarray(at, dtype=np.int64)]
    picked = [s for s in picked if s.size]
    return float(max(s.max() for s in picked)) if picked else 0.0


# ---------------------------------------------------------------------------------- into a container


def audio_codec_for(container_format: str) -> str | None:
    """The audio encoder for an output container format (``'mp4'``, ``'mov'``, ``'matroska'``,
    ``'webm'``, ``'avi'``), or ``None`` for formats that take no audio (GIF, images) or when this
    FFmpeg has none of the suitable encoders."""
    for codec in _ENCODERS.get(container_format, ()):
        if codec in av.codecs_available:
            return codec
    return None


class AudioCopy:
    """Packet copy (no re-encode) of a file's first audio stream, ``[start, end)`` seconds of it, into
    an output container, interleaved with the video by :meth:`mux_until`.

    The copy begins with the packet that contains ``start``. Where the container allows negative
    timestamps (mp4, mov) the packets of the 0.1 s before it go too (at least one), as decoder
    preroll (AAC needs one packet, Opus 80 ms), and the timestamps are shifted so that ``start``
    lands on 0: the edit list then hides everything before it and the copy decodes to the input's
    own samples from ``start`` on. Elsewhere (Matroska, AVI) the containing
    packet lands on 0, so the sound leads by less than one packet (21 ms for AAC at 48 kHz) and its
    first packet decodes without its predecessor's overlap. The last packet is the one containing
    ``end``, marked so that the track ends at ``end``.
    """

    def __init__(self, source: str | os.PathLike, start: float = 0.0, end: float | None = None):
        if start < 0 or (end is not None and end <= start):
            raise MediaError(f"empty or negative time range: start={start}, end={end}")
        self.source = Path(source)
        self._input = _open(self.source)
        if not self._input.streams.audio:
            self._input.close()
            raise MediaError(f"no audio stream in {self.source}")
        self._stream = self._input.streams.audio[0]
        tb = self._stream.time_base
        origin = _origin(self._input, self._stream)
        self._start = round((origin + Fraction(start)) / tb)  # in the source stream's time base
        self._end = None if end is None else round((origin + Fraction(end)) / tb)
        self._out: av.AudioStream | None = None
        self._packets: Iterator[av.Packet] | None = None
        self._pending: av.Packet | None = None
        self._offset = 0  # subtracted from the source timestamps
        self._done = False

    def add_to(self, container: av.container.OutputContainer) -> bool:
        """Add the output stream; call before the header is written (the first mux).

        Returns:
            ``False`` when the container cannot hold this codec (AAC in WebM, PCM in mp4): call
            :meth:`close` and encode the decoded sound with :class:`AudioEncode` instead.
        """
        try:
            self._out = container.add_stream_from_template(self._stream)
        except (ValueError, av.FFmpegError):
            return False
        negative = bool(container.format.flags & av.format.Flags.ts_negative.value)
        self._packets = self._cut(negative)
        return True

    def _cut(self, preroll: bool) -> Iterator[av.Packet]:
        """The source packets to copy, timestamps still the source's, ``self._offset`` set on the first."""
        tb = self._stream.time_base
        if self._start * tb > _PREROLL:
            self._input.seek(math.floor(self._start - _PREROLL / tb), stream=self._stream, backward=True)
        previous: list[av.Packet] = []  # the packets just before `start`: decoder preroll
        started = False
        for packet in self._input.demux(self._stream):
            pts = packet.pts if packet.pts is not None else packet.dts
            if pts is None:  # the demuxer's final empty packet
                continue
            ends = pts + (packet.duration or 0)
            if not started:
                # without durations, the first packet at or after `start` is taken as containing it
                if (ends <= self._start) if packet.duration else (pts < self._start):
                    previous.append(packet)
                    while len(previous) > 1 and (previous[1].pts or 0) <= self._start - _COPY_PREROLL / tb:
                        previous.pop(0)
                    continue
                started = True
                if preroll and previous:
                    self._offset = self._start
                    yield from previous
                else:
                    self._offset = min(pts, self._start)
            if self._end is not None and pts >= self._end:
                return
            if self._end is not None and ends > self._end and packet.duration:
                # the track ends at `end` (mp4's edit list) and decoders drop the rest (Matroska's DiscardPadding)
                if not packet.has_sidedata("skip_samples"):
                    extra = round((ends - self._end) * self._stream.time_base * self._stream.sample_rate)
                    skip = PacketSideData(packet_sidedata_type_from_literal("skip_samples"), 10)
                    skip.update(struct.pack("<IIBB", 0, extra, 0, 0))  # skip none at the start, `extra` at the end
                    packet.set_sidedata(skip)
                packet.duration = self._end - pts
            yield packet

    def _mux(self, container: av.container.OutputContainer, packet: av.Packet) -> None:
        if packet.pts is not None:
            packet.pts -= self._offset
        if packet.dts is not None:
            packet.dts -= self._offset
        packet.stream = self._out
        container.mux(packet)

    def mux_until(self, container: av.container.OutputContainer, seconds: float) -> None:
        """Mux the copied packets whose time from ``start`` is before ``seconds``: call it as the video
        frames go out so the streams interleave without holding everything."""
        if self._packets is None or self._done:
            return
        limit = math.inf if math.isinf(seconds) else Fraction(seconds)
        tb = self._stream.time_base
        try:
            while True:
                if self._pending is None:
                    self._pending = next(self._packets, None)
                    if self._pending is None:
                        self._done = True
                        return
                p = self._pending
                pts = p.pts if p.pts is not None else p.dts
                if (pts - self._offset) * tb >= limit:
                    return
                self._pending = None
                self._mux(container, p)
        except av.FFmpegError as e:
            raise MediaError(f"could not copy the audio of {self.source}: {_short(e)}") from None

    def finish(self, container: av.container.OutputContainer) -> None:
        """Mux the rest of the range and close the source."""
        try:
            self.mux_until(container, math.inf)
        finally:
            self.close()

    def close(self) -> None:
        """Close the source without muxing more (after :meth:`add_to` refused, say)."""
        self._done = True
        self._input.close()


class AudioEncode:
    """Encodes an :class:`Audio` into an output container, interleaved with the video by
    :meth:`mux_until`.

    The encoder is the given ``codec`` or :func:`audio_codec_for` the container (AAC for mp4, mov and
    Matroska, Opus for WebM, MP3 for AVI). The sound is resampled where the encoder needs it: to its
    sample format, to its nearest rate (Opus takes 48 kHz, not 44.1), and down to stereo for MP3.
    """

    def __init__(self, audio: Audio, codec: str | None = None):
        self.audio = audio
        self.codec = codec
        self._stream: av.AudioStream | None = None
        self._resampler: av.AudioResampler | None = None
        self._fed = 0  # samples of `audio` given to the resampler
        self._encoded = 0  # samples at the encoder's rate given to the encoder

    def add_to(self, container: av.container.OutputContainer) -> bool:
        """Add and open the encoder's stream; call before the header is written (the first mux).

        Returns:
            ``False`` when the container takes no audio or refuses the codec.
        """
        codec = self.codec or audio_codec_for(container.format.name)
        if codec is None or codec not in av.codecs_available:
            return False
        info = av.Codec(codec, "w")
        rate = self.audio.rate
        if info.audio_rates and rate not in info.audio_rates:
            higher = [r for r in info.audio_rates if r >= rate]
            rate = min(higher) if higher else max(info.audio_rates)
        layout = _layout_for(self.audio)
        if codec in _STEREO_ONLY and layout.nb_channels > 2:
            layout = av.AudioLayout("stereo")
        formats = info.audio_formats or ()
        floats = [f for f in formats if f.name in ("flt", "fltp")]  # Opus defaults to s16; float keeps more
        fmt = (floats or list(formats) or [None])[0]
        bit_rate = _BIT_RATE_PER_CHANNEL.get(codec, 64_000) * layout.nb_channels
        # open a scratch encoder first: a stream added to the container cannot be taken back
        trial = av.CodecContext.create(codec, "w")
        trial.sample_rate, trial.layout, trial.bit_rate = rate, layout, bit_rate
        if fmt is not None:
            trial.format = fmt
        try:
            trial.open()
            stream = container.add_stream(codec, rate=rate, layout=layout.name, bit_rate=bit_rate)
        except (ValueError, av.FFmpegError):
            return False
        ctx = stream.codec_context
        if fmt is not None:
            ctx.format = fmt
        self._stream = stream
        self._resampler = av.AudioResampler(
            format=ctx.format, layout=ctx.layout, rate=ctx.sample_rate, frame_size=ctx.frame_size or None
        )
        return True

    def _encode(self, container, frames: list[av.AudioFrame | None]) -> None:
        stream = self._stream
        rate = stream.codec_context.sample_rate
        for frame in frames:
            if frame is not None:
                frame.pts = self._encoded
                frame.time_base = Fraction(1, rate)
                self._encoded += frame.samples
            container.mux(stream.encode(frame))

    def mux_until(self, container: av.container.OutputContainer, seconds: float) -> None:
        """Encode and mux the sound before ``seconds``."""
        if self._stream is None:
            return
        n = self.audio.samples.shape[0]
        stop = n if math.isinf(seconds) else min(n, round(Fraction(seconds) * self.audio.rate))
        if stop > self._fed:
            self._feed(container, self.audio.samples[self._fed : stop])

    def _feed(self, container: av.container.OutputContainer, samples: np.ndarray) -> None:
        """Resample and encode the next ``(N, C)`` samples (they start at sample ``_fed``)."""
        stop = self._fed + samples.shape[0]
        chunk = np.ascontiguousarray(samples, np.float32)
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout=_layout_for(self.audio).name)
        frame.sample_rate = self.audio.rate
        frame.pts = self._fed
        frame.time_base = Fraction(1, self.audio.rate)
        self._fed = stop
        try:
            self._encode(container, self._resampler.resample(frame))
        except av.FFmpegError as e:
            raise MediaError(f"could not encode the audio: {_short(e)}") from None

    def finish(self, container: av.container.OutputContainer) -> None:
        """Encode the rest, then flush the resampler and the encoder."""
        if self._stream is None:
            return
        self.mux_until(container, math.inf)
        try:
            self._encode(container, [*self._resampler.resample(None), None])
        except av.FFmpegError as e:
            raise MediaError(f"could not encode the audio: {_short(e)}") from None
        self._stream = None


def _layout_for(audio: Audio) -> av.AudioLayout:
    """The audio's layout, or FFmpeg's default for its channel count when the name does not fit."""
    try:
        layout = av.AudioLayout(audio.layout)
        if layout.nb_channels == audio.channels:
            return layout
    except (ValueError, av.FFmpegError):
        pass
    return av.AudioLayout(f"{audio.channels}c")
