"""Mixture of D-dimensional Gaussians with diagonal, spherical or known covariance [WCL15, Table 2].

``x ~ N(xi, diag(c))``, observation functions the monomials ``x^alpha`` with
``1 <= |alpha| <= degree``, moment polynomials products of 1-d Gaussian moments per coordinate
(docs/polymom.md, "Gaussians in D dimensions").
"""
from __future__ import annotations

import numpy as np

from gmp import basis, variables

from ..empirical import monomial_features
from ..spec import MixtureSpec, Standardized
from ..standardize import Affine
from .gaussian_1d import gaussian_moment_poly, normal_log_density

__all__ = ["gaussian_nd"]


def gaussian_nd(D: int, covariance_type: str = "diag", *, degree: int = 4,
                variance: float | np.ndarray = 1.0) -> MixtureSpec:
    """The D-dimensional Gaussian mixture spec.

    Parameters
    ----------
    D : int
        Data dimension.
    covariance_type : {"diag", "spherical", "known"}
        The parameters: ``(xi1..xiD, c1..cD)``, ``(xi1..xiD, c)`` or ``(xi1..xiD)``.
    degree : int
        Largest total degree of the monomial observation functions.
    variance : float or ndarray of shape (D,)
        Per-coordinate variance when ``covariance_type="known"``.

    Returns
    -------
    MixtureSpec
        Parameters: means ``xi1..xiD`` then variances (``c1..cD``, or ``c``).
    """
    from gmp import ModelError

    if covariance_type not in ("diag", "spherical", "known"):
        raise ModelError(f"covariance_type must be 'diag', 'spherical' or 'known', got {covariance_type!r}")
    if isinstance(D, bool) or not isinstance(D, (int, np.integer)) or D < 1:
        raise ModelError(f"D must be a positive integer, got {D!r}")
    return _build(int(D), covariance_type, int(degree), np.broadcast_to(np.asarray(variance, float), (D,)).copy(), True)


def _build(D: int, covariance_type: str, degree: int, variance: np.ndarray, with_standardize: bool) -> MixtureSpec:
    xi = variables("xi", D)
    xi = xi if isinstance(xi, tuple) else (xi,)
    if covariance_type == "diag":
        cs = variables("c", D)
        cs = cs if isinstance(cs, tuple) else (cs,)
        params, cvals = xi + cs, cs
        names = tuple(f"mean{d + 1}" for d in range(D)) + tuple(f"var{d + 1}" for d in range(D))
    elif covariance_type == "spherical":
        c = variables("c")
        params, cvals = xi + (c,), (c,) * D
        names = tuple(f"mean{d + 1}" for d in range(D)) + ("var",)
    else:
        params, cvals = xi, tuple(float(v) for v in variance)
        names = tuple(f"mean{d + 1}" for d in range(D))
    exps = basis(D, degree)[1:]
    polys = []
    for a in exps:
        f = 1.0
        for d in range(D):
            if a[d]:
                f = f * gaussian_moment_poly(int(a[d]), xi[d], cvals[d])
        polys.append(f)
    name = f"{D}-d Gaussian ({covariance_type} covariance)"
    var_params = params[D:]

    def log_density(X: np.ndarray, p: np.ndarray) -> np.ndarray:
        p = np.atleast_2d(p)
        if covariance_type == "diag":
            V = p[:, D:]
        elif covariance_type == "spherical":
            V = np.repeat(p[:, D:D + 1], D, axis=1)
        else:
            V = np.broadcast_to(variance, p[:, :D].shape)
        return normal_log_density(X[:, None, :] - p[None, :, :D], V)

    spec_kw = dict(name=name, data_dim=D, param_names=names, support=tuple(v >= 0 for v in var_params),
                   log_density=log_density)
    base = MixtureSpec(params, monomial_features(exps), polys, **spec_kw)
    if not with_standardize:
        return base

    def standardize(X: np.ndarray) -> Standardized:
        common = covariance_type != "diag"
        a = Affine.fit(X, common_scale=common)
        spec = base
        if covariance_type == "known":
            spec = _build(D, "known", degree, variance / a.scale**2, False)

        def back(p: np.ndarray) -> np.ndarray:
            out = np.array(p, dtype=float)
            out[:, :D] = a.location_back(out[:, :D])
            if covariance_type == "diag":
                out[:, D:] = a.variance_back(out[:, D:])
            elif covariance_type == "spherical":
                out[:, D] = out[:, D] * a.scale[0] ** 2
            return out

        off, sc = list(a.shift), list(a.scale)
        if covariance_type == "diag":
            off, sc = off + [0.0] * D, sc + list(a.scale**2)
        elif covariance_type == "spherical":
            off, sc = off + [0.0], sc + [a.scale[0] ** 2]
        return Standardized(a.apply(X), spec, back, "per-coordinate shift and scale", np.array(off), np.array(sc))

    return MixtureSpec(params, monomial_features(exps), polys, standardize=standardize, **spec_kw)
