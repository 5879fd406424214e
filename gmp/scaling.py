"""Scaling of a :class:`~gmp.conic.ConicProgram` before a solver sees it, and back.

Moments by a box of the supports, PSD blocks by diagonal congruences, linear rows and the
objective by their largest coefficients, each only beyond ``THRESHOLD`` (or
``OBJECTIVE_THRESHOLD``) and always by powers of two: an exact transform, so bounds
verified on the scaled program hold for the original, and solvers meet data of order 1
(docs/algorithms.md, "Scaling").
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from .boxes import measure_box
from .conic import ConicProgram, ConicSolution, PSDBlock
from .monomials import basis, count

if TYPE_CHECKING:  # types only: the problem module sits above the pipeline
    from .problem import GMP
    from .relaxation import RelaxationMap

__all__ = ["Scaling", "scale_program", "box_column_scale", "power_of_two"]

_MAX_EXP = 600  # keep every factor and its square far from overflow
#: Scale factors within ``[1 / THRESHOLD, THRESHOLD]`` are left at 1.
THRESHOLD = 2.0 ** 10
#: The objective is rescaled only beyond ``[1 / OBJECTIVE_THRESHOLD, OBJECTIVE_THRESHOLD]``:
#: an objective with large coefficients may have a small optimum (Goldstein-Price: 23616
#: and 3), which absolute gap tolerances measure badly once the coefficients are near 1.
OBJECTIVE_THRESHOLD = 2.0 ** 20


def _only_large(f: np.ndarray, threshold: float = THRESHOLD) -> np.ndarray:
    """Factors within ``[1/threshold, threshold]`` replaced by 1."""
    f = np.asarray(f, dtype=float)
    return np.where((f >= 1.0 / threshold) & (f <= threshold), 1.0, f)


def power_of_two(v: np.ndarray | float, how: str = "round") -> np.ndarray:
    """The power of two nearest to ``v`` (``how="round"``) or not below it (``"ceil"``),
    1 where ``v`` is 0, negative or not finite."""
    v = np.asarray(v, dtype=float)
    ok = np.isfinite(v) & (v > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        e = np.log2(np.where(ok, v, 1.0))
    e = np.ceil(e) if how == "ceil" else np.round(e)
    return np.ldexp(1.0, np.clip(np.where(ok, e, 0), -_MAX_EXP, _MAX_EXP).astype(np.int64))


def box_column_scale(problem: GMP, rmap: RelaxationMap) -> np.ndarray | None:
    """``D`` with ``D_a = prod_i s_i^{a_i}``, ``s_i`` the power of two nearest to the bound on
    ``|x_i|`` from the box of each measure (1 where unbounded); None if nothing is known."""
    parts = []
    any_box = False
    for k, m in enumerate(problem.measures):
        n = m.n_vars
        if rmap.offsets[k + 1] - rmap.offsets[k] != count(n, 2 * rmap.order):
            return None  # not the dense layout
        rad = measure_box(m).radius
        finite = np.isfinite(rad) & (rad > 0)
        any_box |= bool(finite.any())
        e = np.where(finite, np.round(np.log2(np.where(finite, rad, 1.0))), 0).astype(np.int64)
        exps = basis(n, 2 * rmap.order)
        parts.append(np.ldexp(1.0, np.clip(exps @ e, -_MAX_EXP, _MAX_EXP)))
    if not any_box:
        return None
    D = np.concatenate(parts)
    return D if (D.max() > THRESHOLD or D.min() < 1.0 / THRESHOLD) else None


@dataclass(frozen=True, eq=False)
class Scaling:
    """The factors of :func:`scale_program` (all powers of two).

    Attributes
    ----------
    column : ndarray of shape (n_vars,)
        ``D``: ``x = D * x_scaled``.
    objective : float
        ``α``: ``c_scaled = α D c``, ``c0_scaled = α c0``.
    eq_rows, ineq_rows : ndarray
        Row factors ``R``: ``A_scaled = R A D``, ``b_scaled = R b``.
    blocks : tuple of ndarray
        ``S_j`` (the diagonal): ``mat(F0 + F x)`` becomes ``S_j mat(F0 + F x) S_j``.
    """

    column: np.ndarray
    objective: float
    eq_rows: np.ndarray
    ineq_rows: np.ndarray
    blocks: tuple[np.ndarray, ...]

    def unscale(self, sol: ConicSolution) -> ConicSolution:
        """The solution of the original program from one of the scaled program (exact)."""
        a = self.objective
        x = None if sol.x is None else np.asarray(sol.x, dtype=float) * self.column
        y = None if sol.y_eq is None else np.asarray(sol.y_eq, dtype=float) * self.eq_rows / a
        z = None if sol.z_ineq is None else np.asarray(sol.z_ineq, dtype=float) * self.ineq_rows / a
        Z = None if sol.Z_psd is None else tuple(
            np.asarray(Zj, dtype=float) * np.outer(s, s) / a for Zj, s in zip(sol.Z_psd, self.blocks))
        info = dict(sol.info)
        cert = info.get("infeasibility_certificate")
        if isinstance(cert, dict) and cert.get("Z_psd") is not None:
            info["infeasibility_certificate"] = {
                "y_eq": None if cert.get("y_eq") is None else np.asarray(cert["y_eq"]) * self.eq_rows,
                "z_ineq": None if cert.get("z_ineq") is None else np.asarray(cert["z_ineq"]) * self.ineq_rows,
                "Z_psd": tuple(np.asarray(Zj) * np.outer(s, s) for Zj, s in zip(cert["Z_psd"], self.blocks)),
            }
        ray = info.get("unbounded_direction")
        if ray is not None and np.shape(ray) == self.column.shape:
            info["unbounded_direction"] = np.asarray(ray, dtype=float) * self.column
        info["scaling"] = {"objective": a, "column_range": (float(self.column.min(initial=1.0)),
                                                            float(self.column.max(initial=1.0)))}
        return replace(
            sol, x=x, y_eq=y, z_ineq=z, Z_psd=Z, info=info,
            primal_objective=None if sol.primal_objective is None else sol.primal_objective / a,
            dual_objective=None if sol.dual_objective is None else sol.dual_objective / a,
        )


def _row_factors(A: sp.csr_matrix) -> np.ndarray:
    if A.shape[0] == 0:
        return np.ones(0)
    big = np.zeros(A.shape[0])
    np.maximum.at(big, np.repeat(np.arange(A.shape[0]), np.diff(A.indptr)), np.abs(A.data))
    return _only_large(1.0 / power_of_two(big))


def scale_program(program: ConicProgram, column: np.ndarray | None = None) -> tuple[ConicProgram, Scaling]:
    """The scaled program and its :class:`Scaling` (docs/algorithms.md, "Scaling").

    Parameters
    ----------
    program : ConicProgram
    column : ndarray of shape (n_vars,), optional
        ``D`` (powers of two), e.g. from :func:`box_column_scale`; default ones.
    """
    n = program.n_vars
    D = np.ones(n) if column is None else np.asarray(column, dtype=float)
    A_eq, A_in = program.A_eq, program.A_ineq
    if column is not None:
        Dm = sp.diags(D)
        A_eq, A_in = sp.csr_matrix(A_eq @ Dm), sp.csr_matrix(A_in @ Dm)
    R_eq, R_in = _row_factors(A_eq), _row_factors(A_in)
    S_all = []
    for blk in program.psd:
        F = blk.F if column is None else sp.csc_matrix(blk.F @ sp.diags(D))
        d = blk.dim
        diag = np.arange(d) * (d + 1)
        big = np.maximum(np.abs(blk.F0[diag]), np.asarray(abs(F[diag, :]).max(axis=1).todense()).ravel())
        S = power_of_two(1.0 / np.sqrt(power_of_two(big)))  # sqrt of an odd power of two is not one: round it
        if column is None and np.all(_only_large(S) == 1.0):  # one congruence per block, or none
            S = np.ones(d)
        S_all.append(S)
    c = program.c * D
    alpha = float(_only_large(1.0 / power_of_two(np.max(np.abs(c), initial=0.0)), OBJECTIVE_THRESHOLD))
    scaling = Scaling(D, alpha, R_eq, R_in, tuple(S_all))
    if (column is None and alpha == 1.0 and np.all(R_eq == 1.0) and np.all(R_in == 1.0)
            and all(np.all(S == 1.0) for S in S_all)):
        return program, scaling   # nothing to scale: the program itself, no copy
    A_eq = sp.csr_matrix(sp.diags(R_eq) @ A_eq)
    A_in = sp.csr_matrix(sp.diags(R_in) @ A_in)
    blocks = []
    for blk, S in zip(program.psd, S_all):
        F = blk.F if column is None else sp.csc_matrix(blk.F @ sp.diags(D))
        w = np.outer(S, S).reshape(-1, order="F")
        blocks.append(PSDBlock(blk.dim, sp.csc_matrix(sp.diags(w) @ F), blk.F0 * w, blk.name))
    scaled = ConicProgram(c * alpha, program.c0 * alpha, A_eq, program.b_eq * R_eq, A_in,
                          program.b_ineq * R_in, tuple(blocks), program.var_names)
    return scaled, scaling
