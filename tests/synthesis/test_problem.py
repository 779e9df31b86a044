"""One shape for every task: prepared problems can be inspected, and one solve runs them all."""

import numpy as np
import pytest
import torch

import patchvid
from patchvid.errors import InputError
from patchvid.synthesis.problem import solve
from patchvid.synthesis.settings import EngineSettings, GenerateSettings
from patchvid.tasks.analogy import prepare_analogy
from patchvid.tasks.generate import prepare_generate
from patchvid.tasks.inpaint import prepare_inpaint
from patchvid.tasks.retarget import prepare_retarget

from ..conftest import make_clip

FAST = GenerateSettings(search="exact").replace(iterations=2)


def test_one_problem_serves_every_seed_and_is_not_changed_by_solving():
    clip = make_clip(5, 20, 28)
    problem = prepare_generate(clip, FAST)
    before = [v.clone() for v in problem.values], problem.initial.clone()
    samples = [solve(problem, seed) for seed in (0, 1, 0)]
    assert all(torch.equal(a, b) for a, b in zip(before[0], problem.values))
    assert torch.equal(before[1], problem.initial)
    assert np.array_equal(samples[0], samples[2]) and not np.array_equal(samples[0], samples[1])
    assert np.array_equal(samples[1], patchvid.generate(clip, seed=1, settings=FAST))


def test_prepared_problems_say_what_each_task_does():
    clip = make_clip(5, 20, 28)
    generate = prepare_generate(clip, FAST)
    assert generate.noise == FAST.noise and generate.holes is None and generate.guides is None
    assert generate.output_shape == (5, 20, 28) and len(generate.values) == len(generate.plan.levels)

    wide = prepare_retarget(clip, (None, None, 40), settings=FAST.replace(noise=0.0))
    assert wide.noise == 0 and wide.output_shape == (5, 20, 40)

    mask = np.zeros((20, 28), bool)
    mask[5:12, 8:18] = True
    fill = prepare_inpaint(clip, mask, fill="smooth", settings=FAST.replace(noise=1.0))
    assert fill.holes is not None and fill.finish is not None
    # noise only inside the hole, and no key patch that touches the hole at the finest level
    assert torch.equal(fill.noise_where, fill.holes.fill[-1])
    assert not fill.holes.allowed_keys(0, fill.plan.patch)[5:12, 5:12, 8:18].any()

    motion = prepare_analogy(clip, make_clip(6, 24, 30, seed=2), settings=FAST.replace(noise=0.0))
    assert motion.guides is not None and motion.output_shape == (5, 20, 28)
    assert [tuple(g.shape[1:]) for g in motion.guides.query] == motion.plan.levels.output
    short = prepare_analogy(clip[:2], make_clip(6, 24, 30, seed=2), mode="colours", settings=FAST)
    assert short.guides is None and short.plan.output_shape[0] == 3 and short.output_shape[0] == 2


def test_settings_compose_the_engine_and_route_overrides():
    s = GenerateSettings().replace(noise=2.5, patch=(3, 5, 5), reduce="mean", scale=(1, 1, 2))
    assert s.noise == 2.5 and s.scale == (1, 1, 2)
    assert s.engine.patch == (3, 5, 5) and s.engine.vote == "mean"  # 'reduce': the old name of 'vote'
    assert s.engine.large_voxels == GenerateSettings().engine.large_voxels
    assert EngineSettings().large_voxels is None  # the engine alone applies no size rule
    with pytest.raises(InputError, match="unknown setting"):
        GenerateSettings().replace(colour="red")
    with pytest.raises(InputError, match="voting rule"):
        GenerateSettings().replace(vote="max").validate()


@pytest.mark.parametrize("seed", [-1, 2**64, 1.5])
def test_solve_refuses_a_seed_out_of_range(seed):
    problem = prepare_generate(np.zeros((4, 16, 16, 3), np.uint8), GenerateSettings())
    with pytest.raises(InputError, match="seed must be a whole number from 0 to 2\\*\\*63 - 1"):
        solve(problem, seed)
