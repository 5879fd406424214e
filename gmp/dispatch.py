"""The ``run`` step: a conic program to the chosen backend, and its answer back.

The backend is chosen by :func:`gmp.registry.resolve_backend`; :meth:`Backend.run
<gmp.backend.Backend.run>` validates the program, checks availability, times the
solve and turns solver crashes into a status.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .backend import Backend
from .conic import ConicProgram, ConicSolution
from .options import SolverOptions
from .registry import resolve_backend

__all__ = ["run"]


def run(program: ConicProgram, backend: str | Backend | None = None,
        options: SolverOptions | Mapping[str, Any] | None = None) -> ConicSolution:
    """Solve ``program`` on ``backend`` (a name, an instance, or None for the configured default).

    Returns
    -------
    ConicSolution
        Solver trouble is a status in it, never an exception; ``solution.backend`` names the solver.
    """
    return resolve_backend(backend).run(program, SolverOptions.from_any(options))
