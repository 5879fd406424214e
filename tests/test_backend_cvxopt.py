"""The cvxopt backend on small programs with known answers.

The programs come from gmp_backends.conformance: every optimum is checked
against a value derived by hand (or an eigenvalue), and every dual against the
convention of gmp/conic.py by recomputing the dual residual and dual objective
from the program data.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

cvxopt = pytest.importorskip("cvxopt")
from cvxopt import solvers  # noqa: E402
from sdp_cases import KNOWN, assert_dual_certificate  # noqa: E402

from gmp.conic import ConicProgram  # noqa: E402
from gmp.errors import ModelError, OptionError  # noqa: E402
from gmp.status import Status  # noqa: E402
from gmp_backends import SolverOptions  # noqa: E402
from gmp_backends import cvxopt_backend as cb  # noqa: E402
from gmp_backends.conformance import (  # noqa: E402
    block,
    full_matrix_block,
    infeasible,
    min_t_2x2,
    mixed,
    smallest_eigenvalue,
    unbounded_weak,
)
from gmp_backends.cvxopt_backend import CvxoptBackend  # noqa: E402
from gmp_backends.scripted import ScriptedBackend  # noqa: E402


@pytest.fixture
def backend() -> CvxoptBackend:
    return CvxoptBackend()


# -- optima and duals ------------------------------------------------------
@pytest.mark.parametrize("make, optimum", KNOWN, ids=[k[0].__name__ for k in KNOWN])
def test_known_optimum_and_dual_certificate(backend, make, optimum):
    program = make()
    sol = backend.run(program)
    assert sol.status is Status.OPTIMAL and sol.raw_status == "optimal"
    assert sol.primal_objective == pytest.approx(optimum, abs=1e-6)
    assert sol.backend == "cvxopt" and sol.iterations > 0 and sol.solve_time > 0
    assert sol.info["relative_gap"] is None or sol.info["relative_gap"] < 1e-5
    assert_dual_certificate(program, sol)


def test_mixed_solution_point(backend):
    sol = backend.run(mixed())
    np.testing.assert_allclose(sol.x, [0.5, math.sqrt(0.75), 1.5], atol=1e-6)
    assert sol.z_ineq[0] > 0.1  # the inequality x11 <= 1/2 is active
    np.testing.assert_allclose(sol.Z_psd[1], 0, atol=1e-6)  # |x12| <= 1 is not


@pytest.mark.parametrize("seed", range(5))
def test_random_eigenvalue_sdp(backend, seed):
    rng = np.random.default_rng(seed)
    d = 2 + seed % 4
    M = rng.standard_normal((d, d))
    C = M + M.T
    program = smallest_eigenvalue(C)
    sol = backend.run(program, {"tol": 1e-9})
    assert sol.status is Status.OPTIMAL
    assert sol.primal_objective == pytest.approx(np.linalg.eigvalsh(C)[0], abs=1e-6)
    assert_dual_certificate(program, sol)


def test_min_t_dual_matrix(backend):
    # Z = v v^T / 2 with v = (1, -1): the certificate that t >= 1
    sol = backend.run(min_t_2x2())
    np.testing.assert_allclose(sol.Z_psd[0], [[0.5, -0.5], [-0.5, 0.5]], atol=1e-6)


# -- infeasible, unbounded, limits -----------------------------------------
def test_infeasible(backend):
    program = infeasible()  # -1 - x >= 0 and x >= 0
    sol = backend.run(program)
    assert sol.status is Status.INFEASIBLE and sol.raw_status == "primal infeasible"
    assert sol.x is None and not sol.status.has_solution
    cert = sol.info["infeasibility_certificate"]
    # a dual ray: dual residual 0 without c, dual objective +1
    ray = sum(blk.F.T @ Z.ravel() for blk, Z in zip(program.psd, cert["Z_psd"]))
    assert abs(ray[0]) < 1e-6
    assert -sum(blk.F0 @ Z.ravel() for blk, Z in zip(program.psd, cert["Z_psd"])) == pytest.approx(1)


def test_unbounded(backend):
    program = unbounded_weak()  # min x s.t. [[1, x], [x, y]] ⪰ 0: x -> -inf with y = x**2
    sol = backend.run(program)
    assert sol.status is Status.UNBOUNDED and sol.raw_status == "dual infeasible"
    assert sol.x is None
    assert sol.info["unbounded_direction"][0] == pytest.approx(-1.0)  # c @ ray == -1


def test_iteration_limit(backend):
    sol = backend.run(smallest_eigenvalue(np.diag([3.0, 1.0, 2.0])), {"max_iters": 2})
    assert sol.status is Status.ITERATION_LIMIT and sol.raw_status == "unknown"
    assert sol.iterations == 2
    assert "iteration limit (2)" in sol.message and "raise max_iters" in sol.message
    assert sol.x is not None and sol.x.shape == (6,)  # the last iterate, for inspection


@pytest.mark.parametrize("info, status", [
    # whether the last point is nearly optimal is the core's call (gmp.assess), not the backend's
    (dict(pres=1e-7, dres=1e-7, relgap=1e-6, it=30), Status.NUMERICAL_ERROR),
    (dict(pres=1e-2, dres=1e-7, relgap=1e-6, it=100), Status.ITERATION_LIMIT),
    (dict(pres=1e-2, dres=1e-3, relgap=1e-1, it=12), Status.NUMERICAL_ERROR),
])
def test_unknown_status_is_classified(info, status):
    res = {"primal infeasibility": info["pres"], "dual infeasibility": info["dres"],
           "relative gap": info["relgap"], "gap": 1.0, "primal objective": -1.0,
           "iterations": info["it"], "options": {},
           "residual as primal infeasibility certificate": None,
           "residual as dual infeasibility certificate": None}
    got, message = cb._classify_unknown(res, SolverOptions(), "figures")
    assert got is status and "figures" in message


# -- equality rows and degenerate programs ---------------------------------
def test_redundant_equality_rows_are_dropped(backend):
    # cvxopt alone stalls on these rows (status 'unknown' after 100 iterations)
    base = smallest_eigenvalue(np.diag([3.0, 1.0]))
    program = ConicProgram(c=base.c, A_eq=[[1, 0, 1], [2, 0, 2], [1, 0, 1]], b_eq=[1, 2, 1],
                           psd=base.psd)
    sol = backend.run(program)
    assert sol.status is Status.OPTIMAL
    assert sol.primal_objective == pytest.approx(1.0, abs=1e-6)
    assert len(sol.info["redundant_eq_rows"]) == 2
    assert_dual_certificate(program, sol)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), rank=st.integers(1, 5), extra=st.integers(0, 4))
def test_dependent_rows_are_found(seed, rank, extra):
    # rows = [B; W @ B] shuffled, B of full row rank: exactly `extra` rows are redundant
    rng = np.random.default_rng(seed)
    n = rank + 3
    B = rng.integers(-3, 4, size=(rank, n)).astype(float)
    B[:, :rank] += 10 * np.eye(rank)  # diagonally dominant: full row rank
    W = rng.integers(-2, 3, size=(extra, rank)).astype(float)
    perm = rng.permutation(rank + extra)
    A = np.vstack([B, W @ B])[perm]
    b = A @ rng.standard_normal(n)
    red = cb._independent_rows(sp.csr_matrix(A), b)
    assert red.keep.size == rank and red.dropped.size == extra and not red.inconsistent
    assert np.linalg.matrix_rank(A[red.keep]) == rank
    if extra:
        b[red.dropped[0]] += 1e-3
        assert cb._independent_rows(sp.csr_matrix(A), b).inconsistent


def test_inconsistent_redundant_rows_are_infeasible_without_solving(backend, monkeypatch):
    called = []
    monkeypatch.setattr(solvers, "conelp", lambda *a, **k: called.append(1))
    program = ConicProgram(c=[0.0, -1.0, 0.0], A_eq=[[1, 0, 1], [2, 0, 2]], b_eq=[2, 5],
                           psd=(full_matrix_block(2),))
    sol = backend.run(program)
    assert sol.status is Status.INFEASIBLE and called == []
    assert "right-hand sides disagree" in sol.message


def test_variable_in_no_constraint_is_named(backend):
    program = ConicProgram(c=[1.0, 0.0], psd=(block([np.eye(1), np.zeros((1, 1))]),),
                           var_names=("m_0", "m_x"))
    sol = backend.run(program)
    assert sol.status is Status.SOLVER_ERROR
    assert "these variables appear in no constraint: m_x" in sol.message


@pytest.mark.parametrize("c, status, value", [
    ([1.0, 1.0], Status.OPTIMAL, 3.0),      # c is in the row space of A_eq
    ([1.0, 0.0], Status.UNBOUNDED, None),
])
def test_equalities_only(backend, c, status, value):
    program = ConicProgram(c=c, A_eq=[[1.0, 1.0]], b_eq=[3.0])
    sol = backend.run(program)
    assert sol.status is status
    if value is not None:
        assert sol.primal_objective == pytest.approx(value)
        assert_dual_certificate(program, sol)


def test_inconsistent_equalities_only(backend):
    sol = backend.run(ConicProgram(c=[1.0], A_eq=[[1.0], [1.0]], b_eq=[1.0, 2.0]))
    assert sol.status is Status.INFEASIBLE


# -- validation, options, failures -----------------------------------------
def test_nan_is_a_model_error_before_any_solver(backend, monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("cvxopt was called with NaN data")

    monkeypatch.setattr(solvers, "conelp", must_not_run)
    program = ConicProgram(c=[1.0], psd=(block([np.eye(2)], [[0, np.nan], [np.nan, 0]]),))
    with pytest.raises(ModelError, match="non-finite value"):
        backend.run(program)
    fake = ScriptedBackend([])
    with pytest.raises(ModelError, match="objective vector c"):
        fake.run(ConicProgram(c=[np.inf]))
    assert fake.calls == []


@pytest.fixture
def user_options(monkeypatch):
    """cvxopt's global options as a user left them."""
    opts = {"refinement": 3, "show_progress": True, "user_key": "kept"}
    monkeypatch.setattr(solvers, "options", opts)
    return opts


def test_options_set_during_and_restored_after_solve(backend, monkeypatch, user_options):
    before = dict(user_options)
    seen = []
    real = solvers.conelp

    def spy(*args, **kwargs):
        seen.append((dict(solvers.options), kwargs["options"]))
        return real(*args, **kwargs)

    monkeypatch.setattr(solvers, "conelp", spy)
    sol = backend.run(min_t_2x2(), SolverOptions(tol=1e-9, max_iters=50))
    assert sol.status is Status.OPTIMAL
    global_opts, passed = seen[0]
    expected = {"refinement": 3, "show_progress": False, "user_key": "kept",
                "abstol": 1e-9, "reltol": 1e-9, "feastol": 1e-9, "maxiters": 50}
    assert global_opts == expected and passed == expected
    assert solvers.options is user_options and user_options == before


def test_options_restored_after_exception(backend, monkeypatch, user_options):
    before = dict(user_options)

    def boom(*args, **kwargs):
        assert solvers.options["maxiters"] == 7
        raise RuntimeError("boom in the KKT solver")

    monkeypatch.setattr(solvers, "conelp", boom)
    sol = backend.run(min_t_2x2(), {"max_iters": 7})
    assert sol.status is Status.SOLVER_ERROR
    assert "cvxopt failed with RuntimeError: boom in the KKT solver" in sol.message
    assert user_options == before


def test_extra_options_pass_through_and_unknown_ones_raise(backend):
    sol = backend.run(min_t_2x2(), {"extra": {"refinement": 2, "kktsolver": "ldl"}})
    assert sol.status is Status.OPTIMAL and sol.info["cvxopt_options"]["refinement"] == 2
    with pytest.raises(OptionError) as err:
        backend.run(min_t_2x2(), {"extra": {"max_iter": 5}})
    assert str(err.value) == (
        "unknown cvxopt option 'max_iter' in extra; cvxopt accepts abstol, reltol, feastol, "
        "maxiters, show_progress, refinement, kktreg, debug and kktsolver")


def test_time_limit_warns(backend):
    with pytest.warns(UserWarning, match="time_limit") as record:
        sol = backend.run(min_t_2x2(), {"time_limit": 10})
    assert sol.status is Status.OPTIMAL
    assert str(record[0].message) == (
        "backend 'cvxopt' cannot honour solver option time_limit=10.0; it is ignored; "
        "cvxopt has no time limit; bound the work with max_iters instead")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        backend.run(min_t_2x2(), {"tol": 1e-8, "max_iters": 80, "verbose": False})


def test_availability_of_cvxopt(backend):
    cheap = backend.availability()
    assert cheap.installed and cheap.importable is None and cheap.level == "installed"
    full = backend.availability(check_import=True)
    assert full.usable and full.level == "usable" and full.reason == ""


def test_too_big_for_cvxopt_is_refused_before_allocating(backend, monkeypatch):
    monkeypatch.setattr(cb, "_memory_limit", lambda: 287.0)
    monkeypatch.setattr(solvers, "conelp", lambda *a, **k: pytest.fail("cvxopt was called"))
    sol = backend.run(mixed())
    assert sol.status is Status.SOLVER_ERROR and sol.raw_status == "not attempted"
    # (1 inequality + 2*2 + 2*2 PSD entries + 3 variables) * 3 variables * 8 bytes = 288
    assert "cvxopt would need about 0.0 GB" in sol.message and "clarabel, mosek" in sol.message
