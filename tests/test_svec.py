"""Scaled-triangle vectorization: round trips, inner products, and each solver's convention.

The conventions are checked against the solvers themselves, not against our
reading of their documentation: ``min <C, X> s.t. trace X = 1, X ⪰ 0`` equals
``lambda_min(C)`` only when the objective is packed the way the solver packs X.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gmp_backends.svec import (
    SOLVER_TRIANGLE,
    pack,
    packed_size,
    side_of,
    smat,
    svec,
    svec_operator,
    triangle_indices,
)

TRIANGLES = ("lower", "upper")


def random_symmetric(d: int, seed: int) -> np.ndarray:
    M = np.random.default_rng(seed).standard_normal((d, d))
    return M + M.T


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 9), seed=st.integers(0, 2**32 - 1), triangle=st.sampled_from(TRIANGLES))
def test_round_trip_and_inner_product(d, seed, triangle):
    A, B = random_symmetric(d, seed), random_symmetric(d, seed + 1)
    np.testing.assert_allclose(smat(svec(A, triangle), triangle), A, rtol=1e-14, atol=1e-14)
    assert svec(A, triangle) @ svec(B, triangle) == pytest.approx(np.trace(A @ B), rel=1e-12)
    assert svec(A, triangle).shape == (packed_size(d),)


def test_hand_written_orders():
    X = np.array([[1.0, 2.0, 4.0], [2.0, 3.0, 5.0], [4.0, 5.0, 6.0]])
    r = math.sqrt(2)
    np.testing.assert_allclose(svec(X, "lower"), [1, 2 * r, 4 * r, 3, 5 * r, 6])
    np.testing.assert_allclose(svec(X, "upper"), [1, 2 * r, 3, 4 * r, 5 * r, 6])
    assert [list(map(int, a)) for a in triangle_indices(2, "upper")] == [[0, 0, 1], [0, 1, 1]]


@pytest.mark.parametrize("triangle", TRIANGLES)
def test_operator_matches_svec_and_its_transpose_unpacks(triangle):
    d = 5
    S = svec_operator(d, triangle)
    A, Z = random_symmetric(d, 1), random_symmetric(d, 2)
    assert S.shape == (15, 25) and S.nnz == 5 + 2 * 10
    np.testing.assert_allclose(S @ A.ravel(order="F"), svec(A, triangle))
    np.testing.assert_allclose(S.T @ svec(Z, triangle), Z.ravel(order="F"))
    N = np.triu(A)  # not symmetric: packed as its symmetric part
    np.testing.assert_allclose(S @ N.ravel(order="F"), svec((N + N.T) / 2, triangle))


@pytest.mark.parametrize("triangle", TRIANGLES)
def test_pack_columns(triangle):
    d, n = 4, 3
    mats = [random_symmetric(d, k) for k in range(n)]
    F = sp.csc_matrix(np.column_stack([M.ravel(order="F") for M in mats]))
    P = pack(F, d, triangle)
    assert sp.issparse(P) and P.shape == (10, n)
    for k, M in enumerate(mats):
        np.testing.assert_allclose(P[:, [k]].toarray().ravel(), svec(M, triangle))
    np.testing.assert_allclose(pack(mats[0].ravel(order="F"), d, triangle), svec(mats[0], triangle))


def test_bad_sizes_say_what_was_expected():
    with pytest.raises(ValueError, match=r"length d \(d \+ 1\) / 2 \(1, 3, 6, 10, ...\), got 4"):
        side_of(4)
    assert side_of(10) == 4 and side_of(0) == 0
    with pytest.raises(ValueError, match="triangle must be 'lower' or 'upper', got 'full'"):
        svec(np.eye(2), "full")
    with pytest.raises(ValueError, match="square matrix"):
        svec(np.ones((2, 3)))


# -- the solvers' own conventions ------------------------------------------
def eigen_sdp_value(solver: str, triangle: str, scale: float, C: np.ndarray) -> float:
    """min <C, X> s.t. trace X = 1, X in the solver's PSD cone; c packed by (triangle, scale)."""
    d = C.shape[0]
    r, c = triangle_indices(d, triangle)
    T = r.size
    obj = np.where(r == c, 1.0, 2.0 / scale) * C[r, c]  # <C, X> if X packs with `scale`
    trace = (r == c).astype(float)
    A = sp.vstack([sp.csc_matrix(trace), -sp.identity(T)], format="csc")
    b = np.concatenate([[1.0], np.zeros(T)])
    if solver == "clarabel":
        clarabel = pytest.importorskip("clarabel")
        settings_ = clarabel.DefaultSettings()
        settings_.verbose = False
        cones = [clarabel.ZeroConeT(1), clarabel.PSDTriangleConeT(d)]
        sol = clarabel.DefaultSolver(sp.csc_matrix((T, T)), obj, A, b, cones, settings_).solve()
        return sol.obj_val if str(sol.status) == "Solved" else math.nan
    scs = pytest.importorskip("scs")
    res = scs.SCS({"A": A, "b": b, "c": obj}, {"z": 1, "s": [d]}, verbose=False,
                  eps_abs=1e-9, eps_rel=1e-9).solve()
    return res["info"]["pobj"] if res["info"]["status_val"] == 1 else math.nan


@pytest.mark.parametrize("solver", ["clarabel", "scs"])
def test_solver_triangle_conventions(solver):
    C = random_symmetric(4, 0)
    lam = np.linalg.eigvalsh(C)[0]
    right = SOLVER_TRIANGLE[solver]
    wrong = "lower" if right == "upper" else "upper"
    assert eigen_sdp_value(solver, right, math.sqrt(2), C) == pytest.approx(lam, abs=1e-6)
    for triangle, scale in ((right, 1.0), (right, 2.0), (wrong, math.sqrt(2))):
        value = eigen_sdp_value(solver, triangle, scale, C)
        assert not value == pytest.approx(lam, abs=1e-3), (triangle, scale)
