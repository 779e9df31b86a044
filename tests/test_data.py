"""The variation dataset: its length, reproducible items from arrays, paths and labels, refusals, and
a DataLoader of forked workers after a synthesis in the parent (same tensors as in-process)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import patchvid
from patchvid.data import VariationDataset
from patchvid.errors import InputError, MediaError

from .conftest import make_clip

CLIP = (6, 32, 40)  # (T, H, W): a few seconds a sample
FAST = {"iterations": 1}


def test_importing_the_module_for_the_bundled_clip_imports_no_torch():
    probe = "import sys, patchvid.data; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr


def test_items_are_samples_of_their_clip_with_a_seed_from_the_index():
    clips = [make_clip(*CLIP, seed=0), make_clip(*CLIP, seed=1)]
    data = VariationDataset(clips, samples=2, seed=5, **FAST)
    assert isinstance(data, torch.utils.data.Dataset) and len(data) == 4
    assert [data.clip_of(i) for i in range(4)] == [0, 0, 1, 1] and data.clip_of(-1) == 1
    seeds = [data.seed_of(i) for i in range(4)]
    assert len(set(seeds)) == 4 and all(0 <= s < 2**63 for s in seeds)
    assert seeds == [VariationDataset(clips, samples=2, seed=5).seed_of(i) for i in range(4)]
    assert seeds[0] != VariationDataset(clips, samples=2, seed=6).seed_of(0)
    item = data[3]
    assert item.dtype == torch.uint8 and tuple(item.shape) == (*CLIP, 3)
    assert np.array_equal(item.numpy(), patchvid.generate(clips[1], seed=seeds[3], **FAST))
    assert torch.equal(data[-1], item) and not torch.equal(data[2], item)
    with pytest.raises(IndexError):
        data[4]


def test_paths_are_read_when_needed_and_the_cache_is_not_pickled(tmp_path):
    frames = make_clip(*CLIP)
    patchvid.write_video(tmp_path / "clip", frames)  # a folder of PNG frames: lossless
    data = VariationDataset([tmp_path / "clip"], samples=3, seed=1, read={"end": "4f"}, **FAST)
    first = data[1]
    assert np.array_equal(first.numpy(), patchvid.generate(frames[:4], seed=data.seed_of(1), **FAST))
    copy = pickle.loads(pickle.dumps(data))  # as a spawned worker gets it
    assert len(pickle.dumps(data)) < 10_000 and torch.equal(copy[1], first)


def test_labels_follow_the_samples():
    frames = make_clip(*CLIP)
    labels = np.zeros(CLIP, np.int64)
    labels[:, 8:20, 10:30] = 3
    seen = []
    data = VariationDataset([frames], samples=2, labels=[labels], transform=lambda s, m: seen.append(m) or (s, m),
                            **FAST)
    sample, sample_labels = data[0]
    expected = patchvid.augment(frames, labels, seed=data.seed_of(0), **FAST)
    assert np.array_equal(sample.numpy(), expected[0]) and np.array_equal(sample_labels.numpy(), expected[1])
    assert sample_labels.dtype == torch.int64 and len(seen) == 1


def test_bad_datasets_are_refused_at_construction(tmp_path):
    clip = make_clip(*CLIP)
    for clips in ([], clip, "a.mp4", [3]):
        with pytest.raises(InputError, match="clips"):
            VariationDataset(clips)
    with pytest.raises(MediaError, match="no such"):
        VariationDataset([tmp_path / "missing.mp4"])
    with pytest.raises(InputError, match="samples"):
        VariationDataset([clip], samples=0)
    with pytest.raises(InputError, match="seed"):
        VariationDataset([clip], seed=-1)
    with pytest.raises(InputError, match="labels"):
        VariationDataset([clip], labels=[clip[..., 0], clip[..., 0]])
    with pytest.raises(InputError, match="unknown setting"):
        VariationDataset([clip], nosie=2)


# the case: the parent makes samples first (its OpenMP threads alive), then forks the workers
FORKED_LOADER = """
import sys
import torch
from torch.utils.data import DataLoader
sys.path.insert(0, {root!r})
from tests.conftest import make_clip
from patchvid.data import VariationDataset

data = VariationDataset([make_clip(*{clip}, seed=0), make_clip(*{clip}, seed=1)], samples=2, seed=3, iterations=1)
here = list(DataLoader(data, batch_size=1, num_workers=0))
loader = DataLoader(data, batch_size=1, num_workers=2, multiprocessing_context="fork", timeout={timeout})
forked = list(loader)
assert len(forked) == 4 and all(torch.equal(a, b) for a, b in zip(here, forked)), "other tensors in the workers"
print("ok")
"""


def test_a_forked_dataloader_after_samples_in_the_parent_gives_the_same_tensors():
    from .test_parallel import run_script

    root = str(Path(__file__).resolve().parents[1])
    # generous: the first run in a checkout compiles the serial kernels (later ones load them from disk)
    run_script(FORKED_LOADER.format(root=root, clip=CLIP, timeout=240), timeout=300)
