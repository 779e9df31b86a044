"""Generated footage with the properties real footage has and synthetic test clips lack: a colour
matrix and range (tagged or not), a phone's display rotation, a sound track, a timecode and
container tags, uneven frame times, 10 bits, HDR tags.

Everything is written with PyAV directly (not with patchvid's writer), and YUV is computed here
with the standard's own coefficients, so that what a file holds is known independently of the code
under test.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

# --------------------------------------------------------------------------------------- colour

# Kr, Kb of each YUV matrix (FFmpeg's names): BT.601 is smpte170m (and bt470bg), BT.2020 bt2020nc.
KR_KB = {"bt709": (0.2126, 0.0722), "smpte170m": (0.299, 0.114), "bt470bg": (0.299, 0.114),
         "bt2020nc": (0.2627, 0.0593)}
# FFmpeg's enum values (AVColorSpace, AVColorPrimaries, AVColorTransferCharacteristic, AVColorRange)
MATRIX_CODE = {"bt709": 1, "bt470bg": 5, "smpte170m": 6, "bt2020nc": 9}
PRIMARIES_CODE = {"bt709": 1, "bt470bg": 5, "smpte170m": 6, "bt2020": 9}
TRANSFER_CODE = {"bt709": 1, "smpte170m": 6, "bt2020-10": 14, "smpte2084": 16, "arib-std-b67": 18}
RANGE_CODE = {"tv": 1, "pc": 2}
UNSPECIFIED = 2  # AVCOL_SPC/PRI/TRC_UNSPECIFIED; AVCOL_RANGE_UNSPECIFIED is 0

# 75% colour bars (SMPTE order, then black): no bar is at the edge of the gamut, so no conversion clips
LEVEL = 191
BARS = np.array([(1, 1, 1), (1, 1, 0), (0, 1, 1), (0, 1, 0), (1, 0, 1), (1, 0, 0), (0, 0, 1), (0, 0, 0)]) * LEVEL
GREEN = 3  # the index of the green bar


def bars(height: int, width: int) -> np.ndarray:
    """``(H, W, 3) uint8``: eight vertical bars of :data:`BARS` (width a multiple of 8 keeps them equal)."""
    which = np.arange(width) * len(BARS) // width
    return np.broadcast_to(BARS[which][None].astype(np.uint8), (height, width, 3)).copy()


def bar_interiors(width: int, margin: int = 2) -> list[slice]:
    """The columns of each bar, ``margin`` columns in from its edges (chroma subsampling and the
    codec's blocks blur the edges)."""
    step = width / len(BARS)
    return [slice(round(i * step) + margin, round((i + 1) * step) - margin) for i in range(len(BARS))]


def rgb_to_yuv(rgb: np.ndarray, matrix: str = "bt709", colour_range: str = "tv", bits: int = 8) -> np.ndarray:
    """``(..., 3)`` RGB (0-255) as ``(..., 3) float`` Y, Cb, Cr codes of ``bits`` bits, by the matrix's
    coefficients and the range's scaling (limited: Y 16-235 and C 16-240 at 8 bits)."""
    kr, kb = KR_KB[matrix]
    x = np.asarray(rgb, dtype=np.float64) / 255
    y = kr * x[..., 0] + (1 - kr - kb) * x[..., 1] + kb * x[..., 2]
    pb, pr = (x[..., 2] - y) / (2 * (1 - kb)), (x[..., 0] - y) / (2 * (1 - kr))
    scale = 2 ** (bits - 8)
    if colour_range == "tv":
        codes = [16 + 219 * y, 128 + 224 * pb, 128 + 224 * pr]
    else:
        codes = [255 * y, 128 + 255 * pb, 128 + 255 * pr]
    return np.stack(codes, -1) * scale


def yuv_to_rgb(yuv: np.ndarray, matrix: str = "bt709", colour_range: str = "tv", bits: int = 8) -> np.ndarray:
    """The inverse of :func:`rgb_to_yuv` (float RGB, 0-255, unclipped)."""
    kr, kb = KR_KB[matrix]
    c = np.asarray(yuv, dtype=np.float64) / 2 ** (bits - 8)
    if colour_range == "tv":
        y, pb, pr = (c[..., 0] - 16) / 219, (c[..., 1] - 128) / 224, (c[..., 2] - 128) / 224
    else:
        y, pb, pr = c[..., 0] / 255, (c[..., 1] - 128) / 255, (c[..., 2] - 128) / 255
    r = y + 2 * (1 - kr) * pr
    b = y + 2 * (1 - kb) * pb
    g = (y - kr * r - kb * b) / (1 - kr - kb)
    return np.stack([r, g, b], -1) * 255


def _yuv_frame(rgb: np.ndarray, matrix: str, colour_range: str, pix_fmt: str) -> av.VideoFrame:
    """One RGB frame as a planar 4:2:0 or 4:2:2 YUV frame, converted here (chroma: 2x2 or 1x2 means)."""
    bits = 10 if pix_fmt.endswith("10le") else 8
    yuv = rgb_to_yuv(rgb, matrix, colour_range, bits)
    h, w = rgb.shape[:2]
    rows = 2 if pix_fmt.startswith("yuv420") else 1
    chroma = yuv[..., 1:].reshape(h // rows, rows, w // 2, 2, 2).mean(axis=(1, 3))
    dtype = np.uint16 if bits > 8 else np.uint8
    top = (1 << bits) - 1
    planes = [yuv[..., 0], chroma[..., 0], chroma[..., 1]]
    planes = [np.clip(np.round(p), 0, top).astype(dtype) for p in planes]
    frame = av.VideoFrame(w, h, pix_fmt)
    for plane, values in zip(frame.planes, planes):
        per_row = plane.line_size // values.itemsize
        padded = np.zeros((values.shape[0], per_row), dtype)
        padded[:, : values.shape[1]] = values
        plane.update(padded.tobytes())
    return frame


# --------------------------------------------------------------------------------------- sound


def tone(seconds: float, rate: int = 48000, channels: int = 2, hz: float = 440.0) -> np.ndarray:
    """``(N, C) float32``: a sine per channel (``hz`` times 1, 1.5, 2, ...), amplitude 0.3, faded in and
    out over 10 ms so that the codec has no onset to ring on."""
    t = np.arange(round(seconds * rate)) / rate
    fade = np.minimum(1, np.minimum(t, t[-1] - t) / 0.01)[:, None]
    waves = np.stack([np.sin(2 * np.pi * hz * (1 + 0.5 * c) * t) for c in range(channels)], 1)
    return (0.3 * fade * waves).astype(np.float32)


LAYOUT_CHANNELS = {"mono": 1, "stereo": 2, "5.1": 6}


# --------------------------------------------------------------------------------------- clips


def write_clip(
    path: str | Path,
    frames: np.ndarray,
    fps: int | Fraction = 25,
    *,
    pix_fmt: str = "yuv420p",
    encoder: str | None = None,
    matrix: str | None = None,
    coded_with: str | None = None,
    colour_range: str = "tv",
    primaries: str | None = None,
    transfer: str | None = None,
    rotation: int | None = None,
    sound: np.ndarray | None = None,
    layout: str = "stereo",
    sample_rate: int = 48000,
    metadata: dict[str, str] | None = None,
    times_ms: list[int] | None = None,
) -> Path:
    """Write ``(T, H, W, 3) uint8`` RGB frames (the coded picture) as a video with PyAV.

    Args:
        fps: the nominal rate (the stream's rate, and the frame times unless ``times_ms``).
        pix_fmt: ``yuv420p``, ``yuv420p10le`` or ``yuv422p`` (converted here) or ``rgb24`` for x264rgb.
        encoder: default libx264 (libx265 for 10-bit HEVC can be named).
        matrix: the matrix tag; ``None`` writes an untagged stream (matrix, primaries, transfer and
            range unspecified).
        coded_with: the matrix the pixels are actually converted with (default ``matrix``, else
            BT.709 for 720 lines and up and BT.601 below, as a camera would).
        colour_range, primaries, transfer: tags (primaries and transfer default to the matrix's).
        rotation: the display matrix's rotation (``-90``: a phone's portrait clip, coded landscape,
            which a player turns 90 degrees clockwise).
        sound: ``(N, C) float32`` to encode as AAC beside the video (``layout``, ``sample_rate``), with
            perceptual noise substitution off: a decoder fills those bands from a random state that
            depends on where decoding began, so a cut copy would decode 1e-5 off the whole file's.
        metadata: container tags (``timecode`` in mp4/mov makes a tmcd track; ``creation_time``,
            ``location``).
        times_ms: every frame's time in milliseconds (a variable-frame-rate clip, time base 1/1000).
    """
    path = Path(path)
    frames = np.asarray(frames)
    t, h, w = frames.shape[:3]
    rate = Fraction(fps)
    coded = coded_with or matrix or ("bt709" if h >= 720 or w >= 1280 else "smpte170m")
    with av.open(str(path), "w") as container:
        for key, value in (metadata or {}).items():
            container.metadata[key] = value
        rgb = pix_fmt == "rgb24"
        encoder = encoder or ("libx264rgb" if rgb else "libx264")
        options = {"x265-params": "log-level=error"} if encoder == "libx265" else {"crf": "8"}
        video = container.add_stream(encoder, rate=rate, options=options)
        video.width, video.height, video.pix_fmt = w, h, pix_fmt
        time_base = Fraction(1, 1000) if times_ms is not None else 1 / rate
        video.time_base = time_base
        ctx = video.codec_context
        ctx.time_base = time_base  # the encoder's clock too: frame times are rescaled to it
        if matrix is not None:
            ctx.colorspace = MATRIX_CODE[matrix]
            ctx.color_range = RANGE_CODE[colour_range]
            ctx.color_primaries = PRIMARIES_CODE[primaries or ("bt2020" if matrix == "bt2020nc" else matrix)]
            ctx.color_trc = TRANSFER_CODE[transfer or ("bt2020-10" if matrix == "bt2020nc" else matrix)]
        if rotation is not None:
            video.set_display_rotation(rotation)
        audio = None
        if sound is not None:
            audio = container.add_stream("aac", rate=sample_rate, layout=layout, bit_rate=64_000 * sound.shape[1],
                                         options={"aac_pns": "0"})
        fed = 0
        for i, picture in enumerate(frames):
            if rgb:
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="rgb24")
            else:
                frame = _yuv_frame(picture, coded, colour_range, pix_fmt)
            if matrix is not None:
                frame.colorspace, frame.color_range = MATRIX_CODE[matrix], RANGE_CODE[colour_range]
            frame.pts = times_ms[i] if times_ms is not None else i
            frame.time_base = time_base
            container.mux(video.encode(frame))
            if audio is not None:  # the sound up to the end of this frame, interleaved
                until = min(len(sound), round((i + 1) / rate * sample_rate))
                while fed < until:
                    chunk = np.ascontiguousarray(sound[fed : min(until, fed + 1024)].T)
                    af = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
                    af.sample_rate, af.pts, af.time_base = sample_rate, fed, Fraction(1, sample_rate)
                    container.mux(audio.encode(af))
                    fed += chunk.shape[1]
        container.mux(video.encode(None))
        if audio is not None:
            container.mux(audio.encode(None))
    return path


def write_bars(path, height: int = 48, width: int = 64, frames: int = 6, fps: int = 25, **options) -> Path:
    """:func:`bars` for ``frames`` frames, with :func:`write_clip`'s tags (``matrix=None``: untagged)."""
    return write_clip(path, np.broadcast_to(bars(height, width), (frames, height, width, 3)), fps, **options)


def corner_marker_clip(frames: int = 6, height: int = 24, width: int = 32) -> np.ndarray:
    """Coded frames with a white square in the top-left corner on a mid grey, and a dark bar down the
    right: a turn of the picture moves both somewhere a test can find."""
    out = np.full((frames, height, width, 3), 110, np.uint8)
    out[:, :6, :6] = 240
    out[:, :, -4:] = 20
    return out


def write_rotated(path, frames: int = 6, height: int = 24, width: int = 32, rotation: int = -90) -> np.ndarray:
    """A phone's portrait clip: landscape coded frames (:func:`corner_marker_clip`) with a display
    rotation. Returns the coded frames."""
    coded = corner_marker_clip(frames, height, width)
    write_clip(path, coded, 25, matrix="smpte170m", rotation=rotation)
    return coded


def write_with_sound(path, frames: np.ndarray, fps: int = 25, layout: str = "stereo", **options) -> np.ndarray:
    """``frames`` (RGB) with a tone of the clip's duration in AAC (``layout``: stereo or 5.1).
    Returns the tone."""
    sound = tone(len(frames) / fps, channels=LAYOUT_CHANNELS[layout])
    write_clip(path, frames, fps, matrix="smpte170m", sound=sound, layout=layout, **options)
    return sound


CREATION_TIME = "2023-05-17T10:20:30.000000Z"
LOCATION = "+48.8584+002.2945/"


def write_with_timecode(path, frames: np.ndarray, fps: int = 25, timecode: str = "01:00:00:00",
                        sound: bool = False) -> None:
    """``frames`` with a start timecode (a tmcd track in mp4/mov) and creation time and location tags."""
    metadata = {"timecode": timecode, "creation_time": CREATION_TIME, "location": LOCATION}
    write_clip(path, frames, fps, matrix="smpte170m", metadata=metadata,
               sound=tone(len(frames) / fps) if sound else None)


# nominally 25 fps (12 frames in 0.48 s): a stall after 80 ms (two frames missing), then a burst of
# five frames 20 ms apart, then even again
VFR_TIMES_MS = [0, 40, 80, 200, 220, 240, 260, 280, 320, 360, 400, 440]


def numbered_frames(frames: int, height: int = 24, width: int = 32) -> np.ndarray:
    """Flat frames of distinct greys (frame ``i`` is ``30 + 16 i``): which input frame an output
    frame shows can be told from its mean."""
    return np.broadcast_to((30 + 16 * np.arange(frames, dtype=np.uint8))[:, None, None, None],
                           (frames, height, width, 3)).copy()


def write_vfr(path, frames: np.ndarray, times_ms: list[int] | None = None) -> list[int]:
    """A variable-frame-rate clip: ``frames`` at uneven times (time base 1/1000). Returns the times."""
    times_ms = list(times_ms or VFR_TIMES_MS[: len(frames)])
    write_clip(path, frames, 25, matrix="smpte170m", times_ms=times_ms)
    return times_ms


def write_10bit(path, frames: np.ndarray, fps: int = 25, **options) -> None:
    """``frames`` as a 10-bit (yuv420p10le) H.264 stream, BT.709 tagged unless told."""
    write_clip(path, frames, fps, **({"matrix": "bt709"} | options), pix_fmt="yuv420p10le")


def write_hdr(path, frames: np.ndarray, fps: int = 25) -> None:
    """``frames`` as 10-bit HEVC tagged as HDR10: BT.2020 matrix and primaries, PQ (smpte2084) transfer."""
    write_clip(path, frames, fps, matrix="bt2020nc", primaries="bt2020", transfer="smpte2084",
               pix_fmt="yuv420p10le", encoder="libx265")


def write_gradients(path, frames: int = 20, height: int = 1080, width: int = 1920) -> Path:
    """A large clip made fast: smooth gradients drifting a little each frame, built as YUV planes
    directly and encoded with x264's fastest preset (BT.709 tagged)."""
    path = Path(path)
    y, x = np.mgrid[0:height, 0:width]
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=25, options={"preset": "ultrafast", "crf": "18"})
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        video.codec_context.colorspace, video.codec_context.color_range = MATRIX_CODE["bt709"], RANGE_CODE["tv"]
        for i in range(frames):
            luma = (16 + (x + y + 8 * i) * 219 // (width + height + 8 * frames)).astype(np.uint8)
            cb = (64 + x[::2, ::2] * 128 // width).astype(np.uint8)
            cr = (64 + (y[::2, ::2] + 4 * i) * 128 // (height + 4 * frames)).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(np.concatenate([luma, cb.reshape(-1, width), cr.reshape(-1, width)]),
                                               format="yuv420p")
            frame.pts = i
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
    return path


# ----------------------------------------------------------------------------------- reading back


def read_planes(path) -> tuple[np.ndarray, dict, int]:
    """A video's pixels as coded, without patchvid: ``(T, H, W, 3) float`` Y, Cb, Cr codes (chroma
    repeated to every pixel), the first video stream's colour tags by FFmpeg's names (``None``:
    unspecified) and its bits per component."""
    names = {"matrix": ({v: k for k, v in MATRIX_CODE.items()}, "colorspace"),
             "primaries": ({v: k for k, v in PRIMARIES_CODE.items()}, "color_primaries"),
             "transfer": ({v: k for k, v in TRANSFER_CODE.items()}, "color_trc"),
             "range": ({v: k for k, v in RANGE_CODE.items()}, "color_range")}
    out = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tags = {key: table.get(int(getattr(stream.codec_context, attr))) for key, (table, attr) in names.items()}
        bits = 8
        for frame in container.decode(stream):
            bits = 10 if frame.format.name.endswith("10le") else 8
            dtype = np.uint16 if bits > 8 else np.uint8
            planes = []
            for plane in frame.planes[:3]:
                values = np.frombuffer(plane, dtype).reshape(plane.height, plane.line_size // dtype().itemsize)
                values = values[:, : plane.width]
                rows, columns = frame.height // plane.height, frame.width // plane.width
                planes.append(np.repeat(np.repeat(values, rows, 0), columns, 1).astype(float))
            out.append(np.stack(planes, -1))
    return np.stack(out), tags, bits
