"""The Clarabel backend on small programs with known answers, in both formulations.

Optima are derived by hand (tests/sdp_cases.py); duals are checked against the
convention of gmp/conic.py by recomputing the dual residual and objective.
"""
from __future__ import annotations

import warnings
from types import SimpleNamespace

import numpy as np
import pytest

clarabel = pytest.importorskip("clarabel")

from sdp_cases import (  # noqa: E402
    KNOWN,
    assert_dual_certificate,
    assert_infeasibility_certificate,
    assert_unbounded_direction,
    infeasible,
    min_t_2x2,
    mixed,
    smallest_eigenvalue,
    unbounded,
)

import gmp  # noqa: E402
from gmp.conic import ConicProgram  # noqa: E402
from gmp.errors import ModelError, OptionError  # noqa: E402
from gmp.status import Status  # noqa: E402
from gmp.testing import get_problem  # noqa: E402
from gmp_backends import SolverOptions, get_backend  # noqa: E402
from gmp_backends import clarabel_backend as cb  # noqa: E402
from gmp_backends.clarabel_backend import ClarabelBackend  # noqa: E402
from gmp_backends.standard_form import build_standard_form  # noqa: E402

FORMS = ("moment", "dual")


@pytest.fixture
def backend() -> ClarabelBackend:
    return ClarabelBackend()


def form_options(form: str, **kw) -> SolverOptions:
    return SolverOptions(extra={"formulation": form}, **kw)


# -- optima and duals ------------------------------------------------------
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("make, optimum", KNOWN, ids=[k[0].__name__ for k in KNOWN])
def test_known_optimum_and_dual_certificate(backend, make, optimum, form):
    program = make()
    sol = backend.run(program, form_options(form))
    assert sol.status is Status.OPTIMAL and sol.raw_status == "Solved"
    assert sol.primal_objective == pytest.approx(optimum, abs=1e-6)
    assert sol.backend == "clarabel" and sol.iterations > 0 and sol.solve_time > 0
    assert sol.info["formulation"] == form and sol.info["relative_gap"] < 1e-6
    assert_dual_certificate(program, sol)


@pytest.mark.parametrize("form", FORMS)
def test_dual_matrices_are_unscaled(backend, form):
    # Z = v v^T / 2 with v = (1, -1) certifies t >= 1; a missed 1/sqrt(2) would show here
    sol = backend.run(min_t_2x2(), form_options(form))
    np.testing.assert_allclose(sol.Z_psd[0], [[0.5, -0.5], [-0.5, 0.5]], atol=1e-6)
    sol = backend.run(mixed(), form_options(form))
    np.testing.assert_allclose(sol.x, [0.5, np.sqrt(0.75), 1.5], atol=1e-6)
    assert sol.z_ineq[0] > 0.1  # x11 <= 1/2 is active
    np.testing.assert_allclose(sol.Z_psd[1], 0, atol=1e-6)  # |x12| <= 1 is not


@pytest.mark.parametrize("seed", range(3))
def test_random_eigenvalue_sdp(backend, seed):
    rng = np.random.default_rng(seed)
    M = rng.standard_normal((4, 4))
    C = M + M.T
    program = smallest_eigenvalue(C)
    sol = backend.run(program, {"tol": 1e-9})
    assert sol.primal_objective == pytest.approx(np.linalg.eigvalsh(C)[0], abs=1e-7)
    assert_dual_certificate(program, sol)


def test_six_hump_camel_order_3():
    known = get_problem("six_hump_camel")
    res = known.build().solve(order=3, backend="clarabel")
    assert res.backend == "clarabel"
    assert res.bound == pytest.approx(known.optimum, rel=1e-6)
    assert res.certified


def test_moment_relaxation_both_forms_agree():
    x = gmp.variables("x", 3)
    f = x[0] ** 4 + x[1] ** 3 - x[0] * x[1] * x[2] + x[2] ** 2 - x[0]
    mu = gmp.Measure(x, support=[1 - sum(v ** 2 for v in x) >= 0])
    program, _ = gmp.build_relaxation(gmp.GMP(gmp.minimize(mu.E(f))), 2)
    sols = [ClarabelBackend().run(program, form_options(form)) for form in FORMS]
    assert sols[0].primal_objective == pytest.approx(sols[1].primal_objective, rel=1e-6)
    for sol in sols:
        assert sol.status.has_solution
        assert_dual_certificate(program, sol, tol=1e-5)


# -- infeasible, unbounded, limits -----------------------------------------
@pytest.mark.parametrize("form, raw", [("moment", "PrimalInfeasible"), ("dual", "DualInfeasible")])
def test_infeasible(backend, form, raw):
    program = infeasible()
    sol = backend.run(program, form_options(form))
    assert sol.status is Status.INFEASIBLE and sol.raw_status == raw
    assert sol.x is None and "proved the program infeasible" in sol.message
    assert_infeasibility_certificate(program, sol.info["infeasibility_certificate"])


@pytest.mark.parametrize("form, raw", [("moment", "DualInfeasible"), ("dual", "PrimalInfeasible")])
def test_unbounded(backend, form, raw):
    program = unbounded()
    sol = backend.run(program, form_options(form))
    assert sol.status is Status.UNBOUNDED and sol.raw_status == raw
    assert sol.x is None
    assert_unbounded_direction(program, sol.info["unbounded_direction"])


def test_iteration_limit(backend):
    sol = backend.run(smallest_eigenvalue(np.diag([3.0, 1.0, 2.0])), {"max_iters": 2})
    assert sol.status is Status.ITERATION_LIMIT and sol.raw_status == "MaxIterations"
    assert "iteration limit (2)" in sol.message and sol.x is not None


def test_time_limit(backend):
    C = np.diag(np.arange(12.0)) + 0.1
    sol = backend.run(smallest_eigenvalue(C), {"time_limit": 1e-9})
    assert sol.status is Status.TIME_LIMIT and sol.raw_status == "MaxTime"


@pytest.mark.parametrize("raw, x, mapped, final", [
    # the backend maps (data); the core's check decides from the point itself
    ("InsufficientProgress", 1.0, Status.NUMERICAL_ERROR, Status.OPTIMAL_INACCURATE),
    ("NumericalError", 0.5, Status.NUMERICAL_ERROR, Status.NUMERICAL_ERROR),
    ("AlmostSolved", 1.0, Status.OPTIMAL_INACCURATE, Status.OPTIMAL_INACCURATE),
    ("Solved", 0.5, Status.OPTIMAL, Status.NUMERICAL_ERROR),
    ("CallbackTerminated", 1.0, Status.SOLVER_ERROR, Status.SOLVER_ERROR),
    ("SomethingNew", 1.0, Status.SOLVER_ERROR, Status.SOLVER_ERROR),
])
def test_other_statuses_are_classified(raw, x, mapped, final):
    from gmp.assess import assess

    program = min_t_2x2()  # min t s.t. [[t, 1], [1, t]] PSD: t = 1, Z = [[1, -1], [-1, 1]] / 2
    form = build_standard_form(program, "upper", "moment")
    info = SimpleNamespace(gap_abs=1e-9, gap_rel=1e-9, res_primal=1e-9,
                           res_dual=1e-9, res_primal_inf=1.0, res_dual_inf=1.0, ktratio=1.0,
                           linsolver=SimpleNamespace(name="qdldl", threads=1))
    sol = SimpleNamespace(status=raw, x=[x], z=[0.5, -0.5 * 2**0.5, 0.5], iterations=7,
                          solve_time=0.1, obj_val=1.0, obj_val_dual=1.0)
    got = cb._to_solution(sol, info, form, SolverOptions(), SimpleNamespace())
    assert got.status is mapped and got.raw_status == raw
    if mapped is Status.SOLVER_ERROR:
        assert f"status {raw!r}, which gmp does not know" in got.message
    assert assess(program, got).status is final


# -- degenerate programs -----------------------------------------------------
def test_equalities_only_use_the_linear_system(backend):
    program = ConicProgram(c=[1.0, 1.0], A_eq=[[1.0, 1.0]], b_eq=[3.0])
    sol = backend.run(program)
    assert sol.status is Status.OPTIMAL and sol.raw_status == "linear system"
    assert sol.primal_objective == pytest.approx(3.0)


def test_redundant_equalities(backend):
    base = smallest_eigenvalue(np.diag([3.0, 1.0]))
    program = ConicProgram(c=base.c, A_eq=[[1, 0, 1], [2, 0, 2], [1, 0, 1]], b_eq=[1, 2, 1],
                           psd=base.psd)
    sol = backend.run(program)
    assert sol.status.has_solution and sol.primal_objective == pytest.approx(1.0, abs=1e-6)


def test_nan_never_reaches_clarabel(backend, monkeypatch):
    monkeypatch.setattr(clarabel, "DefaultSolver", lambda *a: pytest.fail("clarabel was called"))
    with pytest.raises(ModelError, match="non-finite value"):
        backend.run(ConicProgram(c=[np.nan], psd=min_t_2x2().psd))


# -- options ---------------------------------------------------------------
def test_options_are_translated():
    formulation, s = cb._translate(clarabel, SolverOptions(tol=1e-9, max_iters=50, verbose=True,
                                                           time_limit=7.5))
    assert formulation == "dual"  # the measured default
    assert (s.tol_gap_abs, s.tol_gap_rel, s.tol_feas) == (1e-9, 1e-9, 1e-9)
    assert (s.max_iter, s.verbose, s.time_limit) == (50, True, 7.5)
    formulation, s = cb._translate(clarabel, SolverOptions(
        tol=1e-9,
        extra={"tol_feas": 1e-7, "formulation": "moment", "direct_solve_method": "qdldl"}))
    assert formulation == "moment" and s.tol_feas == 1e-7 and s.tol_gap_abs == 1e-9
    assert s.direct_solve_method == "qdldl"
    assert cb._translate(clarabel, SolverOptions())[1].verbose is False  # clarabel's is True


def test_bad_extra_options_raise_with_the_remedy(backend):
    with pytest.raises(OptionError) as err:
        backend.run(min_t_2x2(), {"extra": {"max_iters": 5}})
    assert str(err.value).startswith(
        "unknown clarabel option 'max_iters' in extra (did you mean 'max_iter'?); clarabel "
        "accepts formulation and the attributes of clarabel.DefaultSettings: ")
    with pytest.raises(OptionError, match="clarabel option max_iter got 2.5 \\(float\\), which "
                                          "clarabel rejects"):
        backend.run(min_t_2x2(), {"extra": {"max_iter": 2.5}})
    with pytest.raises(OptionError, match="clarabel rejected its settings: Bad settings"):
        backend.run(min_t_2x2(), {"extra": {"direct_solve_method": "no-such-method"}})
    with pytest.raises(OptionError) as err:
        backend.run(min_t_2x2(), {"extra": {"formulation": "sos"}})
    assert str(err.value) == (
        "clarabel option formulation must be one of 'moment', 'dual', got 'sos'; 'moment' "
        "passes the moments as the solver's primal, 'dual' the SOS side")


def test_every_neutral_option_is_honoured_without_warning(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sol = backend.run(min_t_2x2(), {"tol": 1e-8, "max_iters": 80, "time_limit": 30.0})
    assert sol.status is Status.OPTIMAL


# -- availability and registry ---------------------------------------------
def test_availability_and_remedy(backend):
    assert backend.availability().level == "installed"
    assert backend.availability(check_import=True).usable

    class Missing(ClarabelBackend):
        required_modules = ("clarabel_not_installed_xyz",)

    av = Missing().availability()
    assert not av.installed and av.remedy == 'pip install "gmp-moments[clarabel]"'
    assert av.reason == "Python module 'clarabel_not_installed_xyz' is not installed"


def test_registered_as_builtin():
    assert isinstance(get_backend("clarabel"), ClarabelBackend)
