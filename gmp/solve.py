"""The pipeline: validate → relax → pick backend → solve → decode → flatness → extract → package.

Each step is one named call; the mathematics lives one level below.
"""
from __future__ import annotations

import numbers
import time
from typing import Any, Iterable

import numpy as np

from .conic import ConicSolution
from .errors import ModelError, OrderError
from .matrices import half_degree
from .polynomial import Constraint, Polynomial, Variable, as_polynomial
from .problem import GMP, Measure, maximize, minimize
from .relaxation import RelaxationMap, build_relaxation, check_order
from .result import AtomCheck, OrderAttempt, Result
from .status import Status

__all__ = ["solve", "solve_gmp"]

DEFAULT_MAX_ORDER_STEPS = 4


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
        See :func:`gmp_backends.resolve_backend`.
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
    return solve_gmp(
        problem, order=order, max_order=max_order, backend=backend, options=options,
        rank_rule=rank_rule, extraction=extraction, check_tol=check_tol, sparsity=sparsity, _objective=f,
    )


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
    _objective: Polynomial | None = None,
) -> Result:
    """Solve the moment relaxation of a :class:`GMP` (see :func:`solve` for parameters)."""
    if not isinstance(problem, GMP):
        raise ModelError(f"solve_gmp needs a gmp.GMP, got {type(problem).__name__}")
    sparse = _check_sparsity(problem, sparsity)
    if extraction not in ("schur", "projection"):
        raise ModelError(f"extraction must be 'schur' or 'projection', got {extraction!r}")
    from .rank import as_rank_rule

    rule = as_rank_rule(rank_rule)
    be, opts = _pick_backend(backend, options)
    lo = problem.min_order()
    if order is None:
        orders = [lo]
    elif order == "auto":
        hi = lo + DEFAULT_MAX_ORDER_STEPS - 1 if max_order is None else int(max_order)
        if hi < lo:
            raise OrderError(f"max_order={max_order} is below the smallest valid order {lo}")
        orders = list(range(lo, hi + 1))
    else:
        orders = [check_order(problem, order)]

    attempts: list[OrderAttempt] = []
    result: Result | None = None
    for r in orders:
        result = _solve_at_order(problem, r, be, opts, rule, extraction, check_tol, _objective, sparse)
        attempts.append(OrderAttempt(r, result.status, result.bound, result.certified, result.ranks))
        if result.certified or result.status in (Status.INFEASIBLE,):
            break
        if not result.success and result.status is not Status.UNBOUNDED:
            break
    assert result is not None
    if len(orders) > 1:
        msg = result.message
        if not result.certified and result.order == orders[-1]:
            msg = f"not certified up to order {result.order} (max_order); {msg}"
        elif not result.certified:   # stopped early: infeasible, or the solver gave no solution
            msg = f"stopped at order {result.order} of {orders[0]}..{orders[-1]} ({result.status.value}); {msg}"
        result = _replace(result, attempts=tuple(attempts), message=msg)
    return result


# --- steps -----------------------------------------------------------------

def _pick_backend(backend: Any, options: Any):
    from gmp_backends import SolverOptions, resolve_backend

    return resolve_backend(backend), SolverOptions.from_any(options)


def _check_sparsity(problem, sparsity):
    """The :class:`~gmp.sparsity.Sparsity` asked for (None: dense), checked before any work."""
    if sparsity is None:
        return None
    from .sparse_solve import check_sparse_problem
    from .sparsity import as_sparsity

    sparse = as_sparsity(sparsity)
    check_sparse_problem(problem)
    return sparse


def _solve_at_order(problem, r, be, opts, rule, extraction, check_tol, objective, sparsity=None) -> Result:
    if sparsity is not None:   # None when "auto" finds nothing that shrinks the relaxation
        from .sparse_solve import solve_sparse_at_order

        result = solve_sparse_at_order(problem, r, be, opts, rule, extraction, check_tol, objective, sparsity)
        if result is not None:
            return result
    t0 = time.perf_counter()
    program, rmap = build_relaxation(problem, r)
    t1 = time.perf_counter()
    sol: ConicSolution = be.run(program, opts)
    t2 = time.perf_counter()
    moments = rmap.decode(sol) if sol.status.has_solution else None
    reports, atoms = _check_flatness_and_extract(problem, rmap, moments, rule, extraction)
    checks = _check_atoms(problem, atoms, rmap.bound(sol), objective, check_tol) if moments else ()
    t3 = time.perf_counter()
    timings = {"build": t1 - t0, "solve": t2 - t1, "extract": t3 - t2, "total": t3 - t0}
    return _package(problem, rmap, sol, moments, reports, atoms, checks, timings, be)


def _flat_degree(m: Measure) -> int:
    return max([1] + [half_degree(p.degree) for p in m.inequalities + m.equalities])


def _check_flatness_and_extract(problem, rmap: RelaxationMap, moments, rule, method):
    if moments is None:
        return (), ()
    from .extraction import _extract_at_flat_order
    from .flatness import flatness

    reports, atoms = [], []
    for m, ms in zip(problem.measures, moments):
        rep = flatness(ms.values, m.n_vars, rmap.order, d=_flat_degree(m), rule=rule)
        reports.append(rep)
        if rep.is_flat:   # extract at the flat order and rank of this report (no second flatness test)
            out = _extract_at_flat_order(ms.values, m.n_vars, rep, method, None)
            atoms.append(out if getattr(out, "points", None) is not None else None)
            if atoms[-1] is None:
                reports[-1] = (rep, out)  # keep the failure reason beside the report
        else:
            atoms.append(None)
    return tuple(reports), tuple(atoms)


def _check_atoms(problem, atoms, bound, objective, tol) -> tuple[AtomCheck, ...]:
    checks = []
    for m, a in zip(problem.measures, atoms):
        if a is None:
            continue
        pts = np.asarray(a.points, dtype=float)
        viol = np.zeros(len(pts))
        for g in m.inequalities:
            viol = np.maximum(viol, -g.evaluate(pts, m.variables))
        for h in m.equalities:
            viol = np.maximum(viol, np.abs(h.evaluate(pts, m.variables)))
        gaps = [None] * len(pts)
        if objective is not None and bound is not None and np.isfinite(bound):
            gaps = list(np.abs(objective.evaluate(pts, m.variables) - bound) / max(1.0, abs(bound)))
        for p, w, v, gap in zip(pts, a.weights, viol, gaps):
            ok = bool(v <= tol and (gap is None or gap <= tol) and w > -tol)
            checks.append(AtomCheck(p, float(w), None if gap is None else float(gap), float(v), ok))
    return tuple(checks)


def _package(problem, rmap, sol, moments, reports, atoms, checks, timings, be) -> Result:
    status = sol.status
    bound = rmap.bound(sol)
    if status is Status.INFEASIBLE:
        bound = np.inf * rmap.sign
    elif status is Status.UNBOUNDED:
        bound = -np.inf * rmap.sign
    elif not status.has_solution:
        bound = None
    ranks = tuple(tuple(_rep(r).ranks) for r in reports)
    all_flat = bool(reports) and all(_rep(r).is_flat for r in reports)
    extracted = bool(atoms) and all(a is not None for a in atoms)
    checks_ok = bool(checks) and all(c.ok for c in checks)
    certified = status is Status.OPTIMAL and all_flat and extracted and checks_ok
    message = _message(status, sol, certified, all_flat, extracted, checks_ok, ranks, reports)
    first = atoms[0] if atoms else None
    return Result(
        success=status.has_solution,
        status=status,
        message=message,
        bound=bound,
        order=rmap.order,
        certified=certified,
        ranks=ranks,
        atoms=first,
        moments=moments,
        backend=getattr(be, "name", str(be)),
        timings=timings,
        raw_status=sol.raw_status,
        atoms_per_measure=tuple(atoms),
        atom_checks=checks,
        flatness=tuple(_rep(r) for r in reports),
        solution=sol,
    )


def _rep(r):
    return r[0] if isinstance(r, tuple) else r


def _message(status, sol, certified, flat, extracted, checks_ok, ranks, reports) -> str:
    if status is Status.INFEASIBLE:
        return "the relaxation is infeasible, so the problem is infeasible (" + sol.message + ")"
    if status is Status.UNBOUNDED:
        return (
            "the relaxation is unbounded: the problem is unbounded, or this order is too low to "
            "bound it (" + sol.message + ")"
        )
    if not status.has_solution:
        return f"the solver gave no solution: {sol.message}"
    if certified:
        return "flat extension: the bound is the optimum and the atoms are global minimizers"
    if not flat:
        return (
            f"bound only: the moment matrix is not flat (ranks {', '.join(map(str, ranks))}); "
            "try a higher order or order='auto'"
        )
    if not extracted:
        reasons = [getattr(r[1], "reason", str(r[1])) for r in reports if isinstance(r, tuple)]
        return "bound only: flat, but atom extraction failed: " + "; ".join(reasons)
    if not checks_ok:
        return "bound only: extracted atoms failed the per-atom checks (objective gap or constraint violation)"
    return f"bound only: the solver reported {status.value}, so nothing is certified ({sol.message})"


def _replace(result: Result, **changes: Any) -> Result:
    from dataclasses import replace

    return replace(result, **changes)
