"""A batch's jobs as Ray tasks (``patchvid batch --ray``): one task per output, on any Ray cluster.

Workers need no shared disk: every file a job reads (its input, labels, any file its options name)
is read once by the driver and put in Ray's object store; a task writes it into a temporary folder,
runs the job's command line there (:func:`~patchvid.cli.batch.run_job`, as a local worker does) and
returns the files it made, which the driver puts in place atomically, the record last. With
``--shared-folder`` the workers read and write the real paths instead. A job whose worker dies (killed,
out of memory, its node lost) is submitted again, up to :data:`RETRIES` more times, and the report
says how many attempts it took; a job that fails (a bad input) is not: it would fail again.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from ..errors import InputError
from .batch import RETRIES, Job, run_job


def _ray():
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray: pip install 'patchvid[ray]'") from None
    return ray


def start(args: argparse.Namespace, progress: Callable[[str], None]) -> bool:
    """Connect to the cluster at ``args.ray`` or start a local instance; whether this started it."""
    from ..parallel import cores

    ray = _ray()
    if ray.is_initialized():
        return False
    options = {"logging_level": "ERROR", "log_to_driver": False, "include_dashboard": False}
    if args.ray:
        progress(f"ray: connecting to {args.ray}")
        try:
            ray.init(address=args.ray, **options)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise InputError(f"--ray {args.ray}: cannot connect to the cluster: {str(e).splitlines()[0]}") from None
    else:
        cpus = args.ray_workers or cores()
        progress(f"ray: starting a local instance with {cpus} CPUs")
        ray.init(num_cpus=cpus, **options)
    progress(f"ray: {int(ray.cluster_resources().get('CPU', 0))} CPUs on {len(ray.nodes())} node(s)")
    return True


def run_ray(jobs: Sequence[Job], args: argparse.Namespace, overwrite: bool,
            started: bool) -> Iterator[tuple[Job, dict]]:
    """Run ``jobs`` as Ray tasks (Ray connected by :func:`start`; ``started``: shut it down at the
    end); ``(job, result)`` pairs as they finish (see :func:`~patchvid.cli.batch.run_local`)."""
    ray = _ray()
    # the driver retries (not Ray), so that the report can say how many attempts a job took
    remote = ray.remote(num_cpus=1, max_retries=0)(_shared if args.shared_folder else _shipped)
    lost = (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError, ray.exceptions.ObjectLostError,
            ray.exceptions.OutOfMemoryError, ray.exceptions.LocalRayletDiedError)
    shipped: dict[str, object] = {}  # a file's path -> its bytes in the object store, put once
    futures: dict = {}  # a task -> (its job, its attempt)

    def submit(job: Job, attempt: int) -> None:
        if args.shared_folder:
            futures[remote.remote(job.argv(overwrite=overwrite))] = (job, attempt)
            return
        paths = _files_of(job)
        for path in paths:
            if path not in shipped:
                shipped[path] = ray.put(_read_files(Path(path)))
        futures[remote.remote(job, overwrite, paths, *[shipped[p] for p in paths])] = (job, attempt)

    try:
        for job in jobs:
            submit(job, 1)
        while futures:
            done, _ = ray.wait(list(futures), num_returns=1)
            for ref in done:
                job, attempt = futures.pop(ref)
                try:
                    answer = ray.get(ref)
                except lost as e:
                    if attempt <= RETRIES:
                        submit(job, attempt + 1)
                        continue
                    yield job, {"code": 1, "error": f"the Ray worker was lost {attempt} times: {_first_line(e)}",
                                "seconds": None, "peak_bytes": None, "attempts": attempt}
                    continue
                except ray.exceptions.RayError as e:
                    yield job, {"code": 1, "error": f"the Ray task failed: {_first_line(e)}", "seconds": None,
                                "peak_bytes": None, "attempts": attempt}
                    continue
                result, files = answer if isinstance(answer, tuple) else (answer, None)
                if files is not None and result["code"] == 0:
                    _put_in_place(job, files, overwrite)
                yield job, result | {"attempts": attempt}
    except BaseException:
        for ref in list(futures):
            ray.cancel(ref, force=True)
        raise
    finally:
        if started:
            ray.shutdown()


def _first_line(e: BaseException) -> str:
    lines = [line for line in str(e).splitlines() if line.strip()]
    return lines[-1] if lines else type(e).__name__


def _files_of(job: Job) -> list[str]:
    """The files (and frame folders) a job reads: its input, labels and any path its options name."""
    paths = [job.input] + ([job.labels] if job.labels else [])
    paths += [token for token in job.options if not token.startswith("-") and Path(token).exists()]
    return list(dict.fromkeys(paths))


def _read_files(path: Path) -> dict[str, bytes]:
    """A file's bytes, or a folder's files (frames), by name."""
    if path.is_dir():
        return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}
    return {"": path.read_bytes()}


def _shared(argv: list[str]) -> tuple[dict, None]:
    return run_job(argv), None


def _shipped(job: Job, overwrite: bool, paths: Sequence[str], *contents: dict[str, bytes]) -> tuple[dict, dict]:
    """A Ray task: ``job`` run in a temporary folder holding the files it reads (``contents``, in the
    order of ``paths``); what it made as ``{name relative to the output's folder: bytes}``, the
    record's temporary paths replaced by the real ones."""
    with tempfile.TemporaryDirectory(prefix="patchvid-ray-") as tmp:
        where = {}
        for i, (path, files) in enumerate(zip(paths, contents)):
            name = Path(path).name
            local = Path(tmp, "in", str(i), name)
            if "" in files:
                local.parent.mkdir(parents=True)
                local.write_bytes(files[""])
            else:
                local.mkdir(parents=True)
                for file, data in files.items():
                    (local / file).write_bytes(data)
            where[path] = str(local)
        out = Path(tmp, "out")
        out.mkdir()
        output = out / Path(job.output).name
        options = tuple(where.get(token, token) for token in job.options)
        moved = Job(job.index, job.input, job.task, job.seed, job.output, options, job.labels)
        result = run_job(moved.argv(where[job.input], str(output), where.get(job.labels or ""), overwrite))
        made: dict[str, bytes] = {}
        swaps = [(str(output), job.output), *((v, k) for k, v in where.items())]
        for temporary, real in swaps:  # the error names the paths the user gave
            result["error"] = result["error"].replace(temporary, real)
        for file in sorted(p for p in out.rglob("*") if p.is_file()):
            data = file.read_bytes()
            if file.suffix == ".json":
                text = data.decode()
                for temporary, real in swaps:
                    text = text.replace(temporary, str(Path(real).resolve()) if real != job.output else real)
                data = text.encode()
            made[str(file.relative_to(out))] = data
        return result, made


def _put_in_place(job: Job, files: dict[str, bytes], overwrite: bool) -> None:
    """Write what a task made beside the job's output, atomically: outputs first, records last (a
    record says its output is complete)."""
    from ..media.writing import atomic_output

    folder = Path(job.output).parent
    tops: dict[str, dict[str, bytes]] = {}
    for name, data in files.items():
        top, _, rest = name.partition(os.sep)
        tops.setdefault(top, {})[rest] = data
    for top in sorted(tops, key=lambda t: t.endswith(".json")):
        entries = tops[top]
        if "" in entries:
            with atomic_output(folder / top, replace=overwrite) as tmp:
                tmp.write_bytes(entries[""])
        else:
            with atomic_output(folder / top, folder=True, replace=overwrite) as tmp:
                for rest, data in entries.items():
                    Path(tmp, rest).parent.mkdir(parents=True, exist_ok=True)
                    Path(tmp, rest).write_bytes(data)
