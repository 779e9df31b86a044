"""Nearest-neighbour search between the space-time patches of two videos.

Every search takes a query video and a key video and returns, for each valid query patch, the
corner of its nearest key patch (the nearest-neighbour field, ``nnf``) and the squared distance.
Distances are sums of squared differences over all channels and voxels of a patch.

With completeness weighting (``alpha``), the score of a pair is
``d(q, k) / (alpha + min_q' d(q', k))``: a key patch that some query already matches well becomes
more expensive, so that more of the key gets used (GPNN's bidirectional similarity).

A ``key_mask`` (a bool per key patch, over the key's patch grid) restricts the matches to the key
patches it allows, e.g. to keep conditional inpainting from copying patches that overlap a hole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch

from ..errors import InputError
from .patches import patch_grid, unfold

Patch = tuple[int, int, int]


@dataclass
class Match:
    """The result of a search.

    Attributes:
        nnf: ``(Tq', Hq', Wq', 3) int64``: for each query patch (indexed by its corner), the
            ``(t, y, x)`` corner of the chosen key patch. ``Tq' = Tq - pt + 1`` and so on.
        distance: ``(Tq', Hq', Wq') float32``: squared distance of each query patch to the chosen
            key patch (unweighted, even when alpha was used to choose it).
    """

    nnf: torch.Tensor
    distance: torch.Tensor


class PatchSearch(Protocol):
    """What the engine needs from a nearest-neighbour search."""

    def __call__(
        self,
        query: torch.Tensor,
        key: torch.Tensor,
        patch: Patch,
        *,
        alpha: float | None = None,
        init: torch.Tensor | None = None,
        seed: int = 0,
        key_mask: torch.Tensor | None = None,
    ) -> Match:
        """Match every patch of ``query`` to a patch of ``key``.

        Args:
            query: ``(C, Tq, Hq, Wq) float32``.
            key: ``(C, Tk, Hk, Wk) float32``, same device; its shape may differ from the query's.
            patch: ``(pt, ph, pw)`` patch size, no larger than either video.
            alpha: completeness weight; ``None`` for plain nearest neighbours.
            init: an ``nnf`` to start from (approximate searches use it; exact ones ignore it).
            seed: seeds every random choice the search makes.
            key_mask: ``(Tk', Hk', Wk') bool`` over the key's patch grid (``patch_grid(key.shape[1:],
                patch)``): True where a key patch may be matched; ``None`` allows all. The returned
                ``nnf`` points only at allowed key patches. A mask of the wrong shape or dtype, or
                one that allows nothing, raises :class:`~patchvid.errors.InputError`.
        """
        ...


def check_key_mask(key_mask: torch.Tensor | None, k_grid: tuple[int, int, int], device) -> torch.Tensor | None:
    """Validate a search's ``key_mask`` against the key's patch grid; return it flat ``(Nk,) bool`` on
    ``device``, or ``None`` when there is no mask."""
    if key_mask is None:
        return None
    if not isinstance(key_mask, torch.Tensor):
        raise InputError(f"key_mask must be a bool tensor, not {type(key_mask).__name__}")
    if tuple(key_mask.shape) != tuple(k_grid):
        raise InputError(f"key_mask has shape {tuple(key_mask.shape)}; expected the key's patch grid {tuple(k_grid)}")
    if key_mask.dtype != torch.bool:
        raise InputError(f"key_mask must have dtype torch.bool, not {key_mask.dtype}")
    flat = key_mask.reshape(-1).to(device)
    if not bool(flat.any()):
        raise InputError("key_mask allows no key patch: at least one must be True")
    return flat


def to_flat(nnf: torch.Tensor, grid: tuple[int, int, int]) -> torch.Tensor:
    """``(..., 3)`` patch corners to flat indices into a patch grid ``(T', H', W')``."""
    _, h, w = grid
    return (nnf[..., 0] * h + nnf[..., 1]) * w + nnf[..., 2]


def from_flat(index: torch.Tensor, grid: tuple[int, int, int]) -> torch.Tensor:
    """Flat indices into a patch grid ``(T', H', W')`` to ``(..., 3)`` corners."""
    _, h, w = grid
    return torch.stack((index // (h * w), (index // w) % h, index % w), dim=-1)


CACHE_BLOCK_BYTES = 4 * 2**20
BLOCK_ROWS = 1024


@dataclass
class ExactSearch:
    """Exhaustive search by matrix products, in blocks so that memory stays bounded.

    The distance ``|q|^2 + |k|^2 - 2 q.k`` is computed block by block; one block of distances never
    holds more than ``max_bytes``. Cost grows with (query patches x key patches): about 5 ns per pair
    on a 2-core CPU, so it suits small pyramid levels and tests.

    Attributes:
        max_bytes: the largest distance block, in bytes.
        peak_block_bytes: the largest block actually used by the last call (for tests/benchmarks).
    """

    max_bytes: int = 64 * 2**20
    peak_block_bytes: int = 0

    def __call__(self, query, key, patch, *, alpha=None, init=None, seed=0, key_mask=None) -> Match:
        q_grid = patch_grid(query.shape[1:], patch)
        k_grid = patch_grid(key.shape[1:], patch)
        allowed = check_key_mask(key_mask, k_grid, key.device)
        q = unfold(query, patch)  # (Nq, D)
        k = unfold(key, patch)  # (Nk, D)
        keep = None
        if allowed is not None:
            # search only the allowed columns: disallowed keys can never be chosen, the completeness
            # term below is computed for allowed keys only, and the cost shrinks with the mask
            keep = allowed.nonzero()[:, 0]
            k = k[keep]
        q_sq = (q * q).sum(1)
        k_sq = (k * k).sum(1)
        rows, cols = self._block(q.shape[0], k.shape[0])
        self.peak_block_bytes = 0
        weight = None
        if alpha is not None:
            # completeness: each key's distance to its nearest query, a first pass over all blocks
            nearest_query = torch.full((k.shape[0],), float("inf"), device=k.device)
            for dist, _, c0 in self._blocks(q, k, q_sq, k_sq, rows, cols):
                nearest_query[c0 : c0 + dist.shape[1]] = torch.minimum(
                    nearest_query[c0 : c0 + dist.shape[1]], dist.min(0).values
                )
            weight = 1.0 / (alpha + nearest_query)
        best = torch.empty(q.shape[0], dtype=torch.int64, device=q.device)
        best_score = torch.full((q.shape[0],), float("inf"), device=q.device)
        best_dist = torch.empty(q.shape[0], device=q.device)
        for dist, r0, c0 in self._blocks(q, k, q_sq, k_sq, rows, cols):
            score = dist if weight is None else dist * weight[c0 : c0 + dist.shape[1]]
            value, arg = score.min(1)
            better = value < best_score[r0 : r0 + dist.shape[0]]
            sl = slice(r0, r0 + dist.shape[0])
            best_score[sl] = torch.where(better, value, best_score[sl])
            best[sl] = torch.where(better, arg + c0, best[sl])
            best_dist[sl] = torch.where(better, dist.gather(1, arg[:, None])[:, 0], best_dist[sl])
        if keep is not None:
            best = keep[best]  # column of the allowed subset -> flat index into the key grid
        return Match(from_flat(best, k_grid).reshape(*q_grid, 3), best_dist.reshape(q_grid))

    def _block(self, n_query: int, n_key: int) -> tuple[int, int]:
        """Rows and columns of a distance block that fits in ``max_bytes`` (float32)."""
        # square-ish blocks of at most 4 MB: the passes after the product (min, where, gather) then
        # stay in cache; wide one-row-band blocks made 2048 x 380 000 searches 2x slower
        elements = max(1, min(self.max_bytes, CACHE_BLOCK_BYTES) // 4)
        rows = max(1, min(n_query, BLOCK_ROWS, elements))
        cols = max(1, min(n_key, elements // rows))
        rows = max(1, min(n_query, elements // cols))
        return rows, cols

    def _blocks(self, q, k, q_sq, k_sq, rows, cols):
        for r0 in range(0, q.shape[0], rows):
            qb = q[r0 : r0 + rows]
            for c0 in range(0, k.shape[0], cols):
                dist = torch.addmm(k_sq[None, c0 : c0 + cols], qb, k[c0 : c0 + cols].T, alpha=-2.0)
                dist += q_sq[r0 : r0 + rows, None]
                dist.clamp_(min=0)
                self.peak_block_bytes = max(self.peak_block_bytes, dist.numel() * dist.element_size())
                yield dist, r0, c0
