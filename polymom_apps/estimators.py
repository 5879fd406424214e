"""scikit-learn estimators for Polymom [WCL15]: a Gaussian mixture (a density) and a mixture of regressions.

:class:`PolymomGaussianMixture` and :class:`PolymomLinearRegressionMixture` are ``BaseEstimator``
subclasses that pass scikit-learn's estimator checks but for those in
:func:`expected_failed_checks`. Needs ``pip install "gmp-moments[mixtures]"``; see docs/polymom.md.
"""
from __future__ import annotations

import contextlib
import logging
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gmp import Backend, Constraint, ModelError, Polynomial, count

from .arguments import check_k, min_samples
from .constraints import Tied, split_constraints
from .em import TO_MAXIMUM, em_gaussian_mixture_starts, em_linear_regressions, gaussian_starts
from .empirical import is_dask_array
from .estimate import DEFAULT_METHOD, estimate
from .fit_test import free_parameters
from .models import gaussian_1d, gaussian_nd, linear_regression
from .results import EstimateResult
from .spec import MixtureSpec

try:
    from sklearn.base import BaseEstimator, DensityMixin, RegressorMixin
    from sklearn.exceptions import NotFittedError as _SklearnNotFittedError
    from sklearn.utils.validation import check_is_fitted, validate_data
except ImportError as exc:  # pragma: no cover - the test extra installs scikit-learn
    raise ImportError(
        "polymom_apps.estimators needs scikit-learn, which is not installed; "
        "pip install \"gmp-moments[mixtures]\" (or use polymom_apps.estimate, which does not)"
    ) from exc

__all__ = ["PolymomGaussianMixture", "PolymomLinearRegressionMixture", "NotFittedError",
           "expected_failed_checks", "em_mean_constraints"]

logger = logging.getLogger(__name__)

REFINE = (None, "em")


class NotFittedError(_SklearnNotFittedError, ModelError):
    """A method that needs a fitted estimator was called before ``fit``.

    Both scikit-learn's :class:`sklearn.exceptions.NotFittedError` and a
    :class:`gmp.ModelError`, so either ``except`` clause catches it.
    """


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    """The scikit-learn estimator checks that a method of moments cannot pass, with the reason.

    For ``parametrize_with_checks(..., expected_failed_checks=expected_failed_checks)``
    (and ``check_estimator``). Each listed check fits data too small for any moment set
    that identifies even one component: the robust form weights the N moments by the
    inverse of their sample covariance, which needs at least ``2N`` samples, and the
    fewest moments that identify one component in D dimensions are ``D (D + 3) / 2`` for
    a Gaussian (degree 2) and ``2 (D + 1)`` for a regression with unknown noise. Every
    other check passes for one component (``n_components=1``);
    with more components most checks' data (10 to 56 samples) are too small.

    Parameters
    ----------
    estimator : estimator instance

    Returns
    -------
    dict of str to str
        ``{check name: reason}``; empty for an estimator that is not one of ours.
    """
    def few(T: int, D: int, N: int) -> str:
        return (f"its data ({T} samples, {D} features) are too few for the {N} moments that identify one "
                f"component (at least {2 * N} samples needed to weight them)")

    if isinstance(estimator, PolymomGaussianMixture):
        return {
            "check_estimators_dtypes": few(20, 5, 20),
            "check_dtype_object": few(56, 10, 65),
            "check_n_features_in_after_fitting": few(15, 4, 14),
            "check_estimators_nan_inf": few(10, 3, 9) + " (the NaN and inf messages are tested in tests/)",
        }
    if isinstance(estimator, PolymomLinearRegressionMixture):
        return {
            "check_estimators_dtypes": few(20, 5, 12),
            "check_n_features_in_after_fitting": few(15, 4, 10),
            "check_estimators_nan_inf": few(10, 3, 8) + " (the NaN and inf messages are tested in tests/)",
            "check_regressors_no_decision_function": few(10, 4, 10),
        }
    return {}


def _check_refine(refine: str | None, X: Any) -> None:
    if refine not in REFINE:
        raise ModelError(f"refine must be None or 'em', got {refine!r}")
    if refine == "em" and is_dask_array(X):
        raise ModelError("refine='em' needs the data in memory (EM passes over it at every iteration); "
                         "pass a numpy array, or fit without refine")


def _check_finite(X: np.ndarray, what: str = "X") -> None:
    """Name the first non-finite entry (scikit-learn's checks look for 'NaN' or 'inf' in the text)."""
    bad = ~np.isfinite(X)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        v = float(X[row, col])
        kind = "NaN" if np.isnan(v) else "inf"
        raise ModelError(
            f"{what} contains {kind}: the value {v!r} in row {row}, column {col} "
            f"({int(bad.any(axis=1).sum())} row(s) in all); remove or impute those rows "
            "(e.g. sklearn.impute.SimpleImputer in a Pipeline) before fitting")


def _moment_set(name: str, candidates: Sequence[tuple[int, int]], unknowns: int, n_samples: int,
                K: int) -> tuple[int, int]:
    """The first ``(degree, N)`` of ``candidates`` (largest first) that the sample supports.

    Supported: ``n_samples >= max(2N, 10)`` (the robust form's weighting is the inverse
    sample covariance of the N observation functions) and ``N >= unknowns``, the free
    parameters of K components (fewer moments cannot identify them). Raises a
    ModelError naming the smallest need when none qualifies.
    """
    ok = [(d, N) for d, N in candidates if N >= unknowns]
    for d, N in ok:
        if n_samples >= min_samples(N):
            return d, N
    if not ok:
        raise ModelError(f"{name}: no moment set of degree <= {candidates[0][0]} identifies K={K} components "
                         f"({unknowns} free parameters); pass fewer components")
    d, N = ok[-1]
    raise ModelError(
        f"{name}: X has {n_samples} samples, but K={K} components need at least {min_samples(N)} "
        f"(the {N} moments of degree {d}, the fewest that identify them); collect more data "
        "or pass fewer components")


def _announce_lower_degree(name: str, n_samples: int, default: tuple[int, int], used: tuple[int, int],
                           K: int) -> None:
    """A smaller moment set than the model's default: logged; a warning when K > 1 (it may not identify)."""
    msg = (f"{name}: {n_samples} samples are too few for the {default[1]} moments of degree {default[0]} "
           f"(at least {min_samples(default[1])} needed); estimated from the {used[1]} moments of degree "
           f"{used[0]}")
    if K > 1:
        msg += f", which may not identify K={K} components; collect more data"
        logger.warning(msg)
        warnings.warn(msg, RuntimeWarning, stacklevel=4)
    else:
        logger.info(msg)


@contextlib.contextmanager
def _verbose_logging(verbose: int) -> Iterator[None]:
    """While fitting with ``verbose > 0``: show the ``polymom_apps`` and ``gmp`` log on stderr
    (INFO at 1, DEBUG from 2), as scikit-learn estimators print their progress."""
    if not verbose:
        yield
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("[%(name)s] %(message)s"))
    level = logging.INFO if verbose == 1 else logging.DEBUG
    saved = []
    for name in ("polymom_apps", "gmp"):
        lg = logging.getLogger(name)
        saved.append((lg, lg.level))
        lg.addHandler(handler)
        if lg.level == logging.NOTSET or lg.level > level:
            lg.setLevel(level)
    try:
        yield
    finally:
        for lg, lvl in saved:
            lg.removeHandler(handler)
            lg.setLevel(lvl)


def em_mean_constraints(constraints: Any, parameters: Sequence[Polynomial],
                        D: int) -> tuple[np.ndarray, np.ndarray] | None:
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


class _PolymomBase(BaseEstimator):
    """Shared plumbing: input validation (numpy, pandas or dask), the fitted check, verbose logging."""

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "weights_")

    def _check_fitted(self) -> None:
        try:
            check_is_fitted(self, msg=f"this {type(self).__name__} is not fitted yet; call fit first")
        except _SklearnNotFittedError as exc:
            raise NotFittedError(str(exc)) from None

    def _validate_X(self, X: Any, *, reset: bool, y: Any = None, supervised: bool = False) -> Any:
        """``X`` (and ``y``) validated by scikit-learn's ``validate_data``; a dask array stays lazy
        (its checks run chunk by chunk in :func:`polymom_apps.estimate`)."""
        if supervised and y is None:
            raise ModelError(f"{type(self).__name__} requires y to be passed, but the target y is None; "
                             "call fit(X, y) with y of shape (n_samples,)")
        if is_dask_array(X) or is_dask_array(y):
            if not reset:
                X = np.asarray(X)   # predicting: the rows are needed anyway
            else:
                validate_data(self, X, skip_check_array=True, reset=True)
                if X.ndim != 2:
                    raise ModelError(f"X must be a 2-d array of shape (n_samples, n_features), got "
                                     f"shape {X.shape}")
                return (X, y) if y is not None else X
        try:
            if y is None:
                X = validate_data(self, X, reset=reset, dtype=np.float64, ensure_all_finite=False)
            else:
                X, y = validate_data(self, X, y, reset=reset, dtype=np.float64, ensure_all_finite=False,
                                     y_numeric=True)
        except ModelError:
            raise
        except ValueError as exc:   # scikit-learn's text (its checks read it), as a gmp error
            raise ModelError(str(exc)) from exc
        _check_finite(X)
        if y is None:
            return X
        _check_finite(np.asarray(y, float)[:, None], "y")
        return X, y

    def _estimate(self, spec: MixtureSpec, Z: Any, constraints: Any = ()) -> EstimateResult:
        _check_refine(self.refine, Z)
        t0 = time.perf_counter()
        logger.info("%s: K=%s on %d samples x %d columns, method=%s", type(self).__name__,
                    self.n_components, Z.shape[0], Z.shape[1], self.method)
        res = estimate(spec, Z, self.n_components, constraints=constraints, backend=self.backend,
                       method=self.method, random_state=self.random_state)
        logger.info("%s: %s in %.3g s (order %d, backend %s)", type(self).__name__,
                    "estimated" if res.success else res.status.value, time.perf_counter() - t0,
                    res.order, getattr(res.gmp_result, "backend", "?"))
        return res


class PolymomGaussianMixture(DensityMixin, _PolymomBase):
    """Gaussian mixture estimated by Polymom (method of moments as a GMP) [WCL15].

    A density estimator in scikit-learn's sense: ``score`` is the mean log-likelihood per
    sample, so ``GridSearchCV`` and ``cross_val_score`` choose and compare models by the
    held-out likelihood.

    Parameters
    ----------
    n_components : int
        K.
    covariance_type : {"spherical", "diag"}
    constraints : callable ``parameters -> sequence of constraints``, optional
        Constraints on one component's parameters in the data's units, built from the
        spec's parameter variables (means first, then variances), e.g.
        ``lambda p: [p[0] + p[1] == 1]``. A module-level function keeps the estimator
        picklable (a lambda does not pickle).
    degree : int or None
        Largest degree of the monomial observation functions (in 1-d: the number of
        powers ``x, ..., x^degree``). None: the paper's, 4 (1-d: ``max(6, 3K - 1)``),
        lowered on a sample too small for it to the largest degree with at least
        ``2N`` samples for its N moments (the robust form inverts their sample
        covariance) and as many moments as free parameters; a warning says so when
        K > 1 (fewer moments may not identify the components). ``degree_`` is the one used.
    method : {"robust", "exact"}
        See :func:`polymom_apps.estimate`.
    backend : str or Backend, optional
        gmp backend (default: gmp's selection).
    random_state : int or None
        Seeds the atom extraction and :meth:`sample`.
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
    verbose : int
        0: silent; 1: log the fit's steps (order, backend, timings) to stderr; 2: and
        gmp's debug messages. The same messages go to ``logging.getLogger("polymom_apps")``
        and ``"gmp"`` at any verbosity.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components,)
    means_ : ndarray of shape (n_components, n_features)
    covariances_ : ndarray of shape (n_components,) or (n_components, n_features)
        Variances: one per component (``"spherical"``) or per component and feature (``"diag"``).
    converged_ : bool
        Polymom succeeded (and, with ``refine="em"``, EM converged).
    degree_ : int
        The observation degree used (see ``degree``).
    n_parameters_ : int
        Free parameters (:func:`polymom_apps.estimate.free_parameters`; after
        ``refine="em"``, with only the constraints EM keeps), used by ``bic`` and ``aic``.
    result_ : EstimateResult
        Polymom's estimate (before the refinement).
    em_ : polymom_apps.em.GaussianEM or None
        The refinement (``refine="em"``): its log-likelihood history, iterations, and the
        residual of the mean constraints it kept.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Column names, when ``X`` was a data frame with string column names.
    """

    def __init__(self, n_components: int = 1, *, covariance_type: str = "spherical",
                 constraints: Callable[[tuple[Polynomial, ...]], Sequence[Constraint | Tied]] | None = None,
                 degree: int | None = None, method: str = DEFAULT_METHOD, backend: str | Backend | None = None,
                 random_state: np.random.Generator | int | None = None, refine: str | None = None,
                 verbose: int = 0):
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.degree = degree
        self.constraints = constraints
        self.method = method
        self.backend = backend
        self.random_state = random_state
        self.refine = refine
        self.verbose = verbose

    def _degrees(self, n_features: int) -> list[int]:
        if self.degree is not None:
            if isinstance(self.degree, bool) or not isinstance(self.degree, (int, np.integer)) or self.degree < 2:
                raise ModelError(f"degree must be an integer >= 2 or None, got {self.degree!r}")
            return [int(self.degree)]
        if n_features == 1:
            return list(range(max(6, 3 * int(self.n_components) - 1), 1, -1))
        return [4, 3, 2]

    def make_spec(self, n_features: int, degree: int | None = None) -> MixtureSpec:
        """The model spec for ``n_features`` columns and observation ``degree``.

        ``degree`` defaults to the estimator's, or the paper's: monomials of degree <= 4,
        and in 1-d the first ``max(6, 3K - 1)`` powers.
        """
        if self.covariance_type not in ("spherical", "diag"):
            raise ModelError(f"covariance_type must be 'spherical' or 'diag', got {self.covariance_type!r}")
        d = self._degrees(n_features)[0] if degree is None else int(degree)
        if n_features == 1:
            return gaussian_1d(d)
        return gaussian_nd(n_features, self.covariance_type, degree=d)

    @property
    def spec_(self) -> MixtureSpec:
        """The model spec of the fit (rebuilt on access: specs hold closures that do not pickle)."""
        self._check_fitted()
        return self.make_spec(self.n_features_in_, self.degree_)

    def _constraints(self, spec: MixtureSpec) -> Sequence[Constraint | Tied]:
        cons = () if self.constraints is None else self.constraints
        return cons(spec.parameters) if callable(cons) else cons

    def fit(self, X: Any, y: Any = None) -> PolymomGaussianMixture:
        """Estimate the mixture from ``X``.

        Parameters
        ----------
        X : array_like, data frame or dask array of shape (n_samples, n_features)
            A dask array is never loaded whole (see :func:`polymom_apps.estimate`).
        y : None
            Ignored.

        Returns
        -------
        self
        """
        with _verbose_logging(self.verbose):
            return self._fit(X)

    def _fit(self, X: Any) -> PolymomGaussianMixture:
        X = self._validate_X(X, reset=True)
        D = X.shape[1]
        K = check_k(self.n_components)
        degrees = self._degrees(D)
        cands = [(d, d if D == 1 else count(D, d) - 1) for d in degrees]   # (degree, number of moments)
        low = self.make_spec(D, degrees[-1])          # the cheapest spec: the same parameters at every degree
        unknowns = free_parameters(low, K, self._constraints(low))
        degree, N = _moment_set(type(self).__name__, cands, unknowns, X.shape[0], K)
        self.degree_ = degree
        if degree != cands[0][0]:
            _announce_lower_degree(type(self).__name__, X.shape[0], cands[0], (degree, N), K)
        spec = low if degree == degrees[-1] else self.make_spec(D, degree)
        cons = self._constraints(spec)
        res = self._estimate(spec, X, cons)
        self.result_, self.em_ = res, None
        self.converged_ = bool(res.success)
        n_parameters = free_parameters(spec, K, cons)
        why = None if res.success else res.message
        if why is None:
            P = res.params
            means = P[:, :D].copy()
            if D == 1:
                var = P[:, 1]
                cov = var.copy() if self.covariance_type == "spherical" else var[:, None].copy()
            else:
                cov = P[:, D].copy() if self.covariance_type == "spherical" else P[:, D:].copy()
            if np.any(cov <= 0):   # never an estimate: a Gaussian mixture with a variance <= 0
                why = "an estimated variance is not positive"
                self.converged_ = False
        if why is not None:
            msg = (f"Polymom did not produce {K} components ({why}); attributes are NaN. Try "
                   "method='robust', fewer components, or more data")
            logger.warning(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
            self.n_parameters_ = n_parameters
            self.means_ = np.full((K, D), np.nan)
            self.covariances_ = np.full((K,) if self.covariance_type == "spherical" else (K, D), np.nan)
            self.weights_ = np.full(K, np.nan)
            return self
        self.n_parameters_, self.means_, self.covariances_ = n_parameters, means, cov
        self.weights_ = res.weights.copy()
        if self.refine == "em":
            self._refine_em(np.asarray(X, dtype=float), cons, spec.parameters)
        return self

    def _refine_em(self, X: np.ndarray, constraints: Sequence[Constraint | Tied],
                   parameters: Sequence[Polynomial]) -> None:
        D = self.n_features_in_
        cov = self.covariance_type
        mean_constraint = em_mean_constraints(constraints, parameters, D)
        K, kept = self.weights_.size, 0 if mean_constraint is None else np.linalg.matrix_rank(mean_constraint[0])
        self.n_parameters_ = K * (len(parameters) - int(kept)) + K - 1     # EM keeps only these equalities
        t0 = time.perf_counter()
        starts = gaussian_starts(self.result_, cov)    # the estimate, then Poly's other candidate fits
        fit = em_gaussian_mixture_starts(X, starts, covariance_type=cov, mean_constraint=mean_constraint,
                                         **TO_MAXIMUM)
        logger.info("refine='em': %d iterations in %.3g s, mean log-likelihood %.6g (converged: %s)",
                    fit.n_iter, time.perf_counter() - t0, fit.log_likelihood, fit.converged)
        self.em_ = fit
        self.weights_, self.means_ = fit.weights.copy(), fit.means.copy()
        self.covariances_ = fit.variances.copy()
        self.converged_ = bool(fit.converged)

    def _variances(self) -> np.ndarray:
        v = self.covariances_
        return np.repeat(v[:, None], self.n_features_in_, axis=1) if v.ndim == 1 else v

    def _log_joint(self, X: ArrayLike) -> np.ndarray:
        self._check_fitted()
        X = self._validate_X(X, reset=False)
        var = np.maximum(self._variances(), 1e-12)
        d = X[:, None, :] - self.means_[None]
        logp = -0.5 * np.sum(d**2 / var + np.log(2 * np.pi * var), axis=2)
        return logp + np.log(np.maximum(self.weights_, 1e-300))

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Posterior probability of each component, shape (n_samples, n_components)."""
        lj = self._log_joint(X)
        lj -= lj.max(axis=1, keepdims=True)
        p = np.exp(lj)
        return p / p.sum(axis=1, keepdims=True)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The most probable component of each sample, shape (n_samples,)."""
        return np.argmax(self._log_joint(X), axis=1)

    def fit_predict(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit(X)``, then the component of each sample."""
        return self.fit(X).predict(X)

    def sample(self, n_samples: int = 1,
               random_state: np.random.Generator | int | None = None) -> tuple[np.ndarray, np.ndarray]:
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

    def score_samples(self, X: ArrayLike) -> np.ndarray:
        """Log-likelihood of each sample under the fitted mixture, shape (n_samples,)."""
        lj = self._log_joint(X)
        mx = lj.max(axis=1, keepdims=True)
        return mx[:, 0] + np.log(np.exp(lj - mx).sum(axis=1))

    def score(self, X: ArrayLike, y: Any = None) -> float:
        """Mean log-likelihood per sample (higher is better): what model selection maximizes."""
        return float(np.mean(self.score_samples(X)))

    def bic(self, X: ArrayLike) -> float:
        """Bayesian information criterion on ``X``, ``-2 log L + n_parameters_ log n`` (lower is better)."""
        ll = self.score_samples(X)
        return float(-2.0 * ll.sum() + self.n_parameters_ * np.log(ll.size))

    def aic(self, X: ArrayLike) -> float:
        """Akaike information criterion on ``X``, ``-2 log L + 2 n_parameters_`` (lower is better)."""
        return float(-2.0 * self.score_samples(X).sum() + 2.0 * self.n_parameters_)


class PolymomLinearRegressionMixture(RegressorMixin, _PolymomBase):
    """Mixture of linear regressions ``y = w_k . x + N(0, sigma_k^2)`` estimated by Polymom.

    A regressor in scikit-learn's sense. The component of a sample is hidden and
    independent of ``x``, so the prediction that minimizes the expected squared error is
    the mixture's conditional mean ``E[y | x] = sum_k pi_k w_k . x`` (:meth:`predict`),
    and :meth:`score` is the R^2 of that prediction (scikit-learn's ``RegressorMixin``).
    With well separated lines that mean lies between them, so R^2 can be low even for a
    perfect fit; :meth:`predict_components` gives each line's prediction and
    :meth:`log_likelihood` the fit's mean log-likelihood.

    Parameters
    ----------
    n_components : int
    noise_std : float or None
        Known noise standard deviation; None estimates a noise variance per component.
    degree : int or None
        Observation functions ``x^alpha y^b`` with ``|alpha| <= degree`` and
        ``1 <= b <= max(degree, 2)``. None: 3, lowered on a small sample as in
        :class:`PolymomGaussianMixture` (``degree_`` is the one used).
    method, backend, random_state, verbose : see :class:`PolymomGaussianMixture`
    refine : {None, "em"}
        ``"em"``: after Polymom, run EM (:func:`polymom_apps.em.em_linear_regressions`,
        one start from the Polymom estimate, accelerated, :data:`polymom_apps.em.TO_MAXIMUM`)
        to the nearby likelihood maximum ("Poly + EM"). Needs in-memory data.

    Attributes
    ----------
    coef_ : ndarray of shape (n_components, n_features)
    degree_ : int
    noise_variance_ : ndarray of shape (n_components,)
    weights_ : ndarray of shape (n_components,)
    converged_ : bool
        Polymom succeeded (and, with ``refine="em"``, EM converged).
    result_ : EstimateResult
        Polymom's estimate (before the refinement).
    em_ : RegressionEM or None
        The refinement (``refine="em"``).
    n_features_in_ : int
    feature_names_in_ : ndarray of shape ``(n_features_in_,)``
        Column names, when ``X`` was a data frame with string column names.
    """

    def __init__(self, n_components: int = 2, *, noise_std: float | None = None, degree: int | None = None,
                 method: str = DEFAULT_METHOD, backend: str | Backend | None = None,
                 random_state: np.random.Generator | int | None = None, refine: str | None = None,
                 verbose: int = 0):
        self.n_components = n_components
        self.noise_std = noise_std
        self.degree = degree
        self.method = method
        self.backend = backend
        self.random_state = random_state
        self.refine = refine
        self.verbose = verbose

    def fit(self, X: Any, y: Any) -> PolymomLinearRegressionMixture:
        """Estimate the lines, noise variances and weights.

        Parameters
        ----------
        X : array_like, data frame or dask array of shape (n_samples, n_features)
        y : array_like or dask array of shape (n_samples,)

        Returns
        -------
        self
        """
        with _verbose_logging(self.verbose):
            return self._fit(X, y)

    def _fit(self, X: Any, y: Any) -> PolymomLinearRegressionMixture:
        lazy = is_dask_array(X) or is_dask_array(y)
        if lazy and y is not None:  # keep the data out of memory: stack lazily, estimate() reduces chunk by chunk
            import dask.array as da

            X, y = da.asarray(X).astype(float), da.asarray(y).astype(float).ravel()
            if X.ndim != 2 or X.shape[0] != y.shape[0]:
                raise ModelError(f"X must have shape (n_samples, n_features) and y shape (n_samples,), "
                                 f"got {X.shape} and {y.shape}")
        X, y = self._validate_X(X, y=y, reset=True, supervised=True)
        D = X.shape[1]
        K = check_k(self.n_components)
        if self.degree is not None and (isinstance(self.degree, bool) or not isinstance(self.degree, (int, np.integer))
                                        or self.degree < 1):
            raise ModelError(f"degree must be a positive integer or None, got {self.degree!r}")
        cands = [(d, count(D, d) * max(d, 2)) for d in ([3, 2, 1] if self.degree is None else [int(self.degree)])]
        unknowns = free_parameters(linear_regression(D, self.noise_std, x_degree=1, y_degree=2), K)
        degree, N = _moment_set(type(self).__name__, cands, unknowns, X.shape[0], K)
        self.degree_ = degree
        if degree != cands[0][0]:
            _announce_lower_degree(type(self).__name__, X.shape[0], cands[0], (degree, N), K)
        spec = linear_regression(D, self.noise_std, x_degree=degree, y_degree=max(degree, 2))
        Z = da.concatenate([X, y[:, None]], axis=1) if lazy else np.column_stack([X, y])
        res = self._estimate(spec, Z)
        self.result_, self.converged_, self.em_ = res, bool(res.success), None
        if not res.success:
            msg = (f"Polymom did not produce {K} components ({res.message}); attributes are NaN. Try "
                   "method='robust' or more data")
            logger.warning(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=3)
            self.coef_, self.noise_variance_ = np.full((K, D), np.nan), np.full(K, np.nan)
            self.weights_ = np.full(K, np.nan)
            return self
        self.coef_ = res.params[:, :D].copy()
        self.noise_variance_ = (res.params[:, D].copy() if self.noise_std is None
                                else np.full(K, float(self.noise_std) ** 2))
        self.weights_ = res.weights.copy()
        if self.refine == "em":
            fit = em_linear_regressions(X, y, K, noise_std=self.noise_std,
                                        init=(self.coef_, self.weights_, np.maximum(self.noise_variance_, 1e-10)),
                                        **TO_MAXIMUM)
            self.em_, self.converged_ = fit, bool(fit.converged)
            self.coef_, self.weights_ = fit.coef.copy(), fit.weights.copy()
            self.noise_variance_ = fit.noise_variance.copy()
        return self

    def predict_components(self, X: ArrayLike) -> np.ndarray:
        """Each line's prediction ``w_k . x``, shape (n_samples, n_components)."""
        self._check_fitted()
        X = self._validate_X(X, reset=False)
        return X @ self.coef_.T

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The conditional mean ``E[y | x] = sum_k pi_k w_k . x``, shape (n_samples,)."""
        return self.predict_components(X) @ self.weights_

    def log_likelihood(self, X: ArrayLike, y: ArrayLike) -> float:
        """Mean log-likelihood per sample of ``(X, y)`` under the fitted mixture."""
        P = self.predict_components(X)
        y = np.asarray(y, dtype=float).ravel()
        if y.shape[0] != P.shape[0]:
            raise ModelError(f"y must have shape ({P.shape[0]},) to match X, got {y.shape}")
        var = np.maximum(self.noise_variance_, 1e-12)
        lj = (-0.5 * ((y[:, None] - P) ** 2 / var + np.log(2 * np.pi * var))
              + np.log(np.maximum(self.weights_, 1e-300)))
        mx = lj.max(axis=1, keepdims=True)
        return float(np.mean(mx[:, 0] + np.log(np.exp(lj - mx).sum(axis=1))))
