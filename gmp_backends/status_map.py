"""Backend statuses as data: each backend's table from raw status to :class:`~gmp.status.Status`,
and the one set of messages they share.

A backend only *maps* (its ``STATUS_MAP``) and passes the solver's point, duals and
certificate on; whether an answer is accurate enough to be called optimal, and whether a
claimed infeasibility is proved, is decided once, in the core (:func:`gmp.assess.assess`,
called by :meth:`gmp_backends.Backend.run`). An unknown raw status is ``SOLVER_ERROR``.
"""
from __future__ import annotations

from collections.abc import Mapping

from gmp.status import Status

__all__ = ["lookup", "describe"]


def lookup(table: Mapping[str, Status], raw: str) -> Status:
    """``table[raw]``, or ``SOLVER_ERROR`` for a raw status the table does not know."""
    return table.get(raw, Status.SOLVER_ERROR)


def describe(status: Status, solver: str, raw: str, *, figures: str = "", accuracy: str = "",
             limit: object = None, iterations: int | None = None, hint: str = "") -> str:
    """The message of a backend's answer with ``status`` (before the core's check).

    Parameters
    ----------
    figures : str
        The solver's own residuals and gap, for the reader.
    accuracy : str
        Appended to a certificate claim ("to reduced accuracy").
    limit : object
        The iteration or time limit that was reached.
    hint : str
        What to try, for failures (solver-specific).
    """
    fig = f" ({figures})" if figures else ""
    if status is Status.OPTIMAL:
        return f"{solver} found an optimal solution{fig}"
    if status is Status.OPTIMAL_INACCURATE:
        return f"{solver} found a solution to its reduced tolerances only{fig}; use it with care"
    if status is Status.INFEASIBLE:
        return (f"{solver} proved the program infeasible{accuracy}: no x satisfies the constraints "
                "(the dual certificate is in info['infeasibility_certificate'])")
    if status is Status.UNBOUNDED:
        return (f"{solver} proved the program unbounded below{accuracy}: the objective decreases "
                "without bound along info['unbounded_direction']; add constraints that bound it")
    if status is Status.ITERATION_LIMIT:
        return (f"{solver} reached its iteration limit ({limit}) before converging{fig}; "
                f"raise max_iters, loosen tol, or rescale the problem{hint}")
    if status is Status.TIME_LIMIT:
        after = f" after {iterations} iterations" if iterations is not None else ""
        return (f"{solver} reached its time limit ({limit} s){after}{fig}; raise time_limit or "
                f"lower the relaxation order{hint}")
    if status is Status.NUMERICAL_ERROR:
        after = f" after {iterations} iterations" if iterations is not None else ""
        return (f"{solver} stopped with status {raw!r}{after}{fig}: numerical trouble; rescale "
                f"the problem or try another backend{hint}")
    return f"{solver} ended with status {raw!r}, which gmp does not know; try another backend"
