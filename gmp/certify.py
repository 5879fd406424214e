"""The ``certify`` step: what a solved relaxation proves — flatness, atoms, per-atom checks.

A relaxation is certified only when the solver reported optimal, every measure's
moment matrix is flat [CF96], its atoms were extracted [HL05], and every atom passed
the per-atom checks (feasible, attains the bound). Anything less is an answer too:
:class:`Certification` says which step stopped and why (see docs/concepts.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .conic import ConicSolution
from .extraction import Atoms, ExtractionFailure, _extract_at_flat_order
from .flatness import FlatnessReport, flatness
from .matrices import half_degree
from .moments import MomentSequence
from .rank import as_rank_rule
from .result import AtomCheck

if TYPE_CHECKING:  # types only: the problem module sits above the pipeline
    from .polynomial import Polynomial
    from .problem import GMP, Measure
    from .relaxation import RelaxationMap

__all__ = ["Certification", "certify", "check_atoms"]


@dataclass(frozen=True)
class Certification:
    """What the moment side of a solved relaxation proves.

    Attributes
    ----------
    certified : bool
        The bound is the optimum and the atoms are minimizers (see the module docstring).
    reason : str
        Why it is certified, or the first step that failed and why.
    moments : tuple of MomentSequence or None
        Per measure; None when the solver gave no point.
    flatness : tuple of FlatnessReport or None
        Per measure (None where no flatness test applies, e.g. a sub-basis).
    atoms : tuple of Atoms or None
        Per measure; None where nothing was extracted.
    failures : tuple of str or None
        Per measure, why extraction failed (None where it did not fail).
    checks : tuple of AtomCheck
        One per extracted atom, every measure.
    ranks : tuple of tuple of int
        Per measure, the numerical ranks of ``M_0 .. M_r`` (or what the client reports).
    """

    certified: bool
    reason: str
    moments: tuple[MomentSequence, ...] | None = None
    flatness: tuple[FlatnessReport | None, ...] = ()
    atoms: tuple[Atoms | None, ...] = ()
    failures: tuple[str | None, ...] = ()
    checks: tuple[AtomCheck, ...] = ()
    ranks: tuple[tuple[int, ...], ...] = ()


def _flat_degree(m: Measure) -> int:
    """``d`` of the flatness test: ``max(1, max_j ceil(deg g_j / 2))`` over the supports [HL05]."""
    return max([1] + [half_degree(p.degree) for p in m.inequalities + m.equalities])


def certify(
    problem: GMP,
    rmap: RelaxationMap,
    solution: ConicSolution,
    *,
    rank_rule: Any = None,
    extraction: str = "schur",
    check_tol: float = 1e-5,
    objective: Polynomial | None = None,
) -> Certification:
    """Flatness per measure, atoms where flat, and the per-atom checks.

    Parameters
    ----------
    problem : GMP
    rmap : RelaxationMap
        The map of the relaxation that was solved.
    solution : ConicSolution
    rank_rule : float or RankRule, optional
        Numerical rank decision (see :func:`gmp.rank.as_rank_rule`).
    extraction : {"schur", "projection"}
    check_tol : float
        Tolerance of the per-atom checks (relative objective gap, constraint violation).
    objective : Polynomial, optional
        The objective of a polynomial optimization, to check that the atoms attain the bound.

    Returns
    -------
    Certification
    """
    moments = rmap.decode(solution) if solution.status.has_solution else None
    if moments is None:
        return Certification(False, f"the solver gave no solution ({solution.status.value})")
    rule = as_rank_rule(rank_rule)
    reports, atoms, failures = [], [], []
    for m, ms in zip(problem.measures, moments):
        rep = flatness(ms.values, m.n_vars, rmap.order, d=_flat_degree(m), rule=rule)
        reports.append(rep)
        found: Atoms | ExtractionFailure | None = None
        if rep.is_flat:   # extract at the flat order and rank of this report (no second flatness test)
            found = _extract_at_flat_order(ms.values, m.n_vars, rep, extraction, None)
        atoms.append(found if isinstance(found, Atoms) else None)
        failures.append(found.reason if isinstance(found, ExtractionFailure) else None)
    checks = check_atoms(problem, atoms, rmap.bound(solution), objective, check_tol)
    ranks = tuple(tuple(r.ranks) for r in reports)
    certified, reason = _verdict(solution, reports, atoms, failures, checks, ranks)
    return Certification(certified, reason, moments, tuple(reports), tuple(atoms), tuple(failures), checks, ranks)


def check_atoms(problem: GMP, atoms, bound: float | None, objective: Polynomial | None,
                tol: float) -> tuple[AtomCheck, ...]:
    """Each extracted atom: feasible for its measure's support, and attains ``bound`` (given an objective)."""
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
        gaps: list[float | None] = [None] * len(pts)
        if objective is not None and bound is not None and np.isfinite(bound):
            gaps = list(np.abs(objective.evaluate(pts, m.variables) - bound) / max(1.0, abs(bound)))
        for p, w, v, gap in zip(pts, a.weights, viol, gaps):
            ok = bool(v <= tol and (gap is None or gap <= tol) and w > -tol)
            checks.append(AtomCheck(p, float(w), None if gap is None else float(gap), float(v), ok))
    return tuple(checks)


def _verdict(solution, reports, atoms, failures, checks, ranks) -> tuple[bool, str]:
    status = solution.status
    flat = bool(reports) and all(r.is_flat for r in reports)
    if not flat:
        return False, (f"the moment matrix is not flat (ranks {', '.join(map(str, ranks))}); "
                       "try a higher order or order='auto'")
    if not all(a is not None for a in atoms):
        return False, "flat, but atom extraction failed: " + "; ".join(f for f in failures if f)
    if not (checks and all(c.ok for c in checks)):
        return False, "extracted atoms failed the per-atom checks (objective gap or constraint violation)"
    if status.value != "optimal":
        return False, f"the solver reported {status.value}, so nothing is certified ({solution.message})"
    return True, "flat extension: the bound is the optimum and the atoms are global minimizers"
