"""patchvid: new video from a single video, with no training and no dataset.

The Python API in three calls::

    import patchvid
    clip = patchvid.read_video("clip.mp4", end=13)          # (T, H, W, 3) uint8 frames + fps
    sample = patchvid.generate(clip.frames, seed=1)          # a new (T, H, W, 3) uint8 video
    patchvid.write_video("sample.mp4", sample, clip.fps)
"""

__version__ = "0.1.0"

from .errors import MediaError, PatchvidError, ResourceError
from .generate import GenerateSettings, generate
from .media import Video, read_video, write_video

__all__ = [
    "GenerateSettings",
    "MediaError",
    "PatchvidError",
    "ResourceError",
    "Video",
    "generate",
    "read_video",
    "write_video",
]
