"""Estimate a mixture by the method of moments as a GMP on the parameter measure [WCL15].

:func:`estimate` is the list of steps: validate and standardize the data, empirical
moments (and their covariance for the robust form), then per fit the program
(:mod:`~polymom_apps.programs`), the solve, the K atoms (:mod:`~polymom_apps.extraction`),
the polish (:mod:`~polymom_apps.refine`), the tied-value search (:mod:`~polymom_apps.tied`),
the fit diagnostics (:mod:`~polymom_apps.fit_test`), and the map back to the data's units.
The result types are in :mod:`~polymom_apps.results`; docs/polymom.md explains the steps.
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gmp import Backend, Constraint, ModelError, Polynomial, SolverOptions, Status, count

from .arguments import METHODS, check_basis, check_k, check_method, min_samples, param_index
from .constraints import split_constraints, to_standardized
from .empirical import empirical_moments, moment_covariance
from .extraction import extract_mixture
from .fit_test import MISFIT_RESIDUAL, flag_misfit, free_parameters, identifiability_notes, j_test  # noqa: F401
from .programs import build_program, default_order, gmp_result, order_for, parameter_measure, riesz_matrix, run_program
from .refine import polish
from .results import EstimateResult, FitTest
from .robust import inverse_sqrt
from .spec import MixtureSpec
from .tied import profile_tied, tied_param

__all__ = ["EstimateResult", "FitTest", "estimate", "estimate_from_moments", "default_order", "free_parameters",
           "METHODS"]

# kept importable from here since the file was split by concept: MISFIT_RESIDUAL (fit_test.py),
# _riesz_matrix (programs.riesz_matrix)
_riesz_matrix = riesz_matrix

# exact equalities are infeasible on sample moments when they pin y (linear regressions)
DEFAULT_METHOD = "robust"
DEFAULT_LAM = 1e-2  # robust form: lam = DEFAULT_LAM * N / T (docs/polymom.md, "The estimation pipeline")
#: Weightings of the moments that the polish tries besides the GMM weighting (docs/polymom.md,
#: "Small samples"): "diagonal" (the inverse variances of phi(x)) and/or "identity".
POLISH_WEIGHTINGS = ("diagonal",)


def estimate(
    spec: MixtureSpec,
    X: Any,
    n_components: int,
    *,
    constraints: Any = (),
    order: int | None = None,
    backend: Any = None,
    method: str | None = None,
    lam: float | None = None,
    standardize: bool = True,
    refine: bool = True,
    options: Any = None,
    random_state: Any = None,
    basis: str = "model",
) -> EstimateResult:
    """Estimate the K components and mixing weights of ``spec`` from data ``X``.

    Parameters
    ----------
    spec : MixtureSpec
    X : array_like or dask array of shape (T, data_dim)
        A dask array is never loaded whole: validation, standardization, moments and
        their covariance are parallel reductions over its row chunks (the observation
        functions see one numpy chunk at a time).
    n_components : int
        K.
    constraints : sequence of gmp constraints on the parameters, or :class:`Tied`
        Support constraints that every component satisfies, in the data's units (mapped
        to the standardized scale through the model's affine parameter map; see
        :mod:`polymom_apps.constraints`). ``Tied.bounds`` are in the data's units too.
    order : int, optional
        Relaxation order (default: :func:`default_order`).
    backend : str or Backend, optional
        gmp backend (default: gmp's selection).
    method : {"robust", "exact"} or None
        The GMM-weighted moment residual plus a trace term (``"gmm"`` is an alias), or
        moment equalities [WCL15, Problem 7]. None (default) takes the model's
        ``spec.default_method``: ``"robust"`` for every built-in model but multiview,
        whose equalities stay consistent on sample moments (``"exact"``, faster
        there, falling back to ``"robust"`` if infeasible); see docs/polymom.md for
        the measurements.
    lam : float, optional
        Trace weight of the robust form (default ``1e-2 * N / T``).
    standardize : bool
        Estimate on standardized data and map back (recommended).
    refine : bool
        Polish the extracted atoms on the (weighted) moment equations from several starts
        (:mod:`polymom_apps.refine`); the relaxation's atoms stay in the result. Either
        way the estimate is a feasible candidate (variances ``> 0``, weights on the
        simplex, the constraints kept), chosen by AIC on the likelihood when the model has
        a density (:mod:`polymom_apps.selection`); with none feasible, ``success`` is False
        and ``status`` is ``EstimateStatus.NO_FEASIBLE_ESTIMATE``.
    options : dict or SolverOptions, optional
    random_state : int, Generator or None
        Seeds the random combinations of the atom extraction.
    basis : {"model", "full"}
        ``"model"`` (default) relaxes on the model's moment sub-basis when it has one
        (``spec.moment_basis``: multiview), else on the whole ``M_r``; ``"full"`` always
        uses the whole ``M_r``.

    Returns
    -------
    EstimateResult
    """
    if not isinstance(spec, MixtureSpec):
        raise ModelError(f"spec must be a polymom_apps.MixtureSpec, got {type(spec).__name__}")
    chosen = method is None
    method = check_method(spec.default_method if chosen else method)
    check_basis(basis)
    X = spec.check_data(X)
    back = None
    if standardize and spec.standardize is not None:
        st = spec.standardize(X)
        X, spec_use, back = st.X, st.spec, st.params_back
        constraints = to_standardized(constraints, spec, spec_use, st)
    else:
        spec_use = spec
    polys = spec_use.polys_for(X)
    N = len(polys)
    K = check_k(n_components)
    need = min_samples(N)
    if X.shape[0] < need:
        raise ModelError(
            f"data has {X.shape[0]} samples, but the {N} moments of this model need at least {need}; "
            "collect more data or use a model with fewer moments"
        )
    m = empirical_moments(spec_use.observations, X, n_moments=N)

    def run(method: str) -> tuple[np.ndarray | None, EstimateResult]:
        weight_half, lam_used, extra = None, lam, ()
        if method == "robust":
            weight_half, extra = gmm_weightings(moment_covariance(spec_use.observations, X, mean=m))
            if lam_used is None:
                lam_used = DEFAULT_LAM * N / X.shape[0]
        return weight_half, _from_moments(
            spec_use, m, K, polys=polys, constraints=constraints, order=order, backend=backend,
            method=method, lam=lam_used, weight_half=weight_half, options=options,
            random_state=random_state, refine=refine, basis=basis,
            data=X, weightings=extra, min_weight=1.0 / X.shape[0],
        )

    weight_half, res = run(method)
    if chosen and method == "exact" and res.status is Status.INFEASIBLE:
        first = res.message
        weight_half, res = run("robust")
        res = replace(res, notes=res.notes + (
            f"the model's default method 'exact' was infeasible on these sample moments ({first}); "
            "estimated with method='robust'",))
    if weight_half is not None and refine and res.success and res.residuals is not None:
        res = replace(res, fit_test=j_test(res, weight_half, X.shape[0], spec_use, K, constraints))
    if back is not None and res.candidates:
        res = replace(res, candidates=tuple(replace(c, params=back(c.params)) for c in res.candidates))
    if back is not None and res.params is not None:
        res = replace(res, params=back(res.params))
        if res.tied_value is not None and st.param_scale is not None:
            k = param_index(spec_use.parameters, tied_param(constraints), "Tied parameter")
            res = replace(res, tied_value=float(st.param_offset[k] + st.param_scale[k] * res.tied_value))
    return res


def estimate_from_moments(
    spec: MixtureSpec,
    moments: Any,
    n_components: int,
    *,
    polys: Sequence[Any] | None = None,
    constraints: Any = (),
    order: int | None = None,
    backend: Any = None,
    method: str = DEFAULT_METHOD,
    lam: float | None = None,
    weight_half: np.ndarray | None = None,
    refine: bool = True,
    options: Any = None,
    random_state: Any = None,
    basis: str = "model",
) -> EstimateResult:
    """Estimate from given moments ``m`` (population moments, or precomputed empirical ones).

    No standardization: ``m`` and ``constraints`` are in the spec's own units.
    ``weight_half`` is ``W^{1/2}`` of the robust form (identity when None).
    ``basis`` is as in :func:`estimate`.
    """
    return _from_moments(spec, moments, n_components, polys=polys, constraints=constraints, order=order,
                         backend=backend, method=method, lam=lam, weight_half=weight_half, refine=refine,
                         options=options, random_state=random_state, basis=basis)


def gmm_weightings(cov: np.ndarray) -> tuple[np.ndarray, tuple]:
    """The GMM weighting ``S = W^{1/2}`` of the robust form from the sample covariance of
    ``phi(x)``, and the further weightings its polish also tries (:data:`POLISH_WEIGHTINGS`)."""
    S = inverse_sqrt(cov)
    extra = []
    for name in POLISH_WEIGHTINGS:
        if name == "diagonal":
            extra.append((name, np.diag(1.0 / np.sqrt(np.maximum(np.diag(cov), 1e-300)))))
        elif name == "identity":
            extra.append((name, np.eye(cov.shape[0])))
    return S, tuple(extra)


def _from_moments(spec: MixtureSpec, moments: ArrayLike, n_components: int, *,
                  polys: Sequence[Polynomial] | None = None, constraints: Any = (), order: int | None = None,
                  backend: str | Backend | None = None, method: str = DEFAULT_METHOD, lam: float | None = None,
                  weight_half: np.ndarray | None = None, refine: bool = True,
                  options: SolverOptions | Mapping[str, Any] | None = None,
                  random_state: np.random.Generator | int | None = None, basis: str = "model", data: Any = None,
                  weightings: Sequence[tuple[str, np.ndarray]] = (), min_weight: float = 0.0) -> EstimateResult:
    """:func:`estimate_from_moments`, with the data (for the likelihood), the polish's extra
    weightings and the smallest mixing weight (``1 / T`` on data: a component expected to
    give less than one of the T samples is not estimable from them)."""
    method = check_method(method)
    check_basis(basis)
    polys = spec.polys_for(None) if polys is None else spec.validate_polys(polys)
    m = np.asarray(moments, dtype=float).ravel()
    if m.size != len(polys):
        raise ModelError(f"moments must have one entry per moment polynomial ({len(polys)}), got {m.size}")
    if not np.all(np.isfinite(m)):
        bad = int(np.flatnonzero(~np.isfinite(m))[0])
        raise ModelError(f"moment {bad} is {m[bad]!r}; moments must be finite")
    K = check_k(n_components)
    support, tied = split_constraints(constraints)
    notes = identifiability_notes(polys, K, free_parameters(spec, K, support))   # a tied value not counted
    support = list(spec.support) + support
    if lam is None:
        lam = 1e-6
    run = dict(spec=spec, polys=polys, m=m, K=K, order=order, backend=backend, method=method,
               lam=float(lam), weight_half=weight_half, options=options, random_state=random_state,
               refine=refine, basis=basis, data=data, weightings=tuple(weightings), min_weight=float(min_weight))
    if not tied:
        res = _estimate_once(support=support, **run)
        return flag_misfit(replace(res, notes=res.notes + tuple(notes)))
    return flag_misfit(profile_tied(tied[0], support, run, notes, _estimate_once))


def _estimate_once(*, spec: MixtureSpec, polys: Sequence[Polynomial], m: np.ndarray, K: int, order: int | None,
                   backend: str | Backend | None, method: str, lam: float, weight_half: np.ndarray | None,
                   options: SolverOptions | Mapping[str, Any] | None,
                   random_state: np.random.Generator | int | None, support: Sequence[Constraint], refine: bool,
                   basis: str = "model", data: Any = None, weightings: Sequence[tuple[str, np.ndarray]] = (),
                   min_weight: float = 0.0) -> EstimateResult:
    """One fit at fixed support constraints: program, solve, K atoms, polish."""
    t0 = time.perf_counter()
    mu = parameter_measure(spec, support)
    r = order_for(spec, polys, K, support, order)
    program, rmap, problem, sub = build_program(mu, spec, polys, m, r, method, lam, weight_half, basis)
    t1 = time.perf_counter()
    sol, _ = run_program(program, backend, options)
    t2 = time.perf_counter()
    n_mom = count(spec.n_params, 2 * r)
    names = tuple(spec.param_names)
    if not sol.status.has_solution:
        gres = gmp_result(sol, rmap, r, None, None, None, (t0, t1, t2), problem)
        if sol.status is Status.INFEASIBLE:
            msg = (f"the moment relaxation is infeasible: no mixture of {K} components of this model "
                   f"satisfies the moments and constraints ({sol.message})")
            if method == "exact":
                msg += "; with noisy (sample) moments try method='robust'"
        else:   # the solver gave no answer: that proves nothing about the model
            msg = (f"the solver gave no solution of the moment relaxation ({sol.status.value}): "
                   f"{sol.message}")
        return EstimateResult(False, sol.status, msg, None, None, names, None, None, m, r, method, gres)
    if sub is None:
        y = np.asarray(sol.x[:n_mom], dtype=float)
    else:   # the moments M_B does not use are missing (NaN)
        y = sub.expand(np.asarray(sol.x[:sub.kept.size], dtype=float))[:n_mom]
    res = extract_mixture(spec, polys, m, K, r, y, sol, rmap, (t0, t1, t2), problem, method, random_state,
                          None if sub is None else sub.basis)
    if res.success:
        res = polish(res, spec, polys, m, support, weight_half, y, r, random_state, weightings=weightings,
                     min_weight=min_weight, data=data, refine_atoms=refine)
    return res

