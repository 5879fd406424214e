"""EM for the likelihood baselines and the "Poly + EM" refinement of Polymom [VR08].

:func:`em_linear_regressions` fits mixtures of linear regressions (scikit-learn has none);
:func:`em_gaussian_mixture` fits spherical or diagonal Gaussian mixtures from given parameters,
optionally with each mean on an affine subspace ``A mu = b``. Both can be accelerated by SQUAREM.
The updates, stopping rules and measurements: docs/polymom.md, "EM baselines and Poly + EM".
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gmp import ModelError

from .empirical import check_data
from .results import EstimateResult

__all__ = ["GaussianEM", "RegressionEM", "em_gaussian_mixture", "em_gaussian_mixture_starts", "em_linear_regressions",
           "gaussian_starts"]

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
    iterations (M-steps) of the best run; converged : whether it met ``tol`` before
    ``max_iter``; history : mean log-likelihood after each iteration of the best run
    (non-decreasing; with ``accelerate=True``, after each SQUAREM cycle).
    """

    coef: np.ndarray
    weights: np.ndarray
    noise_variance: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool
    history: np.ndarray


def _log_joint(X: np.ndarray, y: np.ndarray, coef: np.ndarray, weights: np.ndarray, var: np.ndarray) -> np.ndarray:
    resid = y[:, None] - X @ coef.T                                   # (T, K)
    return np.log(weights) - 0.5 * np.log(2 * np.pi * var) - 0.5 * resid ** 2 / var


def _m_step(X: np.ndarray, y: np.ndarray, R: np.ndarray, known_var: float | None,
            floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def _e_step(log_joint: Callable[..., np.ndarray], params: tuple[np.ndarray, ...]) -> tuple[float, np.ndarray]:
    """Mean log-likelihood per sample at ``params`` and the responsibilities (rows sum to 1)."""
    L = log_joint(*params)
    top = L.max(axis=1, keepdims=True)
    R = np.exp(L - top)
    total = R.sum(axis=1, keepdims=True)
    ll = float(np.mean(top[:, 0] + np.log(total[:, 0])))            # log-sum-exp per sample
    return ll, R / total


def _iterate(log_joint: Callable[..., np.ndarray],
             m_step: Callable[[np.ndarray, tuple[np.ndarray, ...]], tuple[np.ndarray, ...]],
             params: tuple[np.ndarray, ...], tol: float, max_iter: int, valid: Callable[..., bool] | None = None
             ) -> tuple[tuple[np.ndarray, ...], int, bool, np.ndarray]:
    """EM from ``params``: M-steps until the mean log-likelihood per sample changes by less
    than ``tol`` (scikit-learn's rule) or ``max_iter`` M-steps were taken.

    ``log_joint(*params)`` is ``log pi_k + log p(x_i | component k)`` of shape (T, K);
    ``m_step(R, params)`` the new parameters from responsibilities ``R`` (rows sum to 1).
    With ``valid`` (a test that parameters define a mixture: positive weights and
    variances) the iteration is accelerated by :func:`_squarem`.
    Returns ``(params, n_iter, converged, history)``; ``history[-1]`` is the mean
    log-likelihood at the returned ``params``.
    """
    if valid is not None:
        return _squarem(log_joint, m_step, params, tol, max_iter, valid)
    history, n_iter = [], 0
    while True:
        ll, R = _e_step(log_joint, params)
        history.append(ll)
        if n_iter and abs(history[-1] - history[-2]) < tol:
            return params, n_iter, True, np.array(history)
        if n_iter == max_iter:
            return params, n_iter, False, np.array(history)
        params = m_step(R, params)
        n_iter += 1


def _squarem(log_joint: Callable[..., np.ndarray],
             m_step: Callable[[np.ndarray, tuple[np.ndarray, ...]], tuple[np.ndarray, ...]],
             params: tuple[np.ndarray, ...], tol: float, max_iter: int, valid: Callable[..., bool]
             ) -> tuple[tuple[np.ndarray, ...], int, bool, np.ndarray]:
    """EM accelerated by squared extrapolation (SQUAREM, scheme S3 of [VR08]).

    Each cycle takes two EM steps ``t0 -> t1 -> t2`` and jumps to
    ``t' = t0 - 2 a r + a^2 v`` with ``r = t1 - t0``, ``v = t2 - 2 t1 + t0`` and
    ``a = -min(|r| / |v|, step_max)`` (``a = -1`` gives ``t2``), then takes one EM step
    from ``t'``. ``step_max`` starts at 1 and is multiplied by 4 each time it caps ``a``,
    as in the reference implementation, so the first jumps are short.
    The jump is kept only if ``t'`` is ``valid`` and the log-likelihood after that step
    is at least that of ``t2``; otherwise ``a`` is halved towards -1, down to plain EM.
    So every cycle does at least as well as two EM steps, and the history of accepted
    points never decreases. Affine constraints that every EM step keeps (weights summing
    to 1, means on ``A mu = b``) hold at ``t'`` too: its coefficients sum to 1.

    ``n_iter`` counts M-steps; the test ``|change| < tol`` is applied per cycle, on
    points that are EM steps from their predecessors. On a flat likelihood, where EM
    crawls, a cycle moves as far as many EM steps do, so this test stops much closer
    to the maximum than the same ``tol`` per EM step.
    """
    shapes = [np.shape(p) for p in params]
    cuts = np.cumsum([int(np.prod(sh)) for sh in shapes])[:-1]

    def flat(ps: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate([np.ravel(p) for p in ps])

    def unflat(x: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(part.reshape(sh) for part, sh in zip(np.split(x, cuts), shapes))

    ll0, R0 = _e_step(log_joint, params)
    history, n_iter, step_max = [ll0], 0, 1.0
    while True:
        if n_iter + 2 > max_iter:
            return params, n_iter, False, np.array(history)
        t1 = m_step(R0, params)
        ll1, R1 = _e_step(log_joint, t1)
        t2 = m_step(R1, t1)
        ll2, R2 = _e_step(log_joint, t2)
        n_iter += 2
        x0, x1, x2 = flat(params), flat(t1), flat(t2)
        r, v = x1 - x0, x2 - 2.0 * x1 + x0
        nv = np.linalg.norm(v)
        a = -min(np.linalg.norm(r) / nv, step_max) if nv > 0 else -1.0
        if a == -step_max:                                   # the cap bound: let later jumps go further
            step_max *= 4.0
        new, ll_new, R_new = t2, ll2, R2                     # plain EM unless a jump does better
        while a < -1.0 and n_iter < max_iter:
            jump = unflat(x0 - 2.0 * a * r + a * a * v)
            if valid(*jump):
                lj, Rj = _e_step(log_joint, jump)
                if np.isfinite(lj):
                    t3 = m_step(Rj, jump)
                    l3, R3 = _e_step(log_joint, t3)
                    n_iter += 1
                    if l3 >= ll2:
                        new, ll_new, R_new = t3, l3, R3
                        break
            a = (a - 1.0) / 2.0 if a < -1.5 else -1.0
        params, R0 = new, R_new
        history.append(ll_new)
        if abs(history[-1] - history[-2]) < tol:
            return params, n_iter, True, np.array(history)


def _run(X: np.ndarray, y: np.ndarray, coef: np.ndarray, weights: np.ndarray, var: np.ndarray,
         known_var: float | None, tol: float, max_iter: int, floor: float, accelerate: bool = False
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int, bool, np.ndarray]:
    """Regression EM from one start."""
    (coef, weights, var), n_iter, converged, history = _iterate(
        lambda c, w, v: _log_joint(X, y, c, w, v), lambda R, _: _m_step(X, y, R, known_var, floor),
        (coef, weights, var), tol, max_iter, _valid_regression if accelerate else None)
    return coef, weights, var, history[-1], n_iter, converged, history


def _valid_regression(coef: np.ndarray, weights: np.ndarray, var: np.ndarray) -> bool:
    return bool(np.isfinite(coef).all() and np.all(weights > 0) and np.all(var > 0))


def em_linear_regressions(X: ArrayLike, y: ArrayLike, n_components: int, *, noise_std: float | None = None,
                          init: Sequence[ArrayLike] | None = None, n_init: int = 5, tol: float = 1e-7,
                          max_iter: int = 10_000, random_state: np.random.Generator | int | None = None,
                          accelerate: bool = False) -> RegressionEM:
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
    accelerate : bool
        SQUAREM acceleration, as in :func:`em_gaussian_mixture`.
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
        out = _run(X, y, coef, weights, var, known_var, tol, max_iter, floor, accelerate)
        if best is None or out[3] > best[3]:
            best = out
    coef, weights, var, ll, it, conv, hist = best
    return RegressionEM(coef, weights, var, ll, it, conv, hist)


#: The stopping rule of "Poly + EM" (``refine="em"`` of the estimators, Table 3's column):
#: SQUAREM-accelerated EM until a cycle changes the mean log-likelihood by less than 1e-10,
#: which reaches the likelihood maximum (bench/em_acceleration.py, docs/polymom.md).
TO_MAXIMUM = {"tol": 1e-10, "accelerate": True}


# -- Gaussian mixtures --------------------------------------------------------------------------------------------
#: Added to every estimated variance, as scikit-learn's ``GaussianMixture(reg_covar=1e-6)``.
REG_COVAR = 1e-6


@dataclass(frozen=True)
class GaussianEM:
    """Result of :func:`em_gaussian_mixture`.

    means : (K, D); variances : (K,) for "spherical", (K, D) for "diag"; weights : (K,);
    log_likelihood : mean log-likelihood per sample at the end; n_iter, converged,
    history : as :class:`RegressionEM`; constraint_residual : ``max |A mu_k - b|`` at the
    end (0.0 without constraints).
    """

    means: np.ndarray
    variances: np.ndarray
    weights: np.ndarray
    log_likelihood: float
    n_iter: int
    converged: bool
    history: np.ndarray
    constraint_residual: float = 0.0


def _gauss_log_joint(X: np.ndarray, X2: np.ndarray, means: np.ndarray, V: np.ndarray,
                     weights: np.ndarray) -> np.ndarray:
    """``log pi_k + log N(x_i; mu_k, diag V_k)`` for all i, k; ``V`` of shape (K, D)."""
    P = 1.0 / V
    quad = X2 @ P.T - 2.0 * X @ (means * P).T + np.sum(means ** 2 * P, axis=1)
    return np.log(weights) - 0.5 * (quad + np.sum(np.log(2 * np.pi * V), axis=1))


def _valid_gaussian(means: np.ndarray, V: np.ndarray, weights: np.ndarray) -> bool:
    return bool(np.isfinite(means).all() and np.all(V > 0) and np.all(weights > 0))


def _project_means(xbar: np.ndarray, V: np.ndarray, A: np.ndarray | None, b: np.ndarray | None) -> np.ndarray:
    """Each row of ``xbar`` moved to ``A mu = b`` in the metric ``diag(1 / V_k)``: the
    maximizer of the expected log-likelihood over the means at fixed variances."""
    if A is None:
        return xbar
    out = np.empty_like(xbar)
    for k in range(xbar.shape[0]):  # K small systems of size rank(A)
        AV = A * V[k]
        out[k] = xbar[k] - AV.T @ np.linalg.lstsq(AV @ A.T, A @ xbar[k] - b, rcond=None)[0]
    return out


def em_gaussian_mixture(X: ArrayLike, init: Sequence[ArrayLike], *, covariance_type: str = "diag",
                        mean_constraint: tuple[ArrayLike, ArrayLike] | None = None, tol: float = 1e-7,
                        max_iter: int = 10_000, reg_covar: float = REG_COVAR, accelerate: bool = False) -> GaussianEM:
    """EM for a Gaussian mixture with spherical or diagonal covariances, from a given start.

    Parameters
    ----------
    X : array (T, D)
    init : tuple ``(means, variances, weights)``
        Start, e.g. a Polymom estimate: means (K, D); variances (K,) or (K, D)
        (floored at ``reg_covar``); weights (K,), non-negative.
    covariance_type : {"spherical", "diag"}
    mean_constraint : tuple ``(A, b)`` or None
        Every component's mean satisfies ``A @ mu_k == b`` (A of shape (c, D)). The
        M-step for the means is then the projection of the weighted sample mean onto
        that subspace in the metric of the current variances (for "spherical" this is
        the exact maximizer; for "diag" it is the conditional maximizer of an ECM step,
        so the likelihood still never decreases). The start is projected too.
    tol, max_iter : stopping rule (change of the mean log-likelihood per sample, as scikit-learn).
    reg_covar : added to every estimated variance (scikit-learn's default).
    accelerate : bool
        Accelerate EM by squared extrapolation (SQUAREM [VR08]): EM's fixed points, the
        likelihood still never decreases, and ``tol`` applies per cycle of 3 M-steps.
        On overlapping components, where EM crawls along a flat likelihood, it reaches
        the maximum in far fewer M-steps (``n_iter`` counts M-steps).

    Without ``mean_constraint`` this is the iteration of scikit-learn's ``GaussianMixture``
    from ``means_init``, ``precisions_init``, ``weights_init``.
    """
    X = check_data(X, None, what="X", min_samples=2)
    T, D = X.shape
    if covariance_type not in ("spherical", "diag"):
        raise ModelError(f"covariance_type must be 'spherical' or 'diag', got {covariance_type!r}")
    if not (isinstance(init, (tuple, list)) and len(init) == 3):
        raise ModelError("init must be a tuple (means, variances, weights)")
    means = np.array(init[0], dtype=float, ndmin=2)
    K = means.shape[0]
    if means.shape != (K, D) or not np.isfinite(means).all():
        raise ModelError(f"init means must be a finite array of shape (K, {D}), got shape {means.shape}")
    vshape = (K,) if covariance_type == "spherical" else (K, D)
    try:
        var = np.broadcast_to(np.asarray(init[1], dtype=float), vshape).copy()
    except ValueError:
        raise ModelError(f"init variances must have shape {vshape} for covariance_type="
                         f"{covariance_type!r}, got {np.shape(init[1])}") from None
    weights = np.asarray(init[2], dtype=float).ravel()
    if weights.shape != (K,) or np.any(weights < 0) or not np.isfinite(weights).all() or weights.sum() <= 0:
        raise ModelError(f"init weights must be {K} non-negative numbers with a positive sum, got {init[2]!r}")
    if not np.isfinite(var).all():
        raise ModelError("init variances must be finite")
    if not tol > 0 or max_iter < 1 or not reg_covar >= 0:
        raise ModelError(f"need tol > 0, max_iter >= 1 and reg_covar >= 0; got {tol}, {max_iter}, {reg_covar}")
    A = b = None
    if mean_constraint is not None:
        A = np.array(mean_constraint[0], dtype=float, ndmin=2)
        b = np.asarray(mean_constraint[1], dtype=float).ravel()
        if A.shape[1] != D or b.shape != (A.shape[0],) or not (np.isfinite(A).all() and np.isfinite(b).all()):
            raise ModelError(f"mean_constraint must be (A, b) with A of shape (c, {D}) and b of shape (c,), "
                             f"finite; got shapes {A.shape} and {b.shape}")
    floor = max(reg_covar, TINY)
    var = np.maximum(var, floor)
    weights = np.maximum(weights / weights.sum(), TINY)
    V = var[:, None] * np.ones(D) if covariance_type == "spherical" else var
    means = _project_means(means, V, A, b)
    X2 = X * X

    def m_step(R: np.ndarray, params: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        means, V, _ = params
        Nk = np.maximum(R.sum(axis=0), TINY)                          # (K,)
        weights = np.maximum(Nk / T, TINY)
        xbar = (R.T @ X) / Nk[:, None]
        means = _project_means(xbar, V, A, b)
        # E_r[(x - mu)^2] per coordinate = E_r[x^2] - 2 mu xbar + mu^2 (mu need not be xbar)
        Vd = np.maximum((R.T @ X2) / Nk[:, None] - 2.0 * means * xbar + means ** 2 + reg_covar, floor)
        V = np.repeat(Vd.mean(axis=1, keepdims=True), D, axis=1) if covariance_type == "spherical" else Vd
        return means, V, weights / weights.sum()

    (means, V, weights), n_iter, converged, history = _iterate(
        lambda m, V, w: _gauss_log_joint(X, X2, m, V, w), m_step, (means, V, weights), tol, max_iter,
        _valid_gaussian if accelerate else None)
    resid = 0.0 if A is None else float(np.max(np.abs(means @ A.T - b)))
    variances = V[:, 0].copy() if covariance_type == "spherical" else V.copy()
    return GaussianEM(means, variances, weights, history[-1], n_iter, converged, history, resid)


#: Mean log-likelihoods per sample closer than this count as the same maximum.
TIE = 1e-10


def gaussian_starts(res: EstimateResult, covariance_type: str, max_starts: int | None = None) -> list[tuple]:
    """EM starts ``(means, variances, weights)`` from a Polymom estimate of a Gaussian mixture.

    The estimate first, then its other feasible candidate fits (``res.candidates``), best
    first, without repeats and without those with two equal components (EM keeps equal
    components equal: such a start leads to the fit with one component fewer).

    Parameters
    ----------
    res : polymom_apps.EstimateResult
        From :func:`polymom_apps.estimate` with ``gaussian_nd(D, covariance_type)`` or
        ``gaussian_1d`` (parameters: the D means, then the variances).
    covariance_type : {"spherical", "diag"}
    max_starts : int, optional
    """
    D = res.params.shape[1] - (1 if covariance_type == "spherical" else res.params.shape[1] // 2)
    fits = [(res.params, res.weights)]
    ranked = sorted((c for c in res.candidates if c.feasible),
                    key=lambda c: (-(c.log_likelihood if c.log_likelihood is not None else -np.inf), c.cost))
    fits += [(c.params, c.weights) for c in ranked]
    out: list[tuple] = []
    seen: list[np.ndarray] = []
    for p, w in fits:
        p = np.asarray(p, float)
        gaps = [np.max(np.abs(p[i] - p[j])) for i in range(len(p)) for j in range(i)]
        if gaps and min(gaps) <= 1e-8 * max(1.0, np.abs(p).max()):
            continue
        key = np.concatenate([p[np.lexsort(p.T[::-1])].ravel()])
        if any(np.allclose(key, k, rtol=1e-6, atol=1e-9) for k in seen):
            continue
        seen.append(key)
        var = p[:, D] if covariance_type == "spherical" else p[:, D:]
        out.append((p[:, :D], var, np.asarray(w, float)))
        if max_starts is not None and len(out) >= max_starts:
            break
    return out


def em_gaussian_mixture_starts(X: ArrayLike, starts: Sequence[Sequence[ArrayLike]], **kwargs: Any) -> GaussianEM:
    """:func:`em_gaussian_mixture` from each of ``starts``; the run that ends at the highest likelihood.

    ``kwargs`` are those of :func:`em_gaussian_mixture` (``covariance_type``, ``mean_constraint``,
    ``tol``, ``accelerate``, ...). A later start must end higher by more than :data:`TIE` per
    sample to replace an earlier one (equal maxima reached from two starts differ in rounding).
    Where the likelihood has several maxima, EM from one start reaches the one whose basin holds it;
    several Polymom starts (:func:`gaussian_starts`) cost little and reach the higher one more often
    (docs/polymom.md).
    """
    if not starts:
        raise ModelError("em_gaussian_mixture_starts needs at least one start (means, variances, weights)")
    best = None
    for init in starts:
        fit = em_gaussian_mixture(X, init, **kwargs)
        if best is None or fit.log_likelihood > best.log_likelihood + TIE:
            best = fit
    return best

