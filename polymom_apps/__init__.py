"""Polymom: mixture models estimated by the method of moments as GMPs on the parameter measure [WCL15].

>>> import numpy as np, polymom_apps as pa                       # doctest: +SKIP
>>> spec = pa.models.gaussian_1d(6)                                # doctest: +SKIP
>>> res = pa.estimate(spec, X, n_components=2)                     # doctest: +SKIP
>>> res.params, res.weights                                        # doctest: +SKIP

See docs/polymom.md.
"""
from . import constraints, models
from .constraints import Tied
from .empirical import empirical_moments, moment_covariance
from .estimate import EstimateResult, default_order, estimate, estimate_from_moments
from .results import EstimateStatus
from .spec import MixtureSpec, Standardized

__all__ = [
    "MixtureSpec", "Standardized", "estimate", "estimate_from_moments", "EstimateResult", "EstimateStatus",
    "default_order",
    "empirical_moments", "moment_covariance", "constraints", "models", "Tied",
    "PolymomGaussianMixture", "PolymomLinearRegressionMixture",
]

_ESTIMATORS = ("PolymomGaussianMixture", "PolymomLinearRegressionMixture")


def __getattr__(name: str) -> type:
    # The estimators need scikit-learn (an extra): imported on first use, so that
    # ``import polymom_apps`` works without it.
    if name in _ESTIMATORS:
        from . import estimators

        return getattr(estimators, name)
    raise AttributeError(f"module 'polymom_apps' has no attribute {name!r}")
