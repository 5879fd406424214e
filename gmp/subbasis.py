"""Moment relaxations on a sub-basis: a principal submatrix of ``M_r`` and its atoms.

Keeping only ``M_B(y) ⪰ 0`` for a set ``B`` of monomials is a weaker but valid relaxation,
as in TSSOS [WML21] and multi-view mixtures [WCL15, Sec. 5]. :func:`restrict_moment_matrix`
turns a built relaxation into the one on ``B``; :func:`extract_atoms_subbasis` reads atoms
from ``M_B`` by simultaneous diagonalization [WCL15, Sec. 4]. With no flat-extension theorem
for an arbitrary ``B`` [LM09], these atoms are never called certified (docs/algorithms.md).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .conic import ConicProgram, PSDBlock
from .errors import ModelError
from .extraction import Atoms, ExtractionFailure, _simultaneous_diagonal, canonical_order, monomial_values
from .monomials import basis, count, index
from .rank import RankRule, as_rank_rule

__all__ = ["RestrictedProgram", "check_subbasis", "restrict_moment_matrix", "extract_atoms_subbasis"]



def check_subbasis(exps, n: int, r: int) -> np.ndarray:
    """Validate a monomial set ``B`` for ``M_r``; return its exponents in graded order.

    ``B`` must hold distinct exponent rows of length ``n``, of degree ``<= r``, and the
    constant monomial (the mass ``y_0`` sits on the diagonal of ``M_B`` through it).
    """
    e = np.asarray(exps)
    if e.ndim != 2 or e.shape[1] != n or e.shape[0] == 0:
        raise ModelError(
            f"the sub-basis must be a non-empty (k, {n}) array of exponents, one row per monomial of the "
            f"{n} variables, got shape {e.shape}"
        )
    if not np.issubdtype(e.dtype, np.integer):
        if not np.all(np.isfinite(e)) or np.any(e != np.round(e)):
            raise ModelError("the sub-basis exponents must be non-negative integers")
        e = e.astype(np.int64)
    e = e.astype(np.int64)
    if np.any(e < 0):
        bad = e[np.any(e < 0, axis=1)][0].tolist()
        raise ModelError(f"the sub-basis exponents must be non-negative integers, got row {bad}")
    deg = e.sum(axis=1)
    if np.any(deg > r):
        bad = e[np.argmax(deg > r)]
        raise ModelError(
            f"the sub-basis monomial with exponents {bad.tolist()} has degree {int(bad.sum())} > r = {r}: "
            f"M_{r} has no such row; drop it or raise the order"
        )
    pos = index(e)
    if np.unique(pos).size != pos.size:
        raise ModelError("the sub-basis lists a monomial twice; pass each exponent row once")
    if 0 not in pos:
        raise ModelError("the sub-basis must contain the constant monomial (a row of zeros)")
    return e[np.argsort(pos)]


@dataclass(frozen=True, eq=False)
class RestrictedProgram:
    """A relaxation whose moment block is the principal submatrix on a sub-basis.

    Attributes
    ----------
    program : ConicProgram
        The restricted program, on ``kept.size`` variables.
    kept : ndarray of int
        The variables of the original program it keeps, in order: its variable ``j``
        is the original variable ``kept[j]``.
    n_vars_full : int
        Variables of the original program.
    basis : ndarray of shape (k, n)
        The sub-basis, in graded order.
    """

    program: ConicProgram
    kept: np.ndarray
    n_vars_full: int
    basis: np.ndarray

    def expand(self, x) -> np.ndarray:
        """The original program's variables from the restricted ones; a dropped moment is NaN (missing)."""
        out = np.full(self.n_vars_full, np.nan)
        out[self.kept] = np.asarray(x, dtype=float)
        return out


def restrict_moment_matrix(program: ConicProgram, rmap, exps, measure: int = 0) -> RestrictedProgram:
    """Replace one measure's moment matrix ``M_r`` by its principal submatrix on ``exps``.

    Parameters
    ----------
    program, rmap : the output of :func:`gmp.build_relaxation`
    exps : array_like of int, shape (k, n)
        The sub-basis ``B``: distinct monomials of degree ``<= r`` including 1.
    measure : int
        Which measure of the problem (position in ``rmap.problem.measures``).

    Returns
    -------
    RestrictedProgram
        With a trace objective (the GMP has none) the objective becomes the sum of the
        traces with ``tr M_B`` for this measure. Localizing matrices, equalities and
        moment constraints are kept as built. Moments used by nothing are dropped.

    Raises
    ------
    ModelError
        An invalid sub-basis, or an objective that uses a moment nothing else
        constrains any more (it would be unbounded).
    """
    problem = rmap.problem
    n_measures = len(problem.measures)
    if isinstance(measure, bool) or not isinstance(measure, (int, np.integer)) or not 0 <= measure < n_measures:
        raise ModelError(f"measure must be an index below {n_measures}, got {measure!r}")
    mu = problem.measures[measure]
    r, n = rmap.order, mu.n_vars
    B = check_subbasis(exps, n, r)
    k = [i for i, owner in enumerate(rmap.block_owner) if owner == (measure, "moment")][0]
    blk = program.psd[k]
    d, keep = blk.dim, index(B)
    rows = (keep[:, None] + d * keep[None, :]).ravel(order="F")      # vec of the principal submatrix
    F = blk.F[rows]
    c = program.c.copy()
    if problem.objective.expr is None:
        # tr M_r is sum_{|a| <= r} y[2a]; tr M_B keeps the terms of a in B
        off = rmap.offsets[measure]
        dropped = np.setdiff1d(np.arange(d), keep)
        if dropped.size:
            c[off + index(2 * basis(n, r)[dropped])] -= 1.0
    blocks = list(program.psd)
    blocks[k] = PSDBlock(B.shape[0], F, blk.F0[rows], f"{blk.name} on a sub-basis of {B.shape[0]} monomials")
    used = np.zeros(program.n_vars, bool)
    for b in blocks:
        used[np.flatnonzero(np.diff(b.F.indptr))] = True        # CSC (ConicProgram's, and rows of it)
    for A in (program.A_eq, program.A_ineq):
        if A.nnz:
            used[np.unique(A.indices)] = True
    stray = np.flatnonzero((c != 0) & ~used)
    if stray.size:
        name = program.var_names[stray[0]] if program.var_names is not None else f"variable {stray[0]}"
        raise ModelError(
            f"the objective uses the moment {name}, which nothing constrains once M_{r} is restricted to the "
            "sub-basis (it would be unbounded); add the monomials whose products give it to the sub-basis"
        )
    kept = np.flatnonzero(used)
    blocks = [PSDBlock(b.dim, b.F[:, kept], b.F0, b.name) for b in blocks]
    names = None if program.var_names is None else tuple(program.var_names[i] for i in kept)
    out = ConicProgram(c[kept], program.c0, program.A_eq[:, kept], program.b_eq, program.A_ineq[:, kept],
                       program.b_ineq, tuple(blocks), names)
    return RestrictedProgram(out, kept, program.n_vars, B)


def extract_atoms_subbasis(y, n: int, exps, rule: RankRule | float | None = None,
                           rng: np.random.Generator | int | None = None) -> Atoms | ExtractionFailure:
    """Atoms of a measure from its moment matrix on a sub-basis ``B``.

    Parameters
    ----------
    y : array_like
        Moments in the graded order of :mod:`gmp.monomials`, long enough for every
        product of two monomials of ``B``; entries ``M_B`` does not use may be NaN.
    n : int
        Number of variables.
    exps : array_like of int, shape (k, n)
        The sub-basis ``B`` (must contain 1).
    rule : RankRule, float or None
        Rank rule for ``M_B`` (pass ``FixedRank(K)`` when the number of atoms is known).
    rng : Generator, int or None
        Random combinations; None is a fixed seed.

    Returns
    -------
    Atoms or ExtractionFailure
        :class:`gmp.Atoms` with ``method="subbasis"``, ``flatness=None`` (no flatness
        test applies), ``order`` the largest degree in ``B`` and ``basis`` = ``B``; the
        residual is over the moments in ``M_B``. A failure, with the reason, when a
        variable has no pair ``(u, x_i u)`` in ``B``, when such rows have rank below
        the number of atoms, or on complex eigenvalues.
    """
    arr = np.asarray(y, dtype=float).ravel()
    deg = int(np.asarray(exps).sum(axis=1).max(initial=0)) if np.asarray(exps).ndim == 2 else 0
    B = check_subbasis(exps, n, max(deg, 0))
    pos = index(B[:, None, :] + B[None, :, :])
    if pos.max() >= arr.size:
        raise ModelError(
            f"y holds {arr.size} moments, but M_B needs moments up to degree {2 * deg} "
            f"(count(n={n}, {2 * deg}) = {count(n, 2 * deg)})"
        )
    M = arr[pos]
    if not np.all(np.isfinite(M)):
        a, b = np.argwhere(~np.isfinite(M))[0]
        raise ModelError(f"the moment of exponents {(B[a] + B[b]).tolist()} in M_B is missing or not finite")
    M = (M + M.T) / 2
    vals, vecs = np.linalg.eigh(M)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    dec = as_rank_rule(rule).decide(np.maximum(vals, 0.0))
    K = dec.rank
    if K == 0:
        return ExtractionFailure("M_B has rank 0 (zero measure)", "subbasis", None, dec)
    U = vecs[:, :K] * np.sqrt(np.maximum(vals[:K], 0.0))
    ib = index(B)                                                    # sorted: B is in graded order
    shifted = index(B[None, :, :] + np.eye(n, dtype=np.int64)[:, None, :])   # (n, k): x_i u
    at = np.minimum(np.searchsorted(ib, shifted), ib.size - 1)
    inside = ib[at] == shifted
    mats = np.empty((n, K, K))
    for i in range(n):                                               # one small least squares per variable
        src = np.flatnonzero(inside[i])
        if src.size == 0:
            why = f"no monomial u with u and x{i} u both in the sub-basis: variable {i} cannot be read"
            return ExtractionFailure(why, "subbasis", None, dec)
        sv = np.linalg.svd(U[src], compute_uv=False)
        if sv.size < K or sv[K - 1] <= max(U.shape) * np.finfo(float).eps * sv[0]:
            why = (f"the rows u of M_B with x{i} u in the sub-basis have rank < {K}: "
                   f"variable {i} cannot be read at rank {K}")
            return ExtractionFailure(why, "subbasis", None, dec)
        mats[i] = np.linalg.lstsq(U[src], U[at[i, src]], rcond=None)[0]
    points = _simultaneous_diagonal(mats, np.random.default_rng(0 if rng is None else rng))
    if points is None:
        why = "complex eigenvalues in the multiplication matrices: not an atomic measure at this rank"
        return ExtractionFailure(why, "subbasis", None, dec)
    points = canonical_order(points)
    # weights from the distinct moments of M_B
    upos, first = np.unique(pos, return_index=True)
    mexps = (B[:, None, :] + B[None, :, :]).reshape(-1, n)[first]
    V = monomial_values(points, mexps).T                              # (moments, atoms)
    target = arr[upos]
    weights = np.linalg.lstsq(V, target, rcond=None)[0]
    residual = float(np.abs(target - V @ weights).max() / max(np.abs(target).max(), 1e-300))
    notes = ()
    if np.any(weights < 0):
        notes = (f"negative weight {weights.min():.3g}: not a measure",)
    if dec.close:
        notes += (f"close rank call (margin {dec.margin:.2g} decades)",)
    return Atoms(points, weights, residual, "subbasis", dec, None, deg, B, notes)
