"""Is "converged" EM (scikit-learn, tol=1e-7) converged on the Table 3 Gaussian cells?

For each random model of a Table 3 Gaussian row (same generator and seeds as
``polymom_apps.experiments.table3``), run scikit-learn's GaussianMixture

* from k-means (5 restarts), as Table 3's EM columns do, and
* from the Poly estimate (``polymom_apps.estimate``), as the Poly+EM column does,

each with ``tol=1e-7`` (Table 3's "EM-conv") and with ``tol=1e-10`` and a
large iteration cap, and print the mean log-likelihood per sample, the
parameter error ``max_k ||θ_k − θ*_k|| / ||θ*_k||`` and the iterations.

The question it answers: when both starts are run to the likelihood's
maximum, do they reach the same estimate (and the same error)? If so, a
difference in error between "EM-conv" and "Poly+EM" at tol=1e-7 measures
where each stopped on a flat likelihood, not which estimator is better.

Usage (from the repository root)::

    python bench/em_convergence.py                      # spherical, diagonal, constrained at T=1e4, 10 models
    python bench/em_convergence.py --rows spherical --T 1e4 --models 3
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

from polymom_apps import estimate
from polymom_apps.experiments import table3 as T3
from polymom_apps.experiments.synthetic import max_relative_error, sample_gaussians
from polymom_apps.models import gaussian_nd


def _fit(X, cov, tol, start=None, seed=0):
    from sklearn.mixture import GaussianMixture

    kw = dict(n_components=2, covariance_type=cov, tol=tol, max_iter=200_000, random_state=seed)
    if start is None:
        gm = GaussianMixture(n_init=5, **kw)
    else:
        means, var, w = start
        gm = GaussianMixture(n_init=1, means_init=means, weights_init=w / w.sum(),
                             precisions_init=1.0 / np.maximum(var, 1e-3), **kw)
    t0 = time.perf_counter()
    gm.fit(X)
    return gm, time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="spherical,diagonal,constrained")
    ap.add_argument("--T", type=float, default=1e4)
    ap.add_argument("--models", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    print(f"# python bench/em_convergence.py --rows {args.rows} --T {args.T:g} --models {args.models}")
    print(f"{'row':<12}{'model':>6}{'tol':>7}  {'k-means start: loglik / error / iters':<40}"
          f"{'Poly start: loglik / error / iters':<38}{'Poly error':>10}")
    summary = []
    for row in args.rows.split(","):
        cov = "diag" if row == "diagonal" else "spherical"
        spec = gaussian_nd(2, cov)
        for j in range(args.models):
            rng = np.random.default_rng(args.seed + 1000 * j)
            M, V, w = T3._gauss_model(row, rng)
            truth = np.column_stack([M, V[:, :1]]) if cov == "spherical" else np.column_stack([M, V])
            X = sample_gaussians(M, V, w, int(args.T), rng)
            cons = [spec.parameters[0] + spec.parameters[1] == 1] if row == "constrained" else []
            res = estimate(spec, X, 2, constraints=cons)
            var = res.params[:, 2] if cov == "spherical" else res.params[:, 2:]
            start = (res.params[:, :2], var, res.weights)
            for tol in (1e-7, 1e-10):
                cells = []
                for s in (None, start):
                    gm, _ = _fit(X, cov, tol, s, seed=j)
                    err = max_relative_error(np.column_stack([gm.means_, gm.covariances_]), truth)[0]
                    cells.append((gm.score(X), err, gm.n_iter_))
                (lk, ek, ik), (lp, ep, ip) = cells
                print(f"{row:<12}{j:>6}{tol:>7.0e}  {lk:>12.7f} / {ek:.3f} / {ik:<8d}        "
                      f"{lp:>12.7f} / {ep:.3f} / {ip:<8d}   {max_relative_error(res.params, truth)[0]:>8.3f}",
                      flush=True)
                summary.append((row, tol, ek, ep, abs(lk - lp)))
    print("\nmean error over models (k-means start | Poly start), and the largest |loglik difference|:")
    for row in args.rows.split(","):
        for tol in (1e-7, 1e-10):
            s = [x for x in summary if x[0] == row and x[1] == tol]
            print(f"  {row:<12} tol {tol:.0e}: {np.mean([x[2] for x in s]):.3f} | {np.mean([x[3] for x in s]):.3f}"
                  f"   max |Δ loglik| {max(x[4] for x in s):.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
