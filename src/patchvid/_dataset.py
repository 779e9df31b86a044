"""The home of :class:`patchvid.data.VariationDataset` (imported from there on first use, so that
``patchvid.data`` imports no torch for :func:`~patchvid.data.bundled_clip`)."""

from __future__ import annotations

import numbers
import os
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from .errors import InputError, MediaError
from .frames import as_video
from .synthesis.settings import GenerateSettings

# prepared problems a dataset keeps per process: a problem holds the clip's float pyramid, about 18
# bytes a pixel, so a long list of clips is not all held at once
CACHED_CLIPS = 2


def _whole(value: Any, name: str, low: int) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise InputError(f"{name} must be a whole number of at least {low}, got {value!r}")
    return int(value)


class VariationDataset(Dataset):
    """A :class:`torch.utils.data.Dataset` of new variations of a few clips, made on the fly by
    :func:`patchvid.generate` (or :func:`patchvid.augment` with ``labels``).

    Item ``i`` is a sample of clip ``i // samples`` with the seed :meth:`seed_of` ``(i)``, derived
    from ``(seed, i)`` by :class:`numpy.random.SeedSequence`: the same item always has the same
    bytes, in any worker, in any order. A clip given as a path is read (:func:`patchvid.read_video`)
    the first time a process needs it, and each process prepares a clip's problem (its pyramid)
    once and keeps the last :data:`CACHED_CLIPS`; neither is pickled to spawned workers.

    In a ``DataLoader`` with forked workers (the default on Linux) each worker runs patchvid
    single-threaded (see :mod:`patchvid.synthesis.backends`), with the same bytes as in the main
    process: ``num_workers`` workers make ``num_workers`` samples at a time.

    Args:
        clips: the inputs: ``(T, H, W, 3) uint8`` arrays (``(H, W, 3)`` for an image) or paths of
            media files or frame folders.
        samples: variations per clip.
        seed: the base of every item's seed, a whole number >= 0.
        settings: as for :func:`patchvid.generate`; ``overrides`` replace fields of it by name.
        labels: ``None``, or one label array per clip, as :func:`patchvid.augment` takes them:
            ``(T, H, W)`` ids or a ``(T, H, W, 3) uint8`` colour map of the clip as read.
        transform: called on each item's tensors (``transform(sample)``, or
            ``transform(sample, sample_labels)`` with labels); its result is the item.
        read: keyword arguments of :func:`patchvid.read_video` for the clips given as paths, e.g.
            ``{"end": "13f", "max_size": 256}``.
        loop, tile: as for :func:`patchvid.generate`.

    Items:
        ``(T', H', W', 3) uint8`` tensor (``(H', W', 3)`` for an image), or with labels a pair of it
        and the ``(T', H', W')`` labels (``(T', H', W', 3)`` colours), unless ``transform`` says
        otherwise.

    Raises:
        InputError: no clips, a clip that is neither an array of frames nor a path, labels of
            another number than the clips, bad ``samples``, ``seed`` or settings.
        MediaError: a path that does not exist.

    Example:
        >>> from torch.utils.data import DataLoader  # doctest: +SKIP
        >>> from patchvid.data import VariationDataset  # doctest: +SKIP
        >>> data = VariationDataset(["a.mp4", "b.mp4"], samples=100, read={"end": "13f"})  # doctest: +SKIP
        >>> for batch in DataLoader(data, batch_size=4, num_workers=2):  # doctest: +SKIP
        ...     batch.shape  # (4, 13, H, W, 3) uint8
    """

    __module__ = "patchvid.data"

    def __init__(
        self,
        clips: Sequence[np.ndarray | str | os.PathLike],
        samples: int = 1,
        seed: int = 0,
        settings: GenerateSettings | None = None,
        *,
        labels: Sequence[np.ndarray] | None = None,
        transform: Callable[..., Any] | None = None,
        read: Mapping[str, Any] | None = None,
        loop: bool = False,
        tile: str = "",
        **overrides: Any,
    ) -> None:
        from .synthesis.planning import plan
        from .tasks.generate import wrap_axes

        if isinstance(clips, (np.ndarray, str, os.PathLike)) or not isinstance(clips, Sequence) or not clips:
            raise InputError("clips must be a non-empty list of frame arrays or paths")
        self.settings = (settings or GenerateSettings()).replace(**overrides)
        wrap_axes(loop, tile)
        self.clips: list[np.ndarray | Path] = []
        for n, clip in enumerate(clips):
            if isinstance(clip, np.ndarray):
                plan(as_video(clip, f"clips[{n}]")[0].shape[:3], self.settings)  # bad settings fail here
                self.clips.append(clip)
            elif isinstance(clip, (str, os.PathLike)):
                path = Path(clip)
                if not path.exists():
                    raise MediaError(f"clips[{n}]: no such file or folder: {path}")
                self.clips.append(path)
            else:
                raise InputError(f"clips[{n}] must be a frame array or a path, not {type(clip).__name__}")
        if labels is not None:
            if isinstance(labels, np.ndarray) or len(labels) != len(self.clips):
                raise InputError(f"labels must be a list of one array per clip ({len(self.clips)})")
            for n, label in enumerate(labels):
                if not isinstance(label, np.ndarray):
                    raise InputError(f"labels[{n}] must be a numpy array, not {type(label).__name__}")
        self.labels = None if labels is None else list(labels)
        self.samples = _whole(samples, "samples", 1)
        self.seed = _whole(seed, "seed", 0)
        if transform is not None and not callable(transform):
            raise InputError(f"transform must be callable, not {type(transform).__name__}")
        self.transform = transform
        self.read = dict(read or {})
        self.loop, self.tile = loop, tile
        self._problems: OrderedDict[int, Any] = OrderedDict()

    def __len__(self) -> int:
        return len(self.clips) * self.samples

    def seed_of(self, index: int) -> int:
        """The seed of item ``index`` (0 to ``2**63 - 1``), from ``(seed, index)``."""
        state = np.random.SeedSequence((self.seed, self._index(index))).generate_state(1, np.uint64)
        return int(state[0] >> np.uint64(1))

    def clip_of(self, index: int) -> int:
        """The clip item ``index`` is a variation of."""
        return self._index(index) // self.samples

    def __getitem__(self, index: int) -> Any:
        from .synthesis.labels import solve_labelled
        from .synthesis.problem import solve

        index = self._index(index)
        clip = index // self.samples
        problem = self._problem(clip)
        if self.labels is None:
            items = (solve(problem, self.seed_of(index)),)
        else:
            items = solve_labelled(problem, self.labels[clip], self.seed_of(index))
        tensors = tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in items)
        if self.transform is not None:
            return self.transform(*tensors)
        return tensors[0] if len(tensors) == 1 else tensors

    def __getstate__(self) -> dict:
        # a spawned worker reads and prepares what it needs itself
        return {**self.__dict__, "_problems": OrderedDict()}

    def _index(self, index: int) -> int:
        if not isinstance(index, numbers.Integral) or isinstance(index, bool):
            raise TypeError(f"dataset indices must be integers, not {type(index).__name__}")
        n = len(self)
        i = int(index) + n if index < 0 else int(index)
        if not 0 <= i < n:
            raise IndexError(f"index {index} out of range for {n} items")
        return i

    def _problem(self, clip: int) -> Any:
        """The prepared problem of clip ``clip``, from this process's cache."""
        from .media import read_video
        from .tasks.generate import prepare_generate

        if clip in self._problems:
            self._problems.move_to_end(clip)
            return self._problems[clip]
        source = self.clips[clip]
        frames = read_video(source, **self.read).frames if isinstance(source, Path) else source
        problem = prepare_generate(frames, self.settings, loop=self.loop, tile=self.tile)
        self._problems[clip] = problem
        while len(self._problems) > CACHED_CLIPS:
            self._problems.popitem(last=False)
        return problem
