"""Linear-algebra presolve shared by the backends: redundant equalities, cone-free programs.

:func:`independent_rows` finds exactly redundant equality rows by a pivoted QR [GVL13, Sec. 5.4.2]
(cvxopt stops on them; if their right-hand sides disagree, :meth:`RowReduction.infeasible` says
so without a solver), and :func:`solve_without_cones` answers a program without any cone
constraint (:func:`has_no_cones`) by least squares. Details: docs/backends.md, "Presolve".
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from gmp.conic import ConicProgram, ConicSolution
from gmp.rank import row_basis
from gmp.status import Status

__all__ = ["CONSISTENCY_TOL", "RowReduction", "independent_rows", "has_no_cones",
           "solve_without_cones"]

#: Redundant equality rows whose right-hand sides differ by more than this
#: (relative) make the program infeasible; also the tolerance of the linear-system path.
CONSISTENCY_TOL = 1e-9


def has_no_cones(program: ConicProgram) -> bool:
    """True when ``program`` has no variable, or neither an inequality nor a PSD block."""
    return program.n_vars == 0 or (program.n_ineq == 0 and not program.psd)


@dataclass(frozen=True)
class RowReduction:
    """Independent equality rows ``keep`` (sorted); ``dropped`` are combinations of them."""

    keep: np.ndarray
    dropped: np.ndarray
    mismatch: np.ndarray  # relative disagreement of each dropped row's right-hand side

    @property
    def inconsistent(self) -> bool:
        return bool(np.any(self.mismatch > CONSISTENCY_TOL))

    def farkas_ray(self, program: ConicProgram) -> np.ndarray:
        """``y`` with ``A_eq^T y = 0`` and ``b_eq @ y < 0``: the most inconsistent dropped row
        minus its combination of the kept rows (a certificate the core verifies)."""
        k = int(self.dropped[np.argmax(self.mismatch)])
        A = program.A_eq
        w = np.linalg.lstsq(A[self.keep].toarray().T, A[k].toarray().ravel(), rcond=None)[0]
        y = np.zeros(program.n_eq)
        y[k] = 1.0
        y[self.keep] = -w
        value = program.b_eq @ y
        return -y / value if value else y

    def infeasible(self, program: ConicProgram) -> ConicSolution:
        bad = self.dropped[self.mismatch > CONSISTENCY_TOL]
        cert = {"y_eq": self.farkas_ray(program), "z_ineq": np.zeros(program.n_ineq),
                "Z_psd": tuple(np.zeros((d, d)) for d in program.psd_dims)}
        return ConicSolution(
            Status.INFEASIBLE, "inconsistent equalities",
            f"equality rows {sorted(bad.tolist())[:5]} of A_eq are linear combinations "
            f"of other rows but their right-hand sides disagree (relative mismatch up to "
            f"{self.mismatch.max():.1e}); no x satisfies A_eq @ x == b_eq, so no solver was called",
            info={"redundant_eq_rows": self.dropped, "inconsistent_eq_rows": bad,
                  "infeasibility_certificate": cert},
        )


def independent_rows(A: sp.csr_matrix, b: np.ndarray,
                     dense_limit: float = 2e7) -> RowReduction | None:
    """Pivoted QR of ``A.T`` [GVL13, Sec. 5.4.2]; ``None`` if ``A`` is too big to densify.

    Its cost, ``n_vars * m_eq**2`` flops, is at most that of one cvxopt
    iteration (a dense ``n_vars x n_vars`` Cholesky factorization) when the rows
    are independent; ``dense_limit`` (entries of the dense ``A``) is the memory
    the caller accepts to spend (cvxopt: what it allocates anyway).
    """
    from scipy.linalg import solve_triangular

    m, n = A.shape
    if m * n > dense_limit:
        return None
    R, piv, r = row_basis(A.toarray())
    dropped = np.sort(piv[r:])
    if r == 0:
        pred, scale = np.zeros(dropped.size), np.zeros(dropped.size)
    else:  # A[piv[r:]] == W.T @ A[piv[:r]]
        W = solve_triangular(R[:r, :r], R[:r, r:])
        order = np.argsort(piv[r:])
        pred = (W.T @ b[piv[:r]])[order]
        scale = (np.abs(W.T) @ np.abs(b[piv[:r]]))[order]
    mismatch = np.abs(pred - b[dropped]) / np.maximum(1.0, scale + np.abs(b[dropped]))
    return RowReduction(np.sort(piv[:r]), dropped, mismatch)


def solve_without_cones(program: ConicProgram) -> ConicSolution:
    """``min c @ x s.t. A_eq x = b_eq`` (plus constant cone constraints when n_vars == 0)."""
    A, b, c = program.A_eq.toarray(), program.b_eq, program.c
    x = np.linalg.lstsq(A, b, rcond=None)[0] if b.size else np.zeros(c.size)
    y = np.linalg.lstsq(A.T, -c, rcond=None)[0] if b.size else np.zeros(0)
    pres = np.linalg.norm(A @ x - b) / max(1.0, np.linalg.norm(b))
    if program.n_vars == 0:  # the cone constraints are constants: check them
        eigs = [np.linalg.eigvalsh(blk.F0.reshape(blk.dim, blk.dim, order="F"))[0]
                for blk in program.psd]
        pres = max([pres, -np.min(program.b_ineq, initial=0.0), *(-e for e in eigs)])
    d = c + A.T @ y
    common = dict(raw_status="linear system", info={"primal_residual": float(pres)})
    what = "the program has no cone constraint and was solved as a linear system"
    if pres > CONSISTENCY_TOL:
        if b.size and program.n_vars:  # the least-squares residual is a Farkas ray
            ray = A @ x - b
            common["info"]["infeasibility_certificate"] = {
                "y_eq": ray / max(float(ray @ ray), np.finfo(float).tiny),
                "z_ineq": np.zeros(program.n_ineq),
                "Z_psd": tuple(np.zeros((k, k)) for k in program.psd_dims)}
        return ConicSolution(Status.INFEASIBLE, message=f"{what}: the constraints are "
                             f"inconsistent (residual {pres:.1e})", **common)
    if np.linalg.norm(d) > CONSISTENCY_TOL * max(1.0, np.linalg.norm(c)):
        common["info"]["unbounded_direction"] = -d
        return ConicSolution(Status.UNBOUNDED, message=f"{what}: the objective decreases "
                             "without bound along info['unbounded_direction']", **common)
    return ConicSolution(
        Status.OPTIMAL, message=f"{what}; it is optimal", x=x,
        primal_objective=program.objective(x), dual_objective=float(program.c0 - b @ y),
        y_eq=y, z_ineq=np.zeros(program.n_ineq),
        Z_psd=tuple(np.zeros((k, k)) for k in program.psd_dims), **common,
    )
