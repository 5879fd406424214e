"""Logging (loggers "gmp" and "polymom_apps") and progress bars (tqdm) on long work."""
import io
import logging
import re

import numpy as np
import pytest

import gmp
from polymom_apps.progress import progress


def test_gmp_logs_the_backend_and_every_order_that_auto_tries(caplog):
    x, y = gmp.variables("x y")
    cons = [2 * x**4 - 8 * x**3 + 8 * x**2 + 2 - y >= 0, 4 * x**4 - 32 * x**3 + 88 * x**2 - 96 * x + 36 - y >= 0,
            x >= 0, x <= 3, y >= 0, y <= 4]
    with caplog.at_level(logging.DEBUG, logger="gmp"):
        res = gmp.solve(-x - y, cons, order="auto", backend="cvxopt")
    msgs = [r.getMessage() for r in caplog.records if r.name.startswith("gmp")]
    assert "backend cvxopt" in msgs
    tried = [int(m.group(1)) for m in (re.match(r"order (\d+): (\w+), bound", t) for t in msgs) if m]
    assert tried == [a.order for a in res.attempts] == [2, 3, 4]    # Lasserre 2001, Ex. 5: exact at 4
    assert any(re.match(r"order 4: optimal, bound -5\.50\d+, certified True", t) for t in msgs)
    assert sum(t.startswith("order") and "build" in t for t in msgs) == 3    # the debug timings


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_polymom_logs_the_fit(caplog):
    from polymom_apps import PolymomGaussianMixture

    X = np.random.default_rng(0).normal(0.0, 1.0, (500, 1))
    with caplog.at_level(logging.INFO, logger="polymom_apps"):
        PolymomGaussianMixture(1).fit(X)
    msgs = [r.getMessage() for r in caplog.records if r.name.startswith("polymom_apps")]
    assert msgs[0] == "PolymomGaussianMixture: K=1 on 500 samples x 1 columns, method=robust"
    assert re.match(r"PolymomGaussianMixture: estimated in [0-9.e-]+ s \(order \d+, backend \w+\)", msgs[1])


def test_progress_bar_counts_the_items():
    buf = io.StringIO()
    assert list(progress(range(3), desc="models", enabled=True, file=buf)) == [0, 1, 2]
    assert "models: 100%" in buf.getvalue() and "3/3" in buf.getvalue()
    items = [1, 2]
    assert progress(items, enabled=False) is items


def test_table3_shows_a_progress_bar_per_cell(capsys):
    pytest.importorskip("sklearn")
    from polymom_apps.experiments import table3

    table3.main(["--models", "2", "--rows", "spherical", "--max-T", "1e3", "--poly-only", "--progress"])
    captured = capsys.readouterr()
    assert re.search(r"spherical T=1e\+03: +0%.*0/2", captured.err)      # the bar, cleared when the cell ends
    assert re.search(r"spherical T=1e\+03: +(50%.*1/2|100%.*2/2)", captured.err)   # tqdm refreshes by time
    assert "spherical" in captured.out
    table3.main(["--models", "1", "--rows", "spherical", "--max-T", "1e3", "--poly-only", "--no-progress"])
    assert capsys.readouterr().err == ""


def test_a_soft_failure_is_logged_as_a_warning_too(caplog):
    from polymom_apps import PolymomGaussianMixture
    from polymom_apps.experiments.synthetic import sample_gaussians

    X = sample_gaussians(np.array([[-1.0], [1.5]]), np.array([[0.5], [1.2]]), np.array([0.4, 0.6]), 2000,
                         np.random.default_rng(2))
    gm = PolymomGaussianMixture(2, method="exact", constraints=lambda p: [p[0] == 100.0])
    with caplog.at_level(logging.WARNING, logger="polymom_apps"), pytest.warns(RuntimeWarning):
        gm.fit(X)
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "polymom_apps.estimators"]
    assert len(warned) == 1 and warned[0].getMessage().startswith("Polymom did not produce 2 components")
