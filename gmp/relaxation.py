"""The Lasserre moment relaxation of order r of a :class:`~gmp.problem.GMP` [Las01, Las08].

The moments of each measure up to degree ``2r`` are the variables, under its moment
matrix, the localizing matrices and equalities of its support, its mass and the moment
constraints. A maximization is passed on as the minimization of ``-c``;
:class:`RelaxationMap` undoes it and reads the solver's ``x`` back as one
:class:`~gmp.moments.MomentSequence` per measure (docs/algorithms.md, "The relaxation").
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .conic import ConicProgram, ConicSolution, PSDBlock
from .errors import OrderError
from .matrices import (
    csr_from_triplets,
    freeze,
    half_degree,
    localizing_coefficients,
    localizing_equality_triplets,
    moment_coefficients,
    trace_vector,
)
from .moments import MomentSequence
from .monomials import count, index
from .size import check_size
from .sparse_relaxation import SparseRelaxationMap, sparse_relax
from .sparsity import Sparsity

if TYPE_CHECKING:  # types only: the problem module sits above the pipeline
    from .problem import GMP

__all__ = ["RelaxationMap", "build_relaxation", "check_order", "relax"]


@dataclass(frozen=True, eq=False)
class RelaxationMap:
    """How to read a solver's answer back as moments of each measure."""

    problem: GMP
    order: int
    offsets: tuple[int, ...]  # start of each measure's moments in x; last = n_vars
    sign: float  # +1 for min, -1 for max
    block_owner: tuple[tuple[int, str], ...]  # (measure index, "moment" | "localizing g_j")

    def decode(self, solution: ConicSolution) -> tuple[MomentSequence, ...] | None:
        """Moment sequences (one per measure), or None when the solver gave no point."""
        if solution.x is None:
            return None
        x = np.asarray(solution.x, dtype=float)
        return tuple(
            MomentSequence(m.variables, 2 * self.order, x[self.offsets[k] : self.offsets[k + 1]])
            for k, m in enumerate(self.problem.measures)
        )

    def bound(self, solution: ConicSolution) -> float | None:
        """Objective of the relaxation in the problem's own sense."""
        val = solution.primal_objective
        if val is None:
            val = solution.dual_objective
        return None if val is None else self.sign * float(val)


def check_order(problem: GMP, order: object) -> int:
    """Validate a fixed order against every degree in the problem; return it as int."""
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or int(order) < 1:
        raise OrderError(f"order must be a positive integer or 'auto', got {order!r}")
    r = int(order)

    def too_high(what: str, deg: int) -> OrderError:
        need = half_degree(deg)
        return OrderError(
            f"order must be at least {need} for the {what} of degree {deg}, but got "
            f"order={r}; pass order={need} or order='auto'"
        )

    # messages are formatted only for the offending item
    for m in problem.measures:
        for g in m.inequalities:
            if g.degree > 2 * r:
                raise too_high(f"support constraint {g} >= 0 of {m.name}", g.degree)
        for h in m.equalities:
            if h.degree > 2 * r:
                raise too_high(f"support constraint {h} == 0 of {m.name}", h.degree)
    if problem.objective.expr is not None and (deg := problem.objective.expr.degree) > 2 * r:
        raise too_high("objective", deg)
    for k, c in enumerate(problem.constraints):
        if (deg := c.expr.degree) > 2 * r:
            raise too_high(f"moment constraint {k}", deg)
    return r


def _moment_constraint_rows(problem: GMP, offsets: list[int]):
    """Triplets ``((data, rows, cols), rhs)`` of the ``==`` and of the ``>=`` moment constraints.

    ``==`` rows: ``row @ y == -const``; ``>=`` rows: ``row @ y + const >= 0``, stored as
    ``-row @ y <= const``. The terms of all constraints are gathered per measure, indexed
    with one :func:`~gmp.monomials.index` call each, and returned as triplets per kind,
    for one sparse matrix each (no dense row per constraint: Polymom-style problems have
    thousands).
    """
    cons = problem.constraints
    if not cons:
        return None, None
    measures = problem.measures
    pos = [{id(v): j for j, v in enumerate(m.variables)} for m in measures]  # column of each variable
    # per measure: (row within its kind, is ==, exponents over the measure's variables, coefs)
    per_measure: list[list[tuple[int, bool, np.ndarray, np.ndarray]]] = [[] for _ in measures]
    n_rows = [0, 0]  # rows of the >= and of the == kind so far
    for c in cons:
        eq = c.kind == "=="
        row = n_rows[eq]
        n_rows[eq] += 1
        for m, p in c.expr.terms.values():
            k = problem.measure_index(m)
            if len(p.vars) == m.n_vars and all(a is b for a, b in zip(p.vars, m.variables)):
                e = p.exps
            else:
                try:
                    e = np.zeros((p.coefs.size, m.n_vars), dtype=np.int64)
                    if p.vars:
                        e[:, [pos[k][id(v)] for v in p.vars]] = p.exps
                except KeyError:  # a foreign variable: terms_in raises the error that names it
                    e = p.terms_in(m.variables)[0]
            per_measure[k].append((row, eq, e, p.coefs))
    rows, kinds, cols, vals = [], [], [], []
    for k, items in enumerate(per_measure):
        if items:
            sizes = [t[3].size for t in items]
            rows.append(np.repeat([t[0] for t in items], sizes))
            kinds.append(np.repeat([t[1] for t in items], sizes))
            cols.append(index(np.concatenate([t[2] for t in items])) + offsets[k])
            vals.append(np.concatenate([t[3] for t in items]))
    rows_a = rows[0] if len(rows) == 1 else np.concatenate(rows)
    cols_a = cols[0] if len(cols) == 1 else np.concatenate(cols)
    vals_a = vals[0] if len(vals) == 1 else np.concatenate(vals)
    if not n_rows[False]:  # only == constraints (Polymom's case): no selection
        return ((vals_a, rows_a, cols_a), -np.array([c.expr.const for c in cons])), None
    kinds_a = np.concatenate(kinds).astype(bool)
    out: list = []
    for kind_eq, sgn in ((True, 1.0), (False, -1.0)):
        consts = [c.expr.const for c in cons if (c.kind == "==") == kind_eq]
        if not consts:
            out.append(None)
            continue
        sel = kinds_a if kind_eq else ~kinds_a
        rhs = -np.array(consts) if kind_eq else np.array(consts)
        out.append(((sgn * vals_a[sel], rows_a[sel], cols_a[sel]), rhs))
    return tuple(out)


@lru_cache(maxsize=256)
def _var_names(name: str, size: int) -> tuple[str, ...]:
    """``("mu[0]", ..., "mu[size-1]")``: the labels of one measure's moments (built once per shape)."""
    return tuple(f"{name}[{i}]" for i in range(size))


@lru_cache(maxsize=64)
def _mass_rows(cols: tuple[int, ...], n_total: int):
    """Rows ``e_col^T``, one per fixed mass, as a read-only CSR matrix (built once per shape)."""
    m = len(cols)
    return freeze(csr_from_triplets(np.ones(m), np.arange(m), np.array(cols, dtype=np.int64), (m, n_total)))


def relax(problem: GMP, order: int, *, sparsity: Sparsity | None = None
          ) -> tuple[ConicProgram, RelaxationMap | SparseRelaxationMap]:
    """The ``relax`` step of the pipeline: the order-``order`` relaxation of ``problem``.

    Parameters
    ----------
    problem : GMP
    order : int
    sparsity : Sparsity, optional
        A sparse relaxation on the plan it makes (:mod:`gmp.sparsity`, one measure); None,
        or a plan that finds nothing to exploit, gives the dense relaxation.

    Returns
    -------
    program : ConicProgram
        What a backend solves.
    rmap : RelaxationMap or SparseRelaxationMap
        How to read the solver's answer back as moments (of each measure, or of each clique).
    """
    if sparsity is not None:
        sparse = sparse_relax(problem, check_order(problem, order), sparsity)
        if sparse is not None:
            return sparse
    return build_relaxation(problem, order)


def build_relaxation(problem: GMP, order: int) -> tuple[ConicProgram, RelaxationMap]:
    """Assemble the order-``order`` dense moment relaxation as a :class:`ConicProgram`."""
    r = check_order(problem, order)
    check_size(problem, r)  # before anything is allocated
    measures = problem.measures
    sizes = [count(m.n_vars, 2 * r) for m in measures]
    offsets = [0]
    for size in sizes:
        offsets.append(offsets[-1] + size)
    n_total = offsets[-1]

    blocks: list[PSDBlock] = []
    owners: list[tuple[int, str]] = []
    # equality rows of every kind, as triplets with their row offsets: one CSR at the end
    eq_data: list[np.ndarray] = []
    eq_i: list[np.ndarray] = []
    eq_j: list[np.ndarray] = []
    eq_rhs: list[np.ndarray] = []

    mass_cols: list[int] = []  # columns of the mass rows y_k[0] = mass_k

    def add_eq(data, rows, cols, rhs) -> None:
        eq_i.append(np.asarray(rows) + sum(b.size for b in eq_rhs))
        eq_data.append(np.asarray(data, dtype=float))
        eq_j.append(np.asarray(cols))
        eq_rhs.append(np.asarray(rhs, dtype=float))

    for k, m in enumerate(measures):
        n = m.n_vars
        N = count(n, r)
        place = dict(n_moments=sizes[k], offset=offsets[k], n_cols=n_total)
        blocks.append(PSDBlock(N, moment_coefficients(n, r, **place), np.zeros(N * N), f"M_{r}({m.name})"))
        owners.append((k, "moment"))
        for j, g in enumerate(m.inequalities):
            ge, gc = g.terms_in(m.variables)
            F, F0, Ng = localizing_coefficients(n, r, ge, gc, **place)
            blocks.append(PSDBlock(Ng, F, F0, f"M_{r - half_degree(g.degree)}(g{j} {m.name})"))
            owners.append((k, f"localizing g{j}"))
        for h in m.equalities:
            he, hc = h.terms_in(m.variables)
            data, rows, cols, K = localizing_equality_triplets(n, r, he, hc, offset=offsets[k])
            add_eq(data, rows, cols, np.zeros(K))
        mass = problem.mass_of(m)
        if mass is not None:
            add_eq([1.0], [0], [offsets[k]], [mass])
            mass_cols.append(offsets[k])

    def expr_row(expr) -> np.ndarray:
        cols, vals = [np.zeros(0, np.int64)], [np.zeros(0)]
        for _, (m, p) in expr.terms.items():
            k = problem.measure_index(m)
            e, c = p.terms_in(m.variables)  # degree <= 2r: check_order
            cols.append(index(e) + offsets[k])
            vals.append(c)
        return np.bincount(np.concatenate(cols), weights=np.concatenate(vals), minlength=n_total)

    mc_eq, mc_in = _moment_constraint_rows(problem, offsets)
    if mc_eq is not None:
        add_eq(*mc_eq[0], mc_eq[1])
    A_in = b_in = None
    if mc_in is not None:
        A_in, b_in = csr_from_triplets(*mc_in[0], (mc_in[1].size, n_total)), mc_in[1]

    sense = problem.objective.sense
    sign = 1.0 if sense == "min" else -1.0
    if problem.objective.expr is None:
        cvec = np.concatenate([trace_vector(m.n_vars, r, sizes[k]) for k, m in enumerate(measures)])
        c0 = 0.0
    else:
        cvec = sign * expr_row(problem.objective.expr)
        c0 = sign * problem.objective.expr.const

    A_eq = b_eq = None
    if eq_rhs:
        b_eq = np.concatenate(eq_rhs)
        if len(mass_cols) == len(eq_rhs):
            # mass rows only (every polynomial optimization without equalities): shared, read-only
            A_eq = _mass_rows(tuple(mass_cols), n_total)
        elif len(eq_rhs) == 1:
            A_eq = csr_from_triplets(eq_data[0], eq_i[0], eq_j[0], (b_eq.size, n_total))
        else:
            A_eq = csr_from_triplets(np.concatenate(eq_data), np.concatenate(eq_i), np.concatenate(eq_j),
                                     (b_eq.size, n_total))
    names = (_var_names(measures[0].name, sizes[0]) if len(measures) == 1 else
             sum((_var_names(m.name, sizes[k]) for k, m in enumerate(measures)), ())) if n_total <= 5000 else None
    program = ConicProgram(cvec, c0, A_eq, b_eq, A_in, b_in, tuple(blocks), names)
    rmap = RelaxationMap(problem, r, tuple(offsets), sign, tuple(owners))
    return program, rmap
