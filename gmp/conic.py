"""The one neutral type between the model and the solvers.

A moment relaxation reaches a backend as a :class:`ConicProgram` (minimize ``c @ x + c0``
under linear equalities and inequalities and PSD blocks ``mat(F0_j + F_j @ x)``, the form
of ``cvxopt.solvers.sdp``), and the backend answers with a :class:`ConicSolution` whose
duals follow one sign convention. Backends never see polynomials. The form, the duals and
the certificates of infeasibility: docs/algorithms.md, "Conic form and duals".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import scipy.sparse as sp

from .errors import ModelError
from .matrices import freeze
from .status import Status

__all__ = ["PSDBlock", "ConicProgram", "ConicSolution"]


@lru_cache(maxsize=32)
def _empty_rows(n: int) -> sp.csr_matrix:
    """A shared, read-only ``0 x n`` CSR matrix (a program without rows of a kind)."""
    return freeze(sp.csr_matrix((np.zeros(0), np.zeros(0, np.int32), np.zeros(1, np.int32)), shape=(0, n)))


def _as_csr(a: Any, shape: tuple[int, int], what: str) -> sp.csr_matrix:
    m = a if (sp.isspmatrix_csr(a) and a.dtype == np.float64) else sp.csr_matrix(a, dtype=float)
    if m.shape != shape:
        raise ModelError(f"{what} must have shape {shape}, got {m.shape}")
    return m


def _check_finite(arr: np.ndarray | sp.spmatrix, what: str) -> None:
    data = arr.data if sp.issparse(arr) else np.asarray(arr)
    if data.size and not np.all(np.isfinite(data)):
        bad = np.flatnonzero(~np.isfinite(np.ravel(data)))[0]
        raise ModelError(
            f"{what} contains a non-finite value ({np.ravel(data)[bad]!r}); "
            "no solver is given NaN or inf: fix the coefficients of the problem"
        )


@dataclass(frozen=True, eq=False)
class PSDBlock:
    """A linear matrix inequality ``mat(F0 + F @ x) ⪰ 0`` of size ``dim``.

    Parameters
    ----------
    dim : int
        Side of the symmetric matrix.
    F : sparse matrix of shape (dim * dim, n_vars)
        Column ``i`` is ``vec(F_i)`` (column-major) of the symmetric coefficient of ``x[i]``.
    F0 : ndarray of shape (dim * dim,)
        ``vec`` of the constant term.
    name : str
        Human label ("moment matrix of mu, order 2", "localizing g_1", ...).
    """

    dim: int
    F: sp.csc_matrix
    F0: np.ndarray
    name: str = ""

    def matrix(self, x: np.ndarray) -> np.ndarray:
        """The numeric matrix ``mat(F0 + F @ x)`` of shape (dim, dim)."""
        return (self.F0 + self.F @ x).reshape(self.dim, self.dim, order="F")


@dataclass(frozen=True, eq=False)
class ConicProgram:
    """Backend-neutral conic program in the moment (inequality) form.

    ::

        minimize    c @ x + c0
        subject to  A_eq @ x == b_eq
                    A_ineq @ x <= b_ineq
                    mat(F0_j + F_j @ x) is PSD          for every PSD block j

    with ``F_j`` and ``F0_j`` the data of the :class:`PSDBlock` ``j``. The duals'
    sign convention is in docs/algorithms.md ("Conic form and duals").

    Attributes
    ----------
    c : ndarray of shape (n_vars,)
    c0 : float
        Constant added to the objective.
    A_eq : csr_matrix of shape (m_eq, n_vars)
    b_eq : ndarray of shape (m_eq,)
    A_ineq : csr_matrix of shape (m_ineq, n_vars)
        Rows of ``A_ineq @ x <= b_ineq``.
    b_ineq : ndarray of shape (m_ineq,)
    psd : tuple of PSDBlock
    var_names : tuple of str, optional
        A label per variable, for messages and exported files.
    """

    c: np.ndarray
    c0: float = 0.0
    A_eq: sp.csr_matrix | None = None
    b_eq: np.ndarray | None = None
    A_ineq: sp.csr_matrix | None = None
    b_ineq: np.ndarray | None = None
    psd: tuple[PSDBlock, ...] = ()
    var_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        c = np.asarray(self.c, dtype=float).ravel()
        n = c.size
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "c0", float(self.c0))
        for A_name, b_name in (("A_eq", "b_eq"), ("A_ineq", "b_ineq")):
            A, b = getattr(self, A_name), getattr(self, b_name)
            if A is None:
                A = _empty_rows(n)
                b = np.zeros(0)
            b = np.asarray(b, dtype=float).ravel()
            A = _as_csr(A, (b.size, n), A_name)
            object.__setattr__(self, A_name, A)
            object.__setattr__(self, b_name, b)
        blocks = []
        for k, blk in enumerate(self.psd):
            F = blk.F if (sp.isspmatrix_csc(blk.F) and blk.F.dtype == np.float64) else sp.csc_matrix(blk.F, dtype=float)
            F0 = np.asarray(blk.F0, dtype=float).ravel()
            if F.shape != (blk.dim * blk.dim, n) or F0.size != blk.dim * blk.dim:
                raise ModelError(
                    f"PSD block {k} ({blk.name!r}) must have F of shape "
                    f"({blk.dim * blk.dim}, {n}) and F0 of size {blk.dim * blk.dim}, "
                    f"got {F.shape} and {F0.size}"
                )
            blocks.append(blk if (F is blk.F and F0 is blk.F0) else PSDBlock(blk.dim, F, F0, blk.name))
        object.__setattr__(self, "psd", tuple(blocks))
        if self.var_names is not None and len(self.var_names) != n:
            raise ModelError(f"var_names must have {n} entries, got {len(self.var_names)}")

    # -- sizes -----------------------------------------------------------
    @property
    def n_vars(self) -> int:
        return self.c.size

    @property
    def n_eq(self) -> int:
        return self.b_eq.size

    @property
    def n_ineq(self) -> int:
        return self.b_ineq.size

    @property
    def psd_dims(self) -> tuple[int, ...]:
        return tuple(b.dim for b in self.psd)

    def validate(self) -> None:
        """Raise :class:`ModelError` if any coefficient is NaN or infinite.

        Called by every backend before the data reaches a solver (solvers
        given NaN may claim optimality or hang).
        """
        _check_finite(self.c, "objective vector c")
        if not np.isfinite(self.c0):
            _check_finite(np.array([self.c0]), "objective constant c0")
        _check_finite(self.A_eq, "equality matrix A_eq")
        _check_finite(self.b_eq, "equality right-hand side b_eq")
        _check_finite(self.A_ineq, "inequality matrix A_ineq")
        _check_finite(self.b_ineq, "inequality right-hand side b_ineq")
        for k, blk in enumerate(self.psd):
            _check_finite(blk.F, f"PSD block {k} ({blk.name}) coefficients F")
            _check_finite(blk.F0, f"PSD block {k} ({blk.name}) constant F0")

    def objective(self, x: np.ndarray) -> float:
        return float(self.c @ x + self.c0)

    def violation(self, x: np.ndarray) -> dict[str, float]:
        """Constraint violations of a point: max |eq residual|, max ineq excess, min PSD eigenvalue."""
        x = np.asarray(x, dtype=float)
        eq = float(np.max(np.abs(self.A_eq @ x - self.b_eq), initial=0.0))
        ineq = float(np.max(self.A_ineq @ x - self.b_ineq, initial=0.0))
        eig = min(
            (float(np.linalg.eigvalsh(b.matrix(x))[0]) for b in self.psd), default=0.0
        )
        return {"eq": eq, "ineq": max(ineq, 0.0), "psd_min_eig": eig}

    def __repr__(self) -> str:
        return (
            f"ConicProgram(n_vars={self.n_vars}, n_eq={self.n_eq}, n_ineq={self.n_ineq}, "
            f"psd_dims={list(self.psd_dims)})"
        )


@dataclass(frozen=True, eq=False)
class ConicSolution:
    """What a backend returns for a :class:`ConicProgram`.

    Attributes
    ----------
    status : Status
        Shared vocabulary; solver trouble is a status, never an exception.
    raw_status : str
        The solver's own status text, kept verbatim.
    message : str
        Human explanation (what happened, what to try).
    x : ndarray of shape (n_vars,) or None
        Primal point (the moments), when the solver returned one.
    primal_objective, dual_objective : float or None
        ``c @ x + c0`` and the dual bound (same sign convention: minimization).
    y_eq : ndarray of shape (m_eq,) or None
        Multipliers of the equalities.
    z_ineq : ndarray of shape (m_ineq,) or None
        Multipliers (>= 0) of the inequalities.
    Z_psd : tuple of ndarray or None
        Dual PSD matrices (the Gram matrices of the SOS certificate).
    solve_time : float
        Seconds spent inside the solver.
    iterations : int or None
    backend : str
    info : dict
        Anything else the solver reports (gaps, residuals).
    """

    status: Status
    raw_status: str
    message: str
    x: np.ndarray | None = None
    primal_objective: float | None = None
    dual_objective: float | None = None
    y_eq: np.ndarray | None = None
    z_ineq: np.ndarray | None = None
    Z_psd: tuple[np.ndarray, ...] | None = None
    solve_time: float = 0.0
    iterations: int | None = None
    backend: str = ""
    info: dict[str, Any] = field(default_factory=dict)
