"""The settings and choices of the classic methods, in one torch-free module (the command line
reads the defaults at start-up)."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import InputError

FUTURE_COST_METHODS = ("policy", "value")
# how a loop's wrap is hidden (patchvid.classic.loops.hide_wrap)
HIDES = ("crossfade", "poisson", "cut")
DEFAULT_CROSSFADE = 5
# Poisson closure: lambda of the screened equation, the correction spreads about 1/sqrt(lambda) frames
DEFAULT_SCREEN = 1e-3


@dataclass
class AnalysisSettings:
    """How a clip is analysed for transitions.

    Attributes:
        size: longer side, in pixels, of the thumbnails that distances are measured on.
        taps: half-width ``m`` of the diagonal filter: binomial weights over offsets ``-m .. m-1``
            (``2`` gives ``1,3,3,1 / 8``); ``0`` turns it off.
        power: exponent ``p`` on transition costs in the future cost.
        discount: discount ``α`` of the future cost (``0``: no dead-end avoidance).
        temperature: ``σ`` as a multiple of the mean non-zero ``C^p``; smaller jumps less often.
        window: a kept transition is the most probable within ``±window`` destinations of its row.
        keep: at most this many transitions per frame after pruning.
        threshold: drop transitions less probable than this fraction of the row's best.
        method: ``"policy"`` (policy iteration) or ``"value"`` (value iteration) for the future cost.
    """

    size: int = 64
    taps: int = 2
    power: float = 2.0
    discount: float = 0.999
    temperature: float = 0.05
    window: int = 2
    keep: int = 8
    threshold: float = 0.01
    method: str = "policy"

    def validate(self) -> None:
        """Raise :class:`~patchvid.errors.InputError` naming the first setting out of range."""
        checks = [
            (self.size >= 1, f"the analysis size must be >= 1, got {self.size}"),
            (self.taps >= 0 and self.window >= 0, f"taps and window must be >= 0, got {self.taps}, {self.window}"),
            (self.keep >= 1, f"keep must be >= 1, got {self.keep}"),
            (0 <= self.discount < 1, f"the discount must be in [0, 1), got {self.discount}"),
            # nan and infinities fail every comparison; the temperature's range is the command line's
            # (cli/options.py: TEMPERATURE), the power's keeps C^p finite for any cost of 8-bit frames
            (0 < self.power <= 10, f"the power must be a number above 0 and at most 10, got {self.power}"),
            (1e-4 <= self.temperature <= 100,
             f"the temperature must be a number from 1e-4 to 100, got {self.temperature}"),
            (0 <= self.threshold <= 1, f"the threshold must be in [0, 1], got {self.threshold}"),
            (self.method in FUTURE_COST_METHODS, f"unknown future-cost method {self.method!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise InputError(message)
