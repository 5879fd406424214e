"""Plain EM against SQUAREM-accelerated EM from the Poly estimate, on Table 3 Gaussian cells.

For each random model of a Table 3 Gaussian row (same generator and seeds as
``polymom_apps.experiments.table3``), start ``polymom_apps.em.em_gaussian_mixture``
from the Poly estimate (``polymom_apps.estimate``, as the Poly+EM column does) and run

* ``plain 1e-7``: plain EM, ``tol=1e-7`` per step (the Poly+EM column before 2026-12-02);
* ``squarem 1e-7``: ``accelerate=True``, ``tol=1e-7`` per cycle;
* ``squarem 1e-10``: ``accelerate=True``, ``tol=1e-10`` per cycle
  (``polymom_apps.em.TO_MAXIMUM``, the Poly+EM column now);
* ``plain 1e-10``: plain EM, ``tol=1e-10``, up to 200 000 M-steps (the reference maximum);
* with ``--kmeans``, also ``EM-conv``: Table 3's column (scikit-learn's GaussianMixture from
  k-means, 5 restarts, ``tol=1e-7``; it does not know the "constrained" row's line).

It prints, per model and variant, the error ``max_k ||θ_k − θ*_k|| / ||θ*_k||``, the mean
log-likelihood per sample, the M-steps and the seconds; then, per variant, the mean and
median error, the median M-steps, the total seconds, and how far below the best
log-likelihood found for the model (by any variant) it ended, at most. For EM-conv,
the M-steps are those of its best restart.

The questions: does SQUAREM reach the same maximum as plain EM run long, in how many
fewer M-steps and how much less time; and how far below it plain EM with ``tol=1e-7``
stops.

Usage (from the repository root)::

    python bench/em_acceleration.py                          # spherical at T=1e4, 10 models (~1 min)
    python bench/em_acceleration.py --row diagonal --T 1e5   # about 5 min
    python bench/em_acceleration.py --row diagonal --T 1e5 --kmeans   # and EM-conv: about 9 min
    python bench/em_acceleration.py --random 60   # random mixtures and random starts, a few seconds

``--random N`` answers another question: from a poor start (random K in 2..4, D in 1..3,
200-1500 samples, random means, variances and weights as the start), does SQUAREM end at
the maximum that plain EM reaches from the same start? It counts the cases where it ends
lower or higher by more than 1e-6 per sample, and the median ratio of M-steps.
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
from _common import cpu_model, load_average  # noqa: E402

from polymom_apps import estimate
from polymom_apps.em import em_gaussian_mixture
from polymom_apps.estimators import em_mean_constraints
from polymom_apps.experiments import table3 as T3
from polymom_apps.experiments.synthetic import max_relative_error, sample_gaussians
from polymom_apps.models import gaussian_nd

VARIANTS = {
    "plain 1e-7": {"tol": 1e-7},
    "squarem 1e-7": {"tol": 1e-7, "accelerate": True},
    "squarem 1e-10": {"tol": 1e-10, "accelerate": True},
    "plain 1e-10": {"tol": 1e-10, "max_iter": 200_000},
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--row", default="spherical", choices=["spherical", "diagonal", "constrained"])
    ap.add_argument("--T", type=float, default=1e4)
    ap.add_argument("--models", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kmeans", action="store_true", help="also Table 3's EM-conv (scikit-learn from k-means)")
    ap.add_argument("--random", type=int, default=0, help="instead: N random mixtures from random starts")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if args.random:
        return _random(args.random, args.seed)
    print(f"# python bench/em_acceleration.py --row {args.row} --T {args.T:g} --models {args.models}"
          + " --kmeans" * args.kmeans)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu_model()}, load {load_average()}")
    cov = "diag" if args.row == "diagonal" else "spherical"
    spec = gaussian_nd(2, cov)
    rows = []                                   # (model, variant, error, loglik, M-steps, seconds)
    for j in range(args.models):
        rng = np.random.default_rng(args.seed + 1000 * j)
        M, V, w = T3._gauss_model(args.row, rng)
        truth = np.column_stack([M, V[:, :1]]) if cov == "spherical" else np.column_stack([M, V])
        X = sample_gaussians(M, V, w, int(args.T), rng)
        cons = [spec.parameters[0] + spec.parameters[1] == 1] if args.row == "constrained" else []
        res = estimate(spec, X, 2, constraints=cons)
        var = res.params[:, 2] if cov == "spherical" else res.params[:, 2:]
        start = (res.params[:, :2], np.maximum(var, 1e-3), res.weights)
        mc = em_mean_constraints(cons, spec.parameters, 2)
        cells = []
        for name, kw in VARIANTS.items():
            t0 = time.perf_counter()
            fit = em_gaussian_mixture(X, start, covariance_type=cov, mean_constraint=mc, **kw)
            dt = time.perf_counter() - t0
            err = max_relative_error(np.column_stack([fit.means, fit.variances]), truth)[0]
            rows.append((j, name, err, fit.log_likelihood, fit.n_iter, dt))
            cells.append(f"{name}: {err:.3f} {fit.log_likelihood:.8f} {fit.n_iter:>6d} {dt:6.2f}s")
        if args.kmeans:
            t0 = time.perf_counter()
            gm = T3._em(X, 2, cov, 1e-7, seed=j)
            dt = time.perf_counter() - t0
            err = max_relative_error(T3._theta(gm), truth)[0]
            rows.append((j, "EM-conv", err, gm.score(X), gm.n_iter_, dt))
            cells.append(f"EM-conv: {err:.3f} {gm.score(X):.8f} {gm.n_iter_:>6d} {dt:6.2f}s")
        print(f"model {j}  " + "  |  ".join(cells), flush=True)
    best = {j: max(r[3] for r in rows if r[0] == j) for j in range(args.models)}
    print(f"\n{args.row}, T = {args.T:g}: error mean/median, median M-steps, total seconds, "
          "largest log-likelihood gap per sample below the best of all variants")
    for name in [*VARIANTS, *(["EM-conv"] if args.kmeans else [])]:
        rs = [r for r in rows if r[1] == name]
        e = np.array([r[2] for r in rs])
        print(f"  {name:<14s} {e.mean():.3f}/{np.median(e):.3f}  {np.median([r[4] for r in rs]):>7.0f} M-steps  "
              f"{sum(r[5] for r in rs):7.2f} s  gap {max(best[r[0]] - r[3] for r in rs):.1e}")
    return 0


def _random(n: int, seed: int) -> int:
    print(f"# python bench/em_acceleration.py --random {n} --seed {seed}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu_model()}, load {load_average()}")
    rng = np.random.default_rng(11 + seed)
    lower, higher, ratios = [], [], []
    for i in range(n):
        K, D = int(rng.integers(2, 5)), int(rng.integers(1, 4))
        M = rng.standard_normal((K, D)) * rng.uniform(0.3, 3)
        X = sample_gaussians(M, rng.uniform(0.05, 2, (K, D)), rng.dirichlet(np.ones(K)), int(rng.integers(200, 1500)),
                             rng)
        start = (rng.standard_normal((K, D)), rng.uniform(0.01, 3, (K, D)), rng.dirichlet(np.ones(K) * 0.5) + 1e-9)
        plain = em_gaussian_mixture(X, start, covariance_type="diag", tol=1e-9, max_iter=5000)
        fast = em_gaussian_mixture(X, start, covariance_type="diag", tol=1e-9, max_iter=5000, accelerate=True)
        gap = fast.log_likelihood - plain.log_likelihood
        (lower if gap < -1e-6 else higher if gap > 1e-6 else []).append((i, gap))
        ratios.append(plain.n_iter / fast.n_iter)
    print(f"{n} cases: SQUAREM ends lower in {len(lower)}, higher in {len(higher)} "
          f"(by more than 1e-6 per sample); median M-step ratio plain / SQUAREM {np.median(ratios):.1f}")
    for i, gap in lower + higher:
        print(f"  case {i}: {gap:+.2e} per sample")
    return 0


if __name__ == "__main__":
    sys.exit(main())
