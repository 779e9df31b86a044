"""Time and precision of the nearest-patch measures (coherence and completeness, full and half
resolution), the way ``patchvid evaluate`` takes them now and the way it took them before.

    python benchmarks/metrics_speed.py --runs 5 --one-thread     # about 25 minutes

* before: 2048 patches at random corners, each searched against every patch of the other clip
  (``metrics.exhaustive_nearest_distances``, ExactSearch's matrix products) at both scales;
* now: stratified probes (``scores.PROBES`` per scale, one at a random place in each even cell of
  the clip's space-time) searched by branch and bound (``metrics.nearest_distances``: exact) and
  reported with a 95 % confidence interval.

Footage: ballet (``../shared/data``), 13 frames at 144x256, against two samples: one made by
``patchvid.generate`` (seed 0, the defaults) and the clip played backwards. Each run times both
paths alternately, measure by measure, in this one process, so that a change of load on the shared
machine hits both; the tables give medians. ``score()``, every default measure of ``patchvid
evaluate`` on ``--score-samples`` generated samples (seeds 0, 1, ...: the input's prepared search is
shared by their coherence, as ``patchvid evaluate`` does), is timed the same way with the old path
put in its place.
``--one-thread`` adds the exhaustive search on one thread as a control (the new search always runs
on one thread).

Precision is the measure's own noise: its standard deviation over ``--seeds`` probe seeds. The exact
nearest distance of every patch is computed once (branch and bound, every query patch), and each
design's value for a seed is the mean over the probes that seed picks, which is what the measure
computes (checked against it for seed 0); the table also gives how often the reported 95 % interval
covers the mean over every patch, and how far the exhaustive search's value is from the exact one
on the same probes (it sometimes picks a farther patch). Prints Markdown.
"""

from __future__ import annotations

import argparse
import statistics
import sys

import common
import numpy as np
import torch

import patchvid
from patchvid.evaluation import metrics, scores
from patchvid.synthesis.patches import patch_grid, unfold

OLD_COUNT = 2048  # the probes coherence and completeness used before
MEASURES = [(name, scale) for scale in (1.0, 0.5) for name in ("coherence", "completeness")]


def old_measure(name: str, sample: np.ndarray, clip: np.ndarray, scale: float, seed: int = 0,
                exhaustive: bool = True) -> float:
    """The measure as it was computed before: ``OLD_COUNT`` random patches, exhaustive search."""
    query, key = (sample, clip) if name == "coherence" else (clip, sample)
    q, k = metrics._video(query, scale), metrics._video(key, scale)
    p = metrics.fit_patch(metrics.DEFAULT_PATCH, q.shape[1:], k.shape[1:])
    rows = metrics.sample_patches(q, p, OLD_COUNT, seed)
    search = metrics.exhaustive_nearest_distances if exhaustive else metrics.nearest_distances
    return float(metrics._rms_levels(search(rows, k, p), rows.shape[1]).mean())


def new_measure(name: str, sample: np.ndarray, clip: np.ndarray, scale: float, seed: int = 0) -> metrics.Estimate:
    """The measure as ``patchvid evaluate`` takes it now."""
    measure = metrics.coherence_estimate if name == "coherence" else metrics.completeness_estimate
    return measure(sample, clip, scale=scale, count=scores.PROBES[scale], seed=seed)


def every_patch(name: str, sample: np.ndarray, clip: np.ndarray, scale: float) -> tuple[np.ndarray, int]:
    """The exact RMS distance (grey levels) of every patch of the measure's query clip to the other
    clip, ``(T', H', W')`` over its patch grid, and the number of probes the measure takes now."""
    query, key = (sample, clip) if name == "coherence" else (clip, sample)
    q, k = metrics._video(query, scale), metrics._video(key, scale)
    p = metrics.fit_patch(metrics.DEFAULT_PATCH, q.shape[1:], k.shape[1:])
    rows = unfold(q, p)
    found = torch.cat([metrics.nearest_distances(part, k, p) for part in rows.split(4096)])
    field = metrics._rms_levels(found, rows.shape[1]).reshape(patch_grid(q.shape[1:], p))
    return field, scores.PROBES[scale]


def one_thread(fn, *args, **kwargs):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn(*args, **kwargs)
    finally:
        torch.set_num_threads(threads)


def label(name: str, scale: float) -> str:
    return name + ("" if scale == 1.0 else ", half resolution")


def timed(fn, *args, **kwargs):
    with common.Stopwatch() as watch:
        result = fn(*args, **kwargs)
    return watch.seconds, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each path (medians reported)")
    parser.add_argument("--seeds", type=int, default=400, help="probe seeds for the precision")
    parser.add_argument("--score-runs", type=int, default=None, help="runs of score() (default: --runs)")
    parser.add_argument("--score-samples", type=int, default=4, help="samples scored together by score()")
    parser.add_argument("--one-thread", action="store_true", help="also time the exhaustive search on one thread")
    args = parser.parse_args()
    try:
        clip = common.load_clip("ballet", 13, (144, 256))
    except common.MissingFootage as e:
        print(f"needs the ballet clip: {e}", file=sys.stderr)
        return 1
    print(common.machine_line())
    samples = {"generated (patchvid.generate, seed 0)": patchvid.generate(clip, seed=0),
               "the clip backwards": clip[::-1].copy()}
    print(f"\nballet 13x144x256; before: {OLD_COUNT} random probes, exhaustive search; now: stratified probes "
          f"({', '.join(f'{n} at scale {s:g}' for s, n in scores.PROBES.items())}), branch and bound; "
          f"medians of {args.runs} alternating runs\n")
    paths = ["before", "now"] + (["before, 1 thread"] if args.one_thread else [])
    for title, sample in samples.items():
        times: dict[tuple, dict[str, list[float]]] = {m: {p: [] for p in paths} for m in MEASURES}
        values: dict[tuple, dict[str, object]] = {m: {} for m in MEASURES}
        for _ in range(args.runs):
            for m in MEASURES:
                t, values[m]["before"] = timed(old_measure, *m[:1], sample, clip, m[1])
                times[m]["before"].append(t)
                t, values[m]["now"] = timed(new_measure, *m[:1], sample, clip, m[1])
                times[m]["now"].append(t)
                if args.one_thread:
                    t, _ = timed(one_thread, old_measure, *m[:1], sample, clip, m[1])
                    times[m]["before, 1 thread"].append(t)
        print(f"### {title}\n")
        heads = [f"{p} s" for p in paths]
        common.print_header("measure", *heads, "speedup", "before", "now (± 95 % CI)", "runs before / now s")
        total = {p: 0.0 for p in paths}
        for m in MEASURES:
            med = {p: statistics.median(times[m][p]) for p in paths}
            for p in paths:
                total[p] += med[p]
            now = values[m]["now"]
            runs = ", ".join(f"{t:.2f}" for t in times[m]["before"]) + " / " + ", ".join(
                f"{t:.2f}" for t in times[m]["now"])
            print(f"| {label(*m)} | " + " | ".join(f"{med[p]:.2f}" for p in paths)
                  + f" | {med['before'] / med['now']:.1f}x | {values[m]['before']:.4f} | {now.value:.4f} ± {now.ci:.4f}"
                  f" | {runs} |")
        print("| **all four** | " + " | ".join(f"**{total[p]:.2f}**" for p in paths)
              + f" | **{total['before'] / total['now']:.1f}x** | | | |\n")

        # precision: the spread over probe seeds of each design, from every patch's exact nearest distance
        common.print_header("measure", f"before: std over {args.seeds} seeds", "now: std", "now / before",
                            "now: mean reported CI / 1.96", "CI covers the mean", "mean over every patch",
                            "probes now", "seed 0 before: exhaustive - exact")
        for m in MEASURES:
            field, probes = every_patch(m[0], sample, clip, m[1])
            flat = field.reshape(-1)
            old = [flat[metrics.probe_corners(field.shape, OLD_COUNT, seed, "random").corners].mean()
                   for seed in range(args.seeds)]
            new = [metrics.estimate(flat[p.corners], p)
                   for p in (metrics.probe_corners(field.shape, probes, seed) for seed in range(args.seeds))]
            truth = float(field.mean())
            if abs(new[0].value - values[m]["now"].value) > 1e-5 * max(1.0, truth):  # the same, to rounding
                print(f"warning: {label(*m)}: {new[0].value} from the field, {values[m]['now'].value} measured",
                      file=sys.stderr)
            sd_old, sd_new = np.std(old, ddof=1), np.std([e.value for e in new], ddof=1)
            covered = np.mean([abs(e.value - truth) <= e.ci for e in new])
            # the same probes, both searches: the exhaustive |q|^2 + |k|^2 - 2qk sometimes picks a farther patch
            print(f"| {label(*m)} | {sd_old:.4f} | {sd_new:.4f} | {sd_new / sd_old:.2f} | "
                  f"{np.mean([e.ci for e in new]) / metrics.Z95:.4f} | {100 * covered:.0f} % | {truth:.4f} | "
                  f"{new[0].probes} | {values[m]['before'] - old[0]:+.4f} |")
        print()

    # the whole scoring of a set of samples (every default measure), with the old path put in the new one's place
    scored = [samples["generated (patchvid.generate, seed 0)"]] + [
        patchvid.generate(clip, seed=seed) for seed in range(1, args.score_samples)]
    original = (metrics.coherence_estimate, metrics.completeness_estimate)

    def old_estimate(name):
        def estimate(sample, reference, scale=1.0, count=None, seed=0, **_):
            return metrics.Estimate(old_measure(name, sample, reference, scale, seed), 0.0, OLD_COUNT, "random")
        return estimate

    metrics.feature_statistics(clip[:2])  # load the feature network before the clock starts
    whole = {"before": [], "now": []}
    for _ in range(args.score_runs or args.runs):
        for path in ("before", "now"):
            if path == "before":
                metrics.coherence_estimate, metrics.completeness_estimate = (old_estimate("coherence"),
                                                                             old_estimate("completeness"))
            try:
                t, _ = timed(scores.score, scored, clip)
            finally:
                metrics.coherence_estimate, metrics.completeness_estimate = original
            whole[path].append(t)
    print(f"### score(): every default measure of `patchvid evaluate` on {len(scored)} generated samples\n")
    common.print_header("path", "median s", "median s per sample", "runs s")
    for path, ts in whole.items():
        print(f"| {path} | {statistics.median(ts):.2f} | {statistics.median(ts) / len(scored):.2f} | "
              f"{', '.join(f'{t:.2f}' for t in ts)} |")
    print(f"\n{statistics.median(whole['before']) / statistics.median(whole['now']):.1f}x end to end")
    return 0


if __name__ == "__main__":
    sys.exit(main())
