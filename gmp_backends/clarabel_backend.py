"""The Clarabel backend: a sparse interior-point solver (direct Python API).

The program goes to ``clarabel.DefaultSolver(P=0, q, A, b, cones, settings)``
in the standard form of :mod:`gmp_backends.standard_form` (cones
``ZeroConeT``, ``NonnegativeConeT``, ``PSDTriangleConeT``; Clarabel packs a
PSD block as its *upper* triangle column by column with off-diagonals scaled
by ``√2``, see :mod:`gmp_backends.svec`). Its duals ``z`` are read back in the
convention of :mod:`gmp.conic`.

Formulation (``extra={"formulation": "moment" | "dual"}``), chosen by
measurement: ``python bench/formulations.py`` (dense random quartic on the
unit ball, order 2, one run each, 2-core Xeon, load ~1.2, Clarabel 0.11.1
with its default tolerances 1e-8 and faer on 2 threads; wall seconds of
``Backend.run``, status, and the bound's difference between the two forms
relative to max(1, |bound|))::

     n  moments  side   moment form                dual form         |diff|
     6      210    28    0.05 s  optimal_inaccurate    0.05 s  optimal   4e-09
     8      495    45    0.42 s  optimal_inaccurate    1.12 s  optimal   2e-08
    10     1001    66    2.82 s  optimal_inaccurate    2.82 s  optimal   6e-08
    12     1820    91   11.17 s  optimal_inaccurate   10.85 s  optimal   1e-09
    15     3876   136  141.5  s  optimal_inaccurate  122.9  s  optimal   2e-07

(an earlier run at n = 15: 145 s vs 109 s). The moment form stalls one step
short of the tolerances at every size (Clarabel "AlmostSolved", ~1e-7 relative
residuals), the dual form reaches "Solved". On the problem library
(gmp.testing.PROBLEMS, exact orders) the dual form certifies every problem; the
moment form stops at AlmostSolved, uncertified, on four of them (bound errors
up to 1.7e-5, e.g. ``lasserre_2001_floudas_2_2_quadratic``: 9.6 s vs 5.0 s).
Hence the default is ``"dual"``. Small programs (n <= 8) vary by 2x between
runs, in both directions.

Beside cvxopt (same ladder: 0.11, 0.43, 2.37, 12.2, 114.7 s) Clarabel is on
par at order 2, but slower at order 3 (n = 6, 84 x 84 moment matrix: 13.7 s
vs 3.8 s; n = 8, 165 x 165: over 240 s vs 116 s): its KKT system holds a dense
``d(d+1)/2``-square block per PSD block of side ``d``, where cvxopt factors the
``n_vars``-square Schur complement. SCS (:mod:`gmp_backends.scs_backend`) is
the fastest on this ladder by far. The issue's target (n = 15 in < 60 s) is
missed by Clarabel here (~110-125 s). Clarabel's "auto" linear solver is faer
(multithreaded, supernodal); ``extra={"direct_solve_method": "qdldl"}`` was
6x slower at n = 10 and 12-17x slower at n = 12.

Options: ``tol`` sets ``tol_gap_abs``, ``tol_gap_rel`` and ``tol_feas``;
``max_iters`` → ``max_iter``; ``verbose``; ``time_limit`` → ``time_limit``.
``extra`` takes ``formulation`` and any attribute of
``clarabel.DefaultSettings`` (``direct_solve_method``, ``max_threads``,
``equilibrate_enable``, ...), checked by name, type and value before solving.
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

#: Formulation used unless ``extra={"formulation": ...}`` says otherwise (measured: see above).
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
