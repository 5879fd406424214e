"""The ``package`` step: the one place a :class:`~gmp.result.Result` is built."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .certify import Certification
from .conic import ConicSolution
from .result import Result
from .status import Status

if TYPE_CHECKING:  # types only: the problem module sits above the pipeline
    from .relaxation import RelaxationMap

__all__ = ["package"]


def package(rmap: RelaxationMap, solution: ConicSolution, certification: Certification,
            timings: dict[str, float]) -> Result:
    """The :class:`Result` of one relaxation: status, bound, certificate, atoms, message.

    Parameters
    ----------
    rmap : RelaxationMap
        The map of the relaxation that was solved (order, sense).
    solution : ConicSolution
        The backend's answer (its ``backend`` names the solver).
    certification : Certification
        From :func:`gmp.certify.certify`, or built by a client that certifies otherwise.
    timings : dict
        Seconds per step (``build``, ``solve``, ``total``); the certification's own
        (``extract``, ``verify``) are added.
    """
    status = solution.status
    bound = rmap.bound(solution)
    if status is Status.INFEASIBLE:
        bound = np.inf * rmap.sign
    elif status is Status.UNBOUNDED:
        bound = -np.inf * rmap.sign
    elif not status.has_solution:
        bound = None
    atoms = certification.atoms
    vb, point = certification.verified_bound, certification.feasible_point
    verified = -np.inf * rmap.sign if vb is None else float(vb.value)
    gap = None
    if point is not None and np.isfinite(verified):
        gap = abs(point.value - verified)
    return Result(
        success=status.has_solution,
        status=status,
        message=_message(status, solution, certification),
        bound=bound,
        order=rmap.order,
        certified=certification.certified and status is Status.OPTIMAL,
        ranks=certification.ranks,
        atoms=atoms[0] if atoms else None,
        moments=certification.moments,
        backend=solution.backend,
        timings={**timings, **certification.timings},
        raw_status=solution.raw_status,
        atoms_per_measure=tuple(atoms),
        atom_checks=certification.checks,
        flatness=tuple(certification.flatness),
        solution=solution,
        verified_bound=verified,
        verified_bound_note="not computed" if vb is None else vb.reason,
        certificate=certification.sos_certificate,
        feasible_value=None if point is None else point.value,
        feasible_point=None if point is None else point.point,
        gap=gap,
        sparsity=certification.sparsity,
    )


def _message(status: Status, solution: ConicSolution, certification: Certification) -> str:
    sparsity = certification.sparsity
    what = "the relaxation" if sparsity is None else f"the {sparsity.kind} sparse relaxation"
    if status is Status.INFEASIBLE:
        return f"{what} is infeasible, so the problem is infeasible ({solution.message})"
    if status is Status.UNBOUNDED:
        weak = "order is too low" if certification.sparsity is None else "order (or this sparsity) is too weak"
        return f"{what} is unbounded: the problem is unbounded, or this {weak} to bound it ({solution.message})"
    if not status.has_solution:
        return f"the solver gave no solution: {solution.message}"
    if certification.certified:
        return certification.reason
    return "bound only: " + certification.reason
