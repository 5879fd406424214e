"""Polish an extracted mixture on the moment equations (weighted nonlinear least squares).

The trace-minimizing relaxation is a convex surrogate for rank: it need not return
the rank-K moment matrix of the true mixture (for the 1-d Gaussian mixture with
six moments it returns rank 3 at order 3), so the extracted atoms are only close.
Starting from them, this step solves the moment equations themselves::

    min_{theta, pi}  || S (sum_k pi_k f(theta_k) - m) ||^2
                     + rho^2 (sum_k pi_k - 1)^2 + rho^2 sum_j h_j(theta_k)^2
                     + rho^2 sum_j min(g_j(theta_k), 0)^2,      0 <= pi_k <= 1

(``S = W^{1/2}``, the GMM weighting [Han82], or the identity) with
``scipy.optimize.least_squares`` (trust-region reflective). With exact moments
it lands on the true parameters to solver precision; with sample moments it is
the GMM estimator started from the relaxation's global solution. The polish is
kept only if it lowers the weighted residual.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

__all__ = ["refine"]

RHO = 1e3


def refine(spec, polys, m, params, weights, support, weight_half=None, max_nfev: int = 200):
    """Return ``(params, weights, improved)``; see the module docstring."""
    K, P = params.shape
    S = np.eye(m.size) if weight_half is None else weight_half
    eqs = [c.expr for c in support if c.kind == "=="]
    ineqs = [c.expr for c in support if c.kind != "=="]
    pvars = spec.parameters

    def resid(z: np.ndarray) -> np.ndarray:
        th = z[: K * P].reshape(K, P)
        w = z[K * P:]
        F = spec.moment_matrix_at(th, polys)
        parts = [S @ (F @ w - m), [RHO * (w.sum() - 1.0)]]
        for h in eqs:
            parts.append(RHO * h.evaluate(th, pvars))
        for g in ineqs:
            parts.append(RHO * np.minimum(g.evaluate(th, pvars), 0.0))
        return np.concatenate([np.ravel(p) for p in parts])

    z0 = np.concatenate([params.ravel(), weights])
    lo = np.concatenate([np.full(K * P, -np.inf), np.zeros(K)])
    hi = np.concatenate([np.full(K * P, np.inf), np.ones(K)])
    z0 = np.clip(z0, lo, hi)
    f0 = float(np.sum(resid(z0) ** 2))
    try:
        out = least_squares(resid, z0, bounds=(lo, hi), method="trf", x_scale="jac",
                            xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=max_nfev)
    except (ValueError, np.linalg.LinAlgError):
        return params, weights, False
    if not np.all(np.isfinite(out.x)) or 2 * out.cost >= f0:
        return params, weights, False
    th = out.x[: K * P].reshape(K, P)
    w = np.clip(out.x[K * P:], 0, None)
    return th, w / w.sum(), True
