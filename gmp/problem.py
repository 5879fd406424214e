"""A Generalized Moment Problem: measures, moment constraints, objective.

Measures with their supports and masses (:class:`Measure`), linear constraints on their
moments, and an objective or the trace of the moment matrices (:class:`GMP`) [Las08]. The
problem is validated when built and is immutable afterwards (docs/algorithms.md, "The
Generalized Moment Problem"; docs/concepts.md).
"""
from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ModelError
from .hierarchy import climb
from .polynomial import Constraint, Polynomial, Variable, _as_variable_list, as_polynomial
from .result import Result

__all__ = ["Measure", "MomentExpr", "MomentConstraint", "Objective", "minimize", "maximize", "GMP"]

_AUTO = "auto"


class Measure:
    """A nonnegative measure on the variables ``variables``.

    Parameters
    ----------
    variables : sequence of gmp variables (or a single one)
    support : iterable of Constraint
        ``g >= 0`` / ``h == 0`` written in these variables only.
    mass : float, None or "auto"
        Fixed total mass; ``None`` leaves it free; ``"auto"`` (default) means
        1 (a probability) in a single-measure problem and free otherwise.
    name : str
    """

    def __init__(
        self, variables: Any, support: Iterable[Constraint] = (), mass: float | None | str = _AUTO, name: str = "mu"
    ):
        if isinstance(variables, (Polynomial, Variable)):
            variables = [variables]
        self.variables: tuple[Variable, ...] = _as_variable_list(variables)
        if not self.variables:
            raise ModelError(f"measure {name!r} needs at least one variable")
        self.name = str(name)
        if mass is not _AUTO and mass is not None:
            if isinstance(mass, bool) or not isinstance(mass, numbers.Real) or not np.isfinite(mass) or mass < 0:
                raise ModelError(
                    f"mass of measure {name!r} must be a finite number >= 0, None (free) or 'auto', got {mass!r}"
                )
            mass = float(mass)
        elif isinstance(mass, str) and mass != _AUTO:
            raise ModelError(f"mass of measure {name!r} must be a number, None or 'auto', got {mass!r}")
        self.mass = mass
        ineq, eq = [], []
        for k, c in enumerate(support):
            if not isinstance(c, Constraint):
                raise ModelError(
                    f"support constraint {k} of measure {name!r} must be written as g >= 0, "
                    f"g <= h or h == 0 with gmp polynomials, got {type(c).__name__} {c!r}"
                )
            try:
                c.expr.terms_in(self.variables)
            except ModelError:
                foreign = [v.name for v in c.expr.vars if v not in self.variables]
                raise ModelError(
                    f"support constraint {k} ({c}) of measure {self.name!r} uses variable(s) "
                    f"{', '.join(foreign)} of another measure; a support constraint may only use "
                    f"this measure's variables ({', '.join(v.name for v in self.variables)})"
                ) from None
            if c.expr.is_constant():
                val = c.expr.constant_term
                if (c.kind == ">=" and val >= 0) or (c.kind == "==" and val == 0):
                    continue  # trivially true
                # trivially false: keep it, the relaxation will report infeasible
            (ineq if c.kind == ">=" else eq).append(c.expr)
        self.inequalities: tuple[Polynomial, ...] = tuple(ineq)
        self.equalities: tuple[Polynomial, ...] = tuple(eq)

    @property
    def n_vars(self) -> int:
        return len(self.variables)

    def E(self, p: Any) -> MomentExpr:
        """The linear functional ``L_mu(p) = ∫ p dmu`` as an expression."""
        poly = as_polynomial(p, where=f"argument of {self.name}.E")
        foreign = [v.name for v in poly.vars if v not in self.variables]
        if foreign:
            raise ModelError(
                f"{self.name}.E(...) got a polynomial in {', '.join(foreign)}, which are not "
                f"variables of measure {self.name!r} ({', '.join(v.name for v in self.variables)})"
            )
        return MomentExpr({id(self): (self, poly)}, 0.0)

    integrate = E
    mom = E

    def __repr__(self) -> str:
        return (
            f"Measure({self.name!r}, vars=({', '.join(v.name for v in self.variables)}), "
            f"{len(self.inequalities)} inequalities, {len(self.equalities)} equalities, mass={self.mass})"
        )


class MomentExpr:
    """``sum_k L_{mu_k}(p_k) + const``: linear in the moments of several measures."""

    __array_ufunc__ = None
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, terms: dict[int, tuple[Measure, Polynomial]], const: float = 0.0):
        self.terms = terms
        self.const = float(const)

    def _coerce(self, other: Any) -> MomentExpr:
        if isinstance(other, MomentExpr):
            return other
        if isinstance(other, numbers.Real) and not isinstance(other, bool) and np.isfinite(other):
            return MomentExpr({}, float(other))
        if isinstance(other, (Polynomial, Variable)):
            raise ModelError(
                "cannot mix a polynomial with a moment expression; integrate it first, "
                "e.g. mu.E(p)"
            )
        raise ModelError(f"expected a moment expression or a finite number, got {other!r}")

    def __add__(self, other: Any) -> MomentExpr:
        o = self._coerce(other)
        terms = dict(self.terms)
        for key, (m, p) in o.terms.items():
            terms[key] = (m, terms[key][1] + p) if key in terms else (m, p)
        return MomentExpr(terms, self.const + o.const)

    __radd__ = __add__

    def __neg__(self) -> MomentExpr:
        return MomentExpr({k: (m, -p) for k, (m, p) in self.terms.items()}, -self.const)

    def __sub__(self, other: Any) -> MomentExpr:
        return self + (-self._coerce(other))

    def __rsub__(self, other: Any) -> MomentExpr:
        return self._coerce(other) - self

    def __mul__(self, c: Any) -> MomentExpr:
        if isinstance(c, bool) or not isinstance(c, numbers.Real) or not np.isfinite(c):
            raise ModelError(f"a moment expression can only be scaled by a finite number, got {c!r}")
        return MomentExpr({k: (m, p * float(c)) for k, (m, p) in self.terms.items()}, self.const * float(c))

    __rmul__ = __mul__

    def __ge__(self, other: Any) -> MomentConstraint:
        return MomentConstraint(self - other, ">=")

    def __le__(self, other: Any) -> MomentConstraint:
        return MomentConstraint(self._coerce(other) - self, ">=")

    def __eq__(self, other: Any) -> MomentConstraint:  # type: ignore[override]
        return MomentConstraint(self - other, "==")

    @property
    def degree(self) -> int:
        return max((p.degree for _, p in self.terms.values()), default=0)

    def __repr__(self) -> str:
        parts = [f"{m.name}.E({p})" for m, p in self.terms.values()]
        if self.const or not parts:
            parts.append(f"{self.const:g}")
        return " + ".join(parts)


@dataclass(frozen=True, eq=False)
class MomentConstraint:
    """``expr >= 0`` or ``expr == 0`` for a :class:`MomentExpr` ``expr``."""

    expr: MomentExpr
    kind: str

    def __bool__(self) -> bool:
        raise TypeError("a moment constraint has no truth value")

    def __repr__(self) -> str:
        return f"{self.expr} {self.kind} 0"


@dataclass(frozen=True, eq=False)
class Objective:
    """``sense`` is "min" or "max"; ``expr`` None means the trace objective."""

    sense: str
    expr: MomentExpr | None = None


def minimize(expr: MomentExpr | None = None) -> Objective:
    return Objective("min", _objective_expr(expr))


def maximize(expr: MomentExpr) -> Objective:
    if expr is None:
        raise ModelError("maximize needs an expression; the trace objective is minimized")
    return Objective("max", _objective_expr(expr, "max"))


def _objective_expr(expr: Any, sense: str = "min") -> MomentExpr | None:
    if expr is None or isinstance(expr, MomentExpr):
        return expr
    if isinstance(expr, (Polynomial, Variable)):
        how = "gmp.solve(f, constraints, sense='max')" if sense == "max" else "gmp.solve(f, constraints)"
        raise ModelError(
            f"the objective of a GMP is a moment expression such as mu.E(f); for polynomial "
            f"optimization use {how}"
        )
    if isinstance(expr, numbers.Real) and not isinstance(expr, bool):
        return MomentExpr({}, float(expr))
    raise ModelError(f"objective must be a moment expression like mu.E(f), got {type(expr).__name__} {expr!r}")


@dataclass(frozen=True, eq=False)
class GMP:
    """A validated generalized moment problem.

    Parameters
    ----------
    objective : Objective, MomentExpr or None
        ``minimize(...)`` / ``maximize(...)``; a bare expression is minimized;
        None minimizes the sum of the traces of the moment matrices.
    constraints : sequence of MomentConstraint
    measures : sequence of Measure, optional
        Defaults to every measure that appears in the objective or constraints.

    Examples
    --------
    >>> from gmp import variables
    >>> x = variables("x", 2)
    >>> mu = Measure(x, support=[1 - x[0]**2 - x[1]**2 >= 0])
    >>> prob = GMP(minimize(mu.E(x[0] + x[1])))
    >>> prob.mass_of(prob.measures[0])
    1.0
    """

    objective: Objective | MomentExpr | None = None
    constraints: Sequence[MomentConstraint] = ()
    measures: Sequence[Measure] = field(default=())

    def __post_init__(self) -> None:
        obj = self.objective
        if not isinstance(obj, Objective):
            obj = minimize(_objective_expr(obj))
        cons = tuple(self.constraints)
        for k, c in enumerate(cons):
            if not isinstance(c, MomentConstraint):
                raise ModelError(
                    f"moment constraint {k} must compare moment expressions, e.g. mu.E(x) == 1, "
                    f"got {type(c).__name__} {c!r}"
                )
        measures = list(self.measures)
        seen = {id(m) for m in measures}
        exprs = ([obj.expr] if obj.expr is not None else []) + [c.expr for c in cons]
        own_vars: dict[int, set[int]] = {}  # id of each measure -> ids of its variables
        for e in exprs:
            for key, (m, p) in e.terms.items():
                if key not in seen:
                    seen.add(key)
                    measures.append(m)
                own = own_vars.get(key)
                if own is None:
                    own = own_vars[key] = {id(v) for v in getattr(m, "variables", ())}
                foreign = [v.name for v in getattr(p, "vars", ()) if id(v) not in own]
                if foreign:  # only a hand-built MomentExpr gets here: m.E(p) checks this itself
                    raise ModelError(
                        f"a moment expression integrates a polynomial in {', '.join(foreign)} against "
                        f"measure {getattr(m, 'name', m)!r}, whose variables are "
                        f"({', '.join(v.name for v in m.variables)}); write it with {getattr(m, 'name', 'mu')}.E(p)"
                        " with p in those variables"
                    )
        if not measures:
            raise ModelError(
                "empty problem: no measure appears in the objective or the constraints; "
                "give an objective such as minimize(mu.E(f)) or pass measures=[mu]"
            )
        for m in measures:
            if not isinstance(m, Measure):
                raise ModelError(f"measures must be gmp.Measure objects, got {m!r}")
        all_vars = [v for m in measures for v in m.variables]
        if len(set(map(id, all_vars))) != len(all_vars):
            raise ModelError("two measures share a variable; give each measure its own variables")
        object.__setattr__(self, "objective", obj)
        object.__setattr__(self, "constraints", cons)
        object.__setattr__(self, "measures", tuple(measures))

    def mass_of(self, m: Measure) -> float | None:
        """The fixed mass of ``m`` (1 by default in a single-measure problem), or None (free)."""
        if m.mass == _AUTO:
            return 1.0 if len(self.measures) == 1 else None
        return m.mass  # type: ignore[return-value]

    def measure_index(self, m: Measure) -> int:
        for k, mm in enumerate(self.measures):
            if mm is m:
                return k
        raise ModelError(f"measure {m.name!r} is not part of this problem")

    def min_order(self) -> int:
        """The smallest relaxation order valid for every polynomial in the problem."""
        degs = [1]
        for m in self.measures:
            degs += [p.degree for p in m.inequalities + m.equalities]
        exprs = ([self.objective.expr] if self.objective.expr is not None else []) + [c.expr for c in self.constraints]
        degs += [e.degree for e in exprs]
        return max(-(-d // 2) for d in degs)

    def solve(self, order: int | str | None = None, **kwargs: Any) -> Result:
        """Solve the moment relaxation; see :func:`gmp.solve_gmp` for the keyword arguments."""
        return climb(self, order=order, **kwargs)

    def __repr__(self) -> str:
        obj = "trace" if self.objective.expr is None else repr(self.objective.expr)
        return (
            f"GMP({self.objective.sense} {obj}; {len(self.constraints)} moment constraints; "
            f"measures: {', '.join(m.name for m in self.measures)})"
        )
