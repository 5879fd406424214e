"""EM for mixtures of linear regressions: the likelihood baseline (and refinement) for Polymom.

Model: ``y = x . w_k + e``, ``e ~ N(0, s_k^2)``, component ``k`` with probability
``pi_k``. scikit-learn has no such estimator, so Table 3's linear-regression row needs
this one; it is also the "Poly + EM" step, started from the Polymom estimate.

E-step: responsibilities ``r_ik`` from ``log pi_k + log N(y_i; x_i . w_k, s_k^2)`` (by
log-sum-exp). M-step: ``pi_k = mean_i r_ik``, ``w_k`` the weighted least-squares fit
``(X^T R_k X)^{-1} X^T R_k y``, and ``s_k^2 = sum_i r_ik (y_i - x_i . w_k)^2 / sum_i r_ik``
unless the noise is known. Stopping rule as scikit-learn's mixtures: the change of the
mean log-likelihood per sample below ``tol``. Random starts: each component's ``w_k``
is the least-squares fit of its own ``max(2D, 10)`` random samples, equal weights; the
best of ``n_init`` runs by likelihood.

>>> import numpy as np
>>> from polymom_apps.em import em_linear_regressions
>>> rng = np.random.default_rng(0)
>>> X = rng.standard_normal((4000, 2))
>>> z = rng.random(4000) < 0.4
>>> y = np.where(z, X @ [2.0, -1.0], X @ [-1.0, 1.5]) + 0.3 * rng.standard_normal(4000)
>>> fit = em_linear_regressions(X, y, 2, noise_std=0.3, random_state=0)
>>> np.round(fit.coef[np.argsort(fit.coef[:, 0])], 1)
array([[-1. ,  1.5],
       [ 2. , -1. ]])
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gmp import ModelError

from .empirical import check_data

__all__ = ["RegressionEM", "em_linear_regressions"]

#: Floor for a component's weight and sample count (a component that empties stays
#: defined), and the smallest noise-variance floor.
TINY = 1e-10
#: Floor for an estimated noise variance, relative to ``var(y)`` (as scikit-learn's
#: ``reg_covar``): without it a component that collapses onto a few samples has an
#: unbounded likelihood and would win the choice among random starts.
REG_VARIANCE = 1e-6


@dataclass(frozen=True)
class RegressionEM:
    """Result of :func:`em_linear_regressions`.

    coef : (K, D) regression vectors; weights : (K,) mixing proportions;
    noise_variance : (K,) noise variances (the known value repeated when given);
    log_likelihood : mean log-likelihood per sample at the end; n_iter : EM
    iterations of the best run; converged : whether it met ``tol`` before ``max_iter``;
    history : mean log-likelihood after each iteration of the best run (non-decreasing).
    """

    coef: np.ndarray
    weights: np.ndarray
    noise_variance: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool
    history: np.ndarray


def _log_joint(X, y, coef, weights, var):
    resid = y[:, None] - X @ coef.T                                   # (T, K)
    return np.log(weights) - 0.5 * np.log(2 * np.pi * var) - 0.5 * resid ** 2 / var


def _m_step(X, y, R, known_var, floor):
    Nk = R.sum(axis=0)                                                # (K,)
    weights = np.maximum(Nk / X.shape[0], TINY)
    weights /= weights.sum()
    XtRX = np.stack([(X * R[:, k:k + 1]).T @ X for k in range(R.shape[1])])   # (K, D, D)
    XtRy = (R * y[:, None]).T @ X                                     # (K, D)
    ridge = 1e-12 * np.trace(XtRX, axis1=1, axis2=2)[:, None, None] * np.eye(X.shape[1])
    coef = np.linalg.solve(XtRX + ridge, XtRy[:, :, None])[:, :, 0]
    if known_var is not None:
        var = np.full(R.shape[1], known_var)
    else:
        resid2 = (y[:, None] - X @ coef.T) ** 2
        var = np.maximum((R * resid2).sum(axis=0) / np.maximum(Nk, TINY), floor)
    return coef, weights, var


def _run(X, y, coef, weights, var, known_var, tol, max_iter, floor):
    """EM from one start: M-steps until the mean log-likelihood gains less than ``tol``."""
    history, converged, n_iter = [], False, 0
    while True:
        L = _log_joint(X, y, coef, weights, var)
        top = L.max(axis=1, keepdims=True)
        R = np.exp(L - top)
        total = R.sum(axis=1, keepdims=True)
        history.append(float(np.mean(top + np.log(total))))       # log-sum-exp per sample
        if n_iter and history[-1] - history[-2] < tol:
            converged = True
            break
        if n_iter == max_iter:
            break
        coef, weights, var = _m_step(X, y, R / total, known_var, floor)
        n_iter += 1
    return coef, weights, var, history[-1], n_iter, converged, np.array(history)


def em_linear_regressions(X, y, n_components: int, *, noise_std: float | None = None, init=None,
                          n_init: int = 5, tol: float = 1e-7, max_iter: int = 10_000,
                          random_state=None) -> RegressionEM:
    """Fit a mixture of ``n_components`` linear regressions ``y ~ X w_k`` by EM.

    Parameters
    ----------
    X : array (T, D); y : array (T,)
    noise_std : float or None
        Known noise standard deviation (shared); None estimates one variance per component.
    init : tuple ``(coef, weights)`` or ``(coef, weights, noise_variance)``, optional
        Start from these parameters (one run; ``n_init`` is ignored), e.g. a Polymom estimate.
    n_init : int
        Random starts when ``init`` is None; the run with the highest likelihood is kept.
    tol, max_iter : stopping rule (change of the mean log-likelihood per sample).
    random_state : int, Generator or None
    """
    X = check_data(X, None, what="X", min_samples=2)
    y = check_data(y, 1, what="y", min_samples=2)[:, 0]
    T, D = X.shape
    if y.shape[0] != T:
        raise ModelError(f"X has {T} rows but y has {y.shape[0]}; pass one response per row of X")
    if not isinstance(n_components, (int, np.integer)) or n_components < 1:
        raise ModelError(f"n_components must be a positive integer, got {n_components!r}")
    if n_components > T:
        raise ModelError(f"n_components={n_components} is more than the {T} samples")
    if noise_std is not None and not (np.isfinite(noise_std) and noise_std > 0):
        raise ModelError(f"noise_std must be a positive number or None, got {noise_std!r}")
    if n_init < 1 or max_iter < 1 or not tol > 0:
        raise ModelError(f"need n_init >= 1, max_iter >= 1 and tol > 0; got {n_init}, {max_iter}, {tol}")
    K = int(n_components)
    known_var = None if noise_std is None else float(noise_std) ** 2
    rng = np.random.default_rng(random_state)
    floor = max(TINY, REG_VARIANCE * float(np.var(y)))
    starts = []
    if init is not None:
        coef0 = np.asarray(init[0], float).reshape(K, D)
        w0 = np.asarray(init[1], float).reshape(K)
        if np.any(w0 < 0) or not np.isfinite(coef0).all():
            raise ModelError("init: coef must be finite and weights non-negative")
        w0 = np.maximum(w0, TINY)
        w0 = w0 / w0.sum()
        if known_var is not None:
            v0 = np.full(K, known_var)
        elif len(init) > 2:
            v0 = np.maximum(np.asarray(init[2], float).reshape(K), floor)
        else:
            v0 = np.full(K, np.var(y - X @ np.linalg.lstsq(X, y, rcond=None)[0]))
        starts.append((coef0, w0, v0))
    else:
        v_ols = np.var(y - X @ np.linalg.lstsq(X, y, rcond=None)[0])
        size = min(T, max(2 * D, 10))
        for _ in range(n_init):
            # each component: least squares on its own few random samples (breaks the
            # symmetry that random responsibilities over many samples would average out)
            coef0 = np.stack([np.linalg.lstsq(X[idx], y[idx], rcond=None)[0]
                              for idx in (rng.choice(T, size, replace=False) for _ in range(K))])
            starts.append((coef0, np.full(K, 1.0 / K), np.full(K, known_var if known_var else v_ols)))
    best = None
    for coef, weights, var in starts:
        out = _run(X, y, coef, weights, var, known_var, tol, max_iter, floor)
        if best is None or out[3] > best[3]:
            best = out
    coef, weights, var, ll, it, conv, hist = best
    return RegressionEM(coef, weights, var, ll, it, conv, hist)
