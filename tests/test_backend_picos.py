"""The PICOS backend (through cvxopt, its default solver) on programs with known answers."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

picos = pytest.importorskip("picos")

from cvxopt import solvers  # noqa: E402
from sdp_cases import (  # noqa: E402
    KNOWN,
    assert_dual_certificate,
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
from gmp_backends import picos_backend as pb  # noqa: E402
from gmp_backends.picos_backend import PicosBackend  # noqa: E402


@pytest.fixture
def backend() -> PicosBackend:
    return PicosBackend()


@pytest.mark.parametrize("make, optimum", KNOWN, ids=[k[0].__name__ for k in KNOWN])
def test_known_optimum_and_dual_certificate(backend, make, optimum):
    program = make()
    sol = backend.run(program, {"tol": 1e-9})
    assert sol.status is Status.OPTIMAL
    assert sol.raw_status == "claimed optimal; problem feasible; primal optimal; dual optimal"
    assert sol.primal_objective == pytest.approx(optimum, abs=1e-6)
    assert sol.backend == "picos" and sol.info["picos_solver"] == "cvxopt"
    assert sol.iterations > 0
    assert_dual_certificate(program, sol)


def test_dual_matrix(backend):
    sol = backend.run(min_t_2x2())
    np.testing.assert_allclose(sol.Z_psd[0], [[0.5, -0.5], [-0.5, 0.5]], atol=1e-6)


def test_six_hump_camel_order_3():
    known = get_problem("six_hump_camel")
    res = known.build().solve(order=3, backend="picos")
    assert res.backend == "picos"
    assert res.bound == pytest.approx(known.optimum, rel=1e-6)


def test_infeasible_and_unbounded(backend):
    sol = backend.run(infeasible())
    assert sol.status is Status.INFEASIBLE and sol.x is None
    assert "problem infeasible" in sol.raw_status
    sol = backend.run(unbounded())
    assert sol.status is Status.UNBOUNDED and sol.x is None
    assert "problem unbounded" in sol.raw_status


def test_iteration_limit(backend):
    sol = backend.run(smallest_eigenvalue(np.diag([3.0, 1.0, 2.0])), {"max_iters": 2})
    assert sol.status is Status.ITERATION_LIMIT and sol.iterations == 2
    assert "iteration limit (2)" in sol.message


def test_equalities_only_use_the_linear_system(backend):
    sol = backend.run(ConicProgram(c=[1.0, 1.0], A_eq=[[1.0, 1.0]], b_eq=[3.0]))
    assert sol.status is Status.OPTIMAL and sol.raw_status == "linear system"


# -- cvxopt's global options -----------------------------------------------
def test_cvxopt_global_options_are_restored(backend, monkeypatch):
    user = {"refinement": 3, "show_progress": True, "user_key": "kept"}
    monkeypatch.setattr(solvers, "options", user)
    before = dict(user)
    assert backend.run(min_t_2x2(), {"tol": 1e-9}).status is Status.OPTIMAL
    assert solvers.options is user and user == before  # picos clears it during the solve


# -- options ---------------------------------------------------------------
def test_options_are_translated():
    s = pb._translate(picos, SolverOptions(tol=1e-7, max_iters=50, verbose=True,
                                               time_limit=3.0))
    assert s["solver"] == "cvxopt" and s["verbosity"] == 1 and s["max_iterations"] == 50
    assert s["timelimit"] == 3.0 and s["primals"] is None and s["duals"] is None
    assert all(s[k] == 1e-7 for k in pb._TOLERANCES)
    assert "solver" not in pb._translate(picos, SolverOptions(extra={"solver": "auto"}))


def test_time_limit_with_cvxopt_is_warned_not_dropped(backend):
    with pytest.warns(UserWarning) as record:
        sol = backend.run(min_t_2x2(), {"time_limit": 5})
    assert sol.status is Status.OPTIMAL
    assert str(record[0].message) == (
        "backend 'picos' cannot honour solver option time_limit=5.0 with picos's solver cvxopt; "
        "it is ignored (picos: CVXOPT does not support the 'timelimit' option.)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        backend.run(min_t_2x2(), {"tol": 1e-8, "max_iters": 80})


def test_bad_solver_and_options_raise_with_the_remedy(backend):
    with pytest.raises(OptionError) as err:
        backend.run(min_t_2x2(), {"extra": {"solver": "clarabel"}})
    assert str(err.value).startswith("clarabel is not a solver picos can call (picos knows ")
    assert str(err.value).endswith("use the direct backend instead: backend='clarabel'")
    with pytest.raises(OptionError, match=r"got 'cvxop' \(did you mean 'cvxopt'\?\)"):
        backend.run(min_t_2x2(), {"extra": {"solver": "cvxop"}})
    with pytest.raises(OptionError, match=r"unknown picos option 'max_iteration' in extra \(did "
                                          r"you mean 'max_iterations'\?\)"):
        backend.run(min_t_2x2(), {"extra": {"max_iteration": 3}})
    with pytest.raises(OptionError, match="picos option max_iterations got 'a' \\(str\\)"):
        backend.run(min_t_2x2(), {"extra": {"max_iterations": "a"}})


def test_solver_without_licence_is_not_available(backend):
    pytest.importorskip("mosek")
    if "mosek" not in picos.available_solvers():
        pytest.skip("picos does not see mosek")
    sol = backend.run(min_t_2x2(), {"extra": {"solver": "mosek"}})
    if sol.status is Status.OPTIMAL:
        pytest.skip("a MOSEK licence exists here")
    assert sol.status is Status.NOT_AVAILABLE
    assert "has no licence here" in sol.message and "extra={'solver': 'cvxopt'}" in sol.message


# -- availability and registry ---------------------------------------------
def test_availability_and_remedy(backend):
    assert backend.availability(check_import=True).usable

    class Missing(PicosBackend):
        required_modules = ("picos_not_installed_xyz",)

    assert Missing().availability().remedy == "pip install picos_not_installed_xyz"
    assert backend.install_hint() == "pip install picos"


def test_registered_as_builtin():
    assert isinstance(get_backend("picos"), PicosBackend)
