"""A toy third-party backend: the cvxopt backend under another name.

The smallest plugin: a :class:`gmp_backends.Backend` subclass declared in the
entry-point group ``gmp.backends`` of its distribution (see pyproject.toml)::

    [project.entry-points."gmp.backends"]
    toy = "gmp_toy_backend:ToyBackend"
"""
from __future__ import annotations

from gmp.conic import ConicProgram, ConicSolution
from gmp_backends import Backend, SolverOptions, get_backend
from gmp_backends.cvxopt_backend import CvxoptBackend

__all__ = ["ToyBackend"]


class ToyBackend(Backend):
    """Delegates every solve to the built-in cvxopt backend (same options, same answers)."""

    name = "toy"
    required_modules = CvxoptBackend.required_modules
    supported_options = CvxoptBackend.supported_options
    option_notes = CvxoptBackend.option_notes

    def solve(self, program: ConicProgram, options: SolverOptions) -> ConicSolution:
        return get_backend("cvxopt").solve(program, options)
