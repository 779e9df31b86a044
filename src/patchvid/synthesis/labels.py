"""Labels that follow the pixels: a label map (segmentation masks, instance ids) for a synthesized
output, made of the same source voxels as its pixels.

The output's pixels are the vote of the value patches the finest level's nearest-neighbour field
points at (:func:`~patchvid.synthesis.patches.fold_nnf_wrapped`). A label map of the input is folded
through the same field, patch and wrapped axes, but voted by the mode: each output voxel gets the
label most of the patches covering it copy there, so ids are never blended or invented (a median or
mean of ids 1 and 3 would make a 2). Where the median picks a pixel from one object and the mode a
label from another (an object's edge), the two can differ by a pixel.

Example:
    >>> from patchvid.tasks.generate import prepare_generate  # doctest: +SKIP
    >>> frames, masks = solve_labelled(prepare_generate(video, GenerateSettings()), masks, seed=3)  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..errors import InputError
from .engine import LevelReport
from .patches import fold_periodic, patch_grid
from .problem import Problem, solve

Patch = tuple[int, int, int]
VOTE = "mode"  # how labels are voted (the JSON record says so)
__all__ = ["VOTE", "colour_ids", "solve_labelled", "vote_labels"]


def colour_ids(colours: np.ndarray) -> np.ndarray:
    """``(..., 3) uint8`` colours as ``(...) int32`` ids, one per colour: ``R << 16 | G << 8 | B``."""
    c = np.asarray(colours).astype(np.int32)
    return (c[..., 0] << 16) | (c[..., 1] << 8) | c[..., 2]


def vote_labels(
    labels: np.ndarray,
    nnf: torch.Tensor | np.ndarray,
    patch: Patch,
    wrap: tuple[bool, bool, bool] = (False, False, False),
) -> np.ndarray:
    """Fold a label map through a nearest-neighbour field by the mode of the overlapping patches.

    Args:
        labels: ``(Tv, Hv, Wv)`` integer (or bool) labels of the value video the field copies from.
        nnf: ``(T', H', W', 3) int64``: for each output patch corner, the value patch's corner (as
            :func:`~patchvid.synthesis.patches.fold_nnf` takes it; on any device).
        patch: ``(pt, ph, pw)``.
        wrap: per ``(T, H, W)`` axis, whether the output is periodic along it (the field is then that
            of a :func:`~patchvid.synthesis.patches.pad_wrapped` query, as
            :func:`~patchvid.synthesis.patches.fold_nnf_wrapped` takes it): patches spanning the wrap
            vote at both ends.

    Returns:
        ``(T, H, W)``, ``labels``' dtype: the shape :func:`~patchvid.synthesis.patches.fold_nnf_wrapped`
        gives. Each voxel holds the label that most patches covering it copy there; a tie goes to
        the smallest label. Every label returned occurs in ``labels``.

    Example:
        >>> nnf = torch.tensor([0, 1, 1, 2]).view(4, 1, 1, 1) * torch.tensor([1, 0, 0])  # corners in time
        >>> vote_labels(np.array([7, 3, 5, 9]).reshape(4, 1, 1), nnf, (2, 1, 1)).ravel().tolist()
        [7, 3, 3, 5, 9]

        Frame 2 is copied from frame 2 (id 5) by one patch and from frame 1 (id 3) by the other:
        the tie goes to 3.
    """
    from . import _labels

    labels = np.asarray(labels)
    if labels.ndim != 3 or not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == np.bool_):
        raise InputError(f"labels must be a (T, H, W) array of integers, got {labels.shape} {labels.dtype}")
    field = (nnf.detach().cpu().numpy() if isinstance(nnf, torch.Tensor) else np.asarray(nnf)).astype(np.int64)
    grid = patch_grid(labels.shape, patch)  # also refuses a patch larger than the labels
    if field.ndim != 4 or field.shape[3] != 3 or min(field.shape[:3]) < 1:
        raise InputError(f"the field must be (T', H', W', 3), got {field.shape}")
    if field.min() < 0 or (field.reshape(-1, 3).max(0) >= np.array(grid)).any():
        raise InputError(f"the field points outside the labels' {grid} patch corners")  # the kernel reads unchecked
    values, inverse = np.unique(labels, return_inverse=True)  # sorted: a tie to the smaller index is to the smaller id
    ids = inverse.reshape(-1).astype(np.int32)
    _, hv, wv = labels.shape

    def fold(corners: torch.Tensor) -> torch.Tensor:
        c = corners.numpy()
        base = np.ascontiguousarray((c[..., 0] * hv + c[..., 1]) * wv + c[..., 2])
        out = np.empty(tuple(n + p - 1 for n, p in zip(base.shape, patch)), np.int32)
        _labels.vote_mode(ids, base, hv, wv, tuple(int(p) for p in patch), out)
        return torch.from_numpy(out)

    out = fold_periodic(fold, torch.from_numpy(field), patch, wrap, first_axis=0).numpy()
    return values[out]


def solve_labelled(
    problem: Problem,
    labels: np.ndarray,
    seed: int = 0,
    on_level: Callable[[LevelReport], None] | None = None,
    on_round: Callable[[int, int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~patchvid.synthesis.problem.solve`, and the labels of its output voted with the same
    field (:func:`vote_labels`).

    Args:
        problem: a prepared problem whose output is made entirely by the field (generation,
            retargeting, loops, tiles, analogies); not one with holes (inpainting, extension) or a
            ``finish`` step, whose known pixels no field makes.
        labels: labels of the problem's value video at its full size ``(T, H, W)``: integers (or
            bool) of any dtype, or a colour map ``(T, H, W, 3) uint8`` where each distinct colour
            is one id; ``(H, W)`` or ``(H, W, 3)`` for an image.
        seed, on_level, on_round: as :func:`~patchvid.synthesis.problem.solve`.

    Returns:
        ``(frames, labels)``: ``solve``'s frames, and the labels of :attr:`Problem.output_shape`
        (``(H, W)`` for an image) in ``labels``' form: the same dtype, or colours.

    Raises:
        InputError: labels of another size or type, or a problem with holes or a finish step.
    """
    if problem.holes is not None or problem.finish is not None:
        raise InputError("labels follow synthesized pixels only: this problem keeps or pastes known pixels "
                         "(inpainting, extension), which no patch field makes")
    ids, back = _label_ids(labels, tuple(problem.values[0].shape[1:]))
    fields: list[tuple[torch.Tensor, Patch]] = []
    frames = solve(problem, seed, on_level, on_round, on_field=lambda nnf, patch: fields.append((nnf, patch)))
    nnf, patch = fields[-1]
    wrap = problem.layout.wrap if problem.layout is not None else (False, False, False)
    voted = vote_labels(ids, nnf, patch, wrap)
    if problem.frames is not None:
        voted = voted[: problem.frames]
    voted = back(voted)
    return frames, voted[0] if problem.image else voted


def _label_ids(labels: np.ndarray, shape: tuple[int, int, int]) -> tuple[np.ndarray, Callable]:
    """``labels`` as ``(T, H, W)`` integers, and the function that turns voted ids back into
    ``labels``' form (colours are packed as ``R << 16 | G << 8 | B``)."""
    labels = np.asarray(labels)
    t, h, w = shape
    one = t == 1  # an image, or a one-frame clip: its labels may drop the frame axis
    if labels.shape in ((t, h, w), *([(h, w)] if one else [])) and (
        np.issubdtype(labels.dtype, np.integer) or labels.dtype == np.bool_
    ):
        return labels.reshape(shape), lambda out: out
    if labels.shape in ((t, h, w, 3), *([(h, w, 3)] if one else [])) and labels.dtype == np.uint8:
        def colours(out: np.ndarray) -> np.ndarray:
            return np.stack(((out >> 16) & 255, (out >> 8) & 255, out & 255), -1).astype(np.uint8)

        return colour_ids(labels.reshape(*shape, 3)), colours
    size = f"({h}, {w})" if one else f"({t}, {h}, {w})"
    raise InputError(f"labels must be {size} integers or {size[:-1]}, 3) uint8 colours, the size of the input; "
                     f"got {labels.shape} {labels.dtype}")
