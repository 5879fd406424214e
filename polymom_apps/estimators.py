"""Estimators in the scikit-learn style: ``__init__`` stores, ``fit`` validates and returns self.

>>> import numpy as np
>>> from polymom_apps.estimators import PolymomGaussianMixture
>>> rng = np.random.default_rng(0)
>>> X = np.concatenate([rng.normal(-2, 1, (3000, 2)), rng.normal(2, 1, (3000, 2))])
>>> gm = PolymomGaussianMixture(2, covariance_type="spherical").fit(X)   # doctest: +SKIP
>>> np.round(np.sort(gm.means_[:, 0]))                                   # doctest: +SKIP
array([-2.,  2.])
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gmp import ModelError

from .constraints import split_constraints
from .em import TO_MAXIMUM, em_gaussian_mixture_starts, em_linear_regressions, gaussian_starts
from .empirical import check_data, is_dask_array
from .estimate import DEFAULT_METHOD, estimate, free_parameters
from .models import gaussian_1d, gaussian_nd, linear_regression

__all__ = ["PolymomGaussianMixture", "PolymomLinearRegressionMixture", "em_mean_constraints"]

REFINE = (None, "em")


def _check_refine(refine, X) -> None:
    if refine not in REFINE:
        raise ModelError(f"refine must be None or 'em', got {refine!r}")
    if refine == "em" and is_dask_array(X):
        raise ModelError("refine='em' needs the data in memory (EM passes over it at every iteration); "
                         "pass a numpy array, or fit without refine")


class _Base:
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self._param_names}

    def set_params(self, **params: Any):
        for k, v in params.items():
            if k not in self._param_names:
                raise ModelError(f"unknown parameter {k!r}; valid: {', '.join(self._param_names)}")
            setattr(self, k, v)
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "weights_"):
            raise ModelError(f"this {type(self).__name__} is not fitted yet; call fit(X) first")

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._param_names)
        return f"{type(self).__name__}({args})"


def em_mean_constraints(constraints, parameters, D: int):
    """``(A, b)`` of the constraints EM can keep: linear equalities in the means.

    ``parameters`` are the Gaussian spec's (means ``xi1..xiD`` first, then variances).
    Lower bounds ``var >= b`` with ``b <= 0`` hold for EM's positive variances and are
    dropped silently; every other constraint (polynomial, on variances, :class:`Tied`)
    gives a ``UserWarning`` naming it: the refined estimate may violate it. None when
    nothing is kept.
    """
    support, tied = split_constraints(constraints)
    rows, rhs, dropped = [], [], [repr(t.param) + " tied across components" for t in tied]
    for c in support:
        exps, coefs = c.expr.terms_in(parameters)
        deg = exps.sum(axis=1)
        const = float(coefs[deg == 0].sum())
        lin = deg == 1
        var_col = np.argmax(exps[lin], axis=1) if lin.any() else np.zeros(0, int)
        if np.all(deg <= 1) and c.kind == "==" and np.all(var_col < D) and lin.any():
            a = np.zeros(D)
            np.add.at(a, var_col, coefs[lin])
            rows.append(a)
            rhs.append(-const)
        elif (np.all(deg <= 1) and c.kind == ">=" and lin.sum() == 1 and var_col[0] >= D
              and coefs[lin][0] > 0 and const >= 0):
            continue  # a_v var + const >= 0 with const >= 0: var > 0 implies it
        else:
            dropped.append(repr(c))
    if dropped:
        warnings.warn(
            f"refine='em' keeps only linear equalities in the means; the refined estimate may violate: "
            f"{'; '.join(dropped)}. Fit without refine to keep them", UserWarning, stacklevel=4)
    return (np.array(rows), np.array(rhs)) if rows else None


class PolymomGaussianMixture(_Base):
    """Gaussian mixture estimated by Polymom (method of moments as a GMP) [WCL15].

    Parameters
    ----------
    n_components : int
    covariance_type : {"spherical", "diag"}
    constraints : callable ``parameters -> sequence of constraints``, optional
        Constraints on one component's parameters in the data's units, built from the
        spec's parameter variables (means first, then variances), e.g.
        ``lambda p: [p[0] + p[1] == 1]``.
    method : {"robust", "exact"}
    backend : str or Backend, optional
    random_state : int or None
    refine : {None, "em"}
        ``"em"``: after Polymom, run EM (:func:`polymom_apps.em.em_gaussian_mixture`, the
        iteration of scikit-learn's ``GaussianMixture``, from the Polymom estimate and
        Polymom's other candidate fits (:func:`polymom_apps.em.gaussian_starts`), each
        accelerated by SQUAREM and run to ``tol=1e-10`` per cycle:
        :data:`polymom_apps.em.TO_MAXIMUM`) to the highest likelihood maximum reached: the
        "Poly + EM" column of [WCL15, Table 3]. Needs in-memory data. EM keeps the
        ``constraints`` that are linear equalities in the means (``xi1 + xi2 == 1``: each M-step projects the
        means onto them) and lower bounds ``var >= b`` with ``b <= 0`` (EM's variances are
        positive); for any other constraint it warns that the refined estimate may
        violate it.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray of shape (n_components,) ("spherical") or (n_components, n_features)
    converged_ : bool
        Polymom succeeded (and, with ``refine="em"``, EM converged).
    n_parameters_ : int
        Free parameters (:func:`polymom_apps.estimate.free_parameters`; after
        ``refine="em"``, with only the constraints EM keeps), used by ``bic`` and ``aic``.
    result_ : EstimateResult
        Polymom's estimate (before the refinement).
    em_ : polymom_apps.em.GaussianEM or None
        The refinement (``refine="em"``): its log-likelihood history, iterations, and the
        residual of the mean constraints it kept.
    n_features_in_ : int
    """

    _param_names = ("n_components", "covariance_type", "constraints", "method", "backend", "random_state",
                    "refine")

    def __init__(self, n_components: int = 1, *, covariance_type: str = "spherical", constraints=None,
                 method: str = DEFAULT_METHOD, backend=None, random_state=None, refine=None):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.constraints = constraints
        self.method = method
        self.backend = backend
        self.random_state = random_state
        self.refine = refine

    def make_spec(self, n_features: int):
        """The model spec used for ``n_features`` columns (1-d: ``max(6, 3K - 1)`` moments)."""
        if self.covariance_type not in ("spherical", "diag"):
            raise ModelError(f"covariance_type must be 'spherical' or 'diag', got {self.covariance_type!r}")
        if n_features == 1:
            return gaussian_1d(max(6, 3 * int(self.n_components) - 1))
        return gaussian_nd(n_features, self.covariance_type)

    def fit(self, X, y=None):
        """Estimate from ``X`` of shape (n_samples, n_features): a numpy or a dask array."""
        if not (isinstance(X, np.ndarray) or is_dask_array(X)):
            X = np.asarray(X, dtype=float)
        if X.ndim != 2:
            raise ModelError(f"X must be a 2-d array of shape (n_samples, n_features), got shape {np.shape(X)}")
        _check_refine(self.refine, X)
        D = X.shape[1]
        spec = self.make_spec(D)
        cons = () if self.constraints is None else self.constraints
        if callable(cons):
            cons = cons(spec.parameters)
        res = estimate(spec, X, self.n_components, constraints=cons, backend=self.backend,
                       method=self.method, random_state=self.random_state)
        self.spec_, self.result_, self.n_features_in_, self.em_ = spec, res, D, None
        self.converged_ = bool(res.success)
        K = int(self.n_components)
        self.n_parameters_ = free_parameters(spec, K, cons)
        if not res.success:
            warnings.warn(
                f"Polymom did not produce {K} components ({res.message}); attributes are NaN. Try "
                "method='robust', fewer components, or more data", RuntimeWarning, stacklevel=2)
            self.weights_ = np.full(K, np.nan)
            self.means_ = np.full((K, D), np.nan)
            self.covariances_ = np.full((K,) if self.covariance_type == "spherical" else (K, D), np.nan)
            return self
        P = res.params
        self.weights_ = res.weights.copy()
        self.means_ = P[:, :D].copy()
        if D == 1:
            var = P[:, 1]
            self.covariances_ = var.copy() if self.covariance_type == "spherical" else var[:, None].copy()
        else:
            self.covariances_ = P[:, D].copy() if self.covariance_type == "spherical" else P[:, D:].copy()
        if np.any(self.covariances_ <= 0):
            warnings.warn(
                "an estimated variance is not positive; add non-negativity constraints "
                "(polymom_apps.constraints.nonnegative) or use more data", RuntimeWarning, stacklevel=2)
        if self.refine == "em":
            self._refine_em(np.asarray(X, dtype=float), cons, spec.parameters)
        return self

    def _refine_em(self, X: np.ndarray, constraints, parameters) -> None:
        D = self.n_features_in_
        cov = self.covariance_type
        mean_constraint = em_mean_constraints(constraints, parameters, D)
        K, kept = self.weights_.size, 0 if mean_constraint is None else np.linalg.matrix_rank(mean_constraint[0])
        self.n_parameters_ = K * (len(parameters) - int(kept)) + K - 1     # EM keeps only these equalities
        starts = gaussian_starts(self.result_, cov)    # the estimate, then Poly's other candidate fits
        fit = em_gaussian_mixture_starts(X, starts, covariance_type=cov, mean_constraint=mean_constraint, **TO_MAXIMUM)
        self.em_ = fit
        self.weights_, self.means_ = fit.weights.copy(), fit.means.copy()
        self.covariances_ = fit.variances.copy()
        self.converged_ = bool(fit.converged)

    def _variances(self) -> np.ndarray:
        v = self.covariances_
        return np.repeat(v[:, None], self.n_features_in_, axis=1) if v.ndim == 1 else v

    def _log_joint(self, X) -> np.ndarray:
        self._check_fitted()
        X = check_data(np.asarray(X, dtype=float) if is_dask_array(X) else X, None, what="X")
        if X.shape[1] != self.n_features_in_:
            raise ModelError(f"X has {X.shape[1]} features, but this {type(self).__name__} was fitted on "
                             f"{self.n_features_in_}; pass an array of shape (n_samples, {self.n_features_in_})")
        var = np.maximum(self._variances(), 1e-12)
        d = X[:, None, :] - self.means_[None]
        logp = -0.5 * np.sum(d**2 / var + np.log(2 * np.pi * var), axis=2)
        return logp + np.log(np.maximum(self.weights_, 1e-300))

    def predict_proba(self, X) -> np.ndarray:
        lj = self._log_joint(X)
        lj -= lj.max(axis=1, keepdims=True)
        p = np.exp(lj)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X) -> np.ndarray:
        return np.argmax(self._log_joint(X), axis=1)

    def fit_predict(self, X, y=None) -> np.ndarray:
        """``fit(X)``, then the component of each sample."""
        return self.fit(X).predict(X)

    def sample(self, n_samples: int = 1, random_state=None) -> tuple[np.ndarray, np.ndarray]:
        """Draw ``n_samples`` points from the fitted mixture, as scikit-learn's ``GaussianMixture.sample``.

        Returns ``(X, labels)``: X of shape (n_samples, n_features), grouped by component,
        and the component of each row. ``random_state`` defaults to the estimator's.
        """
        self._check_fitted()
        if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
            raise ModelError(f"n_samples must be a positive integer, got {n_samples!r}")
        if not np.isfinite(self.means_).all():
            raise ModelError("this mixture has no finite parameters (the fit failed); nothing to sample from")
        rng = np.random.default_rng(self.random_state if random_state is None else random_state)
        counts = rng.multinomial(int(n_samples), self.weights_ / self.weights_.sum())
        labels = np.repeat(np.arange(counts.size), counts)
        sd = np.sqrt(np.maximum(self._variances(), 0.0))
        X = self.means_[labels] + sd[labels] * rng.standard_normal((labels.size, self.n_features_in_))
        return X, labels

    def score_samples(self, X) -> np.ndarray:
        """Log-likelihood of each sample under the fitted mixture, shape (n_samples,)."""
        lj = self._log_joint(X)
        mx = lj.max(axis=1, keepdims=True)
        return mx[:, 0] + np.log(np.exp(lj - mx).sum(axis=1))

    def score(self, X, y=None) -> float:
        """Mean log-likelihood per sample."""
        return float(np.mean(self.score_samples(X)))

    def bic(self, X) -> float:
        """Bayesian information criterion on ``X``, ``-2 log L + n_parameters_ log n`` (lower is better)."""
        ll = self.score_samples(X)
        return float(-2.0 * ll.sum() + self.n_parameters_ * np.log(ll.size))

    def aic(self, X) -> float:
        """Akaike information criterion on ``X``, ``-2 log L + 2 n_parameters_`` (lower is better)."""
        return float(-2.0 * self.score_samples(X).sum() + 2.0 * self.n_parameters_)


class PolymomLinearRegressionMixture(_Base):
    """Mixture of linear regressions ``y = w_k . x + N(0, sigma^2)`` estimated by Polymom.

    Parameters
    ----------
    n_components : int
    noise_std : float or None
        Known noise standard deviation; None estimates a noise variance per component.
    method, backend, random_state : see :class:`PolymomGaussianMixture`
    refine : {None, "em"}
        ``"em"``: after Polymom, run EM (:func:`polymom_apps.em.em_linear_regressions`,
        one start from the Polymom estimate, accelerated, :data:`polymom_apps.em.TO_MAXIMUM`)
        to the nearby likelihood maximum ("Poly + EM"). Needs in-memory data.

    Attributes
    ----------
    coef_ : ndarray of shape (n_components, n_features)
    noise_variance_ : ndarray of shape (n_components,)
    weights_ : ndarray of shape (n_components,)
    converged_ : bool
        Polymom succeeded (and, with ``refine="em"``, EM converged).
    result_ : EstimateResult
        Polymom's estimate (before the refinement).
    em_ : RegressionEM or None
        The refinement (``refine="em"``).
    """

    _param_names = ("n_components", "noise_std", "method", "backend", "random_state", "refine")

    def __init__(self, n_components: int = 2, *, noise_std: float | None = None, method: str = DEFAULT_METHOD,
                 backend=None, random_state=None, refine=None):
        self.n_components = n_components
        self.noise_std = noise_std
        self.method = method
        self.backend = backend
        self.random_state = random_state
        self.refine = refine

    def fit(self, X, y):
        """Estimate from ``X`` (n_samples, n_features) and ``y`` (n_samples,): numpy or dask arrays."""
        lazy = is_dask_array(X) or is_dask_array(y)
        if lazy:  # keep the data out of memory: stack lazily, estimate() reduces chunk by chunk
            import dask.array as da

            X, y = da.asarray(X).astype(float), da.asarray(y).astype(float).ravel()
        else:
            X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float).ravel()
        if X.ndim != 2 or X.shape[0] != y.shape[0]:
            raise ModelError(
                f"X must have shape (n_samples, n_features) and y shape (n_samples,), got {X.shape} and {y.shape}")
        _check_refine(self.refine, X)
        D = X.shape[1]
        spec = linear_regression(D, self.noise_std)
        Z = da.concatenate([X, y[:, None]], axis=1) if lazy else np.column_stack([X, y])
        res = estimate(spec, Z, self.n_components, backend=self.backend,
                       method=self.method, random_state=self.random_state)
        self.result_, self.n_features_in_, self.converged_, self.em_ = res, D, bool(res.success), None
        K = int(self.n_components)
        if not res.success:
            warnings.warn(f"Polymom did not produce {K} components ({res.message}); attributes are NaN. Try "
                          "method='robust' or more data", RuntimeWarning, stacklevel=2)
            self.coef_, self.weights_ = np.full((K, D), np.nan), np.full(K, np.nan)
            self.noise_variance_ = np.full(K, np.nan)
            return self
        self.coef_ = res.params[:, :D].copy()
        self.weights_ = res.weights.copy()
        self.noise_variance_ = (res.params[:, D].copy() if self.noise_std is None
                                else np.full(K, float(self.noise_std) ** 2))
        if self.refine == "em":
            fit = em_linear_regressions(X, y, K, noise_std=self.noise_std,
                                        init=(self.coef_, self.weights_, np.maximum(self.noise_variance_, 1e-10)),
                                        **TO_MAXIMUM)
            self.em_, self.converged_ = fit, bool(fit.converged)
            self.coef_, self.weights_ = fit.coef.copy(), fit.weights.copy()
            self.noise_variance_ = fit.noise_variance.copy()
        return self
