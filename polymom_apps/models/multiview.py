"""Multiview mixtures with 3 views [WCL15, Table 2; AGHKT14].

Three conditionally independent views with the component's means ``a, b, d`` as parameters;
the moment polynomials are the products ``a_i``, ``a_i b_j``, ``a_i b_j d_k``, and the relaxation
uses the moment sub-basis of monomials of degree ``<= 1`` in each view. Data layout: ``X[:, :D]``
view 1, ``X[:, D:2D]`` view 2, ``X[:, 2D:]`` view 3. See docs/polymom.md, "Multiview mixtures".
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
    # moments and stay feasible on sample moments; faster than the robust form at the same
    # error (docs/polymom.md, "Exact equalities or robust")
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
