"""The ``run`` step: a conic program to the chosen backend, and its answer back.

The program is first scaled by exact powers of two (:mod:`gmp.scaling`), so solvers meet
data of order one whatever the problem's units, and the answer is scaled back exactly.
The backend is chosen by :func:`gmp.registry.resolve_backend`; :meth:`Backend.run
<gmp.backend.Backend.run>` validates the program, checks availability, times the solve,
turns solver crashes into a status and has the core check the answer (:mod:`gmp.assess`).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .backend import Backend
from .conic import ConicProgram, ConicSolution
from .options import SolverOptions
from .registry import resolve_backend
from .scaling import scale_program

__all__ = ["run"]


def run(program: ConicProgram, backend: str | Backend | None = None,
        options: SolverOptions | Mapping[str, Any] | None = None, *, scale: bool = True,
        column_scale: np.ndarray | None = None) -> ConicSolution:
    """Solve ``program`` on ``backend`` (a name, an instance, or None for the configured default).

    Parameters
    ----------
    program : ConicProgram
    backend : str, Backend or None
    options : dict or SolverOptions, optional
    scale : bool
        Scale rows, PSD blocks and objective by powers of two before solving
        (:func:`gmp.scaling.scale_program`); the answer is of ``program`` either way.
    column_scale : ndarray of shape (n_vars,), optional
        Scale of each variable (e.g. :func:`gmp.scaling.box_column_scale` of the moments).

    Returns
    -------
    ConicSolution
        Of ``program``. Solver trouble is a status in it, never an exception;
        ``solution.backend`` names the solver.
    """
    be, opts = resolve_backend(backend), SolverOptions.from_any(options)
    if not scale:
        return be.run(program, opts)
    scaled, scaling = scale_program(program, column_scale)
    return scaling.unscale(be.run(scaled, opts))
