"""The SCS backend on small programs with known answers, in both formulations.

SCS is a first-order method: the tests ask for ``tol=1e-9`` where they compare
to 1e-6 (its default, 1e-4, is left alone by the backend).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest

from gmp.assess import assess

scs = pytest.importorskip("scs")

from sdp_cases import (  # noqa: E402
    KNOWN,
    assert_dual_certificate,
    assert_infeasibility_certificate,
    assert_unbounded_direction,
    infeasible,
    min_t_2x2,
    smallest_eigenvalue,
    unbounded,
)

from gmp.conic import ConicProgram  # noqa: E402
from gmp.errors import OptionError  # noqa: E402
from gmp.status import Status  # noqa: E402
from gmp.testing import get_problem  # noqa: E402
from gmp_backends import SolverOptions, get_backend  # noqa: E402
from gmp_backends import scs_backend as sb  # noqa: E402
from gmp_backends.scs_backend import ScsBackend  # noqa: E402
from gmp_backends.standard_form import build_standard_form  # noqa: E402

FORMS = ("moment", "dual")
TIGHT = 1e-9


@pytest.fixture
def backend() -> ScsBackend:
    return ScsBackend()


def opts(form: str = "moment", **kw) -> SolverOptions:
    return SolverOptions(extra={"formulation": form}, **kw)


# -- optima and duals ------------------------------------------------------
@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("make, optimum", KNOWN, ids=[k[0].__name__ for k in KNOWN])
def test_known_optimum_and_dual_certificate(backend, make, optimum, form):
    program = make()
    sol = backend.run(program, opts(form, tol=TIGHT))
    assert sol.status is Status.OPTIMAL and sol.raw_status == "solved"
    assert sol.primal_objective == pytest.approx(optimum, abs=1e-6)
    assert sol.backend == "scs" and sol.iterations > 0 and sol.solve_time > 0
    assert sol.info["formulation"] == form
    assert_dual_certificate(program, sol)


@pytest.mark.parametrize("form", FORMS)
def test_dual_matrix_is_unscaled(backend, form):
    sol = backend.run(min_t_2x2(), opts(form, tol=TIGHT))
    np.testing.assert_allclose(sol.Z_psd[0], [[0.5, -0.5], [-0.5, 0.5]], atol=1e-6)


def test_six_hump_camel_order_3():
    known = get_problem("six_hump_camel")
    res = known.build().solve(order=3, backend="scs", options={"tol": 1e-8})
    assert res.backend == "scs"
    assert res.bound == pytest.approx(known.optimum, rel=1e-6)


# -- infeasible, unbounded, limits -----------------------------------------
@pytest.mark.parametrize("form, raw", [("moment", "infeasible"), ("dual", "unbounded")])
def test_infeasible(backend, form, raw):
    program = infeasible()
    sol = backend.run(program, opts(form))
    assert sol.status is Status.INFEASIBLE and sol.raw_status == raw and sol.x is None
    assert_infeasibility_certificate(program, sol.info["infeasibility_certificate"])


@pytest.mark.parametrize("form, raw", [("moment", "unbounded"), ("dual", "infeasible")])
def test_unbounded(backend, form, raw):
    program = unbounded()
    sol = backend.run(program, opts(form))
    assert sol.status is Status.UNBOUNDED and sol.raw_status == raw and sol.x is None
    assert_unbounded_direction(program, sol.info["unbounded_direction"])


def test_iteration_limit(backend):
    sol = backend.run(smallest_eigenvalue(np.diag([3.0, 1.0, 2.0])), {"max_iters": 3, "tol": TIGHT})
    assert sol.status is Status.ITERATION_LIMIT
    assert sol.raw_status == "solved (inaccurate - reached max_iters)"
    assert "iteration limit (3)" in sol.message and sol.x is not None


def test_time_limit(backend):
    C = np.diag(np.arange(12.0)) + 0.1
    sol = backend.run(smallest_eigenvalue(C), {"time_limit": 1e-9, "tol": 1e-12})
    assert sol.status is Status.TIME_LIMIT
    assert sol.raw_status == "solved (inaccurate - reached time_limit_secs)"


def test_nearly_converged_at_the_limit_is_optimal_inaccurate():
    form = build_standard_form(min_t_2x2(), "lower", "moment")
    info = {"status": "solved (inaccurate - reached max_iters)", "status_val": 2, "iter": 100,
            "setup_time": 1.0, "solve_time": 2.0, "pobj": 1.0, "dobj": 1.0,
            "res_pri": 1e-5, "res_dual": 1e-5, "gap": 1e-5}
    res = {"x": np.array([1.0]), "y": np.array([0.5, -0.5 * 2**0.5, 0.5]), "s": None, "info": info}
    sol = sb._to_solution(res, form, {"eps_abs": 1e-5, "eps_rel": 1e-5, "max_iters": 100})
    assert sol.status is Status.ITERATION_LIMIT and sol.solve_time == pytest.approx(0.003)
    assert assess(min_t_2x2(), sol).status is Status.OPTIMAL_INACCURATE  # the core's check
    info.update(status="failure", status_val=-4)
    sol = sb._to_solution(res, form, {})
    assert sol.status is Status.SOLVER_ERROR and sol.message == "scs failed; try another backend"
    info.update(status="brand new", status_val=7)
    assert sb._to_solution(res, form, {}).status is Status.SOLVER_ERROR


def test_equalities_only_use_the_linear_system(backend):
    sol = backend.run(ConicProgram(c=[1.0, 0.0], A_eq=[[1.0, 1.0]], b_eq=[3.0]))
    assert sol.status is Status.UNBOUNDED and sol.raw_status == "linear system"


# -- options ---------------------------------------------------------------
def test_options_are_translated():
    form, s = sb._translate(SolverOptions(tol=1e-7, max_iters=50, verbose=True, time_limit=3.0))
    assert form == "moment"
    assert s == {"verbose": True, "eps_abs": 1e-7, "eps_rel": 1e-7, "max_iters": 50,
                 "time_limit_secs": 3.0}
    form, s = sb._translate(SolverOptions(tol=1e-7, extra={"eps_rel": 1e-5, "formulation": "dual",
                                                           "acceleration_lookback": 0}))
    assert form == "dual" and s["eps_rel"] == 1e-5 and s["eps_abs"] == 1e-7
    assert s["acceleration_lookback"] == 0


def test_bad_extra_options_raise_with_the_remedy(backend):
    with pytest.raises(OptionError) as err:
        backend.run(min_t_2x2(), {"extra": {"eps": 1e-6}})
    assert str(err.value).startswith(
        "unknown scs option 'eps' in extra (did you mean 'eps_rel'?); scs accepts formulation, "
        "normalize, scale, ")
    with pytest.raises(OptionError, match="SCS rejected its settings"):
        backend.run(min_t_2x2(), {"extra": {"linear_solver": "no-such-solver"}})


def test_every_neutral_option_is_honoured_without_warning(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sol = backend.run(min_t_2x2(), {"tol": 1e-8, "max_iters": 5000, "time_limit": 30.0})
    assert sol.status is Status.OPTIMAL


# -- availability and registry ---------------------------------------------
def test_availability_and_remedy(backend):
    assert backend.availability(check_import=True).usable

    class Missing(ScsBackend):
        required_modules = ("scs_not_installed_xyz",)

    av = Missing().availability()
    assert not av.installed and av.remedy == 'pip install "gmp-moments[scs]"'


def test_registered_as_builtin():
    assert isinstance(get_backend("scs"), ScsBackend)
