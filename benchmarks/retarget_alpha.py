"""Retargeting's completeness weight: coherence and completeness of retargeted clips for several alphas.

Three real clips (ballet, birds, waterfall; first 8 frames at 54x96) are made narrower (60 px) and
wider (144 px) with each alpha; the table gives the mean over the six outputs of coherence (output
patches' distance to the input's, grey levels: artefacts) and completeness (input patches' distance
to the output's: what went missing), both from ``patchvid.evaluation.metrics``, and the seconds per
output.

    python benchmarks/retarget_alpha.py
"""

from __future__ import annotations

import argparse
import sys

import common
import numpy as np

from patchvid.evaluation.metrics import coherence, completeness
from patchvid.tasks.retarget import retarget

CLIPS = ["ballet", "birds", "waterfall"]
ALPHAS = [None, 0.005, 0.05, 0.5, 5.0]
WIDTHS = (60, 144)


def main() -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    if common.skip_without_footage():
        return 0
    print(common.machine_line())
    clips = [common.load_clip(name, 8, (54, 96)) for name in CLIPS]
    common.print_header("alpha", "coherence", "completeness", "seconds per output")
    for alpha in ALPHAS:
        rows = []
        for clip in clips:
            for width in WIDTHS:
                with common.Stopwatch() as watch:
                    out = retarget(clip, (None, None, width), alpha=alpha)
                rows.append((coherence(out, clip), completeness(out, clip), watch.seconds))
        coh, comp, sec = np.mean(rows, axis=0)
        print(f"| {'off' if alpha is None else alpha} | {coh:.2f} | {comp:.2f} | {sec:.1f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
