"""Which of the reference code's differences from patchvid buys diversity? Each one switched on alone
(issue 19), against the published VGPNN samples of ``../shared/data/vgpnn_samples``.

Settings (noise 4 unless said): the default; noise 5; PatchMatch at every level; a random restart
of the nearest-neighbour field at each level (the engine's upsampled coarser field replaced by none,
so PatchMatch starts at random); both; Gaussian noise replicated over time (the paper's text; the
reference code draws it per voxel); the noise scaled by the clip's coarsest patch spread. With
``--generate-size`` the default is also generated at a larger size and shrunk before scoring.

Measures (``benchmarks/published.py``'s loading): diversity over K samples, coherence and
completeness at half resolution (``--count`` probes), temporal ratio. Samples go through an mp4
round trip, all rows alike.

    python benchmarks/diversity_causes.py --size 96 --samples 4 --clips air_baloons_hpvaegan_12345678912 birds32_80
    python benchmarks/diversity_causes.py --clips birds32_80 --settings default --generate-size 256
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

import common
import numpy as np
import published
import torch

import patchvid
from patchvid.evaluation import metrics
from patchvid.synthesis import engine
from patchvid.synthesis.problem import solve
from patchvid.synthesis.resize import resize_frames
from patchvid.tasks.generate import prepare_generate

SETTINGS = {
    "default": {},
    "noise 5": {"noise": 5.0},
    "patchmatch": {"search": "patchmatch"},
    "restart": {"restart": True},
    "patchmatch+restart": {"search": "patchmatch", "restart": True},
    "noise over time": {"over_time": True},
    "adaptive": {"noise_mode": "adaptive"},
}


def make(clip: np.ndarray, frames: int, seed: int, noise: float = 4.0, search: str = "auto", restart: bool = False,
         over_time: bool = False, noise_mode: str = "fixed") -> np.ndarray:
    """One sample of ``frames`` frames with one difference switched on."""
    settings = patchvid.GenerateSettings().replace(scale=(frames / clip.shape[0], 1.0, 1.0), noise=noise,
                                                   search=search, adaptive_noise=noise_mode == "adaptive")
    problem = prepare_generate(clip, settings)
    if over_time:  # one noise image for every frame of the coarsest level
        c, t, h, w = problem.initial.shape
        n = torch.randn((c, 1, h, w), generator=torch.Generator().manual_seed(seed)) * problem.noise
        problem = dataclasses.replace(problem, initial=problem.initial + n.expand(c, t, h, w), noise=0.0)
    upsample = engine.upsample_nnf
    if restart:  # scratch switch, not an engine setting: no starting field at any finer level
        engine.upsample_nnf = lambda *a, **k: None
    try:
        return solve(problem, seed)[:frames]
    finally:
        engine.upsample_nnf = upsample


def light_score(samples: list[np.ndarray], clip: np.ndarray, count: int) -> dict:
    step = float(np.median(published.steps(clip)))
    return {
        "diversity": metrics.diversity(samples, clip),
        "coherence_half": float(np.mean([metrics.coherence(s, clip, scale=0.5, count=count) for s in samples])),
        "completeness_half": float(np.mean([metrics.completeness(s, clip, scale=0.5, count=count)
                                            for s in samples])),
        "temporal": float(np.mean([np.median(published.steps(s)) / step for s in samples])),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--count", type=int, default=256)
    parser.add_argument("--clips", nargs="*", default=published.CLIPS[:2])
    parser.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--generate-size", type=int, help="also generate the default at this size, then shrink")
    args = parser.parse_args()
    print(common.machine_line())
    for name in args.clips:
        try:
            clip, samples, fps = published.load(name, args.size)
        except common.MissingFootage as e:
            print(f"skipped {name}: {e}", file=sys.stderr)
            continue
        frames = samples[0].shape[0]
        print(f"\n{name}: input {common.shape_text(clip.shape[:3])}, K = {args.samples}\n")
        common.print_header("setting", "diversity", "coherence ½", "completeness ½", "temporal ratio", "s/sample")
        rows = {"published": (samples[: args.samples], None)}
        for label in args.settings:
            with common.Stopwatch() as watch:
                made = [published.mp4_round_trip(make(clip, frames, seed, **SETTINGS[label]), fps)
                        for seed in range(args.samples)]
            rows[label] = (made, watch.seconds / args.samples)
        if args.generate_size:
            big = published.load(name, args.generate_size)[0]
            with common.Stopwatch() as watch:
                made = [published.mp4_round_trip(resize_frames(make(big, frames, seed), *clip.shape[1:3]), fps)
                        for seed in range(args.samples)]
            rows[f"default at {args.generate_size}, shrunk"] = (made, watch.seconds / args.samples)
        for label, (made, seconds) in rows.items():
            r = light_score(made, clip, args.count)
            print(f"| {label} | {r['diversity']:.3f} | {r['coherence_half']:.2f} | {r['completeness_half']:.2f} | "
                  f"{r['temporal']:.2f} | {'–' if seconds is None else f'{seconds:.1f}'} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
