"""A feasible point by local optimization, for an optimality gap beside the verified bound.

From the extracted atoms, or from the first-order moments ``(L(x_1), ..., L(x_n)) / mass``
when extraction failed, ``scipy.optimize.minimize`` (SLSQP, with exact gradients) looks
for a local optimum of the objective on the support. The value at the point found is an
upper bound on a minimum (a lower bound on a maximum) once the point is feasible; with
the verified bound it brackets the optimum, as TSSOS reports [WML21]. A certificate
still needs flatness and the per-atom checks: a small gap certifies a value, not atoms.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .polynomial import Polynomial

if TYPE_CHECKING:  # types only: the problem module sits above the pipeline
    from .problem import GMP

__all__ = ["FeasiblePoint", "local_feasible_point", "point_objective"]

#: A point whose constraint violation exceeds this is not reported as feasible.
FEASIBILITY_TOL = 1e-9


@dataclass(frozen=True)
class FeasiblePoint:
    """A point of the support and the objective's value there.

    Attributes
    ----------
    point : ndarray of shape (n,)
    value : float
        The problem's objective at ``point`` (times the mass, plus the constant).
    violation : float
        ``max(-g(point), |h(point)|)`` over the support constraints (<= FEASIBILITY_TOL).
    start : str
        Where the local solve started ("atom 0", "first-order moments", ...).
    """

    point: np.ndarray
    value: float
    violation: float
    start: str


def point_objective(problem: GMP) -> tuple[Polynomial, float, float] | None:
    """``(f, mass, const)`` when ``problem`` is ``min/max mass * f(x) + const`` over one
    measure of fixed mass without moment constraints (a polynomial optimization); else None."""
    if len(problem.measures) != 1 or problem.constraints or problem.objective.expr is None:
        return None
    m = problem.measures[0]
    mass = problem.mass_of(m)
    if mass is None or mass <= 0:
        return None
    terms = list(problem.objective.expr.terms.values())
    if len(terms) != 1:
        return None
    return terms[0][1], float(mass), float(problem.objective.expr.const)


def _gradient(p: Polynomial, variables) -> list[tuple[np.ndarray, np.ndarray]]:
    exps, coefs = p.terms_in(variables)
    out = []
    for i in range(len(variables)):
        e = exps.copy()
        c = coefs * e[:, i]
        e[:, i] = np.maximum(e[:, i] - 1, 0)
        out.append((e, c))
    return out


def _evaluator(p: Polynomial, variables):
    from .polynomial import monomial_values

    exps, coefs = p.terms_in(variables)
    grads = _gradient(p, variables)

    def f(x):
        return float(monomial_values(x[None, :], exps)[0] @ coefs)

    def g(x):
        return np.array([float(monomial_values(x[None, :], e)[0] @ c) for e, c in grads])

    return f, g


def _violation(problem: GMP, pts: np.ndarray) -> np.ndarray:
    m = problem.measures[0]
    viol = np.zeros(len(pts))
    for g in m.inequalities:
        viol = np.maximum(viol, -g.evaluate(pts, m.variables))
    for h in m.equalities:
        viol = np.maximum(viol, np.abs(h.evaluate(pts, m.variables)))
    return viol


def local_feasible_point(problem: GMP, starts: list[tuple[str, np.ndarray]]) -> FeasiblePoint | None:
    """The best feasible local optimum found from ``starts``, or None.

    Parameters
    ----------
    problem : GMP
        A polynomial optimization (see :func:`point_objective`); None is returned otherwise.
    starts : list of (label, point)
    """
    from scipy.optimize import minimize

    spec = point_objective(problem)
    if spec is None or not starts:
        return None
    f, mass, const = spec
    m = problem.measures[0]
    vs = m.variables
    sgn = 1.0 if problem.objective.sense == "min" else -1.0
    fun, jac = _evaluator(f * sgn, vs)
    cons = []
    for g in m.inequalities:
        gf, gj = _evaluator(g, vs)
        cons.append({"type": "ineq", "fun": gf, "jac": gj})
    for h in m.equalities:
        hf, hj = _evaluator(h, vs)
        cons.append({"type": "eq", "fun": hf, "jac": hj})
    best: FeasiblePoint | None = None
    for label, x0 in starts:
        x0 = np.asarray(x0, dtype=float).ravel()
        if x0.size != m.n_vars or not np.all(np.isfinite(x0)):
            continue
        candidates = [x0]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res = minimize(fun, x0, jac=jac, constraints=cons, method="SLSQP",
                               options={"maxiter": 200, "ftol": 1e-14})
                if np.all(np.isfinite(res.x)):
                    candidates.append(res.x)
            except (ValueError, ArithmeticError, np.linalg.LinAlgError):
                pass
        pts = np.array(candidates)
        viol = _violation(problem, pts)
        vals = mass * f.evaluate(pts, vs) + const
        for p, v, val in zip(pts, viol, vals):
            if v > FEASIBILITY_TOL or not np.isfinite(val):
                continue
            if best is None or sgn * val < sgn * best.value:
                best = FeasiblePoint(p, float(val), float(v), label)
    return best
