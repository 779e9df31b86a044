"""``patchvid evaluate``: measure generated samples against their input (or generate and measure).

The JSON record holds the scores per sample (coherence and completeness with ``_ci``, the half-width of
their 95 % confidence intervals), their ``mean`` and ``std`` over the samples, the ``versions`` of what
computed them and the ``hashes`` of the input and samples (:func:`digests`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..evaluation.settings import DEFAULT_MEASURES, MEASURES
from .options import (
    SEED_RANGE,
    add_input_arguments,
    add_method_arguments,
    add_output_arguments,
    add_scale_argument,
    command_parser,
    samples_count,
    seed_value,
    settings_from,
)


def measure_list(text: str) -> tuple[str, ...]:
    """``coherence,swd`` -> the named measures; ``all`` -> every measure."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if names == ("all",):
        return MEASURES
    unknown = [n for n in names if n not in MEASURES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"unknown measure {', '.join(unknown) or text!r}; use {', '.join(MEASURES)}")
    return names


def register(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "evaluate",
        "measure samples against their input (coherence, diversity, SIFID, ...)",
        "Score K samples (videos or images) made from INPUT: nearest-patch coherence and "
        "completeness (estimated from evenly spread probe patches, each with its 95 % confidence "
        "interval), sliced Wasserstein distance of patch distributions, NNFDIV, SIFID-style "
        "deep-feature distance, and the diversity of the set; with several samples, their mean and "
        "standard deviation. The JSON record also names the versions of patchvid, torch and NumPy "
        "and the sha256 of every input. With --generate, make the samples first (with the options "
        "of 'patchvid generate') and also report time and peak memory.",
        "  patchvid evaluate clip.mp4 out_000.mp4 out_001.mp4 --report scores.json\n"
        "  patchvid evaluate --generate clip.mp4 --samples 4 --max-size 128 --end 13f --noise 3\n"
        "  patchvid evaluate loop_in.mp4 loop.mp4 --loop\n\n"
        "measures (--measures): coherence, completeness (full and half resolution), swd, nnfdiv,\n"
        "features (SIFID; needs pip install 'patchvid[eval]'), diversity (2+ samples of one size),\n"
        "seam (with --loop), cost (with --generate). Measures that do not apply to the given\n"
        "samples are left out with the reason unless asked for by name.",
    )
    p.add_argument("input", help="the input: video, GIF, folder of numbered frames, or image")
    p.add_argument("sample", nargs="*", help="generated samples (videos, GIFs, folders or images)")
    add_input_arguments(p)
    e = p.add_argument_group("evaluation")
    e.add_argument("--measures", type=measure_list, metavar="LIST",
                   help=f"comma-separated measures to take (default: {','.join(DEFAULT_MEASURES)}, what applies)")
    e.add_argument("--loop", action="store_true", help="the samples are loops: also report the seam ratio")
    add_output_arguments(p, output=False)
    g = p.add_argument_group("generation (with --generate)")
    g.add_argument("--generate", action="store_true", help="make the samples from INPUT here, timing each")
    g.add_argument("--samples", type=samples_count, metavar="K",
                   help=f"how many samples to make, {samples_count.range} (default 2)")
    g.add_argument("--seed", type=seed_value, default=0,
                   help=f"seed of the first sample; sample i uses SEED + i, {SEED_RANGE} (default 0)")
    g.add_argument("--save", metavar="OUTPUT", help="also write the samples (OUTPUT gets _000, _001, ... or a pattern)")
    add_scale_argument(g)
    add_method_arguments(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..evaluation.features import weights_path
    from ..evaluation.scores import DEFINITIONS, score, table
    from .runner import Run, fail, numbered_outputs

    required = set(args.measures or ())
    wanted = set(args.measures or DEFAULT_MEASURES)
    if args.measures is None:
        wanted |= {"seam"} if args.loop else set()
        wanted |= {"cost"} if args.generate else set()
    settings = settings_from(args) if args.generate else None
    if args.generate:
        if args.sample:
            fail("give SAMPLE files or --generate, not both")
        count = args.samples or 2
    else:
        if not args.sample:
            fail("give at least one SAMPLE to measure (or --generate --samples K)")
        for flag, given in (("--samples", args.samples), ("--save", args.save)):
            if given is not None:
                fail(f"{flag} needs --generate")
        if "cost" in required:
            fail("the cost measure (time, memory) needs --generate")
        count = len(args.sample)
    if "diversity" in required and count < 2:
        fail(f"diversity needs at least 2 samples, got {count}")
    if "features" in required:
        weights_path()  # fails now, with the install command, rather than after the other measures
    saves = numbered_outputs(args.save, count) if args.save else []
    run = Run(args, "evaluate", [args.input, *args.sample], saves, records=False)
    video = run.read(args.input)
    records: list[dict] = [{} for _ in range(count)]
    if args.generate:
        samples = _generate(run, args, settings, video, "cost" in wanted, records)
    else:
        samples = [_read_sample(run, path, i, video, records[i]) for i, path in enumerate(args.sample)]
    progress = run.progress
    what = f"measuring {len(samples)} sample{'s' if len(samples) > 1 else ''}"
    with progress.bar(1.0, what) as bar:  # score reports fractions of its estimated work
        scores = score(samples, video.frames, wanted, required, records, progress, on_step=bar.advance)
    run.say(table(args.input, video.frames, samples, scores), quiet_too=True)
    run.finish(
        {"measures": sorted(wanted), "loop": args.loop, "generate": args.generate},
        settings,
        samples=scores.samples,
        mean=scores.mean(),
        std=scores.std(),
        diversity=scores.diversity,
        skipped=scores.skipped,
        definitions=DEFINITIONS | {"hashes": HASHES},
        versions=versions(),
        hashes={"input": digests(args.input, video.frames),
                "samples": [digests(r.get("path"), frames) for r, frames in zip(records, samples)]},
    )
    if args.report:
        run.progress(f"wrote {args.report}")
    return 0


HASHES = ("sha256: of the file (of a folder: of its files' names and sha256s, in name order; null for "
          "standard input or a sample made here and not saved); frames_sha256: of the frames as measured, "
          "(T, H, W, 3) uint8 in C order, after --start, --end and --max-size")


def versions() -> dict[str, str]:
    """The versions of what computed the scores: patchvid, torch and NumPy."""
    import numpy
    import torch

    from .. import __version__

    return {"patchvid": __version__, "torch": torch.__version__, "numpy": numpy.__version__}


def digests(path: str | None, frames) -> dict:
    """``{"path", "sha256", "frames_sha256"}`` of an input or sample (see :data:`HASHES`)."""
    import hashlib

    import numpy as np

    frames_hash = hashlib.sha256(np.ascontiguousarray(frames).tobytes()).hexdigest()
    file_hash = None
    if path is not None and path != "-":
        target = Path(path)
        if target.is_dir():
            listing = hashlib.sha256()
            for entry in sorted(p for p in target.iterdir() if p.is_file()):
                listing.update(entry.name.encode() + b"\0" + bytes.fromhex(file_sha256(entry)))
            file_hash = listing.hexdigest()
        elif target.is_file():
            file_hash = file_sha256(target)
    return {"path": None if path is None else str(path), "sha256": file_hash, "frames_sha256": frames_hash}


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, read a MiB at a time."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(2**20):
            digest.update(block)
    return digest.hexdigest()


def _read_sample(run, path: str, i: int, video, record: dict):
    """A sample file's frames, with notes on what makes its scores less exact."""
    from ..evaluation.scores import describe
    from ..media import GIF_EXT, VIDEO_EXTS, read_video

    clip = read_video(path)
    for note in clip.notes:
        run.progress(f"note: {path}: {note}")
    if Path(path).suffix.lower() in VIDEO_EXTS | {GIF_EXT}:
        # measured: H.264 alone costs the 64x36 input 9 grey levels of coherence
        run.progress(f"note: {path} is stored lossily: the codec's error adds to the patch distances "
                     "(measure PNG frames, or use --generate, for exact numbers)")
    if clip.frames.shape[1:3] != video.frames.shape[1:3]:
        run.progress(f"note: sample {i + 1} is {describe(clip.frames)}, the input {describe(video.frames)}: patches "
                     "are compared at different scales (give --max-size to match a shrunk input)")
    record["path"] = str(path)
    return clip.frames


def _generate(run, args, settings, video, timed: bool, records: list[dict]) -> list:
    """Make the samples to score, each timed, and save them if asked."""
    from ..evaluation.resources import ResourceMeter
    from ..tasks.generate import prepare_generate

    problem = prepare_generate(video.frames, settings)
    run.check(problem)
    samples = []
    for i, record in enumerate(records):
        seed = args.seed + i
        with ResourceMeter(cuda=problem.plan.device.type == "cuda") as use:
            frames = run.solve(problem, seed)
        frames = frames if frames.ndim == 4 else frames[None]
        samples.append(frames)
        record["seed"] = seed
        if timed:
            record["seconds"] = use.seconds
            if use.peak_rss_bytes is not None:
                record["peak_rss_mib"] = use.peak_rss_bytes / 2**20
                record["added_rss_mib"] = (use.peak_rss_bytes - (use.start_rss_bytes or 0)) / 2**20
            if use.cuda_peak_bytes is not None:
                record["cuda_peak_mib"] = use.cuda_peak_bytes / 2**20
        run.progress(f"sample {i + 1}/{len(records)} (seed {seed}): {use.seconds:.2f}s")
        if run.outputs:
            run.write(run.outputs[i], frames, like=video)
            record["path"] = str(run.outputs[i])
    return samples
