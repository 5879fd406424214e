"""Classical problems with published optima, solved on the default free backend.

Each problem of gmp.testing.PROBLEMS carries an independent reference (a
published optimum re-derived to full precision by multi-start local
optimization, a closed form, or brute force) and the order at which the
Lasserre hierarchy is exact and certified by flatness.
"""
import numpy as np
import pytest

import gmp
from gmp import Status
from gmp.testing import PROBLEMS, get_problem, match_atoms

EXACT = [p for p in PROBLEMS if p.exact_order is not None]


def assert_bound_close(bound, optimum, rel=1e-5):
    assert bound is not None and np.isfinite(bound)
    assert abs(bound - optimum) <= rel * max(1.0, abs(optimum)), (bound, optimum)


def test_library_has_at_least_15_classical_problems():
    assert len(PROBLEMS) >= 15
    assert len({p.name for p in PROBLEMS}) == len(PROBLEMS)


@pytest.mark.parametrize("problem", EXACT, ids=[p.name for p in EXACT])
def test_exact_order_certifies_published_optimum(problem):
    res = problem.build().solve(order=problem.exact_order)
    assert res.status is Status.OPTIMAL, res.message
    assert_bound_close(res.bound, problem.optimum)
    assert res.certified, res.message
    if problem.minimizers is not None:
        perr, _ = match_atoms(res.atoms.points, res.atoms.weights, problem.minimizers)
        assert perr < 1e-3, (res.atoms.points, problem.minimizers)
        for check in res.atom_checks:
            assert check.ok and check.violation <= 1e-5


def test_six_hump_camel_two_minimizers():
    res = get_problem("six_hump_camel").build().solve(order=3)
    assert res.certified and len(res.atoms.weights) == 2
    np.testing.assert_allclose(res.atoms.weights, [0.5, 0.5], atol=1e-4)
    assert res.ranks[0][2] == 2


def test_henrion_lasserre_2005_three_minimizers():
    p = get_problem("henrion_lasserre_2005_three_minimizers")
    res = p.build().solve(order=2)
    assert res.certified and len(res.atoms.weights) == 3
    assert abs(res.atoms.weights.sum() - 1) < 1e-6
    low = p.build().solve(order=1)
    assert not low.certified and low.bound < p.optimum - 0.5  # order 1 is a strict lower bound


def test_lasserre_2001_auto_order_reports_each_order_honestly():
    p = get_problem("lasserre_2001_floudas_4_10")
    res = p.build().solve(order="auto")
    orders = [(a.order, a.certified) for a in res.attempts]
    assert orders == [(2, False), (3, False), (4, True)]
    for a in res.attempts:  # every bound is a valid lower bound
        assert a.bound <= p.optimum + 1e-6
    assert res.attempts[0].bound == pytest.approx(p.lower_orders[2], abs=1e-5)
    assert res.attempts[1].bound == pytest.approx(p.lower_orders[3], abs=1e-4)
    assert res.certified and res.order == 4


def test_auto_never_certifies_an_uncertified_order():
    p = get_problem("lasserre_2001_floudas_2_2_quadratic")
    res = p.build().solve(order="auto", max_order=2)
    assert not res.certified
    assert res.attempts[-1].order == 2 and not res.attempts[-1].certified
    assert "not certified up to order 2" in res.message
    assert res.minimizers.size == 0
    assert res.bound < p.optimum  # strict lower bound -17.92 < -17


def test_auto_goes_on_after_a_solver_failure_and_keeps_a_named_backend():
    # order 1 answered by cvxopt (unbounded), order 2 by a scripted solver failure, order 3 by
    # cvxopt again: a failure at one order is no reason to stop climbing, and the backend the
    # user named is never swapped for another
    from gmp.conic import ConicSolution
    from gmp_backends import get_backend
    from gmp_backends.scripted import ScriptedBackend

    real = get_backend("cvxopt")
    fake = ScriptedBackend([real.solve, ConicSolution(Status.ITERATION_LIMIT, "scripted", "out of iterations"),
                            real.solve])
    p = get_problem("lasserre_2001_floudas_2_2_quadratic")
    res = p.build().solve(order="auto", max_order=3, backend=fake)
    assert [(a.order, a.status, a.backend) for a in res.attempts] == [
        (1, Status.UNBOUNDED, "scripted"), (2, Status.ITERATION_LIMIT, "scripted"), (3, res.status, "scripted")]
    assert len(fake.calls) == 3 and res.order == 3
    assert res.status is Status.OPTIMAL and res.bound <= p.optimum + 1e-6


def test_a_failed_solve_is_retried_on_the_next_backend_when_none_was_named(monkeypatch):
    from gmp import registry
    from gmp.conic import ConicSolution
    from gmp_backends.scripted import ScriptedBackend

    failing = ScriptedBackend([ConicSolution(Status.NUMERICAL_ERROR, "scripted", "lost its digits")] * 2,
                              name="failing")
    monkeypatch.setattr(registry, "_registry", {"failing": failing,
                                                "cvxopt": "gmp_backends.cvxopt_backend:CvxoptBackend"})
    monkeypatch.setattr(registry, "_instances", {})
    monkeypatch.setattr(registry, "_discovered", True)
    monkeypatch.setattr(registry, "PREFERENCE", ["failing", "cvxopt"])
    monkeypatch.setattr(registry, "_configured", lambda: None)
    x = gmp.variables("x")
    res = gmp.solve((x - 1) ** 2, [x**2 <= 4])
    assert res.certified and res.backend == "cvxopt" and abs(res.bound) <= 1e-6
    assert res.message.endswith("[failing gave numerical_error (lost its digits); retried on cvxopt]")
    # named: never replaced, the failure is the answer
    res = gmp.solve((x - 1) ** 2, [x**2 <= 4], backend="failing")
    assert res.status is Status.NUMERICAL_ERROR and res.backend == "failing" and "retried" not in res.message


def test_motzkin_is_never_falsely_certified():
    p = get_problem("motzkin_not_sos")
    for order in (3, 4):
        res = p.build().solve(order=order)
        assert not res.certified
        assert res.bound is None or res.bound <= 1e-6  # never above the true minimum 0
        assert res.status is not Status.OPTIMAL or "not flat" in res.message


def test_motzkin_on_ball_certified_with_four_minimizers():
    p = get_problem("motzkin_on_ball")
    res = p.build().solve(order=3)
    assert res.certified
    perr, _ = match_atoms(res.atoms.points, res.atoms.weights, p.minimizers)
    assert perr < 1e-4


def test_maxcut_matches_brute_force():
    p = get_problem("maxcut_5_weighted")
    res = p.build().solve(order=2)
    assert res.certified and res.bound == pytest.approx(p.optimum, abs=1e-5)
    np.testing.assert_allclose(res.atoms.points, p.minimizers, atol=1e-4)
    gw = p.build().solve(order=1)  # the Goemans-Williamson relaxation is an upper bound here
    assert gw.bound > p.optimum + 0.1 and not gw.certified


def test_chebyshev_gmp_two_measures():
    p = get_problem("gmp_chebyshev_two_measures")
    for order in (1, 2):  # the bound is already exact, but the moments are not yet flat
        res = p.build().solve(order=order)
        assert res.bound == pytest.approx(0.25, abs=1e-6)
        assert not res.certified
    res = p.build().solve(order=3)
    assert res.certified
    tail, rest = res.atoms_per_measure
    perr, werr = match_atoms(tail.points, tail.weights, np.array([[-2.0], [2.0]]), np.array([0.125, 0.125]))
    assert perr < 1e-3 and werr < 1e-4
    np.testing.assert_allclose(rest.points, [[0.0]], atol=1e-3)
    np.testing.assert_allclose(rest.weights, [0.75], atol=1e-4)


def test_infeasible_problem_reports_infeasible():
    x = gmp.variables("x")
    res = gmp.solve(x, [x**2 + 1 <= 0])
    assert res.status is Status.INFEASIBLE and not res.success and not res.certified
    assert res.bound == np.inf
    assert "infeasible" in res.message


def test_unbounded_problem_reports_unbounded():
    x = gmp.variables("x")
    res = gmp.solve(x)
    assert res.status is Status.UNBOUNDED and not res.certified
    assert res.bound == -np.inf
    res = gmp.solve(x, sense="max")
    assert res.status is Status.UNBOUNDED and res.bound == np.inf


def test_solver_failure_is_a_status_not_an_exception():
    from gmp_backends.scripted import ScriptedBackend

    x = gmp.variables("x")
    be = ScriptedBackend([RuntimeError("segfault-like failure inside the solver")])
    res = gmp.solve(x**2, [1 - x**2 >= 0], backend=be)
    assert res.status is Status.SOLVER_ERROR and not res.success
    assert res.bound is None and not res.certified
    assert "segfault-like failure inside the solver" in res.message


def test_iteration_limit_is_a_status():
    x, y = gmp.variables("x y")
    f = 4 * x**2 - 2.1 * x**4 + x**6 / 3 + x * y - 4 * y**2 + 4 * y**4
    res = gmp.solve(f, order=3, options={"max_iters": 2})
    assert res.status is Status.ITERATION_LIMIT and not res.certified and res.bound is None


def test_result_fields_and_repr():
    x, y = gmp.variables("x y")
    res = gmp.solve((x - 1) ** 2 + (y + 2) ** 2)
    fields = list(res.__dataclass_fields__)
    assert fields[:3] == ["success", "status", "message"]
    assert fields[3:7] == ["bound", "order", "certified", "ranks"]
    assert repr(res).startswith("<gmp.Result certified optimum ")
    assert "(1, -2) w=1" in repr(res)
    assert set(res.timings) == {"build", "solve", "extract", "verify", "total"}
    assert res.backend == "cvxopt" and res.raw_status == "optimal"
    with pytest.raises(Exception):
        res.bound = 0.0  # frozen
