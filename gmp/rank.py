"""Rank rules: the judgement "how many singular values are not zero", as small objects.

A rule turns a spectrum into a :class:`RankDecision` (the rank, which rule decided, how
close the call was): :class:`RelativeTolerance`, :class:`SpectralGap` (the default) and
:class:`FixedRank`. A float is shorthand for the default rule with that tolerance, ``None``
for the default rule (:func:`as_rank_rule`). Why the default is a gap rule:
docs/algorithms.md, "Rank and flatness".
"""
from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from .errors import ModelError

__all__ = [
    "RankDecision",
    "RankRule",
    "RelativeTolerance",
    "SpectralGap",
    "FixedRank",
    "DEFAULT_RANK_RULE",
    "as_rank_rule",
    "numerical_rank",
    "row_basis",
]


@dataclass(frozen=True, eq=False, repr=False)
class RankDecision:
    """The rank a rule gave a spectrum, and how close the call was.

    Attributes
    ----------
    rank : int
        Number of singular values kept.
    rule : str
        Description of the rule that decided.
    singular_values : ndarray of shape (m,)
        The spectrum, sorted descending (read-only).
    gap : float
        ``s[rank] / s[rank - 1]``, first dropped over last kept: near 0 is a clear
        cut, near 1 a doubtful one. 0.0 when nothing is dropped, nan when rank is 0.
    margin : float
        Decades by which the decision clears the rule's criterion (distance of the
        nearest singular value to the tolerance, or of the nearest cut to
        qualifying); below 1 the call was close. nan for :class:`FixedRank`.
    """

    rank: int
    rule: str
    singular_values: np.ndarray = field(repr=False)
    gap: float
    margin: float

    @property
    def close(self) -> bool:
        """True when the margin is under one decade (the call could have gone either way)."""
        return bool(self.margin < 1.0)

    def __repr__(self) -> str:
        s = self.singular_values
        rel = s / s[0] if s.size and s[0] > 0 else s
        kept = ", ".join(f"{v:.2g}" for v in rel[: self.rank][:6]) + (", ..." if self.rank > 6 else "")
        dropped = ", ".join(f"{v:.2g}" for v in rel[self.rank :][:3])
        spec = kept + (" | " + dropped if dropped else "") + (", ..." if s.size - self.rank > 3 else "")
        return (
            f"rank {self.rank} by {self.rule}: s/s0 = [{spec}] "
            f"(gap {self.gap:.2g}, margin {self.margin:.2g} decades)"
        )


def _spectrum(singular_values: np.ndarray) -> np.ndarray:
    """Validated copy of a spectrum, sorted descending, read-only."""
    s = np.asarray(singular_values, dtype=float)
    if s.ndim != 1:
        raise ModelError(f"singular values must be a 1-d array, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ModelError("singular values contain NaN or inf; check the moment data for non-finite values")
    if np.any(s < 0):
        raise ModelError(
            f"singular values must be non-negative, got {s.min():.3g}; "
            "pass np.abs(eigenvalues) or call numerical_rank(matrix)"
        )
    s = np.sort(s)[::-1].copy()
    s.setflags(write=False)
    return s


def _sci(x: float) -> str:
    """Compact number: 1e3, 1e-4, 2.5e-7, 0.5."""
    if x == 0 or 1e-2 <= abs(x) < 1e3:
        return f"{x:.3g}"
    mant, exp = f"{x:.2e}".split("e")
    mant = mant.rstrip("0").rstrip(".")
    return f"{mant}e{int(exp)}"


def _gap(s: np.ndarray, rank: int) -> float:
    if rank == 0:
        return math.nan
    if rank >= s.size:
        return 0.0
    return float(s[rank] / s[rank - 1])


def _decades(a: np.ndarray | float, b: np.ndarray | float) -> np.ndarray:
    """log10(a / b) with log10(x / 0) = inf."""
    with np.errstate(divide="ignore"):
        return np.log10(a) - np.log10(b)


class RankRule(ABC):
    """A rule that decides the numerical rank of a spectrum."""

    @abstractmethod
    def decide(self, singular_values: np.ndarray) -> RankDecision:
        """Rank of a spectrum (any order; sorted internally).

        Parameters
        ----------
        singular_values : array_like of shape (m,)
            Non-negative singular values (or absolute eigenvalues of a symmetric matrix).
        """


@dataclass(frozen=True)
class RelativeTolerance(RankRule):
    """Count the singular values above ``tol * s_0``.

    >>> RelativeTolerance(1e-6).decide([2.0, 0.8, 3e-9, 1e-10])
    rank 2 by relative tolerance 1e-6: s/s0 = [1, 0.4 | 1.5e-09, 5e-11] (gap 3.7e-09, margin 2.8 decades)
    >>> RelativeTolerance(1e-6).decide([1.0, 2e-6, 5e-7]).close   # 2e-6 is 0.3 decades above the tolerance
    True
    """

    tol: float = 1e-6

    def __post_init__(self) -> None:
        if not 0 < self.tol < 1:
            raise ModelError(f"tol must be in (0, 1), got {self.tol!r}; e.g. RelativeTolerance(1e-6)")

    def decide(self, singular_values: np.ndarray) -> RankDecision:
        s = _spectrum(singular_values)
        name = f"relative tolerance {_sci(self.tol)}"
        if s.size == 0 or s[0] == 0:
            return RankDecision(0, name, s, math.nan, math.inf)
        thr = self.tol * s[0]
        r = int(np.count_nonzero(s > thr))
        above = float(_decades(s[r - 1], thr))
        below = float(_decades(thr, s[r])) if r < s.size else math.inf
        return RankDecision(r, name, s, _gap(s, r), min(above, below))


@dataclass(frozen=True)
class SpectralGap(RankRule):
    """Cut at the largest gap ``s_{i-1} / s_i >= min_ratio`` among cuts that drop only values ``<= tol * s_0``.

    Values below the numerical floor ``m * eps * s_0`` are clipped to it (exact zeros
    make an infinite gap). When no cut qualifies the rank is the number of values
    above the floor: without a gap nothing is called zero. The margin is the number
    of decades by which the chosen cut clears both criteria, or, with no qualifying
    cut, by which the nearest cut failed.

    >>> SpectralGap().decide([1.0, 0.41, 2.2e-6, 2.1e-6, 1.7e-7])  # doctest: +NORMALIZE_WHITESPACE
    rank 2 by spectral gap >= 1e3 below 1e-4*s0: s/s0 = [1, 0.41 | 2.2e-06, 2.1e-06, 1.7e-07]
    (gap 5.4e-06, margin 1.7 decades)
    >>> SpectralGap().decide([1.0, 0.05, 2.6e-3, 1.3e-4, 6.4e-6]).rank   # Hilbert matrix: no gap
    5
    """

    min_ratio: float = 1e3
    tol: float = 1e-4

    def __post_init__(self) -> None:
        if not self.min_ratio > 1:
            raise ModelError(f"min_ratio must be > 1, got {self.min_ratio!r}; e.g. SpectralGap(min_ratio=1e3)")
        if not 0 < self.tol < 1:
            raise ModelError(f"tol must be in (0, 1), got {self.tol!r}; e.g. SpectralGap(tol=1e-4)")

    def decide(self, singular_values: np.ndarray) -> RankDecision:
        s = _spectrum(singular_values)
        name = f"spectral gap >= {_sci(self.min_ratio)} below {_sci(self.tol)}*s0"
        if s.size == 0 or s[0] == 0:
            return RankDecision(0, name, s, math.nan, math.inf)
        floor = s.size * np.finfo(float).eps * s[0]
        c = np.maximum(s, floor)
        ratios = c[:-1] / c[1:]                     # ratios[i]: cut keeping i + 1 values
        # decades by which each cut misses the criteria (<= 0: qualifies)
        miss = np.maximum(_decades(self.min_ratio, ratios), _decades(c[1:], self.tol * s[0]))
        ok = miss <= 0
        if ok.any():
            r = int(np.argmax(np.where(ok, ratios, -np.inf))) + 1
            margin = float(-miss[r - 1])
        else:
            r = int(np.count_nonzero(s > floor))
            margin = float(miss.min()) if miss.size else math.inf
        return RankDecision(r, name, s, _gap(s, r), margin)


@dataclass(frozen=True)
class FixedRank(RankRule):
    """The rank is known (e.g. the number of mixture components); capped at the size.

    >>> FixedRank(2).decide([3.0, 1e-3, 5e-4, 1e-5])
    rank 2 by fixed rank 2: s/s0 = [1, 0.00033 | 0.00017, 3.3e-06] (gap 0.5, margin nan decades)
    """

    k: int

    def __post_init__(self) -> None:
        if isinstance(self.k, bool) or not isinstance(self.k, numbers.Integral) or self.k < 1:
            raise ModelError(f"FixedRank needs a positive integer rank, got {self.k!r}; e.g. FixedRank(2)")

    def decide(self, singular_values: np.ndarray) -> RankDecision:
        s = _spectrum(singular_values)
        r = min(int(self.k), s.size)
        return RankDecision(r, f"fixed rank {self.k}", s, _gap(s, r), math.nan)


DEFAULT_RANK_RULE: RankRule = SpectralGap(min_ratio=1e3, tol=1e-4)
"""The rule used when none is given; docs/algorithms.md ("Why the default is a gap rule") has the measurements."""


def as_rank_rule(rule: RankRule | float | None) -> RankRule:
    """Normalize the ``rule`` argument of rank, flatness and extraction functions.

    Parameters
    ----------
    rule : RankRule, float or None
        A rule passes through; a float ``tol`` gives ``SpectralGap(min_ratio=1e3, tol=tol)``
        (the default rule with that tolerance); None gives :data:`DEFAULT_RANK_RULE`.

    >>> as_rank_rule(1e-6)
    SpectralGap(min_ratio=1000.0, tol=1e-06)
    >>> as_rank_rule(None) is DEFAULT_RANK_RULE
    True
    """
    if rule is None:
        return DEFAULT_RANK_RULE
    if isinstance(rule, RankRule):
        return rule
    if isinstance(rule, numbers.Real) and not isinstance(rule, bool):
        return SpectralGap(min_ratio=1e3, tol=float(rule))
    raise TypeError(
        "rule must be a RankRule (RelativeTolerance, SpectralGap, FixedRank), a float tolerance "
        f"or None for the default rule, but got {rule!r} of type {type(rule).__name__}; "
        "pass e.g. rule=1e-6 or rule=FixedRank(2)"
    )


def numerical_rank(matrix: np.ndarray, rule: RankRule | float | None = None) -> RankDecision:
    """Numerical rank of a matrix under a rank rule (singular values by SVD).

    Parameters
    ----------
    matrix : array_like of shape (m, k)
    rule : RankRule, float or None
        See :func:`as_rank_rule`.

    >>> numerical_rank(np.outer([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])).rank
    1
    """
    a = np.asarray(matrix, dtype=float)
    if a.ndim != 2:
        raise ModelError(f"numerical_rank needs a 2-d matrix, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ModelError("the matrix contains NaN or inf; check the moment data for non-finite values")
    rule = as_rank_rule(rule)
    return rule.decide(scipy.linalg.svdvals(a) if a.size else np.zeros(0))


def row_basis(M: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Pivoted QR of ``M.T`` [GVL13, Sec. 5.4.2]: ``(R, piv, rank)``, the rows ``piv[:rank]`` of
    ``M`` spanning the others, at the tolerance ``max(m, n) eps |R_00|`` (exact redundancy)."""
    _, R, piv = scipy.linalg.qr(np.asarray(M, dtype=float).T, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    tol = (diag[0] if diag.size else 0.0) * max(M.shape) * np.finfo(float).eps
    return R, piv, int(np.count_nonzero(diag > tol))
