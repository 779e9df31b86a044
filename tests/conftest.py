"""Shared test helpers: generated footage and the location of the optional real footage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def make_clip(frames: int = 6, height: int = 24, width: int = 32, seed: int = 0) -> np.ndarray:
    """A small structured clip ``(T, H, W, 3) uint8``: a colour gradient with two discs moving
    across it and mild texture, so patches are distinct but repeat."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([x / width, y / height, 0.5 + 0.25 * np.sin(x / 3) * np.cos(y / 4)], -1) * 200 + 20
    texture = rng.normal(0, 6, (height, width, 3))
    out = np.empty((frames, height, width, 3), dtype=np.uint8)
    for t in range(frames):
        img = base + texture
        discs = ((4 + 2 * t, height / 3, 4, (230, 40, 40)), (width - 6 - t, 2 * height / 3, 3, (30, 30, 220)))
        for cx, cy, r, col in discs:
            img[(x - cx) ** 2 + (y - cy) ** 2 <= r * r] = col
        out[t] = np.clip(img, 0, 255).astype(np.uint8)
    return out


@pytest.fixture
def clip() -> np.ndarray:
    return make_clip()


def needs_shared_data(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real footage not available: {path} (the ../shared/data folder is absent)")
    return path
