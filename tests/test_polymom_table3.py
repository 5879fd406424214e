"""The Table 3 script runs end to end on one small model per cell (the full table is a bench)."""
import re

import numpy as np
import pytest

pytest.importorskip("sklearn")

from polymom_apps.experiments import table3  # noqa: E402

CELL = r"(\d+\.\d\d)/(\d+\.\d\d) +(\d+\.\d\d)s"


@pytest.mark.parametrize("row", ["lin. reg.", "3-view", "spherical", "constrained"])
def test_one_cell_per_row_prints_all_four_columns(row, capsys):
    table3.main(["--models", "1", "--rows", row, "--max-T", "1e4", "--min-T", "1e4"])
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith(row)]
    assert len(lines) == 1, lines
    cells = re.findall(CELL, lines[0])
    assert len(cells) == 4, lines[0]          # EM-default, EM-conv, Poly, Poly+EM
    poly_err, poly_em_err = float(cells[2][0]), float(cells[3][0])
    assert poly_err < 0.5 and poly_em_err < 0.5   # one model at T = 1e4: the truth is near


def test_constrained_row_poly_em_keeps_each_mean_on_the_line(monkeypatch, capsys):
    # the "constrained" row: each component's mean lies on xi1 + xi2 = 1; Poly+EM must keep it
    fits = []
    original = table3._poly_em

    def spy(*args, **kwargs):
        fits.append(original(*args, **kwargs))
        return fits[-1]

    monkeypatch.setattr(table3, "_poly_em", spy)
    table3.main(["--models", "2", "--rows", "constrained", "--max-T", "1e3", "--min-T", "1e3"])
    capsys.readouterr()
    assert len(fits) == 2
    for fit in fits:
        np.testing.assert_allclose(fit.means.sum(axis=1), 1.0, atol=1e-9)


def test_poly_em_runs_to_the_maximum_and_tol7_keeps_the_old_column():
    from polymom_apps import estimate
    from polymom_apps.experiments.synthetic import sample_gaussians
    from polymom_apps.models import gaussian_nd

    rng = np.random.default_rng(0)                       # model 0 of the spherical row
    M, V, w = table3._gauss_model("spherical", rng)
    X = sample_gaussians(M, V, w, 10_000, rng)
    res = estimate(gaussian_nd(2, "spherical"), X, 2)
    args = (X, "spherical", [(res.params[:, :2], res.params[:, 2], res.weights)])
    at_max, old = table3._poly_em(*args), table3._poly_em(*args, poly_em="tol7")
    assert at_max.converged and old.converged
    # plain EM with tol 1e-7 stops on the flat likelihood (5 M-steps, 1.5e-6 per sample below,
    # when written), short of the maximum that the accelerated run reaches (that it is the
    # maximum: tests/test_polymom_em_gaussian.py)
    assert at_max.log_likelihood > old.log_likelihood + 1e-7 and old.n_iter < 20
