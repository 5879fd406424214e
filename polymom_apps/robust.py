"""The robust (GMM) form of the Polymom relaxation: a weighted moment residual plus a trace [Han82].

The squared residual is an epigraph variable appended to gmp's :class:`~gmp.ConicProgram` with a
Schur-complement block (docs/polymom.md, "Empirical moments and the robust form").
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from gmp import ConicProgram, PSDBlock

__all__ = ["robust_program", "inverse_sqrt"]


def robust_program(base: ConicProgram, SA: np.ndarray, Sm: np.ndarray, lam: float) -> ConicProgram:
    """Append ``t`` and ``[[t, r^T], [r, I]] PSD`` (``r = SA y - Sm``); objective ``t + lam tr``."""
    n = base.n_vars
    N = SA.shape[0]
    dim = N + 1

    def pad(M: sp.spmatrix) -> sp.csr_matrix:
        return sp.hstack([M, sp.csr_matrix((M.shape[0], 1))], format="csr")

    blocks = [PSDBlock(b.dim, pad(sp.csc_matrix(b.F)).tocsc(), b.F0, b.name) for b in base.psd]
    # entries (i+1, 0) and (0, i+1) of r_i = SA[i] y - Sm[i] (column-major vec), and t at (0, 0)
    ii, jj = np.nonzero(SA)
    v = SA[ii, jj]
    rows = np.concatenate([ii + 1, dim * (ii + 1), [0]])
    cols = np.concatenate([jj, jj, [n]])
    F = sp.csc_matrix((np.concatenate([v, v, [1.0]]), (rows, cols)), shape=(dim * dim, n + 1))
    F0 = np.zeros(dim * dim)
    k = np.arange(1, N + 1)
    F0[k] = F0[dim * k] = -np.asarray(Sm, dtype=float)
    F0[k + dim * k] = 1.0
    blocks.append(PSDBlock(dim, F, F0, "epigraph [[t, r^T], [r, I]]"))
    c = np.concatenate([lam * base.c, [1.0]])
    names = None if base.var_names is None else base.var_names + ("t",)
    return ConicProgram(c, base.c0, pad(base.A_eq), base.b_eq, pad(base.A_ineq), base.b_ineq, tuple(blocks), names)


def inverse_sqrt(cov: np.ndarray, floor: float = 1e-10) -> np.ndarray:
    """``W^{1/2} = cov^{-1/2}`` (eigenvalues floored at ``floor * max``)."""
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    vals = np.maximum(vals, floor * max(vals.max(), 1e-300))
    return (vecs / np.sqrt(vals)) @ vecs.T
