"""The standard form ``min q @ w  s.t.  A w + s = b,  s ∈ K`` of Clarabel and SCS.

:func:`build_standard_form` writes a :class:`~gmp.conic.ConicProgram` in this form in one of two
formulations, ``"moment"`` (the moments are the solver's primal) or ``"dual"`` (the SOS side is
the solver's primal: the dualization of [Löf09]); :class:`StandardForm` reads the solver's answer
back in the convention of :mod:`gmp.conic` and swaps the certificates of the dual form. Both
formulations written out: docs/backends.md, "The standard form of Clarabel and SCS".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp

from gmp.conic import ConicProgram, ConicSolution
from gmp.errors import OptionError
from gmp.status import Status

from .blocks import packed_psd
from .svec import Triangle, packed_size, smat

__all__ = ["FORMULATIONS", "Formulation", "StandardForm", "build_standard_form", "check_formulation",
           "Decoded"]

Formulation = Literal["moment", "dual"]
FORMULATIONS: tuple[str, ...] = ("moment", "dual")


@dataclass(frozen=True)
class Decoded:
    """A solver's ``(w, λ)`` read back in the terms of :mod:`gmp.conic`."""

    x: np.ndarray
    y_eq: np.ndarray
    z_ineq: np.ndarray
    Z_psd: tuple[np.ndarray, ...]


@dataclass(frozen=True, eq=False)
class StandardForm:
    """``min q @ w  s.t.  A @ w + s == b``, ``s`` in ``{0}^n_zero × R_+^n_nonneg × PSD blocks``.

    Attributes
    ----------
    program : ConicProgram
        The program this form was built from.
    formulation : {"moment", "dual"}
    triangle : {"lower", "upper"}
        Packed order of the PSD blocks (the solver's convention).
    q : ndarray of shape (n_w,)
    A : csc_matrix of shape (m, n_w)
    b : ndarray of shape (m,)
    n_zero, n_nonneg : int
        Sizes of the zero cone and the nonnegative orthant, in that order first.
    psd_dims : tuple of int
        Sides of the PSD blocks that follow.
    """

    program: ConicProgram
    formulation: Formulation
    triangle: Triangle
    q: np.ndarray
    A: sp.csc_matrix
    b: np.ndarray
    n_zero: int
    n_nonneg: int
    psd_dims: tuple[int, ...]

    @property
    def shape(self) -> tuple[int, int]:
        return self.A.shape

    def certificate_status(self, solver_primal_infeasible: bool) -> Status:
        """Our status for the solver's "primal infeasible" (True) / "dual infeasible" (False)."""
        moment_infeasible = solver_primal_infeasible == (self.formulation == "moment")
        return Status.INFEASIBLE if moment_infeasible else Status.UNBOUNDED

    def residual_names(self) -> tuple[str, str]:
        """Keys of our info dict for the solver's (primal, dual) residuals."""
        if self.formulation == "moment":
            return "primal_residual", "dual_residual"
        return "dual_residual", "primal_residual"

    # -- reading answers back ------------------------------------------
    def decode(self, w: np.ndarray | None, lam: np.ndarray | None) -> Decoded:
        """Moments and multipliers from the solver's primal ``w`` and dual ``λ``.

        A missing vector (``None``) reads as NaN: solvers give only one of them
        for a certificate of infeasibility.
        """
        p = self.program
        n_w, m = self.A.shape[1], self.A.shape[0]
        w = np.full(n_w, np.nan) if w is None else np.asarray(w, dtype=float).ravel()
        lam = np.full(m, np.nan) if lam is None else np.asarray(lam, dtype=float).ravel()
        if self.formulation == "moment":
            x, duals = w, lam
        else:
            x, duals = -lam[: p.n_vars], w
        y, z = duals[: p.n_eq], duals[p.n_eq: p.n_eq + p.n_ineq]
        blocks, offset = [], p.n_eq + p.n_ineq
        for d in self.psd_dims:
            T = packed_size(d)
            blocks.append(smat(duals[offset: offset + T], self.triangle))
            offset += T
        return Decoded(x.copy(), y.copy(), z.copy(), tuple(blocks))

    def objectives(self, dec: Decoded) -> tuple[float, float]:
        """``(c @ x + c0, dual objective)`` of :mod:`gmp.conic` at a decoded point."""
        p = self.program
        dual = p.c0 - p.b_eq @ dec.y_eq - p.b_ineq @ dec.z_ineq - sum(
            (blk.F0 @ Z.reshape(-1, order="F") for blk, Z in zip(p.psd, dec.Z_psd)), 0.0)
        return p.objective(dec.x), float(dual)

    def solution(self, status: Status, raw_status: str, message: str,
                 w: np.ndarray | None, lam: np.ndarray | None, *,
                 iterations: int | None, solve_time: float, info: dict[str, Any]) -> ConicSolution:
        """The :class:`ConicSolution` for a status already in our terms.

        INFEASIBLE puts the dual ray (normalized to dual objective 1) in
        ``info['infeasibility_certificate']``, UNBOUNDED the primal ray
        (normalized to ``c @ ray == -1``) in ``info['unbounded_direction']``;
        both leave ``x`` None. Any other status returns the last iterate.
        """
        dec = self.decode(w, lam)
        common = dict(raw_status=raw_status, iterations=iterations, solve_time=solve_time,
                      info=info)
        if status is Status.INFEASIBLE:
            ray = _normalize_farkas(self.program, dec)
            info["infeasibility_certificate"] = {
                "y_eq": ray.y_eq, "z_ineq": ray.z_ineq, "Z_psd": ray.Z_psd}
            return ConicSolution(status, message=message, **common)
        if status is Status.UNBOUNDED:
            info["unbounded_direction"] = _normalize_ray(self.program, dec.x)
            return ConicSolution(status, message=message, **common)
        x = dec.x if np.all(np.isfinite(dec.x)) else None
        duals_ok = all(np.all(np.isfinite(a)) for a in (dec.y_eq, dec.z_ineq, *dec.Z_psd))
        pobj, dobj = self.objectives(dec)
        return ConicSolution(
            status, message=message, x=x,
            primal_objective=pobj if x is not None else None,
            dual_objective=dobj if duals_ok else None,
            y_eq=dec.y_eq if duals_ok else None, z_ineq=dec.z_ineq if duals_ok else None,
            Z_psd=dec.Z_psd if duals_ok else None, **common,
        )


def _normalize_ray(program: ConicProgram, x: np.ndarray) -> np.ndarray:
    slope = program.c @ x
    return x / -slope if np.isfinite(slope) and slope < 0 else x


def _normalize_farkas(program: ConicProgram, dec: Decoded) -> Decoded:
    value = -(program.b_eq @ dec.y_eq + program.b_ineq @ dec.z_ineq + sum(
        (blk.F0 @ Z.reshape(-1, order="F") for blk, Z in zip(program.psd, dec.Z_psd)), 0.0))
    if not (np.isfinite(value) and value > 0):
        return dec
    return Decoded(dec.x, dec.y_eq / value, dec.z_ineq / value,
                   tuple(Z / value for Z in dec.Z_psd))


def check_formulation(value: Any, solver: str) -> Formulation:
    if value not in FORMULATIONS:
        raise OptionError(
            f"{solver} option formulation must be one of {', '.join(map(repr, FORMULATIONS))}, "
            f"got {value!r}; 'moment' passes the moments as the solver's primal, "
            "'dual' the SOS side")
    return value


def build_standard_form(program: ConicProgram, triangle: Triangle,
                        formulation: Formulation = "moment") -> StandardForm:
    """Assemble :class:`StandardForm` (vectorized: every PSD block packed at once by
    :func:`gmp_backends.blocks.packed_psd`, thousands of small blocks included)."""
    check_formulation(formulation, "standard form")
    P, p0 = packed_psd(program, triangle)
    dims = tuple(blk.dim for blk in program.psd)
    n, m_eq, m_in = program.n_vars, program.n_eq, program.n_ineq
    if formulation == "moment":
        A = sp.vstack([program.A_eq, program.A_ineq, -P], format="csc")
        b = np.concatenate([program.b_eq, program.b_ineq, p0])
        return StandardForm(program, formulation, triangle, program.c.copy(), A, b,
                            m_eq, m_in, dims)
    n_psd = P.shape[0]
    eq_rows = sp.hstack([program.A_eq.T, program.A_ineq.T, -P.T])
    cone_rows = sp.hstack([sp.csr_matrix((m_in + n_psd, m_eq)), -sp.identity(m_in + n_psd)])
    A = sp.vstack([eq_rows, cone_rows], format="csc")
    q = np.concatenate([program.b_eq, program.b_ineq, p0])
    b = np.concatenate([-program.c, np.zeros(m_in + n_psd)])
    return StandardForm(program, formulation, triangle, q, A, b, n, m_in, dims)
