"""The mode vote of labels through a nearest-neighbour field (synthesis/labels.py): the same geometry
as the pixels' fold, wrapped axes included; ids never blended or invented."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
import torch

from patchvid.errors import InputError
from patchvid.synthesis.labels import solve_labelled, vote_labels
from patchvid.synthesis.patches import fold_nnf_wrapped, patch_grid
from patchvid.synthesis.settings import GenerateSettings
from patchvid.tasks.generate import prepare_generate
from patchvid.tasks.inpaint import prepare_inpaint

from ..conftest import grid_corners, make_clip


def brute_force(labels: np.ndarray, nnf: np.ndarray, patch, wrap) -> np.ndarray:
    """Every patch's copy of every voxel, gathered per output voxel (indices taken modulo the output's
    size along a wrapped axis), then the most frequent label, ties to the smallest."""
    corners = nnf.shape[:3]
    shape = tuple(n if w else n + p - 1 for n, p, w in zip(corners, patch, wrap))
    votes: dict[tuple, list] = {}
    for c in itertools.product(*map(range, corners)):
        for o in itertools.product(*map(range, patch)):
            out = tuple((ci + oi) % n if w else ci + oi for ci, oi, n, w in zip(c, o, shape, wrap))
            votes.setdefault(out, []).append(labels[tuple(nnf[c] + np.array(o))])
    result = np.empty(shape, labels.dtype)
    for voxel, ids in votes.items():
        counts = Counter(ids)
        top = max(counts.values())
        result[voxel] = min(i for i, n in counts.items() if n == top)
    return result


def random_field(labels_shape, corners, patch, rng) -> np.ndarray:
    grid = patch_grid(labels_shape, patch)
    return np.stack([rng.integers(0, g, corners) for g in grid], axis=-1)


CASES = [  # (labels shape, patch, wrap)
    ((5, 8, 9), (3, 3, 3), (False, False, False)),
    ((4, 7, 6), (2, 3, 2), (True, False, False)),
    ((4, 7, 6), (3, 3, 3), (False, True, True)),
    ((5, 6, 7), (2, 2, 3), (True, True, True)),
    ((1, 9, 8), (1, 3, 3), (False, False, True)),  # an image: one-frame patches
]


@pytest.mark.parametrize("shape, patch, wrap", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_the_vote_is_the_brute_force_mode(shape, patch, wrap, seed):
    rng = np.random.default_rng(seed)
    labels = rng.choice(np.array([-4, 0, 3, 250], np.int16), size=shape)  # few ids: many ties
    corners = tuple(rng.integers(p if w else 1, 5) for p, w in zip(patch, wrap))  # a wrapped axis holds a patch
    nnf = random_field(shape, corners, patch, rng)
    got = vote_labels(labels, torch.from_numpy(nnf), patch, wrap)
    np.testing.assert_array_equal(got, brute_force(labels, nnf, patch, wrap))
    assert got.dtype == np.int16
    assert set(np.unique(got)) <= set(np.unique(labels))  # no id is invented


@pytest.mark.parametrize("shape, patch, wrap", CASES)
def test_a_mask_is_voted_as_the_pixels_are(shape, patch, wrap):
    """For a 0/1 mask the mode (ties to 0) is the lower median: the pixels' own median fold, through
    the same field, gives the same mask."""
    rng = np.random.default_rng(5)
    mask = rng.random(shape) < 0.4
    corners = tuple(rng.integers(p if w else 1, 6) for p, w in zip(patch, wrap))
    nnf = torch.from_numpy(random_field(shape, corners, patch, rng))
    median = fold_nnf_wrapped(torch.from_numpy(mask).float()[None], nnf, patch, "median", wrap)[0]
    np.testing.assert_array_equal(vote_labels(mask, nnf, patch, wrap), median.numpy() > 0.5)


def test_the_identity_field_gives_the_labels_back():
    labels = np.random.default_rng(0).integers(0, 2**40, (5, 9, 11), dtype=np.int64)
    patch = (3, 5, 5)
    nnf = grid_corners(patch_grid(labels.shape, patch))
    np.testing.assert_array_equal(vote_labels(labels, nnf, patch), labels)


def test_bad_labels_and_fields_are_refused():
    labels = np.zeros((4, 6, 6), np.int32)
    nnf = torch.zeros(2, 4, 4, 3, dtype=torch.int64)
    with pytest.raises(InputError, match="integers"):
        vote_labels(labels.astype(np.float32), nnf, (3, 3, 3))
    with pytest.raises(InputError, match="outside"):
        vote_labels(labels, nnf + 2, (3, 3, 3))  # the kernel reads unchecked: refused at the door
    with pytest.raises(InputError, match="does not fit"):
        vote_labels(labels, nnf, (5, 3, 3))


def test_solve_labelled_checks_its_labels_and_problem():
    frames = make_clip(4, 16, 20)
    problem = prepare_generate(frames, GenerateSettings())
    for bad in (np.zeros((4, 16, 21), np.int32), np.zeros((4, 16, 20), np.float32), np.zeros((4, 16, 20, 3))):
        with pytest.raises(InputError, match=r"\(4, 16, 20\) integers"):
            solve_labelled(problem, bad)
    mask = np.zeros((16, 20), bool)
    mask[4:9, 6:12] = True
    with pytest.raises(InputError, match="inpainting"):
        solve_labelled(prepare_inpaint(frames, mask), np.zeros((4, 16, 20), np.int32))
