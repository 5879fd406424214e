"""Moment and localizing matrices as sparse coefficient matrices for the SDP.

For a measure on n variables with moments ``y`` indexed by :func:`gmp.monomials.basis`
of degree ``2r``:

* ``M_r(y)[i, j] = y[index(a_i + a_j)]`` — :func:`moment_coefficients`;
* ``M_{r-d}(g y)[i, j] = sum_t g_t y[index(a_i + a_j + b_t)]`` with
  ``d = ceil(deg g / 2)`` — :func:`localizing_coefficients`;
* ``L_y(h x^a) = 0`` for all ``|a| <= 2r - deg h`` — :func:`localizing_equalities`;
* ``L_y(p)`` as a sparse row — :func:`riesz_row`.

All are built with one index table per matrix (no loops over entries). The
coefficient matrix of an ``N x N`` matrix has shape ``(N * N, n_moments)``;
row ``i + N * j`` is entry ``(i, j)`` (column-major, as :class:`gmp.conic.PSDBlock`).
"""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from .monomials import basis, count, index, sum_index_table

__all__ = [
    "half_degree",
    "moment_coefficients",
    "localizing_coefficients",
    "localizing_equalities",
    "riesz_row",
    "trace_vector",
]


def half_degree(deg: int) -> int:
    """``ceil(deg / 2)``: the order a polynomial of degree ``deg`` consumes."""
    return -(-int(deg) // 2)


def csc_from_triplets(data: np.ndarray, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csc_matrix:
    """One CSC construction from triplets (duplicates summed), no intermediate COO object."""
    order = np.lexsort((rows, cols))
    rows, cols, data = rows[order], cols[order], data[order]
    if rows.size:
        new = np.empty(rows.size, dtype=bool)
        new[0] = True
        new[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        if not new.all():
            starts = np.flatnonzero(new)
            data = np.add.reduceat(data, starts)
            rows, cols = rows[starts], cols[starts]
        keep = data != 0
        rows, cols, data = rows[keep], cols[keep], data[keep]
    indptr = np.zeros(shape[1] + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=shape[1]), out=indptr[1:])
    return sp.csc_matrix((data, rows.astype(np.int64), indptr), shape=shape)


def moment_coefficients(n: int, r: int, n_moments: int | None = None, offset: int = 0,
                        n_cols: int | None = None) -> sp.csc_matrix:
    """Sparse coefficients of ``vec(M_r(y))``, shape ``(N*N, n_cols)``, N = count(n, r).

    The moments of this measure occupy columns ``offset .. offset + n_moments``
    of a variable vector of length ``n_cols`` (default: just this measure's).
    """
    B = basis(n, r)
    N = B.shape[0]
    n_moments = count(n, 2 * r) if n_moments is None else n_moments
    n_cols = offset + n_moments if n_cols is None else n_cols
    cols = sum_index_table(B, B)[0].ravel(order="F") + offset
    return csc_from_triplets(np.ones(N * N), np.arange(N * N), cols, (N * N, n_cols))


def localizing_coefficients(
    n: int, r: int, g_exps: np.ndarray, g_coefs: np.ndarray, n_moments: int | None = None,
    offset: int = 0, n_cols: int | None = None,
) -> tuple[sp.csc_matrix, np.ndarray, int]:
    """Sparse coefficients of ``vec(M_{r-d}(g y))``, ``d = ceil(deg g / 2)``.

    Returns
    -------
    F : csc_matrix of shape (N*N, n_cols)
    F0 : ndarray of shape (N*N,)
        Always zero (the localizing matrix is linear in y), kept for symmetry.
    N : int
        Side of the localizing matrix, ``count(n, r - d)``.
    """
    g_exps = np.asarray(g_exps, dtype=np.int64)
    g_coefs = np.asarray(g_coefs, dtype=float)
    d = half_degree(int(g_exps.sum(1).max(initial=0)))
    B = basis(n, r - d)
    N = B.shape[0]
    n_moments = count(n, 2 * r) if n_moments is None else n_moments
    n_cols = offset + n_moments if n_cols is None else n_cols
    table = sum_index_table(B, B, g_exps)  # (T, N, N)
    T = table.shape[0]
    cols = table.transpose(0, 2, 1).reshape(T, N * N).ravel() + offset  # column-major per term
    rows = np.tile(np.arange(N * N), T)
    data = np.repeat(g_coefs, N * N)
    return csc_from_triplets(data, rows, cols, (N * N, n_cols)), np.zeros(N * N), N


def localizing_equalities(
    n: int, r: int, h_exps: np.ndarray, h_coefs: np.ndarray, n_moments: int | None = None,
    offset: int = 0, n_cols: int | None = None,
) -> sp.csr_matrix:
    """Rows of ``L_y(h * x^a) = 0`` for every ``|a| <= 2r - deg h``; shape (K, n_cols)."""
    h_exps = np.asarray(h_exps, dtype=np.int64)
    h_coefs = np.asarray(h_coefs, dtype=float)
    deg = int(h_exps.sum(1).max(initial=0))
    n_moments = count(n, 2 * r) if n_moments is None else n_moments
    A = basis(n, 2 * r - deg)
    K = A.shape[0]
    n_cols = offset + n_moments if n_cols is None else n_cols
    cols = index(A[:, None, :] + h_exps[None, :, :]) + offset  # (K, T)
    rows = np.repeat(np.arange(K), h_exps.shape[0])
    data = np.tile(h_coefs, K)
    return csc_from_triplets(data, rows, cols.ravel(), (K, n_cols)).tocsr()


def riesz_row(exps: np.ndarray, coefs: np.ndarray, n_moments: int) -> np.ndarray:
    """Dense row ``c`` with ``c @ y = L_y(p)`` for ``p = sum coefs * x^exps``."""
    row = np.zeros(n_moments)
    if len(coefs):
        np.add.at(row, index(np.asarray(exps, dtype=np.int64)), np.asarray(coefs, dtype=float))
    return row


def trace_vector(n: int, r: int, n_moments: int | None = None) -> np.ndarray:
    """``c`` with ``c @ y = trace(M_r(y)) = sum_{|a| <= r} y[2a]``."""
    n_moments = count(n, 2 * r) if n_moments is None else n_moments
    c = np.zeros(n_moments)
    np.add.at(c, index(2 * basis(n, r)), 1.0)
    return c
