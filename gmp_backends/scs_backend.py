"""The SCS backend: a first-order (ADMM) conic solver, through its direct Python API.

The program goes to ``scs.SCS`` in the standard form of :mod:`gmp_backends.standard_form`
(PSD blocks as lower triangles, off-diagonals scaled by √2, :mod:`gmp_backends.svec`), in the
moment formulation unless ``extra={"formulation": "dual"}``; the dual is read back in the
convention of :mod:`gmp.conic`. SCS's own tolerance is loose, so ``tol=None`` gives it
:data:`DEFAULT_TOL`. Options, status mapping and why these defaults: docs/backends.md, "SCS".
"""
from __future__ import annotations

import difflib
from typing import Any, ClassVar

import numpy as np

from gmp.backend import Backend
from gmp.conic import ConicProgram, ConicSolution
from gmp.errors import OptionError
from gmp.options import SolverOptions
from gmp.status import Status

from .presolve import has_no_cones, solve_without_cones
from .standard_form import StandardForm, build_standard_form, check_formulation
from .status_map import describe, lookup

__all__ = ["ScsBackend", "SCS_SETTINGS", "DEFAULT_FORMULATION", "DEFAULT_TOL", "STATUS_MAP"]

#: Keyword settings of ``scs.SCS`` (SCS 3.2-3.3), besides gmp's ``formulation``.
SCS_SETTINGS = (
    "normalize", "scale", "adaptive_scale", "adaptive_diag_scale", "rho_x", "max_iters",
    "eps_abs", "eps_rel", "eps_infeas", "alpha", "time_limit_secs", "verbose",
    "acceleration_lookback", "acceleration_interval", "acceleration_type_1",
    "acceleration_regularization", "acceleration_relaxation", "write_data_filename",
    "log_csv_filename", "linear_solver",
)
#: SCS's defaults for the settings gmp translates.
SCS_DEFAULTS = {"eps_abs": 1e-4, "eps_rel": 1e-4, "max_iters": 100_000}
DEFAULT_FORMULATION = "moment"
#: ``eps_abs = eps_rel`` when ``tol`` is not given. SCS's own default, 1e-4, reports
#: "solved" for answers whose bound is off by up to 0.1 (Beale at order 4: 0.031 above
#: the minimum); at 1e-7 every optimal answer on the problem library and the conformance
#: suite passes the core's accuracy check (:func:`gmp.assess.assess`, docs/certificates.md).
DEFAULT_TOL = 1e-7

# status_val of SCS (scs/include/glbopts.h)
_SOLVED_INACCURATE = 2
#: SCS's status_val (as text) -> ours; 2 ("solved/inaccurate": a limit) is read from the text.
STATUS_MAP: dict[str, Status] = {
    "1": Status.OPTIMAL, "-2": Status.INFEASIBLE, "-7": Status.INFEASIBLE,
    "-1": Status.UNBOUNDED, "-6": Status.UNBOUNDED, "-3": Status.NUMERICAL_ERROR,
    "-4": Status.SOLVER_ERROR, "-5": Status.SOLVER_ERROR,
}
#: Raw certificate codes: True when SCS's own primal is infeasible.
_CERTIFICATES = {-2: True, -7: True, -1: False, -6: False}


class ScsBackend(Backend):
    """SCS, the splitting conic solver (ADMM), moment form by default.

    Pass ``tol`` (1e-7 or tighter) when the moments feed a flatness test.

    Honours ``tol``, ``max_iters``, ``verbose`` and ``time_limit``. ``extra``
    takes ``formulation`` ("moment" or "dual") and raw SCS settings, which
    override the translated values.
    """

    name: ClassVar[str] = "scs"
    required_modules: ClassVar[tuple[str, ...]] = ("scs",)
    pip_extra: ClassVar[str | None] = "scs"

    def solve(self, program: ConicProgram, options: SolverOptions) -> ConicSolution:
        import scs

        formulation, settings = _translate(options)
        if has_no_cones(program):
            return solve_without_cones(program)
        form = build_standard_form(program, "lower", formulation)
        data = {"A": form.A, "b": form.b, "c": form.q}
        cone = {"z": form.n_zero, "l": form.n_nonneg, "s": list(form.psd_dims)}
        try:
            solver = scs.SCS(data, cone, **settings)
        except (TypeError, ValueError) as exc:
            given = [k for k in options.extra if k in str(exc)]
            if given or "keyword" in str(exc) or "LinearSolver" in str(exc):
                raise OptionError(f"SCS rejected its settings ({exc}); check "
                                  f"{', '.join(given) or 'the values passed in extra'}") from None
            raise
        res = solver.solve()
        return _to_solution(res, form, settings)


# -- options ---------------------------------------------------------------
def _translate(options: SolverOptions) -> tuple[str, dict[str, Any]]:
    """The formulation and the keyword settings of ``scs.SCS`` (``extra`` wins)."""
    settings: dict[str, Any] = {"verbose": options.verbose}
    tol = DEFAULT_TOL if options.tol is None else options.tol
    settings.update(eps_abs=tol, eps_rel=tol)
    if options.max_iters is not None:
        settings["max_iters"] = options.max_iters
    if options.time_limit is not None:
        settings["time_limit_secs"] = options.time_limit
    extra = dict(options.extra)
    formulation = check_formulation(extra.pop("formulation", DEFAULT_FORMULATION), "scs")
    for key in extra:
        if key not in SCS_SETTINGS:
            close = difflib.get_close_matches(key, SCS_SETTINGS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise OptionError(
                f"unknown scs option {key!r} in extra{hint}; scs accepts formulation, "
                f"{', '.join(SCS_SETTINGS)}")
    return formulation, {**settings, **extra}


# -- results ---------------------------------------------------------------
def _fmt(v: float) -> str:
    return f"{v:.1e}"


def _relative(info: dict, form: StandardForm) -> tuple[float, float, float]:
    """SCS's absolute residuals and gap, scaled like its own stopping test."""
    b_scale = 1.0 + float(np.max(np.abs(form.b), initial=0.0))
    q_scale = 1.0 + float(np.max(np.abs(form.q), initial=0.0))
    obj_scale = 1.0 + abs(info["pobj"]) + abs(info["dobj"])
    return info["res_pri"] / b_scale, info["res_dual"] / q_scale, info["gap"] / obj_scale


def _to_solution(res: dict, form: StandardForm, settings: dict[str, Any]) -> ConicSolution:
    info = res["info"]
    raw, code, it = str(info["status"]), int(info["status_val"]), int(info["iter"])
    solve_time = (info["setup_time"] + info["solve_time"]) / 1000.0  # SCS reports ms
    pres_key, dres_key = form.residual_names()
    pres, dres, relgap = _relative(info, form)
    details = {
        "gap": info["gap"], "relative_gap": relgap, pres_key: pres, dres_key: dres,
        "formulation": form.formulation, "solver_shape": form.shape,
        "linear_solver": info.get("lin_sys_solver", ""),
        "scs_info": {k: v for k, v in info.items() if k != "aa_stats"},
        "scs_settings": dict(settings),
    }
    figures = (f"relative gap {_fmt(relgap)}, primal/dual residuals "
               f"{_fmt(details['primal_residual'])}/{_fmt(details['dual_residual'])}")

    if code in _CERTIFICATES:  # the solver's side of the pair: swapped in the dual formulation
        status = form.certificate_status(_CERTIFICATES[code])
    elif code == _SOLVED_INACCURATE:  # SCS stopped at a limit: which one
        status = Status.TIME_LIMIT if "time_limit" in raw else (
            Status.ITERATION_LIMIT if ("max_iters" in raw or it >= settings.get(
                "max_iters", SCS_DEFAULTS["max_iters"])) else Status.NUMERICAL_ERROR)
    else:
        status = lookup(STATUS_MAP, str(code))
    limit = (settings.get("time_limit_secs") if status is Status.TIME_LIMIT
             else settings.get("max_iters", SCS_DEFAULTS["max_iters"]))
    message = describe(status, "scs", raw, figures=figures, limit=limit, iterations=it,
                       accuracy=" to reduced accuracy (SCS's best guess)" if code in (-6, -7) else "",
                       hint="; or use an interior-point backend (clarabel)")
    if code in (-4, -5):
        message = {-4: "scs failed", -5: "scs was interrupted (SIGINT)"}[code] + "; try another backend"
    if status is Status.SOLVER_ERROR:
        return ConicSolution(status, raw, message, iterations=it, solve_time=solve_time, info=details)
    return form.solution(status, raw, message, res["x"], res["y"], iterations=it,
                         solve_time=solve_time, info=details)
