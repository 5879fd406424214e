"""Numeric sparse polynomials: exponent rows and float coefficients, no sympy.

A :class:`Polynomial` holds its own tuple of variables (sorted by creation), an integer
exponent matrix and a coefficient vector; arithmetic and evaluation at many points are
array operations (docs/algorithms.md, "Relaxation and matrices").
"""
from __future__ import annotations

import itertools
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import ModelError

__all__ = ["Variable", "Polynomial", "Constraint", "variables", "as_polynomial", "from_sympy"]

_counter = itertools.count()
#: Largest total degree of a polynomial: the exponents of a product of two polynomials
#: are then sums that fit in int64 without wrapping around.
MAX_DEGREE = 2**31 - 1


def _degree_error(what: str, degree: int) -> ModelError:
    return ModelError(
        f"{what} would have total degree {degree}, above the largest supported, {MAX_DEGREE} "
        "(exponents are int64 and must not overflow); use smaller exponents"
    )


@dataclass(frozen=True, eq=False)
class Variable:
    """A symbol. Identity is by object, ordering by creation (``uid``)."""

    name: str
    uid: int

    def __repr__(self) -> str:
        return self.name

    def __lt__(self, other: Variable) -> bool:
        return self.uid < other.uid


def _check_coef(c: Any, where: str) -> float:
    if isinstance(c, bool) or not isinstance(c, numbers.Real):
        raise ModelError(
            f"{where}: expected a real number or a gmp polynomial, got {type(c).__name__} {c!r}"
        )
    c = float(c)
    if not np.isfinite(c):
        raise ModelError(f"{where}: coefficient {c!r} is not finite; use finite numbers")
    return c


class Polynomial:
    """A real polynomial ``sum_t coefs[t] * prod_i vars[i] ** exps[t, i]``.

    Build them from :func:`variables` with ``+ - * **``; they are immutable.

    Attributes
    ----------
    vars : tuple of Variable
        Variables the polynomial is written in, sorted by creation.
    exps : ndarray of int64, shape (n_terms, len(vars))
    coefs : ndarray of float, shape (n_terms,)

    Examples
    --------
    >>> x, y = variables("x y")
    >>> p = (x + 2 * y) ** 2 - 1
    >>> p.degree
    2
    >>> float(p.evaluate([[1.0, 1.0]], [x, y])[0])
    8.0
    >>> c = p >= 0          # a constraint: p >= 0
    >>> c.kind, c.expr.degree
    ('>=', 2)
    """

    __slots__ = ("vars", "exps", "coefs", "_degree")
    __array_ufunc__ = None  # numpy scalars defer to our reflected operators
    __hash__ = None  # == builds a constraint

    def __init__(self, vars_: Sequence[Variable], exps: Any, coefs: Any, *, _canonical: bool = False):
        vars_ = tuple(vars_)
        coefs = np.asarray(coefs, dtype=float).ravel()
        exps = np.asarray(exps, dtype=np.int64).reshape(coefs.size, len(vars_))
        if exps.shape[0] != coefs.size:
            raise ModelError(f"{exps.shape[0]} exponent rows but {coefs.size} coefficients")
        if not _canonical:
            if coefs.size and not np.all(np.isfinite(coefs)):
                raise ModelError(
                    f"polynomial coefficients must be finite, got {coefs[~np.isfinite(coefs)][0]!r}"
                )
            if (exps < 0).any():
                raise ModelError("exponents must be non-negative integers")
            if exps.size and exps.max() > MAX_DEGREE:
                raise _degree_error("the polynomial", int(exps.max()))
            if exps.size and exps.sum(axis=1).max() > MAX_DEGREE:  # no overflow: entries < 2**31
                raise _degree_error("the polynomial", int(exps.sum(axis=1).max()))
            vars_, exps = _sort_vars(vars_, exps)
            exps, coefs = _combine(exps, coefs)
            vars_, exps = _drop_unused(vars_, exps)
        object.__setattr__(self, "vars", vars_)
        object.__setattr__(self, "exps", exps)
        object.__setattr__(self, "coefs", coefs)
        exps.setflags(write=False)
        coefs.setflags(write=False)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("Polynomial is immutable")

    def __reduce__(self):
        """Pickle support (for process pools): rebuilt from its canonical arrays."""
        return _rebuild_polynomial, (self.vars, np.array(self.exps), np.array(self.coefs))

    # -- construction ----------------------------------------------------
    @classmethod
    def constant(cls, c: float) -> Polynomial:
        c = _check_coef(c, "constant")
        return cls((), np.zeros((1, 0), np.int64), [c])

    # -- properties ------------------------------------------------------
    @property
    def n_terms(self) -> int:
        return self.coefs.size

    @property
    def degree(self) -> int:
        """Total degree (0 for constants and for the zero polynomial)."""
        try:
            return self._degree
        except AttributeError:  # computed once: the polynomial is immutable
            object.__setattr__(self, "_degree", int(self.exps.sum(axis=1).max(initial=0)))
            return self._degree

    @property
    def is_zero(self) -> bool:
        return self.coefs.size == 0

    @property
    def constant_term(self) -> float:
        mask = self.exps.sum(axis=1) == 0
        return float(self.coefs[mask].sum())

    def is_constant(self) -> bool:
        return self.degree == 0

    def terms_in(self, variables: Sequence[Variable | Polynomial]) -> tuple[np.ndarray, np.ndarray]:
        """Exponents re-expressed over ``variables`` (in that order) and the coefficients.

        Raises :class:`ModelError` naming any variable of the polynomial that is
        not among ``variables``.
        """
        if len(variables) == len(self.vars) and all(a is b for a, b in zip(variables, self.vars)):
            return self.exps, self.coefs  # already in these variables (read-only arrays)
        vs = _as_variable_list(variables)
        pos = {id(v): k for k, v in enumerate(vs)}
        missing = [v.name for v in self.vars if id(v) not in pos]
        if missing:
            raise ModelError(
                f"polynomial {self} uses variable(s) {', '.join(missing)} not among "
                f"({', '.join(v.name for v in vs)}); write it in those variables only"
            )
        out = np.zeros((self.n_terms, len(vs)), dtype=np.int64)
        if self.vars:
            out[:, [pos[id(v)] for v in self.vars]] = self.exps
        return out, self.coefs

    # -- evaluation -------------------------------------------------------
    def evaluate(self, points: Any, variables: Sequence[Variable | Polynomial] | None = None) -> np.ndarray:
        """Values at many points.

        Parameters
        ----------
        points : array_like of shape (m, len(variables)) or (len(variables),)
        variables : sequence of variables, optional
            The column order of ``points``; defaults to ``self.vars``.

        Returns
        -------
        ndarray of shape (m,) (a 0-d array for a single point)
        """
        vs = self.vars if variables is None else _as_variable_list(variables)
        pts = np.asarray(points, dtype=float)
        single = pts.ndim == 1
        pts = np.atleast_2d(pts)
        if pts.shape[1] != len(vs):
            raise ModelError(
                f"points must have {len(vs)} columns (one per variable "
                f"{', '.join(v.name for v in vs)}), got shape {pts.shape}"
            )
        exps, coefs = self.terms_in(vs)
        vals = monomial_values(pts, exps) @ coefs
        return vals[0] if single else vals

    __call__ = evaluate

    # -- arithmetic -------------------------------------------------------
    def _binary(self, other: Any, op: str) -> Polynomial:
        o = as_polynomial(other, where=f"operand of {op}")
        vs = tuple(sorted(set(self.vars) | set(o.vars)))
        a, ca = self.terms_in(vs)
        b, cb = o.terms_in(vs)
        if op == "+":
            return Polynomial(vs, np.vstack([a, b]), np.concatenate([ca, cb]))
        if op == "-":
            return Polynomial(vs, np.vstack([a, b]), np.concatenate([ca, -cb]))
        if self.degree + o.degree > MAX_DEGREE:
            raise _degree_error("the product", self.degree + o.degree)
        exps = (a[:, None, :] + b[None, :, :]).reshape(a.shape[0] * b.shape[0], len(vs))  # -1 fails with no vars
        return Polynomial(vs, exps, np.outer(ca, cb).ravel())

    def __add__(self, other: Any) -> Polynomial:
        return self._binary(other, "+")

    def __radd__(self, other: Any) -> Polynomial:
        return self._binary(other, "+")

    def __sub__(self, other: Any) -> Polynomial:
        return self._binary(other, "-")

    def __rsub__(self, other: Any) -> Polynomial:
        return as_polynomial(other, where="operand of -")._binary(self, "-")

    def __mul__(self, other: Any) -> Polynomial:
        return self._binary(other, "*")

    __rmul__ = __mul__

    def __truediv__(self, other: Any) -> Polynomial:
        if isinstance(other, Polynomial):
            if not other.is_constant():
                raise ModelError(f"cannot divide by the non-constant polynomial {other}")
            other = other.constant_term
        c = _check_coef(other, "divisor")
        if c == 0:
            raise ModelError("division of a polynomial by zero")
        return self * (1.0 / c)

    def __neg__(self) -> Polynomial:
        return Polynomial(self.vars, self.exps, -self.coefs, _canonical=True)

    def __pos__(self) -> Polynomial:
        return self

    def __pow__(self, k: Any) -> Polynomial:
        if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
            raise ModelError(f"polynomial powers must be non-negative integers, got {k!r}")
        if int(k) and self.degree * int(k) > MAX_DEGREE:
            raise _degree_error(f"the power {int(k)}", self.degree * int(k))
        result, base, k = as_polynomial(1.0), self, int(k)
        while k:
            if k & 1:
                result = result * base
            k >>= 1
            if k:
                base = base * base
        return result

    # -- constraints --------------------------------------------------------
    def __ge__(self, other: Any) -> Constraint:
        return Constraint(self - other, ">=")

    def __le__(self, other: Any) -> Constraint:
        return Constraint(as_polynomial(other, where="right side of <=") - self, ">=")

    def __eq__(self, other: Any) -> Constraint:  # type: ignore[override]
        return Constraint(self - other, "==")

    def __gt__(self, other: Any) -> Constraint:
        raise ModelError("strict inequalities are not supported; write p >= q")

    __lt__ = __gt__

    def __bool__(self) -> bool:
        raise TypeError(
            "the truth value of a polynomial is ambiguous; to compare two polynomials "
            "exactly use p.equals(q)"
        )

    def equals(self, other: Any, tol: float = 0.0) -> bool:
        """Exact (or within ``tol``) equality of coefficients."""
        d = self - as_polynomial(other)
        return bool(np.all(np.abs(d.coefs) <= tol))

    # -- display ----------------------------------------------------------
    def __repr__(self) -> str:
        if self.is_zero:
            return "0"
        order = np.lexsort(tuple(-self.exps[:, ::-1].T) + (self.exps.sum(1),)) if self.vars else [0]
        parts = []
        for t in order:
            c = self.coefs[t]
            mono = "*".join(
                v.name if e == 1 else f"{v.name}^{e}" for v, e in zip(self.vars, self.exps[t]) if e
            )
            mag = abs(c)
            cs = f"{mag:.6g}"
            body = (cs if mono == "" else (mono if mag == 1 else f"{cs}*{mono}"))
            parts.append(("- " if c < 0 else "+ ") + body)
        s = " ".join(parts)
        return s[2:] if s.startswith("+ ") else "-" + s[2:]


@dataclass(frozen=True, eq=False)
class Constraint:
    """``expr >= 0`` (kind ``'>='``) or ``expr == 0`` (kind ``'=='``)."""

    expr: Polynomial
    kind: str

    def __bool__(self) -> bool:
        raise TypeError(
            "a gmp constraint has no truth value (p == q builds the constraint p - q == 0); "
            "use p.equals(q) to compare polynomials"
        )

    def __repr__(self) -> str:
        return f"{self.expr} {self.kind} 0"


def _rebuild_polynomial(vars_: tuple, exps: np.ndarray, coefs: np.ndarray) -> Polynomial:
    return Polynomial(vars_, exps, coefs, _canonical=True)


def monomial_values(points: np.ndarray, exps: np.ndarray) -> np.ndarray:
    """``out[m, t] = prod_i points[m, i] ** exps[t, i]`` (vectorized).

    Parameters
    ----------
    points : ndarray of shape (m, n)
    exps : ndarray of shape (T, n)

    Returns
    -------
    ndarray of shape (m, T)
    """
    points = np.asarray(points, dtype=float)
    exps = np.asarray(exps, dtype=np.int64)
    out = np.ones((points.shape[0], exps.shape[0]))
    for i in range(exps.shape[1]):  # loop over variables only
        col = exps[:, i]
        if col.any():
            powers = points[:, i : i + 1] ** np.arange(col.max() + 1)  # (m, dmax+1)
            out *= powers[:, col]
    return out


def _sort_vars(vars_: tuple[Variable, ...], exps: np.ndarray) -> tuple[tuple[Variable, ...], np.ndarray]:
    if len(set(map(id, vars_))) != len(vars_):
        raise ModelError("a polynomial's variables must be distinct")
    order = sorted(range(len(vars_)), key=lambda k: vars_[k].uid)
    return tuple(vars_[k] for k in order), exps[:, order]


def _combine(exps: np.ndarray, coefs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted lexicographically (ascending), equal rows summed, zero terms dropped.

    One ``lexsort`` and a ``reduceat``; ``np.unique(axis=0)`` gives the same order at
    a much higher cost on the small arrays of a single polynomial (docs/benchmarks.md).
    """
    if exps.shape[0] > 1:
        order = np.lexsort(exps.T[::-1]) if exps.shape[1] else np.arange(exps.shape[0])
        exps, coefs = exps[order], coefs[order]
        new = np.empty(exps.shape[0], dtype=bool)
        new[0] = True
        new[1:] = (exps[1:] != exps[:-1]).any(axis=1)
        if not new.all():
            starts = np.flatnonzero(new)
            exps, coefs = exps[starts], np.add.reduceat(coefs, starts)
    keep = coefs != 0.0
    return np.ascontiguousarray(exps[keep]), coefs[keep]


def _drop_unused(vars_: tuple[Variable, ...], exps: np.ndarray) -> tuple[tuple[Variable, ...], np.ndarray]:
    used = exps.any(axis=0) if exps.shape[0] else np.zeros(len(vars_), bool)
    if used.all():
        return vars_, exps
    return tuple(v for v, u in zip(vars_, used) if u), np.ascontiguousarray(exps[:, used])


def _as_variable_list(variables: Iterable[Any]) -> tuple[Variable, ...]:
    out = []
    for v in variables:
        if isinstance(v, Variable):
            out.append(v)
        elif isinstance(v, Polynomial) and len(v.vars) == 1 and v.n_terms == 1 \
                and v.exps[0, 0] == 1 and v.coefs[0] == 1.0:
            out.append(v.vars[0])
        else:
            raise ModelError(f"expected a variable (from gmp.variables), got {v!r}")
    if len(set(map(id, out))) != len(out):
        raise ModelError(f"variables must be distinct, got {out}")
    return tuple(out)


def as_polynomial(obj: Any, where: str = "argument") -> Polynomial:
    """Coerce a number, Variable, Polynomial or sympy expression to a Polynomial."""
    if isinstance(obj, Polynomial):
        return obj
    if isinstance(obj, Variable):
        return Polynomial((obj,), [[1]], [1.0], _canonical=True)
    if isinstance(obj, numbers.Real) and not isinstance(obj, bool):
        c = _check_coef(obj, where)
        if c == 0.0:
            return Polynomial((), np.zeros((0, 0), np.int64), [], _canonical=True)
        return Polynomial((), np.zeros((1, 0), np.int64), [c], _canonical=True)
    if isinstance(obj, np.ndarray) and obj.ndim == 0:
        return as_polynomial(obj.item(), where)
    if type(obj).__module__.startswith("sympy"):
        raise ModelError(
            f"{where}: got the sympy expression {obj}; convert it with "
            "gmp.from_sympy(expr, {sympy_symbol: gmp_variable, ...})"
        )
    raise ModelError(
        f"{where}: expected a polynomial in gmp variables or a real number, "
        f"got {type(obj).__name__} {obj!r}"
    )


def polysum(terms: Iterable[Any]) -> Polynomial:
    """Sum of many polynomials (or numbers, or variables) at once.

    Python's ``sum`` adds one term at a time and re-sorts the growing partial sum each
    time, so summing ``N`` terms costs ``O(N^2)``; ``polysum`` stacks every term and
    combines them once, in ``O(N log N)``. The result is the same polynomial.

    Parameters
    ----------
    terms : iterable of Polynomial, Variable or real number

    Returns
    -------
    Polynomial
        The zero polynomial for an empty iterable.

    Examples
    --------
    >>> x, y = variables("x y")
    >>> polysum(c * x**k * y for k, c in enumerate([1.0, 2.0, 3.0]))
    y + 2*x*y + 3*x^2*y
    >>> polysum([x, 1, -x])
    1
    """
    polys = [as_polynomial(t, where=f"term {i} of polysum") for i, t in enumerate(terms)]
    vs = tuple(sorted({v for p in polys for v in p.vars}))
    pos = {id(v): k for k, v in enumerate(vs)}
    sizes = np.array([p.n_terms for p in polys], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    exps = np.zeros((int(starts[-1]), len(vs)), dtype=np.int64)
    for p, a, b in zip(polys, starts[:-1], starts[1:]):   # one block per term, not per entry
        if p.vars and b > a:
            exps[a:b, [pos[id(v)] for v in p.vars]] = p.exps
    coefs = np.concatenate([p.coefs for p in polys]) if polys else np.zeros(0)
    return Polynomial(vs, exps, coefs)


def variables(names: str, n: int | None = None) -> Polynomial | tuple[Polynomial, ...]:
    """Create variables.

    ``variables("x", 3)`` gives ``(x1, x2, x3)``; ``variables("x y z")`` gives
    three named variables; ``variables("t")`` gives one.
    """
    if not isinstance(names, str) or not names.strip():
        raise ModelError(f"variables needs a non-empty name string, got {names!r}")
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ModelError(f"the number of variables must be a positive integer, got {n!r}")
        labels = [f"{names.strip()}{k + 1}" for k in range(int(n))]
    else:
        labels = names.replace(",", " ").split()
    vs = tuple(
        Polynomial((Variable(lab, next(_counter)),), [[1]], [1.0], _canonical=True) for lab in labels
    )
    return vs[0] if (n is None and len(vs) == 1) else vs


def from_sympy(expr: Any, symbols: dict[Any, Polynomial] | None = None) -> Polynomial:
    """Convert a sympy polynomial expression to a gmp Polynomial (sympy optional).

    Parameters
    ----------
    expr : sympy.Expr
    symbols : dict mapping sympy Symbols to gmp variables, optional
        Missing symbols get fresh gmp variables of the same name.
    """
    try:
        import sympy
    except ImportError as exc:  # pragma: no cover - depends on environment
        raise ModelError("from_sympy needs sympy: pip install 'gmp-moments[sympy]'") from exc
    expr = sympy.sympify(expr)
    symbols = dict(symbols or {})
    free = sorted(expr.free_symbols, key=lambda s: s.name)
    for s in free:
        if s not in symbols:
            symbols[s] = variables(s.name)
    try:
        poly = sympy.Poly(expr, *free) if free else None
    except sympy.PolynomialError as exc:
        raise ModelError(f"{expr} is not a polynomial: {exc}") from exc
    if poly is None:
        return as_polynomial(float(expr), where="sympy constant")
    if not poly.domain.is_Numerical and not poly.domain.is_RR and not poly.domain.is_QQ:
        raise ModelError(f"{expr} is not a polynomial with numeric coefficients in {free}")
    gens = [_as_variable_list([symbols[s]])[0] for s in free]
    monos = poly.monoms()
    coefs = [float(c) for c in poly.coeffs()]
    return Polynomial(gens, np.array(monos, dtype=np.int64).reshape(-1, len(gens)), coefs)
