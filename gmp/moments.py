"""Truncated moment sequences: ``y_a = ∫ x^a dμ`` for ``|a| <= degree``.

A :class:`MomentSequence` knows its variables and holds the moments in the graded order
of :mod:`gmp.monomials`. A missing moment is not a zero moment: moments may be unknown
(stored as NaN), and asking for one raises :class:`~gmp.errors.MissingMomentError` naming
the monomial.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import MissingMomentError, ModelError
from .monomials import basis, count, index, sum_index_table
from .polynomial import Variable, _as_variable_list, as_polynomial, monomial_values

__all__ = ["MomentSequence"]


def _mono_name(vs: Sequence[Variable], a: Sequence[int]) -> str:
    s = "*".join(v.name if e == 1 else f"{v.name}^{e}" for v, e in zip(vs, a) if e)
    return s or "1"


class MomentSequence:
    """Moments of a measure up to a total degree, in graded order.

    Parameters
    ----------
    variables : sequence of gmp variables
        Coordinates of the measure (the column order of exponents).
    degree : int
        Highest total degree held.
    values : array_like of shape (count(n, degree),)
        Moments in graded order; NaN marks a moment that is not known.

    Examples
    --------
    >>> from gmp import variables
    >>> x, y = variables("x y")
    >>> mu = MomentSequence.from_atoms([x, y], [[1, 2], [-1, 0]], [0.5, 0.5], degree=2)
    >>> mu.riesz(x * y + 1)
    2.0
    >>> mu.moment_matrix(1).shape
    (3, 3)
    """

    __slots__ = ("variables", "degree", "values")

    def __init__(self, variables: Sequence[Any], degree: int, values: Any):
        vs = _as_variable_list(variables)
        values = np.array(values, dtype=float).ravel()
        expected = count(len(vs), int(degree))
        if values.size != expected:
            raise ModelError(
                f"a moment sequence of degree {degree} in {len(vs)} variables has "
                f"{expected} moments, got {values.size} values"
            )
        if np.isinf(values).any():
            raise ModelError("moments must be finite (NaN marks an unknown moment), got inf")
        values.setflags(write=False)
        self.variables, self.degree, self.values = vs, int(degree), values

    # -- constructors ---------------------------------------------------------
    @classmethod
    def from_atoms(cls, variables: Sequence[Any], points: Any, weights: Any, degree: int) -> MomentSequence:
        """Exact moments of ``sum_j weights[j] * delta(points[j])``.

        Parameters
        ----------
        points : array_like of shape (k, n)
        weights : array_like of shape (k,)
        """
        vs = _as_variable_list(variables)
        pts = np.atleast_2d(np.asarray(points, dtype=float))
        w = np.asarray(weights, dtype=float).ravel()
        if pts.shape != (w.size, len(vs)):
            raise ModelError(
                f"points must have shape ({w.size}, {len(vs)}) for {w.size} weights and "
                f"{len(vs)} variables, got {pts.shape}"
            )
        bad_pts = np.flatnonzero(~np.all(np.isfinite(pts), axis=1))
        if bad_pts.size:
            raise ModelError(
                f"point {bad_pts[0]} is {pts[bad_pts[0]].tolist()}: every coordinate of an atom "
                "must be a finite number; remove or fix that atom"
            )
        bad_w = np.flatnonzero(~np.isfinite(w) | (w < 0))
        if bad_w.size:
            raise ModelError(
                f"weight {bad_w[0]} is {float(w[bad_w[0]])!r}: the weights of a measure must be finite "
                "and >= 0 (a signed combination of Diracs is not a measure); pass nonnegative weights"
            )
        y = w @ monomial_values(pts, basis(len(vs), degree))
        return cls(vs, degree, y)

    @classmethod
    def from_dict(
        cls, variables: Sequence[Any], moments: dict[tuple[int, ...], float], degree: int | None = None
    ) -> MomentSequence:
        """From ``{exponent tuple: value}``; moments not given are unknown (not zero)."""
        vs = _as_variable_list(variables)
        keys = np.array(list(moments.keys()), dtype=np.int64).reshape(-1, len(vs))
        deg = int(keys.sum(1).max(initial=0)) if degree is None else int(degree)
        vals = np.full(count(len(vs), deg), np.nan)
        vals[index(keys)] = list(moments.values())
        return cls(vs, deg, vals)

    # -- access -------------------------------------------------------------
    @property
    def n_vars(self) -> int:
        return len(self.variables)

    @property
    def exponents(self) -> np.ndarray:
        """Exponents of the held moments, shape (len(values), n_vars)."""
        return basis(self.n_vars, self.degree)

    @property
    def mass(self) -> float:
        return self[(0,) * self.n_vars]

    def _lookup(self, exps: np.ndarray) -> np.ndarray:
        deg = exps.sum(axis=-1)
        if (deg > self.degree).any():
            bad = exps[np.flatnonzero(deg.ravel() > self.degree)[0] if exps.ndim > 1 else 0]
            raise MissingMomentError(
                f"moment of {_mono_name(self.variables, bad)} (degree {int(bad.sum())}) is not "
                f"held: this sequence stops at degree {self.degree}"
            )
        out = self.values[index(exps)]
        if np.isnan(out).any():
            flat = exps.reshape(-1, self.n_vars)[np.flatnonzero(np.isnan(out.ravel()))[0]]
            raise MissingMomentError(
                f"moment of {_mono_name(self.variables, flat)} is unknown in this sequence "
                "(a missing moment is not zero)"
            )
        return out

    def __getitem__(self, exponent: Sequence[int]) -> float:
        a = np.asarray(exponent, dtype=np.int64)
        if a.shape != (self.n_vars,) or (a < 0).any():
            raise ModelError(
                f"expected an exponent tuple of {self.n_vars} non-negative integers, got {exponent!r}"
            )
        return float(self._lookup(a))

    def riesz(self, p: Any) -> float:
        """The Riesz functional ``L_y(p) = sum_a p_a y_a``."""
        poly = as_polynomial(p, where="riesz argument")
        exps, coefs = poly.terms_in(self.variables)
        if not coefs.size:
            return 0.0
        return float(self._lookup(exps) @ coefs)

    __call__ = riesz

    # -- matrices ------------------------------------------------------------
    def moment_matrix(self, order: int) -> np.ndarray:
        """Numeric ``M_s(y)``, shape (count(n, s), count(n, s)); needs degree >= 2s."""
        B = basis(self.n_vars, order)
        if 2 * order > self.degree:
            raise MissingMomentError(
                f"M_{order} needs moments up to degree {2 * order}; this sequence stops at {self.degree}"
            )
        return self._lookup_table(sum_index_table(B, B)[0])

    def localizing_matrix(self, g: Any, order: int) -> np.ndarray:
        """Numeric ``M_{s}(g y)[i, j] = L_y(g x^(a_i + a_j))``, rows of degree <= s."""
        poly = as_polynomial(g, where="localizing polynomial")
        exps, coefs = poly.terms_in(self.variables)
        B = basis(self.n_vars, order)
        if 2 * order + poly.degree > self.degree:
            raise MissingMomentError(
                f"the localizing matrix of order {order} for a degree-{poly.degree} polynomial "
                f"needs moments up to degree {2 * order + poly.degree}; this sequence stops at {self.degree}"
            )
        table = sum_index_table(B, B, exps)  # (T, N, N)
        vals = self.values[table]
        if np.isnan(vals).any():
            raise MissingMomentError("the localizing matrix needs moments this sequence does not know")
        return np.tensordot(coefs, vals, axes=1)

    def _lookup_table(self, table: np.ndarray) -> np.ndarray:
        vals = self.values[table]
        if np.isnan(vals).any():
            raise MissingMomentError("the moment matrix needs moments this sequence does not know")
        return vals

    def truncate(self, degree: int) -> MomentSequence:
        if degree > self.degree:
            raise MissingMomentError(f"cannot extend a degree-{self.degree} sequence to {degree}")
        return MomentSequence(self.variables, degree, self.values[: count(self.n_vars, degree)])

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{_mono_name(self.variables, a)}: {v:.6g}"
            for a, v in zip(self.exponents[:6], self.values[:6])
        )
        more = ", ..." if self.values.size > 6 else ""
        return f"MomentSequence({self.n_vars} vars, degree {self.degree}; {shown}{more})"
