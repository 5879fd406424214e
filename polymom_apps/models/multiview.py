"""Multiview mixtures with 3 views [WCL15, Table 2; AGHKT14].

``x = [x1, x2, x3]``, each view in ``R^D``, conditionally independent given the
component, with conditional means ``xi^(1), xi^(2), xi^(3)`` (distributions otherwise
unspecified). Parameters ``theta = (a_1..a_D, b_1..b_D, d_1..d_D)`` (the three means).

Observation functions and moment polynomials (conditional independence)::

    x1_i -> a_i,  x2_j -> b_j,  x3_k -> d_k,
    x1_i x2_j -> a_i b_j,  x1_i x3_k -> a_i d_k,  x2_j x3_k -> b_j d_k,
    x1_i x2_j x3_k -> a_i b_j d_k.

Data layout: ``X[:, :D]`` view 1, ``X[:, D:2D]`` view 2, ``X[:, 2D:]`` view 3.

Moment sub-basis: every moment polynomial is multilinear across the views, so the
relaxation keeps only the principal submatrix of ``M_r`` on the monomials of degree
``<= 1`` in each view (``spec.moment_basis``; :mod:`gmp.subbasis`). For D = 3 and
``r = 2`` that is 37 of the 55 monomials and 460 of the 715 moments; the products
``a_i (b_j d_k)`` give each variable the pairs ``(u, a_i u)`` the atoms are read from.
``estimate(..., basis="full")`` uses the whole ``M_r``.
"""
from __future__ import annotations

import itertools

import numpy as np

from gmp import ModelError, basis, variables

from ..spec import MixtureSpec, Standardized
from ..standardize import Affine

__all__ = ["multiview"]


def multiview(D: int, *, lower_order: bool = True) -> MixtureSpec:
    """Three-view mixture spec (``lower_order`` adds the first and second cross moments)."""
    if isinstance(D, bool) or not isinstance(D, (int, np.integer)) or D < 1:
        raise ModelError(f"D must be a positive integer, got {D!r}")
    D = int(D)
    views = [variables(v, D) for v in ("a", "b", "d")]
    views = [v if isinstance(v, tuple) else (v,) for v in views]
    params = views[0] + views[1] + views[2]
    names = tuple(f"view{v + 1}_mean{i + 1}" for v in range(3) for i in range(D))
    cols: list[tuple[int, ...]] = []   # column indices into X of each observation function
    polys = []
    subsets = [(0,), (1,), (2,), (0, 1), (0, 2), (1, 2), (0, 1, 2)] if lower_order else [(0, 1, 2)]
    for views_used in subsets:
        for idx in itertools.product(range(D), repeat=len(views_used)):
            cols.append(tuple(v * D + i for v, i in zip(views_used, idx)))
            f = 1.0
            for v, i in zip(views_used, idx):
                f = f * views[v][i]
            polys.append(f)
    col_arr = [np.array(c) for c in cols]

    def observations(X: np.ndarray) -> np.ndarray:
        return np.column_stack([np.prod(X[:, c], axis=1) for c in col_arr])

    # exact moment equalities by default: each f_n is a distinct monomial, so they only fix
    # moments and stay feasible on sample moments; 2.5x faster than the robust form at the
    # same error (docs/polymom.md)
    view = np.repeat(np.arange(3), D)

    def per_view_linear(r: int) -> np.ndarray:
        """The monomials of degree <= r with degree <= 1 in each view."""
        B = basis(3 * D, r)
        per_view = np.stack([B[:, view == v].sum(axis=1) for v in range(3)], axis=1)
        return B[per_view.max(axis=1) <= 1]

    kw = dict(name=f"3-view mixture (D={D})", data_dim=3 * D, param_names=names, default_method="exact",
              moment_basis=per_view_linear)
    base = MixtureSpec(params, observations, polys, **kw)

    def standardize(X: np.ndarray) -> Standardized:
        a = Affine.fit(X)

        def back(p: np.ndarray) -> np.ndarray:
            return a.location_back(np.asarray(p, dtype=float))

        return Standardized(a.apply(X), base, back, "per-coordinate shift and scale", a.shift, a.scale)

    return MixtureSpec(params, observations, polys, standardize=standardize, **kw)
