"""gmp.subbasis: principal submatrices of M_r, and atoms read from them.

Truths: moment matrices summed over known atoms, extraction on the graded basis, the
order of relaxations (a principal submatrix constrains less, so a min bound can only drop).
"""
import numpy as np
import pytest

import gmp
from gmp import GMP, FixedRank, Measure, ModelError, build_relaxation, extract_atoms
from gmp.extraction import atoms_to_moments, monomial_values
from gmp.monomials import basis, count, index
from gmp.subbasis import check_subbasis, extract_atoms_subbasis, restrict_moment_matrix


def per_group_linear(n_groups: int, size: int, r: int) -> np.ndarray:
    """Monomials of degree <= r with degree <= 1 in each group of ``size`` variables."""
    B = basis(n_groups * size, r)
    group = np.repeat(np.arange(n_groups), size)
    return B[np.stack([B[:, group == g].sum(1) for g in range(n_groups)], 1).max(1) <= 1]


def _atoms(seed, n, k):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (k, n)), rng.dirichlet(np.ones(k) * 5)


def _sorted(points):
    return points[np.lexsort(points.T[::-1])]


@pytest.mark.parametrize("seed", range(4))
def test_restricted_block_is_the_principal_submatrix_summed_over_atoms(seed):
    n, r = 6, 2
    pts, w = _atoms(seed, n, 3)
    B = per_group_linear(3, 2, r)
    x = gmp.variables("x", n)
    mu = Measure(x, mass=1.0)
    prog, rmap = build_relaxation(GMP(None, [], measures=[mu]), r)
    sub = restrict_moment_matrix(prog, rmap, B)
    y = atoms_to_moments(pts, w, 2 * r)
    xs = y[sub.kept]
    vals = monomial_values(pts, B)                                     # (atoms, |B|)
    brute = sum(wk * np.outer(v, v) for wk, v in zip(w, vals))
    blk = sub.program.psd[0]
    np.testing.assert_allclose(blk.matrix(xs), brute, atol=1e-13)
    # trace objective: tr M_B, not tr M_r
    assert sub.program.c @ xs == pytest.approx(np.trace(brute), abs=1e-12)
    # the kept moments are exactly those of products of two monomials of B
    assert set(sub.kept.tolist()) == set(np.unique(index(B[:, None] + B[None])).tolist())
    assert sub.program.n_vars < prog.n_vars
    full = sub.expand(xs)
    assert np.isnan(full).sum() == prog.n_vars - sub.kept.size
    np.testing.assert_array_equal(full[sub.kept], xs)


@pytest.mark.parametrize("seed", range(5))
def test_extraction_on_a_sub_basis_recovers_atoms(seed):
    # three groups of two variables, three atoms: the pairs (u, x_i u) come from other groups
    n, r, k = 6, 2, 3
    pts, w = _atoms(seed, n, k)
    B = per_group_linear(3, 2, r)
    y = atoms_to_moments(pts, w, 2 * r)
    mask = np.full(y.size, np.nan)
    used = np.unique(index(B[:, None] + B[None]))
    mask[used] = y[used]                                            # only what M_B holds
    a = extract_atoms_subbasis(mask, n, B, rule=FixedRank(k))
    assert a.success and a.method == "subbasis" and a.flatness is None
    np.testing.assert_allclose(a.points, _sorted(pts), atol=1e-8)
    np.testing.assert_allclose(a.weights, w[np.lexsort(pts.T[::-1])], atol=1e-8)
    assert a.residual < 1e-10
    # with seeded noise of 1e-6 on the moments, still close
    noisy = mask.copy()
    noisy[used] += np.random.default_rng(seed).normal(0, 1e-6, used.size)
    b = extract_atoms_subbasis(noisy, n, B, rule=FixedRank(k))
    np.testing.assert_allclose(b.points, _sorted(pts), atol=1e-3)


def test_graded_basis_gives_the_same_atoms_as_extract_atoms():
    n, r = 2, 2
    pts, w = _atoms(7, n, 3)
    y = atoms_to_moments(pts, w, 2 * r)
    a = extract_atoms_subbasis(y, n, basis(n, r), rule=FixedRank(3))
    b = extract_atoms(y, n, r, rule=FixedRank(3), method="projection")
    np.testing.assert_allclose(a.points, b.points, atol=1e-9)
    np.testing.assert_allclose(a.weights, b.weights, atol=1e-9)


def test_sub_basis_relaxation_is_weaker_and_solves():
    # min of a polynomial in two groups of variables: the principal-submatrix bound is a
    # bound (<= the full relaxation's, <= the true minimum found by a grid)
    from gmp_backends import SolverOptions, resolve_backend

    x = gmp.variables("x", 4)
    f = (x[0] * x[2] - 0.5) ** 2 + (x[1] + x[3]) ** 2 + x[0] + x[1] * x[2]
    box = [1 - x[i] ** 2 >= 0 for i in range(4)]
    mu = Measure(x, support=box, mass=1.0)
    prog, rmap = build_relaxation(GMP(gmp.minimize(mu.E(f)), [], measures=[mu]), 2)
    sub = restrict_moment_matrix(prog, rmap, per_group_linear(2, 2, 2))
    be = resolve_backend("cvxopt")
    full_sol, sub_sol = be.run(prog, SolverOptions()), be.run(sub.program, SolverOptions())
    assert full_sol.status.has_solution and sub_sol.status.has_solution
    g = np.linspace(-1, 1, 21)
    P = np.stack(np.meshgrid(g, g, g, g, indexing="ij"), -1).reshape(-1, 4)
    fmin = ((P[:, 0] * P[:, 2] - 0.5) ** 2 + (P[:, 1] + P[:, 3]) ** 2 + P[:, 0] + P[:, 1] * P[:, 2]).min()
    assert sub_sol.primal_objective <= full_sol.primal_objective + 1e-6
    assert full_sol.primal_objective <= fmin + 1e-6


def test_bad_sub_bases_are_named():
    with pytest.raises(ModelError, match=r"must contain the constant monomial \(a row of zeros\)"):
        check_subbasis([[1, 0], [0, 1]], 2, 1)
    with pytest.raises(ModelError, match=r"exponents \[2, 0\] has degree 2 > r = 1: M_1 has no such row"):
        check_subbasis([[0, 0], [2, 0]], 2, 1)
    with pytest.raises(ModelError, match="lists a monomial twice"):
        check_subbasis([[0, 0], [1, 0], [1, 0]], 2, 1)
    with pytest.raises(ModelError, match=r"non-empty \(k, 2\) array of exponents.*got shape \(2, 3\)"):
        check_subbasis([[0, 0, 0], [1, 0, 0]], 2, 1)
    with pytest.raises(ModelError, match="non-negative integers"):
        check_subbasis([[0, 0], [0.5, 0]], 2, 1)
    # the objective uses x0^4, which no product of two monomials of {1, x0, x1} gives
    x = gmp.variables("x", 2)
    mu = Measure(x, mass=1.0)
    prog, rmap = build_relaxation(GMP(gmp.minimize(mu.E(x[0] ** 4 + x[1])), [], measures=[mu]), 2)
    with pytest.raises(ModelError, match=r"the objective uses the moment .*\[10\].*nothing constrains"):
        restrict_moment_matrix(prog, rmap, [[0, 0], [1, 0], [0, 1]])
    with pytest.raises(ModelError, match="measure must be an index below 1, got 1"):
        restrict_moment_matrix(prog, rmap, [[0, 0], [1, 0], [0, 1]], measure=1)


def test_extraction_failures_are_reasons():
    pts, w = _atoms(3, 2, 2)
    y = atoms_to_moments(pts, w, 2)
    # x1 never multiplies a monomial of {1, x0} into the set: it cannot be read
    a = extract_atoms_subbasis(y, 2, [[0, 0], [1, 0]], rule=FixedRank(1))
    assert not a.success and a.reason == (
        "no monomial u with u and x1 u both in the sub-basis: variable 1 cannot be read")
    # rank 2 asked of pairs that span one row only
    B = np.array([[0, 0], [1, 0], [0, 1]])
    b = extract_atoms_subbasis(y, 2, B, rule=FixedRank(2))
    assert not b.success and "have rank < 2: variable 0 cannot be read at rank 2" in b.reason
    missing = y.copy()
    missing[index(np.array([2, 0]))] = np.nan
    with pytest.raises(ModelError, match=r"the moment of exponents \[2, 0\] in M_B is missing"):
        extract_atoms_subbasis(missing, 2, B, rule=FixedRank(1))
    assert count(2, 2) == y.size
