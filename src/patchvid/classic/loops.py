"""Loops that never end: Video Textures (Schödl et al. 2000), seamless loops and cinemagraphs.

Frames are ``(T, H, W, 3) uint8`` RGB; distances and costs are RMS differences in grey levels
(0..255) over downscaled frames ("thumbnails"). Frame indices are 0-based positions in the clip.

The pipeline:

1. :func:`frame_distances` ``D[i, j]`` between all frames (one matrix product);
2. :func:`filter_diagonals` ``D'``: ``D`` averaged along its diagonals with a short binomial kernel,
   so that a jump matches a short run of frames (motion direction), not one pose;
3. :func:`transition_costs` ``C[i, j] = D'[i + 1, j]``: going from ``i`` to ``j`` is cheap when ``j``
   looks like the frame that follows ``i``;
4. :func:`future_cost` ``F = C^p + α·min_k F[j, k]`` (``α``: the ``discount``), which penalises jumps
   into parts of the clip that lead to a dead end (policy iteration: exact, a few rounds);
5. :func:`transition_probabilities` and :func:`prune`, then :func:`random_play` for endless video,
   or :func:`find_loop` for the single best loop, hidden by :func:`crossfade_loop` or
   :func:`poisson_loop`; :func:`seam_ratio` says how visible the wrap is.

The last frame of the clip has no following frame to compare with, so it is never a state: the
transition matrices are ``(N-1, N-1)`` over frames ``0 .. N-2``, and a loop ``(start, length)`` plays
frames ``start .. start+length-1`` and needs frame ``start+length`` to judge its seam.

No file I/O and no global state: every random choice comes from ``np.random.default_rng(seed)``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import scipy.ndimage as ndi
import scipy.sparse as sp
import scipy.sparse.linalg as spla
import torch

from ..errors import InputError
from ..frames import as_video
from . import poisson
from .settings import DEFAULT_SCREEN, HIDES, AnalysisSettings

# --------------------------------------------------------------------------------------- settings


@dataclass
class Analysis:
    """The transitions of a clip (``N`` frames, ``M = N - 1`` states).

    Attributes:
        distances: ``(N, N)`` float64, ``D``.
        filtered: ``(N, N)`` float64, ``D'``.
        costs: ``(M, M)`` float64, ``C[i, j] = D'[i+1, j]``.
        future: ``(M, M)`` float64, ``F``.
        probabilities: ``(M, M)`` float64, pruned; every row sums to 1.
        sigma: the ``σ`` used.
        rounds: policy-iteration rounds (or value-iteration sweeps).
        seconds: time per step.
    """

    distances: np.ndarray
    filtered: np.ndarray
    costs: np.ndarray
    future: np.ndarray
    probabilities: np.ndarray
    sigma: float
    rounds: int
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class Loop:
    """A loop of the clip: frames ``start .. start+length-1``; ``cost`` is ``D'[start+length, start]``."""

    start: int
    length: int
    cost: float

    @property
    def end(self) -> int:
        """One past the last frame of the loop."""
        return self.start + self.length


# --------------------------------------------------------------------------------------- distances


def thumbnail_size(height: int, width: int, size: int) -> tuple[int, int]:
    """``(h, w)`` with the longer side at most ``size`` (never enlarged), aspect kept."""
    scale = min(1.0, size / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def thumbnails(frames: np.ndarray, size: int = 64, chunk: int = 64) -> np.ndarray:
    """Small frames for distances: every ``s``-th pixel (``s`` about a third of the shrink factor),
    then area-averaged.

    Each small pixel still averages about ten samples, which is all the noise reduction distances
    need, while only about a tenth of the pixels are read: decoding-size clips shrink at memory
    speed, whatever their resolution.

    Args:
        frames: ``(T, H, W, 3)`` uint8 (or any numeric type).
        size: longer side of the result in pixels.

    Returns:
        ``(T, h, w, 3)`` float32, grey levels.
    """
    as_video(frames, any_dtype=True)
    t, h, w, _ = frames.shape
    th, tw = thumbnail_size(h, w, size)
    step = max(1, int(min(h / th, w / tw) // 3))
    out = np.empty((t, th, tw, 3), dtype=np.float32)
    for t0 in range(0, t, chunk):
        sampled = np.ascontiguousarray(frames[t0 : t0 + chunk, step // 2 :: step, step // 2 :: step])
        block = torch.from_numpy(sampled).permute(0, 3, 1, 2).float()
        small = torch.nn.functional.adaptive_avg_pool2d(block, (th, tw)) if block.shape[2:] != (th, tw) else block
        out[t0 : t0 + chunk] = small.permute(0, 2, 3, 1).numpy()
    return out


def _region_weights(mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Fraction of each thumbnail pixel covered by a ``(H, W)`` or ``(T, H, W)`` mask (union over time)."""
    m = np.asarray(mask, dtype=bool)
    if m.ndim == 3:
        m = m.any(axis=0)
    block = torch.from_numpy(m.astype(np.float32))[None, None]
    return torch.nn.functional.adaptive_avg_pool2d(block, shape)[0, 0].numpy().astype(np.float64)


def frame_distances(frames: np.ndarray, size: int = 64, mask: np.ndarray | None = None) -> np.ndarray:
    """RMS difference between every pair of frames, on thumbnails.

    Args:
        frames: ``(N, H, W, 3)`` uint8.
        size: longer side of the thumbnails.
        mask: optional ``(H, W)`` or ``(N, H, W)`` bool: compare only this region (its union over time).

    Returns:
        ``(N, N)`` float64, symmetric, zero diagonal, grey levels.
    """
    thumbs = thumbnails(frames, size)
    n, th, tw, _ = thumbs.shape
    x = thumbs.reshape(n, -1).astype(np.float64)
    count = float(x.shape[1])
    if mask is not None:
        if np.asarray(mask).shape[-2:] != frames.shape[1:3]:
            raise InputError(f"mask {np.shape(mask)} does not match frames {frames.shape[1:3]}")
        weight = _region_weights(mask, (th, tw))
        if weight.sum() == 0:
            raise InputError("the mask selects no pixels")
        x *= np.repeat(np.sqrt(weight).ravel(), 3)[None, :]
        count = 3 * float(weight.sum())
    x -= x.mean(axis=0, keepdims=True)  # centring keeps |a|² + |b|² - 2ab from cancelling badly
    sq = np.einsum("ij,ij->i", x, x)
    d2 = sq[:, None] + sq[None, :] - 2.0 * (x @ x.T)
    np.maximum(d2, 0, out=d2)
    np.fill_diagonal(d2, 0)
    return np.sqrt(d2 / count)


def binomial_weights(taps: int) -> np.ndarray:
    """``2·taps`` binomial weights summing to 1 (``taps=2``: ``[1, 3, 3, 1] / 8``)."""
    if taps == 0:
        return np.ones(1)
    w = np.array([math.comb(2 * taps - 1, k) for k in range(2 * taps)], dtype=np.float64)
    return w / w.sum()


def filter_diagonals(distances: np.ndarray, taps: int = 2) -> np.ndarray:
    """``D'[i, j] = Σ_k w_k D[i+k, j+k]`` over ``k = -taps .. taps-1`` (binomial ``w``).

    Matching a short run of frames rather than one keeps the motion's direction: a pendulum at the
    same pose but swinging the other way is far in ``D'``. Near the clip's ends, the offsets that
    fall outside are left out and the remaining weights renormalised.

    Args:
        distances: ``(N, N)``.

    Returns:
        ``(N, N)`` float64.
    """
    d = np.asarray(distances, dtype=np.float64)
    if taps == 0:
        return d.copy()
    n = d.shape[0]
    num = np.zeros_like(d)
    den = np.zeros_like(d)
    for k, wk in zip(range(-taps, taps), binomial_weights(taps), strict=True):
        a, b = max(0, -k), min(n, n - k)
        if a >= b:
            continue
        num[a:b, a:b] += wk * d[a + k : b + k, a + k : b + k]
        den[a:b, a:b] += wk
    return num / den


def transition_costs(filtered: np.ndarray) -> np.ndarray:
    """``C[i, j] = D'[i+1, j]`` for ``i, j`` in ``0 .. N-2``: ``(N-1, N-1)`` float64."""
    if filtered.shape[0] < 2:
        raise InputError("transitions need at least 2 frames")
    return np.ascontiguousarray(filtered[1:, :-1])


# --------------------------------------------------------------------------------------- future cost


def future_cost(
    costs: np.ndarray,
    power: float = 2.0,
    discount: float = 0.999,
    method: str = "policy",
    max_rounds: int = 100_000,
    tol: float = 1e-9,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Dead-end avoidance: ``F[i, j] = C[i, j]^p + α · m[j]`` with ``m[j] = min_k F[j, k]``.

    ``m`` is the least discounted cost of playing on forever from frame ``j``; a jump into a part of
    the clip that can only be left by a bad jump inherits that jump's cost.

    Args:
        costs: ``(M, M)`` transition costs ``C``.
        power: ``p``.
        discount: ``α`` in ``[0, 1)``.
        method: ``"policy"``: policy iteration, exact after a few rounds of one sparse linear solve
            each; ``"value"``: value iteration, which converges at rate ``α`` (thousands of sweeps).
        max_rounds: stop after this many rounds or sweeps.
        tol: value iteration stops when no ``m`` moves by more than ``tol`` times the mean cost.

    Returns:
        ``(F, m, rounds)``: ``(M, M)``, ``(M,)`` float64 and the rounds or sweeps used.
    """
    cp = np.asarray(costs, dtype=np.float64) ** power
    m_states = cp.shape[0]
    if discount == 0:
        return cp, cp.min(axis=1), 0
    rows = np.arange(m_states)
    if method == "value":
        m = cp.min(axis=1)
        scale = tol * max(float(cp.mean()), 1e-300)
        sweep = 0
        for sweep in range(1, max_rounds + 1):  # noqa: B007 (the count is returned)
            new = (cp + discount * m[None, :]).min(axis=1)
            change = float(np.abs(new - m).max())
            m = new
            if change <= scale:
                break
        return cp + discount * m[None, :], m, sweep
    if method != "policy":
        raise InputError(f"unknown method {method!r}")
    policy = cp.argmin(axis=1)
    identity = sp.identity(m_states, format="csr")
    for rounds in range(1, max_rounds + 1):  # noqa: B007 (the count is returned)
        step = sp.csr_matrix((np.full(m_states, discount), (rows, policy)), shape=(m_states, m_states))
        m = spla.spsolve((identity - step).tocsc(), cp[rows, policy])
        q = cp + discount * m[None, :]
        best = q.argmin(axis=1)
        current = q[rows, policy]
        # switch only on a strict improvement, so ties cannot make the policy cycle
        better = q[rows, best] < current - 1e-12 * np.maximum(np.abs(current), 1.0)
        if not better.any():
            break
        policy = np.where(better, best, policy)
    return cp + discount * m[None, :], m, rounds


# --------------------------------------------------------------------------------------- transitions


def transition_probabilities(future: np.ndarray, sigma: float) -> np.ndarray:
    """``P[i, j] ∝ exp(-F[i, j] / σ)``, each row summing to 1: ``(M, M)`` float64."""
    z = -(future - future.min(axis=1, keepdims=True)) / sigma
    p = np.exp(z)
    return p / p.sum(axis=1, keepdims=True)


def prune(probabilities: np.ndarray, window: int = 2, keep: int = 8, threshold: float = 0.01) -> np.ndarray:
    """Keep only the best transitions of each row, renormalised.

    A transition survives when it is the most probable within ``±window`` destinations of its row
    (a local maximum: neighbouring destinations are near-copies of the same jump), is at least
    ``threshold`` times the row's best, and is among the row's ``keep`` most probable.

    Returns:
        ``(M, M)`` float64 with every row summing to 1.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    m = p.shape[1]
    local = ndi.maximum_filter1d(p, size=2 * window + 1, axis=1, mode="constant", cval=0.0) if window else p
    kept = (p >= local) & (p >= threshold * p.max(axis=1, keepdims=True)) & (p > 0)
    if keep < m:
        kth = -np.partition(-np.where(kept, p, -1.0), keep - 1, axis=1)[:, keep - 1 : keep]
        kept &= p >= kth
    kept[np.arange(p.shape[0]), p.argmax(axis=1)] = True  # a row always keeps its best
    out = np.where(kept, p, 0.0)
    return out / out.sum(axis=1, keepdims=True)


def analyse(frames: np.ndarray, settings: AnalysisSettings | None = None, mask: np.ndarray | None = None) -> Analysis:
    """Distances, filtering, future cost and pruned transition probabilities of a clip.

    Args:
        frames: ``(N, H, W, 3)`` uint8, ``N >= 3``.
        settings: see :class:`AnalysisSettings`.
        mask: optional region (``(H, W)`` or ``(N, H, W)`` bool) to compare frames on.
    """
    s = settings or AnalysisSettings()
    s.validate()
    as_video(frames, any_dtype=True)
    if frames.shape[0] < 3:
        raise InputError(f"a clip needs at least 3 frames for transitions, got {frames.shape[0]}")
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    d = frame_distances(frames, s.size, mask)
    seconds["distances"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    dp = filter_diagonals(d, s.taps)
    c = transition_costs(dp)
    seconds["filter"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    f, _, rounds = future_cost(c, s.power, s.discount, s.method)
    seconds["future_cost"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    cp = c**s.power
    positive = cp[cp > 0]
    sigma = s.temperature * (float(positive.mean()) if positive.size else 1.0)
    p = prune(transition_probabilities(f, sigma), s.window, s.keep, s.threshold)
    seconds["probabilities"] = time.perf_counter() - t0
    return Analysis(d, dp, c, f, p, sigma, rounds, seconds)


def jumps(indices: np.ndarray) -> list[tuple[int, int, int]]:
    """``(position, from_frame, to_frame)`` for every place where ``indices`` does not step by +1."""
    idx = np.asarray(indices)
    where = np.flatnonzero(idx[1:] != idx[:-1] + 1) + 1
    return [(int(k), int(idx[k - 1]), int(idx[k])) for k in where]


def random_play(probabilities: np.ndarray, length: int, seed: int | None = 0, start: int | None = None) -> np.ndarray:
    """A random walk on the transitions: which frame to show at each output step.

    Args:
        probabilities: ``(M, M)`` rows summing to 1 (usually pruned, so each row has a few choices).
        length: number of output frames.
        seed: seed of ``np.random.default_rng``; the same seed gives the same walk.
        start: first frame (default: frame 0).

    Returns:
        ``(length,)`` int64 frame indices in ``0 .. M-1``.
    """
    p = np.asarray(probabilities)
    m = p.shape[0]
    rng = np.random.default_rng(seed)
    state = 0 if start is None else int(start)
    if not 0 <= state < m:
        raise InputError(f"start frame {state} is not in 0..{m - 1}")
    # per row, the cumulative probabilities of its non-zero entries: a draw is one searchsorted
    choices = [np.flatnonzero(row) for row in p]
    cumulative = [np.cumsum(row[c]) for row, c in zip(p, choices, strict=True)]
    draws = rng.random(length)
    out = np.empty(length, dtype=np.int64)
    for k in range(length):
        out[k] = state
        cum = cumulative[state]
        pick = min(int(np.searchsorted(cum, draws[k] * cum[-1], side="right")), len(cum) - 1)
        state = int(choices[state][pick])
    return out


def likeliest_playback(probabilities: np.ndarray, length: int, start: int = 0, floor: float = 0.01) -> float:
    """The probability that :func:`random_play`'s walk of ``length`` frames from ``start`` takes the
    likeliest transition at every step, i.e. that a seed gives the frames most seeds give; ``1.0``: only
    one playback is possible, and every seed gives the same frames. Values below ``floor`` are returned
    as soon as reached (the walk is then seed-dependent in earnest).

    On a short clip one playback is the rule, not the exception: from each frame the next one costs
    nothing and every jump falls below :func:`prune`'s threshold, and with ``M <= 2 * window + 1``
    states a row keeps a single local maximum whatever the temperature (4 frames: always one walk)."""
    p = np.asarray(probabilities)
    best, step = p.max(axis=1), p.argmax(axis=1)
    state, odds, seen = int(start), 1.0, set()
    for _ in range(length - 1):
        if odds == 1.0:
            if state in seen:  # a cycle of single transitions: the walk repeats it forever
                return 1.0
            seen.add(state)
        odds *= float(best[state])
        if odds < floor:
            return odds
        state = int(step[state])
    return odds


# --------------------------------------------------------------------------------------- loops


def find_loop(filtered: np.ndarray, min_length: int = 2, max_length: int | None = None) -> Loop:
    """The single best loop: frames ``s .. s+L-1`` with ``D'[s+L, s]`` smallest.

    The loop's last frame is then followed by frame ``s``, which looks like ``s+L``, the frame that
    would naturally come next. Lengths run over ``min_length .. max_length`` (clipped to ``N-1``).

    Args:
        filtered: ``(N, N)`` ``D'``.

    Raises:
        InputError: no length in range fits in the clip.
    """
    n = filtered.shape[0]
    hi = n - 1 if max_length is None else min(max_length, n - 1)
    lo = max(1, min_length)
    if lo > hi:
        raise InputError(f"no loop of {min_length}..{max_length} frames fits in a clip of {n} frames (at most {n - 1})")
    best = Loop(0, lo, math.inf)
    for length in range(lo, hi + 1):
        costs = np.diagonal(filtered, offset=-length)  # element s is D'[s + length, s]
        s = int(np.argmin(costs))
        if costs[s] < best.cost:
            best = Loop(s, length, float(costs[s]))
    return best


def frame_difference(a: np.ndarray, b: np.ndarray, weights: np.ndarray | None = None) -> float:
    """RMS difference of two ``(H, W, 3)`` frames in grey levels, optionally weighted per pixel
    by ``(H, W)`` ``weights`` (a region)."""
    d = np.subtract(a, b, dtype=np.float32)
    if weights is None:
        flat = d.ravel()
        return float(np.sqrt(np.dot(flat, flat) / flat.size))  # one BLAS call: fast on 720p frames
    d2 = np.einsum("hwc,hwc->hw", d, d) / d.shape[-1]
    return float(np.sqrt(np.sum(d2 * weights) / max(float(np.sum(weights)), 1e-12)))


def consecutive_differences(frames: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``(T-1,)`` RMS differences between neighbouring frames, grey levels (see :func:`frame_difference`)."""
    return np.array([frame_difference(frames[i], frames[i + 1], weights) for i in range(len(frames) - 1)])


def typical_step(frames: np.ndarray, weights: np.ndarray | None = None) -> float:
    """The median difference between consecutive frames of a clip: the yardstick of the seam ratio."""
    return float(np.median(consecutive_differences(frames, weights))) if len(frames) > 1 else 0.0


def seam_ratio(loop: np.ndarray, reference: np.ndarray | float, weights: np.ndarray | None = None) -> float:
    """How visible the wrap of a loop is: the difference between its last and first frames over
    the typical (median) difference between consecutive frames of the source.

    Args:
        loop: ``(L, H, W, 3)``, played ``loop[L-1]`` then ``loop[0]``.
        reference: the source clip ``(T, H, W, 3)``, or its :func:`typical_step`.
        weights: optional ``(H, W)`` region weights for both differences (a cinemagraph's region).

    Returns:
        ``1`` looks like an ordinary frame step; much more is a visible jump. A still source gives
        ``1`` for a perfect seam and ``inf`` otherwise.
    """
    typical = typical_step(reference, weights) if np.ndim(reference) else float(reference)
    seam = frame_difference(loop[-1], loop[0], weights)
    if typical == 0:
        return 1.0 if seam == 0 else math.inf
    return seam / typical


def crossfade_loop(frames: np.ndarray, loop: Loop, overlap: int) -> tuple[np.ndarray, int]:
    """The loop's frames with the wrap hidden by a crossfade of ``overlap`` frames.

    The frames that surround the loop in the clip make the fade: either the loop's last frames fade
    into the frames just before its start (so it ends on what precedes frame ``start``), or its first
    frames fade in from the frames just after its end (so it starts on what follows its last frame).
    The side with more frames available is used.

    Args:
        frames: ``(N, H, W, 3)`` uint8 clip.
        loop: the loop.
        overlap: frames to fade over; shortened to what the clip and half the loop allow.

    Returns:
        ``((L, H, W, 3) uint8, overlap used)``.
    """
    s, length = loop.start, loop.length
    out = frames[s : s + length].copy()
    before, after = s, frames.shape[0] - (s + length)
    n = min(overlap, max(before, after), length // 2)
    if n <= 0:
        return out, 0
    w = (np.arange(1, n + 1, dtype=np.float32) / (n + 1))[:, None, None, None]
    if before >= after:
        # last n frames move towards frames s-n .. s-1
        mix = (1 - w) * frames[s + length - n : s + length] + w * frames[s - n : s]
        out[length - n :] = np.clip(np.rint(mix), 0, 255).astype(np.uint8)
    else:
        # first n frames come from frames s+L .. s+L+n-1, fading to the loop's own
        w = w[::-1]
        mix = w * frames[s + length : s + length + n] + (1 - w) * frames[s : s + n]
        out[:n] = np.clip(np.rint(mix), 0, 255).astype(np.uint8)
    return out, n


def poisson_loop(loop_frames: np.ndarray, screen: float = DEFAULT_SCREEN, workers: int | None = None) -> np.ndarray:
    """Close a loop with a space-time Poisson solve, periodic in time and screened.

    The video keeps its own gradients everywhere except across the wrap, where the time
    difference is replaced by the mean of its neighbours; the jump is spread over the loop, most
    of it next to the wrap. One frame at a time, in float32; frames whose correction is below a
    tenth of a grey level everywhere are left as they are.

    Args:
        loop_frames: ``(L, H, W, 3)`` uint8, ``L >= 3``.
        screen: ``λ`` of :func:`patchvid.poisson.close_loop`.

    Returns:
        ``(L, H, W, 3)`` uint8.
    """
    out = loop_frames.copy()
    for i, correction in poisson.loop_corrections(loop_frames, screen, negligible=0.1, workers=workers):
        out[i] = np.clip(np.rint(loop_frames[i] + correction), 0, 255).astype(np.uint8)
    return out


def play(frames: np.ndarray, indices: np.ndarray, overlap: int = 4) -> np.ndarray:
    """Frames in the order of ``indices``, each jump crossfaded.

    After a jump from ``i`` to ``j``, the next ``overlap`` output frames blend from the frames that
    would have followed ``i`` (``i+1, i+2, ...``, as far as the clip has them) into ``j, j+1, ...``.

    Args:
        frames: ``(N, H, W, 3)`` uint8.
        indices: ``(K,)`` frame indices.

    Returns:
        ``(K, H, W, 3)`` uint8.
    """
    out = frames[np.asarray(indices)]
    n_frames = frames.shape[0]
    for pos, i, _ in jumps(indices) if overlap > 0 else []:
        for k in range(overlap):
            if pos + k >= len(out) or i + 1 + k >= n_frames:
                break
            w_old = (overlap - k) / (overlap + 1)
            mix = w_old * frames[i + 1 + k].astype(np.float32) + (1 - w_old) * out[pos + k]
            out[pos + k] = np.clip(np.rint(mix), 0, 255).astype(np.uint8)
    return out


# --------------------------------------------------------------------------------------- cinemagraphs


def feather(mask: np.ndarray, radius: float) -> np.ndarray:
    """A soft version of a ``(H, W)`` or ``(T, H, W)`` bool mask: Gaussian blur of ``radius`` pixels
    in space only, as float32 in ``[0, 1]`` (0.5 on the mask's edge)."""
    m = np.asarray(mask, dtype=np.float32)
    if radius <= 0:
        return m
    sigma = (0, radius, radius) if m.ndim == 3 else radius
    return np.clip(ndi.gaussian_filter(m, sigma=sigma, mode="nearest"), 0, 1)


def composite(loop_frames: np.ndarray, still: np.ndarray, opacity: np.ndarray) -> np.ndarray:
    """A still frame everywhere, the looping frames where ``opacity`` says.

    Args:
        loop_frames: ``(L, H, W, 3)`` uint8, the (already seamless) loop.
        still: ``(H, W, 3)`` uint8, the frame shown outside the region.
        opacity: ``(H, W)`` or ``(L, H, W)`` float in ``[0, 1]``: 1 shows the loop, 0 the still.

    Returns:
        ``(L, H, W, 3)`` uint8.
    """
    a = np.asarray(opacity, dtype=np.float32)
    a = a[..., None] if a.ndim == 3 else a[None, ..., None]
    still_f = still.astype(np.float32)[None]
    out = np.empty_like(loop_frames)
    for t0 in range(0, loop_frames.shape[0], 16):  # a few frames at a time bounds the float copy
        block = loop_frames[t0 : t0 + 16].astype(np.float32)
        at = a if a.shape[0] == 1 else a[t0 : t0 + 16]
        out[t0 : t0 + 16] = np.clip(np.rint(still_f + at * (block - still_f)), 0, 255).astype(np.uint8)
    return out


# --------------------------------------------------------------------------------------- recipes


def loop_lengths(
    frames: int, fps: float, min_length: int | None = None, max_length: int | None = None, hide: str = "crossfade"
) -> tuple[int, int]:
    """The shortest and longest loop, in frames, worth searching in a clip of ``frames`` frames:
    by default at least a second (at most half the clip) and at most the whole clip; a Poisson
    closure needs 3 frames. A loop can use frames ``0 .. frames-2`` (the last judges the seam).

    Raises:
        InputError: no loop length in the asked range fits.
    """
    longest = frames - 1
    hi = longest if max_length is None else max_length
    lo = min(max(2, round(fps)), longest // 2) if min_length is None else min_length
    lo = max(lo, 3 if hide == "poisson" else 2)  # the closure needs a frame between the wrap's two sides
    if min_length is not None and lo > longest:
        raise InputError(f"the shortest loop asked for is {lo} frames but a loop of this {frames}-frame clip has at "
                         f"most {longest}")
    if hi < lo:
        raise InputError(f"the longest loop asked for ({hi} frames) is shorter than the shortest loop ({lo} frames)")
    return lo, min(hi, longest)


def hide_wrap(
    frames: np.ndarray, best: Loop, hide: str = "crossfade", crossfade: int = 5, screen: float = DEFAULT_SCREEN
) -> tuple[np.ndarray, int]:
    """The frames of loop ``best`` of ``frames`` with its wrap hidden by ``hide`` (``"crossfade"``
    of ``crossfade`` frames, ``"poisson"`` closure with ``screen``, or a plain ``"cut"``); and the
    crossfade length actually used (shortened where the clip has no more frames around the loop)."""
    if hide not in HIDES:
        raise InputError(f"unknown way to hide a loop's wrap {hide!r}; use one of {', '.join(HIDES)}")
    if hide == "poisson":
        return poisson_loop(frames[best.start : best.end], screen), 0
    if hide == "crossfade" and crossfade > 0:
        return crossfade_loop(frames, best, crossfade)
    return frames[best.start : best.end].copy(), 0


def analysis_bytes(frames: int, matrices: int = 3) -> int:
    """Memory of the frame-to-frame matrices of a clip (``frames²`` float64 each)."""
    return matrices * 8 * frames * frames


@dataclass
class LoopResult:
    """A seamless loop and how seamless it is.

    Attributes:
        loop: which frames of the clip loop.
        frames: ``(L, H, W, 3) uint8``, the wrap hidden.
        hide: how (``"crossfade"``, ``"poisson"``, ``"cut"``); ``crossfade``: the frames faded.
        typical_step: the clip's median frame-to-frame difference (grey levels).
        seam_before, seam_after: :func:`seam_ratio` of the plain cut and of ``frames``.
        seconds: time of the analysis and of the blend.
    """

    loop: Loop
    frames: np.ndarray
    hide: str
    crossfade: int
    typical_step: float
    seam_before: float
    seam_after: float
    seconds: dict[str, float] = field(default_factory=dict)


def loop(
    frames: np.ndarray,
    min_length: int = 2,
    max_length: int | None = None,
    *,
    hide: str = "crossfade",
    crossfade: int = 5,
    screen: float = DEFAULT_SCREEN,
    analysis_size: int = 64,
) -> LoopResult:
    """The best seamless loop of a clip: frames ``s .. s+L-1`` whose end best matches their start
    (``min_length <= L <= max_length``), with the wrap hidden.

    Args:
        frames: ``(N, H, W, 3) uint8``, ``N >= 3``.
        min_length, max_length: loop lengths in frames (see :func:`loop_lengths` for good defaults).
        hide, crossfade, screen: how the wrap is hidden (:func:`hide_wrap`).
        analysis_size: longer side of the thumbnails frames are compared on.
    """
    frames = as_video(frames, min_frames=3)[0]
    started = time.perf_counter()
    best = find_loop(filter_diagonals(frame_distances(frames, analysis_size)), min_length, max_length)
    analysis = time.perf_counter() - started
    typical = typical_step(frames)
    before = seam_ratio(frames[best.start : best.end], typical)
    started = time.perf_counter()
    out, used = hide_wrap(frames, best, hide, crossfade, screen)
    seconds = {"analysis": analysis, "blend": time.perf_counter() - started}
    return LoopResult(best, out, hide, used, typical, before, seam_ratio(out, typical), seconds)


@dataclass
class TextureResult:
    """Endless play of a clip: ``frames`` ``(K, H, W, 3) uint8`` in the ``order`` ``(K,)`` of source
    frames, with its ``jumps`` (:func:`jumps`) and the clip's :class:`Analysis`; ``likeliest``: the
    probability that a seed gives the frames most seeds give (:func:`likeliest_playback`; ``1.0``: only
    one playback is possible)."""

    frames: np.ndarray
    order: np.ndarray
    jumps: list[tuple[int, int, int]]
    analysis: Analysis
    likeliest: float = 0.0


def texture(
    frames: np.ndarray,
    length: int,
    seed: int = 0,
    *,
    first: int = 0,
    crossfade: int = 4,
    settings: AnalysisSettings | None = None,
) -> TextureResult:
    """Video Textures: play ``frames`` for ``length`` frames by a seeded random walk on its
    transitions (:func:`analyse`, :func:`random_play`), starting at frame ``first``, each jump
    crossfaded over ``crossfade`` frames (:func:`play`)."""
    frames = as_video(frames, min_frames=3)[0]
    if length < 1:
        raise InputError(f"a texture needs at least one frame, got {length}")
    if not 0 <= first < len(frames) - 1:
        raise InputError(f"the first frame {first} is not a frame that can be played on from (0..{len(frames) - 2})")
    analysis = analyse(frames, settings)
    order = random_play(analysis.probabilities, length, seed, first)
    likeliest = likeliest_playback(analysis.probabilities, length, first)
    return TextureResult(play(frames, order, crossfade), order, jumps(order), analysis, likeliest)


@dataclass
class CinemagraphResult:
    """A cinemagraph: ``frames`` ``(L, H, W, 3) uint8``, still frame ``still`` outside the region
    and ``loop`` inside it, the region's edge feathered by ``feather`` pixels; the seam ratios are
    measured in the region."""

    loop: Loop
    frames: np.ndarray
    still: int
    feather: float
    hide: str
    crossfade: int
    seam_before: float
    seam_after: float


def cinemagraph(
    frames: np.ndarray,
    mask: np.ndarray,
    min_length: int = 2,
    max_length: int | None = None,
    *,
    still: int | None = None,
    feather_radius: float | None = None,
    hide: str = "crossfade",
    crossfade: int = 5,
    screen: float = DEFAULT_SCREEN,
    analysis_size: int = 64,
) -> CinemagraphResult:
    """A still frame everywhere but in ``mask``, where the best loop of that region plays.

    Args:
        frames: ``(N, H, W, 3) uint8``.
        mask: ``(H, W)`` or ``(N, H, W)`` bool: the region that loops.
        min_length, max_length, hide, crossfade, screen, analysis_size: as in :func:`loop`.
        still: the frame shown outside the region (default: the loop's first).
        feather_radius: softness of the region's edge in pixels (default 0.8 % of the longer side,
            at least 2).
    """
    frames = as_video(frames, min_frames=3)[0]
    t, h, w = frames.shape[:3]
    if still is not None and not 0 <= still < t:
        raise InputError(f"the still frame {still} is not a frame of the clip (0..{t - 1})")
    distances = frame_distances(frames, analysis_size, mask=mask)
    best = find_loop(filter_diagonals(distances), min_length, max_length)
    still_index = best.start if still is None else still
    radius = feather_radius if feather_radius is not None else max(2.0, 0.008 * max(h, w))
    opacity = feather(mask if mask.ndim == 2 else mask[best.start : best.end], radius)
    weights = feather(mask if mask.ndim == 2 else mask.any(axis=0), radius)
    typical = typical_step(frames, weights)
    before = seam_ratio(composite(frames[best.start : best.end], frames[still_index], opacity), typical, weights)
    looped, used = hide_wrap(frames, best, hide, crossfade, screen)
    out = composite(looped, frames[still_index], opacity)
    return CinemagraphResult(best, out, still_index, radius, hide, used, before, seam_ratio(out, typical, weights))
