"""Solver backends of gmp-moments: one module per SDP solver behind one interface.

A backend turns a :class:`gmp.conic.ConicProgram` into a
:class:`gmp.conic.ConicSolution`; solver libraries are imported lazily, inside
the backend that needs them. See :mod:`gmp_backends.registry` for how a
backend is chosen.

>>> from gmp_backends import available_backends
>>> print(available_backends())          # doctest: +SKIP
backend  level   reason / remedy
cvxopt   usable
"""
from .base import Availability, Backend
from .options import SolverOptions
from .registry import (
    available_backends,
    get_backend,
    refresh,
    register_backend,
    resolve_backend,
    unregister_backend,
    use_backend,
)

__all__ = [
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
