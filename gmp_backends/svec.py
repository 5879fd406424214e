"""Scaled-triangle vectorization of symmetric matrices (``svec`` / ``smat``), per solver.

A symmetric ``d x d`` matrix is stored as the ``d (d + 1) / 2`` entries of one triangle, walked
column by column, with the off-diagonals multiplied by ``√2`` so that
``svec(A) @ svec(B) == <A, B>``. :data:`SOLVER_TRIANGLE` says which triangle each solver walks,
and :func:`pack` turns the ``F`` of a :class:`~gmp.conic.PSDBlock` into those rows in one sparse
product. The conventions, the table of solvers and how it was checked: docs/backends.md,
"Packed triangles (svec)".
"""
from __future__ import annotations

import math
from typing import Literal

import numpy as np
import scipy.sparse as sp

__all__ = [
    "Triangle", "SOLVER_TRIANGLE", "packed_size", "side_of", "triangle_indices", "svec",
    "smat", "svec_operator", "pack",
]

Triangle = Literal["lower", "upper"]

#: Packed triangle of each solver's scaled PSD cone (the table in docs/backends.md, "Packed triangles (svec)").
SOLVER_TRIANGLE: dict[str, Triangle] = {"clarabel": "upper", "scs": "lower", "mosek": "lower"}

SQRT2 = math.sqrt(2.0)


def _check_triangle(triangle: str) -> None:
    if triangle not in ("lower", "upper"):
        raise ValueError(f"triangle must be 'lower' or 'upper', got {triangle!r}")


def packed_size(d: int) -> int:
    """Length ``d (d + 1) / 2`` of ``svec`` of a ``d x d`` matrix."""
    return d * (d + 1) // 2


def side_of(length: int) -> int:
    """The side ``d`` with ``packed_size(d) == length``; ValueError if there is none."""
    d = (math.isqrt(8 * length + 1) - 1) // 2
    if packed_size(d) != length:
        raise ValueError(
            f"a packed triangle has length d (d + 1) / 2 (1, 3, 6, 10, ...), got {length}")
    return d


def triangle_indices(d: int, triangle: Triangle = "lower") -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the packed entries, in the solver's order.

    Examples
    --------
    >>> [tuple(map(int, a)) for a in triangle_indices(3, "lower")]
    [(0, 1, 2, 1, 2, 2), (0, 0, 0, 1, 1, 2)]
    >>> [tuple(map(int, a)) for a in triangle_indices(3, "upper")]
    [(0, 0, 1, 0, 1, 2), (0, 1, 1, 2, 2, 2)]
    """
    _check_triangle(triangle)
    if triangle == "upper":  # column j holds rows 0..j
        cols = np.repeat(np.arange(d), np.arange(1, d + 1))
        rows = np.arange(cols.size) - np.repeat(np.cumsum(np.arange(d)), np.arange(1, d + 1))
    else:  # column j holds rows j..d-1
        cols = np.repeat(np.arange(d), np.arange(d, 0, -1))
        starts = np.repeat(np.concatenate([[0], np.cumsum(np.arange(d, 1, -1))]),
                           np.arange(d, 0, -1))
        rows = np.arange(cols.size) - starts + cols
    return rows, cols


def svec(X: np.ndarray, triangle: Triangle = "lower") -> np.ndarray:
    """Packed scaled triangle of a symmetric matrix, shape ``(d (d + 1) / 2,)``.

    Reads the requested triangle only. ``svec(A) @ svec(B) == trace(A @ B)``.

    Examples
    --------
    >>> svec(np.array([[1.0, 2.0], [2.0, 3.0]]), "lower").round(4).tolist()
    [1.0, 2.8284, 3.0]
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[0] != X.shape[1]:
        raise ValueError(f"svec needs a square matrix, got shape {X.shape}")
    r, c = triangle_indices(X.shape[0], triangle)
    return X[r, c] * np.where(r == c, 1.0, SQRT2)


def smat(v: np.ndarray, triangle: Triangle = "lower") -> np.ndarray:
    """The symmetric matrix whose :func:`svec` is ``v`` (inverse of :func:`svec`)."""
    v = np.asarray(v, dtype=float).ravel()
    d = side_of(v.size)
    r, c = triangle_indices(d, triangle)
    vals = v * np.where(r == c, 1.0, 1.0 / SQRT2)
    X = np.zeros((d, d))
    X[r, c] = vals
    X[c, r] = vals
    return X


def svec_operator(d: int, triangle: Triangle = "lower") -> sp.csr_matrix:
    """Sparse ``S`` of shape ``(d (d + 1) / 2, d * d)`` with ``S @ vec(X) == svec(sym(X))``.

    ``vec`` is column-major (the layout of :class:`~gmp.conic.PSDBlock`) and
    ``sym(X) = (X + X.T) / 2``: an off-diagonal packed entry takes ``1/√2``
    of each of ``X[i, j]`` and ``X[j, i]``. ``S.T @ svec(Z) == vec(Z)`` for a
    symmetric ``Z``, so a solver's packed dual maps back through the same operator.
    """
    r, c = triangle_indices(d, triangle)
    k = np.arange(r.size)
    off = r != c
    rows = np.concatenate([k, k[off]])
    cols = np.concatenate([r + d * c, (c + d * r)[off]])
    vals = np.concatenate([np.where(off, 1.0 / SQRT2, 1.0), np.full(int(off.sum()), 1.0 / SQRT2)])
    return sp.csr_matrix((vals, (rows, cols)), shape=(r.size, d * d))


def pack(F: sp.spmatrix | np.ndarray, d: int,
         triangle: Triangle = "lower") -> sp.csc_matrix | np.ndarray:
    """``svec`` of every column of ``F`` (shape ``(d * d, n)``): shape ``(d (d + 1) / 2, n)``.

    One sparse product, no Python loop over entries. A 1-D ``F`` (a block's
    constant ``F0``) is packed as a single column and returned 1-D.
    """
    if not sp.issparse(F) and np.ndim(F) == 1:
        return svec_operator(d, triangle) @ np.asarray(F, dtype=float)
    if F.shape[0] != d * d:
        raise ValueError(f"pack needs {d * d} rows (d = {d}), got {F.shape[0]}")
    return sp.csc_matrix(svec_operator(d, triangle) @ sp.csc_matrix(F))
