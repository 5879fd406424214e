"""Solver backends of gmp-moments: one module per SDP solver behind gmp's backend protocol.

A backend turns a :class:`gmp.conic.ConicProgram` into a
:class:`gmp.conic.ConicSolution`; solver libraries are imported lazily, inside
the backend that needs them. The backends are declared in the ``gmp.backends``
entry-point group, where :mod:`gmp.registry` finds them and chooses one; the
registry's functions are re-exported here.

>>> from gmp_backends import available_backends
>>> print(available_backends())          # doctest: +SKIP
backend  level   reason / remedy
cvxopt   usable
"""
from gmp.backend import Availability, Backend
from gmp.options import SolverOptions
from gmp.registry import (
    available_backends,
    get_backend,
    refresh,
    register_backend,
    resolve_backend,
    unregister_backend,
    use_backend,
)

#: The backends this package provides (declared as ``gmp.backends`` entry points in pyproject.toml).
BUILTINS: tuple[str, ...] = ("cvxopt", "mosek", "clarabel", "scs", "picos")

__all__ = [
    "BUILTINS",
    "Backend",
    "Availability",
    "SolverOptions",
    "get_backend",
    "resolve_backend",
    "use_backend",
    "available_backends",
    "register_backend",
    "refresh",
    "unregister_backend",
]
