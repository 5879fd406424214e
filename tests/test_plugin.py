"""A third-party backend found through a real entry point.

The toy distribution in tests/plugin_dist (package ``gmp_toy_backend``, entry
point ``toy`` in the group ``gmp.backends``) is installed with pip into a
temporary directory, which is put on ``sys.path``; the registry finds it
through ``importlib.metadata`` like any installed plugin. Nothing in the
registry is patched. pip may download setuptools for the isolated build: a
pip failure fails the test, with pip's output.
"""
from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import gmp
from gmp import registry
from gmp.status import Status
from gmp.testing import get_problem
from gmp_backends import available_backends, get_backend
from gmp_backends.conformance import KNOWN_FAILURES, TIGHT_OPTIONS, run_conformance

PLUGIN_DIST = Path(__file__).resolve().parent / "plugin_dist"


def _forget_plugin(target: str) -> None:
    while target in sys.path:
        sys.path.remove(target)
    for module in [m for m in sys.modules if m.split(".")[0] == "gmp_toy_backend"]:
        del sys.modules[module]
    registry.refresh()


@pytest.fixture(scope="module")
def toy_installed(tmp_path_factory):
    """Install the toy plugin for real; remove it from this process afterwards."""
    root = tmp_path_factory.mktemp("toy_plugin")
    source = root / "src"  # a copy: the build writes build/ and *.egg-info beside the sources
    shutil.copytree(PLUGIN_DIST, source, ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))
    target = root / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-input",
         "--disable-pip-version-check", "--target", str(target), str(source)],
        capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"pip could not install the toy plugin (exit {proc.returncode}):\n"
                    f"{proc.stdout}\n{proc.stderr}", pytrace=False)
    assert (target / "gmp_toy_backend" / "__init__.py").is_file(), proc.stdout
    sys.path.insert(0, str(target))
    importlib.invalidate_caches()
    registry.refresh()
    try:
        yield target
    finally:
        _forget_plugin(str(target))
        assert "toy" not in [name for name, _ in available_backends(check_import=False)]


def test_toy_is_listed_as_usable(toy_installed):
    table = {name: av for name, av in available_backends()}
    assert table["toy"].usable, table["toy"]
    backend = get_backend("toy")
    assert type(backend).__module__ == "gmp_toy_backend"
    assert Path(sys.modules["gmp_toy_backend"].__file__).is_relative_to(toy_installed)
    declared = importlib.metadata.entry_points(group=registry.ENTRY_POINT_GROUP)
    assert [ep.value for ep in declared if ep.name == "toy"] == ["gmp_toy_backend:ToyBackend"]


def test_gmp_solve_with_the_toy_backend(toy_installed):
    problem = get_problem("six_hump_camel")
    res = problem.build().solve(order=problem.exact_order, backend="toy")
    assert res.status is Status.OPTIMAL and res.certified, res.message
    assert res.bound == pytest.approx(-1.031628453489877, rel=1e-6)  # published optimum
    x, y = gmp.variables("x y")
    res = gmp.solve(x + 2 * y, [1 - x**2 - y**2 >= 0], sense="max", backend="toy")
    assert res.bound == pytest.approx(5 ** 0.5, rel=1e-6)


def test_toy_passes_the_conformance_suite(toy_installed):
    # the toy is cvxopt under another name: the same options and known failures apply
    report = run_conformance("toy", options=TIGHT_OPTIONS["cvxopt"],
                             expected_failures=KNOWN_FAILURES["cvxopt"])
    assert report.ok, f"\n{report}"
    assert report.backend == "toy"


def test_plugin_found_after_the_importlib_metadata_backport_is_imported(toy_installed):
    # dask imports the importlib_metadata backport, whose finder makes the stdlib's
    # entry_points() return backport EntryPoint objects (not stdlib instances); the
    # registry once rejected those as "not a gmp_backends.Backend subclass or instance"
    backport = pytest.importorskip("importlib_metadata")
    (toy,) = [ep for ep in backport.entry_points(group=registry.ENTRY_POINT_GROUP) if ep.name == "toy"]
    assert not isinstance(toy, importlib.metadata.EntryPoint)
    assert registry._is_entry_point(toy)
    registry.refresh()
    found = registry._registry["toy"]
    assert registry._is_entry_point(found) and found.value == "gmp_toy_backend:ToyBackend"
    assert type(get_backend("toy")).__name__ == "ToyBackend"
    assert dict(available_backends())["toy"].usable
