"""Estimate a mixture by the method of moments as a GMP on the parameter measure [WCL15].

Steps (one named call each):

1. validate and standardize the data (the spec's ``standardize``);
2. empirical moments ``m_n = mean_t phi_n(x_t)`` (and, for the robust form, the
   sample covariance of ``phi(x)``);
3. build the order-``r`` moment relaxation on ``mu = sum_k pi_k delta_{theta_k}``:

   * ``method="exact"`` [WCL15, Problem 7]: minimize ``tr M_r(y)`` subject to
     ``L(f_n) = m_n``, ``y_0 = 1``, the support constraints;
   * ``method="robust"``: minimize ``||W^{1/2} (L(f) - m)||^2 + lam tr M_r(y)`` with
     ``W`` the inverse sample covariance of ``phi(x)`` (the GMM weighting [Han82]),
     the square written as an epigraph ``t`` with the Schur-complement block
     ``[[t, r^T], [r, I]] PSD``, ``r = W^{1/2}(A y - m)``, appended to the program;

4. solve with a gmp backend;
5. extract exactly ``K`` atoms (rank fixed to K, the noisy-moment "projection"
   method [WCL15, Sec. 4]);
6. mixing weights: the extraction's weights projected onto the simplex
   (non-negative, summing to 1; a note says when the projection changed them);
7. map the parameters back to the data's units.

The relaxation order defaults to the smallest ``r`` with ``2r >= max deg f_n`` (and
every constraint degree) and ``count(P, r - 1) >= K``: extraction at rank K needs K
independent rows of degree ``<= r - 1`` in ``M_r``.

References
----------
[WCL15] S. Wang, A. Chaganty, P. Liang, "Estimating mixture models via mixtures of
polynomials", NIPS 2015.
[Han82] L. P. Hansen, "Large sample properties of generalized method of moments
estimators", Econometrica 50(4), 1982.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from gmp import GMP, Measure, ModelError, OrderError, Status, build_relaxation, count
from gmp.monomials import basis as monomial_basis, index
from gmp.subbasis import check_subbasis, extract_atoms_subbasis, restrict_moment_matrix

from .constraints import Tied, split_constraints
from .empirical import empirical_moments, moment_covariance
from .robust import inverse_sqrt as _inverse_sqrt, robust_program as _robust_program
from .spec import MixtureSpec

__all__ = ["EstimateResult", "FitTest", "estimate", "estimate_from_moments", "default_order", "free_parameters",
           "METHODS"]

METHODS = ("exact", "robust")
DEFAULT_METHOD = "robust"  # measured: exact equalities are infeasible on sample moments when they pin y (linear regressions)
DEFAULT_LAM = 1e-2  # robust form: lam = DEFAULT_LAM * N / T (see docs/polymom.md for the measurement)


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


# -- public entry points ---------------------------------------------------------

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
        whose equalities stay consistent on sample moments (``"exact"``, 2.5x faster
        there, falling back to ``"robust"`` if infeasible); see docs/polymom.md for
        the measurements.
    lam : float, optional
        Trace weight of the robust form (default ``1e-2 * N / T``).
    standardize : bool
        Estimate on standardized data and map back (recommended).
    refine : bool
        Polish the extracted atoms on the (weighted) moment equations
        (:mod:`polymom_apps.refine`); the relaxation's atoms stay in the result.
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
    method = _check_method(spec.default_method if chosen else method)
    _check_basis(basis)
    X = spec.check_data(X)
    back = None
    if standardize and spec.standardize is not None:
        st = spec.standardize(X)
        X, spec_use, back = st.X, st.spec, st.params_back
        constraints = _constraints_to_standardized(constraints, spec, spec_use, st)
    else:
        spec_use = spec
    polys = spec_use.polys_for(X)
    N = len(polys)
    K = _check_k(n_components)
    need = _min_samples(N)
    if X.shape[0] < need:
        raise ModelError(
            f"data has {X.shape[0]} samples, but the {N} moments of this model need at least {need}; "
            "collect more data or use a model with fewer moments"
        )
    m = empirical_moments(spec_use.observations, X, n_moments=N)

    def run(method: str) -> tuple[EstimateResult, np.ndarray | None]:
        weight_half, lam_used = None, lam
        if method == "robust":
            weight_half = _inverse_sqrt(moment_covariance(spec_use.observations, X, mean=m))
            if lam_used is None:
                lam_used = DEFAULT_LAM * N / X.shape[0]
        return weight_half, estimate_from_moments(
            spec_use, m, K, polys=polys, constraints=constraints, order=order, backend=backend,
            method=method, lam=lam_used, weight_half=weight_half, options=options,
            random_state=random_state, refine=refine, basis=basis,
        )

    weight_half, res = run(method)
    if chosen and method == "exact" and res.status is Status.INFEASIBLE:
        first = res.message
        weight_half, res = run("robust")
        res = replace(res, notes=res.notes + (
            f"the model's default method 'exact' was infeasible on these sample moments ({first}); "
            "estimated with method='robust'",))
    if weight_half is not None and refine and res.success and res.residuals is not None:
        res = replace(res, fit_test=_j_test(res, weight_half, X.shape[0], spec_use, K, constraints))
    if back is not None and res.params is not None:
        res = replace(res, params=back(res.params))
        if res.tied_value is not None and st.param_scale is not None:
            k = _param_index(spec_use.parameters, tied_param(constraints), "Tied parameter")
            res = replace(res, tied_value=float(st.param_offset[k] + st.param_scale[k] * res.tied_value))
    return res


def free_parameters(spec: MixtureSpec, n_components: int, constraints=()) -> int:
    """Free parameters of a K-component mixture of ``spec`` under ``constraints``.

    ``K (P - e - t) + t + K - 1``: each equality constraint (the spec's own and the given
    ones, assumed independent) removes one parameter per component, a :class:`Tied`
    parameter of unknown value counts once, and the weights add ``K - 1``. Inequalities
    remove nothing.
    """
    K = _check_k(n_components)
    support, tied = split_constraints(constraints)
    n_eq = len([c for c in list(spec.support) + support if c.kind == "=="])
    return K * (spec.n_params - n_eq - len(tied)) + len(tied) + K - 1


def _j_test(res: EstimateResult, weight_half: np.ndarray, T: int, spec: MixtureSpec, K: int,
            constraints) -> FitTest | None:
    """Hansen's J statistic of ``res`` and its chi-squared p-value; None without spare moments,
    or when the moment polynomials take coefficients from the data (``moment_polys``
    callable, as the linear regressions' ``E[x^a]``): the residuals then reuse the sample
    and J is not chi-squared (in a check on 5 data sets from the model: mean 15 on 25 dof).
    Called only after the polish, which minimizes the weighted residual that J measures."""
    from scipy.stats import chi2

    if callable(spec.moment_polys):
        return None
    dof = res.residuals.size - free_parameters(spec, K, constraints)
    if dof < 1:
        return None
    J = float(T * np.sum((weight_half @ res.residuals) ** 2))
    return FitTest(J, int(dof), float(chi2.sf(J, dof)))


def tied_param(constraints):
    return split_constraints(constraints)[1][0].param


def _constraints_to_standardized(constraints, spec, spec_use, st):
    """Rewrite constraints written in the data's units (``theta = offset + scale * theta_z``)."""
    support, tied = split_constraints(constraints)
    if not support and not tied:
        return []
    if st.param_offset is None or st.param_scale is None:
        raise ModelError(
            f"constraints cannot be mapped to the standardized scale of the {spec.name} model; "
            "pass standardize=False and write them in the data's units"
        )
    old, new = spec.parameters, spec_use.parameters
    off, sc = np.asarray(st.param_offset, float), np.asarray(st.param_scale, float)
    images = [float(o) + float(a) * v for o, a, v in zip(off, sc, new)]

    def sub(p):
        e, c = p.terms_in(old)
        out = 0.0 * new[0]
        for row, coef in zip(e, c):
            term = float(coef) + 0.0 * new[0]
            for k, ek in enumerate(row):
                if ek:
                    term = term * images[k] ** int(ek)
            out = out + term
        return out

    out = []
    for c in support:
        g = sub(c.expr)
        nrm = float(np.abs(g.coefs).max()) if g.n_terms else 1.0
        g = g * (1.0 / nrm) if nrm > 0 else g          # O(1) coefficients on the standardized scale
        out.append(g == 0 if c.kind == "==" else g >= 0)
    for t in tied:
        k = _param_index(old, t.param, "Tied parameter")
        b = None
        if t.bounds is not None:
            lo, hi = ((np.asarray(t.bounds, float) - off[k]) / sc[k]).tolist()
            b = (min(lo, hi), max(lo, hi))
        out.append(Tied(new[k], None if t.value is None else (t.value - off[k]) / sc[k], b))
    return out


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
    method = _check_method(method)
    _check_basis(basis)
    polys = spec.polys_for(None) if polys is None else spec.validate_polys(polys)
    m = np.asarray(moments, dtype=float).ravel()
    if m.size != len(polys):
        raise ModelError(f"moments must have one entry per moment polynomial ({len(polys)}), got {m.size}")
    if not np.all(np.isfinite(m)):
        bad = int(np.flatnonzero(~np.isfinite(m))[0])
        raise ModelError(f"moment {bad} is {m[bad]!r}; moments must be finite")
    K = _check_k(n_components)
    support, tied = split_constraints(constraints)
    notes = _identifiability_notes(polys, K, free_parameters(spec, K, support))   # a tied value not counted
    support = list(spec.support) + support
    if lam is None:
        lam = 1e-6
    run = dict(spec=spec, polys=polys, m=m, K=K, order=order, backend=backend, method=method,
               lam=float(lam), weight_half=weight_half, options=options, random_state=random_state,
               refine=refine, basis=basis)
    if not tied:
        res = _estimate_once(support=support, **run)
        return _flag_misfit(replace(res, notes=res.notes + tuple(notes)))
    return _flag_misfit(_profile_tied(tied[0], support, run, notes))


#: A fit whose relative moment residual ``||f(theta, w) - m|| / ||m||`` exceeds this gets a
#: warning. On the Table 3 models the largest is 0.24 (10 models per row, T = 1e3 for the
#: Gaussians, 1e4 for linear regressions); data that violate the model give about 1.
MISFIT_RESIDUAL = 0.5


def _flag_misfit(res: EstimateResult) -> EstimateResult:
    rel = res.relative_residual
    if not res.success or rel is None or not rel > MISFIT_RESIDUAL:
        return res
    msg = (f"the fitted mixture (K={res.params.shape[0]}) misses the moments by a relative {rel:.2g} "
           f"(more than {MISFIT_RESIDUAL}): the data may not follow this model (a wrong known parameter "
           "such as the noise level, or a wrong family), the number of components may be wrong, or there "
           "are too few samples")
    warnings.warn(msg, RuntimeWarning, stacklevel=3)
    return replace(res, notes=res.notes + (msg,))


# -- steps -----------------------------------------------------------------------

def default_order(n_params: int, n_components: int, degrees: Sequence[int]) -> int:
    """Smallest ``r`` with ``2r >= max(degrees)`` and ``count(n_params, r - 1) >= n_components``."""
    r = max([1] + [-(-int(d) // 2) for d in degrees])
    while count(n_params, r - 1) < n_components:
        r += 1
    return r


def _check_method(method: Any) -> str:
    """``"exact"`` or ``"robust"`` (``"gmm"`` is an alias of ``"robust"``)."""
    if method == "gmm":
        return "robust"
    if method not in METHODS:
        raise ModelError(
            f"method must be one of {', '.join(map(repr, METHODS))} (or 'gmm', an alias of 'robust'), got {method!r}"
        )
    return method


def _check_basis(basis: Any) -> None:
    if not isinstance(basis, str) or basis not in ("model", "full"):
        raise ModelError(f"basis must be 'model' (the model's moment sub-basis, if any) or 'full', got {basis!r}")


def _param_index(params, p, what: str) -> int:
    for i, q in enumerate(params):
        if q.vars == getattr(p, "vars", None):
            return i
    names = ", ".join(q.vars[0].name for q in params)
    raise ModelError(f"{what} {p!r} is not a parameter of the model ({names}); build it from spec.parameters")


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ModelError(f"n_components must be a positive integer, got {k!r}")
    return int(k)


def _min_samples(n_moments: int) -> int:
    """Fewest samples for which ``n_moments`` empirical moments mean anything (and a covariance)."""
    return max(2 * n_moments, 10)


def _identifiability_notes(polys, K: int, unknowns: int) -> list[str]:
    """Warn when K components have more unknowns (:func:`free_parameters`) than the moments can pin down."""
    N = len(polys)
    if unknowns > N:
        msg = (f"K={K} components of {(unknowns - K + 1) // K} free parameters have {unknowns} unknowns but the model "
               f"gives only {N} moments: the estimate is not identified; use more moments "
               "(observation functions) or fewer components")
        warnings.warn(msg, RuntimeWarning, stacklevel=4)
        return [msg]
    return []


def _order_for(spec: MixtureSpec, polys, K: int, support, order) -> int:
    P = spec.n_params
    degs = [f.degree for f in polys] + [c.expr.degree for c in support]
    lo = default_order(P, K, degs)
    if order is None:
        return lo
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
        raise OrderError(f"order must be a positive integer or None, got {order!r}")
    r = int(order)
    if count(P, r - 1) < K:
        raise OrderError(
            f"order={r} cannot hold K={K} atoms: extraction needs count(P={P}, r-1={r - 1}) = "
            f"{count(P, r - 1)} >= {K} rows of degree <= r-1; pass order={lo} or order=None"
        )
    return r


def _estimate_once(*, spec, polys, m, K, order, backend, method, lam, weight_half, options,
                   random_state, support, refine, basis="model") -> EstimateResult:
    t0 = time.perf_counter()
    mu = Measure(spec.parameters, support=support, mass=1.0, name="theta")
    r = _order_for(spec, polys, K, support, order)
    A = _riesz_matrix(spec, polys, r)
    sub = _sub_basis(spec, r, A) if basis == "model" else None
    if method == "exact":
        problem = GMP(None, [mu.E(f) == float(mn) for f, mn in zip(polys, m)], measures=[mu])
        program, rmap = build_relaxation(problem, r)
        if sub is not None:
            sub = restrict_moment_matrix(program, rmap, sub)
            program = sub.program
    else:
        problem = GMP(None, [], measures=[mu])
        base, rmap = build_relaxation(problem, r)
        if sub is not None:
            sub = restrict_moment_matrix(base, rmap, sub)
            base, A = sub.program, A[:, sub.kept]
        S = np.eye(len(m)) if weight_half is None else weight_half
        program = _robust_program(base, S @ A, S @ m, lam)
    t1 = time.perf_counter()
    from gmp_backends import SolverOptions, resolve_backend

    be = resolve_backend(backend)
    sol = be.run(program, SolverOptions.from_any(options))
    t2 = time.perf_counter()
    n_mom = count(spec.n_params, 2 * r)
    names = tuple(spec.param_names)
    if not sol.status.has_solution:
        gres = _gmp_result(sol, rmap, r, None, None, None, be, (t0, t1, t2), problem)
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
    res = _finish(spec, polys, m, K, r, y, sol, rmap, be, (t0, t1, t2), problem, method, random_state,
                  None if sub is None else sub.basis)
    if refine and res.success:
        res = _polish(res, spec, polys, m, support, weight_half, y, r, random_state)
    return res


def _sub_basis(spec, r: int, A: np.ndarray) -> np.ndarray | None:
    """The model's sub-basis of ``M_r`` (validated), or None; every moment the polynomials use must be in ``M_B``."""
    if spec.moment_basis is None:
        return None
    B = check_subbasis(spec.moment_basis(r), spec.n_params, r)
    inside = np.zeros(A.shape[1], bool)
    inside[np.unique(index(B[:, None, :] + B[None, :, :]))] = True
    missing = np.flatnonzero(np.any(A != 0, axis=0) & ~inside)
    if missing.size:
        e = monomial_basis(spec.n_params, 2 * r)[missing[0]]
        mono = "*".join(f"{n}^{int(k)}" if k > 1 else n for n, k in zip(spec.param_names, e) if k) or "1"
        raise ModelError(
            f"the moment polynomials use the moment of {mono}, which the model's moment sub-basis does not "
            "reach (no product of two of its monomials gives it); fix spec.moment_basis or pass basis='full'"
        )
    return B


def _finish(spec, polys, m, K, r, y, sol, rmap, be, times, problem, method, random_state,
            sub_basis=None) -> EstimateResult:
    from gmp.extraction import extract_atoms
    from gmp.flatness import flatness, moment_matrix_from_vector
    from gmp.rank import FixedRank, numerical_rank

    P = spec.n_params
    names = tuple(spec.param_names)
    notes: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if sub_basis is None:
            report = flatness(y, P, r, d=1)  # default rule: the numerical ranks, for the record
            ranks = tuple(report.ranks)
            atoms = extract_atoms(y, P, r, rule=FixedRank(K), method="projection", rng=random_state)
        else:
            # M_0..M_{r-1} where M_B holds all their moments, then M_B in place of M_r
            report = None
            low = [s for s in range(r) if np.all(np.isfinite(y[:count(P, 2 * s)]))]
            ranks = tuple(numerical_rank(moment_matrix_from_vector(y[:count(P, 2 * s)], P, s)).rank
                          for s in low)
            ranks += (numerical_rank(y[index(sub_basis[:, None] + sub_basis[None])]).rank,)
            atoms = extract_atoms_subbasis(y, P, sub_basis, rule=FixedRank(K), rng=random_state)
    gres = _gmp_result(sol, rmap, r, y, report, atoms, be, times, problem, ranks)
    if ranks[-1] < K and (len(ranks) < 2 or ranks[-2] < K):
        which = f"M_0..M_{r}" if sub_basis is None else f"M_0..M_{len(ranks) - 2}, then M_B on the sub-basis"
        msg = (f"the moment matrices have numerical ranks {list(ranks)} ({which}), below K={K}: the "
               f"moments are explained by fewer components; the {K} extracted components are not "
               "identified (fewer components, or more moments)")
        warnings.warn(msg, RuntimeWarning, stacklevel=4)
        notes.append(msg)
    if not atoms.success:
        msg = f"could not extract {K} components: {atoms.reason}"
        warnings.warn(msg + "; try another order or method='robust'", RuntimeWarning, stacklevel=4)
        return EstimateResult(False, sol.status, msg, None, None, names, None, None, m, r, method, gres,
                              tuple(notes))
    pts = np.asarray(atoms.points, dtype=float)
    w_raw = np.asarray(atoms.weights, dtype=float)
    w = _project_simplex(w_raw)
    if np.max(np.abs(w - w_raw)) > 1e-8:
        notes.append(f"weights {np.round(w_raw, 6).tolist()} projected onto the simplex")
    resid = spec.moment_matrix_at(pts, polys) @ w - m
    rel = float(np.linalg.norm(resid) / max(np.linalg.norm(m), 1e-300))
    msg = f"{K} components extracted at order {r} ({sol.status.value}); relative moment residual {rel:.2g}"
    return EstimateResult(True, sol.status, msg, pts, w, names, resid, rel, m, r, method, gres, tuple(notes))


def _polish(res: EstimateResult, spec, polys, m, support, weight_half, y=None, r=None,
            random_state=None) -> EstimateResult:
    """Polish on the moment equations from the relaxation's atoms and, as further starts,
    from the atoms of the truncations ``M_s(y)``, ``s < r``; keep the lowest residual.

    The trace relaxation need not be rank K at order r, and a local polish from its
    atoms can stop at a spurious stationary point (1-d Gaussian mixture, K = 3, nine
    exact moments: residual 1e-4, parameter error up to 3). The truncated moment
    matrices are closer to rank K there, and their atoms polish to the truth.
    """
    from .refine import refine as _refine

    starts = [(res.params, res.weights, "relaxation atoms")]
    if y is not None and r is not None:
        starts += _truncated_starts(spec.n_params, y, r, res.params.shape[0], random_state)
    best = None
    for th0, w0, label in starts:
        th, w, improved, cost = _refine(spec, polys, m, th0, w0, support, weight_half, return_cost=True)
        if improved and (best is None or cost < best[3]):
            best = (th, w, label, cost)
    if best is None:
        return replace(res, relaxation_params=res.params, relaxation_weights=res.weights,
                       notes=res.notes + ("polish did not lower the moment residual; relaxation atoms kept",))
    th, w, label, _ = best
    resid = spec.moment_matrix_at(th, polys) @ w - m
    rel = float(np.linalg.norm(resid) / max(np.linalg.norm(m), 1e-300))
    msg = res.message + f"; polished on the moment equations: relative residual {rel:.2g}"
    notes = res.notes if label == "relaxation atoms" else res.notes + (f"polish started from the {label}",)
    return replace(res, params=th, weights=w, residuals=resid, relative_residual=rel, message=msg,
                   relaxation_params=res.params, relaxation_weights=res.weights, notes=notes)


def _truncated_starts(P: int, y: np.ndarray, r: int, K: int, random_state) -> list:
    """Atoms of ``M_s(y)`` at rank K for ``s = r - 1, r - 2, ...`` while degree ``s - 1`` has K monomials."""
    from gmp.extraction import extract_atoms
    from gmp.rank import FixedRank

    out = []
    s = r - 1
    while s >= 1 and count(P, s - 1) >= K:
        if not np.all(np.isfinite(y[: count(P, 2 * s)])):   # a moment the sub-basis relaxation dropped
            s -= 1
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            a = extract_atoms(y[: count(P, 2 * s)], P, s, rule=FixedRank(K), method="projection",
                              rng=random_state)
        if a.success and np.all(np.isfinite(a.points)):
            out.append((np.asarray(a.points, float), _project_simplex(np.asarray(a.weights, float)),
                        f"atoms of the truncated moment matrix M_{s}"))
        s -= 1
    return out


def _riesz_matrix(spec, polys, r: int) -> np.ndarray:
    """``A`` with ``A @ y = (L_y(f_n))_n`` over the moments of degree <= 2r."""
    n_mom = count(spec.n_params, 2 * r)
    A = np.zeros((len(polys), n_mom))
    for k, f in enumerate(polys):
        e, c = f.terms_in(spec.parameters)
        np.add.at(A[k], index(e), c)
    return A


def _project_simplex(v: np.ndarray) -> np.ndarray:
    """Euclidean projection onto ``{w >= 0, sum w = 1}`` [Duchi et al. 2008]."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    k = np.arange(1, v.size + 1)
    rho = int(np.nonzero(u - css / k > 0)[0][-1])
    return np.maximum(v - css[rho] / (rho + 1), 0.0)


def _gmp_result(sol, rmap, r, y, report, atoms, be, times, problem, ranks=None):
    from gmp import Result
    from gmp.moments import MomentSequence

    t0, t1, t2 = times
    t3 = time.perf_counter()
    mu = problem.measures[0]
    moments = None if y is None else (MomentSequence(mu.variables, 2 * r, y),)
    ok_atoms = atoms if (atoms is not None and atoms.success) else None
    if report is not None:                 # the whole M_r: its flatness report
        message, ranks = report.message, tuple(report.ranks)
    elif ranks is not None:                # a sub-basis: ranks of M_0..M_{r-1} and of M_B, no flatness test
        message = (f"numerical ranks {list(ranks)}, the last of M_B on the moment sub-basis "
                   "(no flatness test applies there)")
    else:                                  # no solution
        message = sol.message
    return Result(
        success=sol.status.has_solution, status=sol.status, message=message,
        bound=None if sol.primal_objective is None else float(sol.primal_objective),
        order=r, certified=False, ranks=() if ranks is None else (tuple(ranks),),
        atoms=ok_atoms, moments=moments, backend=getattr(be, "name", str(be)),
        timings={"build": t1 - t0, "solve": t2 - t1, "extract": t3 - t2, "total": t3 - t0},
        raw_status=sol.raw_status, atoms_per_measure=(ok_atoms,),
        flatness=() if report is None else (report,), solution=sol,
    )


def _profile_tied(tie: Tied, support, run, notes) -> EstimateResult:
    """Search the shared value of a tied parameter (bounded Brent) for the smallest residual."""
    from scipy.optimize import minimize_scalar

    _param_index(run["spec"].parameters, tie.param, "Tied parameter")
    S = run["weight_half"]
    cache: dict[float, tuple[float, EstimateResult]] = {}
    search = dict(run, method="robust")  # exact equalities are infeasible off the true value: no signal

    def score(s: float) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = _estimate_once(support=support + [tie.at(s)], **search)
        val = 1e6
        if res.success:
            val = float(np.linalg.norm(res.residuals if S is None else S @ res.residuals))
        cache[s] = (val, res)
        return val

    lo, hi = (1e-3, 1.0) if tie.bounds is None else map(float, tie.bounds)
    opt = minimize_scalar(score, bounds=(lo, hi), method="bounded", options={"xatol": 1e-8 * max(1.0, hi - lo)})
    best = min(cache, key=lambda s: cache[s][0])
    res = cache[best][1]
    if run["method"] != "robust":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            final = _estimate_once(support=support + [tie.at(best)], **run)
        if final.success:
            res = final
        else:
            notes = list(notes) + [f"{run['method']} form failed at the profiled value ({final.status.value}); robust result kept"]
    note = f"tied {tie.param} = {best:.8g} on the standardized scale (profiled over [{lo:g}, {hi:g}], {opt.nfev} solves)"
    return replace(res, notes=res.notes + tuple(notes) + (note,), tied_value=best)
