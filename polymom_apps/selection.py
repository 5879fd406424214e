"""Feasible candidate fits and the choice among them: the model's constraints, then the likelihood or the moment fit.

A candidate fit is feasible when it satisfies the model's and the given constraints (single-parameter
bounds strictly) with its weights on the simplex; among the feasible ones :func:`choose` takes the
smallest AIC [Aka74], or the AIC-type moment criterion [And99] when the model has no density.
See docs/polymom.md, "The estimation pipeline", step 9.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from gmp import Constraint, Polynomial

from .empirical import _reduce_blocks
from .spec import MixtureSpec

__all__ = ["Candidate", "FEASIBILITY_TOL", "PENALTY_PER_PARAMETER", "STRICT_MARGIN", "assess", "box_bounds", "choose",
           "infeasibility", "mean_log_likelihoods"]

#: Largest violation of an equality or a polynomial inequality that still counts as satisfied
#: (the polish enforces those by a penalty; on the standardized scale, constraints have O(1)
#: coefficients).
FEASIBILITY_TOL = 1e-6
#: A single-parameter bound ``theta_p >= b`` is kept strictly: the polish works in
#: ``theta_p >= b + STRICT_MARGIN * max(1, |b|)`` (so a variance stays ``> 0``).
STRICT_MARGIN = 1e-9
#: Penalty per free parameter when candidates of different sizes compete: 2, Akaike's
#: [Aka74] (and the AIC-type moment selection criterion of [And99]). The estimate is judged
#: by how close it is to the data-generating mixture, which AIC targets (expected
#: Kullback-Leibler loss); BIC's ``log T`` targets the consistent choice of the number of
#: components and kept two equal components where the data separated them (docs/polymom.md).
PENALTY_PER_PARAMETER = 2.0


@dataclass(frozen=True, eq=False)
class Candidate:
    """A fit of the moments by K components (on the scale the moments are given in).

    Attributes
    ----------
    params : ndarray of shape (K, P)
    weights : ndarray of shape (K,)
    label : str
        Where it comes from (start and weighting).
    cost : float
        ``||S (F(params) weights - m)||^2`` under the primary weighting ``S``.
    violation : str or None
        Why it is not feasible (None: feasible).
    log_likelihood : float or None
        Mean log-likelihood per sample, when the model has a density and data are given.
    n_free : int or None
        Free parameters of the mixture it represents (fewer when two components are
        equal by construction).
    """

    params: np.ndarray
    weights: np.ndarray
    label: str
    cost: float
    violation: str | None = None
    log_likelihood: float | None = None
    n_free: int | None = None

    @property
    def feasible(self) -> bool:
        return self.violation is None


def box_bounds(spec: MixtureSpec, support: Sequence[Constraint]) -> tuple[np.ndarray, np.ndarray, list]:
    """Split ``support`` into per-parameter bounds and the remaining constraints.

    A constraint ``a * theta_p + b >= 0`` on one parameter becomes a bound on ``theta_p``
    (strict by :data:`STRICT_MARGIN`); equalities and all other constraints are returned
    as they are. Returns ``(lo, hi, rest)`` with ``lo, hi`` of shape (P,).
    """
    P = spec.n_params
    lo, hi = np.full(P, -np.inf), np.full(P, np.inf)
    rest = []
    for c in support:
        e, coef = c.expr.terms_in(spec.parameters)
        deg = e.sum(axis=1)
        used = np.flatnonzero(np.any(e[deg > 0] > 0, axis=0))
        if c.kind != ">=" or deg.max(initial=0) > 1 or used.size != 1:
            rest.append(c)
            continue
        p = int(used[0])
        a = float(coef[deg == 1].sum())
        b = float(coef[deg == 0].sum())
        edge = -b / a
        margin = STRICT_MARGIN * max(1.0, abs(edge))
        if a > 0:
            lo[p] = max(lo[p], edge + margin)
        else:
            hi[p] = min(hi[p], edge - margin)
    return lo, hi, rest


def infeasibility(spec: MixtureSpec, params: np.ndarray, weights: np.ndarray, support: Sequence[Constraint],
                  lo: np.ndarray, hi: np.ndarray) -> str | None:
    """Why ``(params, weights)`` violates the constraints, or None when it satisfies them all."""
    th = np.atleast_2d(np.asarray(params, dtype=float))
    w = np.asarray(weights, dtype=float)
    if not (np.all(np.isfinite(th)) and np.all(np.isfinite(w))):
        return "not finite"
    if np.any(w < 0) or abs(w.sum() - 1.0) > 1e-9:
        return f"weights {np.round(w, 6).tolist()} off the simplex"
    names = spec.param_names
    below = th <= lo - STRICT_MARGIN * np.maximum(1.0, np.abs(lo)) / 2
    above = th >= hi + STRICT_MARGIN * np.maximum(1.0, np.abs(hi)) / 2
    if below.any() or above.any():
        k, p = (int(i) for i in np.argwhere(below | above)[0])
        return f"component {k} has {names[p]} = {th[k, p]:.3g} outside its bounds"
    for c in support:
        g = c.expr.evaluate(th, spec.parameters)
        bad = np.abs(g) > FEASIBILITY_TOL if c.kind == "==" else g < -FEASIBILITY_TOL
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            return f"component {k} violates {c} by {abs(float(g[k])):.2g}"
    return None


def mean_log_likelihoods(spec: MixtureSpec, X: Any, fits: Sequence[tuple[np.ndarray, np.ndarray]]) -> list[float]:
    """Mean log-likelihood per sample of each mixture in ``fits`` (pairs ``(params, weights)``), one pass over ``X``."""
    from scipy.special import logsumexp

    fits = [(np.atleast_2d(p), np.asarray(w, float)) for p, w in fits]

    def part(B: np.ndarray) -> np.ndarray:
        out = np.empty(len(fits))
        for i, (p, w) in enumerate(fits):
            with np.errstate(divide="ignore"):
                L = spec.log_density(B, p) + np.log(w)
            out[i] = logsumexp(L, axis=1).sum()
        return out

    return list(_reduce_blocks(part, X) / X.shape[0])


def assess(spec: MixtureSpec, polys: Sequence[Polynomial], m: np.ndarray,
           fits: Sequence[tuple[np.ndarray, np.ndarray, str, int]], weight_half: np.ndarray | None,
           support: Sequence[Constraint], bounds: tuple[np.ndarray, np.ndarray], per_component: int,
           data: Any = None) -> list[Candidate]:
    """:class:`Candidate` of each fit ``(params, weights, label, n_distinct)``: its weighted
    residual under ``weight_half`` (identity when None), whether it keeps ``support`` and
    ``bounds``, its free parameters (``per_component`` per distinct component, plus the
    weights), and, with ``data`` and a model density, its mean log-likelihood (one pass
    over ``data`` for all the feasible ones)."""
    S = np.eye(m.size) if weight_half is None else np.asarray(weight_half, float)
    lo, hi = bounds
    out = []
    for th, w, label, k in fits:
        r = spec.moment_matrix_at(th, polys) @ w - m
        out.append(Candidate(th, w, label, float(np.sum((S @ r) ** 2)), infeasibility(spec, th, w, support, lo, hi),
                             n_free=k * per_component + k - 1))
    if data is not None and spec.log_density is not None:
        ok = [i for i, c in enumerate(out) if c.feasible]
        lls = mean_log_likelihoods(spec, data, [(out[i].params, out[i].weights) for i in ok]) if ok else []
        for i, v in zip(ok, lls):
            out[i] = replace(out[i], log_likelihood=float(v))
    return out


def choose(candidates: list[Candidate], T: int | None = None) -> Candidate | None:
    """The best feasible candidate; None when none is feasible.

    With ``T`` samples and a likelihood for every feasible candidate: the smallest AIC
    ``-2 T loglik + 2 n_free`` [Aka74]. With ``T`` only: the smallest ``T cost + 2 n_free``,
    the AIC-type moment selection criterion of [And99] (``T cost`` is Hansen's J). Without
    ``T`` (given population moments): the smallest ``cost``.
    Candidates of the same size are thus compared by likelihood or moment fit alone; a
    candidate with two equal components (fewer free parameters) wins only when the data
    do not support the extra component.
    """
    ok = [c for c in candidates if c.feasible]
    if not ok:
        return None
    if T is None or any(c.n_free is None for c in ok):
        return min(ok, key=lambda c: c.cost)
    pen = PENALTY_PER_PARAMETER
    if all(c.log_likelihood is not None for c in ok):
        return min(ok, key=lambda c: (-2 * T * c.log_likelihood + c.n_free * pen, c.cost))
    return min(ok, key=lambda c: T * c.cost + c.n_free * pen)
