"""The shared value of a :class:`~polymom_apps.constraints.Tied` parameter, profiled by a bounded search.

For a fixed value ``s``, ``theta_p == s`` is a support constraint; ``s`` is searched
(bounded Brent) for the smallest weighted moment residual of the extracted mixture,
with the robust form (exact equalities are infeasible off the true ``s``: no signal).
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from gmp import Constraint, Polynomial

from .arguments import param_index
from .constraints import Tied, split_constraints
from .results import EstimateResult

__all__ = ["profile_tied", "tied_param"]


def tied_param(constraints: Any) -> Polynomial:
    """The parameter of the (single) :class:`Tied` constraint of unknown value in ``constraints``."""
    return split_constraints(constraints)[1][0].param


def profile_tied(tie: Tied, support: list[Constraint], run: dict, notes: Sequence[str],
                 fit_once: Callable[..., EstimateResult]) -> EstimateResult:
    """Search the shared value of a tied parameter (bounded Brent) for the smallest residual.

    ``fit_once(support=..., **run)`` is one estimate at fixed support constraints; ``run``
    holds its other arguments (``spec``, ``method``, ``weight_half``, ...).
    """
    from scipy.optimize import minimize_scalar

    param_index(run["spec"].parameters, tie.param, "Tied parameter")
    S = run["weight_half"]
    cache: dict[float, tuple[float, EstimateResult]] = {}
    # exact equalities are infeasible off the true value: no signal; the search compares weighted
    # residuals, so it needs neither the likelihood nor the polish's extra weightings
    search = dict(run, method="robust", data=None, weightings=())

    def score(s: float) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = fit_once(support=support + [tie.at(s)], **search)
        val = 1e6
        if res.success:
            val = float(np.linalg.norm(res.residuals if S is None else S @ res.residuals))
        cache[s] = (val, res)
        return val

    lo, hi = (1e-3, 1.0) if tie.bounds is None else map(float, tie.bounds)
    opt = minimize_scalar(score, bounds=(lo, hi), method="bounded", options={"xatol": 1e-8 * max(1.0, hi - lo)})
    best = min(cache, key=lambda s: cache[s][0])
    res = cache[best][1]
    if any(run[k] is not search[k] for k in ("method", "data", "weightings")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            final = fit_once(support=support + [tie.at(best)], **run)
        if final.success:
            res = final
        else:
            notes = list(notes) + [
                f"{run['method']} form failed at the profiled value ({final.status.value}); robust result kept"
            ]
    note = (f"tied {tie.param} = {best:.8g} on the standardized scale "
            f"(profiled over [{lo:g}, {hi:g}], {opt.nfev} solves)")
    return replace(res, notes=res.notes + tuple(notes) + (note,), tied_value=best)
