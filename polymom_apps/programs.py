"""The conic programs of Polymom on the parameter measure: the order, the exact and robust forms, the sub-basis.

The exact form [WCL15, Problem 7] minimizes the trace under the moment equalities; the robust
form minimizes a GMM-weighted moment residual [Han82] plus the trace (:mod:`polymom_apps.robust`);
on a model's moment sub-basis only a principal submatrix of ``M_r`` is kept (:mod:`gmp.subbasis`).
See docs/polymom.md, "The estimation pipeline", step 4.
"""
from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from gmp import (
    GMP,
    Atoms,
    Certification,
    ConicProgram,
    ConicSolution,
    Constraint,
    ExtractionFailure,
    FlatnessReport,
    Measure,
    ModelError,
    OrderError,
    Polynomial,
    RelaxationMap,
    Result,
    count,
    package,
    relax,
    run,
)
from gmp.monomials import basis as monomial_basis
from gmp.monomials import index
from gmp.subbasis import RestrictedProgram, check_subbasis, restrict_moment_matrix

from .robust import robust_program
from .spec import MixtureSpec

__all__ = ["build_program", "default_order", "gmp_result", "order_for", "parameter_measure", "riesz_matrix",
           "run_program", "sub_basis"]


def default_order(n_params: int, n_components: int, degrees: Sequence[int]) -> int:
    """Smallest ``r`` with ``2r >= max(degrees)`` and ``count(n_params, r - 1) >= n_components``."""
    r = max([1] + [-(-int(d) // 2) for d in degrees])
    while count(n_params, r - 1) < n_components:
        r += 1
    return r


def order_for(spec: MixtureSpec, polys: Sequence[Polynomial], K: int, support: Sequence[Constraint],
              order: int | None) -> int:
    """The relaxation order: ``order`` checked against K, or :func:`default_order`."""
    P = spec.n_params
    degs = [f.degree for f in polys] + [c.expr.degree for c in support]
    lo = default_order(P, K, degs)
    if order is None:
        return lo
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise OrderError(f"order must be a positive integer or None, got {order!r}")
    r = int(order)
    if count(P, r - 1) < K:
        raise OrderError(
            f"order={r} cannot hold K={K} atoms: extraction needs count(P={P}, r-1={r - 1}) = "
            f"{count(P, r - 1)} >= {K} rows of degree <= r-1; pass order={lo} or order=None"
        )
    return r


def parameter_measure(spec: MixtureSpec, support: Sequence[Constraint]) -> Measure:
    """The probability measure ``mu`` on the parameters, with the support constraints."""
    return Measure(spec.parameters, support=support, mass=1.0, name="theta")


def build_program(mu: Measure, spec: MixtureSpec, polys: Sequence[Polynomial], m: np.ndarray, r: int, method: str,
                  lam: float, weight_half: np.ndarray | None,
                  basis: str) -> tuple[ConicProgram, RelaxationMap, GMP, RestrictedProgram | None]:
    """The order-``r`` program of ``method`` on ``mu``.

    Returns ``(program, rmap, problem, sub)``: the :class:`~gmp.ConicProgram`, the relaxation's
    map, the GMP it relaxes, and the sub-basis restriction (None on the whole ``M_r``).
    """
    A = riesz_matrix(spec, polys, r)
    sub = sub_basis(spec, r, A) if basis == "model" else None
    if method == "exact":
        problem = GMP(None, [mu.E(f) == float(mn) for f, mn in zip(polys, m)], measures=[mu])
        program, rmap = relax(problem, r)
        if sub is not None:
            sub = restrict_moment_matrix(program, rmap, sub)
            program = sub.program
    else:
        problem = GMP(None, [], measures=[mu])
        base, rmap = relax(problem, r)
        if sub is not None:
            sub = restrict_moment_matrix(base, rmap, sub)
            base, A = sub.program, A[:, sub.kept]
        S = np.eye(len(m)) if weight_half is None else weight_half
        program = robust_program(base, S @ A, S @ m, lam)
    return program, rmap, problem, sub


def run_program(program: ConicProgram, backend: Any, options: Any) -> tuple[ConicSolution, str]:
    """Solve ``program`` (gmp's ``run`` step); returns ``(solution, backend name)``."""
    sol = run(program, backend, options)
    return sol, sol.backend


def sub_basis(spec: MixtureSpec, r: int, A: np.ndarray) -> np.ndarray | None:
    """The model's sub-basis of ``M_r`` (validated), or None; every moment the polynomials use must be in ``M_B``."""
    if spec.moment_basis is None:
        return None
    B = check_subbasis(spec.moment_basis(r), spec.n_params, r)
    inside = np.zeros(A.shape[1], bool)
    inside[np.unique(index(B[:, None, :] + B[None, :, :]))] = True
    missing = np.flatnonzero(np.any(A != 0, axis=0) & ~inside)
    if missing.size:
        e = monomial_basis(spec.n_params, 2 * r)[missing[0]]
        mono = "*".join(f"{n}^{int(k)}" if k > 1 else n for n, k in zip(spec.param_names, e) if k) or "1"
        raise ModelError(
            f"the moment polynomials use the moment of {mono}, which the model's moment sub-basis does not "
            "reach (no product of two of its monomials gives it); fix spec.moment_basis or pass basis='full'"
        )
    return B


def riesz_matrix(spec: MixtureSpec, polys: Sequence[Polynomial], r: int) -> np.ndarray:
    """``A`` with ``A @ y = (L_y(f_n))_n`` over the moments of degree <= 2r."""
    n_mom = count(spec.n_params, 2 * r)
    A = np.zeros((len(polys), n_mom))
    for k, f in enumerate(polys):
        e, c = f.terms_in(spec.parameters)
        np.add.at(A[k], index(e), c)
    return A


def gmp_result(sol: ConicSolution, rmap: RelaxationMap, r: int, y: np.ndarray | None, report: FlatnessReport | None,
               atoms: Atoms | ExtractionFailure | None, times: tuple[float, float, float], problem: GMP,
               ranks: Sequence[int] | None = None) -> Result:
    """The :class:`gmp.Result` of the relaxation (gmp's ``package`` step), never certified: the K
    atoms are read at a fixed rank, which no flatness test supports."""
    from gmp.moments import MomentSequence

    t0, t1, t2 = times
    t3 = time.perf_counter()
    mu = problem.measures[0]
    moments = None if y is None else (MomentSequence(mu.variables, 2 * r, y),)
    ok_atoms = atoms if (atoms is not None and atoms.success) else None
    if report is not None:                 # the whole M_r: its flatness report
        reason, ranks = f"{K_ATOMS_NOTE}; {report.message}", tuple(report.ranks)
    elif ranks is not None:                # a sub-basis: ranks of M_0..M_{r-1} and of M_B, no flatness test
        reason = (f"{K_ATOMS_NOTE}; numerical ranks {list(ranks)}, the last of M_B on the moment "
                  "sub-basis (no flatness test applies there)")
    else:                                  # no solution
        reason = sol.message
    cert = Certification(False, reason, moments, () if report is None else (report,), (ok_atoms,), (None,), (),
                         () if ranks is None else (tuple(ranks),))
    return package(rmap, sol, cert, {"build": t1 - t0, "solve": t2 - t1, "extract": t3 - t2, "total": t3 - t0})


K_ATOMS_NOTE = "the components are the atoms at the fixed rank K (an estimate, not a certificate)"
