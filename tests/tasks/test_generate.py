import numpy as np
import pytest
import torch

import patchvid
from patchvid.errors import PatchvidError
from patchvid.frames import to_frames, to_tensor
from patchvid.synthesis.planning import plan
from patchvid.synthesis.search import ExactSearch
from patchvid.synthesis.settings import GenerateSettings

from ..conftest import make_clip, needs_shared_data

FAST = dict(iterations=2)


def nearest_input_distance(sample: np.ndarray, source: np.ndarray, patch=(3, 7, 7)) -> torch.Tensor:
    """Per output patch: mean squared difference per element (values in [-1, 1]) to its nearest
    input patch."""
    match = ExactSearch()(to_tensor(sample), to_tensor(source), patch)
    return match.distance.flatten() / (3 * patch[0] * patch[1] * patch[2])


def test_output_shape_dtype_and_range(clip):
    out = patchvid.generate(clip, seed=0, **FAST)
    assert out.shape == clip.shape and out.dtype == np.uint8
    assert out.min() >= 0 and out.max() <= 255
    half = patchvid.generate(clip, seed=0, scale=(0.5, 1, 1.5), **FAST)
    assert half.shape == (3, 24, 48, 3)


def test_same_seed_same_output_other_seed_other_output(clip):
    a = patchvid.generate(clip, seed=5, **FAST)
    b = patchvid.generate(clip, seed=5, **FAST)
    c = patchvid.generate(clip, seed=6, **FAST)
    assert np.array_equal(a, b)
    assert np.abs(a.astype(int) - c).mean() > 5  # visibly different, not a pixel or two


def test_samples_differ_from_the_input(clip):
    out = patchvid.generate(clip, seed=0, **FAST)
    assert np.abs(out.astype(int) - clip).mean() > 5


def test_every_output_patch_has_a_close_input_patch(clip):
    out = patchvid.generate(clip, seed=0)
    d = nearest_input_distance(out, clip)
    # a pure-noise video of the same size, for scale: generation must be far closer to the input
    noise = np.random.default_rng(0).integers(0, 256, clip.shape, dtype=np.uint8)
    d_noise = nearest_input_distance(noise, clip)
    assert d.mean() < 0.02  # RMS difference about 0.14 of the [-1, 1] range, mostly far less
    assert torch.quantile(d, 0.99) < 0.1
    assert d.mean() < 0.05 * d_noise.mean()


def test_image_input_gives_an_image():
    image = make_clip(1, 30, 40)[0]
    out = patchvid.generate(image, seed=0, **FAST)
    assert out.shape == image.shape
    assert not np.array_equal(out, image)
    assert nearest_input_distance(out[None], image[None], (1, 7, 7)).mean() < 0.02


@pytest.mark.parametrize("shape", [(1, 9, 9), (2, 20, 24), (3, 16, 16), (4, 5, 6), (3, 12, 90)])
def test_awkward_inputs_run(shape):
    frames = make_clip(*shape)
    out = patchvid.generate(frames, seed=1, scale=(0.5, 1, 1), iterations=1)
    assert out.shape[1:] == frames.shape[1:]
    assert out.shape[0] == max(round(shape[0] * 0.5), min(shape[0], 3))


@pytest.mark.parametrize("overrides", [dict(vote="mean"), dict(vote="gaussian"), dict(alpha=0.01),
                                        dict(patch=(2, 5, 5), factor=(0.7, 0.75)), dict(noise=0.0)])
def test_method_options_give_valid_samples(clip, overrides):
    out = patchvid.generate(clip, seed=0, iterations=1, **overrides)
    assert out.shape == clip.shape
    assert nearest_input_distance(out, clip, overrides.get("patch", (3, 7, 7))).mean() < 0.03


def test_invalid_settings_are_named():
    with pytest.raises(PatchvidError, match="noise"):
        GenerateSettings(noise=-1).validate()
    with pytest.raises(PatchvidError, match="factor"):
        plan((5, 20, 20), GenerateSettings(factor=(1.2, 0.8)))
    with pytest.raises(PatchvidError, match="voting"):
        GenerateSettings().replace(vote="max").validate()


def test_plan_estimates_memory_that_grows_with_size():
    small = plan((8, 36, 64), GenerateSettings()).estimated_bytes
    large = plan((13, 144, 256), GenerateSettings()).estimated_bytes
    assert 0 < small < large


def test_tensor_conversion_round_trip(clip):
    assert np.array_equal(to_frames(to_tensor(clip)), clip)


@pytest.mark.slow
def test_real_footage_sample_is_made_of_input_patches():
    from patchvid.synthesis.resize import resize_frames

    folder = needs_shared_data("frames", "airballoons")
    frames = resize_frames(patchvid.read_video(folder, end="6f").frames, 27, 48)
    out = patchvid.generate(frames, seed=3)
    d = nearest_input_distance(out, frames)
    assert out.shape == frames.shape
    assert d.mean() < 0.012
    assert np.abs(out.astype(int) - frames).mean() > 3


def test_adaptive_noise_is_the_noise_times_the_inputs_patch_spread():
    from patchvid.synthesis.patches import patch_spread
    from patchvid.synthesis.settings import SPREAD_REFERENCE
    from patchvid.tasks.generate import prepare_generate

    frames = make_clip(8, 36, 48, seed=3)
    fixed = GenerateSettings(noise=4.0, adaptive_noise=False)
    problem = prepare_generate(frames, fixed.replace(adaptive_noise=True))
    spread = patch_spread(problem.values[-1], problem.plan.patch)
    assert problem.noise == pytest.approx(4.0 * spread / SPREAD_REFERENCE)
    assert prepare_generate(frames, fixed).noise == 4.0
    # a flatter input (half the contrast) has closer patches, so it gets less noise
    flat = (frames.astype(np.float32) * 0.5 + 64).astype(np.uint8)
    assert prepare_generate(flat, fixed.replace(adaptive_noise=True)).noise < 0.6 * problem.noise
    # the sample is the one the fixed noise of that amount makes
    adaptive = patchvid.generate(frames, seed=2, settings=fixed.replace(adaptive_noise=True, iterations=1))
    same = patchvid.generate(frames, seed=2, settings=fixed.replace(noise=problem.noise, iterations=1))
    np.testing.assert_array_equal(adaptive, same)
    assert prepare_generate(frames, fixed.replace(noise=0.0, adaptive_noise=True)).noise == 0.0
