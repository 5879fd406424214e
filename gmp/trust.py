"""What makes an answer trustworthy beside the solver's word: the scaled run, the verified
bound and SOS certificate from the dual side, and a feasible point for the gap.

Two calls for the pipeline of :mod:`gmp.solve`: :func:`run_scaled` (scale the program
exactly, solve, scale back) and :func:`dual_and_gap` (the Result fields
``verified_bound``, ``verified_bound_note``, ``certificate``, ``feasible_value``,
``feasible_point`` and ``gap``). The mathematics lives in :mod:`gmp.scaling`,
:mod:`gmp.verified_bound`, :mod:`gmp.certificate` and :mod:`gmp.upper_bound`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .certificate import sos_certificate
from .conic import ConicProgram, ConicSolution
from .scaling import Scaling, box_column_scale, scale_program
from .upper_bound import local_feasible_point
from .verified_bound import verified_bound

if TYPE_CHECKING:  # types only: the problem module sits above the pipeline
    from .problem import GMP
    from .relaxation import RelaxationMap

__all__ = ["ScaledRun", "run_scaled", "dual_and_gap"]


@dataclass(frozen=True, eq=False)
class ScaledRun:
    """The program the solver saw, its answer, and the scaling between them and the relaxation."""

    program: ConicProgram
    solution: ConicSolution
    scaling: Scaling


def run_scaled(problem: GMP, program: ConicProgram, rmap: RelaxationMap, backend: Any,
               options: Any) -> tuple[ConicSolution, ScaledRun]:
    """Solve ``program`` through its exact power-of-two scaling (:mod:`gmp.scaling`).

    Returns the solution of ``program`` itself and the scaled run (for the verified bound).
    """
    scaled, scaling = scale_program(program, box_column_scale(problem, rmap))
    sol = backend.run(scaled, options)
    return scaling.unscale(sol), ScaledRun(scaled, sol, scaling)


def dual_and_gap(problem: GMP, program: ConicProgram, rmap: RelaxationMap, solution: ConicSolution,
                 run: ScaledRun | None, atoms: tuple, moments) -> dict[str, Any]:
    """The Result fields of the dual side and of the optimality gap (module docstring)."""
    if run is not None:
        vb = verified_bound(problem, run.program, rmap, run.solution,
                            column_scale=run.scaling.column, objective_scale=run.scaling.objective)
    else:
        vb = verified_bound(problem, program, rmap, solution)
    cert = sos_certificate(problem, program, rmap, solution)
    starts: list[tuple[str, np.ndarray]] = []
    if atoms and atoms[0] is not None:
        starts += [(f"atom {i}", p) for i, p in enumerate(np.asarray(atoms[0].points))]
    if moments:
        ms = moments[0]
        n = ms.n_vars
        mass = ms.values[0]
        if np.isfinite(mass) and abs(mass) > 0:
            starts.append(("first-order moments", ms.values[1:n + 1] / mass))
    fp = local_feasible_point(problem, starts) if starts else None
    gap = None
    if fp is not None and np.isfinite(vb.value):
        gap = abs(fp.value - vb.value)
    return {
        "verified_bound": float(vb.value), "verified_bound_note": vb.reason, "certificate": cert,
        "feasible_value": None if fp is None else fp.value,
        "feasible_point": None if fp is None else fp.point,
        "gap": gap,
    }
