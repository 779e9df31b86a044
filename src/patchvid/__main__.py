"""``python -m patchvid`` and the ``patchvid`` command: :func:`entry`."""

import sys


def entry() -> int:
    """Run the command line, catching an interrupt from the first line: the command line is imported
    here, inside the handler, so that Ctrl-C (or SIGTERM, SIGHUP) while Python loads the package prints
    ``patchvid: interrupted`` and exits 130, with no traceback. (Only Python's own start-up, before
    this function runs, is out of its reach.) Once the command has returned, its outputs complete, a
    signal is ignored while Python shuts down."""
    stopped, finished = [], []

    def stop(signum, frame):
        if finished:
            return
        stopped.append(signum)
        code = getattr(frame, "f_code", None)
        if code is not None and code.co_name == "cb" and "importlib" in code.co_filename:
            os.kill(os.getpid(), signum)  # in import's weakref callback Python would print it and go on: again
            return
        raise KeyboardInterrupt

    try:
        import os
        import signal  # itself a few milliseconds of imports (enum): inside the handler too

        stops = [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)]
        stops = [signum for signum in stops if signal.getsignal(signum) != signal.SIG_IGN]  # nohup: still ignored
        for signum in stops:
            signal.signal(signum, stop)
        from .cli import main

        if stopped:
            raise KeyboardInterrupt
        code = main()  # which handles an interrupt from here on
        finished.append(True)
    except KeyboardInterrupt:
        _ignore_interrupts()  # a second Ctrl-C must not interrupt the message
        print("patchvid: interrupted", file=sys.stderr)
        return 130
    for signum in stops:
        signal.signal(signum, signal.SIG_IGN)
    return code


def _ignore_interrupts() -> None:
    signal = sys.modules.get("signal")
    if signal is not None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(entry())
