"""Small conic programs with hand-derived answers, and checks of the dual convention.

Shared by the tests of the cvxopt, clarabel, scs and picos backends (not
collected by pytest itself). The programs and their derivations live in the
public conformance library :mod:`gmp_backends.conformance`; this module adds
the checks of the duals: each is checked against gmp/conic.py by recomputing
the dual residual and the dual objective from the program data.
"""
from __future__ import annotations

import numpy as np
import pytest

from gmp.conic import ConicProgram, ConicSolution
from gmp_backends.conformance import (  # noqa: F401  (re-exported for the backend tests)
    get_case,
    infeasible,
    min_t_2x2,
    mixed,
    smallest_eigenvalue,
    unbounded,
)

#: (builder, optimum) of the conformance cases that every backend test checks with its duals.
KNOWN = [(case.build, case.optimum) for case in map(get_case, (
    "sdp_min_t_2x2", "sdp_trace_fixed_offdiag", "lp_only", "sdp_mixed", "sdp_3x3_equalities"))]


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
