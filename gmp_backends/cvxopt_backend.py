"""The cvxopt backend: the default free SDP solver.

The :class:`~gmp.conic.ConicProgram` is the form of ``cvxopt.solvers.sdp`` and cvxopt's duals
are already in the convention of :mod:`gmp.conic`; the blocks are stacked with scipy and passed
to ``cvxopt.solvers.conelp`` after the presolve of :mod:`gmp_backends.presolve`, with the sparse
KKT solver of :mod:`gmp_backends.cvxopt_kkt` for large programs. cvxopt's process-global options
are saved, set and restored around each solve, so concurrent cvxopt solves in several threads
are not supported. Details: docs/backends.md, "cvxopt" and "cvxopt KKT solvers".
"""
from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager, nullcontext
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from gmp.backend import Backend
from gmp.conic import ConicProgram, ConicSolution
from gmp.errors import OptionError
from gmp.options import SolverOptions
from gmp.status import Status

from .blocks import vec_psd_lower
from .cvxopt_kkt import BLOCK_SCHUR_MAX_DENSITY, BLOCK_SCHUR_MIN_VARS, BlockSchurKKT, SparseSchurKKT, schur_density
from .presolve import (
    CONSISTENCY_TOL,  # noqa: F401  (re-exported for callers of this module)
    has_no_cones,
)
from .presolve import RowReduction as _Rows
from .presolve import independent_rows as _independent_rows
from .presolve import solve_without_cones as _solve_without_cones
from .status_map import describe, lookup

__all__ = ["CvxoptBackend"]

#: Raw cvxopt options accepted in ``SolverOptions.extra`` (besides ``kktsolver``).
CVXOPT_OPTIONS = ("abstol", "reltol", "feastol", "maxiters", "show_progress",
                  "refinement", "kktreg", "debug")
KKT_SOLVERS = ("sparse", "qr", "chol", "chol2", "ldl", "ldl2")
#: Programs whose dense KKT work ``m^2 * sum(d_k^2)`` (m variables, PSD blocks of
#: sizes d_k) is at least this use the sparse Schur-complement KKT solver
#: (:mod:`gmp_backends.cvxopt_kkt`) unless ``extra={"kktsolver": ...}`` names one;
#: below it cvxopt's own "qr" is faster (docs/benchmarks.md, "cvxopt KKT solvers").
SPARSE_KKT_MIN_WORK = 2e7
#: Iterative-refinement steps for the sparse solver when the caller sets none (cvxopt's
#: default is 1). It forms normal equations, on which library problems stall without
#: refinement; 2 keeps a margin over 1 at a small cost (docs/benchmarks.md).
SPARSE_KKT_REFINEMENT = 2
#: cvxopt's raw status -> ours ("unknown" is split by the iteration count: _classify_unknown).
STATUS_MAP: dict[str, Status] = {"optimal": Status.OPTIMAL, "primal infeasible": Status.INFEASIBLE,
                                 "dual infeasible": Status.UNBOUNDED, "unknown": Status.NUMERICAL_ERROR}


class CvxoptBackend(Backend):
    """cvxopt's interior-point cone solver (``conelp``, as ``cvxopt.solvers.sdp``).

    Honours ``tol`` (abstol, reltol, feastol), ``max_iters`` (maxiters) and
    ``verbose`` (show_progress); warns on ``time_limit``. ``extra`` takes raw
    cvxopt options (``refinement``, ``kktreg``, ...) and ``kktsolver`` (cvxopt's
    ``"qr"``, ``"chol"``, ``"chol2"``, ``"ldl"``, ``"ldl2"``, or gmp's ``"sparse"``;
    chosen by size when not given, see docs/backends.md, "cvxopt KKT solvers").
    """

    name: ClassVar[str] = "cvxopt"
    required_modules: ClassVar[tuple[str, ...]] = ("cvxopt",)
    pip_extra: ClassVar[str | None] = None
    supported_options: ClassVar[frozenset[str]] = frozenset({"tol", "max_iters", "verbose"})
    option_notes: ClassVar[dict[str, str]] = {
        "time_limit": "cvxopt has no time limit; bound the work with max_iters instead",
    }

    def solve(self, program: ConicProgram, options: SolverOptions) -> ConicSolution:
        import cvxopt

        settings, kktsolver = _translate(options)
        if has_no_cones(program):
            return _solve_without_cones(program)
        dense_need = _dense_kkt_bytes(program)
        chosen = kktsolver or ("sparse" if dense_kkt_work(program) >= SPARSE_KKT_MIN_WORK else None)
        block = chosen == "sparse" and use_block_schur(program)
        need = (_block_kkt_bytes(program) if block else _sparse_kkt_bytes(program)) if chosen == "sparse" \
            else dense_need
        if need > _memory_limit():
            return ConicSolution(
                Status.SOLVER_ERROR, "not attempted",
                f"cvxopt would need about {need / 1e9:.1f} GB for its KKT matrices "
                f"({program!r}), more than this machine has; use a backend that exploits "
                "sparsity (clarabel, mosek) or a lower relaxation order",
            )
        red = None
        if program.n_eq:  # cvxopt does not always notice dependent rows: remove them first
            red = _independent_rows(program.A_eq, program.b_eq, dense_limit=need / 8.0)
        if red is not None and red.inconsistent:
            return red.infeasible(program)
        res, note = _conelp_chosen(cvxopt, program, red, settings, chosen, automatic=kktsolver is None, block=block,
                                   dense_ok=dense_need <= _memory_limit())
        if res is None:
            return _rank_error(program)
        sol = _to_solution(res, program, red, options)
        sol.info["kktsolver"] = res.get("kktsolver", "qr")
        sol.info["kkt_fallback_iterations"] = res.get("kkt_fallbacks", 0)
        if "kkt_schur" in res:
            sol.info["kkt_schur"] = res["kkt_schur"]
        if note:
            sol.info["kkt_note"] = note
        return sol


# -- options ---------------------------------------------------------------
def _translate(options: SolverOptions) -> tuple[dict[str, Any], str | None]:
    """cvxopt's option dict and kktsolver for ``options`` (``extra`` wins)."""
    settings: dict[str, Any] = {"show_progress": options.verbose}
    if options.tol is not None:
        settings.update(abstol=options.tol, reltol=options.tol, feastol=options.tol)
    if options.max_iters is not None:
        settings["maxiters"] = options.max_iters
    extra = dict(options.extra)
    kktsolver = extra.pop("kktsolver", None)
    for key in extra:
        if key not in CVXOPT_OPTIONS:
            raise OptionError(
                f"unknown cvxopt option {key!r} in extra; cvxopt accepts "
                f"{', '.join(CVXOPT_OPTIONS)} and kktsolver"
            )
    if kktsolver is not None and kktsolver not in KKT_SOLVERS:
        raise OptionError(
            f"cvxopt option kktsolver must be one of {', '.join(KKT_SOLVERS)}, "
            f"got {kktsolver!r}"
        )
    return {**settings, **extra}, kktsolver


@contextmanager
def _global_options(store: MutableMapping[str, Any], settings: dict[str, Any]) -> Iterator[dict]:
    """Set ``settings`` in cvxopt's global option dict; restore it exactly afterwards."""
    saved = dict(store)
    store.update(settings)
    try:
        yield dict(store)
    finally:
        store.clear()
        store.update(saved)


def _memory_limit() -> float:
    try:
        return 0.75 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX: no guard
        return math.inf


# -- data conversion -------------------------------------------------------
def conelp_data(cvxopt: Any, program: ConicProgram, keep: np.ndarray | None = None) -> dict:
    """Arguments ``c, G, h, dims, A, b`` of ``cvxopt.solvers.conelp`` (vectorized).

    ``keep`` selects the equality rows to pass (``None``: all).
    """
    matrix, spmatrix = cvxopt.matrix, cvxopt.spmatrix

    def sparse(r: np.ndarray, c: np.ndarray, v: np.ndarray, shape: tuple[int, int]) -> Any:
        return spmatrix(matrix(np.ascontiguousarray(v, dtype=float)),
                        matrix(r.astype(np.int64)), matrix(c.astype(np.int64)), shape)

    ineq = program.A_ineq.tocoo()
    # every block at once (thousands of small blocks in a sparse relaxation)
    prow, pcol, pval, total = vec_psd_lower(program)
    rows, cols, vals = [ineq.row, prow + program.n_ineq], [ineq.col, pcol], [ineq.data, -pval]
    h = [program.b_ineq] + [blk.F0 for blk in program.psd]
    offset = program.n_ineq + total
    data = {
        "c": matrix(program.c),
        "G": sparse(*(np.concatenate(a) for a in (rows, cols, vals)), (offset, program.n_vars)),
        "h": matrix(np.concatenate(h)),
        "dims": {"l": program.n_ineq, "q": [], "s": list(program.psd_dims)},
    }
    A, b = program.A_eq, program.b_eq
    if keep is not None:
        A, b = A[keep], b[keep]
    if b.size:
        eq = A.tocoo()
        data["A"] = sparse(eq.row, eq.col, eq.data, eq.shape)
        data["b"] = matrix(np.ascontiguousarray(b))
    return data


def _one_blas_thread() -> Any:
    """numpy's BLAS on one thread for the duration of a sparse-KKT solve.

    The sparse solver alternates numpy's BLAS (multithreaded) with cvxopt's own
    (single-threaded) many times per iteration; numpy's idle worker threads then
    compete with the main thread, which makes the solve slower (docs/benchmarks.md,
    "cvxopt KKT solvers"). Without threadpoolctl: unchanged.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - a required dependency, but not worth a failure
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _to_scipy(M: Any) -> sp.csr_matrix:
    return sp.csr_matrix((np.array(M.V).ravel(), (np.array(M.I).ravel(), np.array(M.J).ravel())),
                         shape=M.size)


def use_block_schur(program: ConicProgram) -> bool:
    """Whether the Schur complement is sparse enough for :class:`BlockSchurKKT` (thousands of
    small cliques of a sparse relaxation), rather than the dense one of :class:`SparseSchurKKT`."""
    return (program.n_vars >= BLOCK_SCHUR_MIN_VARS and bool(program.psd)
            and schur_density(program) <= BLOCK_SCHUR_MAX_DENSITY)


def sparse_kkt(cvxopt: Any, data: dict, fallback: bool = True,
               block: bool = False) -> SparseSchurKKT | BlockSchurKKT:
    """The sparse Schur-complement KKT solver for ``data``.

    With ``fallback``, cvxopt's "qr" solver (built on first use: it needs the dense
    scaled ``G``) takes over when the normal equations fail or lose too many digits.
    ``block`` selects :class:`BlockSchurKKT` (a sparse Schur complement, factored sparse).
    """
    from cvxopt import misc

    G, A, dims = data["G"], data.get("A"), data["dims"]
    A_cvx = A if A is not None else cvxopt.spmatrix([], [], [], (0, G.size[1]))
    factor: list[Any] = []

    def qr(W: dict) -> Any:
        if not factor:
            factor.append(misc.kkt_qr(G, dims, A_cvx))
        return factor[0](W)

    kind = BlockSchurKKT if block and not dims["q"] else SparseSchurKKT
    return kind(_to_scipy(G), dims, None if A is None else _to_scipy(A), fallback=qr if fallback else None)


def dense_kkt_work(program: ConicProgram) -> float:
    """``m^2 * sum(d_k^2)``: the flops of the product cvxopt's own KKT solvers form."""
    return float(program.n_vars) ** 2 * sum(d * d for d in program.psd_dims)


def _dense_kkt_bytes(program: ConicProgram) -> float:
    """Memory of cvxopt's own KKT solvers: the dense scaled ``G`` and the normal matrix."""
    return 8.0 * (program.n_ineq + sum(d * d for d in program.psd_dims) + program.n_vars) * program.n_vars


def _block_kkt_bytes(program: ConicProgram) -> float:
    """Memory of :class:`BlockSchurKKT`: the sparse Schur complement and its LU factors (fill
    bounded generously by 20 times the pattern), the stacked ``G``, and the batched work arrays."""
    from .cvxopt_kkt import BATCH_ENTRIES

    pattern = schur_density(program) * float(program.n_vars) ** 2 + program.n_vars
    stacked = sum(b.F.nnz for b in program.psd) + program.A_ineq.nnz + program.A_eq.nnz
    return 8.0 * (20 * pattern + 4 * stacked + 2 * BATCH_ENTRIES)


def _sparse_kkt_bytes(program: ConicProgram) -> float:
    """Memory of :class:`SparseSchurKKT`: the Schur complement, its reduced copy and
    Cholesky factor, a transformed copy when equality rows need a QR (four ``m x m``
    matrices at most), and the block chunks."""
    from .cvxopt_kkt import CHUNK_ENTRIES

    return 8.0 * (4 * program.n_vars ** 2 + (program.n_ineq + program.n_eq) * program.n_vars
                  + 3 * CHUNK_ENTRIES)


def _conelp(cvxopt: Any, program: ConicProgram, red: _Rows | None,
            settings: dict[str, Any], kktsolver: str | None, dense_ok: bool = True,
            block: bool = False) -> dict | None:
    """Run conelp under our options; ``None`` when cvxopt reports a rank defect."""
    from cvxopt import solvers

    data = conelp_data(cvxopt, program, None if red is None or not red.dropped.size else red.keep)
    kkt: Any = kktsolver
    blas = _one_blas_thread() if kktsolver == "sparse" else nullcontext()
    with _global_options(solvers.options, settings) as opts, blas:
        start = time.perf_counter()
        try:
            if kktsolver == "sparse":
                kkt = sparse_kkt(cvxopt, data, fallback=dense_ok, block=block)
            res = solvers.conelp(**data, kktsolver=kkt, options=opts)
        except ValueError as exc:
            if str(exc).startswith("Rank(A) < p"):
                return None
            raise
        res["solve_time"] = time.perf_counter() - start
        res["options"] = opts
        res["kktsolver"] = kktsolver or "qr"
        if isinstance(kkt, (SparseSchurKKT, BlockSchurKKT)):
            res["kkt_fallbacks"] = kkt.fallbacks
            res["kkt_schur"] = "block-sparse" if isinstance(kkt, BlockSchurKKT) else "dense"
    return res


def _conelp_chosen(cvxopt: Any, program: ConicProgram, red: _Rows | None, settings: dict[str, Any],
                   chosen: str | None, automatic: bool, dense_ok: bool,
                   block: bool = False) -> tuple[dict | None, str | None]:
    """conelp with the chosen KKT solver; ``(None, note)`` on a rank defect.

    When the sparse solver was chosen automatically and its run fails (status 'unknown'
    or an exception inside cvxopt), the program is solved again with cvxopt's "qr" and
    the note says why.
    """
    run = dict(settings)
    if chosen == "sparse":
        run.setdefault("refinement", SPARSE_KKT_REFINEMENT)
    retry = chosen == "sparse" and automatic and dense_ok
    start = time.perf_counter()
    try:
        res = _conelp(cvxopt, program, red, run, chosen, dense_ok=dense_ok, block=block)
    except Exception as exc:  # noqa: BLE001 - the automatic choice failed: retry below
        if not retry:
            raise
        failure = f"cvxopt failed with {type(exc).__name__}: {exc}"
    else:
        if res is None or not (retry and res["status"] == "unknown"):
            return res, None
        failure = f"cvxopt stopped with status 'unknown' after {res['iterations']} iterations"
    spent = time.perf_counter() - start
    res = _conelp(cvxopt, program, red, settings, None)
    if res is not None:
        res["solve_time"] += spent
    return res, f"with the sparse KKT solver {failure}; rerun with cvxopt's 'qr'"


def _rank_error(program: ConicProgram) -> ConicSolution:
    used = sp.vstack([program.A_eq, program.A_ineq] + [blk.F for blk in program.psd]).tocsc()
    unused = np.flatnonzero(np.diff(used.indptr) == 0)
    names = program.var_names or tuple(f"x[{i}]" for i in range(program.n_vars))
    detail = (f"these variables appear in no constraint: {', '.join(names[i] for i in unused[:10])}"
              if unused.size else "the constraints do not determine every variable")
    return ConicSolution(
        Status.SOLVER_ERROR, "Rank(A) < p or Rank([G; A]) < n",
        f"cvxopt needs independent equality rows and constraints that determine every "
        f"variable, but {detail}; bound or remove those variables, pass "
        "extra={'kktsolver': 'ldl', 'kktreg': 1e-9}, or use another backend",
        info={"unused_variables": unused},
    )


# -- results ---------------------------------------------------------------
def _arr(m: Any) -> np.ndarray | None:
    return None if m is None else np.array(m, dtype=float).ravel()


def _split_z(z: np.ndarray, program: ConicProgram) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """``z = [zl; vec(zs_1); ...]`` into z_ineq and symmetric Z_j (from the lower triangles)."""
    blocks, offset = [], program.n_ineq
    for d in program.psd_dims:
        L = np.tril(z[offset:offset + d * d].reshape(d, d, order="F"))
        blocks.append(L + np.tril(L, -1).T)
        offset += d * d
    return z[:program.n_ineq], tuple(blocks)


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1e}"


def _to_solution(res: dict, program: ConicProgram, red: _Rows | None,
                 options: SolverOptions) -> ConicSolution:
    raw = res["status"]
    x, y, z = _arr(res["x"]), _arr(res["y"]), _arr(res["z"])
    y_eq = z_ineq = Z_psd = None
    if y is not None:
        y_eq = np.zeros(program.n_eq)
        y_eq[slice(None) if red is None else red.keep] = y
    if z is not None:
        z_ineq, Z_psd = _split_z(z, program)
    pres, dres = res["primal infeasibility"], res["dual infeasibility"]
    gap, relgap, it = res["gap"], res["relative gap"], res["iterations"]
    info = {
        "gap": gap, "relative_gap": relgap, "primal_residual": pres, "dual_residual": dres,
        "primal_slack": res["primal slack"], "dual_slack": res["dual slack"],
        "primal_infeasibility_certificate_residual":
            res["residual as primal infeasibility certificate"],
        "dual_infeasibility_certificate_residual":
            res["residual as dual infeasibility certificate"],
        "redundant_eq_rows": np.zeros(0, int) if red is None else red.dropped,
        "cvxopt_options": res["options"],
    }
    common = dict(raw_status=raw, iterations=it, solve_time=res["solve_time"], info=info)
    mapped = lookup(STATUS_MAP, raw)
    if mapped is Status.INFEASIBLE:
        info["infeasibility_certificate"] = {"y_eq": y_eq, "z_ineq": z_ineq, "Z_psd": Z_psd}
        return ConicSolution(Status.INFEASIBLE, message=(
            "cvxopt proved the program infeasible: no x satisfies the constraints "
            "(the dual certificate is in info['infeasibility_certificate'])"), **common)
    if mapped is Status.UNBOUNDED:
        info["unbounded_direction"] = x
        return ConicSolution(Status.UNBOUNDED, message=(
            "cvxopt proved the program unbounded below: the objective decreases without "
            "bound along info['unbounded_direction']; add constraints that bound it"), **common)
    figures = f"relative gap {_fmt(relgap)}, primal/dual residuals {_fmt(pres)}/{_fmt(dres)}"
    if mapped is Status.OPTIMAL:
        status, message = Status.OPTIMAL, describe(mapped, "cvxopt", raw, figures=figures)
    else:
        status, message = _classify_unknown(res, options, figures)
    return ConicSolution(
        status, message=message, x=x,
        primal_objective=res["primal objective"] + program.c0,
        dual_objective=res["dual objective"] + program.c0,
        y_eq=y_eq, z_ineq=z_ineq, Z_psd=Z_psd, **common,
    )


def _classify_unknown(res: dict, options: SolverOptions, figures: str) -> tuple[Status, str]:
    """Status for cvxopt's 'unknown': out of iterations, or numerical trouble.

    Whether the last point is nevertheless nearly optimal is judged by the core
    (:func:`gmp.assess.assess`), like every backend's answer.
    """
    it, maxiters = res["iterations"], res["options"].get("maxiters", 100)
    status = Status.ITERATION_LIMIT if it >= maxiters else Status.NUMERICAL_ERROR
    hints = [
        f"; the iterates suggest the program is {what}"
        for what, key in (("infeasible", "residual as primal infeasibility certificate"),
                          ("unbounded", "residual as dual infeasibility certificate"))
        if res[key] is not None and res[key] <= 1e-5
    ]
    hint = (hints[0] if hints else "") + (
        "; try extra={'kktsolver': 'ldl'} or {'refinement': 2}" if status is Status.NUMERICAL_ERROR else "")
    return status, describe(status, "cvxopt", "unknown", figures=figures, limit=maxiters,
                            iterations=it, hint=hint)
