"""The sparse Schur-complement KKT solver for cvxopt (gmp_backends.cvxopt_kkt).

Independent references: cvxopt's own "qr" KKT solver on the same system and NT
scaling, and the published optima of the problem library.
"""
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

cvxopt = pytest.importorskip("cvxopt")
from cvxopt import matrix, misc  # noqa: E402

import gmp  # noqa: E402
import gmp_backends.cvxopt_backend as cb  # noqa: E402
import gmp_backends.cvxopt_kkt as ck  # noqa: E402
from gmp import Status  # noqa: E402
from gmp.monomials import basis  # noqa: E402
from gmp.testing import PROBLEMS, get_problem  # noqa: E402
from gmp_backends.cvxopt_kkt import SparseSchurKKT  # noqa: E402

EXACT = [p for p in PROBLEMS if p.exact_order is not None]


def _random_kkt(rng, nl, qd, sd, m, p, density=1.0):
    dims = {"l": nl, "q": qd, "s": sd}
    rows = nl + sum(qd) + sum(d * d for d in sd)
    G = rng.standard_normal((rows, m)) * (rng.random((rows, m)) < density)
    off = nl + sum(qd)
    for d in sd:  # cvxopt reads the lower triangles only: leave the rest empty
        r = np.arange(d * d)
        G[off + r[(r % d) < (r // d)]] = 0.0
        off += d * d
    A = rng.standard_normal((p, m))

    def point():
        parts = [np.abs(rng.standard_normal(nl)) + 0.5]
        for q in qd:
            t = rng.standard_normal(q)
            t[0] = np.linalg.norm(t[1:]) + 1.0
            parts.append(t)
        for d in sd:
            B = rng.standard_normal((d, d))
            parts.append((B @ B.T + np.eye(d)).ravel(order="F"))
        return np.concatenate(parts)

    W = misc.compute_scaling(matrix(point()), matrix(point()),
                             matrix(0.0, (nl + sum(qd) + sum(sd), 1)), dims)
    return G, A, dims, W, point


def _solve(solve, bx, by, bz):
    """Run one KKT ``solve`` on copies of the right-hand side; ``[ux, uy, W uz]`` as arrays."""
    x, y, z = matrix(bx), matrix(by, (len(by), 1)), matrix(bz)
    solve(x, y, z)
    return [np.array(v).ravel() for v in (x, y, z)]


@pytest.mark.parametrize("nl, qd, sd, m, p", [
    (0, [], [4], 6, 0),
    (0, [], [5], 9, 3),
    (3, [3], [4, 3], 7, 2),
    (2, [], [6, 2, 3], 12, 4),
])
def test_solution_equals_cvxopt_qr_on_random_kkt_systems(nl, qd, sd, m, p):
    rng = np.random.default_rng(nl + 10 * m + p)
    G, A, dims, W, point = _random_kkt(rng, nl, qd, sd, m, p, density=0.6)
    ref = misc.kkt_qr(matrix(G), dims, matrix(A, (p, m)))(W)
    mine = SparseSchurKKT(sp.csr_matrix(G), dims, sp.csr_matrix(A) if p else None)(W)
    bx, by, bz = rng.standard_normal(m), rng.standard_normal(p), point()
    out = [_solve(ref, bx, by, bz), _solve(mine, bx, by, bz)]
    for got, want in zip(out[1], out[0]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)
    # the strict upper triangles of z are left as they came, like cvxopt's solvers
    off = nl + sum(qd)
    for d in sd:
        r = np.arange(d * d)
        upper = off + r[(r % d) < (r // d)]
        np.testing.assert_array_equal(out[1][2][upper], bz[upper])
        off += d * d


@pytest.mark.parametrize("density", [1.0, 0.5])
def test_schur_complement_in_several_chunks_equals_one_chunk_and_qr(monkeypatch, density):
    # chunks of 2-3 moments: every block is cut into several, both with all moments active
    # (density 1, the column-slice path) and with some columns empty (density 0.5)
    rng = np.random.default_rng(7)
    nl, qd, sd, m, p = 2, [], [6, 5], 14, 2
    G, A, dims, W, point = _random_kkt(rng, nl, qd, sd, m, p, density=density)
    if density < 1.0:
        G[nl:nl + 36, :4] = 0.0                                   # moments 0..3 absent from block 0
    one = SparseSchurKKT(sp.csr_matrix(G), dims, sp.csr_matrix(A))
    monkeypatch.setattr(ck, "CHUNK_ENTRIES", 80)
    many = SparseSchurKKT(sp.csr_matrix(G), dims, sp.csr_matrix(A))
    assert all(len(b.chunks) >= 3 for b in many.blocks) and all(len(b.chunks) == 1 for b in one.blocks)
    assert many.blocks[0].all_active == (density == 1.0)
    np.testing.assert_allclose(many._schur(W), one._schur(W), rtol=1e-12, atol=1e-12)
    ref = misc.kkt_qr(matrix(G), dims, matrix(A, (p, m)))(W)
    bx, by, bz = rng.standard_normal(m), rng.standard_normal(p), point()
    for got, want in zip(_solve(many(W), bx, by, bz), _solve(ref, bx, by, bz)):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def test_singular_schur_complement_uses_the_fallback_or_reports_singular():
    rng = np.random.default_rng(3)
    G, A, dims, W, _ = _random_kkt(rng, 0, [], [3], 5, 0)
    G[:, 4] = 0.0  # a variable in no cone: H is singular
    calls = []
    kkt = SparseSchurKKT(sp.csr_matrix(G), dims, None, fallback=lambda W: calls.append(W) or "qr-solve")
    assert kkt(W) == "qr-solve" and calls and kkt.fallbacks == 1
    with pytest.raises(ArithmeticError, match="singular KKT system"):
        SparseSchurKKT(sp.csr_matrix(G), dims, None)(W)


def test_dependent_equality_rows_are_named():
    rng = np.random.default_rng(4)
    G, A, dims, W, _ = _random_kkt(rng, 0, [], [3], 5, 2)
    A[1] = 2 * A[0]
    with pytest.raises(ValueError, match=r"Rank\(A\) < p"):
        SparseSchurKKT(sp.csr_matrix(G), dims, sp.csr_matrix(A))


@pytest.mark.parametrize("problem", EXACT, ids=[p.name for p in EXACT])
def test_library_optima_with_the_sparse_kkt_solver(problem):
    res = problem.build().solve(order=problem.exact_order, backend="cvxopt",
                                options={"extra": {"kktsolver": "sparse"}})
    assert res.status is Status.OPTIMAL, res.message
    assert abs(res.bound - problem.optimum) <= 1e-5 * max(1.0, abs(problem.optimum))
    assert res.certified


def test_automatic_choice_by_size(monkeypatch):
    p = get_problem("six_hump_camel")
    small = p.build().solve(order=3, backend="cvxopt")
    assert small.solution.info["kktsolver"] == "qr"
    monkeypatch.setattr(cb, "SPARSE_KKT_MIN_WORK", 0)
    auto = p.build().solve(order=3, backend="cvxopt")
    assert auto.solution.info["kktsolver"] == "sparse"
    assert abs(auto.bound - p.optimum) <= 1e-6 and auto.certified
    # a kktsolver the caller names is used whatever the size
    named = p.build().solve(order=3, backend="cvxopt", options={"extra": {"kktsolver": "chol"}})
    assert named.solution.info["kktsolver"] == "chol"


def test_automatic_choice_reruns_with_qr_when_it_fails(monkeypatch):
    # Without iterative refinement the normal equations fail on this problem (measured:
    # a stall to the iteration limit, or cvxopt dividing by zero on the bad directions);
    # the automatic choice must then rerun with "qr".
    monkeypatch.setattr(cb, "SPARSE_KKT_MIN_WORK", 0)
    monkeypatch.setattr(cb, "SPARSE_KKT_REFINEMENT", 0)
    # The relaxation as built (gmp.solve would scale its moments by the box [0, 3] x [0, 4],
    # on which the normal equations do not fail).
    p = get_problem("lasserre_2001_floudas_4_10")
    inst = p.build()
    mu = gmp.Measure(inst.variables, inst.constraints, mass=1.0)
    program, _ = gmp.build_relaxation(gmp.GMP(gmp.minimize(mu.E(inst.objective))), 4)
    sol = cb.CvxoptBackend().run(program)
    assert sol.status is Status.OPTIMAL, sol.message
    assert abs(sol.primal_objective - p.optimum) <= 1e-5 * abs(p.optimum)
    assert "rerun with cvxopt's 'qr'" in sol.info["kkt_note"]
    assert sol.info["kktsolver"] == "qr"
    # named explicitly, the sparse solver is not swapped: the failure is reported as a status
    named = cb.CvxoptBackend().run(program, {"extra": {"kktsolver": "sparse", "refinement": 0}})
    assert named.status in (Status.ITERATION_LIMIT, Status.NUMERICAL_ERROR, Status.OPTIMAL_INACCURATE,
                            Status.SOLVER_ERROR)


def test_default_threshold_picks_sparse_for_the_large_library_problem():
    # m = 462 variables, PSD blocks 56 and 11 x 21: m^2 sum d^2 = 1.7e9 (measured 2.5x faster)
    p = get_problem("lasserre_2001_floudas_2_2_quadratic")
    res = p.build().solve(order=3, backend="cvxopt")
    assert res.solution.info["kktsolver"] == "sparse"
    assert res.status is Status.OPTIMAL and res.certified
    assert abs(res.bound - p.optimum) <= 1e-5 * abs(p.optimum)


def test_rows_that_fix_single_variables_take_the_selection_path():
    # y_0 = 1 and measured moments: each equality row has one entry; no QR is formed
    rng = np.random.default_rng(5)
    m, p = 8, 3
    G, _, dims, W, point = _random_kkt(rng, 1, [], [4, 3], m, 0, density=0.7)
    A = np.zeros((p, m))
    A[[0, 1, 2], [5, 1, 6]] = [2.0, -1.0, 0.5]
    kkt = SparseSchurKKT(sp.csr_matrix(G), dims, sp.csr_matrix(A))
    assert kkt._fixed is not None and not hasattr(kkt, "_qr")
    ref = misc.kkt_qr(matrix(G), dims, matrix(A))(W)
    bx, by, bz = rng.standard_normal(m), rng.standard_normal(p), point()
    out = [_solve(ref, bx, by, bz), _solve(kkt(W), bx, by, bz)]
    for got, want in zip(out[1], out[0]):
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9)


def _dense_quartic_on_ball(n, seed=0):
    """min L(f), f a dense random quartic, over probability measures on the unit ball."""
    x = gmp.variables("x", n)
    exps = basis(n, 4)
    f = gmp.Polynomial([xi.vars[0] for xi in x], exps, np.random.default_rng(seed).standard_normal(exps.shape[0]))
    mu = gmp.Measure(x, support=[1 - sum(xi**2 for xi in x) >= 0])
    return gmp.GMP(gmp.minimize(mu.E(f)))


def test_ill_conditioned_factorizations_hand_over_to_qr(monkeypatch):
    # The switch itself, without relying on where a given BLAS loses its digits: with
    # SWITCH_RCOND = 1 every factorization counts as ill-conditioned, so every Newton system
    # (the first included) goes to cvxopt's QR and the run is QR's run; with 0 none does.
    opts = {"tol": 1e-8, "extra": {"kktsolver": "sparse"}}
    ref = _dense_quartic_on_ball(4).solve(order=2, backend="cvxopt", options={"tol": 1e-8, "extra": {"kktsolver": "qr"}})
    assert ref.status is Status.OPTIMAL, ref.message
    monkeypatch.setattr(ck, "SWITCH_RCOND", 1.0)
    handed = _dense_quartic_on_ball(4).solve(order=2, backend="cvxopt", options=opts)
    assert handed.status is Status.OPTIMAL, handed.message
    assert handed.solution.info["kkt_fallback_iterations"] == handed.solution.iterations + 1
    assert abs(handed.bound - ref.bound) <= 1e-6 * abs(ref.bound)
    monkeypatch.setattr(ck, "SWITCH_RCOND", 0.0)
    kept = _dense_quartic_on_ball(4).solve(order=2, backend="cvxopt", options=opts)
    assert kept.status is Status.OPTIMAL and kept.solution.info["kkt_fallback_iterations"] == 0
    assert abs(kept.bound - ref.bound) <= 1e-6 * abs(ref.bound)


def test_conformance_suite_with_the_sparse_kkt_solver():
    from gmp_backends.conformance import run_conformance

    report = run_conformance("cvxopt", options={"tol": 1e-7, "extra": {"kktsolver": "sparse"}})
    assert report.ok, report


@settings(max_examples=40, deadline=None)
@given(nl=st.integers(0, 3), qd=st.lists(st.integers(2, 4), max_size=2), sd=st.lists(st.integers(1, 6), min_size=1, max_size=3),
       extra_m=st.integers(0, 6), p=st.integers(0, 3), density=st.floats(0.3, 1.0), seed=st.integers(0, 2**31 - 1))
def test_property_solution_equals_cvxopt_qr(nl, qd, sd, extra_m, p, density, seed):
    rng = np.random.default_rng(seed)
    m = p + 1 + extra_m
    G, A, dims, W, point = _random_kkt(rng, nl, qd, sd, m, p, density=density)
    # cvxopt's own solver, the reference, needs rank([G; A]) = m and rank(A) = p
    assume(np.linalg.matrix_rank(np.vstack([G, A])) == m and (p == 0 or np.linalg.matrix_rank(A) == p))
    ref = misc.kkt_qr(matrix(G), dims, matrix(A, (p, m)))(W)
    mine = SparseSchurKKT(sp.csr_matrix(G), dims, sp.csr_matrix(A) if p else None)(W)
    bx, by, bz = rng.standard_normal(m), rng.standard_normal(p), point()
    out = [_solve(ref, bx, by, bz), _solve(mine, bx, by, bz)]
    for got, want in zip(out[1], out[0]):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6 * max(1.0, np.abs(want).max(initial=0.0)))
