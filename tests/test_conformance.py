"""The conformance suite: its library of cases, its report, and every built-in backend.

The optima of the library are derived by hand or published (see the builders'
docstrings); here each one is also shown to be attained by an explicit feasible
point, without any solver, so a typo in a constant cannot hide.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import gmp
from gmp.conic import ConicSolution
from gmp.status import Status
from gmp.testing import get_problem
from gmp_backends import BUILTINS, get_backend
from gmp_backends.conformance import (
    CASES,
    KNOWN_FAILURES,
    TIGHT_OPTIONS,
    ConformanceCase,
    get_case,
    main,
    run_conformance,
)
from gmp_backends.scripted import ScriptedBackend


# -- every built-in backend conforms ---------------------------------------
@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_builtin_backend_conforms(name):
    availability = get_backend(name).availability(check_import=True)
    if not availability.usable:
        pytest.skip(f"backend {name!r} is not usable here: {availability}")
    report = run_conformance(name, expected_failures=KNOWN_FAILURES.get(name, {}))
    assert report.ok, f"\n{report}"
    assert len(report.results) == len(CASES)


def test_known_failures_name_builtin_backends_and_real_cases():
    names = {case.name for case in CASES}
    assert set(KNOWN_FAILURES) <= set(BUILTINS)
    assert set(TIGHT_OPTIONS) <= set(BUILTINS)
    for backend, failures in KNOWN_FAILURES.items():
        assert set(failures) <= names, backend
        assert all(len(reason) > 20 for reason in failures.values()), backend


def test_main_prints_the_report(capsys):
    assert main(["cvxopt"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("conformance of backend 'cvxopt': OK — 18 passed")
    assert "relaxation_six_hump_camel" in out


# -- the library: every claimed optimum is attained by a feasible point -----
def lower_triangle(X: np.ndarray) -> np.ndarray:
    """The variables of full_matrix_block: the lower triangle, column-major."""
    d = X.shape[0]
    return np.array([X[i, j] for j in range(d) for i in range(j, d)])


def moments(points, weights, degree: int) -> np.ndarray:
    return gmp.atoms_to_moments(np.atleast_2d(points), np.asarray(weights, float), degree)


def eigvec(v: np.ndarray) -> np.ndarray:
    return lower_triangle(np.outer(v, v) / (v @ v))


CAMEL_MINIMIZER = get_problem("six_hump_camel").minimizers[0]
PATH5_GROUND_STATE = np.sin(np.arange(1, 6) * np.pi / 6)  # of 2I - A(P5), eigenvalue 2 - sqrt 3
V_3X3 = np.array([1.0 + math.sqrt(2.0), 1.0])  # of [[1, -1], [-1, 3]], eigenvalue 2 - sqrt 2

WITNESSES = {
    "sdp_min_t_2x2": [1.0],
    "sdp_trace_fixed_offdiag": [1.0, 1.0, 1.0],
    "lp_only": [0.0, 4.0],
    "sdp_mixed": [0.5, math.sqrt(0.75), 1.5],
    "sdp_3x3_equalities": lower_triangle(np.pad(np.outer(V_3X3, V_3X3) / (V_3X3 @ V_3X3),
                                                ((1, 0), (1, 0)))),
    "sdp_smallest_eigenvalue_path5": eigvec(PATH5_GROUND_STATE),
    "linear_equalities_only": [2.0, 1.0],
    "relaxation_six_hump_camel": moments(CAMEL_MINIMIZER, [1.0], 6),
    "relaxation_henrion_lasserre": moments([1.0, 2.0], [1.0], 4),
    "relaxation_goldstein_price": moments([0.0, -1.0], [1.0], 8),
    "relaxation_maxcut5": moments([1.0, -1.0, 1.0, -1.0, -1.0], [1.0], 4),
    "relaxation_chebyshev_two_measures": np.concatenate(
        [moments([[-2.0], [2.0]], [0.125, 0.125], 6), moments([0.0], [0.75], 6)]),
    "relaxation_trace_objective": moments([2.0], [1.0], 4),
}


def test_every_optimal_case_has_a_witness():
    assert set(WITNESSES) == {c.name for c in CASES if c.status is Status.OPTIMAL}


@pytest.mark.parametrize("name", sorted(WITNESSES))
def test_claimed_optimum_is_attained_by_a_feasible_point(name):
    case = get_case(name)
    program = case.build()
    x = np.asarray(WITNESSES[name], dtype=float)
    v = program.violation(x)
    assert v["eq"] < 1e-12 and v["ineq"] < 1e-12 and v["psd_min_eig"] > -1e-12, v
    assert program.objective(x) == pytest.approx(case.optimum, rel=1e-13, abs=1e-13)


def test_maxcut_optimum_is_the_best_of_all_cuts():
    program = get_case("relaxation_maxcut5").build()
    cuts = [-program.objective(moments((1.0, *s), [1.0], 4))
            for s in itertools.product([-1.0, 1.0], repeat=4)]
    assert max(cuts) == pytest.approx(15.0) == -get_case("relaxation_maxcut5").optimum
    assert get_problem("maxcut_5_weighted").optimum == 15.0  # the library's own brute force


def test_unbounded_cases_decrease_without_bound():
    ray = get_case("unbounded_ray").build()
    d = np.array([1.0, 0.0, 0.0])
    assert ray.c @ d == -1.0 and np.allclose(ray.A_eq @ d, 0)
    assert np.linalg.eigvalsh((ray.psd[0].F @ d).reshape(2, 2, order="F"))[0] >= 0
    weak = get_case("unbounded_weak").build()
    for t in (1e2, 1e6):
        point = np.array([-t, t * t])  # [[1, -t], [-t, t^2]] is PSD (rank 1)
        assert weak.violation(point)["psd_min_eig"] > -1e-9 * t * t
        assert weak.objective(point) == -t


def test_cases_are_unique_documented_and_consistent():
    assert len({c.name for c in CASES}) == len(CASES)
    for case in CASES:
        assert case.source and len(case.derivation) > 40, case.name
        assert (case.optimum is None) == (case.status is not Status.OPTIMAL)
    with pytest.raises(ValueError, match="needs an optimum"):
        ConformanceCase("bad", CASES[0].build)
    with pytest.raises(KeyError, match="no conformance case named 'nope'"):
        get_case("nope")


# -- the report detects a wrong backend -------------------------------------
def answer(x, value=None, status=Status.OPTIMAL, Z=None) -> ConicSolution:
    x = np.asarray(x, dtype=float)
    return ConicSolution(status, "scripted", "scripted answer", x=x,
                         primal_objective=value, dual_objective=value, Z_psd=Z)


#: The optimal dual of sdp_min_t_2x2 (min t s.t. [[t, 1], [1, t]] PSD): the core checks it.
MIN_T_DUAL = (np.array([[0.5, -0.5], [-0.5, 0.5]]),)


def test_report_marks_a_wrong_optimum_failed():
    fake = ScriptedBackend([
        answer([1.0], 1.0, Z=MIN_T_DUAL),          # right
        answer([0.5, 0.8, 1.5], 1.2),              # feasible but not optimal: 2 - 0.8
        answer([0.0], 0.0),                        # "optimal" on an infeasible program
        answer([2.0], 1.0),                        # the right value, but not c @ x + c0
        answer([0.0, 1.0, 2.0]),                   # x of the wrong shape: a contract violation
    ], name="wrong")
    cases = ["sdp_min_t_2x2", "sdp_mixed", "infeasible_two_blocks", "sdp_min_t_2x2", "lp_only"]
    report = run_conformance(fake, cases=cases)
    assert not report.ok and report.backend == "wrong"
    outcomes = [r.outcome for r in report.results]
    assert outcomes == ["passed", "failed", "failed", "failed", "failed"]
    reasons = [r.reason for r in report.results]
    # without duals the core cannot check an "optimal" answer: it reports optimal_inaccurate
    assert reasons[1] == "status optimal_inaccurate (raw 'scripted'), expected optimal"
    assert reasons[2] == "status optimal_inaccurate (raw 'scripted'), expected infeasible"
    assert reasons[3] == "status optimal_inaccurate (raw 'scripted'), expected optimal"
    assert reasons[4].startswith("raised BackendError: backend 'wrong' returned x of shape (3,)")
    text = str(report)
    assert text.splitlines()[0].startswith("conformance of backend 'wrong': NOT OK — 1 passed, 4 failed")


def test_report_compares_the_value_of_an_answer_the_core_accepts():
    """A wrong optimum that the solver says OPTIMAL with consistent duals is still caught
    by the value comparison (here a scripted answer whose duals are checked too loosely)."""
    wrong = ConicSolution(Status.OPTIMAL, "scripted", "scripted", x=np.array([1.0]),
                          primal_objective=1.1, dual_objective=1.1, Z_psd=MIN_T_DUAL)
    report = run_conformance(ScriptedBackend([wrong], name="wrong"), cases=["sdp_min_t_2x2"],
                             options={"tol": 1.0})
    assert report.results[0].reason == ("objective 1.1, expected 1 "
                                        "(relative error 1.0e-01 > 1e-06)")
    assert report["sdp_min_t_2x2"].error == pytest.approx(0.1)
    assert "relative error 1.0e-01" in str(report)


def test_expected_failures_and_unexpected_passes():
    fake = ScriptedBackend([answer([1.0], 1.0, Z=MIN_T_DUAL), answer([0.5, 0.8, 1.5], 1.2)], name="wrong")
    report = run_conformance(fake, cases=["sdp_min_t_2x2", "sdp_mixed"], expected_failures={
        "sdp_min_t_2x2": "said to stall", "sdp_mixed": "known to stop early"})
    assert [r.outcome for r in report.results] == ["unexpected pass", "expected failure"]
    assert not report.ok  # a stale expected failure is noticed
    assert report.unexpected_passes[0].expected_reason == "said to stall"
    assert "declared failing (said to stall) but passed" in str(report)
    assert "(expected: known to stop early)" in str(report)

    fake = ScriptedBackend([answer([0.5, 0.8, 1.5], 1.2)], name="wrong")
    report = run_conformance(fake, cases=[get_case("sdp_mixed")],
                             expected_failures={"sdp_mixed": "known to stop early"})
    assert report.ok and len(report.expected_failures) == 1
    with pytest.raises(KeyError, match="expected_failures names cases that are not run: typo"):
        run_conformance(ScriptedBackend([]), cases=["sdp_mixed"], expected_failures={"typo": "x"})
