"""patchvid: new video from a single video, with no training and no dataset."""

__version__ = "0.1.0"
