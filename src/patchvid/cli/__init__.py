"""The ``patchvid`` command line: argument parsing, files and messages; no algorithm lives here.

Each sub-command module has ``register(subparsers)``, which adds its parsers and sets ``handler`` to
a function ``(args) -> int``; handlers import the library (torch, numba, OpenCV) only when they run,
and go through the one runner (:mod:`patchvid.cli.runner`).

How a command ends, whatever goes wrong: one line ``patchvid: error: ...`` and exit status 1 (2 for a
usage error), no traceback, and nothing left behind: no output, no ``.partial``, no record (outputs a
failed run already wrote are removed; see :func:`patchvid.cli.runner.end_runs`). A result line that
standard output will not take (a closed pipe, a full disk) is such a failure. Ctrl-C, SIGTERM and
SIGHUP stop it the same way with ``patchvid: interrupted`` and exit status 130, from the first line of
start-up (:func:`patchvid.__main__.entry`, the ``patchvid`` command, imports this module inside its
handler); a signal ignored when the command starts (``nohup``, a background job) stays ignored.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import PatchvidError

# the sub-command modules, imported by build_parser
_COMMANDS = ("generate", "extend", "edit", "loops", "evaluate", "batch", "ui")


def __getattr__(name: str):
    if name == "COMMANDS":  # the sub-command modules, loaded on first use
        import importlib

        return [importlib.import_module(f".{m}", __name__) for m in _COMMANDS]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class IntermixedParser(argparse.ArgumentParser):
    """A sub-command's parser that takes options anywhere between its positionals, as
    ``patchvid evaluate INPUT --end 13f SAMPLE1 SAMPLE2``.

    ``parse_intermixed_args`` refuses a parser with sub-commands (its sub-command positional swallows
    the rest of the line), so the top-level parser parses as usual and each sub-command's parser,
    which the top-level one calls through ``parse_known_args``, parses its own part intermixed.

    Example:
        >>> p = IntermixedParser(prog="p"); _ = p.add_argument("a"); _ = p.add_argument("b", nargs="*")
        >>> _ = p.add_argument("--end")
        >>> p.parse_args(["x", "--end", "13f", "y", "z"])
        Namespace(end='13f', a='x', b=['y', 'z'])
    """

    _intermixing = False

    def parse_known_args(
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._intermixing:  # the two passes of intermixed parsing call this: parse plainly there
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = argparse.ArgumentParser(
        prog="patchvid",
        description="New video from a single video, with no training and no dataset.",
    )
    parser.add_argument("--version", action="version", version=f"patchvid {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=IntermixedParser)
    for name in _COMMANDS:
        importlib.import_module(f".{name}", __name__).register(sub)
    return parser


_received: list[int] = []  # the interrupting signals a command has received


def _raise_interrupt(signum, frame):
    """SIGINT, SIGTERM and SIGHUP stop a command as Ctrl-C does (temporary outputs are removed); the
    signal is remembered, so that one Python swallows (raised inside a callback) still stops the
    command before it counts as done."""
    _received.append(signum)
    if _in_import_callback(frame):
        os.kill(os.getpid(), signum)  # raised here it would be printed and ignored: again, once out of it
        return
    raise KeyboardInterrupt


def _in_import_callback(frame) -> bool:
    """Whether ``frame`` is import's weakref callback (``_get_module_lock``'s ``cb``), where Python
    prints an exception as "ignored" and goes on."""
    code = getattr(frame, "f_code", None)
    return code is not None and code.co_name == "cb" and "importlib" in code.co_filename


_STOPS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _end_runs(failed: bool) -> None:
    """End the runs of the command (removing their outputs if it failed); none if it never got to one."""
    runner = sys.modules.get(f"{__name__}.runner")
    if runner is not None:
        runner.end_runs(failed)


def _hold(installed: dict) -> None:
    """Ignore the interrupting signals this command installed handlers for (restored as it returns)."""
    for stop in installed:
        signal.signal(stop, signal.SIG_IGN)


def main(argv: list[str] | None = None) -> int:
    previous = {}
    _received.clear()
    try:
        for stop in _STOPS:
            if signal.getsignal(stop) != signal.SIG_IGN:  # ignored stays ignored (nohup, a background job)
                previous[stop] = signal.signal(stop, _raise_interrupt)
    except ValueError:  # not the main thread: signals stay as they are
        pass
    failed = True
    try:
        parser = build_parser()
        argv = list(sys.argv[1:] if argv is None else argv)
        task_options: list[str] = []
        if argv[:1] == ["batch"]:  # a batch takes its task's options too: told apart before parsing
            from .batch import split_options

            argv, task_options = split_options(argv)
        args = parser.parse_args(argv)
        args.task_options = task_options
        if not getattr(args, "handler", None):
            parser.print_help(sys.stderr)
            return 2
        code = args.handler(args)
        if _received:  # an interrupt raised where Python ignored it: the command did not complete
            raise KeyboardInterrupt
        failed = code != 0
        return code
    except BaseException as e:
        _hold(previous)  # a second Ctrl-C must not cut the clean-up short
        _end_runs(failed=True)
        # an interrupt may surface as another error (an import it cut short): the signal decides
        if isinstance(e, KeyboardInterrupt) or _received:
            # a batch keeps what it finished and has said so
            kept = getattr(e, "kept", False)
            print(f"patchvid: interrupted{'' if kept else '; no output was kept'}", file=sys.stderr)
            return 130
        if isinstance(e, PatchvidError):
            print(f"patchvid: error: {e}", file=sys.stderr)
            return 1
        # torch's allocators raise RuntimeError (OutOfMemoryError on CUDA) where NumPy raises MemoryError
        if isinstance(e, MemoryError) or isinstance(e, RuntimeError) and any(
            s in str(e).lower()
            for s in ("out of memory", "can't allocate memory", "not enough memory", "failed to allocate")
        ):
            print("patchvid: error: out of memory; try a smaller --max-size or a shorter time range", file=sys.stderr)
            return 1
        raise  # SystemExit (usage, --help), or a bug
    finally:
        _end_runs(failed)  # a bug's exception, SystemExit, or the end of a run that succeeded
        for stop, handler in previous.items():
            signal.signal(stop, handler)


if __name__ == "__main__":
    sys.exit(main())
