"""A mixture model as Polymom sees it [WCL15, Sec. 2]: parameters, observations, moment polynomials.

:class:`MixtureSpec` holds one component's parameters ``theta``, the observation functions
``phi_n(x)`` and their conditional expectations ``f_n(theta) = E[phi_n(x) | theta]`` as
polynomials: linear moment constraints on the parameter measure, which
:func:`polymom_apps.estimate` solves (docs/polymom.md, "Writing a model").

>>> import gmp
>>> xi, c = gmp.variables("xi c")
>>> spec = MixtureSpec((xi, c), lambda X: np.column_stack([X[:, 0], X[:, 0] ** 2]),
...                    [xi, xi**2 + c], name="1-d Gaussian, 2 moments")
>>> spec.n_params, spec.n_moments
(2, 2)
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gmp import ModelError, Polynomial

__all__ = ["MixtureSpec", "Standardized"]


@dataclass(frozen=True, eq=False)
class Standardized:
    """Data mapped to a well-conditioned scale, and the way back for the estimates.

    Attributes
    ----------
    X : ndarray
        The standardized data.
    spec : MixtureSpec
        The spec to use on ``X`` (a model with a known constant, such as a known
        noise level, rescales it here).
    params_back : callable (K, P) -> (K, P)
        Maps parameters estimated on ``X`` back to the original units.
    description : str
    param_offset, param_scale : ndarray of shape (P,) or None
        When ``params_back`` is affine per parameter, ``theta = offset + scale * theta_z``;
        then constraints written in the data's units are mapped to the standardized ones.
    """

    X: np.ndarray
    spec: MixtureSpec
    params_back: Callable[[np.ndarray], np.ndarray]
    description: str = ""
    param_offset: np.ndarray | None = None
    param_scale: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class MixtureSpec:
    """A mixture model: parameters, observation functions, moment polynomials.

    Parameters
    ----------
    parameters : tuple of gmp variables
        ``theta`` of one component, ``P`` of them; columns of the estimated parameters.
    observations : callable
        ``observations(X) -> Phi`` with ``X`` of shape (T, data_dim) and ``Phi`` of shape
        (T, N), vectorized over the rows.
    moment_polys : sequence of N gmp polynomials, or callable ``X -> sequence``
        ``f_n(theta) = E[phi_n(x) | theta]`` in the parameters only. A callable builds
        them from the data when the coefficients depend on it (mixture of linear
        regressions: ``E[x^alpha]`` from the sample).
    name : str
    data_dim : int or None
        Number of columns of ``X`` the model expects (checked by :meth:`check_data`).
    standardize : callable ``X -> Standardized`` or None
        How to bring the data to unit scale and map estimates back; None estimates on
        the raw data.
    param_names : tuple of str
        Labels of the parameters (defaults to the variable names).
    support : tuple of gmp constraints
        Constraints every component satisfies by the model's definition (variances and
        rates ``>= 0``); :func:`polymom_apps.estimate` always adds them (localizing
        matrices). Written in the parameters, valid on the standardized scale too.
    default_method : {"robust", "exact"}
        What :func:`polymom_apps.estimate` does with ``method=None`` (its default) on
        sample moments. ``"exact"`` suits models whose moment polynomials are distinct
        monomials (multiview): the equalities only fix moments and stay consistent on
        sample moments; ``estimate`` falls back to ``"robust"`` if they are infeasible.
    moment_basis : callable ``r -> exponents`` or None
        A sub-basis of ``M_r`` (:mod:`gmp.subbasis`): an integer array (k, P) of the
        monomials whose principal submatrix of ``M_r`` suffices for this model, in the
        order of ``parameters``; must contain 1 and, for each parameter ``x_i``, pairs
        ``(u, x_i u)`` to read the atoms. None uses the whole graded basis. Multiview
        mixtures need only the monomials of degree ``<= 1`` in each view.
    log_density : callable ``(X, params) -> L`` or None
        ``L[t, k] = log p(x_t | theta_k)`` of shape (T, K) for data ``X`` (T, data_dim)
        and parameters (K, P), in the units of this spec (a conditional density, such as
        ``p(y | x)`` for regressions, serves as well: the likelihoods it compares share
        the factor ``p(x)``). Optional: when given, :func:`polymom_apps.estimate` chooses
        among its candidate fits of the moments by the likelihood of the data.
    """

    parameters: tuple
    observations: Callable[[np.ndarray], np.ndarray]
    moment_polys: Sequence[Polynomial] | Callable[[np.ndarray], Sequence[Polynomial]]
    name: str = "mixture"
    data_dim: int | None = None
    standardize: Callable[[np.ndarray], Standardized] | None = field(default=None, repr=False)
    param_names: tuple[str, ...] = ()
    support: tuple = ()
    default_method: str = "robust"
    moment_basis: Callable[[int], np.ndarray] | None = field(default=None, repr=False)
    log_density: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        params = self.parameters
        if isinstance(params, Polynomial):
            params = (params,)
        params = tuple(params)
        if not params:
            raise ModelError("a MixtureSpec needs at least one parameter variable, got none")
        for k, p in enumerate(params):
            if not (isinstance(p, Polynomial) and p.n_terms == 1 and p.degree == 1
                    and len(p.vars) == 1 and p.coefs[0] == 1.0):
                raise ModelError(
                    f"parameter {k} must be a gmp variable (from gmp.variables(...)), got {p!r}"
                )
        if len({id(p.vars[0]) for p in params}) != len(params):
            raise ModelError("a parameter is listed twice in parameters; list each variable once")
        object.__setattr__(self, "parameters", params)
        if self.default_method not in ("robust", "exact"):
            raise ModelError(f"default_method must be 'robust' or 'exact', got {self.default_method!r}")
        if self.moment_basis is not None and not callable(self.moment_basis):
            raise ModelError(
                f"moment_basis must be a callable r -> exponent array or None, got {type(self.moment_basis).__name__}"
            )
        if self.log_density is not None and not callable(self.log_density):
            raise ModelError(
                "log_density must be a callable (X, params) -> (T, K) array or None, "
                f"got {type(self.log_density).__name__}"
            )
        if not callable(self.observations):
            raise ModelError(
                f"observations must be a callable X -> Phi of shape (T, N), got {type(self.observations).__name__}"
            )
        if not self.param_names:
            object.__setattr__(self, "param_names", tuple(p.vars[0].name for p in params))
        if not callable(self.moment_polys):
            object.__setattr__(self, "moment_polys", self.validate_polys(self.moment_polys))
        from gmp import Constraint

        sup = tuple(self.support)
        own = {id(v) for v in self.variables}
        for k, c in enumerate(sup):
            if not isinstance(c, Constraint) or any(id(v) not in own for v in c.expr.vars):
                raise ModelError(
                    f"support constraint {k} of the model must be a gmp constraint in the parameters "
                    f"({', '.join(self.param_names)}), got {c!r}"
                )
        object.__setattr__(self, "support", sup)

    # -- sizes -----------------------------------------------------------
    @property
    def n_params(self) -> int:
        return len(self.parameters)

    @property
    def n_moments(self) -> int | None:
        """N, or None when the moment polynomials are built from the data."""
        return None if callable(self.moment_polys) else len(self.moment_polys)

    @property
    def variables(self) -> tuple:
        return tuple(p.vars[0] for p in self.parameters)

    # -- validation --------------------------------------------------------
    def validate_polys(self, polys: Any) -> tuple[Polynomial, ...]:
        """Check that every ``f_n`` is a gmp polynomial in the parameters only."""
        try:
            polys = list(polys)
        except TypeError:
            raise ModelError(
                f"moment_polys must be a sequence of gmp polynomials (or a callable X -> sequence), "
                f"got {type(polys).__name__}"
            ) from None
        if not polys:
            raise ModelError("moment_polys is empty: give one polynomial f_n(theta) per observation function")
        names = ", ".join(self.param_names) if self.param_names else ", ".join(p.vars[0].name for p in self.parameters)
        own = {id(v) for v in self.variables}
        out = []
        for n, f in enumerate(polys):
            if isinstance(f, (int, float, np.floating, np.integer)) and not isinstance(f, bool):
                f = Polynomial.constant(float(f))
            if not isinstance(f, Polynomial):
                raise ModelError(
                    f"moment polynomial {n} must be a gmp polynomial in the parameters ({names}), "
                    f"got {type(f).__name__} {f!r}"
                )
            foreign = [v.name for v in f.vars if id(v) not in own]
            if foreign:
                raise ModelError(
                    f"moment polynomial {n} ({f}) uses symbol {', '.join(foreign)}, which is not a "
                    f"parameter of the model ({names}); add it to parameters, or, if it is a known "
                    "quantity or a moment of the data, substitute its value (data-dependent "
                    "coefficients: pass moment_polys as a callable X -> polynomials)"
                )
            out.append(f)
        return tuple(out)

    def polys_for(self, X: Any) -> tuple[Polynomial, ...]:
        """The moment polynomials for data ``X`` (validated)."""
        polys = self.moment_polys(X) if callable(self.moment_polys) else self.moment_polys
        return self.validate_polys(polys)

    def check_data(self, X: Any) -> np.ndarray:
        """``X`` as a float array of shape (T, data_dim); raises on wrong shapes."""
        from .empirical import check_data

        return check_data(X, self.data_dim, what=f"data for the {self.name} model")

    def moment_matrix_at(self, params: np.ndarray, polys: Sequence[Polynomial]) -> np.ndarray:
        """``F[n, k] = f_n(theta_k)`` for parameters of shape (K, P); shape (N, K)."""
        pts = np.atleast_2d(np.asarray(params, dtype=float))
        return np.stack([f.evaluate(pts, self.parameters) for f in polys])

    def population_moments(self, params: np.ndarray, weights: np.ndarray,
                           polys: Sequence[Polynomial] | None = None) -> np.ndarray:
        """``E[phi_n] = sum_k pi_k f_n(theta_k)`` for a mixture, shape (N,)."""
        polys = self.polys_for(None) if polys is None else self.validate_polys(polys)
        return self.moment_matrix_at(params, polys) @ np.asarray(weights, dtype=float)

    def __repr__(self) -> str:
        n = "data-dependent" if self.n_moments is None else str(self.n_moments)
        return f"MixtureSpec({self.name!r}, parameters=({', '.join(self.param_names)}), {n} moments)"
