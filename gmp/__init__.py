"""gmp-moments: the Generalized Moment Problem in Python.

Layers: ``gmp`` (polynomials, moments, relaxations, flatness, extraction, the
backend protocol and registry — imports no solver), ``gmp_backends`` (the SDP
solvers, found through the ``gmp.backends`` entry points), ``polymom_apps``
(mixture models as GMPs). The pipeline steps are public: :func:`relax` →
:func:`run` → :func:`certify` → :func:`package`; :func:`solve` loops over them.
"""
from __future__ import annotations

from .backend import Availability, Backend
from .certify import Certification, certify
from .conic import ConicProgram, ConicSolution, PSDBlock
from .dispatch import run
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
from .extraction import Atoms, ExtractionFailure, atoms_to_moments, extract_atoms
from .flatness import FlatnessReport, flatness  # the function; the module is sys.modules["gmp.flatness"]
from .moments import MomentSequence
from .monomials import basis, count
from .options import SolverOptions
from .package import package
from .polynomial import Constraint, Polynomial, Variable, as_polynomial, from_sympy, polysum, variables
from .problem import GMP, Measure, MomentConstraint, MomentExpr, Objective, maximize, minimize
from .rank import FixedRank, RankRule, RelativeTolerance, SpectralGap, as_rank_rule, numerical_rank
from .registry import available_backends, register_backend, resolve_backend, use_backend
from .relaxation import RelaxationMap, build_relaxation, relax
from .result import AtomCheck, Result
from .size import RelaxationSize, relaxation_size, set_size_limit
from .solve import solve, solve_gmp
from .sparsity import Sparsity
from .status import Status

__version__ = "0.1.0"


__all__ = [
    "variables", "Variable", "Polynomial", "Constraint", "as_polynomial", "from_sympy", "polysum",
    "basis", "count", "MomentSequence",
    "Measure", "MomentExpr", "MomentConstraint", "Objective", "GMP", "minimize", "maximize",
    "ConicProgram", "ConicSolution", "PSDBlock", "RelaxationMap", "build_relaxation",
    "relax", "run", "certify", "Certification", "package",
    "RelaxationSize", "relaxation_size", "set_size_limit",
    "Result", "AtomCheck", "Status", "solve", "solve_gmp",
    "Backend", "Availability", "SolverOptions", "available_backends", "register_backend",
    "resolve_backend", "use_backend",
    "Sparsity",
    "extract_atoms", "atoms_to_moments", "Atoms", "ExtractionFailure", "flatness", "FlatnessReport",
    "RankRule", "RelativeTolerance", "SpectralGap", "FixedRank", "numerical_rank", "as_rank_rule",
    "GMPError", "ModelError", "OrderError", "MissingMomentError", "BackendNotAvailableError",
    "UnknownBackendError", "BackendError", "OptionError",
]
