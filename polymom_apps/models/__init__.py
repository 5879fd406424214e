"""Built-in mixture models, one family per module [WCL15, Table 2]."""
from .gaussian_1d import gaussian_1d, gaussian_moment_poly
from .gaussian_nd import gaussian_nd
from .linear_regression import gaussian_x_moments, linear_regression
from .multiview import multiview
from .poisson import poisson

__all__ = ["gaussian_1d", "gaussian_moment_poly", "gaussian_nd", "linear_regression", "gaussian_x_moments",
           "multiview", "poisson"]
