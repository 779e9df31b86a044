"""The engine's per-level rules for large levels (fewer rounds, smaller patches) and their effect on a
generation: the right patch and rounds reach the search, fields cross a change of patch size, and
results stay deterministic."""

from __future__ import annotations

import numpy as np

import patchvid
from patchvid.frames import to_tensor
from patchvid.synthesis.engine import EngineSettings, synthesize
from patchvid.synthesis.planning import plan
from patchvid.synthesis.pyramid import build_pyramid
from patchvid.synthesis.search import ExactSearch
from patchvid.synthesis.settings import GenerateSettings

from ..conftest import make_clip


def test_level_rules_pick_rounds_and_patch_by_size():
    e = EngineSettings((3, 7, 7), iterations=5, large_voxels=1000, large_iterations=2, huge_voxels=5000)
    assert e.level_iterations((4, 10, 20), coarsest=False) == 5  # 800 voxels
    assert e.level_iterations((4, 20, 20), coarsest=False) == 2
    assert e.level_iterations((4, 20, 20), coarsest=True) == e.coarsest_iterations
    assert e.level_patch((4, 20, 20)) == (3, 7, 7)
    assert e.level_patch((5, 40, 40)) == (3, 5, 5)
    # the smaller patch never exceeds the plan's own (an image keeps one frame)
    assert EngineSettings((1, 7, 7), huge_voxels=10).level_patch((1, 50, 50)) == (1, 5, 5)
    assert EngineSettings((3, 7, 7)).level_iterations((99, 999, 999), coarsest=False) == 5  # no rule: none


class Recorder:
    """An exact search that records the patch and the start of every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, query, key, patch, *, alpha=None, init=None, seed=0, key_mask=None):
        self.calls.append((tuple(query.shape[1:]), patch, init is not None))
        return ExactSearch()(query, key, patch)


def test_synthesize_applies_the_rules_per_level():
    clip = make_clip(6, 30, 40)
    p = plan(clip.shape[:3], GenerateSettings(device="cpu"))
    values = build_pyramid(to_tensor(clip), p.levels.input)
    finest = int(np.prod(p.levels.output[0]))
    settings = EngineSettings(
        p.patch, iterations=3, large_voxels=finest - 1, large_iterations=1, huge_voxels=finest - 1
    )
    rec = Recorder()
    out = synthesize(values[-1].clone(), values, p.levels.output, settings, lambda level: rec)
    assert out.shape == (3, *p.levels.output[0])
    finest_calls = [c for c in rec.calls if c[0] == p.levels.output[0]]
    # one round, with the small patch, started from the coarser level's field
    assert finest_calls == [(p.levels.output[0], (3, 5, 5), True)]
    second = [c for c in rec.calls if c[0] == p.levels.output[1]]
    assert len(second) == 3 and all(c[1] == (3, 7, 7) for c in second)


def test_generation_with_large_level_rules_is_valid_and_deterministic():
    clip = make_clip(6, 30, 40)
    rules = dict(large_voxels=3000, huge_voxels=5000, iterations=2)
    a = patchvid.generate(clip, seed=3, **rules)
    b = patchvid.generate(clip, seed=3, **rules)
    assert a.shape == clip.shape and np.array_equal(a, b)
    assert np.abs(a.astype(int) - clip).mean() > 5  # still a new sample
