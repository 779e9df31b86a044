"""Space-time (3-D) Poisson solvers and guidance fields, on NumPy arrays.

A volume is ``(T, H, W)`` (one channel) or ``(T, H, W, C)``; axes 0, 1, 2 are time, y and x, and a
trailing channel axis is solved channel by channel with the same operator. Values are in any unit
(grey levels for video). ``float32`` inputs are solved in ``float32`` (half the memory and time,
enough for 8-bit video); anything else in ``float64``.

The discrete Laplacian is the 7-point one, ``Δu = Σ_axes u[i+1] - 2u[i] + u[i-1]``. At the border of
an array it is the Neumann (zero-flux) one, ``Δ = div(grad)`` with forward differences and no flux
out of the array; periodic in time where asked.

A guidance field ``g = (gt, gy, gx)`` holds forward differences along each axis: ``gt[i]`` is the
wanted ``u[i+1] - u[i]``, so ``gt`` has ``T - 1`` frames, or ``T`` when periodic in time (the last one
is the wanted ``u[0] - u[T-1]`` across the wrap).

Solvers:

* :func:`solve_box`: exact Dirichlet solve on a box (DST-I in t, y, x).
* :func:`solve_periodic`: screened ``(λ - Δ)u = λu₀ - div g``, periodic in time, Neumann in space
  (real FFT in t, DCT-II in y, x).
* :func:`close_loop`: the same equation for the common case of closing a loop, solved from the
  wrap alone (the only place the guidance differs from the video), one 2-D DCT per frame.
* :func:`solve_region`: an irregular region with the rest of the volume fixed (preconditioned
  conjugate gradients, matrix-free; the preconditioner is the exact box solver on the region's
  bounding box).
* :func:`seamless_clone`: space-time Poisson cloning of a masked source into a target (source or
  mixed gradients), built on :func:`solve_region`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import scipy.fft as sfft

from ..errors import InputError
from ..frames import check_volume

Guidance = tuple[np.ndarray, np.ndarray, np.ndarray]


def _float(a: np.ndarray, dtype: np.dtype | type | None = None) -> np.ndarray:
    """``a`` as float32 when it is float32 (or ``dtype`` says so), else float64."""
    a = np.asarray(a)
    if dtype is None:
        dtype = np.float32 if a.dtype == np.float32 else np.float64
    return a.astype(dtype, copy=False)


# --------------------------------------------------------------------------------------- guidance


def gradients(u: np.ndarray, periodic: bool = False) -> Guidance:
    """Forward differences ``(gt, gy, gx)`` of a volume.

    Args:
        u: ``(T, H, W[, C])``.
        periodic: include the time difference across the wrap, ``u[0] - u[T-1]``, as ``gt[T-1]``.

    Returns:
        ``gt`` of ``(T-1 or T, H, W[, C])``, ``gy`` of ``(T, H-1, W[, C])``, ``gx`` of ``(T, H, W-1[, C])``.
    """
    u = _float(u)
    check_volume(u, "u")
    gt = np.roll(u, -1, axis=0) - u if periodic else np.diff(u, axis=0)
    return gt, np.diff(u, axis=1), np.diff(u, axis=2)


def divergence(g: Guidance) -> np.ndarray:
    """Backward-difference divergence of a guidance field, with no flux out of the volume.

    Periodic in time when ``gt`` has as many frames as ``gy``. ``divergence(gradients(u)) == laplacian(u)``.

    Returns:
        ``(T, H, W[, C])``.
    """
    gt, gy, gx = g
    shape = (gy.shape[0],) + gt.shape[1:]
    out = np.zeros(shape, dtype=np.result_type(gt, gy, gx))
    if gt.shape[0] == shape[0]:
        out += gt - np.roll(gt, 1, axis=0)
    else:
        out[:-1] += gt
        out[1:] -= gt
    out[:, :-1] += gy
    out[:, 1:] -= gy
    out[:, :, :-1] += gx
    out[:, :, 1:] -= gx
    return out


def laplacian(u: np.ndarray, periodic: bool = False) -> np.ndarray:
    """7-point Laplacian of ``(T, H, W[, C])``: Neumann at the borders, periodic in time if asked."""
    return divergence(gradients(u, periodic))


def mixed_gradients(source: Guidance, target: Guidance) -> Guidance:
    """Per edge and channel, the larger (in magnitude) of the source and target differences.

    Keeps the target's own texture where it is stronger than the pasted source (holes, lines).
    """
    return tuple(np.where(np.abs(s) >= np.abs(t), s, t) for s, t in zip(source, target, strict=True))  # type: ignore[return-value]


def loop_guidance(video: np.ndarray) -> Guidance:
    """Guidance for closing a loop: the video's own differences, periodic in time, with the time
    difference across the wrap replaced by the mean of the two on either side of it (so the motion
    continues through the wrap instead of jumping).

    Args:
        video: ``(T, H, W[, C])`` with ``T >= 3``.
    """
    gt, gy, gx = gradients(video, periodic=True)
    if gt.shape[0] < 3:
        raise InputError(f"a loop needs at least 3 frames, got {gt.shape[0]}")
    gt[-1] = 0.5 * (gt[-2] + gt[0])
    return gt, gy, gx


# --------------------------------------------------------------------------------------- eigenvalues


def _dirichlet_eigs(n: int, dtype) -> np.ndarray:
    """Eigenvalues of ``-d²`` on ``n`` points with zero ends (DST-I)."""
    k = np.arange(1, n + 1, dtype=np.float64)
    return (4 * np.sin(np.pi * k / (2 * (n + 1))) ** 2).astype(dtype)


def _neumann_eigs(n: int, dtype) -> np.ndarray:
    """Eigenvalues of ``-d²`` on ``n`` points with zero flux at the ends (DCT-II)."""
    k = np.arange(n, dtype=np.float64)
    return (4 * np.sin(np.pi * k / (2 * n)) ** 2).astype(dtype)


def _periodic_eigs(n: int, dtype) -> np.ndarray:
    """Eigenvalues of periodic ``-d²`` for the ``n // 2 + 1`` frequencies of a real FFT."""
    k = np.arange(n // 2 + 1, dtype=np.float64)
    return (4 * np.sin(np.pi * k / n) ** 2).astype(dtype)


def _grid(et: np.ndarray, ey: np.ndarray, ex: np.ndarray, channels: bool) -> np.ndarray:
    e = et[:, None, None] + ey[None, :, None] + ex[None, None, :]
    return e[..., None] if channels else e


# --------------------------------------------------------------------------------------- solvers


def _box_inverse(f: np.ndarray, screen: float = 0.0, workers: int | None = None, kinds: str = "DDD") -> np.ndarray:
    """``(screen - Δ)⁻¹ f`` on a box, exact.

    ``kinds`` gives each of the axes t, y, x its ends: ``D`` zero values just outside both ends
    (DST-I), ``N`` no flux at both ends (DCT-II), ``<`` no flux at the start and zero beyond the end,
    ``>`` the reverse (both by mirroring the axis onto a DST-I of twice the length).
    """
    dt = f.dtype
    sizes = f.shape[:3]
    out = f
    eig = np.zeros((1, 1, 1), dtype=np.float64)
    for axis, (kind, n) in enumerate(zip(kinds, sizes, strict=True)):
        if kind in "<>":
            out = np.concatenate([out[_along(axis, slice(None, None, -1))], out] if kind == "<" else
                                 [out, out[_along(axis, slice(None, None, -1))]], axis=axis)
        if kind == "N":
            out = sfft.dct(out, type=2, axis=axis, norm="ortho", workers=workers)
            e = _neumann_eigs(n, np.float64)
        else:
            out = sfft.dst(out, type=1, axis=axis, norm="ortho", workers=workers)
            e = _dirichlet_eigs(out.shape[axis], np.float64)
        eig = eig + e.reshape([-1 if a == axis else 1 for a in range(3)])
    eig = eig + screen
    if eig.flat[0] == 0:  # no fixed value anywhere: any positive value keeps it a valid preconditioner
        eig.flat[0] = eig.flat[1] if eig.size > 1 else 1.0
    out = out / (eig[..., None] if f.ndim == 4 else eig).astype(dt)
    for axis, (kind, n) in enumerate(zip(kinds, sizes, strict=True)):
        if kind == "N":
            out = sfft.idct(out, type=2, axis=axis, norm="ortho", workers=workers)
        else:
            out = sfft.idst(out, type=1, axis=axis, norm="ortho", workers=workers)
        if kind == "<":
            out = out[_along(axis, slice(n, None))]
        elif kind == ">":
            out = out[_along(axis, slice(None, n))]
    return np.ascontiguousarray(out, dtype=dt)


def _along(axis: int, sl: slice) -> tuple[slice, ...]:
    return tuple(sl if a == axis else slice(None) for a in range(axis + 1))


def solve_box(boundary: np.ndarray, rhs: np.ndarray, workers: int | None = None) -> np.ndarray:
    """Exact solution of ``Δu = rhs`` inside a box with ``u`` fixed on the box's outer shell.

    Args:
        boundary: ``(T, H, W[, C])``, every size at least 3; its outer shell (first and last frame,
            row and column) gives the fixed values; the interior is ignored.
        rhs: same shape; the wanted 7-point Laplacian at the interior voxels (the shell is ignored).
            For seamless cloning it is ``divergence(guidance)``.
        workers: threads for scipy.fft (``-1``: all cores).

    Returns:
        ``u``: same shape, float32 for float32 input else float64; the shell copied from ``boundary``.

    Example:
        >>> u = np.random.default_rng(0).random((5, 6, 7))
        >>> bool(np.allclose(solve_box(u, laplacian(u)), u))
        True
    """
    check_volume(boundary, "boundary")
    if np.shape(rhs) != np.shape(boundary):
        raise InputError(f"rhs {np.shape(rhs)} and boundary {np.shape(boundary)} differ in shape")
    if min(boundary.shape[:3]) < 3:
        raise InputError(f"a box needs at least 3 samples along t, y and x, got {boundary.shape[:3]}")
    u = _float(boundary).copy()
    f = _float(rhs, u.dtype)
    inner = (slice(1, -1), slice(1, -1), slice(1, -1))
    shell = u.copy()
    shell[inner] = 0
    # the fixed neighbours of the voxels next to the shell move to the right-hand side
    known = (
        shell[:-2, 1:-1, 1:-1] + shell[2:, 1:-1, 1:-1]
        + shell[1:-1, :-2, 1:-1] + shell[1:-1, 2:, 1:-1]
        + shell[1:-1, 1:-1, :-2] + shell[1:-1, 1:-1, 2:]
    )
    u[inner] = _box_inverse(known - f[inner], 0.0, workers)
    return u


def solve_periodic(
    div: np.ndarray,
    u0: np.ndarray | None = None,
    screen: float = 1e-3,
    workers: int | None = None,
) -> np.ndarray:
    """Solve ``(screen - Δ)u = screen·u0 - div`` over a whole volume, periodic in time, Neumann in space.

    With ``div = divergence(g)`` this is the screened least-squares fit of ``∇u`` to ``g`` that stays
    near ``u0`` where ``g`` says nothing. The time wrap makes frame ``T-1`` a neighbour of frame 0.

    Args:
        div: ``(T, H, W[, C])``, the divergence of the guidance field (periodic in time).
        u0: same shape, the data term; ``None`` means zeros.
        screen: ``λ >= 0``. With ``0`` the plain Poisson equation, solved in the least-squares sense
            with the mean of ``u`` taken from ``u0``.
        workers: threads for scipy.fft.

    Returns:
        ``u``, same shape; float32 for float32 ``div``.
    """
    check_volume(div, "div")
    if screen < 0:
        raise InputError(f"screen must be >= 0, got {screen}")
    f = -_float(div)
    dt = f.dtype
    if u0 is not None:
        if np.shape(u0) != f.shape:
            raise InputError(f"u0 {np.shape(u0)} and div {f.shape} differ in shape")
        f = f + dt.type(screen) * _float(u0, dt)
    t, h, w = f.shape[:3]
    coef = sfft.dctn(f, type=2, axes=(1, 2), norm="ortho", workers=workers)
    coef = sfft.rfft(coef, axis=0, workers=workers)
    eig = _grid(_periodic_eigs(t, dt), _neumann_eigs(h, dt), _neumann_eigs(w, dt), f.ndim == 4) + dt.type(screen)
    if screen == 0:
        eig[0, 0, 0] = 1
        coef[0, 0, 0] = 0  # the constant is free: taken from u0 below
    coef /= eig
    u = sfft.irfft(coef, n=t, axis=0, workers=workers)
    u = sfft.idctn(u, type=2, axes=(1, 2), norm="ortho", workers=workers).astype(dt, copy=False)
    if screen == 0 and u0 is not None:
        u += np.mean(u0, axis=(0, 1, 2), dtype=np.float64).astype(dt)
    return u


def close_loop(
    video: np.ndarray,
    screen: float = 1e-3,
    negligible: float = 0.0,
    workers: int | None = None,
) -> np.ndarray:
    """Close a loop seamlessly: ``solve_periodic(divergence(loop_guidance(video)), video, screen)``,
    computed from the wrap alone (see :func:`loop_corrections`).

    Args:
        video: ``(T, H, W[, C])``, ``T >= 3``, frame ``T-1`` followed by frame 0 when played.
        screen: ``λ > 0``: how far from the wrap the correction spreads (about ``1/√λ`` frames for
            the smoothest part; sharper parts stay nearer the wrap).
        negligible: skip frames whose correction is provably below this everywhere (in the video's
            units); ``0`` computes every frame.
        workers: threads for scipy.fft.

    Returns:
        The closed loop, same shape, float32 for float32 input else float64 (not clipped).
    """
    u = _float(video).copy()
    for i, correction in loop_corrections(u, screen, negligible, workers):
        u[i] += correction
    return u


def loop_corrections(
    video: np.ndarray,
    screen: float = 1e-3,
    negligible: float = 0.0,
    workers: int | None = None,
) -> Iterator[tuple[int, np.ndarray]]:
    """The per-frame corrections that close a loop, one frame at a time (no volume-sized memory).

    The loop guidance differs from the video's own periodic gradients only across the wrap, so the
    correction ``u - video`` of :func:`close_loop` is the response to a source on the first and last
    frames. In the spatial cosine basis each mode is a 1-D periodic problem in time with a
    closed-form Green's function; each frame's correction is one inverse 2-D DCT.

    Args:
        video: ``(T, H, W[, C])``, ``T >= 3`` (uint8 is fine; only four frames are read here).
        screen, negligible, workers: as :func:`close_loop`.

    Yields:
        ``(i, correction)``: frame index and ``(H, W[, C])`` float32 (float64 for float64 video)
        to add to frame ``i``; frames with a negligible correction are skipped.
    """
    check_volume(video, "video")
    if screen <= 0:
        raise InputError(f"closing a loop needs screen > 0, got {screen}")
    t, h, w = video.shape[:3]
    if t < 3:
        raise InputError(f"a loop needs at least 3 frames, got {t}")
    dt = np.float64 if video.dtype == np.float64 else np.float32
    first, second, before_last, last = (np.asarray(video[k], dtype=np.float64) for k in (0, 1, -2, -1))
    wanted = 0.5 * ((last - before_last) + (second - first))
    jump = wanted - (first - last)  # replaced minus actual difference across the wrap
    e_hat = sfft.dctn(jump, type=2, axes=(0, 1), norm="ortho", workers=workers)
    mu = _neumann_eigs(h, np.float64)[:, None] + _neumann_eigs(w, np.float64)[None, :]
    a = 2.0 + screen + mu
    root = np.sqrt(a * a - 4.0)  # = 1/ρ - ρ
    log_rho = np.log(2.0 / (a + root))  # ρ = (a - root) / 2, in a form that does not cancel
    denom = -np.expm1(t * log_rho) * root  # (1 - ρ^t)(1/ρ - ρ)
    if video.ndim == 4:
        log_rho, denom = log_rho[..., None], denom[..., None]
    # per frame work in the output's precision: float32 is plenty for 8-bit video and twice as fast
    log_rho, denom, e_hat = log_rho.astype(dt), denom.astype(dt), e_hat.astype(dt)
    abs_hat = np.abs(e_hat).reshape(h * w, -1)
    amplitude = 2.0 / np.sqrt(h * w)  # the largest value of an orthonormal 2-D cosine

    def green(k: int) -> np.ndarray:
        """The periodic Green's function at time offset ``k`` (0 <= k <= t), every spatial mode."""
        return (np.exp(k * log_rho) + np.exp((t - k) * log_rho)) / denom

    g_first = g_next = green(0)
    for i in range(t):
        g_cur = g_next
        g_next = green(i + 1) if i + 1 < t else g_first
        # source +e on frame 0 and -e on frame t-1: δ̂_i = ê (G(i) - G(i + 1 mod t))
        kernel = g_cur - g_next
        if negligible > 0:
            bound = amplitude * (np.abs(kernel).reshape(1, -1) @ abs_hat)  # (1, C) or (1, 1)
            if float(np.max(bound)) < negligible:
                continue
        yield i, sfft.idctn(e_hat * kernel, type=2, axes=(0, 1), norm="ortho", workers=workers)


@dataclass
class RegionSolve:
    """How an irregular solve went, per channel: ``iterations``, the final relative ``residuals``, and
    ``errors``: the estimated largest error of the solution in the volume's units, ``max |M⁻¹ r|`` with
    ``M`` the exact solver on the region's bounding box (exact for a box-shaped region; on irregular
    regions within a factor of about 2 of the true error, measured)."""

    iterations: list[int]
    residuals: list[float]
    unknowns: int
    errors: list[float] = field(default_factory=list)


def _neg_laplacian(v: np.ndarray) -> np.ndarray:
    """``-Δv`` (Neumann at the array's borders) of a 3-D array."""
    out = np.zeros_like(v)
    for axis in range(3):
        d = np.diff(v, axis=axis)
        lo = [slice(None)] * 3
        hi = [slice(None)] * 3
        lo[axis] = slice(None, -1)
        hi[axis] = slice(1, None)
        out[tuple(lo)] -= d
        out[tuple(hi)] += d
    return out


def _bbox(mask: np.ndarray) -> tuple[slice, ...]:
    slices = []
    for axis in range(mask.ndim):
        other = tuple(a for a in range(mask.ndim) if a != axis)
        hit = np.flatnonzero(mask.any(axis=other))
        slices.append(slice(int(hit[0]), int(hit[-1]) + 1))
    return tuple(slices)


def solve_region(
    target: np.ndarray,
    mask: np.ndarray,
    div: np.ndarray,
    *,
    x0: np.ndarray | None = None,
    screen: float = 0.0,
    u0: np.ndarray | None = None,
    tol: float = 1e-3,
    max_iter: int = 500,
    preconditioner: str = "box",
    workers: int | None = None,
) -> tuple[np.ndarray, RegionSolve]:
    """Solve ``Δu - screen·(u - u0) = div`` on the voxels of ``mask``, with ``u = target`` elsewhere.

    The Laplacian is the 7-point one, Neumann at the volume's borders (a region touching the
    first frame or the frame edge has no constraint beyond it). Solved by conjugate gradients on
    the region's bounding box only (plus one voxel of fixed neighbours), preconditioned by the exact
    solver on that box (fixed values beyond its sides inside the volume, no flux at the volume's
    border), which makes a box-shaped region converge in one iteration.

    Args:
        target: ``(T, H, W[, C])``, the fixed values outside the region.
        mask: ``(T, H, W)`` bool, the unknown voxels. Must not be empty; if it covers every voxel,
            ``screen`` must be > 0.
        div: same shape as ``target``: the wanted Laplacian, usually ``divergence(guidance)``.
        x0: starting values inside the region (same shape as target; default: ``target``). The
            naive paste of the source is a good start for cloning.
        screen, u0: optional screening towards ``u0`` (default ``target``).
        tol: stop at this residual relative to the right-hand side (``1e-3`` is enough for 8-bit video).
        max_iter: iterations per channel at most.
        preconditioner: ``"box"`` or ``"none"``.
        workers: threads for scipy.fft.

    Returns:
        ``(u, info)``: ``u`` of target's shape (float32 for float32 target, else float64) and a
        :class:`RegionSolve`.
    """
    check_volume(target, "target")
    u = _float(target).copy()
    dt = u.dtype
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != u.shape[:3]:
        raise InputError(f"mask {mask.shape} does not match the volume {u.shape[:3]}")
    if np.shape(div) != u.shape:
        raise InputError(f"div {np.shape(div)} and target {u.shape} differ in shape")
    if not mask.any():
        raise InputError("the mask selects no voxels")
    if mask.all() and screen <= 0:
        raise InputError("the mask covers the whole volume: nothing fixes the solution (give screen > 0)")
    if preconditioner not in ("box", "none"):
        raise InputError(f"unknown preconditioner {preconditioner!r}")
    box = _bbox(mask)
    crop = tuple(slice(max(s.start - 1, 0), min(s.stop + 1, n)) for s, n in zip(box, mask.shape, strict=True))
    inner = tuple(slice(s.start - c.start, s.stop - c.start) for s, c in zip(box, crop, strict=True))
    m = mask[crop]
    channels = u.shape[3] if u.ndim == 4 else 1
    vol = u[crop] if u.ndim == 4 else u[crop][..., None]
    f = _float(div, dt)[crop]
    f = f if f.ndim == 4 else f[..., None]
    start = vol if x0 is None else _float(x0, dt)[crop]
    start = start if start.ndim == 4 else start[..., None]
    anchor = vol if u0 is None else _float(u0, dt)[crop]
    anchor = anchor if anchor.ndim == 4 else anchor[..., None]
    s = dt.type(screen)
    info = RegionSolve([], [], int(m.sum()))

    def apply(v: np.ndarray) -> np.ndarray:
        return (_neg_laplacian(v) + s * v) * m

    # the box's ends: fixed neighbours (D) inside the volume, no flux (N, <, >) at the volume's border
    ends = {(False, False): "D", (True, True): "N", (True, False): "<", (False, True): ">"}
    kinds = "".join(ends[(b.start == 0, b.stop == n)] for b, n in zip(box, mask.shape, strict=True))

    def box_inverse(r: np.ndarray) -> np.ndarray:
        z = np.zeros_like(r)
        z[inner] = _box_inverse(r[inner], float(s), workers, kinds)
        return z * m

    def precondition(r: np.ndarray) -> np.ndarray:
        return r if preconditioner == "none" else box_inverse(r)

    for c in range(channels):
        fixed = np.where(m, 0, vol[..., c])
        b = (s * anchor[..., c] - f[..., c] - _neg_laplacian(fixed)) * m
        x = np.where(m, start[..., c], 0).astype(dt)
        r = b - apply(x)
        b_norm = float(np.linalg.norm(b)) or 1.0
        z = precondition(r)
        p = z.copy()
        rz = float(np.vdot(r, z))
        done = 0
        res = float(np.linalg.norm(r)) / b_norm
        while res > tol and done < max_iter:
            ap = apply(p)
            alpha = rz / float(np.vdot(p, ap))
            x += dt.type(alpha) * p
            r -= dt.type(alpha) * ap
            done += 1
            res = float(np.linalg.norm(r)) / b_norm
            if res <= tol:
                break
            z = precondition(r)
            rz_new = float(np.vdot(r, z))
            p = z + dt.type(rz_new / rz) * p
            rz = rz_new
        out = np.where(m, x, vol[..., c])
        if u.ndim == 4:
            u[crop + (c,)] = out
        else:
            u[crop] = out
        info.iterations.append(done)
        info.residuals.append(res)
        info.errors.append(float(np.abs(box_inverse(r)).max()))  # the box solve of the residual: the error
    return u, info


def _placement(source_shape: tuple[int, ...], target_shape: tuple[int, ...], offset: tuple[int, int, int]):
    """Slices of the target and of the source where the source, moved by ``offset``, overlaps the target."""
    tgt, src = [], []
    for s_len, t_len, o in zip(source_shape, target_shape, offset, strict=True):
        lo, hi = max(o, 0), min(o + s_len, t_len)
        if lo >= hi:
            return None
        tgt.append(slice(lo, hi))
        src.append(slice(lo - o, hi - o))
    return tuple(tgt), tuple(src)


@dataclass
class Clone:
    """Where a clone went: the solved ``box`` of the target (slices t, y, x), the region's voxels
    inside the target, the voxels of the mask that fell outside it, and the solver's report; after
    :func:`blend`, the share of the region's values that rounding to ``uint8`` clipped to 0..255 and
    the largest change that made to the region's mean colour (grey levels, any channel)."""

    box: tuple[slice, slice, slice]
    voxels: int
    outside: int
    solve: RegionSolve
    clipped: float = 0.0
    clip_shift: float = 0.0


def seamless_clone(
    target: np.ndarray,
    source: np.ndarray,
    mask: np.ndarray,
    offset: tuple[int, int, int] = (0, 0, 0),
    mixed: bool = False,
    tol: float = 1e-3,
    max_iter: int = 500,
    workers: int | None = None,
) -> tuple[np.ndarray, Clone]:
    """Space-time Poisson cloning: the masked region of ``source`` pasted into ``target`` with its
    gradients (over x, y and t) kept and its values adjusted to meet the target at the region's border.

    Args:
        target: ``(T, H, W, C)`` or ``(T, H, W)`` (any numeric type; uint8 video is solved in float32).
        source: ``(Ts, Hs, Ws, C)`` or ``(Ts, Hs, Ws)``; where the mask touches the source's own
            edge, the target's differences guide the edges that cross it.
        mask: ``(Ts, Hs, Ws)`` or ``(Hs, Ws)`` bool on the source; ``True`` is copied.
        offset: ``(t, y, x)``: where the source's first voxel lands in the target (may be negative;
            what falls outside the target is dropped).
        mixed: per edge, keep the target's difference where it is larger than the source's.
        tol, max_iter, workers: see :func:`solve_region`.

    Returns:
        ``(result, Clone)``: the whole target with the region solved, float32 (float64 for float64
        input), not clipped.

    Raises:
        InputError: the region does not overlap the target, or covers all of it.
    """
    check_volume(target, "target")
    check_volume(source, "source")
    dt = np.float64 if target.dtype == np.float64 else np.float32
    m = np.asarray(mask, dtype=bool)
    if m.ndim == 2:
        m = np.broadcast_to(m, source.shape[:1] + m.shape)
    if m.shape != source.shape[:3]:
        raise InputError(f"mask {m.shape} does not match the source {source.shape[:3]}")
    if source.shape[3:] != target.shape[3:]:
        raise InputError(f"source has {source.shape[3:]} channels but target has {target.shape[3:]}")
    placed = _placement(source.shape[:3], target.shape[:3], tuple(int(o) for o in offset))
    region = np.zeros(target.shape[:3], dtype=bool)
    if placed is not None:
        region[placed[0]] = m[placed[1]]
    voxels = int(region.sum())
    where = (f"(source {_size(source)}, target {_size(target)}, offset t,y,x "
             f"{','.join(str(int(o)) for o in offset)})")
    if voxels == 0:
        raise InputError(f"the masked region lies outside the target at this offset {where}")
    if region.all():
        raise InputError(f"the masked region covers the whole target: there is no border to blend into {where}")
    box = _bbox(region)
    crop = tuple(slice(max(s.start - 1, 0), min(s.stop + 1, n)) for s, n in zip(box, region.shape, strict=True))
    tgt = _float(target[crop], dt)
    guide = tgt.copy()
    # the source where it overlaps the crop; elsewhere the target (only reached next to the source's edge)
    t_sl, s_sl = placed  # type: ignore[misc]
    lo = [max(a.start, c.start) for a, c in zip(t_sl, crop, strict=True)]
    hi = [min(a.stop, c.stop) for a, c in zip(t_sl, crop, strict=True)]
    in_crop = tuple(slice(a - c.start, b - c.start) for a, b, c in zip(lo, hi, crop, strict=True))
    shift = [ss.start - ts.start for ts, ss in zip(t_sl, s_sl, strict=True)]
    in_src = tuple(slice(a + d, b + d) for a, b, d in zip(lo, hi, shift, strict=True))
    guide[in_crop] = source[in_src]
    inside = np.zeros(tgt.shape[:3], dtype=bool)
    inside[in_crop] = True
    g_target = gradients(tgt)
    # the source says nothing across its own edge (a mask touching its first frame or side): there
    # the target's differences are the guidance
    both = [np.logical_and(inside[_along(a, slice(None, -1))], inside[_along(a, slice(1, None))]) for a in range(3)]
    g = tuple(
        np.where(b[..., None] if tgt.ndim == 4 else b, gs, gt)
        for b, gs, gt in zip(both, gradients(guide), g_target, strict=True)
    )
    if mixed:
        g = mixed_gradients(g, g_target)  # type: ignore[arg-type]
    solved, info = solve_region(
        tgt, region[crop], divergence(g), x0=guide, tol=tol, max_iter=max_iter, workers=workers
    )
    out = _float(target, dt).copy()
    out[crop] = solved
    return out, Clone(crop, voxels, int(m.sum()) - voxels, info)  # type: ignore[arg-type]


def _size(volume: np.ndarray) -> str:
    t, h, w = volume.shape[:3]
    return f"{w}x{h}x{t} frames"


# A solve that stopped at max_iter above tol is kept when its estimated largest error
# (RegionSolve.errors, never below the true error in 319 unconverged solves measured) is under half
# a grey level: rounding to whole grey levels then hides it. Above, the output would show it (one
# CG iteration on a disc-shaped region left 6-29 grey levels of error, measured), and blend refuses.
INVISIBLE_ERROR = 0.5
# Clipping the blended region to 0..255 may change its mean colour by at most this (grey levels,
# in any channel); above, the region's content is lost to saturation and blend refuses. A dark
# source with a bright disc pasted on a bright target (230) solved to 221..451: 36 % of the
# region clipped, its mean colour 139 grey levels from the source's (measured, issue 20).
CLIP_SHIFT = 5.0


def blend(
    source: np.ndarray,
    target: np.ndarray,
    mask: np.ndarray,
    offset: tuple[int, int, int] = (0, 0, 0),
    mixed: bool = False,
    tol: float = 1e-3,
    max_iter: int = 500,
) -> tuple[np.ndarray, Clone]:
    """Paste the ``mask`` region of video ``source`` into video ``target`` seamlessly
    (:func:`seamless_clone`) and round the result to frames. A one-frame ``source`` (an image) is
    pasted into every frame of ``target`` from ``offset`` on. What of the region falls outside the
    target is dropped; the rest is blended exactly as if the source had been cut to it.

    Args:
        source: ``(Ts, Hs, Ws, 3) uint8``.
        target: ``(T, H, W, 3) uint8``.
        mask: ``(Hs, Ws)`` or ``(Ts, Hs, Ws)`` bool: what is pasted.

    Returns:
        ``((T, H, W, 3) uint8, Clone)``.

    Raises:
        InputError: as :func:`seamless_clone`; the solver stopped at ``max_iter`` with an estimated
            error of :data:`INVISIBLE_ERROR` grey levels or more; or the solution leaves 0..255 so far
            that clipping it would change the region's mean colour by more than :data:`CLIP_SHIFT`.
    """
    if source.shape[0] == 1 and target.shape[0] > 1:
        source = np.broadcast_to(source, (target.shape[0],) + source.shape[1:])
        mask = mask if mask.ndim == 2 else mask[0]
    result, clone = seamless_clone(target, source, mask, offset, mixed, tol, max_iter)
    info = clone.solve
    error = max(info.errors)
    if max(info.residuals) > tol and error >= INVISIBLE_ERROR:
        raise InputError(
            f"the Poisson solver did not converge in {max_iter} iteration{'s' * (max_iter != 1)} (relative residual "
            f"{max(info.residuals):.1e}, tolerance {tol:g}): the result could be up to {error:.1f} grey levels off; "
            "allow more iterations"
        )
    solved = result[clone.box]  # outside the region it is the target, already in range
    frames = np.clip(np.rint(result), 0, 255).astype(np.uint8)
    lost = (solved - frames[clone.box]).reshape(-1, solved.shape[-1] if solved.ndim == 4 else 1)
    shift = float(np.abs(lost.sum(axis=0, dtype=np.float64)).max()) / clone.voxels
    clipped = float(np.count_nonzero((solved < -0.5) | (solved > 255.5))) / (clone.voxels * lost.shape[1])
    if shift > CLIP_SHIFT:
        low, high = float(solved.min()), float(solved.max())
        raise InputError(
            f"the blended region does not fit in 0..255 (it spans {low:.0f}..{high:.0f}): clipping {clipped:.0%} "
            f"of its values would move its mean colour by {shift:.0f} grey levels: the source's contrast does not "
            "fit on the target's brightness there (paste it elsewhere, or use a source with less contrast)"
        )
    return frames, dataclasses.replace(clone, clipped=clipped, clip_shift=shift)
