"""Shared test helpers: generated footage with known content, the command line run as a user runs it,
and the location of the optional real footage."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage as ndi

from patchvid.evaluation.metrics import nearest_distances
from patchvid.frames import to_tensor
from patchvid.synthesis.patches import unfold

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


@pytest.fixture
def out(tmp_path) -> Path:
    """An empty folder for the outputs: a failed run must leave it empty."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def needs_shared_data(*parts: str) -> Path:
    """Path under ../shared/data, or skip the test with the reason when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real footage not available: {path} (the ../shared/data folder is absent)")
    return path


def orbit_clip(frames: int, period: int, height: int = 24, width: int = 32, seed: int = 0, noise: float = 1.0,
               drift: float = 0.0) -> np.ndarray:
    """A bright disc circling with the given period on a coloured background, plus sensor noise and
    an optional brightness drift per frame (which makes every wrap visible)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    background = np.stack([x / width, y / height, 0.5 + 0.2 * np.sin(x / 3)], -1) * 150 + 30
    out = np.empty((frames, height, width, 3), dtype=np.uint8)
    for t in range(frames):
        phase = 2 * np.pi * t / period
        cx, cy = width / 2 + width / 4 * np.cos(phase), height / 2 + height / 4 * np.sin(phase)
        disc = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 8)[..., None] * np.array([200, 120, -100])
        img = background + disc + drift * t + rng.normal(0, noise, background.shape)
        out[t] = np.clip(img, 0, 255).astype(np.uint8)
    return out


def smooth_video(shape: tuple[int, int, int], seed: int, channels: int = 3) -> torch.Tensor:
    """A random but spatially/temporally correlated ``(C, T, H, W)`` video (box-blurred noise): every
    patch is distinct and neighbouring patches are alike, as in footage."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(channels, *shape, generator=g)
    for _ in range(2):
        for axis in (1, 2, 3):
            if x.shape[axis] > 2:
                x = (x + x.roll(1, axis) + x.roll(-1, axis)) / 3
    return x


def grid_corners(grid: tuple[int, int, int]) -> torch.Tensor:
    """``(T', H', W', 3)``: every corner of a patch grid (the identity field)."""
    return torch.stack(torch.meshgrid(*[torch.arange(n) for n in grid], indexing="ij"), dim=-1)


# ----------------------------------------------------------------------- footage with known content


def noise(shape, colour, std, rng) -> np.ndarray:
    """A textured area: ``colour`` plus Gaussian noise of ``std`` grey levels (float, unclipped)."""
    return rng.normal(0, std, (*shape, 3)) + np.asarray(colour, dtype=float)


def disc_image(height=48, width=80, radius=4, centre=(24, 40), seed=0) -> np.ndarray:
    """Green noise (std 12) with one red disc, smaller than a patch at the coarsest level."""
    rng = np.random.default_rng(seed)
    img = noise((height, width), (60, 140, 60), 12, rng)
    y, x = np.mgrid[0:height, 0:width]
    img[(y - centre[0]) ** 2 + (x - centre[1]) ** 2 <= radius * radius] = (230, 30, 30)
    return np.clip(img, 0, 255).astype(np.uint8)


def red_blobs(img: np.ndarray) -> list[tuple[int, int, int]]:
    """``(height, width, area)`` of every connected red region."""
    red = (img[..., 0] > 150) & (img[..., 1] < 100) & (img[..., 2] < 100)
    labels, _ = ndi.label(red)
    return [(s[0].stop - s[0].start, s[1].stop - s[1].start, int((labels[s] == i + 1).sum()))
            for i, s in enumerate(ndi.find_objects(labels))]


SQUARE = 12  # side of STRUCTURE's moving square; it moves 3 px a frame to the right


def square_clip(frames=6, height=32, width=48, seed=1) -> tuple[np.ndarray, np.ndarray]:
    """STRUCTURE: a textured light square moving right over a still brown noise background, and
    where the square is ``(T, H, W) bool``."""
    rng = np.random.default_rng(seed)
    back = noise((height, width), (150, 110, 60), 12, rng)
    texture = noise((SQUARE, SQUARE), (230, 220, 200), 25, rng)
    y0 = (height - SQUARE) // 2
    out = np.empty((frames, height, width, 3), np.uint8)
    where = np.zeros((frames, height, width), bool)
    for t in range(frames):
        img = back.copy()
        img[y0 : y0 + SQUARE, 4 + 3 * t : 4 + 3 * t + SQUARE] = texture
        out[t] = np.clip(img, 0, 255)
        where[t, y0 : y0 + SQUARE, 4 + 3 * t : 4 + 3 * t + SQUARE] = True
    return out, where


def band_clip(frames=6, height=40, width=56, seed=2) -> np.ndarray:
    """APPEARANCE: still dark-blue noise above, cyan noise scrolling right 2 px a frame below (its
    moving region). No colour, nor any per-channel mix of its colours, is near STRUCTURE's."""
    rng = np.random.default_rng(seed)
    top = noise((height, width), (30, 40, 160), 12, rng)
    flowing = noise((height, width + 2 * frames), (40, 200, 200), 12, rng)
    out = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        img = top.copy()
        img[height // 2 :] = flowing[height // 2 :, 2 * (frames - t) : 2 * (frames - t) + width]
        out[t] = np.clip(img, 0, 255)
    return out


def cyan(frames: np.ndarray) -> np.ndarray:
    """Where ``frames`` has the colour of APPEARANCE's moving region (its still region has G ~40)."""
    return frames[..., 1] > 120


def red_discs_clip(frames=5, height=32, width=48, seed=0) -> np.ndarray:
    """Red discs (radius 4) moving over still blue noise."""
    rng = np.random.default_rng(seed)
    back = noise((height, width), (40, 60, 180), 10, rng)
    y, x = np.mgrid[0:height, 0:width]
    out = np.empty((frames, height, width, 3), np.uint8)
    for t in range(frames):
        img = back.copy()
        for cx, cy in ((8 + t, 8), (38 - t, 24), (10 + t, 25)):
            img[(x - cx) ** 2 + (y - cy) ** 2 <= 16] = (220, 40, 40)
        out[t] = np.clip(img, 0, 255)
    return out


def is_red(frames: np.ndarray) -> np.ndarray:
    return (frames[..., 0].astype(int) > 150) & (frames[..., 2] < 110)


def is_blue_disc(frames: np.ndarray) -> np.ndarray:
    """conftest's blue disc (30, 30, 220); its background never has blue > 180 with red < 100."""
    return (frames[..., 2].astype(int) > 180) & (frames[..., 0] < 100)


def patch_rms(sample: np.ndarray, reference: np.ndarray, patch=(3, 7, 7)) -> torch.Tensor:
    """Every patch of ``sample``: RMS difference per value (grey levels) to its nearest patch of ``reference``."""
    rows = unfold(to_tensor(sample), patch)
    return (nearest_distances(rows, to_tensor(reference), patch) / rows.shape[1]).sqrt() * 127.5


# ----------------------------------------------------------------------------------- the command line


def patchvid_cli(*args, cwd=None) -> subprocess.CompletedProcess:
    """``python -m patchvid ARGS`` in a separate process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "patchvid", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def one_error_line(stderr: str, *words) -> str:
    """The single error line, which ends stderr (progress lines may come before it), with ``words``."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("patchvid: error: ")]
    assert len(errors) == 1 and stderr.strip().endswith(errors[0]), stderr
    for word in words:
        assert word in errors[0], errors[0]
    return errors[0]


def assert_clean_failure(result, *words, folder=None, expected=()) -> None:
    """A failed process: exit status 1, one error line with ``words``, and ``folder`` holding only
    ``expected`` (nothing written)."""
    assert result.returncode == 1, result.stderr
    one_error_line(result.stderr, *words)
    if folder is not None:
        assert sorted(p.name for p in folder.iterdir()) == sorted(expected)


def save_mask(path, mask):
    """A bool mask as a black-and-white PNG (white selects)."""
    Image.fromarray(np.where(mask, 255, 0).astype(np.uint8)).save(path)
    return path
