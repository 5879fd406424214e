"""Honest answers on every backend (issue 14): every problem of gmp.testing x every usable
backend at solver defaults.

Per (problem, backend): status, certified, the bound's error ``bound - optimum`` and the
verified bound's error ``verified_bound - optimum`` (for a maximization the sign is
flipped, so a *negative* error is always the safe side), and the wall time of
``gmp.solve``. Errors are relative to ``max(1, |optimum|)``. The summary counts

* "optimal, bound on the wrong side": status ``optimal`` with a bound beyond the
  optimum by more than ``--slack`` (default 1e-6, the accuracy ``optimal`` stands for);
  must be 0;
* "verified bound on the wrong side": must be 0 (no slack: it is rigorous).

Usage::

    python bench/trust.py                   # all usable backends, solver defaults
    python bench/trust.py --backends cvxopt clarabel --markdown
    python bench/trust.py --tol 1e-9       # tighter solves: verified bounds closer
"""
from __future__ import annotations

import argparse
import datetime
import sys
import time
import warnings
from pathlib import Path

import numpy as np

try:
    import gmp
except ImportError:  # run from a checkout without installation
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    import gmp

from _common import cpu_model, load_average, package_version

from gmp.testing import PROBLEMS
from gmp_backends import available_backends


def sense_of(problem) -> float:
    inst = problem.build()
    if inst.gmp is not None:
        return 1.0 if inst.gmp.objective.sense == "min" else -1.0
    return 1.0 if inst.sense == "min" else -1.0


def fmt(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and not np.isfinite(v):
        return "−inf" if v < 0 else "inf"
    return f"{v:+.1e}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", nargs="*", default=None)
    ap.add_argument("--slack", type=float, default=1e-6)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--tol", type=float, default=None, help="solver tol (default: solver defaults)")
    args = ap.parse_args(argv)
    names = args.backends or [n for n, av in available_backends() if av.usable]
    print(f"# python bench/trust.py {' '.join(argv if argv is not None else sys.argv[1:])}")
    print(f"# {datetime.datetime.now():%Y-%m-%d %H:%M}, {cpu_model()}, load {load_average()}; "
          + ", ".join(f"{p} {package_version(p)}" for p in ("cvxopt", "clarabel", "scs", "picos")))
    rows = []
    wrong_optimal, wrong_verified, finite_vb = [], [], 0
    for p in PROBLEMS:
        s = sense_of(p)
        scale = max(1.0, abs(p.optimum)) if np.isfinite(p.optimum) else 1.0
        for be in names:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t0 = time.perf_counter()
                try:
                    res = p.build().solve(order=p.exact_order or None, backend=be,
                                          options=None if args.tol is None else {"tol": args.tol})
                except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
                    rows.append((p.name, be, f"raised {type(exc).__name__}", "", "", "", ""))
                    continue
                secs = time.perf_counter() - t0
            berr = verr = None
            if np.isfinite(p.optimum):
                if res.bound is not None and np.isfinite(res.bound):
                    berr = s * (res.bound - p.optimum) / scale
                if np.isfinite(res.verified_bound):
                    verr = s * (res.verified_bound - p.optimum) / scale
                    finite_vb += 1
                    if verr > 0:
                        wrong_verified.append((p.name, be, verr))
                elif res.verified_bound * s > 0:
                    wrong_verified.append((p.name, be, np.inf))
                if res.status is gmp.Status.OPTIMAL and berr is not None and berr > args.slack:
                    wrong_optimal.append((p.name, be, berr))
            vcell = fmt(verr) if verr is not None else ("−inf" if np.isfinite(p.optimum) else "—")
            rows.append((p.name, be, res.status.value, "yes" if res.certified else "no",
                         fmt(berr), vcell, f"{secs:.2f}"))
    head = ("problem", "backend", "status", "certified", "bound error", "verified-bound error", "seconds")
    if args.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        w = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
        for r in [head, *rows]:
            print("  ".join(str(c).ljust(k) for c, k in zip(r, w)))
    print()
    print(f"optimal with a bound on the wrong side of the optimum by more than {args.slack:g}: "
          f"{len(wrong_optimal)} {wrong_optimal if wrong_optimal else ''}")
    print(f"verified bound on the wrong side: {len(wrong_verified)} {wrong_verified if wrong_verified else ''}"
          f" (finite verified bounds: {finite_vb})")
    return 1 if (wrong_optimal or wrong_verified) else 0


if __name__ == "__main__":
    raise SystemExit(main())
