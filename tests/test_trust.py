"""Answers users can trust (issue 14): the verified bound, the SOS certificate, the core's
own status checks, scaling, and the gap from a feasible point.

Every assertion compares with an independent truth: a published or closed-form optimum
(gmp.testing), a hand-built certificate, or a point evaluated directly.
"""
from __future__ import annotations

import numpy as np
import pytest

import gmp
from gmp import Status
from gmp.assess import assess, check_direction, check_farkas, residuals
from gmp.boxes import mass_bounds, measure_box
from gmp.conic import ConicSolution
from gmp.rigorous import lambda_min_lower
from gmp.scaling import scale_program
from gmp.testing import PROBLEMS, get_problem
from gmp.verified_bound import verified_bound
from gmp_backends import BUILTINS, get_backend
from gmp_backends.conformance import CASES, get_case, infeasible_lp, min_t_2x2, mixed, unbounded
from gmp_backends.scripted import ScriptedBackend


def usable(name: str) -> bool:
    return bool(get_backend(name).availability(check_import=True).usable)


FREE = [b for b in ("cvxopt", "clarabel") if usable(b)]
BOUNDED = [p for p in PROBLEMS if p.name in (
    "henrion_lasserre_2005_three_minimizers", "lasserre_2001_floudas_4_10",
    "lasserre_2001_floudas_4_9_equality", "motzkin_on_ball", "circle_equality_linear",
    "disk_maximization", "maxcut_5_weighted")]


def below(problem, value) -> float:
    """How far ``value`` is on the safe side of the optimum (>= 0 when it is a valid bound)."""
    sign = 1.0 if problem.build().sense == "min" or problem.build().gmp is not None else -1.0
    if problem.build().gmp is not None and problem.build().gmp.objective.sense == "max":
        sign = -1.0
    return sign * (problem.optimum - value)


# -- rigorous arithmetic -----------------------------------------------------
def test_lambda_min_lower_is_below_the_exact_eigenvalue():
    rng = np.random.default_rng(0)
    for n in (1, 3, 10, 40):
        Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        lam = np.sort(rng.uniform(-1, 1, n))
        lam[0] = 1e-12  # nearly singular: the hard case
        A = (Q * lam) @ Q.T
        low = lambda_min_lower(A)
        exact = float(np.min(lam))
        assert low <= exact + 1e-15 * n  # Q @ diag @ Q.T is itself rounded: allow its error
        assert low >= exact - 1e-9
    assert lambda_min_lower(np.array([[1.0, 2.0], [2.0, 1.0]])) <= -1.0  # eigenvalues 3, -1
    assert lambda_min_lower(np.array([[np.nan]])) == -np.inf


# -- boxes ---------------------------------------------------------------------
def test_boxes_read_off_the_support():
    x, y = gmp.variables("x y")
    mu = gmp.Measure([x, y], [1 - (x - 1) ** 2 >= 0, y >= 2, 5 - y >= 0])
    box = measure_box(mu)
    np.testing.assert_allclose(box.lower, [0, 2], atol=1e-8)
    np.testing.assert_allclose(box.upper, [2, 5], atol=1e-8)
    ball = measure_box(gmp.Measure([x, y], [9 - x**2 - 4 * y**2 >= 0]))
    np.testing.assert_allclose(ball.upper, [3, 1.5], rtol=1e-6)
    assert not measure_box(gmp.Measure([x, y], [x * y >= 1])).bounded
    circle = measure_box(gmp.Measure([x, y], [x**2 + y**2 == 1]))
    assert circle.bounded and np.all(circle.radius <= 1 + 1e-6) and np.all(circle.radius >= 1)


def test_masses_bounded_by_a_moment_constraint():
    x, y = gmp.variables("x"), gmp.variables("y")
    a, b = gmp.Measure(x, name="a"), gmp.Measure(y, name="b")
    prob = gmp.GMP(gmp.minimize(a.E(x)), [2 * a.E(1) + b.E(1) == 3])
    caps, _ = mass_bounds(prob)
    assert caps[0] >= 1.5 and caps[0] < 1.5 * (1 + 1e-9) and caps[1] >= 3


# -- the verified bound --------------------------------------------------------
@pytest.mark.parametrize("backend", FREE)
@pytest.mark.parametrize("problem", BOUNDED, ids=[p.name for p in BOUNDED])
def test_verified_bound_is_a_bound_and_close(problem, backend):
    res = problem.build().solve(order=problem.exact_order or None, backend=backend)
    assert np.isfinite(res.verified_bound), res.verified_bound_note
    margin = below(problem, res.verified_bound)
    assert margin >= 0, (res.verified_bound, problem.optimum)  # never on the wrong side
    assert margin <= 1e-5 * max(1.0, abs(problem.optimum)), (res.verified_bound, problem.optimum)


def test_no_bounded_set_gives_minus_inf_and_says_how_to_add_a_ball():
    res = get_problem("six_hump_camel").build().solve(order=3, backend="cvxopt")
    assert res.verified_bound == -np.inf
    assert "ball constraint R**2 - sum(x_i**2) >= 0" in res.verified_bound_note
    x1, x2 = gmp.variables("x1 x2")
    f = 4 * x1**2 - 2.1 * x1**4 + x1**6 / 3 + x1 * x2 - 4 * x2**2 + 4 * x2**4
    boxed = gmp.solve(f, [4 - x1**2 - x2**2 >= 0], order=3, backend="cvxopt")
    opt = get_problem("six_hump_camel").optimum
    assert opt - 1e-5 <= boxed.verified_bound <= opt


@pytest.mark.parametrize("name, opts", [
    ("cvxopt", {"max_iters": 4}), ("clarabel", {"max_iters": 5}), ("scs", {"max_iters": 60}),
])
def test_an_early_stopped_solve_still_gives_a_valid_bound(name, opts):
    if not usable(name):
        pytest.skip(f"{name} not usable here")
    for pname in ("lasserre_2001_floudas_4_10", "henrion_lasserre_2005_three_minimizers"):
        p = get_problem(pname)
        res = p.build().solve(order=p.exact_order, backend=name, options=opts)
        assert res.status is not Status.OPTIMAL or abs(res.bound - p.optimum) < 1e-4
        assert res.verified_bound <= p.optimum, (name, pname, res.verified_bound)


def test_perturbed_duals_still_give_a_valid_bound():
    """Duals moved far off feasibility: the bound drops, but stays a bound."""
    p = get_problem("lasserre_2001_floudas_4_9_equality")
    inst = p.build()
    prob = gmp.GMP(gmp.minimize(gmp.Measure(inst.variables, inst.constraints, mass=1.0).E(inst.objective)))
    program, rmap = gmp.build_relaxation(prob, p.exact_order)
    sol = get_backend("cvxopt").run(program)
    rng = np.random.default_rng(1)
    for scale in (1e-6, 1e-3, 1e-1):
        Z = tuple(Zj + scale * rng.standard_normal(Zj.shape) for Zj in sol.Z_psd)
        y = sol.y_eq + scale * rng.standard_normal(sol.y_eq.shape)
        bad = ConicSolution(Status.OPTIMAL, "perturbed", "", x=sol.x, y_eq=y, z_ineq=sol.z_ineq, Z_psd=Z)
        vb = verified_bound(prob, program, rmap, bad)
        assert vb.value <= p.optimum, (scale, vb.value)
    assert verified_bound(prob, program, rmap, ConicSolution(Status.SOLVER_ERROR, "x", "")).value == -np.inf


def test_verified_bound_of_a_gmp_with_two_measures():
    """min mu(x^2 - x) + nu((y - 1)^2 + 1/2) s.t. mu(1) + nu(1) == 1, x in [-1, 1], y in [0, 2]:
    all the mass on mu at x = 1/2, optimum -1/4."""
    x, y = gmp.variables("x"), gmp.variables("y")
    mu = gmp.Measure(x, [1 - x**2 >= 0], name="mu")
    nu = gmp.Measure(y, [y >= 0, 2 - y >= 0], name="nu")
    prob = gmp.GMP(gmp.minimize(mu.E(x**2 - x) + nu.E((y - 1) ** 2 + 0.5)), [mu.E(1) + nu.E(1) == 1])
    for backend in FREE:
        res = prob.solve(order=2, backend=backend)
        assert abs(res.bound + 0.25) < 1e-6
        assert -0.25 - 1e-6 <= res.verified_bound <= -0.25, res.verified_bound_note


@pytest.mark.parametrize("backend", FREE)
@pytest.mark.parametrize("scale", [1e12, 1e-12])
def test_huge_and_tiny_coefficients_give_the_right_answer(scale, backend):
    x = gmp.variables("x")
    res = gmp.solve(scale * (x - 1) ** 2, [x**2 <= 4], backend=backend)
    assert res.status in (Status.OPTIMAL, Status.OPTIMAL_INACCURATE), res.message
    assert abs(res.bound) <= 1e-6 * scale  # the minimum is 0, data of size `scale`
    assert -1e-6 * scale <= res.verified_bound <= 0.0
    assert res.atoms is not None and abs(res.atoms.points[0, 0] - 1) < 1e-3


def test_scaling_is_exact_and_invertible():
    program = get_case("relaxation_henrion_lasserre").build()
    D = 2.0 ** np.arange(program.n_vars)  # powers of two: exact
    scaled, sc = scale_program(program, D)
    x = np.random.default_rng(0).standard_normal(program.n_vars)
    assert scaled.objective(x / D) / sc.objective == pytest.approx(program.objective(x), rel=1e-14)
    sol = get_backend("cvxopt").run(scaled)
    back = sc.unscale(sol)
    assert back.primal_objective == pytest.approx(-2.0, abs=1e-5)
    res = residuals(program, back)
    assert res.worst < 1e-5


# -- the SOS certificate -------------------------------------------------------
def test_certificate_identity_holds_at_random_points():
    p = get_problem("henrion_lasserre_2005_three_minimizers")
    res = p.build().solve(order=2, backend="cvxopt")
    cert = res.certificate
    check = cert.check()
    assert check.ok and check.max_residual < 1e-6, check
    (mc,) = cert.measures
    assert [m.g.degree for m in mc.multipliers] == [0, 2, 2, 2] and len(mc.multipliers[0].basis) == 6
    pts = np.random.default_rng(0).uniform(-3, 3, (20, 2))
    vs = mc.variables
    lhs = mc.objective.evaluate(pts, vs) + mc.linear.evaluate(pts, vs)
    rhs = sum(m.polynomial(vs).evaluate(pts, vs) * m.g.evaluate(pts, vs) if m.g.vars else
              m.polynomial(vs).evaluate(pts, vs) * float(m.g.constant_term) for m in mc.multipliers)
    assert np.max(np.abs(lhs - rhs)) < 1e-5 * np.max(np.abs(lhs))
    assert cert.bound == pytest.approx(p.optimum, abs=1e-5)
    # the SOS multipliers are nonnegative at the points (PSD Gram matrices)
    for m in mc.multipliers:
        assert np.all(m.polynomial(vs).evaluate(pts, vs) >= -1e-6)


# -- the core's status checks --------------------------------------------------
def test_hand_built_farkas_certificate_verifies_and_a_wrong_one_does_not():
    program = infeasible_lp()  # x1 + x2 <= -1, -x1 <= 0, -x2 <= 0: the rows sum to 0 <= -1
    ok, why = check_farkas(program, {"z_ineq": np.array([1.0, 1.0, 1.0])}, 1e-8)
    assert ok, why
    ok, why = check_farkas(program, {"z_ineq": np.array([1.0, 1.0, 0.0])}, 1e-8)
    assert not ok and "residual" in why
    ok, _ = check_farkas(program, {"z_ineq": np.array([-1.0, -1.0, -1.0])}, 1e-8)
    assert not ok  # value -(b z) = -1: not a certificate


def test_hand_built_improving_direction():
    program = unbounded()  # min -x11 s.t. x12 == 1, X PSD
    assert check_direction(program, np.array([1.0, 0.0, 0.0]), 1e-8)[0]
    assert not check_direction(program, np.array([1.0, 1.0, 0.0]), 1e-8)[0]  # moves x12
    assert not check_direction(program, np.array([-1.0, 0.0, 0.0]), 1e-8)[0]  # not improving


def test_claimed_infeasibility_without_a_valid_certificate_is_not_believed():
    program = min_t_2x2()  # feasible
    claim = ConicSolution(Status.INFEASIBLE, "primal infeasible", "scripted",
                          info={"infeasibility_certificate": {"Z_psd": (np.eye(2),)}})
    sol = ScriptedBackend([claim]).run(program)
    assert sol.status is Status.NUMERICAL_ERROR and "reported the program infeasible, but" in sol.message
    good = ConicSolution(Status.INFEASIBLE, "primal infeasible", "scripted",
                         info={"infeasibility_certificate": {"z_ineq": np.array([1.0, 1.0, 1.0])}})
    assert ScriptedBackend([good]).run(infeasible_lp()).status is Status.INFEASIBLE


def test_claimed_optimum_is_checked_by_the_core():
    program = min_t_2x2()
    Z = (np.array([[0.5, -0.5], [-0.5, 0.5]]),)
    right = ConicSolution(Status.OPTIMAL, "ok", "", x=np.array([1.0]), Z_psd=Z)
    assert assess(program, right).status is Status.OPTIMAL
    off = ConicSolution(Status.OPTIMAL, "ok", "", x=np.array([1.00001]), Z_psd=Z)
    assert assess(program, off).status is Status.OPTIMAL_INACCURATE
    assert assess(program, off, tol=1e-3).status is Status.OPTIMAL
    wrong = ConicSolution(Status.OPTIMAL, "ok", "", x=np.array([0.5]), Z_psd=Z)
    assert assess(program, wrong).status is Status.NUMERICAL_ERROR
    stalled = ConicSolution(Status.ITERATION_LIMIT, "max", "", x=np.array([1.0 + 1e-6]), Z_psd=Z)
    assert assess(program, stalled).status is Status.OPTIMAL_INACCURATE


@pytest.mark.parametrize("name", sorted(BUILTINS))
def test_every_backend_returns_duals_in_the_convention_of_gmp_conic(name):
    """c + A_eq^T y + A_ineq^T z - sum_j F_j^T vec Z_j = 0, z >= 0, Z_j PSD, and the dual
    objective equals the optimum, on a program with every kind of constraint."""
    if not usable(name):
        pytest.skip(f"{name} not usable here")
    program = mixed()
    forms = [{}] if name not in ("clarabel", "scs") else [{"formulation": "moment"}, {"formulation": "dual"}]
    for extra in forms:
        sol = get_backend(name).run(program, {"tol": 1e-8, "extra": extra})
        res = residuals(program, sol)
        assert res is not None and res.dual < 1e-6, (extra, res)
        assert res.dual_objective == pytest.approx(get_case("sdp_mixed").optimum, abs=1e-6)
        assert np.all(sol.z_ineq >= -1e-8)


# -- picos on the problems it failed on -----------------------------------------
@pytest.mark.skipif(not usable("picos"), reason="picos not usable")
def test_picos_solves_goldstein_price_and_henrion_lasserre_at_their_exact_orders():
    x, y = gmp.variables("x y")
    gp = ((1 + (x + y + 1) ** 2 * (19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2))
          * (30 + (2 * x - 3 * y) ** 2 * (18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2)))
    res = gmp.solve(gp, order=4, backend="picos")
    assert res.status is Status.OPTIMAL and abs(res.bound - 3) < 1e-5, res.message
    hl = get_problem("henrion_lasserre_2005_three_minimizers")
    res = hl.build().solve(order=2, backend="picos")
    assert res.certified and abs(res.bound + 2) < 1e-5


# -- the gap -------------------------------------------------------------------
def test_feasible_point_brackets_the_optimum():
    p = get_problem("lasserre_2001_floudas_4_10")
    res = p.build().solve(order=4, backend="cvxopt")
    assert res.verified_bound <= p.optimum <= res.feasible_value + 1e-12
    assert res.gap is not None and res.gap < 1e-5
    # a non-flat relaxation (order 2): extraction fails, the first-order moments start the search
    low = p.build().solve(order=2, backend="cvxopt")
    assert not low.certified and low.feasible_value is not None
    assert low.verified_bound <= p.optimum <= low.feasible_value + 1e-12
    x, y = low.feasible_point
    assert min(2 * x**4 - 8 * x**3 + 8 * x**2 + 2 - y, 4 * x**4 - 32 * x**3 + 88 * x**2 - 96 * x + 36 - y,
               x, 3 - x, y, 4 - y) >= -1e-9


def test_every_library_problem_gives_an_honest_answer_on_cvxopt():
    """No status 'optimal' with a bound on the wrong side of the optimum (beyond 1e-6), and
    no verified bound on the wrong side at all."""
    for p in PROBLEMS:
        if not np.isfinite(p.optimum):
            continue
        res = p.build().solve(order=p.exact_order or None, backend="cvxopt")
        scale = max(1.0, abs(p.optimum))
        if res.status is Status.OPTIMAL:
            assert below(p, res.bound) >= -1e-6 * scale, (p.name, res.bound)
        assert below(p, res.verified_bound) >= 0, (p.name, res.verified_bound)


def test_conformance_cases_unchanged_in_number():
    assert len(CASES) == 18
