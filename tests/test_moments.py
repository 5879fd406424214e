import numpy as np
import pytest

import gmp
from gmp import MissingMomentError, MomentSequence, variables
from gmp.matrices import localizing_coefficients, moment_coefficients
from gmp.monomials import basis, count


def brute_moment_matrix(points, weights, exps):
    """sum_j w_j v(x_j) v(x_j)^T, with plain Python loops as the independent truth."""
    N = len(exps)
    M = np.zeros((N, N))
    for p, w in zip(points, weights):
        v = np.array([np.prod([pi**ei for pi, ei in zip(p, e)]) for e in exps])
        M += w * np.outer(v, v)
    return M


def test_moment_and_localizing_matrices_equal_brute_force_sums():
    x = variables("x", 3)
    rng = np.random.default_rng(1)
    pts = rng.uniform(-1, 1, (4, 3))
    w = np.array([0.1, 0.2, 0.3, 0.4])
    ms = MomentSequence.from_atoms(x, pts, w, degree=6)
    B = basis(3, 2)
    np.testing.assert_allclose(ms.moment_matrix(2), brute_moment_matrix(pts, w, B), atol=1e-13)
    g = 1 - x[0] ** 2 + 0.5 * x[1] * x[2]
    gw = w * np.array([1 - p[0] ** 2 + 0.5 * p[1] * p[2] for p in pts])
    np.testing.assert_allclose(ms.localizing_matrix(g, 2), brute_moment_matrix(pts, gw, B), atol=1e-13)
    # the sparse SDP coefficients give the same matrices from the same y
    F = moment_coefficients(3, 3)
    N = count(3, 3)
    np.testing.assert_allclose((F @ ms.values).reshape(N, N, order="F"), ms.moment_matrix(3), atol=1e-13)
    e, c = g.terms_in(x)
    FL, _, NL = localizing_coefficients(3, 3, e, c)
    np.testing.assert_allclose((FL @ ms.values).reshape(NL, NL, order="F"), ms.localizing_matrix(g, 2), atol=1e-13)


def test_riesz_functional_is_integral_against_atoms():
    x, y = variables("x y")
    pts = np.array([[1.0, 2.0], [-0.5, 0.3], [0.2, -1.0]])
    w = np.array([0.2, 0.5, 0.3])
    ms = MomentSequence.from_atoms([x, y], pts, w, degree=4)
    p = x**3 * y - 2 * y**2 + 1
    assert ms.riesz(p) == pytest.approx(float(w @ p.evaluate(pts, [x, y])), abs=1e-14)
    assert ms.mass == pytest.approx(1.0)
    assert ms[(1, 2)] == pytest.approx(float(w @ (pts[:, 0] * pts[:, 1] ** 2)))


def test_missing_moment_is_not_zero():
    x, y = variables("x y")
    ms = MomentSequence.from_dict([x, y], {(0, 0): 1.0, (1, 0): 0.5})
    assert ms[(1, 0)] == 0.5
    with pytest.raises(MissingMomentError, match=r"moment of y is unknown in this sequence \(a missing moment is not zero\)"):
        ms[(0, 1)]
    with pytest.raises(MissingMomentError, match=r"moment of x\^2\*y \(degree 3\) is not held: this sequence stops at degree 1"):
        ms.riesz(x**2 * y)
    with pytest.raises(MissingMomentError):
        ms.moment_matrix(1)


def test_bad_moment_sequence_inputs():
    x = variables("x", 2)
    with pytest.raises(gmp.ModelError, match=r"a moment sequence of degree 2 in 2 variables has 6 moments, got 5 values"):
        MomentSequence(x, 2, np.zeros(5))
    with pytest.raises(gmp.ModelError, match=r"points must have shape \(2, 2\) for 2 weights and 2 variables, got \(2, 3\)"):
        MomentSequence.from_atoms(x, np.zeros((2, 3)), [0.5, 0.5], 2)
