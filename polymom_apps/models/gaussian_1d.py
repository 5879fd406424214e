"""Mixture of 1-d Gaussians: ``x ~ N(xi, c)``, parameters ``theta = (xi, c)`` (mean, variance).

Observation functions ``x^k``; the moment polynomials ``h_k(xi, c) = E[x^k | xi, c]`` follow
from a recursion [WCL15, Table 2] (docs/polymom.md, "1-d Gaussians").

>>> import gmp
>>> xi, c = gmp.variables("xi c")
>>> gaussian_moment_poly(4, xi, c)
3*c^2 + 6*xi^2*c + xi^4
"""
from __future__ import annotations

import numpy as np

from gmp import Polynomial, variables

from ..spec import MixtureSpec, Standardized
from ..standardize import Affine

__all__ = ["gaussian_moment_poly", "gaussian_1d", "normal_log_density"]


def gaussian_moment_poly(k: int, xi: Polynomial | float, c: Polynomial | float) -> Polynomial | float:
    """``E[x^k]`` for ``x ~ N(xi, c)`` as a polynomial in ``xi`` and ``c`` (or numbers)."""
    h_prev, h = 1.0, xi
    if k == 0:
        return 1.0 + 0 * xi
    for j in range(2, k + 1):
        h_prev, h = h, xi * h + (j - 1) * c * h_prev
    return h


def normal_log_density(R: np.ndarray, variances: np.ndarray) -> np.ndarray:
    """``sum_d log N(R[t, k, d]; 0, variances[k, d])`` of shape (T, K).

    ``R`` (T, K, D) holds the deviations ``x_t - mean_k``; ``variances`` (K, D). A
    component with a variance that is not positive has density 0 (log -inf).
    """
    V = np.asarray(variances, dtype=float)
    ok = np.all(V > 0, axis=1)
    Vs = np.where(V > 0, V, 1.0)
    out = -0.5 * (np.sum(R ** 2 / Vs, axis=2) + np.sum(np.log(2 * np.pi * Vs), axis=1))
    return np.where(ok, out, -np.inf)


def _log_density(X: np.ndarray, params: np.ndarray) -> np.ndarray:
    p = np.atleast_2d(params)
    return normal_log_density(X[:, None, :1] - p[None, :, :1], p[:, 1:2])


def gaussian_1d(n_moments: int = 6) -> MixtureSpec:
    """The 1-d Gaussian mixture with observation functions ``x, x^2, ..., x^n_moments``.

    Parameters
    ----------
    n_moments : int
        Number of moments (6 for Pearson's two-component mixture; ``3K - 1`` (the
        number of unknowns) or more for K components: K = 3 is recovered
        from 8, 9 or 10 exact moments; K = 4 is too ill-conditioned, see docs/polymom.md).

    The variance is constrained ``c >= 0`` (``spec.support``): without it the trace
    relaxation puts atoms at negative variances (K = 3; docs/polymom.md, "Why the polish").

    Returns
    -------
    MixtureSpec
        Parameters ``(xi, c)``; data of shape (T, 1).
    """
    xi, c = variables("xi c")
    ks = np.arange(1, n_moments + 1)

    def observations(X: np.ndarray) -> np.ndarray:
        return X[:, :1] ** ks

    polys = [gaussian_moment_poly(int(k), xi, c) for k in ks]
    base = MixtureSpec((xi, c), observations, polys, name="1-d Gaussian", data_dim=1,
                       param_names=("mean", "variance"), support=(c >= 0,), log_density=_log_density)

    def standardize(X: np.ndarray) -> Standardized:
        a = Affine.fit(X)

        def back(params: np.ndarray) -> np.ndarray:
            out = np.array(params, dtype=float)
            out[:, 0] = a.location_back(out[:, 0])
            out[:, 1] = a.variance_back(out[:, 1])
            return out

        return Standardized(a.apply(X), base, back, f"x -> (x - {a.shift[0]:.4g}) / {a.scale[0]:.4g}",
                            np.array([a.shift[0], 0.0]), np.array([a.scale[0], a.scale[0] ** 2]))

    return MixtureSpec((xi, c), observations, polys, name="1-d Gaussian", data_dim=1,
                       standardize=standardize, param_names=("mean", "variance"), support=(c >= 0,),
                       log_density=_log_density)
