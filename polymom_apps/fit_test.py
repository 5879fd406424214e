"""Does the fit mean anything: free parameters, Hansen's J test [Han82], the misfit and identifiability warnings.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from gmp import Polynomial

from .arguments import check_k
from .constraints import split_constraints
from .results import EstimateResult, FitTest
from .spec import MixtureSpec

__all__ = ["MISFIT_RESIDUAL", "flag_misfit", "free_parameters", "identifiability_notes", "j_test"]

#: A fit whose relative moment residual exceeds this, plainly (``||r|| / ||m||``) or in the
#: weighting the estimate minimizes (``||S r|| / ||S m||``), gets a warning. Measured values
#: (fits of the model to its own data, and to data that violate it) are in docs/polymom.md.
MISFIT_RESIDUAL = 0.5


def free_parameters(spec: MixtureSpec, n_components: int, constraints: Any = ()) -> int:
    """Free parameters of a K-component mixture of ``spec`` under ``constraints``.

    ``K (P - e - t) + t + K - 1``: each equality constraint (the spec's own and the given
    ones, assumed independent) removes one parameter per component, a :class:`Tied`
    parameter of unknown value counts once, and the weights add ``K - 1``. Inequalities
    remove nothing.
    """
    K = check_k(n_components)
    support, tied = split_constraints(constraints)
    n_eq = len([c for c in list(spec.support) + support if c.kind == "=="])
    return K * (spec.n_params - n_eq - len(tied)) + len(tied) + K - 1


def j_test(res: EstimateResult, weight_half: np.ndarray, T: int, spec: MixtureSpec, K: int,
           constraints: Any) -> FitTest | None:
    """Hansen's J statistic and its chi-squared p-value; None without spare moments, or when
    the moment polynomials take coefficients from the data (``moment_polys`` callable, as
    the linear regressions' ``E[x^a]``): the residuals then reuse the sample and J is not
    chi-squared (in a check on 5 data sets from the model: mean 15 on 25 dof).

    J is the minimized GMM objective: ``T`` times the smallest weighted residual among the
    feasible K-component candidates of the polish (the GMM estimator), which need not be the
    returned estimate (chosen by likelihood). Called only after the polish."""
    from scipy.stats import chi2

    if callable(spec.moment_polys):
        return None
    dof = res.residuals.size - free_parameters(spec, K, constraints)
    if dof < 1:
        return None
    full = [c for c in res.candidates if c.feasible and c.n_free is not None]
    if full:
        n = max(c.n_free for c in full)
        J = float(T * min(c.cost for c in full if c.n_free == n))
    else:
        J = float(T * np.sum((weight_half @ res.residuals) ** 2))
    return FitTest(J, int(dof), float(chi2.sf(J, dof)))


def flag_misfit(res: EstimateResult) -> EstimateResult:
    """Warn (and note) when the fitted mixture misses the moments by more than :data:`MISFIT_RESIDUAL`,
    plainly or in the weighting the estimate minimizes."""
    rel, wrel = res.relative_residual, res.weighted_relative_residual
    if not res.success or rel is None:
        return res
    if wrel is None or not wrel > MISFIT_RESIDUAL or wrel == rel:
        if not rel > MISFIT_RESIDUAL:
            return res
        how = f"a relative {rel:.2g} (more than {MISFIT_RESIDUAL})"
    else:
        how = (f"a relative {wrel:.2g} in the GMM weighting it minimizes ({rel:.2g} unweighted; more than "
               f"{MISFIT_RESIDUAL})")
    msg = (f"the fitted mixture (K={res.params.shape[0]}) misses the moments by {how}: the data may not "
           "follow this model (a wrong known parameter "
           "such as the noise level, or a wrong family), the number of components may be wrong, or there "
           "are too few samples")
    warnings.warn(msg, RuntimeWarning, stacklevel=3)
    return replace(res, notes=res.notes + (msg,))


def identifiability_notes(polys: Sequence[Polynomial], K: int, unknowns: int) -> list[str]:
    """Warn when K components have more unknowns (:func:`free_parameters`) than the moments can pin down."""
    N = len(polys)
    if unknowns > N:
        msg = (f"K={K} components of {(unknowns - K + 1) // K} free parameters have {unknowns} unknowns but the model "
               f"gives only {N} moments: the estimate is not identified; use more moments "
               "(observation functions) or fewer components")
        warnings.warn(msg, RuntimeWarning, stacklevel=4)
        return [msg]
    return []
