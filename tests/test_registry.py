"""Backend registry, selection precedence, availability, options, and Backend.run.

Messages are compared with hand-written text, not with the format strings
that produce them.
"""
from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from gmp import registry
from gmp.conic import ConicProgram, ConicSolution, PSDBlock
from gmp.errors import (
    BackendError,
    BackendNotAvailableError,
    GMPError,
    OptionError,
    UnknownBackendError,
)
from gmp.status import Status
from gmp_backends import (
    Availability,
    Backend,
    SolverOptions,
    available_backends,
    get_backend,
    register_backend,
    resolve_backend,
    unregister_backend,
    use_backend,
)
from gmp_backends.scripted import ScriptedBackend

NO_LICENCE = Availability(True, True, False, "no licence found", "set MOSEKLM_LICENSE_FILE")

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10
    import tomli as tomllib


def tiny_program() -> ConicProgram:
    """min x s.t. x >= 0 as a 1x1 PSD block."""
    import scipy.sparse as sp

    return ConicProgram(c=[1.0], psd=(PSDBlock(1, sp.csc_matrix([[1.0]]), np.zeros(1)),))


def optimal(x: float = 0.0) -> ConicSolution:
    return ConicSolution(Status.OPTIMAL, "scripted optimal", "as scripted", x=np.array([x]),
                         primal_objective=x, dual_objective=x, solve_time=0.25)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """A registry holding only the cvxopt backend, no GMP_BACKEND, no config files.

    Pinning the backends keeps the expected texts below independent of how
    many backends the package ships.
    """
    monkeypatch.setattr(registry, "_registry", {"cvxopt": "gmp_backends.cvxopt_backend:CvxoptBackend"})
    monkeypatch.setattr(registry, "_instances", {})
    monkeypatch.setattr(registry, "_discovered", True)
    monkeypatch.delenv("GMP_BACKEND", raising=False)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'elsewhere'\n")
    monkeypatch.chdir(tmp_path)
    user_config = tmp_path / "user" / "config.toml"
    monkeypatch.setattr(registry, "user_config_path", lambda: user_config)
    return tmp_path


def register_fakes(*names: str) -> dict[str, ScriptedBackend]:
    fakes = {n: ScriptedBackend(name=n) for n in names}
    for n, fake in fakes.items():
        register_backend(fake)
    return fakes


# -- names -----------------------------------------------------------------
def test_unknown_backend_message(isolated):
    with pytest.raises(UnknownBackendError) as err:
        get_backend("foo")
    assert str(err.value) == ("unknown backend 'foo'; known backends: cvxopt; "
                              "pass one of these or an instance of gmp.Backend")
    with pytest.raises(UnknownBackendError) as err:
        get_backend("cvxpot")
    assert str(err.value) == ("unknown backend 'cvxpot' (did you mean 'cvxopt'?); known backends: "
                              "cvxopt; pass one of these or an instance of gmp.Backend")
    assert isinstance(err.value, ValueError) and isinstance(err.value, GMPError)


def test_get_backend_by_name_instance_or_class(isolated):
    cvx = get_backend(" CVXOPT ")
    assert cvx.name == "cvxopt" and get_backend("cvxopt") is cvx  # cached
    fake = ScriptedBackend()
    assert get_backend(fake) is fake
    assert isinstance(get_backend(type(cvx)), type(cvx))


def test_register_and_unregister(isolated):
    fake = ScriptedBackend(name="fake")
    assert register_backend(fake) is fake
    assert get_backend("fake") is fake
    with pytest.raises(BackendError, match="already registered; pass replace=True"):
        register_backend(ScriptedBackend(name="fake"))
    other = ScriptedBackend(name="fake")
    register_backend(other, replace=True)
    assert get_backend("fake") is other
    unregister_backend("fake")
    with pytest.raises(UnknownBackendError):
        get_backend("fake")
    with pytest.raises(BackendError, match="expects a gmp.Backend"):
        register_backend(object(), "thing")


def test_pyproject_declares_the_builtin_entry_points_and_gmp_finds_them():
    from gmp_backends import BUILTINS

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["entry-points"]["gmp.backends"]
    assert sorted(declared) == sorted(BUILTINS)
    installed = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="gmp.backends")}
    for name, target in declared.items():
        assert installed[name] == target            # the installed metadata is this pyproject's
        assert target.startswith(f"gmp_backends.{name}_backend:")
        backend = get_backend(name)                 # found through the entry point, not by name in gmp
        assert backend.name == name and type(backend).__module__ == f"gmp_backends.{name}_backend"


def test_entry_points_are_discovered(isolated, monkeypatch):
    (isolated / "fancy_backend_mod.py").write_text(
        "from gmp_backends import Backend\n"
        "class FancyBackend(Backend):\n"
        "    name = 'fancy'\n"
        "    required_modules = ('fancy_solver_lib_not_installed',)\n"
        "    pip_extra = 'fancy'\n"
        "    def solve(self, program, options):\n"
        "        raise NotImplementedError\n"
    )
    monkeypatch.syspath_prepend(str(isolated))
    eps = [importlib.metadata.EntryPoint("Fancy", "fancy_backend_mod:FancyBackend", "gmp.backends"),
           importlib.metadata.EntryPoint("broken", "no_such_module_xyz:Thing", "gmp.backends")]
    monkeypatch.setattr(importlib.metadata, "entry_points",
                        lambda group: eps if group == "gmp.backends" else [])
    monkeypatch.setattr(registry, "_registry", {})
    monkeypatch.setattr(registry, "_discovered", False)
    table = {name: av for name, av in available_backends()}
    assert set(table) == {"fancy", "broken"}      # gmp knows no backend but the entry points' ones
    assert table["fancy"].level == "not installed"
    assert table["fancy"].remedy == 'pip install "gmp-moments[fancy]"'
    assert not table["broken"].installed and "could not be loaded" in table["broken"].reason
    with pytest.raises(BackendNotAvailableError) as err:
        resolve_backend("fancy")
    assert str(err.value) == (
        "backend 'fancy' (passed as backend=) is not usable here: Python module "
        "'fancy_solver_lib_not_installed' is not installed; pip install \"gmp-moments[fancy]\"; "
        "a named backend is never replaced by another, so name a usable one "
        "(gmp.available_backends() lists them)")


# -- selection precedence --------------------------------------------------
def test_precedence_arg_context_env_pyproject_user_preference(isolated, monkeypatch):
    fakes = register_fakes("alpha", "beta", "gamma", "delta", "epsilon")
    project = isolated / "proj"
    (project / "src" / "deep").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.gmp]\nbackend = "delta"\n')
    monkeypatch.chdir(project / "src" / "deep")  # found in a parent directory
    user = registry.user_config_path()
    user.parent.mkdir(parents=True)
    user.write_text('backend = "epsilon"\n')
    monkeypatch.setenv("GMP_BACKEND", "gamma")
    with use_backend("beta"):
        assert resolve_backend("alpha") is fakes["alpha"]
        assert resolve_backend() is fakes["beta"]
    assert resolve_backend() is fakes["gamma"]
    monkeypatch.delenv("GMP_BACKEND")
    assert resolve_backend() is fakes["delta"]
    (project / "pyproject.toml").write_text("[tool.other]\nx = 1\n")
    assert resolve_backend() is fakes["epsilon"]
    user.unlink()
    assert resolve_backend().name == "cvxopt"  # the only usable one in PREFERENCE


def test_pyproject_is_parsed_again_only_when_it_changes(isolated, monkeypatch):
    fakes = register_fakes("ant", "bee")
    (isolated / "pyproject.toml").write_text('[tool.gmp]\nbackend = "ant"\n')
    monkeypatch.chdir(isolated)
    parses = []
    real_load = registry.tomllib.load
    monkeypatch.setattr(registry.tomllib, "load", lambda f: parses.append(1) or real_load(f))
    assert resolve_backend() is fakes["ant"]
    assert resolve_backend() is fakes["ant"]
    assert len(parses) == 1  # the second solve reuses the parsed file
    # same size, new content and a new mtime: read again
    (isolated / "pyproject.toml").write_text('[tool.gmp]\nbackend = "bee"\n')
    st = (isolated / "pyproject.toml").stat()
    os.utime(isolated / "pyproject.toml", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert resolve_backend() is fakes["bee"]
    assert len(parses) == 2


def test_nearest_pyproject_is_the_project(isolated, monkeypatch):
    register_fakes("outer")
    (isolated / "pyproject.toml").write_text('[tool.gmp]\nbackend = "outer"\n')
    inner = isolated / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[project]\nname = 'inner'\n")
    monkeypatch.chdir(inner)
    assert resolve_backend().name == "cvxopt"  # the outer project's setting does not leak in


def test_use_backend_nests_and_restores(isolated):
    fakes = register_fakes("one", "two")
    with use_backend("one") as chosen:
        assert chosen is fakes["one"]
        with pytest.raises(RuntimeError):
            with use_backend(fakes["two"]):
                assert resolve_backend() is fakes["two"]
                raise RuntimeError
        assert resolve_backend() is fakes["one"]
    assert resolve_backend().name == "cvxopt"
    with pytest.raises(UnknownBackendError):
        with use_backend("nope"):
            pass  # pragma: no cover


def test_use_backend_is_context_local(isolated):
    register_fakes("mine")
    seen = []
    with use_backend("mine"):
        worker = threading.Thread(target=lambda: seen.append(resolve_backend().name))
        worker.start()
        worker.join()
        assert resolve_backend().name == "mine"
    assert seen == ["cvxopt"]


def test_named_unusable_backend_is_never_swapped(isolated, monkeypatch):
    register_backend(ScriptedBackend(name="nolic", availability=NO_LICENCE))
    monkeypatch.setenv("GMP_BACKEND", "nolic")
    with pytest.raises(BackendNotAvailableError) as err:
        resolve_backend()
    assert str(err.value) == (
        "backend 'nolic' (from environment variable GMP_BACKEND) is not usable here: "
        "no licence found; set MOSEKLM_LICENSE_FILE; a named backend is never replaced by "
        "another, so name a usable one (gmp.available_backends() lists them)")


def test_unknown_name_from_env_says_where_it_came_from(isolated, monkeypatch):
    monkeypatch.setenv("GMP_BACKEND", "mosk")
    with pytest.raises(UnknownBackendError) as err:
        resolve_backend()
    assert str(err.value) == (
        "unknown backend 'mosk'; known backends: cvxopt; pass one of these or an instance "
        "of gmp.Backend (the name was from environment variable GMP_BACKEND)")


def test_preference_skips_unusable_and_fails_with_a_table(isolated, monkeypatch):
    register_backend(ScriptedBackend(name="nolic", availability=NO_LICENCE))
    monkeypatch.setattr(registry, "PREFERENCE", ["nolic", "cvxopt"])
    assert resolve_backend().name == "cvxopt"
    unregister_backend("cvxopt")
    with pytest.raises(BackendNotAvailableError) as err:
        resolve_backend()
    assert str(err.value) == (
        "no usable solver backend; install one (pip install cvxopt):\n"
        "backend  level       reason / remedy\n"
        "nolic    not usable  no licence found; remedy: set MOSEKLM_LICENSE_FILE")


def test_bad_config_files_raise_option_errors(isolated):
    (isolated / "pyproject.toml").write_text("[tool.gmp\nbackend = ")
    with pytest.raises(OptionError, match="cannot read .*pyproject.toml while looking for the gmp"):
        resolve_backend()
    assert resolve_backend("cvxopt").name == "cvxopt"  # an explicit name never reads config
    (isolated / "pyproject.toml").write_text("[tool.gmp]\nbackend = 3\n")
    with pytest.raises(OptionError) as err:
        resolve_backend()
    assert str(err.value) == (f"the backend setting in [tool.gmp] backend in {isolated / 'pyproject.toml'} "
                              "must be a backend name such as \"cvxopt\", got 3")


# -- availability ----------------------------------------------------------
class ProbeBackend(Backend):
    name = "probe"
    required_modules = ("lazy_probe_mod",)
    pip_extra = "probe"

    def solve(self, program, options):  # pragma: no cover - never reached
        raise AssertionError


def test_availability_does_not_import_until_asked(isolated, monkeypatch):
    (isolated / "lazy_probe_mod.py").write_text(
        "raise ImportError('libprobe.so: cannot open shared object file')\n")
    monkeypatch.syspath_prepend(str(isolated))
    probe = ProbeBackend()
    cheap = probe.availability()
    assert (cheap.installed, cheap.importable, cheap.usable, cheap.level) == (True, None, None, "installed")
    assert "lazy_probe_mod" not in sys.modules
    deep = probe.availability(check_import=True)
    assert deep.level == "not importable" and deep.usable is False
    assert deep.reason == ("import lazy_probe_mod failed with ImportError: "
                           "libprobe.so: cannot open shared object file")
    with pytest.raises(BackendNotAvailableError, match="backend 'probe' is not usable here: import"):
        probe.run(tiny_program())


def test_missing_module_availability_and_table(isolated):
    register_backend(ProbeBackend())
    register_backend(ScriptedBackend(name="nolic", availability=NO_LICENCE))
    records = available_backends()
    assert [name for name, _ in records] == ["cvxopt", "nolic", "probe"]
    assert str(records) == (
        "backend  level          reason / remedy\n"
        "cvxopt   usable\n"
        "nolic    not usable     no licence found; remedy: set MOSEKLM_LICENSE_FILE\n"
        "probe    not installed  Python module 'lazy_probe_mod' is not installed; "
        "remedy: pip install \"gmp-moments[probe]\"")
    assert repr(records) == str(records)


@pytest.mark.parametrize("av, level", [
    (Availability(False, False, False), "not installed"),
    (Availability(True), "installed"),
    (Availability(True, False, False), "not importable"),
    (Availability(True, True), "importable"),
    (Availability(True, True, False), "not usable"),
    (Availability(True, True, True), "usable"),
])
def test_availability_levels(av, level):
    assert av.level == level


# -- Backend.run with a scripted solver ------------------------------------
def test_run_fills_backend_name_and_wall_time():
    fake = ScriptedBackend([optimal()], name="fake")
    sol = fake.run(tiny_program(), {"tol": 1e-6})
    assert sol.backend == "fake" and sol.solve_time == 0.25 and sol.info["wall_time"] >= 0
    (program, options), = fake.calls
    assert options == SolverOptions(tol=1e-6)


def test_solver_exception_becomes_solver_error_status():
    fake = ScriptedBackend([RuntimeError("licence server down")], name="fake")
    sol = fake.run(tiny_program())
    assert sol.status is Status.SOLVER_ERROR and sol.raw_status == "RuntimeError"
    assert sol.message == ("fake failed with RuntimeError: licence server down; try another "
                           "backend (gmp.available_backends() lists them) or rescale "
                           "the problem")
    assert "Traceback" in sol.info["traceback"]


def test_misuse_inside_solve_still_raises():
    with pytest.raises(OptionError, match="bad extra"):
        ScriptedBackend([OptionError("bad extra")]).run(tiny_program())


@pytest.mark.parametrize("response, message", [
    (ConicSolution(Status.OPTIMAL, "ok", "no x"),
     "backend 'scripted' reported optimal without a primal point x"),
    (dataclasses.replace(optimal(), x=np.zeros(3)),
     "backend 'scripted' returned x of shape (3,), expected (1,)"),
    (dataclasses.replace(optimal(), Z_psd=(np.zeros((2, 2)),)),
     "backend 'scripted' returned Z_psd of shapes ((2, 2),), expected ((1, 1),)"),
    (lambda program, options: {"status": "optimal"},
     "backend 'scripted' must return a ConicSolution, got dict"),
])
def test_contract_violations_raise_backend_error(response, message):
    with pytest.raises(BackendError) as err:
        ScriptedBackend([response]).run(tiny_program())
    assert str(err.value) == message


def test_scripted_backend_runs_out_loudly():
    fake = ScriptedBackend([optimal()])
    fake.run(tiny_program())
    with pytest.raises(BackendError, match="ran out of responses after 1 call"):
        fake.run(tiny_program())


def test_run_rejects_non_programs():
    with pytest.raises(GMPError, match="a backend solves a gmp.conic.ConicProgram, got dict"):
        ScriptedBackend([]).run({"c": [1.0]})


# -- options ---------------------------------------------------------------
def test_options_from_any():
    assert SolverOptions.from_any(None) == SolverOptions()
    opts = SolverOptions(tol=1e-8)
    assert SolverOptions.from_any(opts) is opts
    got = SolverOptions.from_any({"tol": 1e-7, "max_iters": np.int64(30), "verbose": np.True_,
                                  "extra": {"refinement": 1}})
    assert (got.tol, got.max_iters, got.verbose, got.extra) == (1e-7, 30, True, {"refinement": 1})
    assert type(got.max_iters) is int and type(got.verbose) is bool
    assert got.given() == {"tol": 1e-7, "max_iters": 30, "verbose": True, "extra": {"refinement": 1}}
    with pytest.raises(dataclasses.FrozenInstanceError):
        got.tol = 1.0


def test_options_copy_extra():
    extra = {"refinement": 1}
    opts = SolverOptions(extra=extra)
    extra["refinement"] = 5
    assert opts.extra == {"refinement": 1}


@pytest.mark.parametrize("given, message", [
    ({"maxiter": 10}, "unknown solver option 'maxiter' (did you mean 'max_iters'?); valid options "
                      "are: tol, max_iters, verbose, time_limit, extra; put backend-specific "
                      "options in extra={...}"),
    ({"solver": "x"}, "unknown solver option 'solver'; valid options are: tol, max_iters, verbose, "
                      "time_limit, extra; put backend-specific options in extra={...}"),
    ({"max_iters": "10"}, "solver option max_iters must be a positive integer or None, got '10' "
                          "(str); pass e.g. max_iters=200"),
    ({"max_iters": 0}, "solver option max_iters must be a positive integer or None, got 0 (int); "
                       "pass e.g. max_iters=200"),
    ({"max_iters": True}, "solver option max_iters must be a positive integer or None, got True "
                          "(bool); pass e.g. max_iters=200"),
    ({"tol": -1}, "solver option tol must be a positive finite number or None, got -1.0; "
                  "pass e.g. tol=1e-8"),
    ({"tol": "1e-8"}, "solver option tol must be a positive number or None, got '1e-8' (str); "
                      "pass e.g. tol=1e-8"),
    ({"time_limit": float("inf")}, "solver option time_limit must be a positive finite number or "
                                   "None, got inf; pass e.g. time_limit=60.0"),
    ({"verbose": 1}, "solver option verbose must be True or False, got 1 (int)"),
    ({"extra": [("refinement", 1)]}, "solver option extra must be a dict of backend-specific "
                                     "options, got [('refinement', 1)] (list); pass e.g. "
                                     "extra={'refinement': 2}"),
])
def test_option_errors(given, message):
    with pytest.raises(OptionError) as err:
        SolverOptions.from_any(given)
    assert str(err.value) == message


def test_options_of_the_wrong_kind():
    with pytest.raises(OptionError) as err:
        SolverOptions.from_any([("tol", 1e-8)])
    assert str(err.value) == ("solver options must be None, a dict or a SolverOptions, "
                              "got [('tol', 1e-08)] (list)")
