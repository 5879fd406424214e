"""The shared status vocabulary of gmp-moments.

Every backend maps its raw solver status onto :class:`Status`; an unknown raw
status maps to ``SOLVER_ERROR`` and the raw text is kept beside it.
"""
from __future__ import annotations

from enum import Enum

__all__ = ["Status"]


class Status(str, Enum):
    """Outcome of a solve, shared by every backend and by :class:`gmp.Result`."""

    OPTIMAL = "optimal"
    OPTIMAL_INACCURATE = "optimal_inaccurate"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    ITERATION_LIMIT = "iteration_limit"
    TIME_LIMIT = "time_limit"
    NUMERICAL_ERROR = "numerical_error"
    SOLVER_ERROR = "solver_error"
    NOT_AVAILABLE = "not_available"

    @property
    def has_solution(self) -> bool:
        """True when the solver returned a usable primal point."""
        return self in (Status.OPTIMAL, Status.OPTIMAL_INACCURATE)

    def __str__(self) -> str:
        return self.value
