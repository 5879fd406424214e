"""Polish an extracted mixture on the moment equations (weighted nonlinear least squares) [Han82].

The relaxation's atoms are only close to a solution of the moment equations; :func:`polish`
solves those by bounded least squares from several starts and under several weightings, and
returns the best feasible candidate (:mod:`polymom_apps.selection`). The objective and why it
runs as it does: docs/polymom.md, "Why the polish".
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from gmp import Constraint, Polynomial

from .extraction import truncated_starts
from .results import EstimateResult, EstimateStatus
from .selection import assess, box_bounds, choose
from .spec import MixtureSpec

__all__ = ["PolySystem", "candidate_fits", "polish", "refine"]

RHO = 1e3
#: Function evaluations of the polish, spent in rounds of ``ROUND_NFEV``; a new round
#: starts only when the last one at least halved the cost. One round of 200 stopped
#: short on the 1-d K = 3 mixture with nine exact moments, while one budget of 5000 crawls
#: through a flat valley on noisy moments (Table 3, constrained, T = 1e3) for the same
#: estimate; the rounds do both (docs/polymom.md, "How the polish runs").
ROUND_NFEV = 200
MAX_NFEV = 5000


class PolySystem:
    """Polynomials ``f_1..f_N`` in ``P`` variables, compiled to one exponent table.

    ``values(th)`` is ``F[n, k] = f_n(th_k)`` (shape (N, K)) and ``grads(th)`` is
    ``G[p, n, k] = d f_n / d theta_p (th_k)`` (shape (P, N, K)), each one matrix
    product with the monomial values; the polish needs both at every step.
    """

    def __init__(self, polys: Sequence[Polynomial], variables: Sequence[Polynomial]) -> None:
        from gmp.polynomial import monomial_values

        self._mv = monomial_values
        terms = [f.terms_in(variables) for f in polys]
        P = len(variables)
        allexp = np.concatenate([e for e, _ in terms] + [np.zeros((1, P), np.int64)])
        self.exps, inv = np.unique(allexp, axis=0, return_inverse=True)
        inv = np.ravel(inv)
        C = np.zeros((len(polys), self.exps.shape[0]))
        pos = 0
        for n, (e, c) in enumerate(terms):
            np.add.at(C[n], inv[pos:pos + len(c)], c)
            pos += len(c)
        self.C = C
        # d/dtheta_p x^a = a_p x^(a - e_p): same table, exponents lowered, coefficients scaled
        self._dexps = [np.maximum(self.exps - np.eye(P, dtype=np.int64)[p], 0) for p in range(P)]
        self._dC = [C * self.exps[:, p] for p in range(P)]

    def values(self, th: np.ndarray) -> np.ndarray:
        return self.C @ self._mv(th, self.exps).T

    def grads(self, th: np.ndarray) -> np.ndarray:
        return np.stack([dC @ self._mv(th, de).T for dC, de in zip(self._dC, self._dexps)])


def refine(spec: MixtureSpec, polys: Sequence[Polynomial], m: np.ndarray, params: np.ndarray, weights: np.ndarray,
           support: Sequence[Constraint], weight_half: np.ndarray | None = None, max_nfev: int = MAX_NFEV,
           return_cost: bool = False, bounds: tuple[np.ndarray, np.ndarray] | None = None,
           min_weight: float = 0.0
           ) -> tuple[np.ndarray, np.ndarray, bool] | tuple[np.ndarray, np.ndarray, bool, float]:
    """Return ``(params, weights, improved)``; see the module docstring.

    With ``return_cost``, a fourth item: the final value of the objective above
    (``inf`` when the polish failed), to compare polishes from several starts.
    ``bounds = (lo, hi)``, each of shape (P,), bounds every component's parameters
    (:func:`polymom_apps.selection.box_bounds`); the weights stay in ``[min_weight, 1]``.
    The Jacobian is analytic (:class:`PolySystem`).
    """
    K, P = params.shape
    N = m.size
    S = np.eye(N) if weight_half is None else np.asarray(weight_half, float)
    pvars = spec.parameters
    mom = PolySystem(polys, pvars)
    eqs = [c.expr for c in support if c.kind == "=="]
    ineqs = [c.expr for c in support if c.kind != "=="]
    H = PolySystem(eqs, pvars) if eqs else None
    G = PolySystem(ineqs, pvars) if ineqs else None

    def split(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return z[: K * P].reshape(K, P), z[K * P:]

    def resid(z: np.ndarray) -> np.ndarray:
        th, w = split(z)
        parts = [S @ (mom.values(th) @ w - m), [RHO * (w.sum() - 1.0)]]
        if H is not None:
            parts.append(RHO * H.values(th))                  # (J, K): row j, component k
        if G is not None:
            parts.append(RHO * np.minimum(G.values(th), 0.0))
        return np.concatenate([np.ravel(q) for q in parts])

    def jac(z: np.ndarray) -> np.ndarray:
        th, w = split(z)
        blocks = []
        # moments: d/dtheta_{k,p} = S (w_k dF_p[:, k]), d/dw_k = S F[:, k]
        dF = mom.grads(th) * w                               # (P, N, K)
        J = np.zeros((N, K * P + K))
        J[:, : K * P] = S @ dF.transpose(1, 2, 0).reshape(N, K * P)
        J[:, K * P:] = S @ mom.values(th)
        blocks.append(J)
        row = np.zeros((1, K * P + K))
        row[0, K * P:] = RHO
        blocks.append(row)
        for sysm, active in ((H, None), (G, "ineq")):
            if sysm is None:
                continue
            dv = sysm.grads(th)                              # (P, J, K)
            nJ = dv.shape[1]
            if active:
                dv = dv * (sysm.values(th) < 0.0)
            B = np.zeros((nJ, K, K * P + K))
            kk = np.arange(K)
            for p_ in range(P):  # loop over parameters only
                B[:, kk, kk * P + p_] = RHO * dv[p_]
            blocks.append(B.reshape(nJ * K, K * P + K))
        return np.vstack(blocks)

    z0 = np.concatenate([params.ravel(), weights])
    plo, phi = (np.full(P, -np.inf), np.full(P, np.inf)) if bounds is None else bounds
    lo = np.concatenate([np.tile(plo, K), np.full(K, min_weight)])
    hi = np.concatenate([np.tile(phi, K), np.ones(K)])
    z0 = np.clip(z0, lo, hi)
    f0 = float(np.sum(resid(z0) ** 2))
    z, cost, spent = z0, f0 / 2, 0
    try:
        while spent < max_nfev:  # rounds: continue only while a round still halves the cost
            out = least_squares(resid, z, jac=jac, bounds=(lo, hi), method="trf", x_scale="jac",
                                xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=min(ROUND_NFEV, max_nfev - spent))
            spent += out.nfev
            progress = out.cost < 0.5 * cost
            if out.cost <= cost:
                z, cost = out.x, out.cost
            if out.status != 0 or not progress:  # converged, or crawling along a flat valley
                break
    except (ValueError, np.linalg.LinAlgError):
        return (params, weights, False, np.inf)[: 3 + return_cost]
    if not np.all(np.isfinite(z)) or 2 * cost >= f0:
        return (params, weights, False, f0)[: 3 + return_cost]
    th = z[: K * P].reshape(K, P)
    w = np.clip(z[K * P:], 0, None)
    return (th, w / w.sum(), True, 2 * cost)[: 3 + return_cost]


def polish(res: EstimateResult, spec: MixtureSpec, polys: Sequence[Polynomial], m: np.ndarray,
           support: Sequence[Constraint], weight_half: np.ndarray | None, y: np.ndarray | None = None,
           r: int | None = None, random_state: np.random.Generator | int | None = None, *,
           weightings: Sequence[tuple[str, np.ndarray]] = (), min_weight: float = 0.0, data: Any = None,
           refine_atoms: bool = True) -> EstimateResult:
    """The estimate: the best feasible fit of the moments among the polishes from several starts.

    Starts: the relaxation's atoms and, when ``y`` and ``r`` are given, the atoms of the
    truncations ``M_s(y)``, ``s < r`` (:func:`candidate_fits`). The candidates that
    violate a constraint are discarded and the estimate is the best remaining one
    (:mod:`polymom_apps.selection`); none feasible: ``success=False`` with
    ``EstimateStatus.NO_FEASIBLE_ESTIMATE``. ``refine_atoms=False`` skips the polish and
    chooses among the starts.

    The trace relaxation need not be rank K at order r, and a local polish from its
    atoms can stop at a spurious stationary point (1-d Gaussian mixture, K = 3, nine
    exact moments: residual 1e-4, parameter error up to 3). The truncated moment
    matrices are closer to rank K there, and their atoms polish to the truth.
    """
    K = res.params.shape[0]
    lo, hi, rest = box_bounds(spec, support)
    starts = [(res.params, res.weights, "relaxation atoms")]
    if y is not None and r is not None and refine_atoms:
        starts += truncated_starts(spec.n_params, y, r, K, random_state)
    # sizes compete (a candidate with two equal components) only where the fit has a scale:
    # the likelihood, or Hansen's J under the GMM weighting; an unweighted residual has none
    T = None if data is None or (spec.log_density is None and weight_half is None) else int(data.shape[0])
    fits = candidate_fits(spec, polys, m, starts, rest, (lo, hi), weight_half, weightings if refine_atoms else None,
                          min_weight, prune=refine_atoms and T is not None)
    per = spec.n_params - sum(c.kind == "==" for c in support)      # free parameters per component
    cands = assess(spec, polys, m, fits, weight_half, rest, (lo, hi), per, data)
    best = choose(cands, T)
    if best is None:
        why = "; ".join(f"{c.label}: {c.violation}" for c in cands[:4])
        msg = (f"no feasible mixture of {K} components found: every candidate fit violates the model's "
               f"constraints ({why}); try another order, more data, or fewer components")
        return replace(res, success=False, status=EstimateStatus.NO_FEASIBLE_ESTIMATE, message=msg, params=None,
                       weights=None, residuals=None, relative_residual=None, relaxation_params=res.params,
                       relaxation_weights=res.weights, candidates=tuple(cands))
    S = np.eye(m.size) if weight_half is None else np.asarray(weight_half, float)
    resid = spec.moment_matrix_at(best.params, polys) @ best.weights - m
    rel = float(np.linalg.norm(resid) / max(np.linalg.norm(m), 1e-300))
    wrel = float(np.linalg.norm(S @ resid) / max(np.linalg.norm(S @ m), 1e-300))
    notes = res.notes
    if not best.label.startswith(("relaxation atoms", "polish from the relaxation atoms")) or "dropped" in best.label:
        notes += (f"estimate: the {best.label}",)
    if refine_atoms and not best.label.startswith("polish"):
        notes += (f"no polish lowered the moment residual and kept the constraints; the {best.label} kept",)
    msg = res.message
    if refine_atoms:
        how = "polished on the moment equations" if best.label.startswith("polish") else "not polished"
        msg += f"; {how}: relative residual {rel:.2g}"
    return replace(res, params=best.params, weights=best.weights, residuals=resid, relative_residual=rel,
                   weighted_relative_residual=wrel, message=msg, relaxation_params=res.params,
                   relaxation_weights=res.weights, notes=notes, candidates=tuple(cands),
                   log_likelihood=best.log_likelihood)


def candidate_fits(spec: MixtureSpec, polys: Sequence[Polynomial], m: np.ndarray,
                   starts: Sequence[tuple[np.ndarray, np.ndarray, str]], support: Sequence[Constraint],
                   bounds: tuple[np.ndarray, np.ndarray], weight_half: np.ndarray | None,
                   weightings: Sequence[tuple[str, np.ndarray]] | None, min_weight: float,
                   prune: bool) -> list[tuple]:
    """Candidate mixtures ``(params, weights, label, n_distinct)`` from ``starts``.

    Each start as it is and moved into ``bounds``; with ``weightings`` not None, its polish
    under ``weight_half`` and under each ``(label, S)`` of ``weightings``; with ``prune``,
    each polish with its lightest component dropped (:func:`_pruned`). Repeats are left out.
    """
    lo, hi = bounds
    K = starts[0][0].shape[0]
    fits = []
    for th, w, label in starts:
        fits.append((th, w, label, K))
        inside = np.clip(th, lo, hi)
        if not np.array_equal(inside, th):
            fits.append((inside, w, f"{label} moved into the parameters' bounds", K))
    for th0, w0, label in starts if weightings is not None else ():
        for wlabel, W in (("", weight_half),) + tuple(weightings):
            th, w, improved = refine(spec, polys, m, np.clip(th0, lo, hi), w0, support, W, bounds=bounds,
                                     min_weight=min_weight)
            if improved:
                fits.append((th, w, f"polish from the {label}" + (f", {wlabel} weighting" if wlabel else ""), K))
    if prune and K >= 2:
        fits += [_pruned(spec, polys, m, th, w, support, weight_half, bounds, min_weight, label)
                 for th, w, label, _ in fits if label.startswith("polish")]
    return _distinct(fits)


def _pruned(spec: MixtureSpec, polys: Sequence[Polynomial], m: np.ndarray, th: np.ndarray, w: np.ndarray,
            support: Sequence[Constraint], weight_half: np.ndarray | None, bounds: tuple[np.ndarray, np.ndarray],
            min_weight: float, label: str) -> tuple:
    """The fit with its lightest component dropped, polished with K - 1 components, and its
    heaviest component then split in two equal halves: K components again, two of them equal."""
    keep = np.argsort(w)[1:]
    th1, w1, improved = refine(spec, polys, m, th[keep], w[keep] / w[keep].sum(), support, weight_half,
                               bounds=bounds, min_weight=min_weight)
    if not improved:
        th1, w1 = th[keep], w[keep] / w[keep].sum()
    j = int(np.argmax(w1))
    w2 = np.append(w1, w1[j] / 2)
    w2[j] /= 2
    return (np.vstack([th1, th1[j]]), w2, f"{label} with its lightest component dropped (two components equal)",
            len(w1))


def _distinct(fits: Sequence[tuple], tol: float = 1e-9) -> list[tuple]:
    """``fits`` without those that repeat an earlier one (the same components, in any order, to ``tol``)."""
    out, keys = [], []
    for fit in fits:
        th, w = np.asarray(fit[0], float), np.asarray(fit[1], float)
        order = np.lexsort(th.T[::-1])
        key = np.concatenate([th[order].ravel(), w[order]])
        if not any(np.allclose(k, key, rtol=tol, atol=tol) for k in keys if k.shape == key.shape):
            keys.append(key)
            out.append(fit)
    return out
