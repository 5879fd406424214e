"""Why Poly's T = 1e3 Gaussian fits went far off: the weighting of the moments against the choice of the fit.

For the Table 3 Gaussian models at one sample size (same generators and seeds as
``polymom_apps.experiments.table3``), the Poly estimate is recomputed with each weighting
``S`` of the moments (robust form and polish) and each rule for choosing the estimate
among the candidate fits:

weightings
    ``sample``: the inverse square root of the sample covariance of ``phi(x)`` (Hansen's
    two-step GMM weighting, the default); ``ledoit-wolf``: that covariance's correlation
    matrix shrunk towards I with the data-driven intensity of [LW04]; ``diagonal``: the
    sample variances only; ``identity``; ``oracle``: the covariance of ``phi(x)`` under the
    true mixture (from 400 000 draws), which no estimator has: it tells whether a better
    estimated weighting would help.
rules
    ``residual``: the lowest weighted moment residual (the rule before issue 17, now with the
    parameter bounds); ``aic``: the smallest AIC among the feasible candidates, as
    :func:`polymom_apps.estimate` chooses (:mod:`polymom_apps.selection`).

Each cell: the mean/median error ``max_k ||theta_k - theta*_k|| / ||theta*_k||`` over the
rows' models, and how many estimates have a "far component": weight below 5 % or a variance
below 1 % of the data's (on the standardized scale). Only the given weighting is used
(the default estimate also polishes under the diagonal one).

Usage (from the repository root)::

    python bench/small_samples.py                                   # T = 1e3, 10 models per row, default generator
    python bench/small_samples.py --generator separation --seeds 0,1,2
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

from polymom_apps.constraints import to_standardized
from polymom_apps.empirical import empirical_moments, moment_covariance
from polymom_apps.estimate import DEFAULT_LAM, _from_moments
from polymom_apps.experiments import table3 as T3
from polymom_apps.experiments.synthetic import max_relative_error, sample_gaussians
from polymom_apps.models import gaussian_nd
from polymom_apps.robust import inverse_sqrt

WEIGHTINGS = ("sample", "ledoit-wolf", "diagonal", "identity", "oracle")
RULES = ("residual", "aic")


def ledoit_wolf(Phi: np.ndarray) -> np.ndarray:
    """Covariance of the rows of ``Phi`` with its correlation shrunk towards I [LW04]."""
    m, sd = Phi.mean(0), Phi.std(0)
    Z = (Phi - m) / sd
    T, N = Z.shape
    C = Z.T @ Z / T
    d2 = np.sum((C - np.eye(N)) ** 2)
    b2 = min(np.sum((Z[:, :, None] * Z[:, None, :] - C) ** 2) / T**2, d2)
    rho = b2 / d2
    return np.outer(sd, sd) * ((1 - rho) * C + rho * np.eye(N))


def weighting(name, spec_z, Xz, m, truth_sample):
    cov = moment_covariance(spec_z.observations, Xz, mean=m)
    if name == "sample":
        return inverse_sqrt(cov)
    if name == "ledoit-wolf":
        return inverse_sqrt(ledoit_wolf(spec_z.observations(Xz)))
    if name == "diagonal":
        return np.diag(1 / np.sqrt(np.diag(cov)))
    if name == "identity":
        return np.eye(m.size)
    return inverse_sqrt(moment_covariance(spec_z.observations, truth_sample))


def far(params_z, weights, D):
    return bool(np.any(weights < 0.05) or np.any(params_z[:, D:] < 0.01))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default="spherical,diagonal,constrained")
    ap.add_argument("--T", type=float, default=1e3)
    ap.add_argument("--models", type=int, default=10)
    ap.add_argument("--seeds", default="0", help="comma-separated seeds (each gives --models models per row)")
    ap.add_argument("--generator", default="default", choices=T3.GENERATORS)
    args = ap.parse_args(argv)
    T = int(args.T)
    t_start = time.perf_counter()
    print(f"Poly at T = {T:g} by weighting and choice rule; generator {args.generator!r}, seeds {args.seeds}, "
          f"{args.models} models per row and seed; load {load_average()}")
    print("cells: mean/median error (fits with a far component)")
    print(f"{'row':12s} {'weighting':12s} " + "  ".join(f"{r:>20s}" for r in RULES))
    for row in args.rows.split(","):
        cov = "diag" if row == "diagonal" else "spherical"
        spec = gaussian_nd(2, cov)
        errs = {(w, r): [] for w in WEIGHTINGS for r in RULES}
        nfar = {k: 0 for k in errs}
        for seed in (int(s) for s in args.seeds.split(",")):
            for j in range(args.models):
                rng = np.random.default_rng(seed + 1000 * j)
                M, V, wt = T3._gauss_model(row, rng, args.generator)
                truth = np.column_stack([M, V[:, :1]]) if cov == "spherical" else np.column_stack([M, V])
                X = sample_gaussians(M, V, wt, T, rng)
                st = spec.standardize(X)
                cons = [spec.parameters[0] + spec.parameters[1] == 1] if row == "constrained" else []
                cons = to_standardized(cons, spec, st.spec, st)
                polys = st.spec.polys_for(st.X)
                m = empirical_moments(st.spec.observations, st.X, n_moments=len(polys))
                big = st.X[:0]
                if "oracle" in WEIGHTINGS:
                    big = (sample_gaussians(M, V, wt, 400_000, np.random.default_rng(7))
                           - st.param_offset[:2]) / st.param_scale[:2]
                for wname in WEIGHTINGS:
                    S = weighting(wname, st.spec, st.X, m, big)
                    for rule in RULES:
                        with warnings.catch_warnings():
                            warnings.simplefilter("ignore")
                            res = _from_moments(st.spec, m, 2, polys=polys, constraints=cons, method="robust",
                                                lam=DEFAULT_LAM * m.size / T, weight_half=S,
                                                data=st.X if rule == "aic" else None, min_weight=1.0 / T)
                        if not res.success:
                            errs[wname, rule].append(np.nan)
                            continue
                        errs[wname, rule].append(max_relative_error(st.params_back(res.params), truth)[0])
                        nfar[wname, rule] += far(res.params, res.weights, 2)
        for wname in WEIGHTINGS:
            cells = []
            for rule in RULES:
                e = np.asarray(errs[wname, rule])
                cells.append(f"{np.nanmean(e):.2f}/{np.nanmedian(e):.2f} ({nfar[wname, rule]:2d} far)")
            print(f"{row:12s} {wname:12s} " + "  ".join(f"{c:>20s}" for c in cells), flush=True)
    print(f"{time.perf_counter() - t_start:.0f} s, load {load_average()}; "
          f"command: python bench/small_samples.py {' '.join(argv or sys.argv[1:])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
