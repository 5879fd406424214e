"""The front ends: :func:`solve` for polynomial optimization, :func:`solve_gmp` for a GMP.

Both validate their input and hand a :class:`~gmp.problem.GMP` to the hierarchy
(:mod:`gmp.hierarchy`: relax → run → certify → package, order after order).
"""
from __future__ import annotations

import numbers
from collections.abc import Iterable
from typing import Any

from .errors import ModelError
from .hierarchy import DEFAULT_MAX_ORDER_STEPS, climb
from .polynomial import Constraint, Polynomial, Variable, as_polynomial
from .problem import GMP, Measure, maximize, minimize
from .result import Result

__all__ = ["solve", "solve_gmp", "DEFAULT_MAX_ORDER_STEPS"]


def solve(
    f: Any,
    constraints: Iterable[Constraint] = (),
    *,
    sense: str = "min",
    variables: Iterable[Any] | None = None,
    order: int | str | None = None,
    max_order: int | None = None,
    backend: Any = None,
    options: Any = None,
    rank_rule: Any = None,
    extraction: str = "schur",
    check_tol: float = 1e-5,
    sparsity: Any = None,
) -> Result:
    """Polynomial optimization: ``min (or max) f(x)`` s.t. ``g(x) >= 0``, ``h(x) == 0``.

    The GMP with one probability measure supported on the feasible set [Las01].

    Parameters
    ----------
    f : Polynomial or number
    constraints : iterable of Constraint
        Written with ``>=``, ``<=`` and ``==`` on gmp polynomials.
    sense : {"min", "max"}
    variables : iterable of variables, optional
        Column order of the returned points; defaults to every variable of
        ``f`` and the constraints, in creation order.
    order : int, "auto" or None
        Relaxation order; None is the smallest valid one; "auto" raises it
        until certified or ``max_order``.
    max_order : int, optional
        Largest order "auto" tries (default: smallest valid + 3).
    backend : str or Backend, optional
        See :func:`gmp.registry.resolve_backend`.
    options : dict or SolverOptions, optional
    rank_rule : float or RankRule, optional
        Numerical rank decision (default documented in :mod:`gmp.rank`).
    extraction : {"schur", "projection"}
    check_tol : float
        Tolerance of the per-atom checks (relative objective gap, constraint violation).
    sparsity : None, "auto", "correlative", "term", "correlative+term" or gmp.Sparsity
        None builds the dense relaxation. Otherwise the relaxation exploits correlative
        sparsity (cliques of a chordal extension), term sparsity (TSSOS blocks) or both;
        "auto" uses what shrinks it. Its bound can be weaker than the dense one of the
        same order; ``result.sparsity`` says which relaxation was solved
        (docs/sparsity.md).

    Returns
    -------
    Result
    """
    if isinstance(f, (Constraint,)) or not isinstance(f, (Polynomial, Variable, numbers.Real)) or isinstance(f, bool):
        if type(f).__module__.startswith("sympy"):
            raise ModelError(
                f"objective is a sympy expression ({f}); convert it with gmp.from_sympy(expr) first"
            )
        raise ModelError(
            f"objective must be a polynomial in gmp variables (or a number), got "
            f"{type(f).__name__} {f!r}; build it from gmp.variables(...) with + - * **"
        )
    f = as_polynomial(f, where="objective")
    if sense not in ("min", "max"):
        raise ModelError(f"sense must be 'min' or 'max', got {sense!r}")
    constraints = list(constraints)
    for k, c in enumerate(constraints):
        if not isinstance(c, Constraint):
            raise ModelError(
                f"constraint {k} must be written as p >= q, p <= q or p == q with gmp "
                f"polynomials, got {type(c).__name__} {c!r}"
            )
    if variables is None:
        vs = sorted({id(v): v for p in [f] + [c.expr for c in constraints] for v in p.vars}.values())
        if not vs:
            raise ModelError(
                "empty problem: neither the objective nor the constraints use a variable; "
                "build them from gmp.variables(...)"
            )
    else:
        vs = list(variables)
    mu = Measure(vs, support=constraints, mass=1.0, name="mu")
    f.terms_in(mu.variables)  # objective in the measure's variables
    objective = minimize(mu.E(f)) if sense == "min" else maximize(mu.E(f))
    problem = GMP(objective, (), (mu,))
    return climb(problem, order=order, max_order=max_order, backend=backend, options=options,
                 rank_rule=rank_rule, extraction=extraction, check_tol=check_tol, objective=f, sparsity=sparsity)


def solve_gmp(
    problem: GMP,
    *,
    order: int | str | None = None,
    max_order: int | None = None,
    backend: Any = None,
    options: Any = None,
    rank_rule: Any = None,
    extraction: str = "schur",
    check_tol: float = 1e-5,
    sparsity: Any = None,
) -> Result:
    """Solve the moment relaxation of a :class:`GMP` (see :func:`solve` for parameters)."""
    if not isinstance(problem, GMP):
        raise ModelError(f"solve_gmp needs a gmp.GMP, got {type(problem).__name__}")
    return climb(problem, order=order, max_order=max_order, backend=backend, options=options,
                 rank_rule=rank_rule, extraction=extraction, check_tol=check_tol, sparsity=sparsity)
