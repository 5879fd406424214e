"""A lower bound on a GMP's optimum that holds whatever the solver's accuracy.

From any dual point ``(y, z, Z)`` — feasible or not — and bounds on the moments of the
feasible measures: weak duality with explicit error terms [JCK08], [Las01, Sec. 4], every
term rounded to the safe side (:mod:`gmp.rigorous`). Where a measure's moments are not
bounded, the residual goes into its moment-matrix Gram matrix instead. The theorem and its
proof are in docs/certificates.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .boxes import MeasureBox, mass_bounds, measure_box, moment_bounds
from .conic import ConicProgram, ConicSolution
from .monomials import basis, count
from .rigorous import UNIT_ROUNDOFF, down, lambda_min_lower, sum_with_error, symmetric_from_lower, up

if TYPE_CHECKING:  # types only: the problem module sits above the pipeline
    from .problem import GMP
    from .relaxation import RelaxationMap

__all__ = ["VerifiedBound", "verified_bound", "BALL_HINT"]

#: How to give a measure a bounded support (the remedy in every "-inf" message).
BALL_HINT = ("add a redundant ball constraint R**2 - sum(x_i**2) >= 0 (or bounds "
             "x_i >= lo, x_i <= hi) with R large enough to contain the minimizers")


@dataclass(frozen=True)
class VerifiedBound:
    """A rigorous bound on the optimum of the problem (a lower bound for a minimization,
    an upper bound for a maximization), or ``∓inf`` with the reason.

    Attributes
    ----------
    value : float
        In the problem's own sense; ``-inf`` (``+inf`` for a maximization) when no bound
        could be derived.
    reason : str
        Why the bound is infinite, or how it was obtained.
    dual_objective : float or None
        The solver's dual objective recomputed from its duals (problem's sense).
    details : dict
        Per measure: the route (``"box"`` or ``"absorbed"``) and its penalty; the
        residual's norm; the most negative Gram eigenvalue bound.
    """

    value: float
    reason: str
    dual_objective: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def finite(self) -> bool:
        return bool(np.isfinite(self.value))

    def __float__(self) -> float:
        return float(self.value)


def _none(sign: float, reason: str, dual: float | None = None) -> VerifiedBound:
    return VerifiedBound(-np.inf * sign, reason, dual)


def _column_layout(problem: GMP, program: ConicProgram, rmap: RelaxationMap):
    """Per measure: its column range and the exponents of its moments, or None."""
    out = []
    for k, m in enumerate(problem.measures):
        lo, hi = rmap.offsets[k], rmap.offsets[k + 1]
        if hi - lo != count(m.n_vars, 2 * rmap.order):
            return None
        out.append((lo, hi, basis(m.n_vars, 2 * rmap.order)))
    return out if (out and out[-1][1] == program.n_vars) else None


def _clique_moment_bounds(program: ConicProgram, rmap: Any, box: MeasureBox, mass: float) -> np.ndarray:
    """Bounds on ``|x_k|`` for the variables of a sparse relaxation: each variable is the moment
    of a monomial in one clique's variables, bounded on that clique's part of the box."""
    B = np.full(program.n_vars, np.inf)
    for c, cols in zip(rmap.plan.cliques, rmap.clique_columns):
        idx = np.asarray(c, dtype=np.int64)
        vals = moment_bounds(basis(idx.size, 2 * rmap.order), MeasureBox(box.lower[idx], box.upper[idx]), mass)
        ok = cols >= 0
        np.minimum.at(B, cols[ok], vals[ok])
    return B


def _residual(program: ConicProgram, y, z, Zs):
    terms = [(program.A_eq.T, y), (program.A_ineq.T, z)]
    terms += [(-blk.F.T, Z.reshape(-1, order="F")) for blk, Z in zip(program.psd, Zs)]
    return sum_with_error(terms, program.c)


def _dual_objective(program: ConicProgram, y, z, Zs):
    terms = [(-program.b_eq[None, :], y), (-program.b_ineq[None, :], z)]
    terms += [(-blk.F0[None, :], Z.reshape(-1, order="F")) for blk, Z in zip(program.psd, Zs)]
    value, err = sum_with_error(terms, np.array([program.c0]))
    return float(value[0]), float(err[0])


def _trace_rows(blk) -> tuple[float, np.ndarray, np.ndarray]:
    """``(t0, cols, vals)`` with ``trace(mat(F0 + F x)) = t0 + vals @ x[cols]``."""
    diag = np.arange(blk.dim) * (blk.dim + 1)
    F = blk.F.tocoo()
    on = (F.row % (blk.dim + 1) == 0) & (F.data != 0)
    cols, inv = np.unique(F.col[on], return_inverse=True)
    vals = np.bincount(inv.ravel(), weights=F.data[on], minlength=cols.size)
    return float(np.sum(blk.F0[diag])), cols, vals


def _absorber(blk, cols: np.ndarray):
    """For each column in ``cols`` reachable through ``blk``: one entry (i, j) of the block
    whose coefficient is a power of two, to place that column's residual in the Gram matrix.

    Returns ``(col, i, j, coef)`` arrays (diagonal entries preferred).
    """
    F = blk.F.tocoo()
    mant, _ = np.frexp(np.abs(F.data))
    ok = (mant == 0.5) & np.isin(F.col, cols) & (F.data != 0)
    rows, col, data = F.row[ok], F.col[ok], F.data[ok]
    i, j = rows % blk.dim, rows // blk.dim
    keep = i <= j
    rows, col, data, i, j = rows[keep], col[keep], data[keep], i[keep], j[keep]
    order = np.lexsort((i != j, col))  # per column, a diagonal entry first
    col, i, j, data = col[order], i[order], j[order], data[order]
    first = np.concatenate(([True], col[1:] != col[:-1])) if col.size else np.zeros(0, bool)
    return col[first], i[first], j[first], data[first]


def _absorb(Z: np.ndarray, r: np.ndarray, ab) -> np.ndarray:
    """``Z + E`` with ``F^T vec(E) == r`` on the absorbable columns (exactly, before rounding)."""
    col, i, j, coef = ab
    E = np.zeros_like(Z)
    diag = i == j
    E[i[diag], j[diag]] = r[col[diag]] / coef[diag]
    off = ~diag
    E[i[off], j[off]] = r[col[off]] / (2 * coef[off])
    E[j[off], i[off]] = r[col[off]] / (2 * coef[off])
    return symmetric_from_lower(Z + E)


def verified_bound(problem: GMP, program: ConicProgram, rmap: RelaxationMap, solution: ConicSolution,
                   *, column_scale: np.ndarray | None = None, objective_scale: float = 1.0) -> VerifiedBound:
    """A bound on the optimum of ``problem`` from the duals of ``solution``, valid whatever
    their accuracy (see docs/certificates.md).

    Parameters
    ----------
    problem : GMP
    program : ConicProgram
        The program the solver saw (possibly scaled: see ``column_scale``).
    rmap : RelaxationMap
    solution : ConicSolution
        Any status; only its duals are used.
    column_scale : ndarray of shape (n_vars,), optional
        ``D`` with ``x_original = D * x`` (powers of two, so that the scaled program is
        an exact transform of the relaxation); default ones.
    objective_scale : float
        ``α`` with ``c_program = α D c_original`` (a power of two); default 1.

    Returns
    -------
    VerifiedBound
    """
    sign = rmap.sign
    y, z, Zlist = solution.y_eq, solution.z_ineq, solution.Z_psd
    if Zlist is None or (program.n_eq and y is None) or (program.n_ineq and z is None):
        return _none(sign, "the solver returned no dual (SOS) solution, so no bound can be verified")
    y = np.zeros(0) if y is None else np.asarray(y, dtype=float)
    z = np.maximum(np.zeros(0) if z is None else np.asarray(z, dtype=float), 0.0)
    Zs = [symmetric_from_lower(Z) for Z in Zlist]
    if not (np.all(np.isfinite(y)) and np.all(np.isfinite(z)) and all(np.all(np.isfinite(Z)) for Z in Zs)):
        return _none(sign, "the solver's dual solution holds NaN or inf")
    # bounds on |x_a| for every feasible measure, in the program's coordinates
    masses, mass_how = mass_bounds(problem)
    boxes: list[MeasureBox] = [measure_box(m) for m in problem.measures]
    if getattr(rmap, "clique_columns", None) is not None:
        # a sparse relaxation (one measure): every variable is a clique-local moment, and every
        # block belongs to the measure; the residual is paid on the box only (no absorption)
        layout = [(0, program.n_vars, None)]
        B = _clique_moment_bounds(program, rmap, boxes[0], masses[0])
        if not np.all(np.isfinite(B)):  # without absorption, an unbounded moment leaves no bound
            return _none(sign, _why_unbounded(problem.measures[0], boxes[0], masses[0], mass_how[0], {}))
        blocks_of = [list(range(len(program.psd)))]
        moment_block: list[int | None] = [None]
    else:
        layout = _column_layout(problem, program, rmap)
        if layout is None:
            return _none(sign, "the relaxation's variables are not the dense moments of each measure: "
                               "no verified bound")
        B = np.empty(program.n_vars)
        for k, (lo, hi, exps) in enumerate(layout):
            B[lo:hi] = moment_bounds(exps, boxes[k], masses[k])
        owners = rmap.block_owner
        blocks_of = [[j for j, (k2, _) in enumerate(owners) if k2 == k] for k in range(len(layout))]
        moment_block = [next((j for j in blocks_of[k] if owners[j][1] == "moment"), None)
                        for k in range(len(layout))]
    if column_scale is not None:
        B = B / np.asarray(column_scale, dtype=float)  # exact: powers of two

    d, err_d = _dual_objective(program, y, z, Zs)
    traces: dict[int, tuple[float, np.ndarray, np.ndarray]] = {}   # per block, when first needed

    def penalties(Zcur: list[np.ndarray], r: np.ndarray, err_r: np.ndarray, absorbed: set[int]):
        """Per measure: (penalty, detail) for the dual point with Gram matrices ``Zcur``."""
        rho = np.abs(r) + err_r
        out = []
        for k, (lo, hi, _) in enumerate(layout):
            sl = slice(lo, hi)
            extra = 0.0  # Frobenius norm of the matrix that absorbs the rest exactly
            rho_k = rho[sl].copy()
            j0 = moment_block[k]
            if k in absorbed and j0 is not None:
                col, i, j, coef = _absorber(program.psd[j0], np.arange(lo, hi))
                w = (rho[col] / np.abs(coef)) ** 2
                extra = up(float(np.sqrt(np.sum(w) * (1 + 8 * UNIT_ROUNDOFF * max(1, col.size)))))
                rho_k[col - lo] = 0.0
            with np.errstate(invalid="ignore"):
                res_term = float(np.sum(np.where(rho_k > 0, rho_k * B[sl], 0.0)))
            nus = {}
            eig_term = 0.0
            for jb in blocks_of[k]:
                lam = lambda_min_lower(Zcur[jb])
                if jb == j0:
                    lam = down(lam - extra)
                nu = max(0.0, -lam)
                nus[program.psd[jb].name or str(jb)] = lam
                if nu > 0:
                    if jb not in traces:
                        traces[jb] = _trace_rows(program.psd[jb])
                    t0, tcols, tvals = traces[jb]
                    with np.errstate(invalid="ignore"):
                        T = abs(t0) + float(np.sum(np.where(tvals != 0, np.abs(tvals) * B[tcols], 0.0)))
                    eig_term += nu * T
            pen = (res_term + eig_term) * (1 + 4 * UNIT_ROUNDOFF * (hi - lo + len(blocks_of[k]) + 2))
            if np.isnan(pen):
                pen = np.inf
            out.append((pen, {"residual_term": res_term, "eigenvalue_term": eig_term,
                              "min_gram_eigenvalue_bound": min(nus.values(), default=np.inf)}))
        return out

    r, err_r = _residual(program, y, z, Zs)
    plain = penalties(Zs, r, err_r, set())
    # the residual moved into each measure's moment Gram matrix (exact in real arithmetic)
    Za = list(Zs)
    absorbable = set()
    for k, j0 in enumerate(moment_block):
        if j0 is None or np.any(program.psd[j0].F0 != 0):
            continue
        lo, hi, _ = layout[k]
        ab = _absorber(program.psd[j0], np.arange(lo, hi))
        if ab[0].size:
            Za[j0] = _absorb(Za[j0], r, ab)
            absorbable.add(k)
    if absorbable:
        r2, err2 = _residual(program, y, z, Za)
        moved = penalties(Za, r2, err2, absorbable)
    else:
        moved = plain
    total, routes = err_d, {}
    for k, m in enumerate(problem.measures):
        (p1, d1), (p2, d2) = plain[k], moved[k]
        if p1 <= p2:
            pen, det, route = p1, d1, "box"
        else:
            pen, det, route = p2, d2, "absorbed"
        routes[m.name] = {"route": route, "penalty": pen, **det}
        if not np.isfinite(pen):
            why = _why_unbounded(m, boxes[k], masses[k], mass_how[k], det)
            return VerifiedBound(-np.inf * sign, why, sign * d / objective_scale,
                                 {"measures": routes})
        total += pen
    n_terms = len(problem.measures) + 2
    total = up(total * (1 + 2 * n_terms * UNIT_ROUNDOFF))
    low = down(d - total)
    value = low / objective_scale  # exact: a power of two
    details = {"measures": routes, "residual_inf_norm": float(np.max(np.abs(r), initial=0.0)) / objective_scale,
               "dual_objective_error": err_d / objective_scale}
    how = ", ".join(f"{name}: {v['route']}" for name, v in routes.items())
    return VerifiedBound(sign * value, f"weak duality with explicit error terms ({how})",
                         sign * d / objective_scale, details)


def _why_unbounded(m, box: MeasureBox, mass: float, how: str, det: dict) -> str:
    parts = []
    if not np.isfinite(mass):
        parts.append(f"the mass of measure {m.name!r} has no known bound (fix it with mass=..., or "
                     "add a moment constraint on the masses such as mu.E(1) + nu.E(1) == 1)")
    free = box.unbounded_variables(m)
    if free:
        parts.append(f"no bounded set is known for {', '.join(free)} in the support of measure "
                     f"{m.name!r}: {BALL_HINT}")
    if not parts:
        parts.append(f"the Gram matrices of measure {m.name!r} are not provably PSD and their "
                     "traces have no finite bound")
    lam = det.get("min_gram_eigenvalue_bound")
    tail = "" if lam is None or not np.isfinite(lam) else (
        f" (the solver's SOS identity has a residual, and its Gram matrix's smallest eigenvalue "
        f"is only known to be >= {lam:.1e}, so the residual cannot be absorbed)")
    return "no verified bound: " + "; ".join(parts) + tail
