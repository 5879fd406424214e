"""Calibration and power of Hansen's J test of the moment fit (``EstimateResult.fit_test``).

Under the null (the data follow the model with K components), ``J`` should be close to
chi-squared with ``dof`` degrees of freedom: its mean near ``dof`` and the fraction of
p-values below 0.05 and 0.01 near 5 % and 1 %. Under an alternative (data off the
model) the test should reject often. For each case and sample size the script draws
``--reps`` data sets from one fixed model, estimates with ``polymom_apps.estimate``
(default method: robust), and prints the mean J, the dof and the rejection rates.

Null cases: 1-d Gaussian mixture (K = 2, six moments), 2-d spherical and diagonal
Gaussian mixtures (K = 2, moments of degree <= 4), the spherical one with its means on
the line ``xi1 + xi2 = 1`` given as a constraint. Alternatives: three 1-d components
fitted with K = 2; 2-d components with Student-t (5 degrees of freedom) noise of the
same variances. Mixtures of linear regressions get no test (``fit_test is None``):
their moment polynomials take ``E[x^a]`` from the same sample.

Usage (from the repository root)::

    python bench/fit_test.py               # 100 data sets per cell, T = 1e4 and 1e5: about 5 min
    python bench/fit_test.py --reps 20     # a quick look
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
from polymom_apps.experiments.synthetic import sample_gaussians
from polymom_apps.models import gaussian_1d, gaussian_nd

M2 = np.array([[-1.0, 0.0], [1.5, 1.0]])
W2 = np.array([0.4, 0.6])
LINE = np.array([[0.2, 0.8], [1.4, -0.4]])                  # both on xi1 + xi2 = 1


def _student(M, V, w, T, rng, df=5.0):
    """Components with the means and variances of M, V but Student-t noise."""
    z = rng.choice(len(w), size=T, p=w)
    t = rng.standard_t(df, size=(T, M.shape[1])) * np.sqrt((df - 2) / df)
    return M[z] + np.sqrt(V[z]) * t


def cases():
    """(name, kind, spec, constraints(spec), sampler(T, rng))."""
    sph = gaussian_nd(2, "spherical")
    V2s = np.array([[0.6, 0.6], [1.2, 1.2]])
    V2d = np.array([[0.5, 1.0], [1.2, 0.4]])
    return [
        ("1-d Gaussian, K=2", "null", gaussian_1d(6), None,
         lambda T, r: sample_gaussians(np.array([[-1.0], [1.5]]), np.array([[0.5], [1.2]]), W2, T, r)),
        ("2-d spherical", "null", sph, None, lambda T, r: sample_gaussians(M2, V2s, W2, T, r)),
        ("2-d diagonal", "null", gaussian_nd(2, "diag"), None, lambda T, r: sample_gaussians(M2, V2d, W2, T, r)),
        ("2-d spherical, line", "null", sph, lambda s: [s.parameters[0] + s.parameters[1] == 1],
         lambda T, r: sample_gaussians(LINE, V2s, W2, T, r)),
        ("1-d, 3 components, K=2", "alternative", gaussian_1d(6), None,
         lambda T, r: sample_gaussians(np.array([[-2.0], [0.0], [2.0]]), np.array([[0.3], [0.3], [0.3]]),
                                       np.array([0.3, 0.4, 0.3]), T, r)),
        ("2-d Student-t(5)", "alternative", sph, None, lambda T, r: _student(M2, V2s, W2, T, r)),
    ]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--T", default="1e4,1e5")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    Ts = [int(float(t)) for t in args.T.split(",")]
    print(f"# python bench/fit_test.py --reps {args.reps} --T {args.T}")
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu_model()}, load {load_average()}")
    print(f"{'case':<30s} {'kind':<12s} {'T':>7s} {'dof':>4s} {'mean J':>8s} "
          f"{'p<0.05':>7s} {'p<0.01':>7s} {'no test':>8s}")
    for name, kind, spec, cons, draw in cases():
        for T in Ts:
            rng = np.random.default_rng(args.seed)
            J, p, dof, missing = [], [], None, 0
            for _ in range(args.reps):
                res = estimate(spec, draw(T, rng), 2, constraints=cons(spec) if cons else ())
                if res.fit_test is None:
                    missing += 1
                    continue
                J.append(res.fit_test.statistic)
                p.append(res.fit_test.pvalue)
                dof = res.fit_test.dof
            p = np.array(p)
            print(f"{name:<30s} {kind:<12s} {T:7.0e} {dof!s:>4s} {np.mean(J):8.2f} {np.mean(p < 0.05):7.2f} "
                  f"{np.mean(p < 0.01):7.2f} {missing:8d}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
