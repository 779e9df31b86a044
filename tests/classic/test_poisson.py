"""Space-time Poisson solvers: known volumes recovered from their Laplacians, the solvers agreeing
with each other, periodicity, and seamless cloning with a known answer."""

import numpy as np
import pytest

from patchvid.classic import poisson as P


def volume(shape, seed=0):
    return np.random.default_rng(seed).random(shape) * 100


def stencil(u):
    """The 7-point Laplacian at interior voxels, written out."""
    c = u[1:-1, 1:-1, 1:-1]
    return (u[:-2, 1:-1, 1:-1] + u[2:, 1:-1, 1:-1] + u[1:-1, :-2, 1:-1] + u[1:-1, 2:, 1:-1]
            + u[1:-1, 1:-1, :-2] + u[1:-1, 1:-1, 2:] - 6 * c)


def test_laplacian_is_the_7_point_stencil_and_div_of_grad():
    u = volume((6, 7, 8))
    lap = P.laplacian(u)
    assert np.allclose(lap[1:-1, 1:-1, 1:-1], stencil(u))
    assert np.allclose(P.divergence(P.gradients(u)), lap)
    # zero flux at the border: a Neumann Laplacian sums to zero
    assert abs(lap.sum()) < 1e-9 * np.abs(lap).sum()


@pytest.mark.parametrize("shape", [(7, 9, 11), (5, 6, 7, 3)])
def test_box_solver_recovers_a_volume_from_its_laplacian(shape):
    u = volume(shape)
    boundary = u.copy()
    boundary[1:-1, 1:-1, 1:-1] = 0  # only the shell is known
    out = P.solve_box(boundary, P.laplacian(u))
    assert np.abs(out - u).max() < 1e-6


def test_box_solver_keeps_float32():
    u = volume((5, 6, 7)).astype(np.float32)
    out = P.solve_box(u, P.laplacian(u))
    assert out.dtype == np.float32
    assert np.abs(out - u).max() < 1e-2


@pytest.mark.parametrize("screen", [0.0, 1e-3, 0.5])
def test_periodic_solver_recovers_a_volume(screen):
    u = volume((8, 6, 7, 2), seed=1)
    out = P.solve_periodic(P.laplacian(u, periodic=True), u, screen)
    assert np.abs(out - u).max() < 1e-6


def test_periodic_solver_is_periodic_in_time():
    rng = np.random.default_rng(2)
    div = rng.normal(size=(10, 6, 5))
    u0 = rng.normal(size=(10, 6, 5))
    u = P.solve_periodic(div, u0, 0.01)
    # it satisfies the equation with frame T-1 next to frame 0 ...
    assert np.allclose(0.01 * u - P.laplacian(u, periodic=True), 0.01 * u0 - div)
    # ... and a shift in time of the data shifts the solution the same way (no first or last frame)
    shifted = P.solve_periodic(np.roll(div, 3, 0), np.roll(u0, 3, 0), 0.01)
    assert np.allclose(shifted, np.roll(u, 3, 0))
    # the non-periodic Laplacian would not satisfy it
    assert not np.allclose(0.01 * u - P.laplacian(u), 0.01 * u0 - div)


def test_irregular_solver_recovers_a_volume():
    u = volume((7, 8, 9, 3), seed=3)
    mask = np.random.default_rng(4).random(u.shape[:3]) < 0.4
    start = np.where(mask[..., None], 0, u)
    out, info = P.solve_region(start, mask, P.laplacian(u), tol=1e-12)
    assert np.abs(out - u).max() < 1e-6
    assert info.unknowns == mask.sum()
    assert np.array_equal(out[~mask], u[~mask])  # nothing outside the region moves


def test_irregular_solver_agrees_with_box_solver_on_a_box():
    u = volume((7, 8, 9), seed=5)
    rhs = np.random.default_rng(6).normal(size=u.shape)
    mask = np.zeros(u.shape, dtype=bool)
    mask[1:-1, 1:-1, 1:-1] = True
    box = P.solve_box(u, rhs)
    region, info = P.solve_region(u, mask, rhs, tol=1e-12)
    assert np.abs(region - box).max() < 1e-8
    assert info.iterations == [1]  # the box preconditioner is exact on a box


def test_preconditioner_is_exact_on_a_box_touching_the_border_and_helps_elsewhere():
    u = volume((8, 9, 10), seed=7)
    mask = np.zeros(u.shape, dtype=bool)
    mask[:, 2:6, 3:10] = True  # every frame, and the right edge: no flux there
    out, info = P.solve_region(np.where(mask, 0, u), mask, P.laplacian(u), tol=1e-10)
    assert np.abs(out - u).max() < 1e-6
    assert info.iterations == [1]
    _, plain = P.solve_region(np.where(mask, 0, u), mask, P.laplacian(u), tol=1e-10, preconditioner="none")
    assert plain.iterations[0] > 5


def test_close_loop_equals_the_periodic_solver():
    video = volume((9, 8, 10, 3), seed=8)
    for screen in (1e-3, 0.1):
        fast = P.close_loop(video, screen)
        full = P.solve_periodic(P.divergence(P.loop_guidance(video)), video, screen)
        assert np.abs(fast - full).max() < 1e-6


def test_close_loop_makes_the_wrap_a_normal_step():
    t = np.arange(12, dtype=np.float64)
    video = np.broadcast_to((t * 10)[:, None, None], (12, 4, 5)).copy()  # a ramp: a jump of 110 at the wrap
    closed = P.close_loop(video, 1e-3)
    wrap = np.abs(closed[0] - closed[-1]).max()
    assert wrap < 15  # about one ordinary step of 10
    assert np.abs(video[0] - video[-1]).max() == 110


def test_seamless_clone_of_a_shifted_copy_gives_back_the_target():
    """A source equal to the target plus a constant has the target's gradients: cloning it must
    give the target back (the constant is what seamless cloning removes)."""
    target = volume((6, 20, 24, 3), seed=9)
    source = target[1:5, 4:16, 6:20] + 40
    mask = np.zeros(source.shape[:3], dtype=bool)
    mask[:, 2:10, 3:12] = True
    mask[:, 5, 12:13] = True  # not a box
    out, clone = P.seamless_clone(target, source, mask, offset=(1, 4, 6), tol=1e-10)
    assert np.abs(out - target).max() < 1e-5
    naive = target.copy()
    naive[1:5, 4:16, 6:20][mask] = source[mask]
    assert np.abs(naive - target).max() == pytest.approx(40)  # the paste alone would show
    assert clone.voxels == mask.sum() and clone.outside == 0


def test_mixed_gradients_keep_the_stronger_edge():
    a = (np.array([1.0, -5.0]), np.array([0.0]), np.array([2.0]))
    b = (np.array([-3.0, 1.0]), np.array([4.0]), np.array([-1.0]))
    out = P.mixed_gradients(a, b)
    assert out[0].tolist() == [-3.0, -5.0] and out[1].tolist() == [4.0] and out[2].tolist() == [2.0]


def test_clone_errors():
    target = volume((4, 10, 10, 3))
    source = volume((4, 5, 5, 3))
    mask = np.ones((5, 5), dtype=bool)
    with pytest.raises(ValueError, match="outside the target"):
        P.seamless_clone(target, source, mask, offset=(0, 20, 0))
    with pytest.raises(ValueError, match="selects no voxels"):
        P.solve_region(target, np.zeros(target.shape[:3], bool), target)
    with pytest.raises(ValueError, match="whole volume"):
        P.solve_region(target, np.ones(target.shape[:3], bool), target)
    with pytest.raises(ValueError, match="does not match"):
        P.solve_region(target, np.ones((4, 10, 9), bool), target)
