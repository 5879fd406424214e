"""Poly + EM as the initializer of EM, against scikit-learn's k-means starts, each run to the likelihood maximum.

For each random model of the Table 3 Gaussian rows (same generator and seeds as
``polymom_apps.experiments.table3``), on the same data:

* ``km1``, ``km5``: scikit-learn ``GaussianMixture`` from k-means with ``n_init=1`` and
  ``n_init=5``, ``tol=1e-10``, ``max_iter=200000``;
* ``poly1``: Poly, then EM (SQUAREM to ``tol=1e-10``, ``polymom_apps.em.TO_MAXIMUM``) from
  the Poly estimate only;
* ``polyN``: Poly, then EM from the estimate and Poly's other feasible candidate fits
  (``polymom_apps.em.gaussian_starts``), keeping the highest likelihood.

It prints, per cell, in how many models each method reaches the highest mean
log-likelihood per sample that ``km5`` found (to 1e-6), how many reach the best of all
methods, and the total seconds of each (Poly + EM times include Poly).

Usage (from the repository root)::

    python bench/poly_em_starts.py                           # spherical, diagonal at T = 1e3, 1e4; 10 models
    python bench/poly_em_starts.py --rows constrained --T 1e3 --models 20
"""
from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

try:  # run from a checkout without installing
    import polymom_apps  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from _common import load_average

from polymom_apps import estimate
from polymom_apps.em import TO_MAXIMUM, em_gaussian_mixture_starts, gaussian_starts
from polymom_apps.estimators import em_mean_constraints
from polymom_apps.experiments import table3 as T3
from polymom_apps.experiments.synthetic import sample_gaussians
from polymom_apps.models import gaussian_nd

TOL = 1e-6   # "reaches" the best log-likelihood: within this, per sample


def _kmeans_em(X, cov, n_init, seed):
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(2, covariance_type=cov, n_init=n_init, tol=1e-10, max_iter=200_000, random_state=seed)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(X)
    return float(gm.score(X)), time.perf_counter() - t0


def run_cell(kind: str, T: int, n_models: int, seed: int) -> dict:
    cov = "diag" if kind == "diagonal" else "spherical"
    spec = gaussian_nd(2, cov)
    rows = []
    for j in range(n_models):
        rng = np.random.default_rng(seed + 1000 * j)
        M, V, w = T3._gauss_model(kind, rng)
        X = sample_gaussians(M, V, w, T, rng)
        cons = [spec.parameters[0] + spec.parameters[1] == 1] if kind == "constrained" else []
        out = {"km1": _kmeans_em(X, cov, 1, j), "km5": _kmeans_em(X, cov, 5, j)}
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = estimate(spec, X, 2, constraints=cons)
        tp = time.perf_counter() - t0
        starts = gaussian_starts(res, cov)
        mc = em_mean_constraints(cons, spec.parameters, 2)
        for name, use in (("poly1", starts[:1]), ("polyN", starts)):
            t0 = time.perf_counter()
            fit = em_gaussian_mixture_starts(X, [(m, np.maximum(v, 1e-3), ww) for m, v, ww in use],
                                             covariance_type=cov, mean_constraint=mc, **TO_MAXIMUM)
            out[name] = (fit.log_likelihood, tp + time.perf_counter() - t0)
        out["n_starts"] = len(starts)
        rows.append(out)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="spherical,diagonal")
    ap.add_argument("--T", default="1e3,1e4")
    ap.add_argument("--models", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    names = ("km1", "km5", "poly1", "polyN")
    print(f"Poly + EM against k-means EM, all to tol 1e-10; {args.models} models per cell, seed {args.seed}; "
          f"load {load_average()}")
    print(f"{'row':12s} {'T':>6s}  " + "  ".join(f"{n:>20s}" for n in names) + "   starts")
    print(f"{'':20s}" + "  ".join(f"{'>=km5 / best / s':>20s}" for _ in names))
    for row in args.rows.split(","):
        for T in (int(float(t)) for t in args.T.split(",")):
            rows = run_cell(row.strip(), T, args.models, args.seed)
            cells = []
            for n in names:
                reach5 = sum(r[n][0] >= r["km5"][0] - TOL for r in rows)
                best = sum(r[n][0] >= max(r[m][0] for m in names) - TOL for r in rows)
                secs = sum(r[n][1] for r in rows)
                cells.append(f"{reach5:>3d} / {best:>3d} / {secs:7.2f}")
            gaps = [r["km5"][0] - r["polyN"][0] for r in rows]
            print(f"{row:12s} {T:6.0e}  " + "  ".join(f"{c:>20s}" for c in cells)
                  + f"   {np.mean([r['n_starts'] for r in rows]):.1f}  (largest km5 - polyN: {max(gaps):.2g})",
                  flush=True)
    print(f"load {load_average()}; command: python bench/poly_em_starts.py {' '.join(argv or sys.argv[1:])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
