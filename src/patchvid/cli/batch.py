"""``patchvid batch``: many inputs, many variations, in worker processes or on a Ray cluster.

A batch is a list of jobs, one per output: ``patchvid TASK INPUT -o OUTPUT --seed SEED [options]``,
each run by the same command line as when typed (:func:`run_job`), so that every output has its usual
JSON record and is written atomically. What a batch adds:

1. inputs from files, globs, folders and manifests (:func:`read_inputs`);
2. output names from a template (:func:`output_name`), checked for collisions before any work;
3. resumption: an output that exists with a valid record is skipped (:func:`is_done`);
4. worker processes (:mod:`patchvid.parallel`: spawned, threads shared out) or Ray tasks
   (:mod:`patchvid.cli.cluster`);
5. one report of every output (CSV or JSON Lines), rewritten after each job, and an exit status that
   counts the failures. A failed input is reported and the batch goes on; an interrupted batch keeps
   what it finished, and the same command again makes only what is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import glob
import io
import json
import os
import shlex
import signal
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ..errors import InputError
from .options import command_parser, samples_count, seed_value, whole_in

TASKS = ("generate", "extend", "retarget", "inpaint", "loop", "texture", "cinemagraph")
SEEDLESS = ("loop", "cinemagraph")
LABELLED = ("generate", "retarget")  # the tasks that take --labels  # tasks whose output has no random choice
MANIFEST_EXTS = {".csv", ".jsonl", ".json"}
DEFAULT_TEMPLATE = "{stem}_{seed:03d}{ext}"
SEEDLESS_TEMPLATE = "{stem}_{task}{ext}"
# options a batch sets itself on each job (or that would break one record per output)
OWN_OPTIONS = ("-o", "--output", "--seed", "--samples", "--demo", "-y", "--overwrite", "--report", "--json", "-q",
               "--quiet")
MAX_JOBS = 1024
RETRIES = 3  # new attempts at a job whose worker process died
MAX_EXIT = 125  # exit statuses above are the shell's (126: not executable, 128+N: killed by signal N)


jobs = whole_in(1, MAX_JOBS)  # --jobs, --ray-workers


def register(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub,
        "batch",
        "run a task over many inputs and seeds (worker processes, or a Ray cluster)",
        "Run TASK (generate unless --task says) on every INPUT: files, globs, folders of videos and images, "
        "or manifests (.csv or .jsonl rows: input, and optionally samples, seeds, task, options, labels). "
        "Any option of the task may be given too (--max-size 128, --noise 2, ...) and applies to every job. "
        "Outputs that already exist with a valid record are skipped, so an interrupted batch run again "
        "makes only what is missing. The exit status is the number of failed outputs (0: all made).",
        "  patchvid batch videos/*.mp4 -o variations --samples 8 --jobs 2 --max-size 256\n"
        "  patchvid batch clips/ -o out --task retarget --size 320x180\n"
        "  patchvid batch manifest.csv -o out --name '{stem}/{seed:04d}.mp4'\n"
        "  patchvid batch clip.mp4 -o out --samples 100 --labels masks.mp4   # labels that follow the pixels\n"
        "  patchvid batch videos/ -o out --samples 50 --ray auto             # on a running Ray cluster",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="media file, glob, folder of media files, or manifest")
    o = p.add_argument_group("output")  # the task's encoding options pass through to every job
    o.add_argument("-o", "--output", required=True, metavar="FOLDER", help="the folder the outputs go in")
    o.add_argument("-y", "--overwrite", action="store_true", help="replace outputs that exist without a record")
    o.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    o.add_argument("--report", metavar="FILE", help="the batch report, .csv or .jsonl (default FOLDER/batch.csv)")
    g = p.add_argument_group("batch")
    g.add_argument("--task", choices=TASKS, default="generate", help="what each job does (default generate)")
    g.add_argument("--samples", type=samples_count, default=1, metavar="N",
                   help="outputs per input, seeds SEED, SEED+1, ... (default 1; a manifest row may say otherwise)")
    g.add_argument("--seed", type=seed_value, default=0, help="the first seed of each input (default 0)")
    g.add_argument("--name", default=None, metavar="TEMPLATE",
                   help=f"output names in the folder: fields {{stem}} {{seed}} {{index}} {{task}} {{ext}} (.mp4, "
                   f".png for an image input); default {DEFAULT_TEMPLATE} ({SEEDLESS_TEMPLATE} for "
                   f"{' and '.join(SEEDLESS)})")
    g.add_argument("--labels", metavar="PATH",
                   help="a label video or image per input (generate, retarget): a path, or a template such as "
                   "'masks/{stem}.png'; each output gets its label video beside it")
    g.add_argument("--jobs", type=jobs, default=1, metavar="J",
                   help="worker processes (default 1); each gets an equal share of the cores")
    g.add_argument("--skip-existing", action=argparse.BooleanOptionalAction, default=True,
                   help="skip outputs that exist with a valid record (the default), so that the same command "
                   "again makes only what is missing; --no-skip-existing makes and replaces every output")
    g.add_argument("--ray", nargs="?", const="", default=None, metavar="ADDRESS",
                   help="run the jobs as Ray tasks: on the cluster at ADDRESS ('auto': the one this machine "
                   "joined), or on a new local Ray instance when no address is given (pip install 'patchvid[ray]')")
    g.add_argument("--shared-folder", action="store_true",
                   help="with --ray: every node sees the inputs and the output folder at the same paths, so "
                   "workers read and write them directly instead of through Ray's object store")
    g.add_argument("--ray-workers", type=jobs, default=None, metavar="N",
                   help="with --ray and no address: the local instance's CPUs (default: this machine's)")
    p.set_defaults(handler=run, passes_options=True)


# ----------------------------------------------------------------------------------- the command line


def split_options(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """A ``batch`` command line split into its own arguments and the task's options, so that an
    option of the task and its value (``--max-size 128``) are not taken for inputs. The task is the
    one ``--task`` names (generate by default); the task's options are those its parser knows and the
    batch's does not."""
    from . import build_parser

    own = _options(_subparser(build_parser(), "batch"))
    task = "generate"
    for i, token in enumerate(argv):
        if token == "--task" and i + 1 < len(argv):
            task = argv[i + 1]
        elif token.startswith("--task="):
            task = token.split("=", 1)[1]
    if task not in TASKS:
        return list(argv), []  # the batch's parser says what is wrong with it
    theirs = _options(_subparser(build_parser(), task))
    mine: list[str] = []
    passed: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        name = token.split("=", 1)[0]
        if token == "--":
            mine += argv[i:]
            break
        if name in theirs and name not in own:
            count = 0 if "=" in token else theirs[name]
            passed += argv[i : i + 1 + count]
            i += 1 + count
            continue
        mine.append(token)
        i += 1
    return mine, passed


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:  # argparse lists its sub-commands only here
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[name]
    raise KeyError(name)


def _options(parser: argparse.ArgumentParser) -> dict[str, int]:
    """Every option string of ``parser`` and how many values follow it."""
    counts: dict[str, int] = {}
    for action in parser._actions:
        values = 0 if action.nargs == 0 else action.nargs if isinstance(action.nargs, int) else 1
        for option in action.option_strings:
            counts[option] = values
    return counts


# ----------------------------------------------------------------------------------- inputs and jobs


@dataclasses.dataclass(frozen=True)
class Entry:
    """One input of a batch: a path and what to make of it (a manifest row, or the command line's)."""

    input: str
    seeds: tuple[int, ...] | None = None  # None: --seed, --seed + 1, ... for samples
    samples: int | None = None
    task: str | None = None
    options: tuple[str, ...] = ()
    labels: str | None = None


@dataclasses.dataclass(frozen=True)
class Job:
    """One output of a batch and the command line that makes it."""

    index: int  # the input's position in the batch
    input: str
    task: str
    seed: int | None
    output: str
    options: tuple[str, ...]
    labels: str | None = None

    def argv(self, input: str | None = None, output: str | None = None, labels: str | None = None,
             overwrite: bool = False) -> list[str]:
        """``patchvid``'s arguments for this job (with other paths for the input, output and labels,
        where a worker has them elsewhere)."""
        argv = [self.task, input or self.input, "-o", output or self.output, "-q"]
        argv += ["--seed", str(self.seed)] if self.seed is not None else []
        argv += ["--labels", labels or self.labels] if self.labels else []
        return argv + (["-y"] if overwrite else []) + list(self.options)

    def command(self) -> str:
        return shlex.join(["patchvid", *self.argv()])


def read_inputs(items: Sequence[str]) -> list[Entry]:
    """The inputs that ``items`` name: media files as they are; globs (quoted, so the shell left them)
    expanded, sorted; folders: the media files in them, sorted (not their subfolders: to use a folder
    of numbered frames as one clip, name it in a manifest); manifests: their rows."""
    from ..media import GIF_EXT, IMAGE_EXTS, VIDEO_EXTS

    entries: list[Entry] = []
    for item in items:
        path = Path(item)
        if path.suffix.lower() in MANIFEST_EXTS and path.is_file():
            entries += read_manifest(path)
        elif path.is_dir():
            media = VIDEO_EXTS | IMAGE_EXTS | {GIF_EXT}
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in media)
            if not found:
                raise InputError(f"the folder {item} holds no video or image files")
            entries += [Entry(str(p)) for p in found]
        elif path.exists():
            entries.append(Entry(item))
        elif glob.has_magic(item):
            found = sorted(p for p in glob.glob(item) if Path(p).is_file())
            if not found:
                raise InputError(f"no file matches {item}")
            entries += [Entry(p) for p in found]
        else:
            raise InputError(f"{item} does not exist")
    return entries


def read_manifest(path: Path) -> list[Entry]:
    """The rows of a CSV (with a header row) or JSON Lines manifest (a ``.json`` file may also hold
    one list of rows). Columns: ``input`` (required; relative to the manifest's folder), ``samples``,
    ``seeds`` (``3;7;9``, ``3 7 9`` or a JSON list), ``task``, ``options`` (command-line options as
    typed, or a JSON object ``{"max-size": 128}``) and ``labels``."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read the manifest {path}: {getattr(e, 'strerror', None) or e}") from None
    rows: list[dict] = []
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or "input" not in [f.strip() for f in reader.fieldnames]:
            raise InputError(f"the manifest {path} needs a header row with an 'input' column")
        rows = [{(k or "").strip(): v for k, v in row.items()} for row in reader]
    else:
        stripped = text.strip()
        try:
            if path.suffix.lower() == ".json" and stripped.startswith("["):
                rows = json.loads(stripped)
            else:
                rows = [json.loads(line) for line in text.splitlines() if line.strip()]
        except json.JSONDecodeError as e:
            raise InputError(f"the manifest {path} is not valid JSON Lines: line {e.lineno}: {e.msg}") from None
    if not rows:
        raise InputError(f"the manifest {path} has no rows")
    return [_entry(row, n, path) for n, row in enumerate(rows, start=2 if path.suffix.lower() == ".csv" else 1)]


def _entry(row, line: int, manifest: Path) -> Entry:
    where = f"{manifest}, row {line}"
    if not isinstance(row, dict) or not str(row.get("input") or "").strip():
        raise InputError(f"{where}: no input")
    base = manifest.parent

    def located(value) -> str:
        p = Path(str(value).strip())
        return str(p if p.is_absolute() else base / p)

    seeds = row.get("seeds")
    if isinstance(seeds, str) and seeds.strip():
        listed = seeds.strip().startswith("[")
        seeds = json.loads(seeds) if listed else seeds.replace(";", " ").replace(",", " ").split()
    try:
        seed_list = tuple(int(s) for s in seeds) if seeds not in (None, "", []) else None
        samples = int(row["samples"]) if str(row.get("samples") or "").strip() else None
    except (TypeError, ValueError):
        raise InputError(f"{where}: samples and seeds must be whole numbers") from None
    if seed_list is not None and any(not 0 <= s < 2**63 for s in seed_list):
        raise InputError(f"{where}: seeds must be from 0 to 2**63 - 1")
    if samples is not None and samples < 1:
        raise InputError(f"{where}: samples must be at least 1")
    task = (str(row.get("task") or "").strip()) or None
    if task is not None and task not in TASKS:
        raise InputError(f"{where}: unknown task {task!r} (use one of {', '.join(TASKS)})")
    options = row.get("options") or ""
    if isinstance(options, str) and options.strip().startswith("{"):
        options = json.loads(options)
    if isinstance(options, dict):
        tokens: list[str] = []
        for key, value in options.items():
            flag = key if key.startswith("-") else f"--{key}"
            tokens += [flag] if value is True else [] if value in (False, None) else [flag, str(value)]
    else:
        tokens = shlex.split(str(options))
    labels = row.get("labels")
    return Entry(located(row["input"]), seed_list, samples, task, tuple(tokens),
                 located(labels) if labels not in (None, "") else None)


def output_name(template: str, *, stem: str, seed: int | None, index: int, task: str, ext: str) -> str:
    """An output's name from ``template`` (``str.format`` fields ``stem``, ``seed``, ``index``,
    ``task``, ``ext``).

    Example:
        >>> output_name("{stem}_{seed:03d}{ext}", stem="clip", seed=7, index=0, task="generate", ext=".mp4")
        'clip_007.mp4'
    """
    try:
        return template.format(stem=stem, seed=seed if seed is not None else 0, index=index, task=task, ext=ext)
    except (KeyError, IndexError, ValueError, AttributeError) as e:
        raise InputError(f"--name {template!r}: {e} (fields: {{stem}} {{seed}} {{index}} {{task}} {{ext}})") from None


def plan_jobs(entries: Sequence[Entry], args: argparse.Namespace, options: Sequence[str]) -> list[Job]:
    """One job per output, in a fixed order (input, then seed); names checked for collisions."""
    from ..media import IMAGE_EXTS

    jobs: list[Job] = []
    for index, entry in enumerate(entries):
        _check_owned(entry.options, f"{entry.input}: ")
        task = entry.task or args.task
        if (entry.labels or args.labels) and task not in LABELLED:
            raise InputError(f"labels follow the pixels of {' and '.join(LABELLED)}, not of {task} ({entry.input})")
        if entry.seeds is not None:
            seeds: list[int | None] = list(entry.seeds)
        else:
            count = entry.samples or args.samples
            seeds = [args.seed + i for i in range(count)]
        if task in SEEDLESS:
            if len(seeds) > 1:
                raise InputError(f"{task} has no seed: it makes one output per input (drop --samples/seeds for "
                                 f"{entry.input})")
            seeds = [None]
        template = args.name or (SEEDLESS_TEMPLATE if task in SEEDLESS else DEFAULT_TEMPLATE)
        path = Path(entry.input)
        ext = ".png" if path.suffix.lower() in IMAGE_EXTS else ".mp4"
        labels = entry.labels or (_labels_for(args.labels, path, index) if args.labels else None)
        for seed in seeds:
            name = output_name(template, stem=path.stem, seed=seed, index=index, task=task, ext=ext)
            jobs.append(Job(index, entry.input, task, seed, str(Path(args.output) / name),
                            tuple(options) + entry.options, labels))
    seen: dict[str, Job] = {}
    for job in jobs:
        other = seen.setdefault(str(Path(job.output).resolve()), job)
        if other is not job:
            raise InputError(f"two outputs would be named {job.output} ({other.input} and {job.input}, seed "
                             f"{job.seed}): put {{index}} or {{seed}} in --name")
    return jobs


def _labels_for(template: str, path: Path, index: int) -> str:
    try:
        return template.format(stem=path.stem, index=index)
    except (KeyError, IndexError, ValueError) as e:
        raise InputError(f"--labels {template!r}: {e} (fields: {{stem}} {{index}})") from None


def is_done(job: Job) -> bool:
    """Whether the job's output exists with a valid record beside it (one that names the output)."""
    from .runner import label_output, record_path

    output = Path(job.output)
    record = record_path(output)
    if not output.exists() or not record.is_file():
        return False
    try:
        samples = json.loads(record.read_text()).get("samples") or []
    except (OSError, ValueError, AttributeError):
        return False
    if job.labels and not label_output(output).exists():
        return False
    return any(isinstance(s, dict) and s.get("output") and Path(s["output"]).resolve() == output.resolve()
               for s in samples)


# ----------------------------------------------------------------------------------- running a job


def run_job(argv: Sequence[str]) -> dict:
    """Run one job's command line in this process as ``patchvid`` would, quietly; what happened:
    ``code`` (0: made, 130: interrupted), ``error`` (its one-line message), ``seconds`` and
    ``peak_bytes`` (this process's peak resident memory during the job, where Linux tells it)."""
    from . import main

    err = io.StringIO()
    interrupting = threading_main()
    previous = signal.signal(signal.SIGINT, signal.default_int_handler) if interrupting else None
    saved_argv = sys.argv
    sys.argv = ["patchvid", *argv]  # the record's command line: the job's own
    _reset_peak()
    started = time.perf_counter()
    try:
        from contextlib import redirect_stderr

        with redirect_stderr(err):
            try:
                code = main(list(argv))
            except SystemExit as e:  # a usage error: argparse has printed it
                code = e.code if isinstance(e.code, int) else 2
    except KeyboardInterrupt:
        code = 130
    finally:
        sys.argv = saved_argv
        if interrupting:
            signal.signal(signal.SIGINT, signal.SIG_IGN if previous is None else previous)
    lines = [line for line in err.getvalue().splitlines() if line.strip()]
    error = next((line for line in reversed(lines) if line.startswith(("patchvid: error:", "patchvid: interrupted",
                                                                       "patchvid ", "usage:"))), "")
    if code and not error and lines:
        error = lines[-1]
    return {"code": code, "error": error.removeprefix("patchvid: error: "), "seconds": round(
        time.perf_counter() - started, 3), "peak_bytes": _peak_bytes()}


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _reset_peak() -> None:
    """Reset Linux's record of this process's peak memory (``VmHWM``), so that it measures one job."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:  # not Linux, or not allowed: the peak is then the process's so far
        pass


def _peak_bytes() -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak * (1 if sys.platform == "darwin" else 1024)


def _worker_ready(workers: int) -> None:
    """A worker ignores Ctrl-C between jobs (the batch stops it; :func:`run_job` listens during one),
    and plans its jobs in its share of the memory, so that ``workers`` jobs at once fit together."""
    from .. import memory

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    memory.SHARE /= workers  # this process runs only the batch's jobs


def run_local(jobs: Sequence[Job], workers: int, overwrite: bool) -> Iterator[tuple[Job, dict]]:
    """Run ``jobs`` in ``workers`` spawned processes; ``(job, result)`` pairs as they finish.

    A worker that dies (killed, out of memory) breaks the pool: the jobs it held are run again in a
    new one, up to :data:`RETRIES` more times each (the result's ``attempts``). On an interrupt, the
    jobs not started are dropped, the running ones are stopped (their outputs removed) and the
    interrupt is raised again once they have ended."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    from ..parallel import process_pool

    pool = process_pool(workers, initializer=_worker_ready, initargs=(workers,))
    futures: dict = {}  # a future -> (its job, its attempt)
    pending = [(job, 1) for job in reversed(jobs)]
    try:
        while pending or futures:
            broken = False
            while pending and len(futures) < 2 * workers and not broken:  # a few queued ahead, not all
                job, attempt = pending.pop()
                try:
                    futures[pool.submit(run_job, job.argv(overwrite=overwrite))] = (job, attempt)
                except BrokenProcessPool:  # a worker died since the last wait: this job has not started
                    pending.append((job, attempt))
                    broken = True
            done = wait(list(futures), return_when=FIRST_COMPLETED)[0] if futures else set()
            for future in sorted(done, key=lambda f: futures[f][0].output):
                job, attempt = futures.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken = True
                    if attempt <= RETRIES:
                        pending.append((job, attempt + 1))
                        continue
                    result = {"code": 1, "error": f"its worker process died {attempt} times (killed, or out of "
                              "memory?)", "seconds": None, "peak_bytes": None}
                yield job, result | {"attempts": attempt}
            if broken:  # every job still in the broken pool is run again in a new one
                pending += [(job, attempt + 1) for job, attempt in futures.values()]
                futures.clear()
                pool.shutdown(wait=True, cancel_futures=True)
                pool = process_pool(workers, initializer=_worker_ready, initargs=(workers,))
    except BaseException:
        for child in multiprocessing.active_children():  # stop the running jobs (they clean up)
            with contextlib.suppress(OSError):
                os.kill(child.pid, signal.SIGINT)
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


# ----------------------------------------------------------------------------------- the report

REPORT_FIELDS = ("output", "input", "task", "seed", "status", "error", "seconds", "peak_memory_mib", "attempts",
                 "record", "options", "command")


def report_row(job: Job, status: str, result: dict | None = None) -> dict:
    from .runner import record_path

    result = result or {}
    peak = result.get("peak_bytes")
    record = record_path(Path(job.output))
    return {
        "output": job.output,
        "input": job.input,
        "task": job.task,
        "seed": job.seed,
        "status": status,
        "error": result.get("error") or "",
        "seconds": result.get("seconds"),
        "peak_memory_mib": round(peak / 2**20, 1) if peak else None,
        "attempts": result.get("attempts", 1 if result else None),
        "record": str(record) if record.exists() else "",
        "options": " ".join(job.options),
        "command": job.command(),
    }


def write_report(path: Path, rows: Iterable[dict]) -> None:
    """The batch report, atomically: CSV for ``.csv``, else JSON Lines."""
    from ..media import write_text

    rows = list(rows)
    if path.suffix.lower() == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, REPORT_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: "" if v is None else v for k, v in row.items()} for row in rows)
        text = buffer.getvalue()
    else:
        text = "".join(json.dumps(row) + "\n" for row in rows)
    write_text(path, text)


# ----------------------------------------------------------------------------------- the command


def run(args: argparse.Namespace) -> int:
    from .progress import Progress

    progress = Progress(args.quiet)
    options = list(getattr(args, "task_options", []))
    _check_owned(options, "")
    if args.ray is None and (args.shared_folder or args.ray_workers):
        raise InputError("--shared-folder and --ray-workers go with --ray")
    _check_options([Entry("in.mp4")], args.task, options)  # a mistyped option: before reading any input
    entries = read_inputs(args.inputs)
    _check_options(entries, args.task, options)
    jobs = plan_jobs(entries, args, options)
    outdir = Path(args.output)
    if outdir.exists() and not outdir.is_dir():
        raise InputError(f"-o {outdir} is a file: a batch writes into a folder")
    report = Path(args.report) if args.report else outdir / "batch.csv"
    if report.suffix.lower() not in (".csv", ".jsonl"):
        raise InputError(f"--report {report}: a batch report is .csv or .jsonl")
    inputs = {str(Path(e.input).resolve()) for e in entries}
    for job in jobs:
        if str(Path(job.output).resolve()) in inputs:
            raise InputError(f"{job.output} is an input: choose another -o folder or --name")
    rows = {job.output: report_row(job, "skipped (exists)") for job in jobs}
    todo = [job for job in jobs if not args.skip_existing or not is_done(job)]
    made = failed = 0
    started_ray = None
    if args.ray is not None and todo:  # connect first: a cluster that is not there leaves no folder behind
        from .cluster import start

        started_ray = start(args, progress)
    outdir.mkdir(parents=True, exist_ok=True)
    for job in jobs:
        Path(job.output).parent.mkdir(parents=True, exist_ok=True)
    where = _where(args, len(todo))
    progress(f"batch: {_count(len(jobs), 'output')} from {_count(len(entries), 'input')}: {len(jobs) - len(todo)} "
             f"exist with a record (skipped), {len(todo)} to make, {where}")
    write_report(report, rows.values())
    if args.ray is not None:
        from .cluster import run_ray

        results = run_ray(todo, args, args.overwrite or not args.skip_existing, bool(started_ray))
    else:
        results = run_local(todo, min(args.jobs, max(1, len(todo))), args.overwrite or not args.skip_existing)
    interrupted = False
    try:
        with progress.bar(len(todo), "batch") as bar:
            for job, result in results:
                if result["code"] == 0:
                    made += 1
                    status = "made"
                elif result["code"] == 130:
                    status = "interrupted"
                    interrupted = True
                else:
                    failed += 1
                    status = "failed"
                    # an error, so said under -q too ("print nothing but errors")
                    print(f"patchvid batch: failed: {job.output} ({job.input}, seed {job.seed}): {result['error']}",
                          file=sys.stderr, flush=True)
                rows[job.output] = report_row(job, status, result)
                write_report(report, rows.values())
                bar.advance(1)
                if interrupted:
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        for job in todo:  # a job may have finished after the last result came back
            if rows[job.output]["status"].startswith("skipped"):
                done = is_done(job)
                made += done
                rows[job.output] = report_row(job, "made" if done else "not made (interrupted)")
        write_report(report, rows.values())
        progress(f"interrupted: {made} made and kept, {failed} failed; the same command again makes the rest "
                 f"(report: {report})")
        raise _BatchInterrupted from None
    skipped = len(jobs) - len(todo)
    progress(f"batch: {made} made, {skipped} skipped, {failed} failed of {len(jobs)} outputs; report: {report}"
             + (f"; {_where(args, len(todo))}" if args.ray is None and todo else ""))
    return min(failed, MAX_EXIT)


class _BatchInterrupted(KeyboardInterrupt):
    """An interrupted batch: what it finished is kept (the command line says so, not "no output")."""

    kept = True


def _count(n: int, what: str) -> str:
    return f"{n} {what}{'s' if n != 1 else ''}"


def _check_owned(options: Sequence[str], where: str) -> None:
    """Refuse options each job gets from the batch (its output, seed, record)."""
    for token in options:
        if token.split("=", 1)[0] in OWN_OPTIONS:
            raise InputError(f"{where}{token} is the batch's to set: give it to batch itself (-o is the output folder)")


def _where(args: argparse.Namespace, todo: int) -> str:
    from ..parallel import worker_threads

    if args.ray is not None:
        return f"as Ray tasks ({args.ray or 'a new local instance'})"
    jobs = min(args.jobs, max(1, todo))
    return f"{jobs} worker process{'es' if jobs > 1 else ''} of {worker_threads(jobs)} thread(s)"


def _check_options(entries: Sequence[Entry], task: str, options: Sequence[str]) -> None:
    """Parse each task's options once with a stand-in input, so that a mistyped option stops the
    batch before any work (with the task's own usage message)."""
    from . import build_parser

    seen = set()
    for entry in entries:
        key = (entry.task or task, entry.options)
        if key in seen:
            continue
        seen.add(key)
        parser = _subparser(build_parser(), key[0])
        parser.parse_args([entry.input, "-o", "x.mp4", *options, *entry.options])
