"""The ``certify`` step: what a solved relaxation proves, read from both sides of one solution.

The moment side: flatness [CF96], atoms [HL05] and the per-atom checks. The dual side: the
SOS certificate, a bound that holds whatever the solver's accuracy (:mod:`gmp.verified_bound`)
and a feasible point for the gap (:mod:`gmp.upper_bound`). Anything less than a certificate
is an answer too: :class:`Certification` says which step stopped and why (docs/concepts.md,
docs/algorithms.md, docs/certificates.md).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .certificate import SOSCertificate, sos_certificate
from .conic import ConicProgram, ConicSolution
from .extraction import Atoms, ExtractionFailure, _extract_at_flat_order
from .flatness import FlatnessReport, flatness
from .matrices import half_degree
from .moments import MomentSequence
from .rank import as_rank_rule
from .result import AtomCheck, SparsityReport
from .sparse_certify import certify_cliques
from .sparse_relaxation import SparseRelaxationMap
from .status import Status
from .upper_bound import FeasiblePoint, local_feasible_point
from .verified_bound import VerifiedBound, verified_bound

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
        The bound is the optimum and the atoms are minimizers: the solver's answer passed
        the core's checks (status optimal), every measure's moment matrix is flat, its atoms
        were extracted and every atom passed its checks.
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
    verified_bound : VerifiedBound or None
        The dual side's bound (None when it was not computed).
    sos_certificate : SOSCertificate or None
    feasible_point : FeasiblePoint or None
        A feasible point of a polynomial optimization and its value (an upper bound on a minimum).
    sparsity : SparsityReport or None
        For a sparse relaxation: which one was solved, its cliques' moments and certificate.
    timings : dict
        Seconds for the moment side (``extract``) and the dual side (``verify``).
    """

    certified: bool
    reason: str
    moments: tuple[MomentSequence, ...] | None = None
    flatness: tuple[FlatnessReport | None, ...] = ()
    atoms: tuple[Atoms | None, ...] = ()
    failures: tuple[str | None, ...] = ()
    checks: tuple[AtomCheck, ...] = ()
    ranks: tuple[tuple[int, ...], ...] = ()
    verified_bound: VerifiedBound | None = None
    sos_certificate: SOSCertificate | None = None
    feasible_point: FeasiblePoint | None = None
    sparsity: SparsityReport | None = None
    timings: dict[str, float] = field(default_factory=dict)


def _flat_degree(m: Measure) -> int:
    """``d`` of the flatness test: ``max(1, max_j ceil(deg g_j / 2))`` over the supports [HL05]."""
    return max([1] + [half_degree(p.degree) for p in m.inequalities + m.equalities])


def certify(
    problem: GMP,
    program: ConicProgram,
    rmap: RelaxationMap,
    solution: ConicSolution,
    *,
    rank_rule: Any = None,
    extraction: str = "schur",
    check_tol: float = 1e-5,
    objective: Polynomial | None = None,
) -> Certification:
    """Both sides of a solved relaxation: flatness, atoms and checks; certificate, verified bound, gap.

    Parameters
    ----------
    problem : GMP
    program : ConicProgram
        The relaxation that was solved (its duals give the certificate).
    rmap : RelaxationMap
        Its map.
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
    t0 = time.perf_counter()
    if isinstance(rmap, SparseRelaxationMap):
        moment_side = certify_sparse(problem, rmap, solution, rank_rule, extraction, check_tol, objective)
        t1 = time.perf_counter()
        # the dual side: the verified bound on the clique boxes; no SOS certificate or local
        # solve is read from a clique layout yet
        bound = verified_bound(problem, program, rmap, solution)
        cert = point = None
    else:
        moment_side = _moment_side(problem, rmap, solution, rank_rule, extraction, check_tol, objective)
        t1 = time.perf_counter()
        bound = verified_bound(problem, program, rmap, solution)
        cert = sos_certificate(problem, program, rmap, solution)
        point = _feasible_point(problem, moment_side)
    t2 = time.perf_counter()
    return replace(moment_side, verified_bound=bound, sos_certificate=cert, feasible_point=point,
                   timings={"extract": t1 - t0, "verify": t2 - t1})


def _moment_side(problem, rmap, solution, rank_rule, extraction, check_tol, objective) -> Certification:
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


def _feasible_point(problem: GMP, moment_side: Certification) -> FeasiblePoint | None:
    """A local optimum from the atoms, or from the first-order moments when there are none."""
    starts: list[tuple[str, np.ndarray]] = []
    if moment_side.atoms and moment_side.atoms[0] is not None:
        starts += [(f"atom {i}", p) for i, p in enumerate(np.asarray(moment_side.atoms[0].points))]
    if moment_side.moments:
        ms = moment_side.moments[0]
        mass = ms.values[0]
        if np.isfinite(mass) and abs(mass) > 0:
            starts.append(("first-order moments", ms.values[1:ms.n_vars + 1] / mass))
    return local_feasible_point(problem, starts) if starts else None


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


# --- sparse relaxations: per clique, then glued (docs/sparsity.md) -----------------------

def _objective_poly(problem, objective):
    if objective is not None:
        return objective
    expr = problem.objective.expr
    if expr is None or problem.constraints:
        return None   # a trace objective, or moment constraints: no per-point objective
    return next(iter(expr.terms.values()))[1] + expr.const if expr.terms else None


def certify_sparse(problem, rmap: SparseRelaxationMap, solution, rank_rule, extraction: str,
                   check_tol: float, objective) -> Certification:
    """The moment side of a sparse relaxation: flatness and atoms per clique, glued atoms and
    their checks, and the :class:`~gmp.result.SparsityReport` of the relaxation solved."""
    plan = rmap.plan
    moments = rmap.decode(solution) if solution.status.has_solution else None
    cert, checks = None, ()
    if moments is not None:
        cert = certify_cliques(problem, plan, moments, as_rank_rule(rank_rule), extraction)
        f = _objective_poly(problem, objective)
        if cert.glued is not None and f is not None:
            checks = check_atoms(problem, (cert.glued,), rmap.bound(solution), f, check_tol)
    checks_ok = bool(checks) and all(c.ok for c in checks)
    certified = bool(solution.status is Status.OPTIMAL and cert is not None and cert.all_flat
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
    glued = cert.glued if cert is not None else None
    return Certification(
        certified, _reason(plan, solution, cert, checks, checks_ok, certified), None,
        tuple(cert.flatness) if cert is not None else (), (glued,), (None,), checks,
        cert.ranks if cert is not None else (), sparsity=report)


def _reason(plan, sol, cert, checks, checks_ok, certified) -> str:
    what = f"the {plan.kind} sparse relaxation"
    if not sol.status.has_solution:
        return f"the solver gave no solution ({sol.status.value})"
    if certified:
        return (f"certified by cliques: every clique of {what} is flat and the glued atoms agree on the "
                "overlaps, are feasible and attain the bound: the bound is the optimum and the atoms are "
                "global minimizers")
    weaker = f"{what}, which may be weaker than the dense relaxation of the same order"
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
    return f"{weaker}: the solver reported {sol.status.value}, so nothing is certified ({sol.message})"
