"""Media in and out: the one layer that touches files.

In memory a clip is always ``(T, H, W, 3) uint8`` RGB, upright (the display rotation applied), with
its frame rate as an exact fraction, its colour description, its audio and its container tags kept
beside the frames so that a writer can carry them to the output. Every write goes to a temporary name
in the destination folder and is renamed into place only when complete.
"""

from .colour import Colour
from .encoding import Encoding
from .reading import DEFAULT_FPS, GIF_EXT, IMAGE_EXTS, VIDEO_EXTS, Video, frame_range, probe_video, read_video
from .writing import (
    VideoWriter,
    atomic_output,
    check_frames_fit,
    check_output,
    output_kind,
    write_text,
    write_video,
)

__all__ = [
    "Colour",
    "DEFAULT_FPS",
    "Encoding",
    "GIF_EXT",
    "IMAGE_EXTS",
    "VIDEO_EXTS",
    "Video",
    "VideoWriter",
    "atomic_output",
    "check_frames_fit",
    "check_output",
    "frame_range",
    "output_kind",
    "probe_video",
    "read_video",
    "write_text",
    "write_video",
]
