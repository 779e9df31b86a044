"""What a long command shows while it works: timestamped lines and a progress bar weighted by work.

:class:`Progress` prints ``[   12.3s] message`` lines on stderr and opens bars over units of work:
a tqdm bar (percentage, elapsed time, ETA) in a terminal or a notebook, and a few plain lines
(``[   12.3s] sample 1/2: 40% (ETA 0:00:31)``) in a log file or CI, where a redrawn bar would be
thousands of carriage returns. :func:`solve_work` and :func:`round_callback` drive a bar from a
synthesis: the work of each pyramid level, advanced after each search-and-vote round.

Example:
    >>> progress = Progress()  # doctest: +SKIP
    >>> work = solve_work(problem.plan)  # doctest: +SKIP
    >>> with progress.bar(sum(work.values()), "sample 1/1") as bar:  # doctest: +SKIP
    ...     frames = solve(problem, seed, on_round=round_callback(bar, work))
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from typing import TextIO

# plain (non-interactive) bars print a line each tenth of the work, or after this long without one
LINE_FRACTION = 0.1
LINE_SECONDS = 30.0
# tqdm's layout without the unit counts: work units are weights, meaningless to a reader
BAR_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| {elapsed}<{remaining}"

# The cost of a round relative to a PatchMatch round over as many output voxels, from per-round wall times
# of default generations of 13x144x256 footage on the shared 2-core CPU (load 1-3.7). At half the wall time
# the bar stood at 51 % (30-62 %, 18 solves) with these weights, at 89 % (81-93 %) counting levels alike;
# with one-round fine levels (large_voxels=150_000) at 59 %, against 68 % for voxels x rounds alone. What is
# left is the load and a one-off ~1 s warm-up in a process's first solve. An exhaustive search compares
# every key patch: 2.8-4.9x more per voxel;
EXACT_COST = 3.0
# a level's first round also resizes the query and key, upsamples the coarser field and starts PatchMatch
# from a worse field (its distances stop early less often): 1.3-2.5x a later round, and more where the
# coarser level ran only one round (levels above large_voxels)
FIRST_ROUND_EXTRA = 1.0


def _clock(seconds: float) -> str:
    """``0:00:31``: hours, minutes, seconds."""
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _columns(stream: TextIO) -> int | None:
    """The width of the terminal ``stream`` writes to; ``None`` when not a terminal or of no size."""
    try:
        return os.get_terminal_size(stream.fileno()).columns or None
    except (AttributeError, OSError, ValueError):  # no file descriptor (StringIO), or not a terminal
        return None


def in_notebook() -> bool:
    """Whether this runs in an IPython kernel (Jupyter), where a bar is a widget."""
    ipython = sys.modules.get("IPython")
    try:
        return ipython is not None and "IPKernelApp" in ipython.get_ipython().config
    except Exception:  # no running shell, or one without a config
        return False


class Bar:
    """One progress bar over ``total`` units of work (made by :meth:`Progress.bar`).

    Attributes:
        total: units of work the bar stands for (> 0).
        done: units reported so far (the bar shows at most ``total``).
        description: the text before the percentage.
    """

    def __init__(self, progress: Progress, total: float, description: str, plain: bool = False):
        self.total = float(total) if total > 0 else 1.0
        self.done = 0.0 if total > 0 else 1.0  # no work to do: complete from the start
        self.description = description
        self._progress = progress
        self._tqdm = None  # the tqdm bar drawing it, if interactive
        self._plain = plain  # plain lines (a log); neither: quiet
        self._started = time.perf_counter()
        self._next_line = LINE_FRACTION  # the fraction at which a plain bar prints again
        self._last_line = self._started

    @property
    def fraction(self) -> float:
        """The part of the work done, in [0, 1]."""
        return min(1.0, max(0.0, self.done / self.total))

    def advance(self, amount: float) -> None:
        """Report ``amount`` more units of work done."""
        self.done += amount
        if self._tqdm is not None:
            shown = self.fraction * self.total
            self._tqdm.update(shown - self._tqdm.n)  # tqdm adds increments; clamped at the total
        elif self._plain:
            fraction, now = self.fraction, time.perf_counter()
            due = fraction >= self._next_line or now - self._last_line >= LINE_SECONDS
            if due and 0 < fraction < 1:  # the whole work's line comes when the bar closes
                self._progress(f"{self.description}: {math.floor(100 * fraction)}% (ETA {_clock(self.eta())})")
                self._next_line = (math.floor(fraction / LINE_FRACTION + 1e-9) + 1) * LINE_FRACTION
                self._last_line = now

    def describe(self, text: str) -> None:
        """Change the description (``"sample 2/4"``)."""
        self.description = text
        if self._tqdm is not None:
            self._tqdm.set_description_str(text)

    def eta(self) -> float:
        """Seconds left at the average rate so far (``inf`` before any work)."""
        elapsed = time.perf_counter() - self._started
        return elapsed * (1 - self.fraction) / self.fraction if self.fraction > 0 else math.inf

    def _close(self) -> None:
        if self._tqdm is not None:
            self._tqdm.close()
        elif self._plain:
            seconds = time.perf_counter() - self._started
            self._progress(f"{self.description}: {math.floor(100 * self.fraction)}% in {_clock(seconds)}")


class Progress:
    """Progress of a command on ``stream``: lines with the time since the command started, and bars.

    Args:
        quiet: print nothing at all.
        stream: where to write (default: ``sys.stderr`` at the time of writing).
        interactive: draw redrawn tqdm bars (default: when ``stream`` is a terminal, or the default
            stream in a notebook); otherwise a bar is a few plain lines.
    """

    def __init__(self, quiet: bool = False, stream: TextIO | None = None, interactive: bool | None = None):
        self.quiet = quiet
        self.started = time.perf_counter()
        self._stream = stream
        self._interactive = interactive
        self._open: list = []  # tqdm bars showing, which a message must not break

    @property
    def stream(self) -> TextIO:
        """Where lines and bars go."""
        return self._stream if self._stream is not None else sys.stderr

    @property
    def interactive(self) -> bool:
        """Whether bars are redrawn tqdm bars (else plain lines)."""
        if self._interactive is not None:
            return self._interactive
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty()) or (self._stream is None and in_notebook())

    def elapsed(self) -> float:
        """Seconds since the command started."""
        return time.perf_counter() - self.started

    def __call__(self, message: str) -> None:
        """Print ``[   12.3s] message`` (between redraws of a bar that is showing)."""
        if self.quiet:
            return
        line = f"[{self.elapsed():7.1f}s] {message}"
        if self._open:
            type(self._open[-1]).write(line, file=self.stream)
        else:
            print(line, file=self.stream)
        self.stream.flush()

    @contextlib.contextmanager
    def bar(self, total: float, description: str) -> Iterator[Bar]:
        """A bar over ``total`` units of work while the block runs; :meth:`Bar.advance` reports work.

        Interactive: a tqdm bar (``tqdm.auto``'s widget in a notebook). Otherwise plain lines
        ``[   12.3s] description: 40% (ETA 0:00:31)``, at most one per tenth of the work or per
        30 s, and one when the block ends (none if it raises). Quiet: nothing.
        """
        if self.quiet:
            yield Bar(self, total, description)
            return
        if not self.interactive:
            bar = Bar(self, total, description, plain=True)
            yield bar
            bar._close()  # not reached when the block raises: the error says what happened
            return
        if self._stream is None and in_notebook():
            from tqdm.auto import tqdm
        else:
            from tqdm import tqdm
        bar = Bar(self, total, description)
        # follow the terminal's width where it has one; else 80 columns (tqdm would take a pty of width 0,
        # as under `script`, at its word and drop the layout)
        columns = _columns(self.stream)
        # smoothing=0: the ETA from the average rate, as plain lines give it (the weights model the rate)
        bar._tqdm = tqdm(total=bar.total, initial=bar.done, desc=description, file=self.stream,
                         bar_format=BAR_FORMAT, dynamic_ncols=columns is not None, ncols=columns or 80,
                         smoothing=0, leave=True)
        self._open.append(bar._tqdm)
        try:
            yield bar
        finally:
            self._open.remove(bar._tqdm)
            bar._close()


# ---------------------------------------------------------------------------------- synthesis


def solve_work(plan) -> dict[int, float]:
    """The work of each pyramid level of a :class:`~patchvid.synthesis.planning.Plan`, keyed by level
    (0 = finest), in voxel-rounds of PatchMatch: the level's output voxels (T*H*W; the search and
    the fold both scale with them) times its rounds plus :data:`FIRST_ROUND_EXTRA`, times
    :data:`EXACT_COST` where the level searches exhaustively. Whole numbers, so that sums are exact."""
    from ..synthesis.engine import search_per_level
    from ..synthesis.search import ExactSearch

    shapes = plan.levels.output
    choose = search_per_level(plan.search, shapes, plan.levels.input, plan.patch)
    work = {}
    for level, shape in enumerate(shapes):
        rounds = plan.engine.level_iterations(shape, level == len(shapes) - 1)
        cost = EXACT_COST if isinstance(choose(level), ExactSearch) else 1.0
        work[level] = float(round(math.prod(shape) * cost * (rounds + FIRST_ROUND_EXTRA)))
    return work


def round_callback(bar: Bar, work: dict[int, float]) -> Callable[[int, int, int], None]:
    """An ``on_round(level, round, rounds)`` for :func:`patchvid.synthesis.problem.solve` (called after
    every search-and-vote round, ``round`` from 1) that advances ``bar`` through ``work[level]``:
    the first round by ``1 + FIRST_ROUND_EXTRA`` shares, each later one by one share, in whole units
    so that a level's rounds add up to exactly its work."""

    def on_round(level: int, it: int, rounds: int) -> None:
        shares = rounds + FIRST_ROUND_EXTRA
        before = 0.0 if it == 1 else it - 1 + FIRST_ROUND_EXTRA  # shares of the rounds before this one
        total = work[level]
        bar.advance(_units(total, it + FIRST_ROUND_EXTRA, shares) - _units(total, before, shares))

    return on_round


def _units(total: float, shares: float, of: float) -> float:
    """``total * shares / of`` in whole units (exactly ``total`` for all shares)."""
    return float(total) if shares >= of else float(math.floor(total * shares / of))
