"""Monomial bases in graded order and vectorized index tables.

The graded order (GloptiPoly's, used everywhere in gmp): by total degree, then
lexicographically *descending* within a degree, so with two variables the basis of degree
2 is ``1, x1, x2, x1^2, x1 x2, x2^2``. :func:`index` finds an exponent's position without
hashing (docs/algorithms.md, "The graded order and the index of a monomial").
"""
from __future__ import annotations

from functools import lru_cache
from math import comb

import numpy as np

__all__ = ["count", "basis", "index", "degree_offsets", "sum_index_table", "max_int_degree"]


def count(n: int, d: int) -> int:
    """Number of monomials of degree <= d in n variables, ``C(n + d, d)``.

    >>> count(2, 2), count(10, 6)
    (6, 8008)
    """
    if n < 0 or d < 0:
        return 0
    return comb(n + d, d)


@lru_cache(maxsize=256)
def _homogeneous(n: int, k: int) -> np.ndarray:
    """Exponents of degree exactly k in n variables, lex descending. Read-only."""
    if n == 0:
        out = np.zeros((1 if k == 0 else 0, 0), dtype=np.int64)
    elif n == 1:
        out = np.array([[k]], dtype=np.int64)
    else:
        parts = []
        for a in range(k, -1, -1):
            tail = _homogeneous(n - 1, k - a)
            head = np.full((tail.shape[0], 1), a, dtype=np.int64)
            parts.append(np.hstack([head, tail]))
        out = np.vstack(parts)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=128)
def _basis(n: int, d: int) -> np.ndarray:
    out = np.vstack([_homogeneous(n, k) for k in range(d + 1)]) if d >= 0 else np.zeros((0, n), np.int64)
    out.setflags(write=False)
    return out


def basis(n: int, d: int) -> np.ndarray:
    """Exponents of all monomials of degree <= d in n variables, graded order.

    Returns
    -------
    ndarray of shape (count(n, d), n), dtype int64, read-only

    >>> basis(2, 2).tolist()
    [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]
    """
    if n < 0 or d < -1:
        raise ValueError(f"basis needs n >= 0 and d >= 0, got n={n}, d={d}")
    return _basis(int(n), int(d))


def degree_offsets(n: int, d: int) -> np.ndarray:
    """``offsets[k]`` = number of monomials of degree < k, for k = 0..d+1."""
    return np.array([count(n, k - 1) for k in range(d + 2)], dtype=np.int64)


@lru_cache(maxsize=64)
def _binom_table(size: int) -> np.ndarray:
    """Pascal table T[a, b] = C(a, b) as int64 for 0 <= a, b < size."""
    t = np.zeros((size, size), dtype=np.int64)
    t[:, 0] = 1
    for a in range(1, size):
        t[a, 1:] = t[a - 1, 1:] + t[a - 1, :-1]
    t.setflags(write=False)
    return t


def max_int_degree(n: int) -> int:
    """Largest total degree whose indices fit in int64 for n variables (conservative)."""
    d = 1
    while count(n, d + 1) < 2**62:
        d += 1
        if d > 10_000:
            break
    return d


def index(exps: np.ndarray) -> np.ndarray:
    """Position of each exponent row in the graded order of :func:`basis`.

    Parameters
    ----------
    exps : array_like of int, shape (..., n)
        Non-negative exponents; any leading shape.

    Returns
    -------
    ndarray of int64 with shape ``exps.shape[:-1]``

    Notes
    -----
    With ``k`` the total degree, the index is the number of monomials of
    degree < k, ``C(n + k - 1, n)``, plus the rank within degree k, which is
    ``sum_i C(m_i + k_i - a_i - 1, m_i)`` over the variables ``i`` with
    ``m_i = n - i - 1`` variables after it and ``k_i`` the degree left before
    it (terms with ``k_i - a_i - 1 < 0`` vanish).

    >>> index(np.array([[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]])).tolist()
    [0, 1, 2, 3, 4, 5]
    """
    e = np.asarray(exps, dtype=np.int64)
    n = e.shape[-1]
    if n == 0:
        return np.zeros(e.shape[:-1], dtype=np.int64)
    k = e.sum(axis=-1)
    kmax = int(k.max(initial=0))
    if kmax <= INDEX_RADIX_MAX_DEGREE and count(n, kmax) <= INDEX_RADIX_MAX_MONOMIALS and (kmax + 1) ** n < 2**62:
        # a binary search in the (cached) sorted radix keys of basis(n, kmax): cheaper than the
        # closed form below on the few terms of a typical polynomial (docs/benchmarks.md)
        w, keys, order = _radix_lookup(n, kmax)
        return order[np.searchsorted(keys, e @ w)]
    T = _binom_table(n + kmax + 2)
    out = T[n + k - 1, n] if kmax >= 0 else np.zeros_like(k)
    out = np.where(k > 0, out, 0).astype(np.int64)
    rem = k.copy()
    for i in range(n - 1):
        m = n - i - 1
        a = e[..., i]
        top = m + rem - a - 1
        out += np.where(rem - a - 1 >= 0, T[np.maximum(top, 0), m], 0)
        rem = rem - a
    return out


#: Largest basis for which :func:`sum_index_table` keeps a sorted-key lookup table.
RADIX_MAX_MONOMIALS = 2_000_000
#: Largest basis (and degree) for which :func:`index` uses one: at most 0.8 MB each, and
#: quick to build (a basis of very high degree in one or two variables is not).
INDEX_RADIX_MAX_MONOMIALS = 50_000
INDEX_RADIX_MAX_DEGREE = 64


@lru_cache(maxsize=32)
def _radix_lookup(n: int, D: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Radix weights ``(D+1)**(n-1-i)``, the sorted keys of ``basis(n, D)`` and their graded indices."""
    w = (D + 1) ** np.arange(n - 1, -1, -1, dtype=np.int64)
    keys = basis(n, D) @ w
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    for a in (w, sorted_keys, order):
        a.setflags(write=False)
    return w, sorted_keys, order


def sum_index_table(
    rows: np.ndarray, cols: np.ndarray, shift: np.ndarray | None = None
) -> np.ndarray:
    """``table[t, i, j] = index(rows[i] + cols[j] + shift[t])``, one array op per variable.

    Parameters
    ----------
    rows : ndarray of shape (R, n)
    cols : ndarray of shape (C, n)
    shift : ndarray of shape (T, n), optional
        Exponents added to every entry (the terms of a localizing polynomial).

    Returns
    -------
    ndarray of int64, shape (T, R, C) (T = 1 when no shift is given)

    Exponents are encoded as mixed-radix keys ``a @ (D+1)**(n-1-i)`` (``D`` the
    largest total degree in the table), which add without carries; one
    ``searchsorted`` in the sorted keys of ``basis(n, D)`` gives the indices. When
    the keys would overflow int64 or the basis is huge, the rank is accumulated
    variable by variable with the closed form of :func:`index` instead.
    """
    rows = np.asarray(rows, dtype=np.int64)
    cols = np.asarray(cols, dtype=np.int64)
    n = rows.shape[1]
    if shift is None:
        shift = np.zeros((1, n), dtype=np.int64)
    shift = np.asarray(shift, dtype=np.int64)
    if n == 0:
        return np.zeros((shift.shape[0], rows.shape[0], cols.shape[0]), dtype=np.int64)
    D = int(shift.sum(1).max(initial=0) + rows.sum(1).max(initial=0) + cols.sum(1).max(initial=0))
    if (D + 1) ** n < 2**62 and count(n, D) <= RADIX_MAX_MONOMIALS:
        # mixed-radix keys are additive (no carries: every exponent is <= D), so the
        # table is one broadcast sum and one binary search in the sorted keys of basis(n, D)
        w, keys, order = _radix_lookup(n, D)
        k = (shift @ w)[:, None, None] + (rows @ w)[None, :, None] + (cols @ w)[None, None, :]
        return order[np.searchsorted(keys, k)]
    deg = (
        shift.sum(1)[:, None, None]
        + rows.sum(1)[None, :, None]
        + cols.sum(1)[None, None, :]
    )
    kmax = int(deg.max(initial=0))
    T = _binom_table(n + kmax + 2)
    out = np.where(deg > 0, T[np.maximum(n + deg - 1, 0), n], 0)
    rem = deg
    for i in range(n - 1):
        m = n - i - 1
        a = shift[:, i, None, None] + rows[None, :, i, None] + cols[None, None, :, i]
        top = rem - a - 1
        out += np.where(top >= 0, T[np.maximum(m + top, 0), m], 0)
        rem = rem - a
    return out
