"""The ``patchvid`` command line: argument parsing, files and messages; no algorithm lives here.

Each sub-command module has ``register(subparsers)``, which adds its parsers and sets ``handler`` to
a function ``(args) -> int``; handlers import the library (torch, numba, OpenCV) only when they run,
and go through the one runner (:mod:`patchvid.cli.runner`).
"""

from __future__ import annotations

import argparse
import signal
import sys

from .. import __version__
from ..errors import PatchvidError
from . import edit, evaluate, generate, loops

COMMANDS = [generate, edit, loops, evaluate]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="patchvid",
        description="New video from a single video, with no training and no dataset.",
    )
    parser.add_argument("--version", action="version", version=f"patchvid {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
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
