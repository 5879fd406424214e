"""Floating-point error bounds for verified results: ``γ_n``, sums and sparse products with
an explicit error term, and a rigorous lower bound on the smallest eigenvalue of a
symmetric matrix (a shifted Cholesky factorization, [Hig02, Thm. 10.3], [Rum06]).

Every bound here holds for IEEE double arithmetic with rounding to nearest, whatever
the order in which BLAS/LAPACK sum (the error bounds of [Hig02] do not depend on it).
"""
from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

__all__ = ["UNIT_ROUNDOFF", "gamma", "down", "up", "symmetric_from_lower", "lambda_min_lower",
           "sum_with_error"]

#: ``u = 2**-53``: the unit roundoff of IEEE double precision.
UNIT_ROUNDOFF = 2.0 ** -53
_TINY = np.finfo(float).tiny


def gamma(n: int) -> float:
    """``γ_n = n u / (1 - n u)``, the relative error bound of a sum of ``n`` products [Hig02, Sec. 3.1].

    ``inf`` when ``n u >= 1/2`` (no useful bound).
    """
    nu = float(n) * UNIT_ROUNDOFF
    return np.inf if nu >= 0.5 else nu / (1.0 - nu)


def down(v: float) -> float:
    """The next float below ``v`` (a value computed by one rounded operation is above
    the exact one by at most one ulp)."""
    return float(np.nextafter(v, -np.inf))


def up(v: float) -> float:
    """The next float above ``v``."""
    return float(np.nextafter(v, np.inf))


def symmetric_from_lower(A: np.ndarray) -> np.ndarray:
    """The symmetric matrix whose lower triangle is that of ``A`` (exact: no arithmetic).

    LAPACK reads only one triangle; using this matrix everywhere else keeps every
    computation about the same matrix.
    """
    L = np.tril(np.asarray(A, dtype=float))
    return L + np.tril(L, -1).T


def _gershgorin_lower(A: np.ndarray) -> float:
    """``min_i (a_ii - sum_{j != i} |a_ij|)`` with the rounding of the sums bounded."""
    n = A.shape[0]
    d = np.diag(A)
    off = np.abs(A).sum(axis=1) - np.abs(d)
    off = np.abs(off) * (1.0 + 2.0 * gamma(n + 1)) + _TINY  # the computed sums, made upper bounds
    low = d - off
    low = low - 2.0 * UNIT_ROUNDOFF * np.abs(low) - _TINY  # the subtraction's rounding
    return float(np.min(low))


def lambda_min_lower(A: np.ndarray) -> float:
    """A rigorous lower bound on the smallest eigenvalue of the symmetric matrix ``A``.

    Only the lower triangle of ``A`` is read (see :func:`symmetric_from_lower`).

    A floating-point Cholesky factor ``R`` of ``B = fl(A - σ I)`` satisfies
    ``R^T R = B + ΔB`` with ``|ΔB| <= γ_{n+1} |R^T| |R|`` [Hig02, Thm. 10.3], so
    ``λ_min(B) >= -γ_{n+1} ||R||_F^2``; forming ``B`` changes each diagonal entry by at
    most ``u |b_ii|``. Hence ``λ_min(A) >= σ - γ_{n+1} ||R||_F^2 - u max |b_ii|``. The
    shift ``σ`` starts just below the computed smallest eigenvalue and moves down until
    the factorization succeeds (as in [Rum06]); Gershgorin's bound is the fallback.

    Parameters
    ----------
    A : ndarray of shape (n, n)

    Returns
    -------
    float
        ``inf`` for an empty matrix, ``-inf`` when ``A`` holds a non-finite value.

    Examples
    --------
    >>> lam = lambda_min_lower(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> 1.0 - 1e-12 < lam <= 1.0
    True
    """
    A = symmetric_from_lower(A)
    n = A.shape[0]
    if n == 0:
        return np.inf
    if not np.all(np.isfinite(A)):
        return -np.inf
    best = _gershgorin_lower(A)
    try:
        lam = float(np.linalg.eigvalsh(A)[0])
    except np.linalg.LinAlgError:
        return best
    norm = float(np.max(np.abs(A)))
    if norm == 0.0:
        return 0.0
    margin = max(4.0 * (n + 2) * UNIT_ROUNDOFF * norm, 1e-12 * abs(lam), _TINY)
    g = gamma(n + 1)
    g_sum = gamma(n * (n + 1) // 2 + 1)
    for _ in range(8):
        sigma = lam - margin
        B = A - sigma * np.eye(n)
        try:
            R = sla.cholesky(B, lower=False, check_finite=False)
        except (sla.LinAlgError, ValueError):
            margin *= 16.0
            continue
        if not np.all(np.isfinite(R)):
            margin *= 16.0
            continue
        fro2 = float(np.sum(np.triu(R) ** 2)) / (1.0 - g_sum)
        diag_err = UNIT_ROUNDOFF * float(np.max(np.abs(np.diag(B)))) * (1.0 + 4.0 * UNIT_ROUNDOFF)
        loss = up(up(g * fro2 * (1.0 + 4.0 * UNIT_ROUNDOFF)) + diag_err) + n * _TINY
        bound = down(sigma - loss)
        return max(best, bound)
    return best


def sum_with_error(terms: list[tuple[sp.spmatrix | np.ndarray | None, np.ndarray]],
                   const: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """``const + sum_k M_k @ v_k`` and an upper bound on the error of computing it.

    Parameters
    ----------
    terms : list of (matrix, vector)
        Matrices may be sparse or dense (``None`` means the identity: the term is ``v``).
    const : ndarray or float

    Returns
    -------
    value : ndarray
        The floating-point result.
    error : ndarray
        ``|value - exact| <= error`` entrywise: ``2 γ_K (|const| + sum_k |M_k| @ |v_k|)``
        with ``K`` the largest number of products summed into one entry plus the number
        of pieces [Hig02, Sec. 3.1] (the factor 2 also covers the rounding of the
        absolute sum itself).
    """
    value = np.array(const, dtype=float, copy=True)
    absval = np.abs(value)
    K = 1 + len(terms)
    for M, v in terms:
        v = np.asarray(v, dtype=float)
        if M is None:
            value = value + v
            absval = absval + np.abs(v)
            continue
        value = value + M @ v
        absval = absval + abs(M) @ np.abs(v)
        if sp.issparse(M):
            K += int(np.max(np.diff(sp.csr_matrix(M).indptr), initial=0))
        else:
            K += int(np.asarray(M).shape[-1])
    err = 2.0 * gamma(K) * absval * (1.0 + 4.0 * UNIT_ROUNDOFF) + _TINY
    return value, err
