"""The Clarabel backend: a sparse interior-point solver, through its direct Python API.

The program goes to ``clarabel.DefaultSolver`` in the standard form of
:mod:`gmp_backends.standard_form` (PSD blocks as upper triangles, off-diagonals scaled by √2,
:mod:`gmp_backends.svec`), in the dual (SOS) formulation unless
``extra={"formulation": "moment"}``; the duals are read back in the convention of
:mod:`gmp.conic`. Options and why the dual form is the default: docs/backends.md, "Clarabel".
"""
from __future__ import annotations

import difflib
from typing import Any, ClassVar

import scipy.sparse as sp

from gmp.backend import Backend
from gmp.conic import ConicProgram, ConicSolution
from gmp.errors import OptionError
from gmp.options import SolverOptions
from gmp.status import Status

from .presolve import has_no_cones, solve_without_cones
from .standard_form import StandardForm, build_standard_form, check_formulation
from .status_map import describe, lookup

__all__ = ["ClarabelBackend", "DEFAULT_FORMULATION"]

#: Formulation used unless ``extra={"formulation": ...}`` says otherwise (why: docs/backends.md, "Clarabel").
DEFAULT_FORMULATION = "dual"
#: Clarabel's raw status -> ours (certificates are the solver's side: see _CERTIFICATES).
STATUS_MAP: dict[str, Status] = {
    "Solved": Status.OPTIMAL, "AlmostSolved": Status.OPTIMAL_INACCURATE,
    "PrimalInfeasible": Status.INFEASIBLE, "AlmostPrimalInfeasible": Status.INFEASIBLE,
    "DualInfeasible": Status.UNBOUNDED, "AlmostDualInfeasible": Status.UNBOUNDED,
    "MaxIterations": Status.ITERATION_LIMIT, "MaxTime": Status.TIME_LIMIT,
    "InsufficientProgress": Status.NUMERICAL_ERROR, "NumericalError": Status.NUMERICAL_ERROR,
}
#: Raw certificate statuses: True when Clarabel's own primal is infeasible.
_CERTIFICATES = {"PrimalInfeasible": True, "AlmostPrimalInfeasible": True,
                 "DualInfeasible": False, "AlmostDualInfeasible": False}


class ClarabelBackend(Backend):
    """Clarabel's interior-point conic solver, dual (SOS) form by default.

    Honours ``tol``, ``max_iters``, ``verbose`` and ``time_limit``. ``extra``
    takes ``formulation`` ("moment" or "dual") and raw ``clarabel.DefaultSettings``
    attributes, which override the translated values.
    """

    name: ClassVar[str] = "clarabel"
    required_modules: ClassVar[tuple[str, ...]] = ("clarabel",)
    pip_extra: ClassVar[str | None] = "clarabel"

    def solve(self, program: ConicProgram, options: SolverOptions) -> ConicSolution:
        import clarabel

        formulation, settings = _translate(clarabel, options)
        if has_no_cones(program):
            return solve_without_cones(program)
        form = build_standard_form(program, "upper", formulation)
        cones = [cone for cone in (
            form.n_zero and clarabel.ZeroConeT(form.n_zero),
            form.n_nonneg and clarabel.NonnegativeConeT(form.n_nonneg),
            *(clarabel.PSDTriangleConeT(d) for d in form.psd_dims),
        ) if cone]
        n_w = form.A.shape[1]
        P = sp.csc_matrix((n_w, n_w))  # no quadratic term
        try:
            solver = clarabel.DefaultSolver(P, form.q, form.A, form.b, cones, settings)
        except Exception as exc:
            if str(exc).startswith("Bad settings"):
                raise OptionError(f"clarabel rejected its settings: {exc}; check the values "
                                  "passed in extra (see clarabel.DefaultSettings())") from None
            raise
        sol = solver.solve()
        return _to_solution(sol, solver.get_info(), form, options, settings)


# -- options ---------------------------------------------------------------
def _setting_names(clarabel: Any) -> list[str]:
    defaults = clarabel.DefaultSettings()
    return sorted(a for a in dir(defaults)
                  if not a.startswith("_") and not callable(getattr(defaults, a)))


def _translate(clarabel: Any, options: SolverOptions) -> tuple[str, Any]:
    """The formulation and a ``clarabel.DefaultSettings`` for ``options`` (``extra`` wins)."""
    values: dict[str, Any] = {"verbose": options.verbose}
    if options.tol is not None:
        values.update(tol_gap_abs=options.tol, tol_gap_rel=options.tol, tol_feas=options.tol)
    if options.max_iters is not None:
        values["max_iter"] = options.max_iters
    if options.time_limit is not None:
        values["time_limit"] = options.time_limit
    extra = dict(options.extra)
    formulation = check_formulation(extra.pop("formulation", DEFAULT_FORMULATION), "clarabel")
    names = _setting_names(clarabel)
    for key in extra:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise OptionError(
                f"unknown clarabel option {key!r} in extra{hint}; clarabel accepts "
                f"formulation and the attributes of clarabel.DefaultSettings: {', '.join(names)}")
    values.update(extra)
    settings = clarabel.DefaultSettings()
    for key, value in values.items():
        try:
            setattr(settings, key, value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise OptionError(f"clarabel option {key} got {value!r} ({type(value).__name__}), "
                              f"which clarabel rejects: {exc}") from None
    return formulation, settings


# -- results ---------------------------------------------------------------
def _fmt(v: float) -> str:
    return f"{v:.1e}"


def _to_solution(sol: Any, info: Any, form: StandardForm, options: SolverOptions,
                 settings: Any) -> ConicSolution:
    """Map Clarabel's status (:data:`STATUS_MAP`); accuracy is judged by the core."""
    raw = str(sol.status)
    pres_key, dres_key = form.residual_names()
    details = {
        "gap": info.gap_abs, "relative_gap": info.gap_rel,
        pres_key: info.res_primal, dres_key: info.res_dual,
        "solver_primal_infeasibility_residual": info.res_primal_inf,
        "solver_dual_infeasibility_residual": info.res_dual_inf,
        "ktratio": info.ktratio, "formulation": form.formulation,
        "solver_shape": form.shape,
        "linear_solver": f"{info.linsolver.name} ({info.linsolver.threads} threads)",
        "clarabel_objectives": (sol.obj_val, sol.obj_val_dual),
    }
    figures = (f"relative gap {_fmt(info.gap_rel)}, primal/dual residuals "
               f"{_fmt(details['primal_residual'])}/{_fmt(details['dual_residual'])}")
    it = int(sol.iterations)

    status = lookup(STATUS_MAP, raw)
    if raw in _CERTIFICATES:  # the solver's side of the pair: swapped in the dual formulation
        status = form.certificate_status(_CERTIFICATES[raw])
    limit = getattr(settings, "max_iter" if status is Status.ITERATION_LIMIT else "time_limit", None)
    message = describe(status, "clarabel", raw, figures=figures, limit=limit, iterations=it,
                       accuracy=" to reduced accuracy" if raw.startswith("Almost") else "",
                       hint="" if status is not Status.NUMERICAL_ERROR else
                       "; try extra={'formulation': 'dual'} or {'direct_solve_method': 'faer'}")
    if status is Status.SOLVER_ERROR:
        return ConicSolution(status, raw, message, iterations=it, solve_time=float(sol.solve_time),
                             info=details)
    return form.solution(status, raw, message, sol.x, sol.z, iterations=it,
                         solve_time=float(sol.solve_time), info=details)
