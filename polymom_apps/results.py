"""The result types of a mixture estimate: :class:`EstimateResult`, its :class:`FitTest` and :class:`EstimateStatus`."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from gmp import Status

__all__ = ["EstimateResult", "EstimateStatus", "FitTest"]


class EstimateStatus(str, Enum):
    """Outcomes of an estimate beyond the solver's :class:`gmp.Status`."""

    #: The relaxation was solved, but every candidate mixture read from it (and polished)
    #: violates the model's constraints (a variance not positive, a given constraint): no
    #: estimate is returned. This does not prove that no feasible mixture fits.
    NO_FEASIBLE_ESTIMATE = "no_feasible_estimate"

    @property
    def has_solution(self) -> bool:
        return False

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class FitTest:
    """Hansen's J test of the moment fit [Han82], for ``method="robust"`` on data.

    ``statistic = T * r^T W r`` with ``r`` the moment residuals of the GMM estimator (the
    feasible K-component fit with the smallest ``r^T W r``, which need not be the estimate
    returned) and ``W`` the inverse sample covariance of ``phi(X)`` (the GMM weighting that
    the robust form and its polish minimize). If the data follow the model, it is asymptotically chi-squared
    with ``dof = N - (free parameters)`` degrees of freedom; a small ``pvalue`` says the
    moments reject the model (or K). Measured calibration: bench/fit_test.py, docs/polymom.md.
    """

    statistic: float
    dof: int
    pvalue: float

    def __repr__(self) -> str:
        return f"J = {self.statistic:.3g} on {self.dof} dof, p = {self.pvalue:.3g}"


@dataclass(frozen=True, eq=False)
class EstimateResult:
    """A mixture estimate.

    Attributes
    ----------
    success : bool
        K components were read from a solver solution and satisfy the model's constraints.
    status : gmp.Status or EstimateStatus
        The solver's status (infeasible moment equations are ``infeasible``), or
        ``EstimateStatus.NO_FEASIBLE_ESTIMATE`` when no candidate satisfied the constraints.
    message : str
    params : ndarray of shape (K, P) or None
        One row per component, columns ``param_names``, in the data's units; every
        component satisfies the model's constraints (variances ``> 0``) and the given ones.
    weights : ndarray of shape (K,) or None
        Mixing proportions (on the simplex: non-negative, summing to 1).
    param_names : tuple of str
    residuals : ndarray of shape (N,) or None
        ``sum_k pi_k f_n(theta_k) - m_n`` on the standardized scale.
    relative_residual : float or None
        ``||residuals|| / ||m||``.
    weighted_relative_residual : float or None
        ``||S residuals|| / ||S m||`` in the weighting ``S`` the estimate minimizes (the GMM
        weighting of the robust form; equal to ``relative_residual`` without one).
    moments : ndarray of shape (N,)
        The empirical (or given) moments ``m`` on the standardized scale.
    order : int
    method : str
    gmp_result : gmp.Result
        Status, ranks, flatness report, atoms on the standardized scale, timings.
    notes : tuple of str
    tied_value : float or None
        The profiled shared value of a :class:`Tied` parameter (standardized units).
    relaxation_params, relaxation_weights : ndarray or None
        The atoms extracted from the relaxation, before the polish (standardized units).
    fit_test : FitTest or None
        Hansen's J test of the moment fit (:func:`estimate` with ``method="robust"`` and the
        polish, when the model has more moments than free parameters and fixed moment
        polynomials); None otherwise.
    candidates : tuple of polymom_apps.selection.Candidate
        The fits the estimate was chosen from (in the data's units), with their
        feasibility and, when the model has a density, mean log-likelihood: further
        starts for EM (:mod:`polymom_apps.em`).
    log_likelihood : float or None
        Mean log-likelihood per sample of the estimate (when the model has a density).
    """

    success: bool
    status: Status | EstimateStatus
    message: str
    params: np.ndarray | None
    weights: np.ndarray | None
    param_names: tuple[str, ...]
    residuals: np.ndarray | None
    relative_residual: float | None
    moments: np.ndarray
    order: int
    method: str
    gmp_result: Any = field(repr=False)
    notes: tuple[str, ...] = ()
    tied_value: float | None = None
    relaxation_params: np.ndarray | None = None
    relaxation_weights: np.ndarray | None = None
    fit_test: FitTest | None = None
    weighted_relative_residual: float | None = None
    candidates: tuple = field(default=(), repr=False)
    log_likelihood: float | None = None

    @property
    def ranks(self) -> tuple[int, ...]:
        return self.gmp_result.ranks[0] if self.gmp_result.ranks else ()

    def __repr__(self) -> str:
        if not self.success:
            return f"<EstimateResult {self.status.value}: {self.message}>"
        rows = "; ".join(
            "(" + ", ".join(f"{v:.4g}" for v in p) + f") pi={w:.3g}" for p, w in zip(self.params, self.weights)
        )
        return (f"<EstimateResult {len(self.weights)} components [{', '.join(self.param_names)}]: {rows}; "
                f"{self.method}, order {self.order}, rel. residual {self.relative_residual:.2g}>")
