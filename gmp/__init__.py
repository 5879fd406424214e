"""gmp-moments: the Generalized Moment Problem in Python.

>>> import gmp
>>> x = gmp.variables("x", 2)
>>> res = gmp.solve(x[0]**2 + x[1]**2 - 2*x[0], [1 - x[0]**2 - x[1]**2 >= 0])   # doctest: +SKIP
>>> res.certified, round(res.bound, 6), res.atoms.points                           # doctest: +SKIP
(True, -1.0, array([[1., 0.]]))

Layers: ``gmp`` (polynomials, moments, relaxations, flatness, extraction —
imports no solver), ``gmp_backends`` (SDP solvers behind one interface),
``polymom_apps`` (mixture models as GMPs).
"""
from __future__ import annotations

from .conic import ConicProgram, ConicSolution, PSDBlock
from .errors import (
    BackendError,
    BackendNotAvailableError,
    GMPError,
    MissingMomentError,
    ModelError,
    OptionError,
    OrderError,
    UnknownBackendError,
)
from .moments import MomentSequence
from .monomials import basis, count
from .polynomial import Constraint, Polynomial, Variable, as_polynomial, from_sympy, polysum, variables
from .problem import GMP, Measure, MomentConstraint, MomentExpr, Objective, maximize, minimize
from .relaxation import RelaxationMap, build_relaxation
from .result import AtomCheck, Result
from .solve import solve, solve_gmp
from .status import Status
from .rank import FixedRank, RankRule, RelativeTolerance, SpectralGap, as_rank_rule, numerical_rank
from .flatness import FlatnessReport, flatness   # the function; the module is sys.modules["gmp.flatness"]
from .extraction import Atoms, ExtractionFailure, atoms_to_moments, extract_atoms
from .sparsity import Sparsity

__version__ = "0.1.0"


def available_backends():
    """Every known SDP backend, usable or not, with the reason and the remedy."""
    from gmp_backends import available_backends as _ab

    return _ab()


__all__ = [
    "variables", "Variable", "Polynomial", "Constraint", "as_polynomial", "from_sympy", "polysum",
    "basis", "count", "MomentSequence",
    "Measure", "MomentExpr", "MomentConstraint", "Objective", "GMP", "minimize", "maximize",
    "ConicProgram", "ConicSolution", "PSDBlock", "RelaxationMap", "build_relaxation",
    "Result", "AtomCheck", "Status", "solve", "solve_gmp", "available_backends", "Sparsity",
    "extract_atoms", "atoms_to_moments", "Atoms", "ExtractionFailure", "flatness", "FlatnessReport",
    "RankRule", "RelativeTolerance", "SpectralGap", "FixedRank", "numerical_rank", "as_rank_rule",
    "GMPError", "ModelError", "OrderError", "MissingMomentError", "BackendNotAvailableError",
    "UnknownBackendError", "BackendError", "OptionError",
]
