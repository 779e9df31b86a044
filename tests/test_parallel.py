"""Worker processes: the serial twins of the numba kernels, a forked pool after a synthesis (it used
to hang or abort), and generate_many in and out of process: same bytes as generate, in seed order,
lazily."""

from __future__ import annotations

import itertools
import subprocess
import sys

import numpy as np
import pytest
import torch

import patchvid
from patchvid.errors import InputError
from patchvid.synthesis import backends
from patchvid.synthesis.patches import fold_nnf, patch_grid
from patchvid.synthesis.patchmatch import PatchMatch

from .conftest import make_clip, smooth_video

pytestmark = pytest.mark.skipif(not backends.numba_available(), reason="numba missing")

CLIP = (6, 32, 40)  # (T, H, W): a few seconds a sample


def both_twins(monkeypatch, run):
    """``run()`` with the parallel kernels, then with their serial twins (as in a forked child)."""
    monkeypatch.setattr(backends, "_forked", False)
    parallel = run()
    monkeypatch.setattr(backends, "_forked", True)
    return parallel, run()


@pytest.mark.parametrize("schedule", ["scan", "jump"])
def test_the_serial_twins_of_patchmatch_give_the_same_bytes(monkeypatch, schedule):
    key, query = smooth_video((6, 30, 40), seed=0), smooth_video((5, 28, 36), seed=1)
    patch = (3, 5, 5)
    mask = torch.ones(patch_grid(key.shape[1:], patch), dtype=torch.bool)
    mask[:, 4:10, 5:20] = False
    search = PatchMatch(passes=4, schedule=schedule, features=4, backend="numba")
    parallel, serial = both_twins(monkeypatch, lambda: search(query, key, patch, alpha=0.5, seed=3, key_mask=mask))
    assert torch.equal(parallel.nnf, serial.nnf) and torch.equal(parallel.distance, serial.distance)


@pytest.mark.parametrize("vote", ["median", "mean", "gaussian"])
def test_the_serial_twins_of_the_fold_give_the_same_bytes(monkeypatch, vote):
    value = smooth_video((6, 30, 40), seed=2)
    patch = (3, 7, 7)
    grid = patch_grid(value.shape[1:], patch)
    g = torch.Generator().manual_seed(0)
    # incoherent fields (many distinct votes a voxel) take every branch of the median
    nnf = torch.stack([torch.randint(0, n, (5, 26, 36), generator=g) for n in grid], -1)
    nnf[:, :10] = nnf[:, :1]  # and coherent rows the few-votes ones
    parallel, serial = both_twins(monkeypatch, lambda: fold_nnf(value, nnf, patch, vote, backend="numba"))
    assert torch.equal(parallel, serial)


# the case: forked workers after torch's OpenMP threads started in the parent, before and
# after a synthesis there (numba's threads not started yet, then started)
FORKED_POOL = """
import multiprocessing, sys
import numpy as np, torch
sys.path.insert(0, {root!r})
from tests.conftest import make_clip
import patchvid
from patchvid.synthesis import backends

frames = make_clip(*{clip})
torch.randn(4_000_000).exp_().sum()
threads = torch.get_num_threads()

def work(seed):
    return patchvid.generate(frames, seed=seed), backends.forked(), torch.get_num_threads()

def forked_pool():
    with multiprocessing.get_context("fork").Pool(2) as pool:
        return pool.map_async(work, range(2)).get(timeout={timeout})

first = forked_pool()
assert torch.get_num_threads() == threads, "the parent's threads changed"
expected = [patchvid.generate(frames, seed=s) for s in range(2)]
for got in (first, forked_pool()):
    assert all(np.array_equal(a, b) for (a, _, _), b in zip(got, expected)), "other bytes in the children"
    assert all(forked and threads == 1 for _, forked, threads in got), [g[1:] for g in got]
assert not backends.forked()
print("ok")
"""


def run_script(script: str, timeout: int) -> None:
    """Run ``script`` in a fresh interpreter: a hang or an abort fails the test, not pytest."""
    try:
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"hung for {timeout} s; stderr: {e.stderr}")
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), (result.returncode, result.stderr[-3000:])


def test_a_forked_pool_makes_the_parents_bytes():
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[1])
    # generous: the first run in a checkout compiles the serial twins (later ones load them from disk)
    run_script(FORKED_POOL.format(root=root, clip=CLIP, timeout=240), timeout=300)


def test_generate_many_gives_generates_bytes_in_seed_order_whatever_the_jobs():
    frames = make_clip(*CLIP)
    expected = {s: patchvid.generate(frames, seed=s, iterations=1) for s in (7, 3, 10)}
    here = list(patchvid.generate_many(frames, [7, 3, 10], iterations=1))
    assert all(np.array_equal(a, expected[s]) for a, s in zip(here, (7, 3, 10)))
    # two spawned workers, an endless lazy seed stream: taken in order, read only a few ahead
    taken = []

    def seeds():
        for s in itertools.cycle((7, 3, 10)):
            taken.append(s)
            yield s

    samples = patchvid.generate_many(frames, seeds(), jobs=2, iterations=1)
    got = list(itertools.islice(samples, 4))
    samples.close()  # drops the seeds in flight and ends the workers
    assert all(np.array_equal(a, expected[s]) for a, s in zip(got, (7, 3, 10, 7)))
    assert len(taken) <= 4 + 2 * 2


def test_generate_many_prepares_once_and_takes_images():
    image = make_clip(1, 32, 40)[0]
    samples = list(patchvid.generate_many(image, range(2), iterations=1))
    assert [s.shape for s in samples] == [image.shape] * 2
    assert np.array_equal(samples[1], patchvid.generate(image, seed=1, iterations=1))


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2", None])
def test_generate_many_refuses_bad_jobs(jobs):
    with pytest.raises(InputError, match="jobs must be"):
        patchvid.generate_many(make_clip(*CLIP), jobs=jobs)


def test_generate_many_checks_its_input_at_the_call():
    frames = make_clip(*CLIP)
    with pytest.raises(InputError, match="unknown setting"):
        patchvid.generate_many(frames, jobs=2, nosie=1)
    with pytest.raises(InputError, match="frames must be"):
        patchvid.generate_many(frames[..., 0], jobs=2)
    with pytest.raises(InputError, match="tile"):
        patchvid.generate_many(frames, jobs=2, tile="z")
    with pytest.raises(InputError, match="seed"):
        next(patchvid.generate_many(frames, [-1]))
