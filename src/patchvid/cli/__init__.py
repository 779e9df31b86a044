"""The ``patchvid`` command line: argument parsing, files and messages; no algorithm lives here.

Each sub-command module has ``register(subparsers)``, which adds its parsers and sets ``handler`` to
a function ``(args) -> int``; handlers import the library (torch, numba, OpenCV) only when they run,
and go through the one runner (:mod:`patchvid.cli.runner`).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import PatchvidError
from . import edit, evaluate, generate, loops

COMMANDS = [generate, edit, loops, evaluate]


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
    parser = argparse.ArgumentParser(
        prog="patchvid",
        description="New video from a single video, with no training and no dataset.",
    )
    parser.add_argument("--version", action="version", version=f"patchvid {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=IntermixedParser)
    for module in COMMANDS:
        module.register(sub)
    return parser


def _raise_interrupt(signum, frame):  # SIGTERM behaves like Ctrl-C: temporary outputs are removed
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return 2
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        return args.handler(args)
    except PatchvidError as e:
        print(f"patchvid: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("patchvid: interrupted; no partial output was kept", file=sys.stderr)
        return 130
    except MemoryError:
        print("patchvid: error: out of memory; try a smaller --max-size or a shorter time range", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
