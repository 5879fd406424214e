"""Reproduce Table 3 of [WCL15]: ``python -m polymom_apps.experiments.table3``.

EM (scikit-learn's, or :mod:`polymom_apps.em`), Poly and Poly+EM on random Gaussian, 3-view and
linear-regression mixtures, with the error of the parameters and the time per fit. The setup,
the columns and the runs: docs/polymom.md, "Table 3 of [WCL15]".
"""
from __future__ import annotations

import argparse
import time
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from polymom_apps import estimate
from polymom_apps.em import TO_MAXIMUM, GaussianEM, em_gaussian_mixture_starts, gaussian_starts
from polymom_apps.estimators import em_mean_constraints
from polymom_apps.experiments.synthetic import (
    max_relative_error,
    sample_gaussians,
    sample_linear_regressions,
    sample_multiview,
)
from polymom_apps.models import gaussian_nd, linear_regression, multiview
from polymom_apps.progress import progress

if TYPE_CHECKING:
    from sklearn.mixture import GaussianMixture

PAPER = {  # Table 3 of [WCL15]: (EM, TF, Poly) per T
    "spherical": {1e3: (0.37, 2.05, 0.58), 1e4: (0.24, 0.73, 0.29), 1e5: (0.19, 0.36, 0.14)},
    "diagonal": {1e3: (0.44, 2.15, 0.48), 1e4: (0.48, 4.03, 0.40), 1e5: (0.38, 2.46, 0.35)},
    "constrained": {1e3: (0.49, 7.52, 0.38), 1e4: (0.47, 2.56, 0.30), 1e5: (0.34, 3.02, 0.29)},
    "3-view": {1e4: (0.38, 0.51, 0.57), 1e5: (0.31, 0.33, 0.26), 1e6: (0.36, 0.16, 0.12)},
    "lin. reg.": {1e4: (None, None, 3.51), 1e5: (None, None, 2.60), 1e6: (None, None, 2.52)},
}


#: Generators of the Gaussian rows (``--generator``): "default", this module's reading of the
#: paper's setup (above); "authors", ``GaussianMixtureModel.generate`` of the authors' code
#: (github.com/sidaw/polymom, models/GaussianMixtures.py) for K = D = 2: means e1 and e2,
#: spherical variances U(0.5, 1), diagonal variances U(1, 4) per coordinate, weights
#: Dirichlet(10, 10) ("constrained": spherical, e1 and e2 are on the line); "separation", the
#: authors' means and variances rescaled to the paper's "sigma ~ 2 ||mu1 - mu2||" (mean
#: variance 8).
GENERATORS = ("default", "authors", "separation")


def _gauss_model(kind: str, rng: np.random.Generator,
                 generator: str = "default") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    K = D = 2
    if generator != "default":
        M = np.eye(2)
        if kind == "diagonal":
            V = 3 * rng.random((K, D)) + 1
        else:
            V = np.repeat(0.5 * rng.random((K, 1)) + 0.5, D, axis=1)
        if generator == "separation":
            V = V / V.mean() * (2 * np.sqrt(2)) ** 2
        return M, V, rng.dirichlet([10.0] * K)
    if kind == "constrained":
        t = rng.standard_normal(K)
        M = np.eye(2) + 0.1 * t[:, None] * np.array([1.0, -1.0]) / np.sqrt(2)
    else:
        M = np.eye(2) + 0.1 * rng.standard_normal((K, D))
    if kind == "diagonal":
        V = rng.uniform(1, 4, (K, D)) ** 2
    else:
        V = np.repeat(rng.uniform(2, 4, (K, 1)), D, axis=1)
    w = rng.dirichlet([10.0] * K)
    return M, V, w


def _em(X: np.ndarray, K: int, cov: str, tol: float, n_init: int = 5, seed: int = 0) -> GaussianMixture:
    """scikit-learn's GaussianMixture from k-means (the EM columns)."""
    from sklearn.mixture import GaussianMixture

    gm = GaussianMixture(n_components=K, covariance_type=cov, random_state=seed, n_init=n_init, tol=tol,
                         max_iter=10000 if tol < 1e-3 else 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm.fit(X)
    return gm


#: Stopping rules of the Poly+EM column (``--poly-em``): "max", SQUAREM-accelerated EM to
#: ``tol=1e-10`` per cycle, which reaches the likelihood maximum (bench/em_acceleration.py);
#: "tol7", plain EM to ``tol=1e-7`` per step, as EM-conv (the column until 2026-12-02).
POLY_EM = {"max": TO_MAXIMUM, "tol7": {"tol": 1e-7}}


def _poly_em(X: np.ndarray, cov: str, starts: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
             mean_constraint: tuple[np.ndarray, np.ndarray] | None = None, poly_em: str = "max") -> GaussianEM:
    """EM from each Poly start (variances floored at 1e-3), the highest likelihood: the Poly+EM column."""
    return em_gaussian_mixture_starts(X, [(m, np.maximum(v, 1e-3), w) for m, v, w in starts], covariance_type=cov,
                                      mean_constraint=mean_constraint, **POLY_EM[poly_em])


def _infeasible(params: np.ndarray, weights: np.ndarray, n_var: int) -> bool:
    """A returned estimate with a variance <= 0 or weights off the simplex."""
    return bool(np.any(params[:, -n_var:] <= 0) if n_var else False) or bool(
        np.any(weights < 0) or abs(weights.sum() - 1) > 1e-9)


def _theta(gm: GaussianMixture) -> np.ndarray:
    return np.column_stack([gm.means_, gm.covariances_])


def run_gaussian(kind: str, T: int, n_models: int, seed: int, method: str, em: bool = True, poly_em: str = "max",
                 generator: str = "default", show_progress: bool | None = None) -> dict[str, Any]:
    cov = "diag" if kind == "diagonal" else "spherical"
    spec = gaussian_nd(2, cov)
    out = {k: ([], []) for k in ("EM-default", "EM-conv", "Poly", "Poly+EM")}
    out["infeasible"] = 0
    for j in progress(range(n_models), desc=f"{kind} T={T:.0e}", enabled=show_progress, leave=False):
        rng = np.random.default_rng(seed + 1000 * j)
        M, V, w = _gauss_model(kind, rng, generator)
        truth = np.column_stack([M, V[:, :1]]) if cov == "spherical" else np.column_stack([M, V])
        X = sample_gaussians(M, V, w, T, rng)
        for name, tol in (("EM-default", 1e-3), ("EM-conv", 1e-7)) if em else ():
            t0 = time.perf_counter()
            gm = _em(X, 2, cov, tol, seed=j)
            out[name][1].append(time.perf_counter() - t0)
            out[name][0].append(max_relative_error(_theta(gm), truth)[0])
        cons = [spec.parameters[0] + spec.parameters[1] == 1] if kind == "constrained" else []
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = estimate(spec, X, 2, constraints=cons, method=method)
        tp = time.perf_counter() - t0
        out["Poly"][1].append(tp)
        if not res.success:
            out["Poly"][0].append(np.nan)
            out["Poly+EM"][0].append(np.nan)
            out["Poly+EM"][1].append(tp)
            continue
        out["Poly"][0].append(max_relative_error(res.params, truth)[0])
        out["infeasible"] += _infeasible(res.params, res.weights, 1 if cov == "spherical" else 2)
        if not em:
            continue
        t0 = time.perf_counter()
        fit = _poly_em(X, cov, gaussian_starts(res, cov), em_mean_constraints(cons, spec.parameters, 2), poly_em)
        out["Poly+EM"][1].append(tp + time.perf_counter() - t0)
        out["Poly+EM"][0].append(max_relative_error(np.column_stack([fit.means, fit.variances]), truth)[0])
    return out


def run_multiview(T: int, n_models: int, seed: int, method: str, em: bool = True, basis: str = "model",
                  poly_em: str = "max", show_progress: bool | None = None
                  ) -> dict[str, tuple[list[float], list[float]]]:
    K, D = 3, 3
    spec = multiview(D)
    out = {k: ([], []) for k in ("EM-default", "EM-conv", "Poly", "Poly+EM")}
    for j in progress(range(n_models), desc=f"3-view T={T:.0e}", enabled=show_progress, leave=False):
        rng = np.random.default_rng(seed + 1000 * j)
        means = rng.standard_normal((K, 3 * D))
        w = rng.dirichlet([10.0] * K)
        X = sample_multiview(means, w, T, rng)
        for name, tol in (("EM-default", 1e-3), ("EM-conv", 1e-7)) if em else ():
            t0 = time.perf_counter()
            gm = _em(X, K, "diag", tol, seed=j)
            out[name][1].append(time.perf_counter() - t0)
            out[name][0].append(max_relative_error(gm.means_, means)[0])
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = estimate(spec, X, K, method=method, basis=basis)
        tp = time.perf_counter() - t0
        out["Poly"][1].append(tp)
        out["Poly"][0].append(max_relative_error(res.params, means)[0] if res.success else np.nan)
        if res.success and em:
            t0 = time.perf_counter()
            fit = _poly_em(X, "diag", [(res.params, np.ones((K, 3 * D)), res.weights)], poly_em=poly_em)
            out["Poly+EM"][1].append(tp + time.perf_counter() - t0)
            out["Poly+EM"][0].append(max_relative_error(fit.means, means)[0])
    return out


def run_linreg(T: int, n_models: int, seed: int, method: str, em: bool = True, poly_em: str = "max",
               show_progress: bool | None = None) -> dict[str, tuple[list[float], list[float]]]:
    from polymom_apps.em import em_linear_regressions

    spec = linear_regression(2, 0.5)
    out = {k: ([], []) for k in ("EM-default", "EM-conv", "Poly", "Poly+EM")}
    for j in progress(range(n_models), desc=f"lin. reg. T={T:.0e}", enabled=show_progress, leave=False):
        rng = np.random.default_rng(seed + 1000 * j)
        W = rng.standard_normal((2, 2))
        w = rng.dirichlet([10.0, 10.0])
        X = sample_linear_regressions(W, np.array([0.25, 0.25]), w, T, rng)
        x, y = X[:, :2], X[:, 2]
        for name, tol in (("EM-default", 1e-3), ("EM-conv", 1e-7)) if em else ():
            t0 = time.perf_counter()
            fit = em_linear_regressions(x, y, 2, noise_std=0.5, tol=tol, max_iter=100 if tol >= 1e-3 else 10_000,
                                        random_state=j)
            out[name][1].append(time.perf_counter() - t0)
            out[name][0].append(max_relative_error(fit.coef, W)[0])
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = estimate(spec, X, 2, method=method)
        tp = time.perf_counter() - t0
        out["Poly"][1].append(tp)
        out["Poly"][0].append(max_relative_error(res.params, W)[0] if res.success else np.nan)
        if res.success and em:
            t0 = time.perf_counter()
            fit = em_linear_regressions(x, y, 2, noise_std=0.5, init=(res.params[:, :2], res.weights),
                                        **POLY_EM[poly_em])
            out["Poly+EM"][1].append(tp + time.perf_counter() - t0)
            out["Poly+EM"][0].append(max_relative_error(fit.coef, W)[0])
    return out


def _fmt(vals: tuple[Sequence[float], Sequence[float]]) -> str:
    errs, times = vals
    if not errs:
        return "      -       "
    e = np.asarray(errs, float)
    if np.isnan(e).all():
        return f"all {e.size} failed"
    fails = f" ({int(np.isnan(e).sum())} failed)" if np.isnan(e).any() else ""
    return f"{np.nanmean(e):5.2f}/{np.nanmedian(e):4.2f} {np.mean(times):5.2f}s{fails}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", type=int, default=10, help="random models per cell (paper: 10)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--method", default=None, choices=["robust", "exact"],
                    help="Poly's method (default: each model's default_method: robust, exact for 3-view)")
    ap.add_argument("--rows", default="spherical,diagonal,constrained,3-view,lin. reg.")
    ap.add_argument("--max-T", type=float, default=1e6, help="skip cells with more samples (quick runs)")
    ap.add_argument("--min-T", type=float, default=0, help="skip cells with fewer samples")
    ap.add_argument("--poly-only", action="store_true", help="skip the EM columns")
    ap.add_argument("--basis", default="model", choices=["model", "full"],
                    help="3-view relaxation: the model's moment sub-basis (default) or the whole M_r")
    ap.add_argument("--poly-em", default="max", choices=sorted(POLY_EM),
                    help="Poly+EM stopping rule: 'max' (SQUAREM to tol 1e-10, default) or 'tol7' (plain, tol 1e-7)")
    ap.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="a progress bar per cell on stderr (needs tqdm; default: when stderr is a terminal)")
    ap.add_argument("--generator", default="default", choices=GENERATORS,
                    help="Gaussian rows' models: this module's reading of the paper (default), the authors' "
                         "code, or the authors' means with the paper's sigma ~ 2 ||mu1 - mu2||")
    args = ap.parse_args(argv)
    bar = dict(show_progress=args.progress)
    rows = [r.strip() for r in args.rows.split(",")]
    infeasible = n_gauss = 0
    cols = ("EM-default", "EM-conv", "Poly", "Poly+EM")
    print(f"Table 3 of [WCL15], {args.models} models per cell, Poly method={args.method or 'model default'}, "
          f"basis={args.basis}, Poly+EM to {args.poly_em!r}, generator {args.generator!r}; "
          "cells: mean/median error and mean seconds per fit; paper: (EM, TF, Poly)")
    print(f"{'row':12s} {'T':>7s}  " + "  ".join(f"{c:>18s}" for c in cols) + "   paper (EM, TF, Poly)")
    for row in rows:
        Ts = (1e3, 1e4, 1e5) if row in ("spherical", "diagonal", "constrained") else (1e4, 1e5, 1e6)
        for T in Ts:
            if not args.min_T <= T <= args.max_T:
                continue
            if row in ("spherical", "diagonal", "constrained"):
                out = run_gaussian(row, int(T), args.models, args.seed, args.method, not args.poly_only, args.poly_em,
                                   args.generator, **bar)
                infeasible += out["infeasible"]
                n_gauss += args.models
            elif row == "3-view":
                out = run_multiview(int(T), args.models, args.seed, args.method, not args.poly_only, args.basis,
                                    args.poly_em, **bar)
            else:
                out = run_linreg(int(T), args.models, args.seed, args.method, not args.poly_only, args.poly_em, **bar)
            cells = "  ".join(f"{_fmt(out.get(c, ([], []))):>18s}" for c in cols)
            paper = PAPER[row][T]
            ptxt = ", ".join("-" if v is None else f"{v:.2f}" for v in paper)
            print(f"{row:12s} {T:7.0e}  {cells}   ({ptxt})", flush=True)
    if n_gauss:
        print(f"Poly estimates with a variance <= 0 or weights off the simplex: "
              f"{infeasible} of {n_gauss} Gaussian fits")


if __name__ == "__main__":
    main()
