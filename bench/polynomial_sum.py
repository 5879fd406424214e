"""Summing many polynomial terms: Python's ``sum`` against ``gmp.polysum``.

``sum`` adds one term at a time and re-sorts the growing partial sum each time
(quadratic in the number of terms); ``gmp.polysum`` stacks the terms and combines them
once. The terms are ``c * prod_i x_i ** a_i`` over the first ``N`` monomials of
``basis(10, 6)`` with random ``c``, built before the clock starts. Each time is the best
of 3 runs (1 for ``sum`` at the largest sizes); the two results are checked equal.

Usage (from the repository root)::

    python bench/polynomial_sum.py            # N = 100 ... 8000, about 1 min
    python bench/polynomial_sum.py --quick    # N <= 1000
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

try:  # run from a checkout without installing
    import gmp  # noqa: F401
except ImportError:  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from _common import cpu_model, load_average  # noqa: E402

import gmp
from gmp.monomials import basis


def _best(fn, runs):
    best, out = np.inf, None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    sizes = (100, 300, 1000) if args.quick else (100, 300, 1000, 3000, 8000)
    print("# python bench/polynomial_sum.py" + " --quick" * args.quick)
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {cpu_model()}, load {load_average()}, "
          f"numpy {np.__version__}")
    x = gmp.variables("x", 10)
    exps = basis(10, 6)
    coefs = np.random.default_rng(0).standard_normal(exps.shape[0])
    print(f"{'terms':>6s} {'sum()':>10s} {'polysum':>10s} {'ratio':>7s}")
    for n in sizes:
        terms = [gmp.Polynomial([v.vars[0] for v in x], exps[k:k + 1], coefs[k:k + 1]) for k in range(n)]
        t_sum, a = _best(lambda: sum(terms), 3 if n <= 1000 else 1)
        t_poly, b = _best(lambda: gmp.polysum(terms), 3)
        assert np.array_equal(a.exps, b.exps) and np.allclose(a.coefs, b.coefs, rtol=1e-12, atol=1e-12)
        print(f"{n:6d} {t_sum * 1e3:8.1f}ms {t_poly * 1e3:8.1f}ms {t_sum / t_poly:6.0f}x", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
