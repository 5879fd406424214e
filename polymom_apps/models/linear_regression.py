"""Mixture of linear regressions [WCL15, Table 2; CL13].

``y = w . x + eps``, ``eps ~ N(0, c)`` given the component, with observation functions
``x^alpha y^b`` whose moment polynomials take the sample moments ``E[x^gamma]`` as coefficients.
Data layout: ``X[:, :D]`` is ``x``, ``X[:, D]`` is ``y``. The formula and why ``b = 3`` is
included: docs/polymom.md, "Mixtures of linear regressions".
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gmp import ModelError, Polynomial, basis, variables

from ..spec import MixtureSpec, Standardized
from ..standardize import eager

__all__ = ["linear_regression", "gaussian_x_moments"]


def _dfact(n: int) -> int:
    return 1 if n <= 0 else n * _dfact(n - 2)


def gaussian_x_moments(D: int, scale: float | np.ndarray = 1.0) -> Callable[[tuple], float]:
    """``E[x^gamma]`` for ``x ~ N(0, diag(scale**2))`` (for exact-moment checks)."""
    s = np.broadcast_to(np.asarray(scale, float), (D,))

    def mom(gamma: tuple[int, ...]) -> float:
        out = 1.0
        for g, sd in zip(gamma, s):
            out *= 0.0 if g % 2 else _dfact(g - 1) * sd**g
        return out

    return mom


def linear_regression(D: int, sigma: float | None = 1.0, *, x_degree: int = 3, y_degree: int = 3,
                      x_moments: Callable[[tuple], float] | None = None) -> MixtureSpec:
    """Mixture of linear regressions spec.

    Parameters
    ----------
    D : int
        Dimension of ``x``.
    sigma : float or None
        Known noise standard deviation; None makes the noise variance ``c`` a parameter.
    x_degree, y_degree : int
        Observation functions ``x^alpha y^b``, ``|alpha| <= x_degree``, ``1 <= b <= y_degree``.
    x_moments : callable ``gamma -> E[x^gamma]``, optional
        Population moments of ``x`` used when no data is given (``spec.polys_for(None)``),
        e.g. :func:`gaussian_x_moments`.
    """
    if isinstance(D, bool) or not isinstance(D, (int, np.integer)) or D < 1:
        raise ModelError(f"D must be a positive integer, got {D!r}")
    return _build(int(D), sigma, x_degree, y_degree, x_moments, True)


def _build(D: int, sigma: float | None, x_degree: int, y_degree: int, x_moments: Callable[[tuple], float] | None,
           with_std: bool) -> MixtureSpec:
    w = variables("w", D)
    w = w if isinstance(w, tuple) else (w,)
    if sigma is None:
        c = variables("c")
        params = w + (c,)
        names = tuple(f"w{p + 1}" for p in range(D)) + ("noise_var",)
    else:
        c = float(sigma) ** 2
        params = w
        names = tuple(f"w{p + 1}" for p in range(D))
    alphas = basis(D, x_degree)
    bs = range(1, y_degree + 1)
    pairs = [(a, b) for a in alphas for b in bs]
    xexp = np.array([a for a, _ in pairs], dtype=np.int64)
    yexp = np.array([b for _, b in pairs], dtype=np.int64)
    # every E[x^gamma] a polynomial can ask for, and each polynomial's terms as arrays:
    # parameter exponents, the constant C(b,j) (b-j-1)!! multinom(j; beta) (times
    # c^((b-j)/2) when c is known), and the row of E[x^(alpha+beta)] in ``gammas``
    gammas = basis(D, x_degree + y_degree)
    row = {tuple(int(t) for t in g): i for i, g in enumerate(gammas)}
    betas = {j: [bb for bb in basis(D, j) if bb.sum() == j] for j in range(y_degree + 1)}
    terms = []
    for a, b in pairs:
        exps, const, gidx = [], [], []
        for j in range(b + 1):
            if (b - j) % 2:
                continue
            noise = math.comb(b, j) * _dfact(b - j - 1) * (c ** ((b - j) // 2) if sigma is not None else 1.0)
            for beta in betas[j]:
                mult = math.factorial(j) / np.prod([math.factorial(int(t)) for t in beta])
                exps.append(list(beta) + ([(b - j) // 2] if sigma is None else []))
                const.append(mult * noise)
                gidx.append(row[tuple(int(t) for t in a + beta)])
        terms.append((np.array(exps, dtype=np.int64), np.array(const), np.array(gidx)))
    pvars = [v.vars[0] for v in params]

    def observations(X: np.ndarray) -> np.ndarray:
        from gmp.extraction import monomial_values

        return monomial_values(X[:, :D], xexp) * X[:, D:D + 1] ** yexp

    def polys_from(ex: np.ndarray) -> list[Polynomial]:
        """The moment polynomials given ``E[x^gamma]`` for every row of ``gammas``."""
        out = []
        for exps, const, gidx in terms:
            coefs = const * ex[gidx]
            keep = coefs != 0.0
            out.append(Polynomial(pvars, exps[keep], coefs[keep]))
        return out

    def moment_polys(X: Any) -> list[Polynomial]:
        if X is None:
            if x_moments is None:
                raise ModelError(
                    "the mixture of linear regressions builds its moment polynomials from the data's "
                    "E[x^alpha]: pass data, or build the model with x_moments=... for population moments"
                )
            return polys_from(np.array([x_moments(tuple(int(t) for t in g)) for g in gammas], dtype=float))
        # every E[x^gamma] the polynomials can ask for, in one pass over the data
        from gmp.extraction import monomial_values

        from ..empirical import empirical_moments

        return polys_from(empirical_moments(lambda B: monomial_values(B[:, :D], gammas), X))

    def log_density(X: np.ndarray, p: np.ndarray) -> np.ndarray:
        """``log p(y | x, theta_k)``: the x distribution, shared by the components, is left out."""
        from .gaussian_1d import normal_log_density

        p = np.atleast_2d(p)
        noise = p[:, D:D + 1] if sigma is None else np.full((p.shape[0], 1), c)
        return normal_log_density((X[:, D:D + 1] - X[:, :D] @ p[:, :D].T)[:, :, None], noise)

    kw = dict(name=f"mixture of {D}-d linear regressions" + (" (noise variance a parameter)" if sigma is None else ""),
              data_dim=D + 1, param_names=names, support=(c >= 0,) if sigma is None else (),
              log_density=log_density)
    base = MixtureSpec(params, observations, moment_polys, **kw)
    if not with_std:
        return base

    def standardize(X: np.ndarray) -> Standardized:
        (rms,) = eager(np.sqrt(np.mean(X ** 2, axis=0)))  # one pass, also for dask data
        sx = np.where(rms[:D] > 0, rms[:D], 1.0)
        sy = float(rms[D]) or 1.0
        Z = X / np.concatenate([sx, [sy]])
        spec = base if sigma is None else _build(D, float(sigma) / sy, x_degree, y_degree, None, False)

        def back(p: np.ndarray) -> np.ndarray:
            out = np.array(p, dtype=float)
            out[:, :D] = out[:, :D] * sy / sx
            if sigma is None:
                out[:, D] = out[:, D] * sy**2
            return out

        sc = list(sy / sx) + ([sy**2] if sigma is None else [])
        return Standardized(Z, spec, back, "x and y scaled (not shifted)", np.zeros(len(sc)), np.array(sc))

    return MixtureSpec(params, observations, moment_polys, standardize=standardize, **kw)
