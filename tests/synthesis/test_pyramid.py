import itertools

import pytest
import torch

from patchvid.synthesis.planning import plan
from patchvid.synthesis.pyramid import build_pyramid, fit_patch, level_shapes
from patchvid.synthesis.settings import GenerateSettings


def test_paper_benchmark_size_levels():
    shapes = level_shapes((13, 144, 256), (13, 144, 256), (3, 7, 7))
    assert shapes.input[0] == (13, 144, 256)
    assert shapes.input[-1] == (3, 15, 27)
    assert 8 <= len(shapes) <= 20
    # each level is smaller than or equal to the previous one in every axis
    for a, b in itertools.pairwise(shapes.input):
        assert all(x >= y for x, y in zip(a, b)) and a != b


def test_dimension_at_its_minimum_stops_while_others_shrink():
    shapes = level_shapes((100, 36, 64), (100, 36, 64), (3, 7, 7))
    assert shapes.input[-1] == (3, 15, 27)
    spatial_minimum = [s for s in shapes.input if s[1] == 15]
    assert len(spatial_minimum) > 1  # time goes on shrinking after space stopped
    assert [s[0] for s in spatial_minimum] == sorted((s[0] for s in spatial_minimum), reverse=True)


ODD_INPUTS = [
    (1, 188, 250),  # image
    (2, 40, 40),
    (3, 33, 47),
    (15, 72, 128),  # the reference crashes here with a half-length output
    (13, 8, 9),  # tiny frame
    (5, 10, 400),  # very wide
    (5, 400, 9),  # very tall
    (4, 5, 6),  # smaller than a patch
    (1, 3, 3),
]


@pytest.mark.parametrize("shape", ODD_INPUTS)
@pytest.mark.parametrize("scale", [(1, 1, 1), (0.5, 1, 1), (0.1, 0.5, 2.0)])
def test_every_level_holds_a_patch(shape, scale):
    p = plan(shape, GenerateSettings(scale=scale))
    for level_in, level_out in zip(p.levels.input, p.levels.output):
        for size in (level_in, level_out):
            assert all(s >= q for s, q in zip(size, p.patch)), (size, p.patch)
    assert p.levels.input[0] == shape
    if shape[0] >= 3:
        assert p.patch[0] == 3  # a clip with enough frames keeps 3-frame patches at every level
    assert p.patch[0] <= shape[0]
    if shape[0] == 1:
        assert p.patch[0] == 1


def test_coarsest_level_never_has_fewer_frames_than_the_patch():
    for frames in range(1, 40):
        p = plan((frames, 40, 60), GenerateSettings(scale=(0.5, 1, 1)))
        assert min(s[0] for s in p.levels.output) >= p.patch[0]
        assert min(s[0] for s in p.levels.input) >= p.patch[0]


def test_fit_patch():
    assert fit_patch((3, 7, 7), (2, 100, 100)) == (2, 7, 7)
    assert fit_patch((3, 7, 7), (5, 4, 100), (5, 100, 6)) == (3, 4, 6)


def test_build_pyramid_shapes():
    shapes = level_shapes((6, 30, 40), (6, 30, 40), (3, 7, 7))
    levels = build_pyramid(torch.rand(3, 6, 30, 40), shapes.input)
    assert [tuple(v.shape[1:]) for v in levels] == shapes.input
