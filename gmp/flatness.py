"""Flat extensions: ranks of the moment matrices ``M_0(y), ..., M_t(y)`` of a numeric moment vector.

If ``M_s(y)`` is PSD and ``rank M_s(y) == rank M_{s-d}(y)``, ``y`` up to degree ``2s``
has a unique, atomic representing measure [CF96], which certifies a relaxation
[HL05, Thm. 2.2]. Not being flat is an answer, never an exception (docs/algorithms.md,
"Rank and flatness").
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .errors import ModelError
from .monomials import basis, count, sum_index_table
from .rank import RankDecision, RankRule, as_rank_rule

__all__ = [
    "FlatnessReport",
    "flatness",
    "moment_matrix_from_vector",
    "localizing_matrix_from_vector",
    "check_moment_vector",
]


def check_moment_vector(y: np.ndarray, n: int, degree: int, *, exact: bool = False) -> np.ndarray:
    """Validate a moment vector holding (at least, or exactly) the moments of degree ``<= degree``.

    Returns ``y`` as a 1-d float array. Raises :class:`~gmp.errors.ModelError` on misuse.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ModelError(f"n (the number of variables) must be a positive integer, got {n!r}")
    arr = np.asarray(y, dtype=float)
    if arr.ndim != 1:
        raise ModelError(f"y must be a 1-d moment vector, got an array of shape {arr.shape}")
    need = count(n, degree)
    if len(arr) < need or (exact and len(arr) != need):
        hint = ""
        if degree % 2 == 0:
            fits = [k for k in range(0, 64) if count(n, 2 * k) == len(arr)]
            hint = f" ({len(arr)} moments is order {fits[0]})" if fits else ""
        raise ModelError(
            f"y must hold {'exactly' if exact else 'at least'} the count(n={n}, {degree}) = {need} moments "
            f"of degree <= {degree} in the graded order of gmp.monomials, got {len(arr)}{hint}; "
            "pass the moment vector that matches n and the order"
        )
    if not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ModelError(f"y[{bad}] = {float(arr[bad])} is not finite; the moments must be finite numbers")
    return arr


def moment_matrix_from_vector(y: np.ndarray, n: int, s: int) -> np.ndarray:
    """Numeric moment matrix ``M_s(y)[i, j] = y[index(a_i + a_j)]`` over ``basis(n, s)``.

    Parameters
    ----------
    y : array_like of shape (>= count(n, 2s),)
    n : int
    s : int

    Returns
    -------
    ndarray of shape (count(n, s), count(n, s))

    >>> moment_matrix_from_vector([1.0, 0.5, 0.5], 1, 1)
    array([[1. , 0.5],
           [0.5, 0.5]])
    """
    arr = check_moment_vector(y, n, 2 * s)
    b = basis(n, s)
    return arr[sum_index_table(b, b)[0]]


def localizing_matrix_from_vector(
    y: np.ndarray, n: int, s: int, g_exps: np.ndarray, g_coefs: np.ndarray
) -> np.ndarray:
    """Numeric localizing matrix ``M_s(g y)[i, j] = sum_t c_t y[index(a_i + a_j + e_t)]``.

    Parameters
    ----------
    y : array_like of shape (>= count(n, 2s + deg g),)
    n : int
    s : int
        Degree of the basis of rows and columns (in a relaxation of order ``t``,
        ``s = t - ceil(deg g / 2)``).
    g_exps : array_like of int, shape (T, n)
        Exponents of the terms of ``g``.
    g_coefs : array_like of shape (T,)
        Their coefficients.

    Returns
    -------
    ndarray of shape (count(n, s), count(n, s))

    >>> localizing_matrix_from_vector([1.0, 0.5, 0.5], 1, 0, [[0], [1]], [1.0, -1.0])   # g = 1 - x
    array([[0.5]])
    """
    e = np.asarray(g_exps, dtype=np.int64)
    c = np.asarray(g_coefs, dtype=float)
    if e.ndim != 2 or e.shape[1] != n or c.shape != (e.shape[0],) or np.any(e < 0):
        raise ModelError(
            f"g must be given as exponents of shape (T, n={n}) with non-negative entries and "
            f"coefficients of shape (T,), got shapes {e.shape} and {c.shape}"
        )
    deg = int(e.sum(axis=1).max(initial=0))
    arr = check_moment_vector(y, n, 2 * s + deg)
    b = basis(n, s)
    return np.tensordot(c, arr[sum_index_table(b, b, e)], axes=1)


@dataclass(frozen=True, eq=False, repr=False)
class FlatnessReport:
    """Ranks of ``M_0(y), ..., M_t(y)`` and the orders at which they are flat.

    Attributes
    ----------
    is_flat : bool
        Some order ``s`` is flat (see ``flat_orders``).
    flat_order : int or None
        The largest flat order.
    ranks : tuple of int, length t + 1
        ``ranks[s]`` is the rank of ``M_s(y)`` under the rule.
    flat_orders : tuple of int
        Orders ``d <= s <= t`` with ``rank M_s == rank M_{s-d}`` and ``M_s`` positive
        semidefinite (no eigenvalue the rule keeps is negative) [CF96].
    d : int
        The offset (``max(1, max_j ceil(deg g_j / 2))``).
    decisions : tuple of RankDecision
        ``decisions[s]`` decided ``ranks[s]`` (with its gap and margin).
    negative : tuple of float
        Most negative kept eigenvalue of ``M_s`` relative to the largest (0.0 if none).
    message : str
        E.g. ``"flat at s=2: ranks [1, 2, 2]"``; also the repr.
    """

    is_flat: bool
    flat_order: int | None
    ranks: tuple[int, ...]
    flat_orders: tuple[int, ...]
    d: int
    decisions: tuple[RankDecision, ...]
    negative: tuple[float, ...]
    message: str

    def __repr__(self) -> str:
        return self.message


def flatness(
    y: np.ndarray, n: int, order: int, d: int = 1, rule: RankRule | float | None = None
) -> FlatnessReport:
    """Flatness report of a moment vector of order ``order`` (moments of degree ``<= 2 order``).

    Parameters
    ----------
    y : array_like of shape (count(n, 2 order),)
    n : int
    order : int
    d : int
        Rank offset, ``max(1, max_j ceil(deg g_j / 2))`` for support constraints ``g_j``.
    rule : RankRule, float or None
        Rank rule (see :func:`gmp.rank.as_rank_rule`).

    Returns
    -------
    FlatnessReport

    Examples
    --------
    Two atoms on the line, x = -1 and x = 1 with weight 1/2 (moments 1, 0, 1, 0, 1):

    >>> flatness([1.0, 0.0, 1.0, 0.0, 1.0], n=1, order=2)
    flat at s=2: ranks [1, 2, 2]
    >>> flatness([1, 1/2, 1/3, 1/4, 1/5], n=1, order=2)     # uniform on [0, 1]
    not flat (d=1): ranks [1, 2, 3]
    """
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 0:
        raise ModelError(f"order must be a non-negative integer, got {order!r}")
    if isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1:
        raise ModelError(f"d must be a positive integer (max(1, max_j ceil(deg g_j / 2))), got {d!r}")
    rule = as_rank_rule(rule)
    m_top = moment_matrix_from_vector(check_moment_vector(y, n, 2 * order, exact=True), n, order)
    decisions, negative = [], []
    for s in range(order + 1):
        k = count(n, s)
        ev = np.linalg.eigvalsh(m_top[:k, :k])
        ev = ev[np.argsort(-np.abs(ev))]                 # by magnitude: singular values
        dec = rule.decide(np.abs(ev))
        kept = ev[: dec.rank]
        scale = abs(ev[0]) if abs(ev[0]) > 0 else 1.0
        negative.append(float(min(kept.min(initial=0.0), 0.0) / scale))
        decisions.append(dec)
    ranks = tuple(dec.rank for dec in decisions)
    rank_flat = [s for s in range(d, order + 1) if ranks[s] == ranks[s - d]]
    flat = tuple(s for s in rank_flat if negative[s] == 0.0)
    flat_order = max(flat) if flat else None
    if flat_order is not None:
        msg = f"flat at s={flat_order}: ranks {list(ranks)}"
    else:
        msg = f"not flat (d={d}): ranks {list(ranks)}"
    notes = [
        f"rank condition holds at s={s} but M_{s} has eigenvalue {negative[s]:.2g}*s0 among the kept ones"
        for s in rank_flat if negative[s] < 0
    ]
    if notes:
        warnings.warn("; ".join(notes) + " (not positive semidefinite)", RuntimeWarning, stacklevel=2)
    if flat_order is not None:
        notes += [
            f"close rank call at s={s} (margin {decisions[s].margin:.2g} decades)"
            for s in sorted({flat_order - d, flat_order}) if decisions[s].close
        ]
    if notes:
        msg += "; " + "; ".join(notes)
    return FlatnessReport(flat_order is not None, flat_order, ranks, flat, d, tuple(decisions), tuple(negative), msg)
