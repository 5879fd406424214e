"""The result types of a mixture estimate: :class:`EstimateResult` and its :class:`FitTest`."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gmp import Status

__all__ = ["EstimateResult", "FitTest"]


@dataclass(frozen=True)
class FitTest:
    """Hansen's J test of the moment fit [Han82], for ``method="robust"`` on data.

    ``statistic = T * r^T W r`` with ``r`` the moment residuals of the estimate and ``W``
    the inverse sample covariance of ``phi(X)`` (the GMM weighting that the robust form and
    its polish minimize). If the data follow the model, it is asymptotically chi-squared
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
        K atoms were extracted from a solver solution.
    status : gmp.Status
        The solver's status (infeasible moment equations are ``infeasible``).
    message : str
    params : ndarray of shape (K, P) or None
        One row per component, columns ``param_names``, in the data's units.
    weights : ndarray of shape (K,) or None
        Mixing proportions (non-negative, summing to 1).
    param_names : tuple of str
    residuals : ndarray of shape (N,) or None
        ``sum_k pi_k f_n(theta_k) - m_n`` on the standardized scale.
    relative_residual : float or None
        ``||residuals|| / ||m||``.
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
    """

    success: bool
    status: Status
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
