"""Correlative and term sparsity: graphs, plans, relaxations and certificates against independent truths."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

import gmp
from gmp.errors import ModelError
from gmp.monokeys import KeySpace, local_positions
from gmp.problem import GMP, Measure, minimize
from gmp.relaxation import build_relaxation
from gmp.sparse_relaxation import _polys, build_sparse_relaxation, plan_for
from gmp.sparsity import (
    Sparsity,
    chordal_extension,
    csp_graph,
    dense_plan,
    make_plan,
    maximal_cliques,
    running_intersection,
    term_blocks,
)
from gmp.testing import CHAINED_FAMILIES, PROBLEMS, chained_problem, match_atoms, maxcut_band_optimum, sparse_maxcut


def _gmp(f, cons=()):
    vs = sorted({id(v): v for p in [f] + [c.expr for c in cons] for v in p.vars}.values())
    mu = Measure(vs, support=cons, mass=1.0)
    return GMP(minimize(mu.E(f)))


# -- graphs against hand-worked ones ------------------------------------------------
def test_chordal_extension_of_a_four_cycle_adds_one_chord():
    G = nx.cycle_graph(4)
    for method in ("min_degree", "min_fill"):
        H = chordal_extension(G, method)
        assert nx.is_chordal(H)
        assert H.number_of_edges() == 5            # one chord
        cliques = maximal_cliques(H)
        assert [len(c) for c in cliques] == [3, 3]
        shared = set(cliques[0]) & set(cliques[1])
        assert len(shared) == 2 and H.has_edge(*shared)


def test_min_fill_adds_nothing_to_a_chordal_graph():
    G = nx.Graph([(0, 1), (1, 2), (0, 2), (2, 3), (3, 4), (2, 4), (4, 5)])   # chordal
    assert chordal_extension(G, "min_fill").number_of_edges() == G.number_of_edges()


def test_cliques_of_a_chain_and_a_constraint_joining_its_ends():
    x = gmp.variables("x", 4)
    f = x[0] * x[1] + x[1] * x[2] + x[2] * x[3] + x[0] ** 4 + x[3] ** 4
    plan = plan_for(_gmp(f), 2, Sparsity("correlative"))
    assert plan.cliques == ((0, 1), (1, 2), (2, 3))
    assert plan.rip and plan.kind == "correlative"
    assert plan.block_sizes == (6, 6, 6)                      # count(2, 2) each
    # a constraint on x1 and x3 joins them: cliques {x1, x2, x3} and {x3, x4}
    plan = plan_for(_gmp(f, [1 - x[0] ** 2 - x[2] ** 2 >= 0]), 2, Sparsity("correlative"))
    assert plan.cliques == ((0, 1, 2), (2, 3))
    loc = [m for m in plan.matrices if m.constraint is not None]
    assert len(loc) == 1 and loc[0].clique == 0 and loc[0].block_sizes == (4,)   # count(3, 1)


def test_csp_graph_joins_the_variables_of_a_term_and_of_a_constraint():
    keys = KeySpace(5, 4)
    rows = np.array([[0, 1, 1, 5], [2, 2, 5, 5], [3, 5, 5, 5]])   # x0 x1^2, x2^2, x3
    G = csp_graph(5, [rows], [np.array([3, 4])])
    assert sorted(G.edges()) == [(0, 1), (3, 4)]
    assert keys.words == 1


def test_running_intersection_on_hand_made_cliques():
    assert running_intersection([(0, 1, 2), (1, 2, 3), (3, 4)])[0]
    assert not running_intersection([(0, 1), (1, 2), (0, 2)])[0]          # a cycle of cliques
    ok, tree = running_intersection([(0, 1), (1, 2), (2, 3)])
    assert ok and tree == ((0, 1), (1, 2))


def test_term_sparsity_blocks_of_a_hand_worked_quartic():
    # f = x^4 + y^4 + x y: basis 1, x, y, x^2, xy, y^2. Products in supp(f) or squares:
    # 1-x^2, 1-y^2, x^2-y^2 (squares), 1-xy (xy in f), x-y (xy in f): blocks {1, x^2, xy, y^2}, {x, y},
    # and the support of those blocks adds nothing new (fixed point after 2 steps).
    x, y = gmp.variables("x y")
    plan = plan_for(_gmp(x ** 4 + y ** 4 + x * y), 2, Sparsity("term"))
    (mp,) = plan.matrices
    blocks = sorted(tuple(map(tuple, mp.basis[b].tolist())) for b in mp.blocks)
    assert blocks == [((0, 0), (2, 0), (1, 1), (0, 2)), ((1, 0), (0, 1))]
    assert plan.fixed_point and plan.term_steps == 2


def test_term_blocks_block_closure_and_chordal():
    A = np.zeros((5, 5), bool)
    for a, b in [(0, 1), (1, 2), (2, 3), (3, 0)]:      # a 4-cycle and an isolated node
        A[a, b] = A[b, a] = True
    assert [b.tolist() for b in term_blocks(A, "block")] == [[0, 1, 2, 3], [4]]
    chordal = [b.tolist() for b in term_blocks(A, "chordal")]
    assert sorted(map(len, chordal)) == [1, 3, 3]


# -- monomial keys ----------------------------------------------------------------------
def test_keys_agree_across_cliques_and_words():
    # x2 x5^2 seen from clique (2, 5) and from clique (1, 2, 5): one key
    for n in (10, 10**6):                      # one word, and two words ((n+1)^4 > 2^63 at n = 10^6)
        ks = KeySpace(n, 4)
        a = ks.global_keys(local_positions(np.array([[1, 2]]), 4), np.array([[2, 5]]))[0]
        b = ks.global_keys(local_positions(np.array([[0, 1, 2]]), 4), np.array([[1, 2, 5]]))[0]
        c = ks.global_keys(local_positions(np.array([[0, 2, 1]]), 4), np.array([[1, 2, 5]]))[0]
        assert np.array_equal(a, b) and not np.array_equal(a, c)
        table, inv = KeySpace.unique(np.concatenate([a, b, c]))
        assert table.size == 2 and inv[0] == inv[1] != inv[2]
        assert KeySpace.lookup(c, table)[0] == inv[2]
        assert KeySpace.lookup(ks.encode(np.array([[0, 0, 0, n]])), table)[0] == -1
    assert KeySpace(10**6, 4).words == 2 and KeySpace(1000, 6).words == 1


# -- relaxations against the dense builder -----------------------------------------------
@pytest.mark.parametrize("name", ["henrion_lasserre_2005_three_minimizers", "lasserre_2001_floudas_4_9_equality",
                                  "maxcut_5_weighted", "disk_maximization", "circle_equality_linear"])
def test_dense_plan_builds_the_dense_relaxation(name):
    """The builder from a one-clique plan gives the dense relaxation's bound (localizing, equalities, max)."""
    p = next(q for q in PROBLEMS if q.name == name)
    inst = p.build()
    mu = Measure(inst.variables, support=inst.constraints, mass=1.0)
    obj = gmp.minimize(mu.E(inst.objective)) if inst.sense == "min" else gmp.maximize(mu.E(inst.objective))
    prob = GMP(obj)
    r = p.exact_order
    from gmp_backends import resolve_backend
    be = resolve_backend("cvxopt")
    prog_d, map_d = build_relaxation(prob, r)
    prog_s, map_s = build_sparse_relaxation(prob, dense_plan(prob.measures[0], _polys(prob), r))
    assert prog_s.n_vars == prog_d.n_vars
    bd = map_d.bound(be.run(prog_d, gmp_backends_options()))
    bs = map_s.bound(be.run(prog_s, gmp_backends_options()))
    assert abs(bd - bs) <= 1e-6 * max(1.0, abs(bd))
    assert abs(bs - p.optimum) <= 1e-5 * max(1.0, abs(p.optimum))


def gmp_backends_options():
    from gmp_backends import SolverOptions
    return SolverOptions()


@pytest.mark.parametrize("family", CHAINED_FAMILIES)
def test_sparse_bound_equals_dense_bound_on_chained_families(family):
    """[WKKM06]: order 2 is exact for the chained families; the cliques satisfy RIP, and the
    correlative bound equals the dense one and the known optimum (solver tolerance)."""
    p = chained_problem(family, 8)
    inst = p.build()
    dense = inst.solve(order=2, backend="cvxopt")
    sparse = inst.solve(order=2, backend="cvxopt", sparsity="correlative")
    both = inst.solve(order=2, backend="cvxopt", sparsity="correlative+term")
    assert sparse.sparsity.rip and sparse.sparsity.kind == "correlative"
    assert max(map(len, sparse.sparsity.cliques)) <= 3
    for r in (dense, sparse, both):
        assert r.status is gmp.Status.OPTIMAL
        assert abs(r.bound - p.optimum) <= 1e-5
    assert abs(sparse.bound - dense.bound) <= 1e-6


@pytest.mark.slow
@pytest.mark.parametrize("n", [10, 12])
@pytest.mark.parametrize("family", CHAINED_FAMILIES)
def test_sparse_bound_equals_dense_bound_on_chained_families_slow(family, n):
    p = chained_problem(family, n)
    inst = p.build()
    dense = inst.solve(order=2, backend="cvxopt")
    sparse = inst.solve(order=2, backend="cvxopt", sparsity="correlative")
    assert abs(sparse.bound - dense.bound) <= 1e-6 and abs(sparse.bound - p.optimum) <= 1e-5


def test_correlative_certificate_glues_the_unique_minimizer():
    p = chained_problem("chained_wood", 12)
    res = p.build().solve(order=2, backend="cvxopt", sparsity="correlative")
    assert res.certified, res.message
    perr, _ = match_atoms(res.atoms.points, res.atoms.weights, p.minimizers)
    assert perr <= 1e-4
    assert "correlative sparse relaxation" in res.summary()
    assert res.moments is None and len(res.sparsity.clique_moments) == len(res.sparsity.cliques)


def test_sparse_maxcut_is_exact_at_the_dynamic_programming_optimum():
    p = sparse_maxcut(12, bandwidth=2, seed=3)
    res = p.build().solve(order=2, backend="cvxopt", sparsity="correlative")
    assert res.sparsity.rip and all(len(c) == 3 for c in res.sparsity.cliques)
    assert abs(res.bound - p.optimum) <= 1e-5 * max(1.0, p.optimum)


def test_maxcut_band_optimum_against_brute_force():
    import itertools

    rng = np.random.default_rng(0)
    n = 7
    w = np.zeros((n, n))
    for k in (1, 2):
        v = rng.uniform(-1, 1, n - k)
        w[np.arange(n - k), np.arange(k, n)] = v
    w = w + w.T
    best = max(sum(w[i, j] * (1 - s[i] * s[j]) / 2 for i in range(n) for j in range(i + 1, n))
               for s in ((1.0,) + t for t in itertools.product((-1.0, 1.0), repeat=n - 1)))
    val, x = maxcut_band_optimum(w)
    assert val == pytest.approx(best, abs=1e-12)
    assert sum(w[i, j] * (1 - x[i] * x[j]) / 2 for i in range(n) for j in range(i + 1, n)) == pytest.approx(best)


# A quartic whose dense order-2 relaxation is exact (certified, one minimizer) but whose
# Chordal-TSSOS relaxation (chordal extension of the term sparsity graph) is strictly weaker,
# at the first step and at the fixed point (found by a search over random sparse quartics).
def _tssos_gap_quartic():
    x, y, z = gmp.variables("x y z")
    return (-1.2312 * y**2 * z + 0.6157 * x * z**3 + 0.7355 * x**2 * y - 1.1458 * x**3 * y - 0.6589 * x
            - 0.0803 * x * z + x**4 + y**4 + z**4)


def test_strictly_weaker_sparse_bound_is_reported_as_such():
    f = _tssos_gap_quartic()
    dense = gmp.solve(f, order=2, backend="cvxopt")
    assert dense.certified
    weak = gmp.solve(f, order=2, backend="cvxopt",
                     sparsity=Sparsity("term", term_extension="chordal", term_steps=1))
    assert weak.bound < dense.bound - 0.05             # -0.44 against -0.32
    assert not weak.certified
    assert weak.message.startswith("bound only: the term sparse relaxation, which may be weaker than the dense")
    assert weak.sparsity.term_steps == 1 and max(weak.sparsity.block_sizes) < 10
    # block closure at the fixed point keeps the dense bound here (one block of all 10 monomials)
    closed = gmp.solve(f, order=2, backend="cvxopt", sparsity="term")
    assert abs(closed.bound - dense.bound) <= 1e-6


# -- per-clique certification from known atoms ---------------------------------------------
def _chain_problem(n=4):
    x = gmp.variables("x", n)
    f = gmp.polysum([x[i] * x[i + 1] for i in range(n - 1)] + [v ** 4 for v in x])
    return _gmp(f), x


def _clique_moments(plan, x, points, weights, per_clique=None):
    out = []
    for k, c in enumerate(plan.cliques):
        pts, w = (points, weights) if per_clique is None or k not in per_clique else per_clique[k]
        out.append(gmp.MomentSequence([x[i] for i in c], 2 * plan.order, gmp.atoms_to_moments(
            np.asarray(pts)[:, list(c)], w, 2 * plan.order)))
    return out


def test_per_clique_extraction_round_trip_glues_known_atoms():
    from gmp.sparse_certify import certify_cliques

    prob, x = _chain_problem(4)
    plan = plan_for(prob, 2, Sparsity("correlative"))
    assert plan.cliques == ((0, 1), (1, 2), (2, 3))
    pts = np.array([[0.5, -0.3, 0.8, 0.1], [-0.6, 0.4, -0.2, 0.9]])
    w = np.array([0.35, 0.65])
    cert = certify_cliques(prob, plan, _clique_moments(plan, x, pts, w), gmp.as_rank_rule(None))
    assert cert.all_flat and cert.reason is None
    perr, werr = match_atoms(cert.glued.points, cert.glued.weights, pts, w)
    assert perr <= 1e-6 and werr <= 1e-6


def test_gluing_fails_honestly_when_cliques_disagree_on_an_overlap():
    from gmp.sparse_certify import certify_cliques

    prob, x = _chain_problem(4)
    plan = plan_for(prob, 2, Sparsity("correlative"))
    pts = np.array([[0.5, -0.3, 0.8, 0.1]])
    other = (np.array([[0.5, -0.3, 0.7, 0.1]]), np.array([1.0]))       # clique 2 sees x3 = 0.7
    cert = certify_cliques(prob, plan, _clique_moments(plan, x, pts, [1.0], {2: other}), gmp.as_rank_rule(None))
    assert cert.all_flat and cert.glued is None
    assert "disagree on their shared variables" in cert.reason
    # same overlap points, other weights: not marginals of one measure
    pts2 = np.array([[0.5, -0.3, 0.8, 0.1], [-0.6, 0.4, -0.2, 0.9]])
    other = (pts2, np.array([0.7, 0.3]))
    cert = certify_cliques(prob, plan, _clique_moments(plan, x, pts2, [0.35, 0.65], {2: other}),
                           gmp.as_rank_rule(None))
    assert cert.glued is None and "different weights" in cert.reason


def test_solve_says_bound_only_when_gluing_fails():
    """Broyden tridiagonal: every clique is flat, but some carry a second local atom that no
    global zero continues (the system's other zero differs elsewhere); the bound is exact."""
    p = chained_problem("broyden_tridiagonal", 8)
    res = p.build().solve(order=2, backend="cvxopt", sparsity="correlative")
    assert abs(res.bound - p.optimum) <= 1e-6
    if res.certified:      # then every glued point must be a zero of the Broyden system (f = 0)
        v = np.asarray(res.atoms.points)
        left = np.concatenate([np.zeros((v.shape[0], 1)), v[:, :-1]], axis=1)
        right = np.concatenate([v[:, 1:], np.zeros((v.shape[0], 1))], axis=1)
        assert np.abs((3 - 2 * v) * v - left - 2 * right + 1).max() <= 1e-3
    else:
        assert res.message.startswith("bound only: the correlative sparse relaxation")
        assert res.sparsity.certificate.reason is not None or not all(c.ok for c in res.atom_checks)


# -- API ----------------------------------------------------------------------------------
def test_auto_prefers_certifiable_cliques_and_falls_back_to_dense():
    p = chained_problem("generalized_rosenbrock", 6)
    res = p.build().solve(order=2, backend="cvxopt", sparsity="auto")
    assert res.sparsity.kind == "correlative" and res.certified      # term blocks would not shrink the largest
    x, y = gmp.variables("x y")
    res = gmp.solve(x**4 + y**4 + x**2 * y**2 - x * y, order=2, backend="cvxopt", sparsity="auto")
    assert res.sparsity is not None and res.sparsity.kind == "term"    # one clique, smaller blocks
    # every monomial of degree <= 4 in the support: one clique, one block: "auto" runs the dense path
    f = (1 + x + y + x * y) ** 2 + x**4 + y**4
    res = gmp.solve(f, order=2, backend="cvxopt", sparsity="auto")
    dense = gmp.solve(f, order=2, backend="cvxopt")
    assert res.sparsity is None and res.bound == dense.bound


def test_bad_sparsity_arguments_say_what_to_do():
    x, y = gmp.variables("x y")
    with pytest.raises(ModelError, match="sparsity must be None or one of 'auto', 'correlative', 'term', "
                                         "'correlative\\+term', got 'sparse'"):
        gmp.solve(x**2 + y**2, sparsity="sparse")
    with pytest.raises(ModelError, match="term_steps must be a positive integer or None"):
        Sparsity("term", term_steps=0)
    with pytest.raises(ModelError, match="chordal must be one of 'min_degree', 'min_fill', got 'amd'"):
        Sparsity("correlative", chordal="amd")
    a, b = gmp.Measure(x, name="a"), gmp.Measure(y, name="b")
    two = gmp.GMP(gmp.minimize(a.E(x**2) + b.E(y**2)), [a.E(1) + b.E(1) == 1])
    with pytest.raises(ModelError, match="sparsity works on a GMP with one measure, this one has 2 \\(a, b\\)"):
        two.solve(sparsity="correlative")


def test_term_alone_refuses_the_basis_of_a_thousand_variables():
    p = chained_problem("generalized_rosenbrock", 1000)
    inst = p.build()
    mu = Measure(inst.variables, mass=1.0)
    prob = GMP(minimize(mu.E(inst.objective)))
    with pytest.raises(ModelError, match="use sparsity='correlative\\+term'"):
        make_plan(prob.measures[0], _polys(prob), 2, Sparsity("term"))


def test_sparse_result_never_calls_itself_dense():
    p = chained_problem("chained_singular", 8)
    res = p.build().solve(order=2, backend="cvxopt", sparsity="correlative+term")
    text = res.summary()
    assert "correlative+term sparse relaxation" in text
    assert res.sparsity.description.startswith("correlative+term relaxation of order 2")


def test_sparse_verified_bound_holds_on_the_clique_boxes():
    # max-cut (x_i**2 == 1: the box [-1, 1]): the verified bound of a maximization is an upper
    # bound on the dynamic-programming optimum, for accurate and for deliberately stopped solves
    p = sparse_maxcut(12, bandwidth=2, seed=3)
    inst = p.build()
    scale = max(1.0, abs(p.optimum))
    for backend in ("cvxopt", "clarabel"):
        for sparsity in ("correlative", "correlative+term"):
            res = inst.solve(order=2, backend=backend, sparsity=sparsity)
            assert np.isfinite(res.verified_bound), res.verified_bound_note
            assert res.verified_bound >= p.optimum, (backend, sparsity)
            assert res.verified_bound - p.optimum <= 1e-5 * scale, (backend, sparsity, res.verified_bound)
            assert "box" in res.verified_bound_note
    for backend, opts in (("cvxopt", {"max_iters": 4}), ("clarabel", {"max_iters": 5}), ("scs", {"max_iters": 60})):
        res = inst.solve(order=2, backend=backend, options=opts, sparsity="correlative")
        assert res.status is gmp.Status.ITERATION_LIMIT
        assert np.isfinite(res.verified_bound), (backend, res.verified_bound_note)
        assert res.verified_bound >= p.optimum, (backend, res.verified_bound)


def test_sparse_verified_bound_of_a_minimization_with_and_without_a_box():
    p = chained_problem("chained_wood", 8)
    inst = p.build()
    res = inst.solve(order=2, backend="cvxopt", sparsity="correlative")
    assert res.verified_bound == -np.inf
    assert "no bounded set is known" in res.verified_bound_note and "ball" in res.verified_bound_note
    # the minimizer (all ones) lies in [-2, 2]^n: the same optimum, now with a box
    x = inst.variables
    boxed = gmp.solve(inst.objective, [4 - xi**2 >= 0 for xi in x], order=2, backend="cvxopt",
                      sparsity="correlative")
    assert np.isfinite(boxed.verified_bound), boxed.verified_bound_note
    assert p.optimum - 1e-4 * max(1.0, abs(p.optimum)) <= boxed.verified_bound <= p.optimum


def test_sparse_equality_rows_are_independent():
    # x1 - 1 == 0 and x1**2 - 1 == 0 on one clique imply some of each other's localizing rows;
    # the builder drops them (cvxopt needs independent rows and cannot densify a large A_eq)
    from gmp_backends.presolve import independent_rows

    p = sparse_maxcut(20)
    inst = p.build()
    mu = gmp.Measure(inst.variables, inst.constraints, mass=1.0)
    prob = GMP(gmp.maximize(mu.E(inst.objective)))
    prog, _ = build_sparse_relaxation(prob, plan_for(prob, 2, Sparsity("correlative")))
    red = independent_rows(prog.A_eq.tocsr(), prog.b_eq, dense_limit=1e12)
    assert red.dropped.size == 0
    res = inst.solve(order=2, backend="cvxopt", sparsity="correlative")
    assert res.status is gmp.Status.OPTIMAL
    assert abs(res.bound - p.optimum) <= 1e-6 * max(1.0, abs(p.optimum))
