"""Helpers shared by the benchmark scripts in this folder (not part of the package).

The scripts are run as ``python bench/<name>.py``, which puts this folder on
``sys.path``, so they import this module as ``_common``.
"""
from __future__ import annotations

import os
import platform

import numpy as np

import gmp
from gmp.monomials import basis


def dense_ball_problem(n: int, r: int, seed: int = 0) -> gmp.GMP:
    """min L(f) over probability measures on the unit ball; f dense of degree 2r."""
    x = gmp.variables("x", n)
    exps = basis(n, 2 * r)
    coefs = np.random.default_rng(seed).standard_normal(exps.shape[0])
    f = gmp.Polynomial([xi.vars[0] for xi in x], exps, coefs)
    mu = gmp.Measure(x, support=[1 - sum(xi**2 for xi in x) >= 0])
    return gmp.GMP(gmp.minimize(mu.E(f)))


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> str:
    """1-minute load average: other processes on the machine distort wall-clock figures."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (OSError, AttributeError):  # not available on every platform
        return "n/a"


def package_version(name: str, missing: str = "not installed") -> str:
    """The installed version of ``name`` without importing it, or ``missing``."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return missing
