"""Moment form vs dual (SOS) form for Clarabel and SCS on dense order-2 relaxations (issue #3).

What is measured
----------------
For each ``n`` (default 6, 8, 10, 12, 15), one probability measure on the
unit ball with a **dense random quartic** objective (every monomial of degree
<= 4, coefficients i.i.d. N(0, 1), seed 0; the family of
``bench/relaxation_build.py``), relaxed at order ``r = 2`` (``--order`` changes it)::

    min L(f)  s.t.  M_2(y) PSD (side C(n+2, 2)),  M_1((1 - |x|^2) y) PSD,  y_0 = 1

and solved by each backend x formulation (``extra={"formulation": ...}``;
cvxopt, for comparison, has one form and no time limit)
through ``Backend.run`` — the time is ``solution.info["wall_time"]``: the
translation to the solver's standard form, the solve, and the reading back
(best of up to 3 runs while they total under 1 s).
Clarabel runs at its default tolerances (1e-8); SCS at ``--scs-tol`` (default
1e-6; its own default, 1e-4, is too loose for flatness tests).

Each backend first solves a tiny program (n = 2), untimed, so imports and
first-call costs are not counted. Accuracy ("rel. err") is the difference of
the bound to a reference, divided by max(1, |reference|): the Clarabel
dual-form bound of the same program when its status is optimal (tolerance 1e-8).

Every solve gets ``time_limit = --max-seconds`` (reported as the status
``time_limit``); a size is skipped for a (backend, form) once a smaller size
took more than ``--max-seconds / 4``.

Usage::

    python bench/formulations.py                       # the run recorded in docs
    python bench/formulations.py --n 6 8 10 --max-seconds 30
    python bench/formulations.py --n 15 --backends scs --forms moment --scs-tol 1e-5
    python bench/formulations.py --order 3 --n 4 6 8 --backends clarabel,scs,cvxopt
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import sys
from pathlib import Path

try:  # run from a checkout without installing
    import gmp  # noqa: F401
except ImportError:  # pragma: no cover - depends on the environment
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from _common import dense_ball_problem, package_version  # noqa: E402

import gmp
from gmp_backends import SolverOptions, get_backend

SEED = 0
REPEATS = 3


def environment() -> str:
    v = package_version

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return (f"date: {_dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}; machine: "
            f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, numpy "
            f"{np.__version__}, clarabel {v('clarabel')}, scs {v('scs')}; load average at "
            f"start {os.getloadavg()[0]:.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, nargs="+", default=[6, 8, 10, 12, 15])
    ap.add_argument("--backends", default="clarabel,scs")
    ap.add_argument("--forms", default="moment,dual")
    ap.add_argument("--order", type=int, default=2, help="relaxation order r (default 2)")
    ap.add_argument("--scs-tol", type=float, default=1e-6)
    ap.add_argument("--max-seconds", type=float, default=300.0)
    args = ap.parse_args(argv)
    print(f"$ python bench/formulations.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(environment())
    header = (f"{'n':>3} {'moments':>7} {'side':>4}  {'backend':<8} {'form':<6} {'status':<18} "
              f"{'iters':>6} {'seconds':>8}  {'bound':>16} {'rel. err':>9}")
    print(header)
    print("-" * len(header))
    slow: set[tuple[str, str]] = set()
    warm, _ = gmp.build_relaxation(dense_ball_problem(2, 2), 2)
    for backend in args.backends.split(","):  # imports and first-call costs are not timed
        get_backend(backend).run(warm)
    for n in args.n:
        program, _ = gmp.build_relaxation(dense_ball_problem(n, args.order), args.order)
        runs = [(b, f if b != "cvxopt" else "-") for b in args.backends.split(",")
                for f in (args.forms.split(",") if b != "cvxopt" else ["-"])]
        runs.sort(key=lambda bf: bf != ("clarabel", "dual"))  # the reference first
        ref = None
        for backend, form in runs:
            tag = (f"{n:>3} {program.n_vars:>7} {program.psd_dims[0]:>4}  {backend:<8} "
                   f"{form:<6}")
            if (backend, form) in slow:
                print(f"{tag} skipped (a smaller size took > {args.max_seconds / 4:.0f} s)")
                continue
            opts = SolverOptions(tol=args.scs_tol if backend == "scs" else None,
                                 time_limit=None if backend == "cvxopt" else args.max_seconds,
                                 extra={} if form == "-" else {"formulation": form})
            wall, spent = float("inf"), 0.0
            for _ in range(REPEATS):  # best of up to REPEATS while they total < 1 s
                sol = get_backend(backend).run(program, opts)
                wall = min(wall, sol.info["wall_time"])
                spent += sol.info["wall_time"]
                if spent > 1.0:
                    break
            bound = sol.primal_objective if sol.x is not None else sol.dual_objective
            if (backend, form) == ("clarabel", "dual") and sol.status is gmp.Status.OPTIMAL:
                ref = bound
            err = (f"{abs(bound - ref) / max(1.0, abs(ref)):9.1e}"
                   if ref is not None and bound is not None else f"{'n/a':>9}")
            bound_s = f"{bound:16.10f}" if bound is not None else f"{'n/a':>16}"
            print(f"{tag} {str(sol.status):<18} {sol.iterations or 0:>6} {wall:8.2f}  "
                  f"{bound_s} {err}", flush=True)
            if wall > args.max_seconds / 4:
                slow.add((backend, form))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
