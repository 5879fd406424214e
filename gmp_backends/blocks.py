"""Every PSD block of a :class:`~gmp.conic.ConicProgram` as one stacked sparse matrix.

A sparse relaxation hands a backend thousands of small blocks; converting them one by
one (a ``tocoo``, a packing product and a ``vstack`` per block) costs more than the
solve. Here the blocks' CSC arrays are concatenated once and every entry is placed by
index arithmetic: the full column-major ``vec`` rows (cvxopt), or the packed scaled
triangle (``svec``) rows of Clarabel, SCS and MOSEK (:mod:`gmp_backends.svec`).
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp

from gmp.conic import ConicProgram

__all__ = ["psd_entries", "packed_psd", "vec_psd_lower"]

SQRT2 = math.sqrt(2.0)


def psd_entries(program: ConicProgram) -> tuple[np.ndarray, ...]:
    """Every stored coefficient of every block: ``(block, i, j, column, value)``.

    ``(i, j)`` is the entry of the block's ``d x d`` coefficient matrix of variable
    ``column``. One concatenation of the blocks' CSC arrays; the column of each stored
    value comes from the stacked column pointers (no per-block ``tocoo``).
    """
    blocks = program.psd
    if not blocks:
        z = np.zeros(0, np.int64)
        return z, z, z, z, np.zeros(0)
    nnz = np.array([b.F.nnz for b in blocks], dtype=np.int64)
    dims = np.array([b.dim for b in blocks], dtype=np.int64)
    data = np.concatenate([b.F.data for b in blocks])
    rows = np.concatenate([b.F.indices for b in blocks]).astype(np.int64)
    # the column of the k-th stored value of a block: the last pointer <= k (O(nnz log n) per
    # block, no array of blocks * n_vars entries)
    cols = np.concatenate([np.searchsorted(b.F.indptr, np.arange(b.F.nnz), side="right") - 1
                           for b in blocks]).astype(np.int64)
    blk = np.repeat(np.arange(len(blocks), dtype=np.int64), nnz)
    d = dims[blk]
    return blk, rows % d, rows // d, cols, data


def packed_psd(program: ConicProgram, triangle: str) -> tuple[sp.csc_matrix, np.ndarray]:
    """``P`` with ``P @ x = [svec(F_1 x); svec(F_2 x); ...]`` and ``p0 = [svec(F0_1); ...]``.

    Parameters
    ----------
    program : ConicProgram
    triangle : {"lower", "upper"}
        The solver's packed order (:data:`gmp_backends.svec.SOLVER_TRIANGLE`).

    Returns
    -------
    P : csc_matrix of shape (sum_k d_k (d_k + 1) / 2, n_vars)
    p0 : ndarray of shape (sum_k d_k (d_k + 1) / 2,)

    Each entry ``(i, j)`` adds ``v`` (diagonal) or ``v / sqrt(2)`` (off the diagonal) to the
    packed position of ``(max(i, j), min(i, j))``: the packing of the symmetric part, as
    :func:`gmp_backends.svec.pack` does, so the two agree entry for entry.
    """
    if triangle not in ("lower", "upper"):
        raise ValueError(f"triangle must be 'lower' or 'upper', got {triangle!r}")
    dims = np.array([b.dim for b in program.psd], dtype=np.int64)
    sizes = dims * (dims + 1) // 2
    start = np.concatenate([[0], np.cumsum(sizes)])
    total = int(start[-1])
    blk, i, j, cols, vals = psd_entries(program)
    P = _pack(blk, i, j, cols, vals, dims, start, triangle, (total, program.n_vars))
    # constants: the same placement on the dense F0 of each block (small: sum d^2 values)
    f0 = [np.asarray(b.F0, dtype=float) for b in program.psd]
    if any(np.any(f) for f in f0):
        b0 = np.repeat(np.arange(len(f0)), dims * dims)
        k = np.concatenate([np.arange(d * d) for d in dims]) if len(f0) else np.zeros(0, np.int64)
        v0 = np.concatenate(f0) if f0 else np.zeros(0)
        keep = v0 != 0
        d0 = dims[b0[keep]]
        p0 = _pack(b0[keep], k[keep] % d0, k[keep] // d0, np.zeros(int(keep.sum()), np.int64), v0[keep],
                   dims, start, triangle, (total, 1)).toarray().ravel()
    else:
        p0 = np.zeros(total)
    return P, p0


def _pack(blk, i, j, cols, vals, dims, start, triangle, shape) -> sp.csc_matrix:
    hi, lo = np.maximum(i, j), np.minimum(i, j)
    d = dims[blk]
    if triangle == "lower":          # column lo holds rows lo..d-1
        pos = lo * d - lo * (lo - 1) // 2 + (hi - lo)
    else:                            # column hi holds rows 0..hi
        pos = hi * (hi + 1) // 2 + lo
    scaled = np.where(i == j, vals, vals / SQRT2)
    return sp.csc_matrix((scaled, (start[blk] + pos, cols)), shape=shape)


def vec_psd_lower(program: ConicProgram) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """The lower-triangle entries of the blocks stacked in full ``vec`` order (cvxopt's ``G``).

    Returns ``(rows, cols, values, total)``: row ``offset_k + i + d_k j`` (``i >= j``) of the
    stacked ``vec`` of every block, the variable, the coefficient, and ``sum d_k^2``.
    """
    dims = np.array([b.dim for b in program.psd], dtype=np.int64)
    start = np.concatenate([[0], np.cumsum(dims * dims)])
    blk, i, j, cols, vals = psd_entries(program)
    keep = i >= j
    blk, i, j = blk[keep], i[keep], j[keep]
    return start[blk] + i + dims[blk] * j, cols[keep], vals[keep], int(start[-1])
