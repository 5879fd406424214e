"""The command line: ``python -m polymom_apps fit DATA.csv --n-components K ...``.

Reads a CSV file with a header row (one numeric column per feature), fits a
:class:`~polymom_apps.PolymomGaussianMixture`, and writes the estimate as JSON (weights,
means, variances, status, Hansen's J test of the moment fit), optionally with a plot.
Exit status: 0 for an estimate, 1 when the fit produced none, 2 for bad input.
"""
from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from gmp import GMPError, ModelError

__all__ = ["main", "read_csv", "fit_report"]

logger = logging.getLogger(__name__)


def read_csv(path: str | Path) -> tuple[list[str], np.ndarray]:
    """The header and the numeric rows of a CSV file.

    Returns
    -------
    columns : list of str
    X : ndarray of shape (n_rows, n_columns)

    Raises
    ------
    ModelError
        An empty file, a ragged row or a value that is not a number, named by line and column.
    """
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"no such file: {str(p)!r}; pass the path of a CSV file with a header row")
    with p.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        raise ModelError(f"{p.name} has {'no' if not rows else 'only a header and no'} data rows; expected a header "
                         "row of column names, then one row of numbers per sample")
    header = [c.strip() for c in rows[0]]
    X = np.empty((len(rows) - 1, len(header)))
    for i, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise ModelError(f"{p.name}, line {i}: {len(row)} values, but the header has {len(header)} columns")
        for j, cell in enumerate(row):
            try:
                X[i - 2, j] = float(cell)
            except ValueError:
                raise ModelError(f"{p.name}, line {i}, column {header[j]!r}: {cell!r} is not a number; the "
                                 "header is the first row and every other cell must be numeric") from None
    return header, X


def fit_report(gm: Any, X: np.ndarray, columns: list[str]) -> dict[str, Any]:
    """The JSON-ready summary of a fitted :class:`~polymom_apps.PolymomGaussianMixture`."""
    res = gm.result_
    ok = bool(np.all(np.isfinite(gm.means_)))
    ft = res.fit_test
    K, D = gm.means_.shape
    var = gm.covariances_ if gm.covariances_.ndim == 2 else np.repeat(gm.covariances_[:, None], D, axis=1)
    return {
        "n_samples": int(X.shape[0]),
        "columns": list(columns),
        "n_components": int(K),
        "covariance_type": gm.covariance_type,
        "refine": gm.refine,
        "success": ok and bool(gm.converged_),
        "status": res.status.value,
        "message": res.message,
        "weights": gm.weights_.tolist() if ok else None,
        "means": gm.means_.tolist() if ok else None,
        "variances": var.tolist() if ok else None,
        "mean_log_likelihood": gm.score(X) if ok else None,
        "bic": gm.bic(X) if ok else None,
        "fit_test": None if ft is None else {"statistic": ft.statistic, "dof": ft.dof, "pvalue": ft.pvalue,
                                             "of": "the Polymom estimate (before any refinement)"},
        "order": int(res.order),
        "backend": getattr(res.gmp_result, "backend", None),
        "notes": list(res.notes),
    }


def _fit(args: argparse.Namespace) -> int:
    columns, X = read_csv(args.data)     # bad input is named before scikit-learn is imported
    from .estimators import PolymomGaussianMixture

    gm = PolymomGaussianMixture(args.n_components, covariance_type=args.covariance_type, method=args.method,
                                backend=args.backend, random_state=args.random_state,
                                refine=None if args.refine == "none" else args.refine, verbose=args.verbose)
    gm.fit(X)
    report = fit_report(gm, X, columns)
    text = json.dumps(report, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        print(text)
    if args.plot:
        if not report["success"]:
            print("no plot: the fit produced no estimate", file=sys.stderr)
        else:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            from .plotting import plot_mixture

            fig, ax = plt.subplots(figsize=(6, 5))
            plot_mixture(gm, X, ax)
            if X.shape[1] > 1:
                ax.set_xlabel(columns[0])
                ax.set_ylabel(columns[1])
            ax.set_title(f"{'Poly + EM' if gm.refine == 'em' else 'Polymom'}, K={args.n_components}, "
                         f"{args.covariance_type}")
            fig.savefig(args.plot, dpi=100, bbox_inches="tight")
            plt.close(fig)
            print(f"wrote {args.plot}", file=sys.stderr)
    return 0 if report["success"] else 1


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="python -m polymom_apps",
        description="Mixture models by the method of moments (Polymom) from the command line.")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fit = sub.add_parser(
        "fit", help="fit a Gaussian mixture to a CSV file and print (or write) the estimate as JSON",
        description="Fit a Gaussian mixture by the method of moments to DATA.csv (a header row, then one "
                    "numeric row per sample) and print the estimate as JSON: weights, means, variances, "
                    "status and Hansen's J test of the moment fit. Exit status 1 when no estimate was produced.")
    fit.add_argument("data", metavar="DATA.csv", help="CSV file with a header row; every column is a feature")
    fit.add_argument("--n-components", "-k", type=int, required=True, metavar="K", help="number of components")
    fit.add_argument("--covariance-type", choices=["diag", "spherical"], required=True,
                     help="a variance per component and feature (diag) or one per component (spherical)")
    fit.add_argument("--refine", choices=["none", "em"], default="none",
                     help="em: run EM from the Polymom estimate to the nearby likelihood maximum")
    fit.add_argument("--method", choices=["robust", "exact"], default="robust",
                     help="GMM-weighted moment residual (robust, default) or moment equalities (exact)")
    fit.add_argument("--backend", default=None, help="SDP backend (python -m gmp_backends lists them)")
    fit.add_argument("--random-state", type=int, default=0, help="seed of the atom extraction (default 0)")
    fit.add_argument("--output", "-o", metavar="OUT.json", help="write the JSON here instead of stdout")
    fit.add_argument("--plot", metavar="OUT.png", help="also draw the fit over the data (needs matplotlib)")
    fit.add_argument("--verbose", "-v", action="count", default=0, help="log the fit's steps to stderr (-vv: more)")
    fit.set_defaults(run=_fit)
    return ap


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m polymom_apps``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (GMPError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
