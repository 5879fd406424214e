"""Backend assembly for sparse relaxations: stacked PSD blocks and cvxopt's block-sparse Schur complement."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

cvxopt = pytest.importorskip("cvxopt")
from cvxopt import matrix, misc  # noqa: E402

import gmp  # noqa: E402
from gmp.testing import chained_problem  # noqa: E402
from gmp_backends.blocks import packed_psd, vec_psd_lower  # noqa: E402
from gmp_backends.cvxopt_kkt import BlockSchurKKT, schur_density  # noqa: E402
from gmp_backends.svec import pack  # noqa: E402


def _program_with_odd_blocks():
    x = gmp.variables("x", 3)
    mu = gmp.Measure(x, support=[1 - x[0] ** 2 - x[2] ** 2 >= 0, x[1] >= 0], mass=1.0)
    prog, _ = gmp.build_relaxation(gmp.GMP(gmp.minimize(mu.E(x[0] ** 4 + x[0] * x[1]))), 2)
    rng = np.random.default_rng(0)
    F = sp.random(9, prog.n_vars, density=0.2, random_state=1, format="csc")   # not symmetric
    blocks = list(prog.psd) + [gmp.PSDBlock(3, F, rng.standard_normal(9), "random")]
    return gmp.ConicProgram(prog.c, prog.c0, prog.A_eq, prog.b_eq, prog.A_ineq, prog.b_ineq, tuple(blocks))


@pytest.mark.parametrize("triangle", ["lower", "upper"])
def test_packed_blocks_equal_the_per_block_packing(triangle):
    prog = _program_with_odd_blocks()
    P, p0 = packed_psd(prog, triangle)
    ref = sp.vstack([pack(b.F, b.dim, triangle) for b in prog.psd])
    ref0 = np.concatenate([pack(b.F0, b.dim, triangle) for b in prog.psd])
    assert abs(P - ref).max() <= 1e-15 and np.abs(p0 - ref0).max() <= 1e-15


def test_stacked_lower_triangles_equal_the_per_block_ones():
    prog = _program_with_odd_blocks()
    r, c, v, total = vec_psd_lower(prog)
    rows, cols, vals, off = [], [], [], 0
    for b in prog.psd:
        F = b.F.tocoo()
        low = (F.row % b.dim) >= (F.row // b.dim)
        rows.append(F.row[low] + off)
        cols.append(F.col[low])
        vals.append(F.data[low])
        off += b.dim ** 2
    mine = sp.csc_matrix((v, (r, c)), shape=(total, prog.n_vars))
    ref = sp.csc_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(off, prog.n_vars))
    assert total == off and abs(mine - ref).max() == 0


def _chain_kkt(rng, n_blocks, d, nl, p):
    """A KKT system like a sparse relaxation's: blocks on overlapping windows of the variables,
    two of them with the same coefficients (one batched group), linear rows, equality rows."""
    a = d + 1                                   # variables per block
    m = (n_blocks - 1) * (a - 2) + a
    dims = {"l": nl, "q": [], "s": [d] * n_blocks}
    G = np.zeros((nl + n_blocks * d * d, m))
    G[:nl] = rng.standard_normal((nl, m)) * (rng.random((nl, m)) < 0.3)
    shared = rng.standard_normal((d * d, a))
    low = np.array([(r % d) >= (r // d) for r in range(d * d)])
    for k in range(n_blocks):
        cols = np.arange(k * (a - 2), k * (a - 2) + a)
        coef = shared if k < 2 else rng.standard_normal((d * d, a))
        G[nl + k * d * d: nl + (k + 1) * d * d][:, cols] = coef * low[:, None]
    A = rng.standard_normal((p, m)) * (rng.random((p, m)) < 0.5)
    if p:
        A[0, 0] = 1.0

    def point():
        parts = [np.abs(rng.standard_normal(nl)) + 0.5]
        for _ in range(n_blocks):
            B = rng.standard_normal((d, d))
            parts.append((B @ B.T + np.eye(d)).ravel(order="F"))
        return np.concatenate(parts)

    W = misc.compute_scaling(matrix(point()), matrix(point()), matrix(0.0, (nl + d * n_blocks, 1)), dims)
    return G, A, dims, W


def _solve(solve, bx, by, bz):
    x, y, z = matrix(bx), matrix(by, (len(by), 1)), matrix(bz)
    solve(x, y, z)
    return [np.array(v).ravel() for v in (x, y, z)]


@pytest.mark.parametrize("n_blocks, d, nl, p", [(5, 3, 0, 1), (6, 4, 3, 2), (4, 2, 2, 0)])
def test_block_schur_solution_equals_cvxopt_qr(n_blocks, d, nl, p):
    rng = np.random.default_rng(n_blocks * 10 + d)
    G, A, dims, W = _chain_kkt(rng, n_blocks, d, nl, p)
    m = G.shape[1]
    ref = misc.kkt_qr(matrix(G), dims, matrix(A, (p, m)))(W)
    mine = BlockSchurKKT(sp.csr_matrix(G), dims, sp.csr_matrix(A) if p else None)
    assert len(mine.groups) == n_blocks - 1           # the first two blocks share their coefficients
    bx, by, bz = rng.standard_normal(m), rng.standard_normal(p), rng.standard_normal(G.shape[0])
    for got, want in zip(_solve(mine(W), bx, by, bz), _solve(ref, bx, by, bz)):
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-8)


def test_cvxopt_solves_a_sparse_relaxation_with_the_block_schur_complement():
    p = chained_problem("generalized_rosenbrock", 220)
    res = p.build().solve(order=2, backend="cvxopt", sparsity="correlative")
    assert res.solution.info["kkt_schur"] == "block-sparse"
    # gmp's own check may call it optimal_inaccurate: over 220 cliques the recomputed duality gap
    # (primal minus dual objective) sums the dual residual's small entries (docs/certificates.md)
    assert res.status in (gmp.Status.OPTIMAL, gmp.Status.OPTIMAL_INACCURATE)
    assert abs(res.bound - p.optimum) <= 1e-5
    assert res.certified == (res.status is gmp.Status.OPTIMAL)   # flat cliques glue; inaccurate is never certified


def test_schur_density_of_dense_and_sparse_relaxations():
    dense = chained_problem("chained_wood", 8).build()
    mu = gmp.Measure(dense.variables, mass=1.0)
    prog, _ = gmp.build_relaxation(gmp.GMP(gmp.minimize(mu.E(dense.objective))), 2)
    assert schur_density(prog) >= 1.0


def test_mosek_task_of_a_sparse_relaxation_has_one_cone_per_block():
    pytest.importorskip("mosek")
    from gmp.sparse_relaxation import build_sparse_relaxation, plan_for
    from gmp.sparsity import Sparsity
    from gmp_backends.mosek_backend import MosekBackend

    inst = chained_problem("chained_singular", 40).build()
    mu = gmp.Measure(inst.variables, mass=1.0)
    prob = gmp.GMP(gmp.minimize(mu.E(inst.objective)))
    prog, _ = build_sparse_relaxation(prob, plan_for(prob, 2, Sparsity("correlative")))
    with MosekBackend().build_task(prog) as task:
        assert task.getnumacc() == len(prog.psd)
        assert task.getnumafe() == sum(d * (d + 1) // 2 for d in prog.psd_dims)
        # the stacked AFE rows equal the per-block svec of each block (lower triangle, sqrt 2 off it)
        k, off = 5, sum(d * (d + 1) // 2 for d in prog.psd_dims[:5])
        P = sp.coo_matrix(pack(prog.psd[k].F, prog.psd[k].dim, "lower"))
        for row, col, val in zip(P.row, P.col, P.data):
            _, cols, vals = task.getafefrow(int(off + row))
            assert dict(zip(cols, vals))[int(col)] == pytest.approx(val)
