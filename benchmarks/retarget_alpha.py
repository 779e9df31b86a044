"""Retargeting's completeness weight: coherence and completeness of retargeted clips for several alphas.

Three real clips (ballet, birds, waterfall; first 8 frames at 54x96) are made narrower (60 px) and
wider (144 px) with each alpha; the table gives the mean over the six outputs of coherence (output
patches' distance to the input's, grey levels: artefacts) and completeness (input patches' distance
to the output's: what went missing), both from ``patchvid.metrics``, and the seconds per output.

    python benchmarks/retarget_alpha.py
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import numpy as np
import torch

import patchvid
from patchvid.metrics import coherence, completeness
from patchvid.resize import resize_frames
from patchvid.retarget import retarget

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "videos"
CLIPS = ["ballet_640x360.mp4", "birds_640x360.mp4", "waterfall_456x256.mp4"]
ALPHAS = [None, 0.005, 0.05, 0.5, 5.0]
WIDTHS = (60, 144)


def main() -> None:
    print(f"machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}")
    clips = [resize_frames(patchvid.read_video(str(DATA / name), end=8).frames, 54, 96) for name in CLIPS]
    print("| alpha | coherence | completeness | seconds per output |")
    print("| --- | --- | --- | --- |")
    for alpha in ALPHAS:
        rows = []
        for clip in clips:
            for width in WIDTHS:
                started = time.perf_counter()
                out = retarget(clip, (None, None, width), alpha=alpha)
                seconds = time.perf_counter() - started
                rows.append((coherence(out, clip), completeness(out, clip), seconds))
        coh, comp, sec = np.mean(rows, axis=0)
        print(f"| {'off' if alpha is None else alpha} | {coh:.2f} | {comp:.2f} | {sec:.1f} |", flush=True)


if __name__ == "__main__":
    main()
