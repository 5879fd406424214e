"""Atom extraction: the points and weights of an atomic measure from its (flat) moments.

Two methods on the moment matrix at a flat order: ``"schur"`` (column echelon form,
multiplication matrices, ordered Schur decomposition [HL05, Sec. 2.3]) and
``"projection"`` (random-projection simultaneous diagonalization, which tolerates noisy
moments [WCL15, Sec. 4]). The weights fit the moments a flat extension determines; a
failure is a result with a reason (docs/algorithms.md, "Extraction and sub-basis").
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import scipy.linalg

from .errors import ModelError
from .flatness import (
    FlatnessReport,
    check_moment_vector,
    flatness,
    localizing_matrix_from_vector,
    moment_matrix_from_vector,
)
from .monomials import basis, count, index
from .polynomial import monomial_values  # one implementation; re-exported here for callers
from .rank import RankDecision, RankRule

__all__ = [
    "Atoms",
    "ExtractionFailure",
    "extract_atoms",
    "atoms_to_moments",
    "monomial_values",
    "canonical_order",
    "localizing_matrix_from_vector",
]

_DRAWS = 8  # random combinations tried; the best separated is kept


@dataclass(frozen=True, eq=False, repr=False)
class Atoms:
    """An atomic measure ``sum_j w_j delta_{x_j}`` extracted from moments.

    Attributes
    ----------
    success : bool
        Always True (an :class:`ExtractionFailure` has False).
    points : ndarray of shape (n_atoms, n_vars)
    weights : ndarray of shape (n_atoms,)
    residual : float
        ``max_a |y_a - sum_j w_j x_j^a| / max_a |y_a|`` over the moments of degree ``<= 2s``.
    method : str
    rank : RankDecision
        Decision on ``M_s`` that fixed the number of atoms.
    flatness : FlatnessReport or None
        None for atoms read from a sub-basis (:mod:`gmp.subbasis`), where no
        flatness test applies.
    order : int
        ``s``, the order of the moment matrix the atoms come from.
    basis : ndarray of shape (n_atoms, n_vars)
        Exponents of the monomials ``w`` (or rows ``beta``) of the eigenproblem.
    notes : tuple of str
        Numerical oddities (negative weights, close rank call).
    """

    success: bool = field(default=True, init=False)
    points: np.ndarray
    weights: np.ndarray
    residual: float
    method: str
    rank: RankDecision
    flatness: FlatnessReport | None
    order: int
    basis: np.ndarray
    notes: tuple[str, ...] = ()

    @property
    def n_atoms(self) -> int:
        return int(self.points.shape[0])

    def __repr__(self) -> str:
        atoms = ", ".join(
            "(" + ", ".join(f"{v:.4g}" for v in np.round(p, 9) + 0.0) + f") w={w:.4g}"
            for p, w in zip(self.points, self.weights)
        )
        tail = f" [{self.method} at s={self.order}, residual {self.residual:.2g}]"
        notes = "; " + "; ".join(self.notes) if self.notes else ""
        return f"{self.n_atoms} atom{'s' if self.n_atoms != 1 else ''}: {atoms}{tail}{notes}"


@dataclass(frozen=True, eq=False, repr=False)
class ExtractionFailure:
    """No atoms: why not, with the flatness report and rank decision that led there."""

    success: bool = field(default=False, init=False)
    reason: str
    method: str
    flatness: FlatnessReport | None = None
    rank: RankDecision | None = None

    def __repr__(self) -> str:
        return f"no atoms ({self.method}): {self.reason}"


def canonical_order(points: np.ndarray, decimals: int = 6) -> np.ndarray:
    """Sort atoms lexicographically (first coordinate first) and turn ``-0.0`` into ``0.0``.

    The sort keys are the coordinates rounded to ``decimals`` digits relative to the
    largest coordinate, so that two coordinates equal up to rounding (a BLAS kernel's
    last bits) tie and the next coordinate decides: the order is the same on every
    machine. Exact values break the remaining ties.

    Parameters
    ----------
    points : ndarray of shape (n_atoms, n_vars)

    Returns
    -------
    ndarray of shape (n_atoms, n_vars)
        A sorted copy.

    Examples
    --------
    >>> canonical_order(np.array([[1e-13, 1.0], [-1e-13, -1.0], [-0.0, 0.5]]))
    array([[-1.e-13, -1.e+00],
           [ 0.e+00,  5.e-01],
           [ 1.e-13,  1.e+00]])
    """
    pts = np.asarray(points, dtype=float) + 0.0      # + 0.0 maps -0.0 to 0.0
    if pts.shape[0] < 2:
        return pts.copy()
    scale = max(1.0, float(np.abs(pts).max(initial=0.0)))
    keys = np.round(pts / scale, decimals) + 0.0
    order = np.lexsort(tuple(pts.T[::-1]) + tuple(keys.T[::-1]))
    return pts[order]


def atoms_to_moments(points: np.ndarray, weights: np.ndarray, degree: int) -> np.ndarray:
    """Exact moments of ``sum_j w_j delta_{x_j}`` up to ``degree``, in the graded order.

    Parameters
    ----------
    points : array_like of shape (k, n)
    weights : array_like of shape (k,)
    degree : int

    Returns
    -------
    ndarray of shape (count(n, degree),)

    >>> atoms_to_moments([[-1.0], [1.0]], [0.5, 0.5], 4)
    array([1., 0., 1., 0., 1.])
    """
    x = np.asarray(points, dtype=float)
    w = np.asarray(weights, dtype=float)
    if x.ndim != 2 or w.shape != (x.shape[0],):
        raise ModelError(
            f"points must have shape (k, n) and weights shape (k,), got {x.shape} and {w.shape}"
        )
    return w @ monomial_values(x, basis(x.shape[1], int(degree)))


def _separation(values: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """Score of each combination: min eigenvalue gap / ||coef||; -inf if an eigenvalue is complex.

    The eigenvalues of ``sum_i c_i N_i`` are ``c . x_j``, so the gap between atoms j, k
    is at most ``||c|| ||x_j - x_k||``: the score is the projected separation.
    """
    real = np.all(values.imag == 0, axis=1)
    v = np.sort(values.real, axis=1)
    gaps = np.diff(v, axis=1).min(axis=1, initial=np.inf) / np.linalg.norm(coef, axis=1)
    return np.where(real, gaps, -np.inf)


def _best_combination(mats: np.ndarray, coef: np.ndarray) -> np.ndarray:
    """The combination ``sum_i coef[c, i] mats[i]`` whose eigenvalues are best separated."""
    combos = np.einsum("ci,iab->cab", coef, mats)
    return combos[int(np.argmax(_separation(np.linalg.eigvals(combos), coef)))]


def _ordered_real_schur(a: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``a = Q T Q^T`` with T upper triangular, diagonal increasing; None if eigenvalues are complex."""
    t, q = scipy.linalg.schur(a, output="real")
    if np.any(np.diag(t, -1) != 0):
        return None
    for k in range(t.shape[0] - 1):                      # selection sort by LAPACK swaps
        j = k + int(np.argmin(np.diag(t)[k:]))
        if j != k:
            t2, q2, info = scipy.linalg.lapack.dtrexc(t, q, j + 1, k + 1)
            if info == 0:
                t, q = t2, q2
    return t, q


def _schur_points(vecs: np.ndarray, vals: np.ndarray, n: int, s: int, rng: np.random.Generator):
    """[HL05]: points (r, n) and basis exponents, or a failure reason."""
    r = vals.size
    v = vecs * np.sqrt(vals)                              # M_s = V V^T
    low = count(n, s - 1)
    perm, _, u_lu = scipy.linalg.lu(v[:low], p_indices=True)      # v[:low] = L[perm] @ U
    piv = np.argsort(perm)[:r]                            # rows that became pivots
    d = np.abs(np.diag(u_lu))
    if d.min() <= low * np.finfo(float).eps * d.max():
        return f"echelon form failed: the rows of degree <= {s - 1} of M_{s} have rank < {r}", None
    u = np.linalg.solve(v[piv].T, v.T).T                  # column echelon form, U[w] = I
    w = basis(n, s)[piv]
    mats = u[index(w[None, :, :] + np.eye(n, dtype=np.int64)[:, None, :])]   # (n, r, r)
    schur = _ordered_real_schur(_best_combination(mats, rng.dirichlet(np.ones(n), size=_DRAWS)))
    if schur is None:
        return "complex eigenvalues in the multiplication matrices: not an atomic measure at this rank", None
    q = schur[1]
    return np.einsum("aj,iab,bj->ji", q, mats, q), w


def _projection_points(vecs: np.ndarray, n: int, s: int, rng: np.random.Generator):
    """[WCL15, Sec. 4]: points (r, n) and the rows beta, or a failure reason."""
    r = vecs.shape[1]
    low = count(n, s - 1)
    piv = scipy.linalg.qr(vecs[:low].T, pivoting=True, mode="r")[1][:r]
    beta = basis(n, s)[piv]
    b = vecs[piv]                                                        # U[beta], (r, r)
    a = vecs[index(beta[None, :, :] + np.eye(n, dtype=np.int64)[:, None, :])]   # U[beta + delta_p]
    if np.linalg.cond(b) > 1 / (low * np.finfo(float).eps):
        return f"U[beta] is singular: the rows of degree <= {s - 1} of M_{s} have rank < {r}", None
    mats = np.linalg.solve(b[None], a)                                   # U[beta]^{-1} U[beta + delta_p]
    points = _simultaneous_diagonal(mats, rng)
    if points is None:
        return "complex eigenvalues in the generalized eigenproblem: not an atomic measure at this rank", None
    return points, beta


def _simultaneous_diagonal(mats: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """Points (r, n): the eigenvectors ``Q`` of the best-separated random combination of the
    commuting ``mats`` (n, r, r), then the diagonals of ``Q^{-1} N_p Q``; None if complex."""
    combo = _best_combination(mats, rng.standard_normal((_DRAWS, mats.shape[0])))
    ev, q = np.linalg.eig(combo)
    if np.any(ev.imag != 0):
        return None
    q = q.real
    diag = np.linalg.solve(q[None], mats @ q)                            # Q^{-1} N_p Q, (n, r, r)
    return np.diagonal(diag, axis1=1, axis2=2).T.copy()


def extract_atoms(
    y: np.ndarray,
    n: int,
    order: int,
    rule: RankRule | float | None = None,
    method: Literal["schur", "projection"] = "schur",
    rng: np.random.Generator | int | None = None,
) -> Atoms | ExtractionFailure:
    """Points and weights of the atomic measure whose moments are ``y``.

    Parameters
    ----------
    y : array_like of shape (count(n, 2 order),)
        Moments of degree ``<= 2 order`` in the graded order of :mod:`gmp.monomials`.
    n : int
        Number of variables.
    order : int
        Order ``t`` of the moment vector.
    rule : RankRule, float or None
        Rank rule for the flatness test (see :func:`gmp.rank.as_rank_rule`). For noisy
        moments (empirical, first-order solvers) pass ``FixedRank(k)`` when ``k`` is known.
    method : {"schur", "projection"}
    rng : numpy.random.Generator, int or None
        Source of the random combinations. None uses a fixed seed, so repeated calls
        agree; the atoms do not depend on it beyond rounding.

    Returns
    -------
    Atoms or ExtractionFailure
        Extraction at the largest flat order; a failure with a reason when the moment
        matrix is not flat, has rank 0, or the eigenproblem has complex eigenvalues.

    Examples
    --------
    >>> extract_atoms([1.0, 0.0, 1.0, 0.0, 1.0], n=1, order=2)  # doctest: +ELLIPSIS
    2 atoms: (-1) w=0.5, (1) w=0.5 [schur at s=2, residual ...]
    >>> extract_atoms([1, 1/2, 1/3, 1/4, 1/5], n=1, order=2)
    no atoms (schur): not flat (d=1): ranks [1, 2, 3]
    """
    if method not in ("schur", "projection"):
        raise ModelError(f"method must be 'schur' or 'projection', got {method!r}")
    arr = check_moment_vector(y, n, 2 * order, exact=True)
    return _extract_at_flat_order(arr, n, flatness(arr, n, order, d=1, rule=rule), method, rng)


def _extract_at_flat_order(
    arr: np.ndarray, n: int, report: FlatnessReport, method: str, rng: np.random.Generator | int | None
) -> Atoms | ExtractionFailure:
    """The extraction of :func:`extract_atoms` from a flatness ``report`` of the moments ``arr``
    (validated, at least ``count(n, 2 flat_order)`` of them): at ``report.flat_order``, with
    the rank decided there. :func:`gmp.solve` passes the report it computed for the certificate."""
    if not report.is_flat:
        return ExtractionFailure(report.message, method, report)
    s = report.flat_order
    dec = report.decisions[s]
    r = dec.rank
    if r == 0:
        return ExtractionFailure(f"rank 0 (zero measure): {report.message}", method, report, dec)
    gen = np.random.default_rng(0 if rng is None else rng)
    vals, vecs = np.linalg.eigh(moment_matrix_from_vector(arr, n, s))
    vals, vecs = vals[::-1][:r], vecs[:, ::-1][:, :r]
    if method == "schur":
        found, w = _schur_points(vecs, vals, n, s, gen)
    else:
        found, w = _projection_points(vecs, n, s, gen)
    if w is None:                                         # found is the reason
        return ExtractionFailure(found, method, report, dec)
    points = canonical_order(found)
    certified = arr[: count(n, 2 * s)]                   # the moments the flat extension determines
    weights = np.linalg.lstsq(monomial_values(points, basis(n, 2 * s)).T, certified, rcond=None)[0]
    resid = certified - atoms_to_moments(points, weights, 2 * s)
    residual = float(np.abs(resid).max() / np.abs(certified).max())
    notes = []
    if np.any(weights < 0):
        notes.append(f"negative weight {weights.min():.3g}: not a measure")
        warnings.warn(f"extracted atoms have a negative weight {weights.min():.3g}", RuntimeWarning, stacklevel=2)
    if dec.close:
        notes.append(f"close rank call (margin {dec.margin:.2g} decades)")
    return Atoms(points, weights, residual, method, dec, report, s, w, tuple(notes))
