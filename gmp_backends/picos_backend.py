"""The PICOS backend: the program rebuilt as a PICOS problem, solved by a solver PICOS reaches.

One variable vector, two affine constraints and one linear matrix inequality per PSD block;
``extra={"solver": ...}`` picks PICOS's solver (cvxopt by default). Duals, Farkas rays and
improving directions are passed on in the convention of :mod:`gmp.conic`, and cvxopt's
process-global options are saved and restored around each solve. Formulation, tolerances,
status mapping and options: docs/backends.md, "PICOS".
"""
from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import numpy as np

from gmp.backend import Backend
from gmp.conic import ConicProgram, ConicSolution
from gmp.errors import OptionError
from gmp.options import SolverOptions
from gmp.status import Status

from .presolve import has_no_cones, solve_without_cones

__all__ = ["PicosBackend"]

_TOLERANCES = ("abs_prim_fsb_tol", "rel_prim_fsb_tol", "abs_dual_fsb_tol", "rel_dual_fsb_tol",
               "abs_ipm_opt_tol", "rel_ipm_opt_tol")
_NOT_PICOS = {"clarabel", "scs"}
#: PICOS option -> the solver-neutral option it comes from (for warnings).
_OURS = {"timelimit": "time_limit", "max_iterations": "max_iters", "verbosity": "verbose",
         **{t: "tol" for t in _TOLERANCES}}
#: PICOS solver used unless ``extra={"solver": ...}`` names one ("auto": PICOS picks).
DEFAULT_SOLVER = "cvxopt"
#: cvxopt's own default tolerances, in PICOS's names (used when ``tol`` is not given).
CVXOPT_DEFAULT_TOLERANCES = {"abs_prim_fsb_tol": 1e-7, "rel_prim_fsb_tol": 1e-7,
                             "abs_dual_fsb_tol": 1e-7, "rel_dual_fsb_tol": 1e-7,
                             "abs_ipm_opt_tol": 1e-7, "rel_ipm_opt_tol": 1e-6}
#: cvxopt's own iteration limit; PICOS passes 10**6 when none is given, and an unbounded
#: relaxation then runs for minutes before failing (docs/benchmarks.md).
CVXOPT_DEFAULT_MAX_ITERS = 100


class PicosBackend(Backend):
    """PICOS and, through it, cvxopt, MOSEK, SMCP, ... (``extra={"solver": ...}``)."""

    name: ClassVar[str] = "picos"
    required_modules: ClassVar[tuple[str, ...]] = ("picos",)
    pip_extra: ClassVar[str | None] = None  # a core dependency: "pip install picos"

    def solve(self, program: ConicProgram, options: SolverOptions) -> ConicSolution:
        import picos

        settings = _translate(picos, options)
        if has_no_cones(program):
            return solve_without_cones(program)
        problem, cons = _build(picos, program)
        with _cvxopt_options_restored():
            try:
                sol = _solve_warning_on_unsupported(picos, problem, settings)
            except picos.SolutionFailure as exc:  # only with primals=True: not ours
                return ConicSolution(Status.SOLVER_ERROR, f"SolutionFailure {exc.code}",
                                     f"picos failed: {exc}; try another solver or backend")
            except (picos.solvers.OptionValueError, picos.solvers.ConflictingOptionsError,
                    picos.solvers.DependentOptionError) as exc:
                raise OptionError(f"picos rejected its options: {exc}") from None
            except ArithmeticError as exc:  # ZeroDivisionError included: a step to the cone boundary
                return ConicSolution(Status.NUMERICAL_ERROR, type(exc).__name__, (
                    f"picos's solver {settings.get('solver', '(auto)')} failed with "
                    f"{type(exc).__name__}: {exc} (numerical trouble: an iterate reached the cone "
                    "boundary); loosen tol, or use backend='cvxopt' or 'clarabel'"),
                    info={"exception": repr(exc)})
            except Exception as exc:
                if "licen" not in str(exc).lower():
                    raise
                return ConicSolution(Status.NOT_AVAILABLE, type(exc).__name__, (
                    f"picos's solver {settings.get('solver', '(auto)')} has no licence here "
                    f"({exc}); pick another one, e.g. extra={{'solver': 'cvxopt'}}"),
                    info={"exception": repr(exc)})
        return _to_solution(sol, program, cons, options)


def _solve_warning_on_unsupported(picos: Any, problem: Any, settings: dict[str, Any]) -> Any:
    """``problem.solve(**settings)``; an option the solver cannot honour is warned about.

    PICOS only *prints* that message; with ``strict_options`` it raises, and
    we turn that into a ``UserWarning`` naming gmp's option, drop the option
    and solve again (the check happens before the solver runs).
    """
    settings = {"strict_options": True, **settings}
    for _ in range(len(settings)):
        try:
            return problem.solve(**settings)
        except picos.solvers.UnsupportedOptionError as exc:
            found = re.search(r"'(\w+)' option", str(exc))
            if found is None or settings.get(found.group(1)) in (None, False):
                raise OptionError(f"picos cannot honour an option: {exc}") from None
            key = found.group(1)
            ours = (f"{_OURS[key]}={settings[key]!r}" if key in _OURS
                    else f"extra={{{key!r}: {settings[key]!r}}}")
            warnings.warn(
                f"backend 'picos' cannot honour solver option {ours} with picos's solver "
                f"{settings.get('solver', '(auto)')}; it is ignored (picos: {exc})",
                UserWarning, stacklevel=4)
            settings[key] = None
    return problem.solve(**settings)


# -- options ---------------------------------------------------------------
def _translate(picos: Any, options: SolverOptions) -> dict[str, Any]:
    """Keyword options of ``picos.Problem.solve`` (``extra`` wins)."""
    settings: dict[str, Any] = {"verbosity": 1 if options.verbose else 0,
                                "primals": None, "duals": None}
    if options.tol is not None:
        settings.update(dict.fromkeys(_TOLERANCES, options.tol))
    elif options.extra.get("solver", DEFAULT_SOLVER) == "cvxopt":
        settings.update(CVXOPT_DEFAULT_TOLERANCES)
    if options.max_iters is None and options.extra.get("solver", DEFAULT_SOLVER) == "cvxopt":
        settings["max_iterations"] = CVXOPT_DEFAULT_MAX_ITERS
    if options.max_iters is not None:
        settings["max_iterations"] = options.max_iters
    if options.time_limit is not None:
        settings["timelimit"] = options.time_limit
    extra = dict(options.extra)
    solver = extra.pop("solver", DEFAULT_SOLVER)
    if solver != "auto":
        known = sorted(picos.solvers.all_solvers())
        if solver in _NOT_PICOS:
            raise OptionError(
                f"{solver} is not a solver picos can call (picos knows {', '.join(known)}); "
                f"use the direct backend instead: backend={solver!r}")
        if solver not in known:
            close = difflib.get_close_matches(str(solver), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise OptionError(f"picos option solver must be 'auto' or one of "
                              f"{', '.join(known)}, got {solver!r}{hint}")
        available = picos.available_solvers()
        if solver not in available:
            raise OptionError(
                f"picos solver {solver!r} is not installed here; installed: "
                f"{', '.join(available) or 'none'}; pick one of those")
        settings["solver"] = solver
    names = [o.name for o in picos.modeling.options.OPTION_OBJS]
    for key in extra:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise OptionError(
                f"unknown picos option {key!r} in extra{hint}; picos accepts solver and the "
                "options listed by picos.Problem().options")
    settings.update(extra)
    check = picos.Problem().options
    for key, value in settings.items():
        try:
            check[key] = value
        except (TypeError, ValueError, LookupError) as exc:
            raise OptionError(f"picos option {key} got {value!r} ({type(value).__name__}), "
                              f"which picos rejects: {exc}") from None
    return settings


@contextmanager
def _cvxopt_options_restored() -> Iterator[None]:
    """PICOS's cvxopt interface clears ``cvxopt.solvers.options``: put it back afterwards."""
    try:
        from cvxopt import solvers
    except ImportError:  # picos then cannot use cvxopt either
        yield
        return
    saved = dict(solvers.options)
    store = solvers.options
    try:
        yield
    finally:
        solvers.options = store
        store.clear()
        store.update(saved)


# -- building --------------------------------------------------------------
def _build(picos: Any, program: ConicProgram) -> tuple[Any, dict[str, Any]]:
    """The PICOS problem and its constraints by kind (``eq``, ``ineq``, ``psd``)."""
    problem = picos.Problem()
    x = picos.RealVariable("x", program.n_vars)
    cons: dict[str, Any] = {"x": x, "eq": None, "ineq": None, "psd": []}
    if program.n_eq:
        cons["eq"] = problem.add_constraint(
            picos.Constant("A_eq", program.A_eq) * x == picos.Constant("b_eq", program.b_eq))
    if program.n_ineq:
        cons["ineq"] = problem.add_constraint(
            picos.Constant("A_ineq", program.A_ineq) * x
            <= picos.Constant("b_ineq", program.b_ineq))
    for k, blk in enumerate(program.psd):
        F = picos.Constant(f"F{k}", blk.F)
        F0 = picos.Constant(f"F0_{k}", blk.F0)
        lmi = (F * x + F0).reshaped((blk.dim, blk.dim))  # column-major, as vec
        cons["psd"].append(problem.add_constraint(lmi >> 0))
    problem.set_objective("min", picos.Constant("c", program.c).T * x)
    return problem, cons


# -- results ---------------------------------------------------------------
def _dense(value: Any) -> np.ndarray | None:
    return None if value is None else np.array(value, dtype=float)


def _duals(cons: dict[str, Any], program: ConicProgram) -> tuple[Any, Any, Any, str]:
    """``(y_eq, z_ineq, Z_psd, note)`` in the convention of gmp.conic, or Nones and why."""
    try:
        y = np.zeros(0) if cons["eq"] is None else -_dense(cons["eq"].dual).ravel()
        z = np.zeros(0) if cons["ineq"] is None else _dense(cons["ineq"].dual).ravel()
        Z = []
        for c, d in zip(cons["psd"], program.psd_dims):
            M = _dense(c.dual)
            if M.size == d * d:  # a 1 x 1 block's dual comes back as a scalar
                M = M.reshape(d, d)
            Z.append((M + M.T) / 2)
    except (TypeError, AttributeError, ValueError) as exc:  # a dual is None / missing
        return None, None, None, f"picos returned no duals ({type(exc).__name__}: {exc})"
    if any(np.shape(Zj) != (d, d) for Zj, d in zip(Z, program.psd_dims)):
        return None, None, None, "picos returned duals of unexpected shapes"
    return y, z, tuple(Z), "from picos, converted to the convention of gmp.conic"


def _iterations(info: Any) -> int | None:
    """The iteration count if the solver's raw answer (``sol.info``) holds one (cvxopt does)."""
    if not isinstance(info, dict):
        return None
    for value in info.values():
        if isinstance(value, dict) and isinstance(value.get("iterations"), int):
            return value["iterations"]
    return None


def _to_solution(sol: Any, program: ConicProgram, cons: dict[str, Any],
                 options: SolverOptions) -> ConicSolution:
    claimed, problem_st = str(sol.claimedStatus), str(sol.problemStatus)
    primal_st, dual_st = str(sol.primalStatus), str(sol.dualStatus)
    raw = f"claimed {claimed}; problem {problem_st}; primal {primal_st}; dual {dual_st}"
    solver = str(sol.solver)
    info: dict[str, Any] = {"picos_solver": solver, "picos_info": sol.info}
    iterations = _iterations(sol.info)
    common = dict(raw_status=raw, solve_time=float(sol.searchTime or 0.0), info=info,
                  iterations=iterations)
    if problem_st == "infeasible":  # picos hands the solver's Farkas ray on as the duals
        y, z, Z, note = _duals(cons, program)
        if Z is not None:
            info["infeasibility_certificate"] = {"y_eq": y, "z_ineq": z, "Z_psd": Z}
        info["certificates"] = note
        return ConicSolution(Status.INFEASIBLE, message=(
            f"picos ({solver}) reports the program infeasible: no x satisfies the constraints"),
            **common)
    if problem_st == "unbounded":  # ... and the improving direction as the primal value
        ray = cons["x"].value
        if ray is not None:
            info["unbounded_direction"] = np.array(ray, dtype=float).ravel()
        return ConicSolution(Status.UNBOUNDED, message=(
            f"picos ({solver}) reports the program unbounded below; add constraints that "
            "bound it"), **common)
    x_val = cons["x"].value if primal_st in ("optimal", "feasible", "premature") else None
    x = None if x_val is None else np.array(x_val, dtype=float).ravel()
    if primal_st == "optimal":
        status, message = Status.OPTIMAL, f"picos ({solver}) found an optimal solution"
    elif primal_st == "feasible":
        status, message = Status.OPTIMAL_INACCURATE, (
            f"picos ({solver}) found a feasible point not proven optimal; use it with care")
    elif primal_st == "premature":
        hit_time = (options.time_limit is not None
                    and common["solve_time"] >= 0.9 * options.time_limit)
        status = Status.TIME_LIMIT if hit_time else Status.ITERATION_LIMIT
        message = (f"picos ({solver}) stopped at its {'time' if hit_time else 'iteration'} "
                   "limit before converging; raise the limit or loosen tol")
    elif (limit := options.max_iters if options.max_iters is not None else (
            CVXOPT_DEFAULT_MAX_ITERS if solver == "cvxopt" else None)) is not None and (
            iterations or 0) >= limit:
        status = Status.ITERATION_LIMIT
        message = (f"picos ({solver}) reached its iteration limit ({limit}) "
                   f"before converging ({raw}); raise max_iters or loosen tol")
    else:
        return ConicSolution(Status.SOLVER_ERROR, message=(
            f"picos ({solver}) ended with {raw}, which gmp cannot read as a solution; "
            "try another solver (extra={'solver': ...}) or backend"), **common)
    y, z, Z, note = _duals(cons, program)
    info["duals"] = note
    dual_obj = None
    if Z is not None:
        dual_obj = float(program.c0 - program.b_eq @ y - program.b_ineq @ z - sum(
            (blk.F0 @ Zj.reshape(-1, order="F") for blk, Zj in zip(program.psd, Z)), 0.0))
    return ConicSolution(
        status, message=message, x=x,
        primal_objective=None if x is None else program.objective(x),
        dual_objective=dual_obj, y_eq=y, z_ineq=z, Z_psd=Z, **common)
