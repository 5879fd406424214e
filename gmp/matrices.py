"""Moment and localizing matrices as sparse coefficient matrices for the SDP.

:func:`moment_coefficients`, :func:`localizing_coefficients`, :func:`localizing_equalities`
and :func:`riesz_row`, each built with one index table (no loops over entries); row
``i + N * j`` of the coefficient matrix of an ``N x N`` matrix is entry ``(i, j)``, as in
:class:`gmp.conic.PSDBlock` (docs/algorithms.md, "Relaxation and matrices").
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.sparse as sp

from .monomials import basis, count, index, sum_index_table

__all__ = [
    "half_degree",
    "moment_coefficients",
    "localizing_coefficients",
    "localizing_equalities",
    "localizing_equality_triplets",
    "csc_from_triplets",
    "csr_from_triplets",
    "riesz_row",
    "trace_vector",
]


def half_degree(deg: int) -> int:
    """``ceil(deg / 2)``: the order a polynomial of degree ``deg`` consumes."""
    return -(-int(deg) // 2)


def _index_dtype(*bounds: int) -> type:
    """int32 when every index and pointer fits (scipy.sparse's constructors then skip a
    downcast check, a large share of a small build: docs/benchmarks.md), else int64."""
    return np.int32 if max(bounds, default=0) < 2**31 - 1 else np.int64


#: Shapes with fewer entries than this sort by one int64 key ``major * n_minor + minor``.
_KEY_LIMIT = 2**62


def _compress(data: np.ndarray, major: np.ndarray, minor: np.ndarray, n_major: int, n_minor: int):
    """``(data, minor indices, indptr)`` of the compressed form along ``major`` (duplicates
    summed, zeros dropped, minor indices sorted within each major slice)."""
    data = np.asarray(data, dtype=float)
    major = np.asarray(major, dtype=np.int64)
    minor = np.asarray(minor, dtype=np.int64)
    if major.size > 1:
        if n_major * n_minor < _KEY_LIMIT:  # one int64 key per entry: one sort, one comparison
            key = major * n_minor + minor
            order = np.argsort(key, kind="stable")
            key, data = key[order], data[order]
            dup = key[1:] == key[:-1]
            if np.count_nonzero(dup):
                starts = np.flatnonzero(np.concatenate(([True], ~dup)))
                data, key = np.add.reduceat(data, starts), key[starts]
            major, minor = np.divmod(key, n_minor)
        else:
            order = np.lexsort((minor, major))
            major, minor, data = major[order], minor[order], data[order]
            new = np.empty(major.size, dtype=bool)
            new[0] = True
            new[1:] = (major[1:] != major[:-1]) | (minor[1:] != minor[:-1])
            if not new.all():
                starts = np.flatnonzero(new)
                data = np.add.reduceat(data, starts)
                major, minor = major[starts], minor[starts]
    if np.count_nonzero(data) != data.size:  # (cheaper than (data == 0).any() on small arrays)
        keep = data != 0
        major, minor, data = major[keep], minor[keep], data[keep]
    itype = _index_dtype(n_minor, n_major, major.size)
    indptr = np.searchsorted(major, np.arange(n_major + 1)).astype(itype)  # major is sorted
    return data, minor.astype(itype, copy=False), indptr


def csc_from_triplets(data: np.ndarray, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csc_matrix:
    """One CSC construction from triplets (duplicates summed, zeros dropped), no COO object."""
    return sp.csc_matrix(_compress(data, cols, rows, shape[1], shape[0]), shape=shape)


def csr_from_triplets(data: np.ndarray, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """One CSR construction from triplets (duplicates summed, zeros dropped), no COO object."""
    return sp.csr_matrix(_compress(data, rows, cols, shape[0], shape[1]), shape=shape)


def freeze(m: sp.spmatrix) -> sp.spmatrix:
    """Make a compressed sparse matrix read-only in place (for matrices shared by a cache)."""
    for a in (m.data, m.indices, m.indptr):
        a.setflags(write=False)
    return m


#: Moment matrices with at most this many entries are built once per
#: ``(n, r, n_moments, offset, n_cols)`` and shared, read-only (a 66 x 66 matrix is
#: 4356 entries; the cache holds at most 64 of them, under 4 MB at this bound).
MOMENT_CACHE_MAX_ENTRIES = 5000


@lru_cache(maxsize=64)
def _moment_coefficients_cached(n: int, r: int, n_moments: int, offset: int, n_cols: int) -> sp.csc_matrix:
    return freeze(_moment_coefficients(n, r, n_moments, offset, n_cols))


def _moment_coefficients(n: int, r: int, n_moments: int, offset: int, n_cols: int) -> sp.csc_matrix:
    B = basis(n, r)
    N = B.shape[0]
    cols = sum_index_table(B, B)[0].ravel(order="F") + offset
    return csc_from_triplets(np.ones(N * N), np.arange(N * N), cols, (N * N, n_cols))


def moment_coefficients(n: int, r: int, n_moments: int | None = None, offset: int = 0,
                        n_cols: int | None = None) -> sp.csc_matrix:
    """Sparse coefficients of ``vec(M_r(y))``, shape ``(N*N, n_cols)``, N = count(n, r).

    The moments of this measure occupy columns ``offset .. offset + n_moments``
    of a variable vector of length ``n_cols`` (default: just this measure's).
    Matrices of at most :data:`MOMENT_CACHE_MAX_ENTRIES` entries are cached and
    returned **read-only** (their arrays cannot be written); copy one to modify it.
    """
    n_moments = count(n, 2 * r) if n_moments is None else int(n_moments)
    n_cols = offset + n_moments if n_cols is None else int(n_cols)
    key = (int(n), int(r), n_moments, int(offset), n_cols)
    if count(n, r) ** 2 <= MOMENT_CACHE_MAX_ENTRIES:
        return _moment_coefficients_cached(*key)
    return _moment_coefficients(*key)


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
    rows = np.arange(T * N * N) % (N * N)
    data = np.repeat(g_coefs, N * N)
    return csc_from_triplets(data, rows, cols, (N * N, n_cols)), np.zeros(N * N), N


def localizing_equality_triplets(
    n: int, r: int, h_exps: np.ndarray, h_coefs: np.ndarray, offset: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``(data, rows, cols, K)`` of the rows of :func:`localizing_equalities` (duplicates
    not yet summed), for assembling several equality blocks into one matrix."""
    h_exps = np.asarray(h_exps, dtype=np.int64)
    h_coefs = np.asarray(h_coefs, dtype=float)
    deg = int(h_exps.sum(1).max(initial=0))
    A = basis(n, 2 * r - deg)
    K = A.shape[0]
    cols = index(A[:, None, :] + h_exps[None, :, :]) + offset  # (K, T)
    rows = np.repeat(np.arange(K), h_exps.shape[0])
    return np.tile(h_coefs, K), rows, cols.ravel(), K


def localizing_equalities(
    n: int, r: int, h_exps: np.ndarray, h_coefs: np.ndarray, n_moments: int | None = None,
    offset: int = 0, n_cols: int | None = None,
) -> sp.csr_matrix:
    """Rows of ``L_y(h * x^a) = 0`` for every ``|a| <= 2r - deg h``; shape (K, n_cols)."""
    n_moments = count(n, 2 * r) if n_moments is None else n_moments
    n_cols = offset + n_moments if n_cols is None else n_cols
    data, rows, cols, K = localizing_equality_triplets(n, r, h_exps, h_coefs, offset)
    return csr_from_triplets(data, rows, cols, (K, n_cols))


def riesz_row(exps: np.ndarray, coefs: np.ndarray, n_moments: int) -> np.ndarray:
    """Dense row ``c`` with ``c @ y = L_y(p)`` for ``p = sum coefs * x^exps``."""
    if not len(coefs):
        return np.zeros(n_moments)
    row = np.bincount(index(np.asarray(exps, dtype=np.int64)), weights=np.asarray(coefs, dtype=float),
                      minlength=n_moments)
    if row.size > n_moments:
        raise ValueError(f"a monomial of the polynomial lies beyond the {n_moments} moments given")
    return row


def trace_vector(n: int, r: int, n_moments: int | None = None) -> np.ndarray:
    """``c`` with ``c @ y = trace(M_r(y)) = sum_{|a| <= r} y[2a]``."""
    n_moments = count(n, 2 * r) if n_moments is None else n_moments
    return np.bincount(index(2 * basis(n, r)), minlength=n_moments).astype(float)
