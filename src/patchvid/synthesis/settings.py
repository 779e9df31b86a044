"""The settings of one synthesis, and the one list of each set of choices.

Two dataclasses, one inside the other: :class:`EngineSettings` says how each pyramid level is solved
(patch, rounds, voting, completeness); :class:`GenerateSettings` adds what a whole run needs (noise,
output scale, pyramid, search, device) and holds an ``EngineSettings`` as its ``engine``. Every task
takes a ``GenerateSettings``. No torch here: the command line reads the defaults at start-up.

Example:
    >>> s = GenerateSettings().replace(noise=3.0, patch=(3, 5, 5), vote="mean")
    >>> s.noise, s.engine.patch, s.engine.vote
    (3.0, (3, 5, 5), 'mean')
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from ..errors import InputError

Shape3 = tuple[int, int, int]

VOTES = ("median", "mean", "gaussian")
SEARCHES = ("auto", "exact", "patchmatch")
DEVICES = ("auto", "cpu", "cuda")
# old spellings of the Python API, kept so that scripts written for them still run
ALIASES = {"reduce": "vote"}
# the reference code's rules for large levels, on in every task: one round above 3 M output voxels,
# 5x5 patches above 7.5 M (BENCHMARKS.md, "Speed")
LARGE_VOXELS = 3_000_000
HUGE_VOXELS = 7_500_000


@dataclass(frozen=True)
class EngineSettings:
    """How each level is solved.

    Attributes:
        patch: ``(pt, ph, pw)`` patch size; it must fit every level.
        iterations: search-and-fold rounds at each level but the coarsest.
        coarsest_iterations: rounds at the coarsest level (more makes a sample copy the input).
        vote: how overlapping patches are combined: ``"median"``, ``"mean"`` or ``"gaussian"``.
        alpha: completeness weight, ``None`` for plain nearest neighbours.
        large_voxels: levels whose output has more voxels (T*H*W) than this run at most
            ``large_iterations`` rounds (``None``: no limit). The reference code's rule for large
            inputs: a finer level's first round starts from the coarser level's field and already
            lands within a few per cent of exact search, and the level above refines it again.
        large_iterations: rounds at those levels.
        huge_voxels: levels with more output voxels than this use ``huge_patch`` (each dimension
            at most ``patch``'s; ``None``: never), as the reference code does above 7.5 M voxels.
        huge_patch: the smaller patch of those levels.
    """

    patch: Shape3 = (3, 7, 7)
    iterations: int = 5
    coarsest_iterations: int = 1
    vote: str = "median"
    alpha: float | None = None
    large_voxels: int | None = None
    large_iterations: int = 1
    huge_voxels: int | None = None
    huge_patch: Shape3 = (3, 5, 5)

    def level_patch(self, shape: Shape3) -> Shape3:
        """The patch used at a level whose output is ``(T, H, W)``."""
        if self.huge_voxels is not None and math.prod(shape) > self.huge_voxels:
            return tuple(min(a, b) for a, b in zip(self.patch, self.huge_patch))  # type: ignore[return-value]
        return self.patch

    def level_iterations(self, shape: Shape3, coarsest: bool) -> int:
        """Search-and-vote rounds at a level whose output is ``(T, H, W)``."""
        if coarsest:
            return self.coarsest_iterations
        if self.large_voxels is not None and math.prod(shape) > self.large_voxels:
            return min(self.iterations, self.large_iterations)
        return self.iterations

    def validate(self) -> None:
        """Raise :class:`~patchvid.errors.InputError` naming the first setting out of range."""
        _first_failure([
            (_sizes(self.patch), f"patch must be 3 sizes >= 1, got {self.patch}"),
            (self.iterations >= 1 and self.coarsest_iterations >= 1, "iterations must be >= 1"),
            (self.vote in VOTES, f"unknown voting rule {self.vote!r}; use one of {', '.join(VOTES)}"),
            # above 1000 alpha weighs like None; below 1e-6 the float32 scores overflow (cli/options.py: ALPHA)
            (self.alpha is None or 1e-6 <= self.alpha <= 1000,
             f"alpha must be None or a number from 1e-6 to 1000, got {self.alpha}"),
            (self.large_iterations >= 1, f"large_iterations must be >= 1, got {self.large_iterations}"),
            (_sizes(self.huge_patch), f"huge_patch must be 3 sizes >= 1, got {self.huge_patch}"),
        ])


@dataclass(frozen=True)
class GenerateSettings:
    """Every parameter of a synthesis; the defaults are the published method's where we had no
    measurement to do better.

    Attributes:
        noise: standard deviation of the Gaussian noise added to the coarsest level, in units of the
            [-1, 1] value range. More noise, more diversity (and more artefacts).
        scale: output size relative to the input, ``(time, height, width)``.
        factor: pyramid scale per level, ``(time, space)``.
        coarsest_size: pixels on the short side of the coarsest level.
        coarsest_frames: frames at the coarsest level (never fewer than the patch's).
        search: ``"auto"`` (exact on small levels, PatchMatch on large ones), ``"exact"`` or
            ``"patchmatch"``.
        device: ``"auto"`` (CUDA when available), ``"cpu"`` or ``"cuda"``.
        adaptive_noise: scale ``noise`` per input by how far apart its coarsest patches are
            (:func:`~patchvid.synthesis.patches.patch_spread` over :data:`SPREAD_REFERENCE`): the
            paper's rule of thumb. Measured, it did not even out diversity across clips (BENCHMARKS.md,
            "Against the published samples (issue 19)"), so it is off by default.
        engine: how each level is solved (:class:`EngineSettings`; by default with the reference
            code's rules for large levels). Images use one-frame patches whatever ``engine.patch`` says.
    """

    # 4, not the published 5: on 7 real clips at 13x144x256 (K = 10) it keeps diversity at 0.42 with
    # 23 % less coherence error (BENCHMARKS.md, "Defaults from the quality–diversity sweep")
    noise: float = 4.0
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    factor: tuple[float, float] = (0.85, 0.85)
    coarsest_size: int = 15
    coarsest_frames: int = 3
    search: str = "auto"
    device: str = "auto"
    adaptive_noise: bool = False
    engine: EngineSettings = field(
        default_factory=lambda: EngineSettings(large_voxels=LARGE_VOXELS, huge_voxels=HUGE_VOXELS)
    )

    @classmethod
    def preset(cls, name: str) -> GenerateSettings:
        """The settings of a named preset (:data:`PRESETS`): ``"default"``, ``"paper"`` (the
        published method's: noise 5, half the input's frames) or ``"clean"`` (fewer artefacts,
        less diversity).

        Raises:
            InputError: an unknown name.
        """
        if name not in PRESETS:
            raise InputError(f"unknown preset {name!r}; use one of {', '.join(PRESETS)}")
        return cls().replace(**PRESETS[name])

    def replace(self, **changes) -> GenerateSettings:
        """A copy with fields of this class or of :class:`EngineSettings` changed by name
        (``replace(noise=3, patch=(3, 5, 5))``). Unknown names raise
        :class:`~patchvid.errors.InputError`."""
        changes = {ALIASES.get(k, k): v for k, v in changes.items()}
        own = {f.name for f in dataclasses.fields(self)}
        engine_names = {f.name for f in dataclasses.fields(EngineSettings)}
        unknown = sorted(set(changes) - own - engine_names)
        if unknown:
            raise InputError(f"unknown setting {', '.join(unknown)}")
        engine = {k: v for k, v in changes.items() if k in engine_names and k not in own}
        result = dataclasses.replace(self, **{k: v for k, v in changes.items() if k in own})
        return dataclasses.replace(result, engine=dataclasses.replace(result.engine, **engine)) if engine else result

    def validate(self) -> None:
        """Raise :class:`~patchvid.errors.InputError` naming the first setting out of range."""
        _first_failure([
            # the same ranges as the command line's (cli/options.py: NOISE, MAX_FACTOR); nan and infinities
            # fail every comparison. No top to the scale: a task's own (an analogy's) may be large.
            (0 <= self.noise <= 100, f"noise must be a number from 0 to 100, got {self.noise}"),
            (len(self.scale) == 3 and all(0 < s < math.inf for s in self.scale),
             f"output scale must be 3 finite numbers > 0, got {self.scale}"),
            (len(self.factor) == 2 and all(0 < f <= 0.99 for f in self.factor),
             f"pyramid factors must be numbers above 0 and at most 0.99, got {self.factor}"),
            (self.coarsest_size >= 1 and self.coarsest_frames >= 1, "coarsest size and frames must be >= 1"),
            (self.search in SEARCHES, f"unknown search {self.search!r}; use one of {', '.join(SEARCHES)}"),
            (self.device in DEVICES, f"unknown device {self.device!r}; use one of {', '.join(DEVICES)}"),
        ])
        self.engine.validate()


# patch_spread of the coarsest level (3x15x27 for 16:9) of a typical clip: the median over 15 real clips
# is 6.4 (birds 1.9 to waterfall 11.0; BENCHMARKS.md, "Against the published samples (issue 19)")
SPREAD_REFERENCE = 6.0

# What each preset changes from the defaults (BENCHMARKS.md, "Against the published samples (issue 19)")
PRESETS: dict[str, dict] = {
    "default": {},
    "paper": {"noise": 5.0, "scale": (0.5, 1.0, 1.0)},
    "clean": {"noise": 3.0},
}


def _sizes(shape: tuple) -> bool:
    return len(shape) == 3 and min(shape) >= 1


def _first_failure(checks: list[tuple[bool, str]]) -> None:
    for ok, message in checks:
        if not ok:
            raise InputError(message)
