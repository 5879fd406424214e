"""Small conic programs with hand-derived answers, and checks of the dual convention.

Shared by the tests of the clarabel, scs and picos backends (not collected by
pytest itself). Every optimum is derived in its docstring; every dual is
checked against gmp/conic.py by recomputing the dual residual and the dual
objective from the program data.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from gmp.conic import ConicProgram, ConicSolution, PSDBlock


def sym(d: int, i: int, j: int) -> np.ndarray:
    """The symmetric unit matrix with ones at (i, j) and (j, i)."""
    M = np.zeros((d, d))
    M[i, j] = M[j, i] = 1.0
    return M


def block(coeffs: list[np.ndarray], const: np.ndarray | None = None, name: str = "") -> PSDBlock:
    """mat(F0 + F @ x) ⪰ 0 with ``coeffs[i]`` the matrix of x[i]."""
    d = coeffs[0].shape[0]
    F = np.column_stack([C.reshape(-1, order="F") for C in coeffs])
    F0 = np.zeros(d * d) if const is None else np.asarray(const, float).reshape(-1, order="F")
    return PSDBlock(d, sp.csc_matrix(F), F0, name)


def full_matrix_block(d: int) -> PSDBlock:
    """X ⪰ 0 with one variable per entry of the lower triangle (column-major order)."""
    return block([sym(d, i, j) for j in range(d) for i in range(j, d)])


def min_t_2x2() -> ConicProgram:
    """min t s.t. [[t, 1], [1, t]] ⪰ 0: optimum 1 (the eigenvalues are t ± 1)."""
    return ConicProgram(c=[1.0], psd=(block([np.eye(2)], sym(2, 0, 1)),))


def trace_fixed_offdiag() -> ConicProgram:
    """min x11 + x22 s.t. x12 == 1, [[x11, x12], [x12, x22]] ⪰ 0: optimum 2 at x11 = x22 = 1."""
    return ConicProgram(c=[1.0, 0.0, 1.0], A_eq=[[0.0, 1.0, 0.0]], b_eq=[1.0],
                        psd=(full_matrix_block(2),))


def lp_only() -> ConicProgram:
    """min 1.5 - x1 - 2 x2 s.t. x1 + x2 <= 4, x1 <= 3, x >= 0: optimum 1.5 - 8 at (0, 4)."""
    return ConicProgram(c=[-1.0, -2.0], c0=1.5,
                        A_ineq=[[1, 1], [1, 0], [-1, 0], [0, -1]], b_ineq=[4, 3, 0, 0])


def mixed() -> ConicProgram:
    """max x12 s.t. x11 + x22 == 2, x11 <= 1/2, X ⪰ 0, [[1, x12], [x12, 1]] ⪰ 0, plus 2.

    x12**2 <= x11 (2 - x11) grows with x11 on [0, 1], so x11 = 1/2 and the
    optimum is 2 - sqrt(3/4).
    """
    Z = np.zeros((2, 2))
    return ConicProgram(c=[0.0, -1.0, 0.0], c0=2.0, A_eq=[[1, 0, 1]], b_eq=[2],
                        A_ineq=[[1, 0, 0]], b_ineq=[0.5],
                        psd=(full_matrix_block(2), block([Z, sym(2, 0, 1), Z], np.eye(2))))


def three_by_three_with_equalities() -> ConicProgram:
    """min <C, X> s.t. X11 + X22 + X33 == 1, X12 == X13 == 0, X ⪰ 0.

    With C = [[2, 5, 5], [5, 1, -1], [5, -1, 3]], X = diag(X11) ⊕ Y: the
    optimum is min(2, lambda_min([[1, -1], [-1, 3]])) = 2 - sqrt(2).
    """
    C = np.array([[2.0, 5, 5], [5, 1, -1], [5, -1, 3]])
    idx = [(i, j) for j in range(3) for i in range(j, 3)]  # (0,0) (1,0) (2,0) (1,1) (2,1) (2,2)
    c = [C[i, j] * (1 if i == j else 2) for i, j in idx]
    A_eq = [[float(i == j) for i, j in idx], [float((i, j) == (1, 0)) for i, j in idx],
            [float((i, j) == (2, 0)) for i, j in idx]]
    return ConicProgram(c=c, A_eq=A_eq, b_eq=[1.0, 0.0, 0.0], psd=(full_matrix_block(3),))


def smallest_eigenvalue(C: np.ndarray) -> ConicProgram:
    """min <C, X> s.t. trace X == 1, X ⪰ 0: optimum lambda_min(C)."""
    d = C.shape[0]
    idx = [(i, j) for j in range(d) for i in range(j, d)]
    c = [C[i, j] * (1 if i == j else 2) for i, j in idx]
    return ConicProgram(c=c, A_eq=[[float(i == j) for i, j in idx]], b_eq=[1.0],
                        psd=(full_matrix_block(d),))


def infeasible() -> ConicProgram:
    """-1 - x >= 0 and x >= 0, as two 1 x 1 PSD blocks."""
    return ConicProgram(c=[1.0], psd=(block([-np.eye(1)], -np.eye(1)), block([np.eye(1)])))


def unbounded() -> ConicProgram:
    """min -x11 s.t. x12 == 1, X ⪰ 0: unbounded along the ray x11 -> inf."""
    return ConicProgram(c=[-1.0, 0.0, 0.0], A_eq=[[0.0, 1.0, 0.0]], b_eq=[1.0],
                        psd=(full_matrix_block(2),))


KNOWN = [
    (min_t_2x2, 1.0),
    (trace_fixed_offdiag, 2.0),
    (lp_only, 1.5 - 8.0),
    (mixed, 2.0 - math.sqrt(0.75)),
    (three_by_three_with_equalities, 2.0 - math.sqrt(2.0)),
]


def assert_dual_certificate(program: ConicProgram, sol: ConicSolution, tol: float = 1e-6) -> None:
    """The duals satisfy the convention of gmp/conic.py and close the gap."""
    r = program.c + program.A_eq.T @ sol.y_eq + program.A_ineq.T @ sol.z_ineq
    for blk, Z in zip(program.psd, sol.Z_psd):
        r = r - blk.F.T @ Z.reshape(-1, order="F")
    assert np.max(np.abs(r), initial=0.0) < tol, f"dual residual {r}"
    assert np.all(sol.z_ineq >= -tol)
    for Z in sol.Z_psd:
        np.testing.assert_allclose(Z, Z.T)
        assert np.linalg.eigvalsh(Z)[0] >= -tol
    dual = (program.c0 - program.b_eq @ sol.y_eq - program.b_ineq @ sol.z_ineq
            - sum(blk.F0 @ Z.reshape(-1, order="F") for blk, Z in zip(program.psd, sol.Z_psd)))
    assert dual == pytest.approx(sol.dual_objective, abs=tol)
    assert sol.dual_objective == pytest.approx(sol.primal_objective, abs=10 * tol)
    assert program.objective(sol.x) == pytest.approx(sol.primal_objective, abs=tol)


def assert_infeasibility_certificate(program: ConicProgram, cert: dict, tol: float = 1e-6) -> None:
    """A dual ray: zero dual residual without c, dual objective 1, in the dual cones."""
    ray = program.A_eq.T @ cert["y_eq"] + program.A_ineq.T @ cert["z_ineq"] - sum(
        blk.F.T @ Z.reshape(-1, order="F") for blk, Z in zip(program.psd, cert["Z_psd"]))
    assert np.max(np.abs(ray), initial=0.0) < tol
    value = -(program.b_eq @ cert["y_eq"] + program.b_ineq @ cert["z_ineq"] + sum(
        blk.F0 @ Z.reshape(-1, order="F") for blk, Z in zip(program.psd, cert["Z_psd"])))
    assert value == pytest.approx(1.0)
    assert all(np.linalg.eigvalsh(Z)[0] >= -tol for Z in cert["Z_psd"])


def assert_unbounded_direction(program: ConicProgram, d: np.ndarray, tol: float = 1e-6) -> None:
    """A primal ray: c @ d == -1, A_eq d == 0, A_ineq d <= 0, F_j d ⪰ 0."""
    assert program.c @ d == pytest.approx(-1.0)
    assert np.max(np.abs(program.A_eq @ d), initial=0.0) < tol
    assert np.max(program.A_ineq @ d, initial=0.0) < tol
    for blk in program.psd:
        M = (blk.F @ d).reshape(blk.dim, blk.dim, order="F")
        assert np.linalg.eigvalsh(M)[0] >= -tol * max(1.0, np.abs(M).max())
