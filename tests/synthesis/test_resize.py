import numpy as np
import pytest
import torch

from patchvid.synthesis.resize import fit_size, resize, resize_frames, resize_matrix


def test_identity_at_scale_one():
    video = torch.rand(3, 5, 17, 23)
    assert torch.equal(resize(video, (5, 17, 23)), video)


@pytest.mark.parametrize("size", [(1, 1, 1), (3, 7, 11), (9, 40, 61), (5, 17, 4), (2, 100, 3)])
def test_exact_output_shapes(size):
    assert resize(torch.rand(3, 5, 17, 23), size).shape == (3, *size)


def test_rows_sum_to_one_so_constants_stay_constant():
    for n_in, n_out in [(10, 3), (3, 10), (7, 7), (100, 13), (2, 1)]:
        assert torch.allclose(resize_matrix(n_in, n_out).sum(1), torch.ones(n_out, dtype=torch.float64))
    flat = torch.full((3, 6, 20, 20), 0.3)
    assert torch.allclose(resize(flat, (3, 7, 9)), flat[:, :3, :7, :9], atol=1e-6)


def grating_amplitude_after_shrink(n_in, n_out, frequency, antialias):
    signal = torch.cos(2 * torch.pi * frequency * torch.arange(n_in, dtype=torch.float64))
    # away from the borders, where repeating the edge sample adds a step of its own
    return float((resize_matrix(n_in, n_out, antialias) @ signal)[5:-5].abs().max())


@pytest.mark.parametrize("frequency", [0.2, 0.3, 0.37])
def test_antialiasing_removes_a_fine_grating(frequency):
    # a grating finer than the new Nyquist frequency (0.125 cycles per input sample) must vanish,
    # not fold into a coarse false pattern
    aliased = grating_amplitude_after_shrink(400, 100, frequency, antialias=False)
    filtered = grating_amplitude_after_shrink(400, 100, frequency, antialias=True)
    assert aliased > 0.5
    assert filtered < 0.05 * aliased


def test_antialiasing_applies_along_time_too():
    t = torch.arange(64, dtype=torch.float32)
    flicker = torch.cos(2 * torch.pi * 0.37 * t)[None, :, None, None].expand(1, 64, 4, 4)
    shrunk = resize(flicker, (16, 4, 4))
    assert shrunk[:, 2:-2].abs().max() < 0.05
    assert resize(flicker, (16, 4, 4), antialias=False).abs().max() > 0.5


def test_upsampling_interpolates_smoothly():
    ramp = torch.linspace(0, 1, 10)[None, None, None, :].expand(1, 1, 1, 10)
    up = resize(ramp, (1, 1, 19))
    inner = up[0, 0, 0, 2:-2]
    assert torch.all(inner[1:] > inner[:-1])  # monotone, no ringing on a ramp


def test_resize_frames_and_fit_size():
    frames = np.random.default_rng(0).integers(0, 256, (3, 30, 40, 3), dtype=np.uint8)
    small = resize_frames(frames, 15, 20, chunk=2)
    assert small.shape == (3, 15, 20, 3) and small.dtype == np.uint8
    assert fit_size(720, 1280, 256) == (144, 256)
    assert fit_size(1280, 720, 256) == (256, 144)
    assert fit_size(100, 50, None) == (100, 50)
    assert fit_size(100, 50, 500) == (100, 50)


RESIZE_BYTES = """
import sys, hashlib, torch
torch.set_num_threads(int(sys.argv[1]))
from patchvid.synthesis.resize import resize
v = torch.randn(3, 13, 144, 256, generator=torch.Generator().manual_seed(0))
out = [resize(v, s) for s in [(11, 122, 218), (9, 104, 185), (13, 72, 128), (7, 60, 100)]]
print(hashlib.md5(b"".join(o.numpy().tobytes() for o in out)).hexdigest())
"""


def test_a_resize_has_the_same_bytes_on_one_thread_and_on_two():
    """MKL's products round differently with other thread counts (these sizes differed before); a
    pyramid, and so every sample, must not depend on them."""
    import subprocess
    import sys

    runs = [subprocess.run([sys.executable, "-c", RESIZE_BYTES, str(n)], capture_output=True, text=True, timeout=120)
            for n in (1, 2)]
    assert all(r.returncode == 0 for r in runs), [r.stderr for r in runs]
    assert runs[0].stdout == runs[1].stdout
