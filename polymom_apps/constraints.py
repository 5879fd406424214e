"""Parameter constraints as support constraints of the parameter measure [WCL15, Sec. 3, C.1].

Helpers for equalities (linear, parabola, equal coordinates) and non-negativity, which become
localizing equalities and matrices, and :class:`Tied` for a value shared by all components,
which is not a support constraint and is profiled instead. See docs/polymom.md, "Constraints".

>>> import gmp
>>> a, b = gmp.variables("a b")
>>> parabola(a, b)
a - b^2 == 0
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gmp import Constraint, ModelError, Polynomial

from .arguments import param_index
from .spec import MixtureSpec, Standardized

__all__ = ["linear", "parabola", "equal", "nonnegative", "Tied", "split_constraints", "to_standardized"]


def linear(coefs: Sequence[float], params: Sequence[Polynomial], rhs: float) -> Constraint:
    """``sum_i coefs[i] * params[i] == rhs`` for every component (e.g. ``xi1 + xi2 == 1``)."""
    if len(coefs) != len(params):
        raise ModelError(f"linear needs one coefficient per parameter, got {len(coefs)} and {len(params)}")
    expr = sum((float(a) * p for a, p in zip(coefs, params)), 0.0 * params[0])
    return expr == rhs


def parabola(a: Polynomial, b: Polynomial, scale: float = 1.0) -> Constraint:
    """``a - scale * b**2 == 0`` for every component (the paper's ``xi1 - xi2^2 = 0``)."""
    return a - scale * b**2 == 0


def equal(a: Polynomial, b: Polynomial) -> Constraint:
    """``a == b`` within each component (equal coordinates)."""
    return a - b == 0


def nonnegative(*params: Polynomial) -> list[Constraint]:
    """``p >= 0`` for each parameter (variances): a localizing matrix each."""
    return [p >= 0 for p in params]


@dataclass(frozen=True, eq=False)
class Tied:
    """Parameter ``param`` takes the same value in every component.

    Parameters
    ----------
    param : gmp variable
        One of the spec's parameters.
    value : float or None
        Known shared value (a plain support constraint), or None to estimate it.
    bounds : (float, float) or None
        Search interval for the shared value, in the data's units; None searches
        ``[1e-3, 1]`` on the standardized scale (where a variance lies in (0, 1]).
    """

    param: Polynomial
    value: float | None = None
    bounds: tuple[float, float] | None = None

    def at(self, value: float) -> Constraint:
        return self.param == float(value)


def split_constraints(constraints: Any) -> tuple[list[Constraint], list[Tied]]:
    """Separate support constraints from :class:`Tied` objects; validate the types."""
    if constraints is None:
        return [], []
    if isinstance(constraints, (Constraint, Tied)):
        constraints = [constraints]
    support, tied = [], []
    for k, c in enumerate(constraints):
        if isinstance(c, Tied):
            (support.append(c.at(c.value)) if c.value is not None else tied.append(c))
        elif isinstance(c, Constraint):
            support.append(c)
        elif isinstance(c, (list, tuple)):
            s, t = split_constraints(c)
            support += s
            tied += t
        else:
            raise ModelError(
                f"constraint {k} must be a gmp constraint on the parameters (g >= 0, h == 0) or a "
                f"polymom_apps.constraints.Tied, got {type(c).__name__} {c!r}"
            )
    if len(tied) > 1:
        raise ModelError("at most one Tied parameter with an unknown value is supported; give value= for the others")
    return support, tied


def to_standardized(constraints: Any, spec: MixtureSpec, spec_use: MixtureSpec,
                    st: Standardized) -> list[Constraint | Tied]:
    """Rewrite constraints written in the data's units (``theta = offset + scale * theta_z``).

    ``spec`` is the model in the data's units, ``spec_use`` and ``st`` (a
    :class:`~polymom_apps.Standardized`) its standardized form and the affine map.
    """
    support, tied = split_constraints(constraints)
    if not support and not tied:
        return []
    if st.param_offset is None or st.param_scale is None:
        raise ModelError(
            f"constraints cannot be mapped to the standardized scale of the {spec.name} model; "
            "pass standardize=False and write them in the data's units"
        )
    old, new = spec.parameters, spec_use.parameters
    off, sc = np.asarray(st.param_offset, float), np.asarray(st.param_scale, float)
    images = [float(o) + float(a) * v for o, a, v in zip(off, sc, new)]

    def sub(p: Polynomial) -> Polynomial:
        e, c = p.terms_in(old)
        out = 0.0 * new[0]
        for row, coef in zip(e, c):
            term = float(coef) + 0.0 * new[0]
            for k, ek in enumerate(row):
                if ek:
                    term = term * images[k] ** int(ek)
            out = out + term
        return out

    out = []
    for c in support:
        g = sub(c.expr)
        nrm = float(np.abs(g.coefs).max()) if g.n_terms else 1.0
        g = g * (1.0 / nrm) if nrm > 0 else g          # O(1) coefficients on the standardized scale
        out.append(g == 0 if c.kind == "==" else g >= 0)
    for t in tied:
        k = param_index(old, t.param, "Tied parameter")
        b = None
        if t.bounds is not None:
            lo, hi = ((np.asarray(t.bounds, float) - off[k]) / sc[k]).tolist()
            b = (min(lo, hi), max(lo, hi))
        out.append(Tied(new[k], None if t.value is None else (t.value - off[k]) / sc[k], b))
    return out
