"""Boxes that contain the supports of a GMP's measures, and bounds on their masses.

A verified bound needs ``|y_a| <= mass * sup_K |x^a|`` for the moments of every feasible
measure. The box is read off the support constraints (univariate constraints bounded on a
side, balls and ellipsoids, equalities), widened by a relative 1e-9; a mass is bounded when
it is fixed or by a moment constraint on masses only (docs/algorithms.md, "Boxes and mass
bounds"; docs/certificates.md).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .polynomial import Polynomial

if TYPE_CHECKING:  # types only: the problem module sits above the pipeline
    from .problem import GMP, Measure

__all__ = ["MeasureBox", "measure_box", "mass_bounds", "moment_bounds"]

_WIDEN = 1e-9


@dataclass(frozen=True)
class MeasureBox:
    """``lower <= x <= upper`` on the support of a measure (``±inf`` where unknown).

    Attributes
    ----------
    lower, upper : ndarray of shape (n_vars,)
    sources : tuple of str
        The constraints each finite side came from, for messages.
    """

    lower: np.ndarray
    upper: np.ndarray
    sources: tuple[str, ...] = ()

    @property
    def bounded(self) -> bool:
        return bool(np.all(np.isfinite(self.lower)) and np.all(np.isfinite(self.upper)))

    @property
    def radius(self) -> np.ndarray:
        """``max(|lower_i|, |upper_i|)``: the bound on ``|x_i|``."""
        return np.maximum(np.abs(self.lower), np.abs(self.upper))

    def unbounded_variables(self, measure: Measure) -> list[str]:
        bad = ~(np.isfinite(self.lower) & np.isfinite(self.upper))
        return [v.name for v, b in zip(measure.variables, bad) if b]


def _widen(lo: float, hi: float) -> tuple[float, float]:
    pad = _WIDEN * (1.0 + max(abs(lo) if np.isfinite(lo) else 0.0, abs(hi) if np.isfinite(hi) else 0.0))
    return lo - pad, hi + pad


def _univariate_interval(coefs: np.ndarray) -> tuple[float, float]:
    """Hull of ``{t : sum_k coefs[k] t^k >= 0}`` (coefs by increasing power), widened."""
    c = np.trim_zeros(np.asarray(coefs, dtype=float), "b")
    deg = c.size - 1
    if deg < 1:
        return -np.inf, np.inf
    lead = c[-1]
    pos_inf = lead > 0                                  # sign of g at +inf
    neg_inf = (lead > 0) == (deg % 2 == 0)              # sign of g at -inf
    if pos_inf and neg_inf:
        return -np.inf, np.inf
    roots = np.roots(c[::-1])
    real = np.sort(roots[np.abs(roots.imag) <= 1e-7 * (1.0 + np.abs(roots.real))].real)
    if real.size == 0:
        return (np.inf, -np.inf) if not (pos_inf or neg_inf) else (-np.inf, np.inf)
    lo = -np.inf if neg_inf else real[0]
    hi = np.inf if pos_inf else real[-1]
    # a root found numerically may sit a little inside: widen by the root's own scale
    return _widen(lo, hi)


def _quadratic_box(exps: np.ndarray, coefs: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The box around ``{c + l.x - x^T Q x >= 0}`` for a quadratic with ``Q`` positive definite."""
    deg = exps.sum(axis=1)
    if deg.max(initial=0) != 2:
        return None
    Q = np.zeros((n, n))
    lin = np.zeros(n)
    const = 0.0
    for e, c in zip(exps, coefs):
        nz = np.flatnonzero(e)
        if e.sum() == 0:
            const += c
        elif e.sum() == 1:
            lin[nz[0]] += c
        elif nz.size == 1:
            Q[nz[0], nz[0]] -= c
        else:
            Q[nz[0], nz[1]] -= c / 2
            Q[nz[1], nz[0]] -= c / 2
    used = np.flatnonzero(np.any(exps > 0, axis=0))
    Qs = Q[np.ix_(used, used)]
    try:
        w = np.linalg.eigvalsh(Qs)
    except np.linalg.LinAlgError:
        return None
    if w[0] <= 1e-9 * max(1.0, abs(w[-1])):
        return None
    Qi = np.linalg.inv(Qs)
    center = Qi @ lin[used] / 2
    level = const + center @ Qs @ center
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    if level < 0:  # empty set: any box contains it
        lo[used], hi[used] = 0.0, 0.0
        return lo, hi
    half = np.sqrt(level * np.maximum(np.diag(Qi), 0.0)) * (1 + 1e-7) + 1e-12
    for k, i in enumerate(used):
        lo[i], hi[i] = _widen(center[k] - half[k], center[k] + half[k])
    return lo, hi


def measure_box(measure: Measure) -> MeasureBox:
    """The box read off the support constraints of ``measure`` (docs/algorithms.md, "Boxes and mass bounds")."""
    n = measure.n_vars
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    sources: list[str] = []
    polys: list[tuple[Polynomial, str]] = [(g, f"{g} >= 0") for g in measure.inequalities]
    for h in measure.equalities:
        polys += [(h, f"{h} == 0"), (-h, f"{h} == 0")]
    where = {id(v): k for k, v in enumerate(measure.variables)}
    for g, label in polys:
        # in the polynomial's own variables (a constraint meets few of a measure's many)
        exps, coefs = g.exps, g.coefs
        cols = np.array([where[id(v)] for v in g.vars], dtype=np.int64)
        used = np.flatnonzero(np.any(exps > 0, axis=0))
        new_lo, new_hi = np.full(n, -np.inf), np.full(n, np.inf)
        if used.size == 1:
            i = used[0]
            c = np.zeros(int(exps[:, i].max()) + 1)
            np.add.at(c, exps[:, i], coefs)
            new_lo[cols[i]], new_hi[cols[i]] = _univariate_interval(c)
        else:
            box = _quadratic_box(exps, coefs, len(cols)) if used.size else None
            if box is None:
                continue
            new_lo[cols], new_hi[cols] = box
        tighter = (new_lo > lo) | (new_hi < hi)
        if tighter.any():
            sources.append(label)
        lo, hi = np.maximum(lo, new_lo), np.minimum(hi, new_hi)
    return MeasureBox(lo, hi, tuple(sources))


def mass_bounds(problem: GMP) -> tuple[np.ndarray, list[str]]:
    """Upper bounds on the mass of each measure (``inf`` where none is known), and how.

    Fixed masses are their own bound; a moment constraint whose polynomials are all
    constants, ``sum_k a_k mu_k(1) + b (== or >=) 0``, bounds each mass when the signs
    of the ``a_k`` make it a cap (masses are nonnegative).
    """
    measures = problem.measures
    out = np.full(len(measures), np.inf)
    how = ["" for _ in measures]
    for k, m in enumerate(measures):
        mass = problem.mass_of(m)
        if mass is not None:
            out[k], how[k] = mass, "fixed mass"
    for i, c in enumerate(problem.constraints):
        terms = list(c.expr.terms.values())
        if not terms or any(p.degree > 0 for _, p in terms):
            continue
        a = {problem.measure_index(m): p.constant_term for m, p in terms}
        const = c.expr.const
        # == : sum a_k m_k = -const; >= : sum a_k m_k >= -const, i.e. sum (-a_k) m_k <= const
        if c.kind == "==" and all(v > 0 for v in a.values()) and -const >= 0:
            cap, coef = -const, a
        elif all(v < 0 for v in a.values()) and const >= 0:
            cap, coef = const, {k: -v for k, v in a.items()}
        else:
            continue
        for k, v in coef.items():
            bound = cap / v * (1 + 1e-12)
            if bound < out[k]:
                out[k], how[k] = bound, f"moment constraint {i}"
    return out, how


def moment_bounds(exponents: np.ndarray, box: MeasureBox, mass: float) -> np.ndarray:
    """``mass * prod_i radius_i ** a_i``, an upper bound on ``|∫ x^a dmu|`` for each row ``a``.

    Rounded up (a relative ``4 (|a| + 2) u``); ``inf`` where a needed side is unbounded.
    """
    exponents = np.asarray(exponents, dtype=np.int64)
    rad = box.radius
    with np.errstate(over="ignore", invalid="ignore"):
        vals = np.prod(np.where(exponents > 0, rad[None, :] ** exponents, 1.0), axis=1)
    deg = exponents.sum(axis=1)
    vals = vals * mass * (1.0 + 4.0 * (deg + 2) * 2.0 ** -53)
    return np.where(np.isnan(vals), np.inf, vals)
