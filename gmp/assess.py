"""The core's own check of a solver's answer: residuals, duality gap, and certificates.

:func:`assess` recomputes the residuals and gap of the returned point and duals
(:func:`residuals`) and keeps ``optimal``, ``infeasible`` or ``unbounded`` only when they,
or the solver's Farkas ray or improving direction, verify here; otherwise the status is
``optimal_inaccurate`` or ``numerical_error``, with the reason. This is the one
implementation of the "inaccurate" rule: backends only map their raw statuses
(docs/algorithms.md, "Assessing a solver's answer").
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from .conic import ConicProgram, ConicSolution
from .status import Status

__all__ = ["DEFAULT_TOL", "Residuals", "residuals", "tolerances", "assess", "check_farkas",
           "check_direction"]

#: Accuracy asked of an ``optimal`` answer when the caller gives no ``tol``.
DEFAULT_TOL = 1e-6

_STALLED = (Status.ITERATION_LIMIT, Status.TIME_LIMIT, Status.NUMERICAL_ERROR, Status.OPTIMAL_INACCURATE)


def tolerances(tol: float | None) -> tuple[float, float]:
    """``(accurate, inaccurate)``: the residual bounds of ``optimal`` and of
    ``optimal_inaccurate``. ``accurate = 10 tol`` (:data:`DEFAULT_TOL` when ``tol`` is
    None: solvers measure residuals in norms of their own, within a small factor of
    ours), ``inaccurate = sqrt(accurate) / 10``."""
    acc = DEFAULT_TOL if tol is None else 10.0 * float(tol)
    return acc, math.sqrt(acc) / 10.0


@dataclass(frozen=True)
class Residuals:
    """Relative residuals of a primal-dual point (see :func:`residuals`)."""

    primal: float
    dual: float
    gap: float
    primal_objective: float
    dual_objective: float
    bound_effect: float = 0.0

    @property
    def worst(self) -> float:
        return max(self.primal, self.dual, self.gap, self.bound_effect)

    def __str__(self) -> str:
        return (f"relative primal/dual residuals {self.primal:.1e}/{self.dual:.1e}, "
                f"relative gap {self.gap:.1e}, dual infeasibility's effect on the bound {self.bound_effect:.1e}")


def _inf(a: np.ndarray) -> float:
    return float(np.max(np.abs(a), initial=0.0))


def _neg_eig(M: np.ndarray) -> float:
    if M.size == 0:
        return 0.0
    M = (M + M.T) / 2
    return max(0.0, -float(np.linalg.eigvalsh(M)[0]))


def residuals(program: ConicProgram, solution: ConicSolution) -> Residuals | None:
    """Relative residuals of ``solution``'s point and duals, or None if it lacks them.

    * primal: the largest of ``|A_eq x - b_eq|_inf / (1 + |b_eq|_inf)``,
      ``max(A_ineq x - b_ineq, 0) / (1 + |b_ineq|_inf)`` and, per PSD block, the most
      negative eigenvalue of ``mat(F0 + F x)`` over one plus its largest entry;
    * dual: ``|c + A_eq^T y + A_ineq^T z - sum_j F_j^T vec Z_j|_inf / (1 + |c|_inf)``, the
      negative part of ``z`` and the most negative eigenvalue of each ``Z_j`` over
      one plus its largest entry;
    * gap: ``|p - d| / max(1, |p|, |d|)`` with ``p = c x + c0`` and ``d`` the dual
      objective of :mod:`gmp.conic`, both recomputed here;
    * bound effect: ``(max(0, -x . r) + sum_j lambda_min^-(Z_j) tr mat(F0_j + F_j x)) / max(1, |p|, |d|)``
      with ``r`` the dual residual vector: by how much the dual's infeasibility can lift its
      bound above the optimum near the solution (weak duality: the optimum is at least ``d + x* . r - sum_j
      lambda_min^-(Z_j) tr M_j(x*)``). Each block's share is tiny relative to the block,
      but a sparse relaxation has thousands of blocks and their shares add up; the other
      three checks, relative per entry or per block, do not see that sum.
    """
    x, y, z, Z = solution.x, solution.y_eq, solution.z_ineq, solution.Z_psd
    if x is None or Z is None or (program.n_eq and y is None) or (program.n_ineq and z is None):
        return None
    x = np.asarray(x, dtype=float)
    y = np.zeros(0) if y is None else np.asarray(y, dtype=float)
    z = np.zeros(0) if z is None else np.asarray(z, dtype=float)
    arrays = [x, y, z, *Z]
    if not all(np.all(np.isfinite(a)) for a in arrays):
        return Residuals(np.inf, np.inf, np.inf, np.nan, np.nan)
    p = program
    pres = _inf(p.A_eq @ x - p.b_eq) / (1 + _inf(p.b_eq))
    pres = max(pres, float(np.max(p.A_ineq @ x - p.b_ineq, initial=0.0)) / (1 + _inf(p.b_ineq)))
    grad = p.c + p.A_eq.T @ y + p.A_ineq.T @ z
    dcone = max(0.0, -float(np.min(z, initial=0.0))) / (1 + _inf(z))
    dobj = p.c0 - p.b_eq @ y - p.b_ineq @ z
    cone_effect = 0.0
    for blk, Zj in zip(p.psd, Z):
        Zj = np.asarray(Zj, dtype=float)
        M = blk.matrix(x)
        pres = max(pres, _neg_eig(M) / (1 + _inf(M)))
        zvec = Zj.reshape(-1, order="F")
        grad = grad - blk.F.T @ zvec
        dobj -= float(blk.F0 @ zvec)
        neg = _neg_eig(Zj)
        dcone = max(dcone, neg / (1 + _inf(Zj)))
        cone_effect += neg * max(0.0, float(np.trace(M)))
    dres = max(_inf(grad) / (1 + _inf(p.c)), dcone)
    pobj = p.objective(x)
    scale = max(1.0, abs(pobj), abs(dobj))
    gap = abs(pobj - dobj) / scale
    effect = (max(0.0, -float(x @ grad)) + cone_effect) / scale   # only d above the optimum matters
    return Residuals(float(pres), float(dres), float(gap), float(pobj), float(dobj), effect)


def check_farkas(program: ConicProgram, cert: dict | None, tol: float) -> tuple[bool, str]:
    """Whether ``cert = {"y_eq", "z_ineq", "Z_psd"}`` proves ``program`` infeasible.

    Normalized to ``-(b_eq y + b_ineq z + sum <F0_j, Z_j>) = 1``, a certificate needs
    ``z >= 0``, ``Z_j`` PSD and ``A_eq^T y + A_ineq^T z - sum F_j^T vec Z_j = 0``; each
    within ``tol`` (relative to ``max(1, |c|_inf)`` for the last). Then no ``x`` with
    ``|x|_1 < 1 / residual`` is feasible.
    """
    if not isinstance(cert, dict):
        return False, "the solver gave no certificate"
    p = program
    y = np.zeros(p.n_eq) if cert.get("y_eq") is None else np.asarray(cert["y_eq"], dtype=float)
    z = np.zeros(p.n_ineq) if cert.get("z_ineq") is None else np.asarray(cert["z_ineq"], dtype=float)
    Z = cert.get("Z_psd")
    Z = tuple(np.zeros((d, d)) for d in p.psd_dims) if Z is None else tuple(np.asarray(a, float) for a in Z)
    if y.shape != (p.n_eq,) or z.shape != (p.n_ineq,) or len(Z) != len(p.psd) or not all(
            np.all(np.isfinite(a)) for a in (y, z, *Z)):
        return False, "the certificate has the wrong shape or holds NaN"
    value = -(p.b_eq @ y + p.b_ineq @ z + sum((blk.F0 @ Zj.reshape(-1, order="F") for blk, Zj in zip(p.psd, Z)), 0.0))
    if not value > 0:
        return False, f"the certificate's value -(b y + <F0, Z>) is {value:.1e}, not positive"
    y, z, Z = y / value, z / value, tuple(Zj / value for Zj in Z)
    r = p.A_eq.T @ y + p.A_ineq.T @ np.maximum(z, 0.0)
    for blk, Zj in zip(p.psd, Z):
        r = r - blk.F.T @ Zj.reshape(-1, order="F")
    res = _inf(r) / max(1.0, _inf(p.c))
    cone = max([max(0.0, -float(np.min(z, initial=0.0)))] + [_neg_eig(Zj) for Zj in Z])
    if res > tol or cone > tol:
        return False, (f"the certificate's residual is {res:.1e} and its cone violation {cone:.1e} "
                       f"(after normalization), above {tol:.0e}")
    radius = np.inf if res + cone == 0 else 1.0 / (res + cone)
    return True, f"Farkas certificate verified (no feasible x with |x|_1 < {radius:.1e})"


def check_direction(program: ConicProgram, d: np.ndarray | None, tol: float) -> tuple[bool, str]:
    """Whether ``d`` is an improving direction: ``c d < 0``, and, normalized to ``c d = -1``,
    ``A_eq d = 0``, ``A_ineq d <= 0``, ``mat(F_j d)`` PSD, each within ``tol`` (relative
    to ``max(1, |b|_inf)``). With a feasible point, the program is then unbounded."""
    if d is None:
        return False, "the solver gave no direction"
    d = np.asarray(d, dtype=float).ravel()
    p = program
    if d.shape != (p.n_vars,) or not np.all(np.isfinite(d)):
        return False, "the direction has the wrong shape or holds NaN"
    slope = float(p.c @ d)
    if not slope < 0:
        return False, f"the direction does not decrease the objective (c d = {slope:.1e})"
    d = d / -slope
    scale = max([1.0, _inf(p.b_eq), _inf(p.b_ineq)] + [_inf(b.F0) for b in p.psd])
    viol = max([_inf(p.A_eq @ d), float(np.max(p.A_ineq @ d, initial=0.0))]
               + [_neg_eig((b.F @ d).reshape(b.dim, b.dim, order="F")) for b in p.psd]) / scale
    if viol > tol:
        return False, f"the direction violates the constraints by {viol:.1e} (after normalization), above {tol:.0e}"
    return True, "improving direction verified"


#: A claim, the check of its certificate, where the certificate is, and what to try otherwise.
_CLAIMS = {
    Status.INFEASIBLE: (check_farkas, "infeasibility_certificate", "infeasible",
                        "rescale the problem or try another backend"),
    Status.UNBOUNDED: (check_direction, "unbounded_direction", "unbounded",
                       "add constraints that bound it, or try another backend"),
}


def assess(program: ConicProgram, solution: ConicSolution, tol: float | None = None) -> ConicSolution:
    """``solution`` with its status decided by the core (docs/algorithms.md, "Assessing a solver's answer").

    ``info["check"]`` holds the residuals (or the certificate check) and the rule's
    tolerances; the solver's own status stays in ``raw_status``.
    """
    acc, loose = tolerances(tol)
    st = solution.status
    info = dict(solution.info)
    check: dict = {"tolerances": (acc, loose), "solver_status": st.value}
    info["check"] = check
    if st in _CLAIMS:
        verify, key, what, remedy = _CLAIMS[st]
        ok, why = verify(program, info.get(key), loose)
        check["certificate"] = why
        if ok:
            return replace(solution, info=info)
        return replace(solution, status=Status.NUMERICAL_ERROR, info=info, message=(
            f"the solver reported the program {what}, but {why}, so gmp does not claim it "
            f"({solution.message}); {remedy}"))
    if st is not Status.OPTIMAL and st not in _STALLED:
        return replace(solution, info=info)
    res = residuals(program, solution)
    if res is None:
        if st is Status.OPTIMAL:
            return replace(solution, status=Status.OPTIMAL_INACCURATE, info=info, message=(
                f"{solution.message}; but the solver returned no dual solution, so gmp cannot "
                "check its accuracy"))
        return replace(solution, info=info)
    check.update(primal_residual=res.primal, dual_residual=res.dual, relative_gap=res.gap,
                 bound_effect=res.bound_effect)
    if st is Status.OPTIMAL:
        if res.worst <= acc:
            return replace(solution, info=info)
        if res.worst <= loose:
            return replace(solution, status=Status.OPTIMAL_INACCURATE, info=info, message=(
                f"the solver reported optimal, but gmp's check finds {res} (above {acc:.0e}): "
                f"a less accurate solution; tighten tol or use an interior-point backend "
                f"({solution.message})"))
        return replace(solution, status=Status.NUMERICAL_ERROR, info=info, message=(
            f"the solver reported optimal, but gmp's check finds {res} (above {loose:.0e}): "
            f"not a solution; tighten tol, rescale the problem, or use another backend "
            f"({solution.message})"))
    if res.worst <= loose:
        what = "reported a reduced accuracy" if st is Status.OPTIMAL_INACCURATE else f"stopped ({st.value})"
        return replace(solution, status=Status.OPTIMAL_INACCURATE, info=info, message=(
            f"the solver {what}, but its last point is nearly optimal ({res}, all <= "
            f"{loose:.0e}); use it with care ({solution.message})"))
    if st is Status.OPTIMAL_INACCURATE:
        return replace(solution, status=Status.NUMERICAL_ERROR, info=info, message=(
            f"the solver reported a solution of reduced accuracy, but gmp's check finds {res} "
            f"(above {loose:.0e}): not a solution ({solution.message})"))
    return replace(solution, info=info)
