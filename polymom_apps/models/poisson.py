"""Mixtures of (products of) Poisson distributions [JK05, Ch. 4].

Observation functions are products of factorial moments, whose expectations are monomials in
the rates; the data are not standardized (docs/polymom.md, "Poisson mixtures").
"""
from __future__ import annotations

import numpy as np

from gmp import ModelError, basis, variables

from ..spec import MixtureSpec

__all__ = ["poisson"]


def _falling(x: np.ndarray, k: int) -> np.ndarray:
    out = np.ones_like(x)
    for j in range(k):
        out = out * (x - j)
    return out


def poisson(D: int = 1, degree: int = 4) -> MixtureSpec:
    """Poisson mixture spec with factorial moments up to total degree ``degree``."""
    if isinstance(D, bool) or not isinstance(D, (int, np.integer)) or D < 1:
        raise ModelError(f"D must be a positive integer, got {D!r}")
    lam = variables("lam", int(D)) if D > 1 else (variables("lam"),)
    exps = basis(int(D), int(degree))[1:]

    def observations(X: np.ndarray) -> np.ndarray:
        cols = []
        for a in exps:
            v = np.ones(X.shape[0])
            for d in range(X.shape[1]):
                if a[d]:
                    v = v * _falling(X[:, d], int(a[d]))
            cols.append(v)
        return np.column_stack(cols)

    polys = []
    for a in exps:
        f = 1.0
        for d in range(int(D)):
            if a[d]:
                f = f * lam[d] ** int(a[d])
        polys.append(f)
    names = tuple(f"rate{d + 1}" for d in range(int(D))) if D > 1 else ("rate",)

    def log_density(X: np.ndarray, rates: np.ndarray) -> np.ndarray:
        from scipy.special import gammaln, xlogy

        L = np.atleast_2d(rates)
        ok = np.all(L >= 0, axis=1)
        Ls = np.where(L >= 0, L, 0.0)
        out = (xlogy(X[:, None, :], Ls[None]) - Ls[None] - gammaln(X[:, None, :] + 1)).sum(axis=2)
        return np.where(ok, out, -np.inf)

    return MixtureSpec(tuple(lam), observations, polys, name=f"{D}-d Poisson", data_dim=int(D), param_names=names,
                       support=tuple(v >= 0 for v in lam), log_density=log_density)
