"""The moment relaxation of one measure built from a :class:`~gmp.sparsity.SparsityPlan`.

Every PSD block is a principal submatrix of a clique's moment or localizing matrix; its
entries become global monomial keys (:mod:`gmp.monokeys`) and the distinct keys are the
decision variables, so a moment shared by two cliques is one variable [Las06]. The result
is a :class:`~gmp.conic.ConicProgram` like the dense one (docs/algorithms.md, "Building a
sparse relaxation").
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .conic import ConicProgram, ConicSolution, PSDBlock
from .errors import ModelError
from .matrices import csr_from_triplets
from .moments import MomentSequence
from .monokeys import KeySpace, local_positions
from .monomials import basis
from .rank import row_basis
from .sparsity import Sparsity, SparsityPlan, _to_clique, make_plan

__all__ = ["SparseRelaxationMap", "build_sparse_relaxation", "check_sparse_problem", "plan_for", "sparse_relax"]


@dataclass(frozen=True, eq=False)
class SparseRelaxationMap:
    """How to read a solver's answer back as the moments of each clique.

    Attributes
    ----------
    problem : GMP
    plan : SparsityPlan
    order : int
    sign : float
        +1 for min, -1 for max.
    clique_columns : tuple of ndarray of int
        Per clique, the variable of each moment of ``basis(len(clique), 2 order)``
        (graded order); -1 where the relaxation has no such moment (term sparsity).
    """

    problem: object
    plan: SparsityPlan
    order: int
    sign: float
    clique_columns: tuple[np.ndarray, ...]

    def decode(self, solution: ConicSolution) -> tuple[MomentSequence, ...] | None:
        """One moment sequence per clique (NaN marks a moment the relaxation does not hold)."""
        if solution.x is None:
            return None
        x = np.asarray(solution.x, dtype=float)
        m = self.problem.measures[0]
        out = []
        for c, cols in zip(self.plan.cliques, self.clique_columns):
            vals = np.where(cols >= 0, x[np.maximum(cols, 0)], np.nan)
            out.append(MomentSequence([m.variables[i] for i in c], 2 * self.order, vals))
        return tuple(out)

    def bound(self, solution: ConicSolution) -> float | None:
        """Objective of the relaxation in the problem's own sense."""
        val = solution.primal_objective
        if val is None:
            val = solution.dual_objective
        return None if val is None else self.sign * float(val)


def _entries(plan: SparsityPlan, sup, keys: KeySpace):
    """Per PSD block: (side, key rows of its entries (E, words), coefficients (E,), vec rows (E,))."""
    out = []
    for mp in plan.matrices:
        c = plan.cliques[mp.clique]
        cvars = np.array([c], dtype=np.int64)
        if mp.constraint is None:
            t, coefs = np.zeros((1, len(c)), np.int64), np.ones(1)
        else:
            vars_, exps, coefs = sup.ineq[mp.constraint]
            t = _to_clique(vars_, exps, c)
        for blk in mp.blocks:
            B = mp.basis[blk]
            d = B.shape[0]
            sums = (t[:, None, None, :] + B[None, :, None, :] + B[None, None, :, :]).reshape(-1, len(c))
            k = keys.global_keys(local_positions(sums, keys.degree), cvars)[0]
            # entry (i, j) of term q sits at row i + d j of vec (column-major)
            vec = np.tile((np.arange(d)[:, None] + d * np.arange(d)[None, :]).ravel(), t.shape[0])
            out.append((d, k, np.repeat(np.asarray(coefs, float), d * d), vec, mp))
    return out


def build_sparse_relaxation(problem, plan: SparsityPlan) -> tuple[ConicProgram, SparseRelaxationMap]:
    """Assemble the relaxation of ``plan`` for a GMP of one measure.

    Parameters
    ----------
    problem : GMP
        One measure; objective and moment constraints integrate polynomials against it.
    plan : SparsityPlan
        From :func:`gmp.sparsity.make_plan` for this problem's measure and order.

    Returns
    -------
    ConicProgram, SparseRelaxationMap
    """
    from .sparsity import _supports

    if len(problem.measures) != 1:
        raise ModelError(f"a sparse relaxation has one measure, the problem has {len(problem.measures)}")
    m = problem.measures[0]
    r = plan.order
    polys = _polys(problem)
    sup = _supports(m, polys, r)
    keys = sup.keys
    pos = {id(v): k for k, v in enumerate(m.variables)}
    blocks = _entries(plan, sup, keys)

    # every key the program uses: blocks, equality rows, objective, moment constraints, mass
    eq_parts = []
    for e in plan.equalities:
        c = plan.cliques[e.clique]
        vars_, exps, coefs = sup.eq[e.constraint]
        h = _to_clique(vars_, exps, c)
        A = e.multipliers
        sums = (A[:, None, :] + h[None, :, :]).reshape(-1, len(c))
        k = keys.global_keys(local_positions(sums, keys.degree), np.array([c]))[0]
        eq_parts.append((k, np.tile(coefs, A.shape[0]), np.repeat(np.arange(A.shape[0]), h.shape[0])))
    eq_parts = _independent_equalities(eq_parts, [e.clique for e in plan.equalities])
    obj = problem.objective.expr
    obj_keys = [keys.poly_keys(p.exps, _idx(p, pos)) for _, (_, p) in (obj.terms.items() if obj else [])]
    con_keys = [[keys.poly_keys(p.exps, _idx(p, pos)) for _, (_, p) in c.expr.terms.items()]
                for c in problem.constraints]
    one = keys.encode(np.full((1, keys.degree), keys.n, np.int64))
    block_keys = [b[1] for b in blocks]
    every = np.concatenate(block_keys + [e[0] for e in eq_parts] + obj_keys
                           + [k for ks in con_keys for k in ks] + [one])
    table, inverse = KeySpace.unique(every)
    n_vars = table.size
    in_blocks = np.zeros(n_vars, bool)
    off = 0
    cols_of = []
    for k in block_keys:
        cols = inverse[off:off + k.shape[0]]
        cols_of.append(cols)
        in_blocks[cols] = True
        off += k.shape[0]
    lookup = lambda k: inverse_of(k, table)   # noqa: E731

    # PSD blocks (side >= 2) and linear inequalities (side 1: -L(g) <= 0)
    in_rows, in_cols, in_vals = [], [], []
    big = []
    for (d, _, coefs, vec, mp), cols in zip(blocks, cols_of):
        if d == 1:
            in_rows.append(np.full(cols.size, len(in_rows)))
            in_cols.append(cols)
            in_vals.append(-coefs)
        else:
            big.append((d, coefs, vec, cols, _block_name(m, plan, mp, d)))
    psd = _psd_blocks(big, n_vars)
    A_in = b_in = None
    n_in = len(in_rows)

    # equalities: mass, localizing equalities, == moment constraints
    eq_data, eq_i, eq_j, eq_b = [np.ones(1)], [np.zeros(1, np.int64)], [lookup(one)], [np.ones(1) * _mass(problem, m)]
    rows = 1
    for k, coefs, rr in eq_parts:
        eq_data.append(np.asarray(coefs, float))
        eq_i.append(rr + rows)
        eq_j.append(lookup(k))
        eq_b.append(np.zeros(int(rr.max(initial=-1)) + 1))
        rows += eq_b[-1].size
    for c, ks in zip(problem.constraints, con_keys):
        vals = np.concatenate([p.coefs for _, (_, p) in c.expr.terms.items()] or [np.zeros(0)])
        cols = np.concatenate(ks or [np.zeros((0, keys.words), np.int64)])
        cols = lookup(cols) if cols.size else np.zeros(0, np.int64)
        if c.kind == "==":
            eq_data.append(vals)
            eq_i.append(np.full(cols.size, rows))
            eq_j.append(cols)
            eq_b.append(np.array([-c.expr.const]))
            rows += 1
        else:   # L(p) + const >= 0  ->  -L(p) <= const
            in_rows.append(np.full(cols.size, n_in))
            in_cols.append(cols)
            in_vals.append(-vals)
            n_in += 1
    if problem.constraints:
        b_extra = [c.expr.const for c in problem.constraints if c.kind != "=="]
    else:
        b_extra = []
    if in_rows:
        b_in = np.concatenate([np.zeros(len(in_rows) - len(b_extra)), np.array(b_extra, float)])
        A_in = csr_from_triplets(np.concatenate(in_vals), np.concatenate(in_rows), np.concatenate(in_cols),
                                 (b_in.size, n_vars))
    b_eq = np.concatenate(eq_b)
    A_eq = csr_from_triplets(np.concatenate(eq_data), np.concatenate(eq_i), np.concatenate(eq_j),
                             (b_eq.size, n_vars))

    # objective
    sense = problem.objective.sense
    sign = 1.0 if sense == "min" else -1.0
    if obj is None:   # trace of the moment matrices: their diagonal entries
        cvec = np.zeros(n_vars)
        for (d, _, coefs, vec, mp), cols in zip(blocks, cols_of):
            if mp.constraint is None:
                diag = vec % (d + 1) == 0
                np.add.at(cvec, cols[diag], 1.0)
        c0 = 0.0
    else:
        vals = np.concatenate([p.coefs for _, (_, p) in obj.terms.items()] or [np.zeros(0)])
        cols = lookup(np.concatenate(obj_keys)) if obj_keys else np.zeros(0, np.int64)
        cvec = sign * np.bincount(cols, weights=vals, minlength=n_vars)
        c0 = sign * obj.const
    stray = np.flatnonzero((cvec != 0) & ~in_blocks)
    if stray.size:
        raise ModelError(
            f"the objective uses a moment that no PSD block of the {plan.kind} relaxation holds "
            "(it would be unbounded); use sparsity=None or 'correlative'")
    program = ConicProgram(cvec, c0, A_eq, b_eq, A_in, b_in, tuple(psd), None)
    rmap = SparseRelaxationMap(problem, plan, r, sign, _clique_columns(plan, keys, table))
    return program, rmap


def _independent_equalities(parts: list, cliques: list[int]) -> list:
    """The localizing equality rows without those that are combinations of rows of the same clique.

    The rows ``L(h x^a) = 0`` of one equality are independent (distinct polynomials
    ``h x^a``), but two equalities of one clique can imply the same row (``x1 - 1`` and
    ``x1**2 - 1``): such rows, with right-hand side 0, are implied and dropped by a
    pivoted QR of the clique's rows (a small dense matrix). Solvers that need independent
    rows (cvxopt) then get them without a QR of the whole, too large to densify.
    """
    by_clique: dict[int, list[int]] = {}
    for i, c in enumerate(cliques):
        by_clique.setdefault(c, []).append(i)
    out = list(parts)
    for members in by_clique.values():
        if len(members) < 2:
            continue
        flat = [KeySpace.flat(parts[i][0]) for i in members]
        local, col = np.unique(np.concatenate(flat), return_inverse=True)
        sizes = [int(parts[i][2].max(initial=-1)) + 1 for i in members]
        starts = np.concatenate(([0], np.cumsum(sizes)))
        M = np.zeros((int(starts[-1]), local.size))
        at = 0
        for j, i in enumerate(members):
            k, coefs, rr = parts[i]
            np.add.at(M, (rr + starts[j], col.ravel()[at:at + rr.size]), coefs)
            at += rr.size
        _, piv, rank = row_basis(M)
        keep = np.zeros(M.shape[0], bool)
        keep[piv[:rank]] = True
        for j, i in enumerate(members):
            k, coefs, rr = parts[i]
            kept = keep[starts[j]:starts[j + 1]]
            renumber = np.cumsum(kept) - 1
            on = kept[rr]
            out[i] = (k[on], coefs[on], renumber[rr[on]])
    return out


#: Blocks whose column pointers are computed in one array (``blocks * n_vars`` entries at most).
_POINTER_CHUNK = 20_000_000


def _psd_blocks(big: list, n_vars: int) -> list[PSDBlock]:
    """The :class:`PSDBlock` of every block ``(side, coefficients, vec rows, variables, name)``.

    One sort of all entries by (block, variable, row) and one cumulative count give every
    block's CSC arrays; a construction per block wraps them (thousands of small blocks:
    a per-block ``csc_from_triplets`` would redo the sort and the pointer search each time).
    """
    if not big:
        return []
    sizes = np.array([b[2].size for b in big])
    blk = np.repeat(np.arange(len(big)), sizes)
    rows = np.concatenate([b[2] for b in big]).astype(np.int64)
    cols = np.concatenate([b[3] for b in big]).astype(np.int64)
    data = np.concatenate([b[1] for b in big]).astype(float)
    order = np.lexsort((rows, cols, blk))
    blk, rows, cols, data = blk[order], rows[order], cols[order], data[order]
    new = np.ones(blk.size, bool)
    new[1:] = (blk[1:] != blk[:-1]) | (cols[1:] != cols[:-1]) | (rows[1:] != rows[:-1])
    if not new.all():   # the same moment twice in one entry: add the coefficients
        starts = np.flatnonzero(new)
        data = np.add.reduceat(data, starts)
        blk, rows, cols = blk[starts], rows[starts], cols[starts]
    keep = data != 0
    blk, rows, cols, data = blk[keep], rows[keep], cols[keep], data[keep]
    bounds = np.searchsorted(blk, np.arange(len(big) + 1))
    itype = np.int32 if max(n_vars, blk.size, max(b[0] for b in big) ** 2) < 2**31 - 1 else np.int64
    rows, out = rows.astype(itype), []
    step = max(1, _POINTER_CHUNK // max(n_vars + 1, 1))
    for a in range(0, len(big), step):       # a loop over chunks of blocks, not entries
        z = min(len(big), a + step)
        lo, hi = bounds[a], bounds[z]
        # every block's column pointers in one running sum over a (blocks, n_vars + 1) array:
        # +count at (block, column + 1), and at each row start minus the previous block's
        # entries, so that each row starts again from 0
        flat = np.zeros((z - a) * (n_vars + 1), dtype=itype)
        key = (blk[lo:hi] - a) * (n_vars + 1) + cols[lo:hi] + 1
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        flat[key[starts]] = np.diff(np.append(starts, key.size))
        flat[(np.arange(1, z - a)) * (n_vars + 1)] = -np.diff(bounds[a:z])
        np.cumsum(flat, out=flat)
        ptr = flat.reshape(z - a, n_vars + 1)
        for k in range(a, z):
            d, name = big[k][0], big[k][4]
            s0, s1 = bounds[k], bounds[k + 1]
            F = sp.csc_matrix((data[s0:s1], rows[s0:s1], ptr[k - a]), shape=(d * d, n_vars))
            out.append(PSDBlock(d, F, np.zeros(d * d), name))
    return out


def inverse_of(k: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Variables of the keys ``k`` (every key must be in ``table``)."""
    out = KeySpace.lookup(k, table)
    if out.size and out.min() < 0:   # pragma: no cover - every key was added to the table
        raise ModelError("internal error: a moment key is missing from the relaxation's variables")
    return out


def _clique_columns(plan: SparsityPlan, keys: KeySpace, table: np.ndarray) -> tuple[np.ndarray, ...]:
    out = []
    by_size: dict[int, list[int]] = {}
    for k, c in enumerate(plan.cliques):
        by_size.setdefault(len(c), []).append(k)
    cols: dict[int, np.ndarray] = {}
    for s, ks in by_size.items():   # one key computation per clique size
        P = local_positions(basis(s, 2 * plan.order), keys.degree)
        K = keys.global_keys(P, np.array([plan.cliques[k] for k in ks]))
        found = KeySpace.lookup(K.reshape(-1, K.shape[-1]), table).reshape(len(ks), -1)
        for k, row in zip(ks, found):
            cols[k] = row
    for k in range(len(plan.cliques)):
        out.append(cols[k])
    return tuple(out)


def _polys(problem) -> list:
    exprs = ([problem.objective.expr] if problem.objective.expr is not None else []) + [
        c.expr for c in problem.constraints]
    return [p for e in exprs for _, (_, p) in e.terms.items()]


def _idx(p, pos: dict[int, int]) -> np.ndarray:
    return np.array([pos[id(v)] for v in p.vars], dtype=np.int64)


def _mass(problem, m) -> float:
    mass = problem.mass_of(m)
    if mass is None:
        raise ModelError("a sparse relaxation needs the measure's mass fixed (a probability measure)")
    return float(mass)


def _block_name(m, plan: SparsityPlan, mp, d: int) -> str:
    if len(plan.cliques) > 1 and len(plan.cliques) * len(mp.blocks) > 200:
        return ""   # thousands of blocks: no labels
    what = f"M_{mp.order}" if mp.constraint is None else f"M_{mp.order}(g{mp.constraint})"
    return f"{what}({m.name}, clique {mp.clique}) block of {d}"


def check_sparse_problem(problem) -> None:
    """Sparsity applies to a GMP with one measure of fixed mass; say so before any work."""
    if len(problem.measures) != 1:
        names = ", ".join(m.name for m in problem.measures)
        raise ModelError(
            f"sparsity works on a GMP with one measure, this one has {len(problem.measures)} ({names}); "
            "pass sparsity=None for the dense relaxation")
    if problem.mass_of(problem.measures[0]) is None:
        raise ModelError(
            f"sparsity needs the mass of measure {problem.measures[0].name!r} fixed, got a free mass; "
            "give the measure mass=1.0 (or another number), or pass sparsity=None")


def plan_for(problem, order: int, sparsity: Sparsity):
    """The :class:`~gmp.sparsity.SparsityPlan` of ``problem`` (one measure) at ``order``."""
    return make_plan(problem.measures[0], _polys(problem), order, sparsity)


def sparse_relax(problem, order: int, sparsity: Sparsity):
    """The sparse relaxation ``(program, SparseRelaxationMap)`` of order ``order``, or None
    when the plan is dense ("auto" found nothing that shrinks the relaxation)."""
    plan = plan_for(problem, order, sparsity)
    if plan.kind == "dense":
        return None
    return build_sparse_relaxation(problem, plan)
