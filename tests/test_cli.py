"""The command lines, run as a user runs them: through subprocess."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from polymom_apps.experiments.synthetic import sample_gaussians

ROOT = Path(__file__).resolve().parents[1]
M_TRUE = np.array([[-2.0, 0.0], [2.0, 1.0]])
V_TRUE = np.array([[1.0, 0.6], [0.5, 0.8]])


def run(*args, check_rc=None):
    p = subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=300)
    if check_rc is not None:
        assert p.returncode == check_rc, (p.returncode, p.stdout[-2000:], p.stderr[-2000:])
    return p


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory):
    X = sample_gaussians(M_TRUE, V_TRUE, np.array([0.4, 0.6]), 20_000, np.random.default_rng(0))
    path = tmp_path_factory.mktemp("cli") / "data.csv"
    np.savetxt(path, X, delimiter=",", header="height,weight", comments="")
    return path, X


def test_fit_prints_the_estimate_as_json(csv_file):
    path, _ = csv_file
    p = run("-m", "polymom_apps", "fit", str(path), "--n-components", "2", "--covariance-type", "diag",
            check_rc=0)
    out = json.loads(p.stdout)
    assert out["columns"] == ["height", "weight"] and out["n_samples"] == 20_000 and out["success"]
    assert out["status"] == "optimal" and out["covariance_type"] == "diag" and out["refine"] is None
    order = np.argsort(np.array(out["means"])[:, 0])
    np.testing.assert_allclose(np.array(out["means"])[order], M_TRUE, atol=0.1)
    np.testing.assert_allclose(np.array(out["variances"])[order], V_TRUE, atol=0.15)
    np.testing.assert_allclose(np.array(out["weights"])[order], [0.4, 0.6], atol=0.03)
    ft = out["fit_test"]
    assert set(ft) >= {"statistic", "dof", "pvalue"} and ft["dof"] > 0 and 0 <= ft["pvalue"] <= 1


def test_fit_with_em_writes_json_and_a_plot_equal_to_the_estimator(csv_file, tmp_path):
    from polymom_apps import PolymomGaussianMixture

    path, X = csv_file
    out_json, out_png = tmp_path / "fit.json", tmp_path / "fit.png"
    p = run("-m", "polymom_apps", "fit", str(path), "-k", "2", "--covariance-type", "spherical", "--refine", "em",
            "--output", str(out_json), "--plot", str(out_png), check_rc=0)
    assert p.stdout == "" and f"wrote {out_json}" in p.stderr
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    out = json.loads(out_json.read_text())
    gm = PolymomGaussianMixture(2, covariance_type="spherical", refine="em", random_state=0).fit(X)
    np.testing.assert_allclose(out["means"], gm.means_, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(np.array(out["variances"])[:, 0], gm.covariances_, rtol=1e-9)
    assert out["refine"] == "em" and out["mean_log_likelihood"] == pytest.approx(gm.score(X), rel=1e-12)


def test_fit_names_bad_input(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1.0,2.0\n3.0,oops\n")
    p = run("-m", "polymom_apps", "fit", str(bad), "-k", "2", "--covariance-type", "diag", check_rc=2)
    assert "error: bad.csv, line 3, column 'b': 'oops' is not a number" in p.stderr
    p = run("-m", "polymom_apps", "fit", str(tmp_path / "missing.csv"), "-k", "1", "--covariance-type", "diag",
            check_rc=2)
    assert "error: no such file" in p.stderr
    p = run("-m", "polymom_apps", "fit", str(bad), "--covariance-type", "diag", check_rc=2)
    assert "the following arguments are required: --n-components" in p.stderr


@pytest.mark.parametrize("entry", [
    ["-m", "gmp.demo"], ["-m", "gmp_backends"], ["-m", "gmp_backends.conformance"], ["-m", "polymom_apps"],
    ["-m", "polymom_apps", "fit"], ["-m", "polymom_apps.experiments.table3"],
], ids=lambda e: " ".join(e[1:]))
def test_help_works_on_every_entry_point(entry):
    p = run(*entry, "--help", check_rc=0)
    assert p.stdout.startswith("usage:") and p.stderr == ""


def test_gmp_demo_script_help_does_not_run_the_demo():
    script = shutil.which("gmp-demo", path=str(Path(sys.executable).parent)) or shutil.which("gmp-demo")
    assert script, "the gmp-demo console script is installed with the package"
    p = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and p.stdout.startswith("usage: gmp-demo")
    assert "six-hump camel: min" not in p.stdout      # the demo itself did not run


def test_gmp_backends_lists_remedies_and_runs_the_conformance_suite():
    p = run("-m", "gmp_backends", "--list", check_rc=0)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["backend", "level", "reason", "/", "remedy"]
    cvx = [ln for ln in lines if ln.startswith("cvxopt")]
    assert cvx and "usable" in cvx[0]
    mosek = [ln for ln in lines if ln.startswith("mosek")]
    assert mosek and ("remedy" in mosek[0] or "usable" in mosek[0])    # no licence here: it says what to do
    p = run("-m", "gmp_backends", "cvxopt", check_rc=0)
    assert "conformance" in p.stdout.lower() and " passed " in p.stdout and " FAILED" not in p.stdout
    p = run("-m", "gmp_backends", "nosuch", check_rc=2)
    assert "error: unknown backend 'nosuch'; known backends:" in p.stderr
