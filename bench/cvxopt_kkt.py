"""cvxopt's KKT solvers on moment relaxations: "qr" (cvxopt's default), "chol", and gmp's "sparse".

What is measured
----------------
``timings["solve"]`` of ``gmp`` (the cvxopt backend's ``run``: translation, the
interior-point solve, reading back) for the same relaxation with
``options={"extra": {"kktsolver": k}}``, k in qr / chol / sparse, in one process and
one run, so the ratios are comparable; plus which solver the automatic choice
(``SPARSE_KKT_MIN_WORK`` on ``m^2 sum d_k^2``) takes, the status and the bound's
distance to the "qr" bound. Cases:

* ``pop`` — the dense random POP on the unit ball of ``bench/relaxation_build.py``
  (``bench/_common.dense_ball_problem``) at order r for n variables;
* ``library`` — problems of ``gmp.testing.PROBLEMS`` at their exact order;
* ``3-view`` — the Polymom SDP of Table 3's 3-view row (K = D = 3, T = 1e4, seed 0),
  both formulations (``exact``: equalities; ``robust``: weighted residual).

Each solve runs once, after one warm-up solve of the smallest case.

Usage::

    python bench/cvxopt_kkt.py            # everything (~3 min on 2 cores)
    python bench/cvxopt_kkt.py --quick    # the small cases only
"""
from __future__ import annotations

import argparse
import datetime
import sys
import time
import warnings
from pathlib import Path

try:
    import gmp  # noqa: F401
except ImportError:  # a checkout without pip install -e .
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_model, dense_ball_problem, load_average, package_version  # noqa: E402

import gmp_backends.cvxopt_backend as cb  # noqa: E402
from gmp.testing import get_problem  # noqa: E402

SOLVERS = ("qr", "chol", "sparse")


def _pop(n: int, r: int):
    return lambda opts: dense_ball_problem(n, r).solve(order=r, backend="cvxopt", options=opts)


def _library(name: str):
    p = get_problem(name)
    return lambda opts: p.build().solve(order=p.exact_order, backend="cvxopt", options=opts)


def _multiview(method: str):
    from polymom_apps import estimate
    from polymom_apps.experiments.synthetic import sample_multiview
    from polymom_apps.models import multiview

    rng = np.random.default_rng(0)
    means = rng.standard_normal((3, 9))
    X = sample_multiview(means, rng.dirichlet([10.0] * 3), 10_000, rng)
    spec = multiview(3)
    return lambda opts: estimate(spec, X, 3, method=method, options=opts).gmp_result


def cases(quick: bool):
    out = [("pop n=6 r=2", _pop(6, 2)), ("pop n=8 r=2", _pop(8, 2)), ("pop n=4 r=3", _pop(4, 3)),
           ("six_hump_camel", _library("six_hump_camel")), ("maxcut_5_weighted", _library("maxcut_5_weighted")),
           ("lasserre_2001_floudas_4_10", _library("lasserre_2001_floudas_4_10"))]
    if not quick:
        out += [("pop n=10 r=2", _pop(10, 2)), ("pop n=12 r=2", _pop(12, 2)), ("pop n=5 r=3", _pop(5, 3)),
                ("pop n=6 r=3", _pop(6, 3)),
                ("lasserre_2001_floudas_2_2_quadratic", _library("lasserre_2001_floudas_2_2_quadratic")),
                ("3-view exact", _multiview("exact")), ("3-view robust", _multiview("robust"))]
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"# python bench/cvxopt_kkt.py{' --quick' if args.quick else ''}")
    print(f"# {datetime.datetime.now():%Y-%m-%d %H:%M}, {cpu_model()}, load {load_average()}, "
          f"cvxopt {package_version('cvxopt')}, numpy {package_version('numpy')}, "
          f"scipy {package_version('scipy')}")
    _pop(3, 2)({"extra": {"kktsolver": "sparse"}})  # warm-up: imports, first calls
    print("| case | m | PSD blocks | m² Σd² | auto | " + " | ".join(f"{k} (s)" for k in SOLVERS)
          + " | qr / sparse | chol / sparse | max \\|bound − qr bound\\| | statuses |")
    print("|---|---|---|---|---|" + "---|" * len(SOLVERS) + "---|---|---|---|")
    for name, run in cases(args.quick):
        seen = {}
        orig = cb._conelp

        def spy(cvxopt, program, *a, **k):
            seen["program"] = program
            return orig(cvxopt, program, *a, **k)

        cb._conelp = spy
        try:
            res = {}
            for k in SOLVERS:
                t0 = time.perf_counter()
                r = run({"extra": {"kktsolver": k}})
                res[k] = (r.timings.get("solve", time.perf_counter() - t0), r.status.value, r.bound)
        finally:
            cb._conelp = orig
        prog = seen["program"]
        work = cb.dense_kkt_work(prog)
        auto = "sparse" if work >= cb.SPARSE_KKT_MIN_WORK else "qr"
        dims = sorted(prog.psd_dims, reverse=True)
        blocks = f"{dims[0]}" + (f" + {len(dims) - 1} up to {dims[1]}" if len(dims) > 1 else "")
        ref = res["qr"][2]
        dev = max(abs(b - ref) for _, _, b in res.values()) if ref is not None and all(
            b is not None for _, _, b in res.values()) else float("nan")
        statuses = ", ".join(sorted({s for _, s, _ in res.values()}))
        ratio = res["qr"][0] / res["sparse"][0]
        ratio_c = res["chol"][0] / res["sparse"][0]
        print(f"| {name} | {prog.n_vars} | {blocks} | {work:.1e} | {auto} | "
              + " | ".join(f"{res[k][0]:.3f}" for k in SOLVERS)
              + f" | {ratio:.2f} | {ratio_c:.2f} | {dev:.1e} | {statuses} |", flush=True)


if __name__ == "__main__":
    main()
