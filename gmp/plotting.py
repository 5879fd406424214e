"""Plots of relaxation results: the moment matrices' spectra per order, with the rank cuts and flat orders.

Needs matplotlib (``pip install "gmp-moments[plot]"``); no other gmp module imports it.
Flat extensions are [CF96]; the rank rules are :mod:`gmp.rank`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .errors import ModelError
from .flatness import FlatnessReport

try:
    import matplotlib  # noqa: F401  (fail here, with the remedy, rather than at the first plot)
except ImportError as exc:  # pragma: no cover - the test extra installs matplotlib
    raise ImportError('gmp.plotting needs matplotlib; pip install "gmp-moments[plot]"') from exc

__all__ = ["plot_moment_spectrum"]

KEPT, DROPPED, FLAT = "C0", "C3", "C2"


def _report(result: Any, measure: int) -> FlatnessReport:
    """The flatness report of ``measure`` in a Result, an EstimateResult (its gmp_result) or a report."""
    if isinstance(result, FlatnessReport):
        return result
    gres = getattr(result, "gmp_result", result)   # polymom_apps.EstimateResult holds a gmp.Result
    reports = getattr(gres, "flatness", None)
    if reports is None:
        raise ModelError(f"plot_moment_spectrum needs a gmp.Result, an EstimateResult or a FlatnessReport, "
                         f"got {type(result).__name__}")
    if not reports:
        raise ModelError("this result has no flatness report (the solver gave no moments, or the relaxation "
                         "was on a moment sub-basis); nothing to plot")
    if not 0 <= measure < len(reports):
        raise ModelError(f"measure must be in 0..{len(reports) - 1} (the result has {len(reports)} measure(s)), "
                         f"got {measure}")
    return reports[measure]


def plot_moment_spectrum(result: Any, ax: Any = None, *, measure: int = 0, rule: Any = None) -> Any:
    """The singular values of the moment matrices ``M_0, ..., M_t`` of a result, one column per order.

    Each column ``s`` shows ``sigma_i(M_s) / sigma_0(M_s)`` on a log scale: the values the
    rank rule kept (filled), those it dropped (hollow, red), and the cut between them
    (a short bar, labelled with the rank). Flat orders, where ``rank M_s = rank M_{s-d}``
    and ``M_s`` is positive semidefinite [CF96], are marked in green; a result is
    certified only at a flat order. Values below ``1e-16`` are drawn at ``1e-16``.

    Parameters
    ----------
    result : gmp.Result, polymom_apps.EstimateResult or FlatnessReport
        A solved relaxation (its ``flatness`` reports).
    ax : matplotlib Axes, optional
        Where to draw; default the current Axes of pyplot.
    measure : int
        Which measure of a GMP with several.
    rule : RankRule or float, optional
        Also draw this rule's relative tolerance (``rule.tol``) as a dashed line, e.g.
        the rule the result was computed with (the default rule's is ``1e-4``).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import gmp, gmp.plotting                                  # doctest: +SKIP
    >>> x, y = gmp.variables("x y")                                # doctest: +SKIP
    >>> res = gmp.solve(x**4 + y**4 - x*y, order=3)                # doctest: +SKIP
    >>> gmp.plotting.plot_moment_spectrum(res, rule=1e-4)          # doctest: +SKIP
    """
    rep = _report(result, measure)
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.gca()
    floor, labelled = 1e-16, set()

    def label(name: str) -> str | None:   # one legend entry per kind
        if name in labelled:
            return None
        labelled.add(name)
        return name

    for s, dec in enumerate(rep.decisions):
        sv = np.asarray(dec.singular_values, dtype=float)
        if sv.size == 0 or sv[0] <= 0:
            continue
        rel = np.maximum(sv / sv[0], floor)
        xs = np.full(rel.size, s, dtype=float)
        k = dec.rank
        ax.scatter(xs[:k], rel[:k], color=KEPT, zorder=3, label=label("kept"))
        if k < rel.size:
            ax.scatter(xs[k:], rel[k:], facecolors="none", edgecolors=DROPPED, zorder=3, label=label("dropped"))
            cut = np.sqrt(rel[k - 1] * rel[k]) if k > 0 else rel[0]
            ax.hlines(cut, s - 0.3, s + 0.3, colors="k", linewidth=1.5, zorder=4)
        ax.annotate(f"rank {k}", (s, 1.0), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=8)
    for s in rep.flat_orders:
        ax.axvspan(s - 0.4, s + 0.4, color=FLAT, alpha=0.15, zorder=1, label=label("flat order"))
    if rule is not None:
        from .rank import as_rank_rule

        tol = getattr(as_rank_rule(rule), "tol", None)
        if tol is not None:
            ax.axhline(tol, color="0.4", linestyle="--", linewidth=1, label=f"tolerance {tol:g}")
    ax.set_yscale("log")
    ax.set_ylim(top=30.0)                  # room for the rank labels above 1
    ax.set_xticks(range(len(rep.decisions)))
    ax.set_xlim(-0.6, len(rep.decisions) - 0.4)
    ax.set_xlabel("order s of the moment matrix M_s")
    ax.set_ylabel("singular value / largest")
    ax.set_title(rep.message.split(";")[0])
    ax.legend(loc="lower left", fontsize=8)
    return ax
