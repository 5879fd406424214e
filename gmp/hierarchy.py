"""The Lasserre hierarchy: relax → run → certify → package at one order, or up the orders.

:func:`solve_relaxation` is one order of the pipeline; :func:`climb` is the loop of
``order="auto"`` over it. Both take a validated :class:`~gmp.problem.GMP`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .backend import Backend
from .certify import certify
from .dispatch import run
from .errors import ModelError, OrderError
from .options import SolverOptions
from .package import package
from .registry import choose_backend, usable_backends
from .relaxation import RelaxationMap, check_order, relax
from .result import OrderAttempt, Result
from .scaling import box_column_scale
from .sparse_relaxation import check_sparse_problem
from .sparsity import Sparsity, as_sparsity
from .status import Status

if TYPE_CHECKING:  # types only: the problem module sits above the pipeline
    from .polynomial import Polynomial
    from .problem import GMP

__all__ = ["DEFAULT_MAX_ORDER_STEPS", "SOLVER_FAILURES", "climb", "solve_relaxation"]

logger = logging.getLogger(__name__)

#: ``order="auto"`` tries this many orders from the smallest valid one unless ``max_order`` is given.
DEFAULT_MAX_ORDER_STEPS = 4


def solve_relaxation(problem: GMP, order: int, backend: Backend, options: SolverOptions, *,
                     rank_rule: Any = None, extraction: str = "schur", check_tol: float = 1e-5,
                     objective: Polynomial | None = None, sparsity: Sparsity | None = None) -> Result:
    """The relaxation of ``problem`` at ``order``, solved, certified and packaged."""
    t0 = time.perf_counter()
    program, rmap = relax(problem, order, sparsity=sparsity)
    t1 = time.perf_counter()
    if isinstance(rmap, RelaxationMap):
        solution = run(program, backend, options, column_scale=box_column_scale(problem, rmap))
    else:   # thousands of small clique blocks, already of order one: solved as built
        solution = run(program, backend, options, scale=False)
    t2 = time.perf_counter()
    cert = certify(problem, program, rmap, solution, rank_rule=rank_rule, extraction=extraction,
                   check_tol=check_tol, objective=objective)
    t3 = time.perf_counter()
    logger.debug("order %d: build %.3g s, solve %.3g s, certify %.3g s", order, t1 - t0, t2 - t1, t3 - t2)
    return package(rmap, solution, cert, {"build": t1 - t0, "solve": t2 - t1, "total": t3 - t0})


#: Statuses that say the solver failed, not that the relaxation has no solution.
SOLVER_FAILURES = frozenset({Status.ITERATION_LIMIT, Status.TIME_LIMIT, Status.NUMERICAL_ERROR,
                             Status.SOLVER_ERROR})


def climb(problem: GMP, *, order: int | str | None = None, max_order: int | None = None,
          backend: Any = None, options: Any = None, rank_rule: Any = None, extraction: str = "schur",
          check_tol: float = 1e-5, objective: Polynomial | None = None, sparsity: Any = None) -> Result:
    """Solve at ``order``, or with ``order="auto"`` go up the orders until certified.

    The loop stops at a certificate, at an infeasible relaxation (infeasible at one order
    means infeasible at every higher one), or at ``max_order``. A solver failure at one
    order is no reason to stop: the next order is tried. When no backend was named (by
    argument, context, environment or config file), a solve that fails is first retried on
    the next usable backend of the preference order, and the result says so. See
    :func:`gmp.solve` for the parameters.
    """
    if extraction not in ("schur", "projection"):
        raise ModelError(f"extraction must be 'schur' or 'projection', got {extraction!r}")
    sparse = as_sparsity(sparsity)
    if sparse is not None:
        check_sparse_problem(problem)
    (be, named), opts = choose_backend(backend), SolverOptions.from_any(options)
    logger.info("backend %s", be.name)
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
    settings = dict(rank_rule=rank_rule, extraction=extraction, check_tol=check_tol, objective=objective,
                    sparsity=sparse)

    attempts: list[OrderAttempt] = []
    result: Result | None = None
    for r in orders:
        result = solve_relaxation(problem, r, be, opts, **settings)
        if result.status in SOLVER_FAILURES and not named:
            result = _retry_elsewhere(problem, r, be, opts, settings, result)
        attempts.append(OrderAttempt(r, result.status, result.bound, result.certified, result.ranks, result.backend))
        logger.info("order %d: %s, bound %s, certified %s, ranks %s, %.3g s on %s", r, result.status.value,
                    result.bound, result.certified, result.ranks, result.timings["total"], result.backend)
        if result.certified or result.status is Status.INFEASIBLE:
            break
    assert result is not None
    if len(orders) > 1:
        msg = result.message
        if not result.certified and result.order == orders[-1]:
            failed = [a for a in attempts if a.status in SOLVER_FAILURES]
            note = "; ".join(f"order {a.order}: {a.backend} {a.status.value}" for a in failed)
            msg = f"not certified up to order {result.order} (max_order){' (' + note + ')' if note else ''}; {msg}"
        elif not result.certified:   # stopped early: infeasible
            msg = f"stopped at order {result.order} of {orders[0]}..{orders[-1]} ({result.status.value}); {msg}"
        result = replace(result, attempts=tuple(attempts), message=msg)
    return result


def _retry_elsewhere(problem: GMP, r: int, failed_on: Backend, opts: SolverOptions, settings: dict,
                     failure: Result) -> Result:
    """The first other usable backend that solves order ``r``, or ``failure`` if none does."""
    tried = [f"{failed_on.name} ({failure.status.value})"]
    for other in usable_backends():
        if other.name == failed_on.name:
            continue
        logger.warning("order %d: %s gave %s; retrying on %s", r, failed_on.name, failure.status.value, other.name)
        retry = solve_relaxation(problem, r, other, opts, **settings)
        tried.append(f"{other.name} ({retry.status.value})")
        if retry.status not in SOLVER_FAILURES:
            note = f"{failed_on.name} gave {failure.status.value} ({failure.solution.message}); retried on {other.name}"
            return replace(retry, message=f"{retry.message} [{note}]")
    return replace(failure, message=f"{failure.message} [no usable backend solved it: {', '.join(tried)}]")
