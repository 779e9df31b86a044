"""What a block of work cost: wall time, peak resident memory and peak CUDA memory."""

from __future__ import annotations

import os
import sys
import threading
import time
from dataclasses import dataclass

import torch


@dataclass
class ResourceUse:
    """What a measured block cost.

    Attributes:
        seconds: wall-clock time.
        peak_rss_bytes: the process's largest resident memory during the block (polled every few
            milliseconds from ``/proc``; elsewhere the process's lifetime peak), ``None`` if unknown.
        start_rss_bytes: resident memory when the block started, ``None`` if unknown.
        cuda_peak_bytes: the largest CUDA memory PyTorch allocated during the block (``None`` on CPU).
    """

    seconds: float = 0.0
    peak_rss_bytes: int | None = None
    start_rss_bytes: int | None = None
    cuda_peak_bytes: int | None = None


def _rss() -> int | None:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class ResourceMeter:
    """Measure time and peak memory of a block::

        with ResourceMeter(cuda=False) as use:
            generate(...)
        use.seconds, use.peak_rss_bytes
    """

    def __init__(self, cuda: bool = False, interval: float = 0.005):
        self.cuda = cuda and torch.cuda.is_available()
        self.interval = interval
        self.use = ResourceUse()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            rss = _rss()
            if rss is not None:
                self.use.peak_rss_bytes = max(self.use.peak_rss_bytes or 0, rss)

    def __enter__(self) -> ResourceUse:
        self.use.start_rss_bytes = self.use.peak_rss_bytes = _rss()
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        if self.use.start_rss_bytes is not None:
            self._thread = threading.Thread(target=self._poll, daemon=True)
            self._thread.start()
        self._started = time.perf_counter()
        return self.use

    def __exit__(self, *exc) -> None:
        if self.cuda:
            torch.cuda.synchronize()
            self.use.cuda_peak_bytes = int(torch.cuda.max_memory_allocated())
        self.use.seconds = time.perf_counter() - self._started
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            rss = _rss()
            if rss is not None:
                self.use.peak_rss_bytes = max(self.use.peak_rss_bytes or 0, rss)
        else:  # no /proc: the lifetime peak is the best there is (kilobytes on Linux, bytes on macOS)
            import resource  # Unix only

            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.use.peak_rss_bytes = peak if sys.platform == "darwin" else peak * 1024
