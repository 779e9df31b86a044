"""``patchvid ui``: the web page (Gradio), on this machine only unless ``--host`` says otherwise."""

from __future__ import annotations

import argparse
import sys
import time

from ..errors import PatchvidError
from .options import command_parser, whole_in

port_number = whole_in(1, 65535)
upload_megabytes = whole_in(1, 100_000)


def register(sub: argparse._SubParsersAction) -> None:
    p = command_parser(
        sub, "ui", "the web page: every command in the browser (needs pip install 'patchvid[ui]')",
        "Start a local web page (Gradio) with a tab per command: upload a clip or use the demo one, set the "
        "options, watch the progress, cancel, play and download the outputs with their JSON records. Each run is "
        "the patchvid command line the page shows. Nothing is shared publicly; stop it with Ctrl-C.",
        "  patchvid ui\n  patchvid ui --port 8080 --max-upload-mb 50",
    )
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; 0.0.0.0 for the network)")
    p.add_argument("--port", type=port_number, default=7860, help=f"port, {port_number.range} (default 7860)")
    p.add_argument("--max-upload-mb", type=upload_megabytes, default=200, metavar="N",
                   help=f"largest upload in megabytes, {upload_megabytes.range} (default 200)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    import os

    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        import gradio  # noqa: F401
    except ImportError:
        raise PatchvidError("the web UI needs Gradio: pip install 'patchvid[ui]'") from None
    from ..web.app import build_app, launch

    demo = build_app(max_upload_mb=args.max_upload_mb)
    try:
        url = launch(demo, args.host, args.port, args.max_upload_mb)
        print(f"patchvid ui: {url}", flush=True)
        print("stop it with Ctrl-C", file=sys.stderr, flush=True)
        while True:
            time.sleep(0.5)
    except OSError as e:  # the port is taken
        raise PatchvidError(f"cannot start the web page on {args.host}:{args.port}: {e}") from None
    finally:
        demo.close()
        demo.patchvid_workspace.close()
