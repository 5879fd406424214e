"""One order of a sparse relaxation: plan → build → solve → certify per clique → package.

The step :func:`gmp.solve` calls when ``sparsity`` is not None; it returns None when
"auto" found nothing that shrinks the relaxation (the dense path then runs unchanged).
"""
from __future__ import annotations

import time

import numpy as np

from .errors import ModelError
from .result import Result, SparsityReport
from .sparse_certify import certify_cliques
from .sparse_relaxation import build_sparse_relaxation
from .sparsity import Sparsity, make_plan
from .status import Status

__all__ = ["check_sparse_problem", "plan_for", "solve_sparse_at_order"]


def check_sparse_problem(problem) -> None:
    """Sparsity applies to a GMP with one measure of fixed mass; say so before any work."""
    if len(problem.measures) != 1:
        names = ", ".join(m.name for m in problem.measures)
        raise ModelError(
            f"sparsity works on a GMP with one measure, this one has {len(problem.measures)} ({names}); "
            "pass sparsity=None for the dense relaxation")
    if problem.mass_of(problem.measures[0]) is None:
        raise ModelError(
            f"sparsity needs the mass of measure {problem.measures[0].name!r} fixed, got a free mass; "
            "give the measure mass=1.0 (or another number), or pass sparsity=None")


def plan_for(problem, order: int, sparsity: Sparsity):
    """The :class:`~gmp.sparsity.SparsityPlan` of ``problem`` (one measure) at ``order``."""
    from .sparse_relaxation import _polys

    return make_plan(problem.measures[0], _polys(problem), order, sparsity)


def _objective_poly(problem, objective):
    if objective is not None:
        return objective
    expr = problem.objective.expr
    if expr is None or problem.constraints:
        return None   # a trace objective, or moment constraints: no per-point objective
    return next(iter(expr.terms.values()))[1] + expr.const if expr.terms else None


def solve_sparse_at_order(problem, r: int, be, opts, rule, extraction: str, check_tol: float,
                          objective, sparsity: Sparsity) -> Result | None:
    """Plan, build, solve and certify the sparse relaxation of order ``r``; None when dense."""
    from .solve import _check_atoms

    t0 = time.perf_counter()
    plan = plan_for(problem, r, sparsity)
    if plan.kind == "dense":
        return None
    t_plan = time.perf_counter()
    program, rmap = build_sparse_relaxation(problem, plan)
    t1 = time.perf_counter()
    sol = be.run(program, opts)
    t2 = time.perf_counter()
    bound = rmap.bound(sol)
    moments = rmap.decode(sol) if sol.status.has_solution else None
    cert, checks = None, ()
    if moments is not None:
        cert = certify_cliques(problem, plan, moments, rule, extraction)
        f = _objective_poly(problem, objective)
        if cert.glued is not None:
            checks = _check_atoms(problem, (cert.glued,), bound, f, check_tol)
            if f is None:
                checks = ()
    t3 = time.perf_counter()
    timings = {"plan": t_plan - t0, "build": t1 - t0, "solve": t2 - t1, "extract": t3 - t2, "total": t3 - t0}
    status = sol.status
    if status is Status.INFEASIBLE:
        bound = np.inf * rmap.sign
    elif status is Status.UNBOUNDED:
        bound = -np.inf * rmap.sign
    elif not status.has_solution:
        bound = None
    checks_ok = bool(checks) and all(c.ok for c in checks)
    certified = bool(status is Status.OPTIMAL and cert is not None and cert.all_flat
                     and cert.glued is not None and checks_ok)
    report = SparsityReport(
        kind=plan.kind,
        description=plan.describe(),
        cliques=tuple(tuple(problem.measures[0].variables[i].name for i in c) for c in plan.cliques),
        block_sizes=plan.block_sizes,
        rip=plan.rip,
        term_steps=plan.term_steps,
        fixed_point=plan.fixed_point,
        clique_moments=moments,
        certificate=cert,
        plan=plan,
    )
    message = _message(plan, status, sol, cert, checks, checks_ok, certified)
    glued = cert.glued if cert is not None else None
    return Result(
        success=status.has_solution,
        status=status,
        message=message,
        bound=bound,
        order=r,
        certified=certified,
        ranks=cert.ranks if cert is not None else (),
        atoms=glued,
        moments=None,
        backend=getattr(be, "name", str(be)),
        timings=timings,
        raw_status=sol.raw_status,
        atoms_per_measure=(glued,),
        atom_checks=checks,
        flatness=tuple(cert.flatness) if cert is not None else (),
        solution=sol,
        sparsity=report,
    )


def _message(plan, status, sol, cert, checks, checks_ok, certified) -> str:
    what = f"the {plan.kind} sparse relaxation"
    if status is Status.INFEASIBLE:
        return f"{what} is infeasible, so the problem is infeasible ({sol.message})"
    if status is Status.UNBOUNDED:
        return (f"{what} is unbounded: the problem is unbounded, or this order (or this sparsity) is "
                f"too weak to bound it ({sol.message})")
    if not status.has_solution:
        return f"the solver gave no solution: {sol.message}"
    if certified:
        return (f"certified by cliques: every clique of {what} is flat and the glued atoms agree on the "
                "overlaps, are feasible and attain the bound: the bound is the optimum and the atoms are "
                "global minimizers")
    weaker = f"bound only ({what}; it may be weaker than the dense relaxation of the same order)"
    if cert is None:
        return f"{weaker}: no moments to certify"
    if cert.reason is not None:
        return f"{weaker}: {cert.reason}"
    if not checks:
        return f"{weaker}: the glued atoms cannot be checked against a per-point objective"
    if not checks_ok:
        bad = next(c for c in checks if not c.ok)
        gap = "n/a" if bad.objective_gap is None else f"{bad.objective_gap:.2g}"
        return (f"{weaker}: a glued atom fails the per-atom checks (objective gap {gap}, "
                f"violation {bad.violation:.2g}), so the sparse bound is not shown to be the optimum")
    return f"{weaker}: the solver reported {status.value}, so nothing is certified ({sol.message})"
