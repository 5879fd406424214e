"""The MOSEK backend: the program as a MOSEK task, built with the Optimizer API [MOSEK-API].

The moments are the task's free variables, the linear constraints its rows and each PSD block
one affine conic constraint in MOSEK's vectorized PSD domain (lower triangle, off-diagonals
scaled by √2, :mod:`gmp_backends.svec`); the duals are read back in the convention of
:mod:`gmp.conic`. Without a licence [MOSEK-LIC] a solve raises, but the task can still be built
and written to file. The formulation, the duals, the licence lookup and why the Optimizer API
and not Fusion: docs/backends.md, "MOSEK".
"""
from __future__ import annotations

import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from gmp.assess import residuals
from gmp.backend import Availability, Backend, _module_found
from gmp.conic import ConicProgram, ConicSolution
from gmp.errors import BackendNotAvailableError, ModelError, OptionError
from gmp.options import SolverOptions
from gmp.status import Status

from .blocks import packed_psd
from .svec import SOLVER_TRIANGLE, smat

__all__ = ["MosekBackend", "MosekAvailability", "LICENCE_ENV", "default_licence_path",
           "licence_problem", "TASK_FORMATS"]

#: Environment variable naming the licence file(s) or token server(s).
LICENCE_ENV = "MOSEKLM_LICENSE_FILE"
#: File extensions MOSEK's ``writedata`` can hold a task with ACCs in
#: (optionally followed by a compression suffix).
TASK_FORMATS = (".ptf", ".cbf", ".task", ".jtask")
_COMPRESSION = (".gz", ".zst", ".bz2")

LICENCE_REMEDY = (
    "MOSEK looks for its licence in the file named by the environment variable "
    f"{LICENCE_ENV} (a path, or port@host for a token server), else in "
    "~/mosek/mosek.lic; free academic licences (https://www.mosek.com/products/academic-licenses/) "
    "and 30-day trial licences (https://www.mosek.com/products/trial/) are at mosek.com; "
    "meanwhile use a free backend (clarabel, cvxopt), or write the task for a licensed "
    "machine with MosekBackend().write_task(program, 'relaxation.ptf')"
)


def default_licence_path() -> Path:
    """``~/mosek/mosek.lic``, where MOSEK looks when ``MOSEKLM_LICENSE_FILE`` is unset."""
    return Path.home() / "mosek" / "mosek.lic"


def _locations() -> tuple[str | None, list[Path], list[str]]:
    """(env value, local licence files to look at, token servers) MOSEK would use."""
    env = os.environ.get(LICENCE_ENV, "").strip()
    if not env:
        return None, [default_licence_path()], []
    parts = [p for p in env.split(os.pathsep) if p.strip()]
    servers = [p for p in parts if "@" in p]
    files = [Path(p).expanduser() for p in parts if "@" not in p]
    return env, files, servers


def _missing_reason() -> str | None:
    """Why no licence can be found, from the file system alone (None: one may be there)."""
    env, files, servers = _locations()
    if servers or any(f.is_file() for f in files):
        return None
    if env is None:
        return (f"no MOSEK licence: {LICENCE_ENV} is not set and the default licence file "
                f"{files[0]} does not exist")
    return (f"no MOSEK licence: {LICENCE_ENV}={env!r} names no existing licence file "
            "and no token server")


_checkout_cache: dict[tuple, str | None] = {}


def licence_problem(check_out: bool = True) -> str | None:
    """Why MOSEK has no usable licence here, or None when it has one.

    Looks for the licence file first (no import, no solve); with
    ``check_out`` a found licence is also checked out once
    (``mosek.Env().checkoutlicense(mosek.feature.pts)``) and returned, so an
    expired or foreign licence is reported too. The check-out result is
    cached per licence location and file modification time.
    """
    missing = _missing_reason()
    if missing is not None or not check_out:
        return missing
    env, files, servers = _locations()
    key = (env, tuple((str(f), f.stat().st_mtime if f.is_file() else None) for f in files),
           tuple(servers))
    if key not in _checkout_cache:
        _checkout_cache[key] = _check_out()
    return _checkout_cache[key]


def _check_out() -> str | None:
    import mosek

    try:
        with mosek.Env() as env:
            env.checkoutlicense(mosek.feature.pts)
            env.checkinlicense(mosek.feature.pts)
    except mosek.Error as exc:
        where = os.environ.get(LICENCE_ENV) or str(default_licence_path())
        return (f"MOSEK found a licence location ({where}) but could not check out a licence: "
                f"{_error_text(exc)}")
    return None


def _error_text(exc: Any) -> str:
    code = getattr(exc, "errno", None)
    name = getattr(code, "name", None) or str(code).rsplit(".", 1)[-1]
    msg = (getattr(exc, "msg", "") or "").strip()
    num = f" ({int(code)})" if code is not None else ""
    return f"{name}{num}{': ' + msg if msg else ''}"


def _is_licence_error(exc: Any) -> bool:
    name = str(getattr(exc, "errno", "")).rsplit(".", 1)[-1]
    return name.startswith("err_") and ("licen" in name or "flexlm" in name)


@dataclass(frozen=True)
class MosekAvailability(Availability):
    """:class:`Availability` with MOSEK's own level ``"installed, no licence"``.

    Attributes
    ----------
    licence : bool or None
        A usable licence was found; ``None`` when not checked.
    """

    licence: bool | None = None

    @property
    def level(self) -> str:
        if self.installed and self.licence is False and self.importable is not False:
            return "installed, no licence"
        return super().level


class MosekBackend(Backend):
    """MOSEK's interior-point conic optimizer (Optimizer API, ACCs with SVECPSD domains).

    Honours ``tol`` (``MSK_DPAR_INTPNT_CO_TOL_PFEAS``, ``_DFEAS``, ``_REL_GAP``),
    ``max_iters`` (``MSK_IPAR_INTPNT_MAX_ITERATIONS``), ``time_limit``
    (``MSK_DPAR_OPTIMIZER_MAX_TIME``) and ``verbose`` (MOSEK's log stream on
    stdout). ``extra`` takes raw MOSEK parameters by their API names, e.g.
    ``{"MSK_IPAR_NUM_THREADS": 4, "MSK_IPAR_INTPNT_SOLVE_FORM": "MSK_SOLVE_DUAL"}``;
    they override the translated values.

    Examples
    --------
    >>> backend = MosekBackend()
    >>> print(backend.availability(check_import=True))         # doctest: +SKIP
    installed, no licence; no MOSEK licence: MOSEKLM_LICENSE_FILE is not set ...
    >>> backend.write_task(program, "relaxation.ptf")           # doctest: +SKIP
    """

    name: ClassVar[str] = "mosek"
    required_modules: ClassVar[tuple[str, ...]] = ("mosek",)
    pip_extra: ClassVar[str | None] = "mosek"

    # -- availability ----------------------------------------------------
    def check_usable(self) -> tuple[str, str] | None:
        reason = licence_problem(check_out=True)
        return None if reason is None else (reason, LICENCE_REMEDY)

    def availability(self, check_import: bool = False) -> Availability:
        """Installed, importable, and licensed (see docs/backends.md, "MOSEK").

        Without ``check_import`` only the licence *file* is looked for (nothing
        is imported); with it the licence is also checked out. Without a
        licence the level is ``"installed, no licence"``.
        """
        if not all(_module_found(m) for m in self.required_modules):
            return super().availability(check_import)
        if not check_import:
            missing = _missing_reason()
            if missing is None:
                return MosekAvailability(True)
            return MosekAvailability(True, None, False, missing, LICENCE_REMEDY, licence=False)
        avail = super().availability(check_import=True)   # imports, then check_usable()
        if not avail.importable:
            return avail
        return MosekAvailability(True, True, avail.usable, avail.reason, avail.remedy,
                                 licence=avail.usable)

    # -- task ------------------------------------------------------------
    def build_task(self, program: ConicProgram,
                   options: SolverOptions | Mapping[str, Any] | None = None) -> Any:
        """The MOSEK task of ``program`` (works without a licence).

        The caller owns the task (use it as a context manager to free it).

        Parameters
        ----------
        program : ConicProgram
            Validated here: NaN/inf raise :class:`~gmp.errors.ModelError`.
        options : SolverOptions or dict, optional
            Translated into task parameters (see the class docstring).

        Returns
        -------
        mosek.Task
            ``n_vars`` free variables, ``n_eq + n_ineq`` linear constraints,
            one ACC per PSD block (AFE rows ``svec`` of each block, in order).
        """
        import mosek

        if not isinstance(program, ConicProgram):
            raise ModelError(f"build_task needs a gmp.conic.ConicProgram, got {type(program).__name__}")
        program.validate()
        options = SolverOptions.from_any(options)
        task = mosek.Task()
        try:
            _fill_task(mosek, task, program)
            _apply_options(mosek, task, options)
        except BaseException:
            task.__exit__(None, None, None)
            raise
        return task

    def write_task(self, program: ConicProgram, path: str | os.PathLike,
                   options: SolverOptions | Mapping[str, Any] | None = None) -> Path:
        """Write the task of ``program`` with MOSEK's writer (works without a licence).

        The format follows the extension: ``.ptf`` (MOSEK's readable text
        format), ``.cbf`` (Conic Benchmark Format, readable by
        :func:`gmp_backends.export.read_cbf`), ``.task`` or ``.jtask``,
        optionally compressed (``.gz``, ``.zst``, ``.bz2``).
        """
        from .export import FormatError

        path = Path(path)
        suffixes = [s.lower() for s in path.suffixes[-2:]]
        if suffixes and suffixes[-1] in _COMPRESSION:
            suffixes = suffixes[:-1]
        if not suffixes or suffixes[-1] not in TASK_FORMATS:
            raise FormatError(
                f"MOSEK writes a task with PSD constraints as {', '.join(TASK_FORMATS)} "
                f"(optionally + {', '.join(_COMPRESSION)}), got the file name {path.name!r}; "
                "change the extension (for SDPA use gmp_backends.export.write_sdpa)")
        with self.build_task(program, options) as task:
            task.writedata(str(path))
        return path

    # -- solve -----------------------------------------------------------
    def solve(self, program: ConicProgram, options: SolverOptions) -> ConicSolution:
        import mosek

        with self.build_task(program, options) as task:
            if options.verbose:
                task.set_Stream(mosek.streamtype.log, _print_log)
            try:
                trm = task.optimize()
            except mosek.Error as exc:
                if _is_licence_error(exc):
                    raise BackendNotAvailableError(
                        f"backend 'mosek' is not usable here: MOSEK could not check out a "
                        f"licence ({_error_text(exc)}); {LICENCE_REMEDY}") from None
                raise
            raw = _gather(mosek, task, program, trm)
        return _to_solution(raw, program, options)


def _print_log(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


# -- building ----------------------------------------------------------------
def _fill_task(mosek: Any, task: Any, program: ConicProgram) -> None:
    n = program.n_vars
    inf = math.inf
    task.appendvars(n)
    if n:
        task.putvarboundsliceconst(0, n, mosek.boundkey.fr, -inf, inf)
        task.putcslice(0, n, program.c)
    task.putcfix(program.c0)
    task.putobjsense(mosek.objsense.minimize)
    if program.var_names is not None:
        for k, name in enumerate(program.var_names):  # names only: one call per variable
            task.putvarname(k, name)
    # linear constraints: equalities, then inequalities
    m_eq, m = program.n_eq, program.n_eq + program.n_ineq
    if m:
        A = sp.vstack([program.A_eq, program.A_ineq], format="csr")
        A.sort_indices()
        task.appendcons(m)
        ptr = A.indptr.astype(np.int64)
        task.putarowslice(0, m, ptr[:-1], ptr[1:], A.indices.astype(np.int32),
                          A.data.astype(np.float64))
        keys = [mosek.boundkey.fx] * m_eq + [mosek.boundkey.up] * program.n_ineq
        lower = np.concatenate([program.b_eq, np.full(program.n_ineq, -inf)])
        upper = np.concatenate([program.b_eq, program.b_ineq])
        task.putconboundslice(0, m, keys, lower, upper)
    # PSD blocks: one ACC each, AFE rows = svec of the block
    if not program.psd:
        return
    # every block at once (thousands of small blocks in a sparse relaxation): MOSEK's svec
    # is the lower triangle column by column, off-diagonals times sqrt(2)
    P, g = packed_psd(program, SOLVER_TRIANGLE["mosek"])
    P = P.tocoo()
    offset = P.shape[0]
    task.appendafes(offset)
    task.putafefentrylist(P.row.astype(np.int64), P.col.astype(np.int32), P.data.astype(np.float64))
    task.putafegslice(0, offset, g)
    domains = np.array([task.appendsvecpsdconedomain(b.dim * (b.dim + 1) // 2)
                        for b in program.psd], dtype=np.int64)
    task.appendaccsseq(domains, offset, 0, None)
    for k, blk in enumerate(program.psd):
        if blk.name:
            task.putaccname(k, blk.name)


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "MSK_ON" if value else "MSK_OFF"
    return str(value)


def _apply_options(mosek: Any, task: Any, options: SolverOptions) -> None:
    """Translate the solver-neutral options, then the raw ``extra`` MOSEK parameters."""
    dpar, ipar = mosek.dparam, mosek.iparam
    if options.tol is not None:
        for p in (dpar.intpnt_co_tol_pfeas, dpar.intpnt_co_tol_dfeas, dpar.intpnt_co_tol_rel_gap):
            task.putdouparam(p, options.tol)
    if options.max_iters is not None:
        task.putintparam(ipar.intpnt_max_iterations, int(options.max_iters))
    if options.time_limit is not None:
        task.putdouparam(dpar.optimizer_max_time, float(options.time_limit))
    for key, value in options.extra.items():
        if not isinstance(key, str) or not key.upper().startswith("MSK_"):
            raise OptionError(
                f"MOSEK options in extra are parameter names such as 'MSK_IPAR_NUM_THREADS' or "
                f"'MSK_DPAR_INTPNT_CO_TOL_REL_GAP', got {key!r}; see "
                "https://docs.mosek.com/latest/pythonapi/parameters.html")
        try:
            task.putparam(key.upper(), _param_text(value))
        except mosek.Error as exc:
            raise OptionError(
                f"MOSEK rejected the option {key}={value!r} in extra ({_error_text(exc)}); "
                "check the name and value at https://docs.mosek.com/latest/pythonapi/parameters.html"
            ) from None


# -- results -------------------------------------------------------------------
@dataclass(frozen=True)
class _Raw:
    """What MOSEK reports after a solve, in MOSEK's own conventions."""

    trm: str                      # termination code name, e.g. "ok", "trm_stall"
    prosta: str                   # problem status name
    solsta: str                   # interior-point solution status name
    xx: np.ndarray | None = None  # primal variables
    y: np.ndarray | None = None   # linear constraint duals (s_l^c - s_u^c)
    doty: np.ndarray | None = None  # ACC duals, svec, stacked
    primal_obj: float | None = None
    dual_obj: float | None = None
    iterations: int | None = None
    time: float = 0.0


def _name(value: Any) -> str:
    return str(value).rsplit(".", 1)[-1]


def _gather(mosek: Any, task: Any, program: ConicProgram, trm: Any) -> _Raw:
    itr = mosek.soltype.itr
    base = dict(trm=_name(trm), iterations=int(task.getintinf(mosek.iinfitem.intpnt_iter)),
                time=float(task.getdouinf(mosek.dinfitem.optimizer_time)))
    if not task.solutiondef(itr):
        return _Raw(prosta="unknown", solsta="unknown", **base)
    has_acc = bool(program.psd)
    return _Raw(
        prosta=_name(task.getprosta(itr)), solsta=_name(task.getsolsta(itr)),
        xx=np.array(task.getxx(itr), dtype=float),
        y=np.array(task.gety(itr), dtype=float),
        doty=np.array(task.getaccdotys(itr), dtype=float) if has_acc else np.zeros(0),
        primal_obj=float(task.getprimalobj(itr)), dual_obj=float(task.getdualobj(itr)),
        **base,
    )


def duals_from_mosek(y: np.ndarray, doty: np.ndarray, program: ConicProgram
                     ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, ...]]:
    """(y_eq, z_ineq, Z_psd) in :mod:`gmp.conic`'s convention from MOSEK's ``y`` and ``ẏ``."""
    y = np.asarray(y, dtype=float)
    blocks, offset = [], 0
    for d in program.psd_dims:
        size = d * (d + 1) // 2
        blocks.append(smat(doty[offset:offset + size], SOLVER_TRIANGLE["mosek"]))
        offset += size
    return -y[:program.n_eq], -y[program.n_eq:], tuple(blocks)


def kkt_residuals(program: ConicProgram, x: np.ndarray, y_eq: np.ndarray, z_ineq: np.ndarray,
                  Z_psd: tuple[np.ndarray, ...]) -> dict[str, float]:
    """Relative primal and dual residuals and duality gap in :mod:`gmp.conic`'s convention
    (the definitions of :func:`gmp.assess.residuals`, the one implementation)."""
    res = residuals(program, ConicSolution(Status.OPTIMAL, "", "", x=np.asarray(x, dtype=float),
                                           y_eq=y_eq, z_ineq=z_ineq, Z_psd=Z_psd))
    return {"primal_residual": res.primal, "dual_residual": res.dual, "relative_gap": res.gap,
            "primal_objective": res.primal_objective, "dual_objective": res.dual_objective}


def _to_solution(raw: _Raw, program: ConicProgram, options: SolverOptions) -> ConicSolution:
    """Map MOSEK's termination code and statuses onto :class:`Status` (duals converted)."""
    status_text = f"trm={raw.trm}, prosta={raw.prosta}, solsta={raw.solsta}"
    info: dict[str, Any] = {"termination": raw.trm, "problem_status": raw.prosta,
                            "solution_status": raw.solsta}
    common = dict(raw_status=status_text, iterations=raw.iterations, solve_time=raw.time, info=info)
    if raw.xx is None:
        return ConicSolution(Status.SOLVER_ERROR, message=(
            f"MOSEK returned no interior-point solution ({status_text}); "
            "run with verbose=True to see its log, or try another backend"), **common)
    y_eq, z_ineq, Z_psd = duals_from_mosek(raw.y, raw.doty, program)
    if raw.solsta == "prim_infeas_cer":
        info["infeasibility_certificate"] = {"y_eq": y_eq, "z_ineq": z_ineq, "Z_psd": Z_psd}
        return ConicSolution(Status.INFEASIBLE, message=(
            "MOSEK proved the program infeasible: no x satisfies the constraints (the dual "
            "certificate is in info['infeasibility_certificate'])"), **common)
    if raw.solsta == "dual_infeas_cer":
        info["unbounded_direction"] = raw.xx
        return ConicSolution(Status.UNBOUNDED, message=(
            "MOSEK proved the program unbounded below: the objective decreases without bound "
            "along info['unbounded_direction']; add constraints that bound it"), **common)
    if raw.solsta in ("prim_illposed_cer", "dual_illposed_cer"):
        return ConicSolution(Status.SOLVER_ERROR, message=(
            f"MOSEK found the program ill-posed ({status_text}): it is on the border between "
            "feasible and infeasible (or bounded and unbounded), so no optimum is attained; "
            "perturb the constraints slightly, or change the relaxation order"), **common)
    res = kkt_residuals(program, raw.xx, y_eq, z_ineq, Z_psd)
    info.update({k: res[k] for k in ("primal_residual", "dual_residual", "relative_gap")})
    figures = (f"relative gap {res['relative_gap']:.1e}, primal/dual residuals "
               f"{res['primal_residual']:.1e}/{res['dual_residual']:.1e}")
    # whether a stalled run's last point is nearly optimal is judged by the core (gmp.assess)
    if raw.solsta == "optimal":
        status, message = Status.OPTIMAL, f"MOSEK found an optimal solution ({figures})"
    elif raw.trm == "trm_max_iterations":
        status, message = Status.ITERATION_LIMIT, (
            f"MOSEK reached its iteration limit after {raw.iterations} iterations ({figures}); "
            "raise max_iters or loosen tol")
    elif raw.trm in ("trm_max_time", "trm_server_max_time"):
        status, message = Status.TIME_LIMIT, (
            f"MOSEK reached its time limit ({options.time_limit} s) before converging "
            f"({figures}); raise time_limit or lower the relaxation order")
    elif raw.trm in ("trm_stall", "trm_numerical_problem", "trm_max_num_setbacks"):
        status, message = Status.NUMERICAL_ERROR, (
            f"MOSEK stalled ({status_text}; {figures}): numerical trouble; rescale the problem "
            "(standardize the data), lower the relaxation order, or try another backend")
    else:
        status, message = Status.SOLVER_ERROR, (
            f"MOSEK stopped with {status_text} ({figures}); run with verbose=True to see its "
            "log, or try another backend")
    return ConicSolution(
        status, message=message, x=raw.xx,
        primal_objective=raw.primal_obj if raw.primal_obj is not None else res["primal_objective"],
        dual_objective=raw.dual_obj if raw.dual_obj is not None else res["dual_objective"],
        y_eq=y_eq, z_ineq=z_ineq, Z_psd=Z_psd, **common,
    )
