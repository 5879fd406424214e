"""
A Gaussian mixture with constraints on its components
=====================================================

Polymom estimates a mixture by the method of moments as a GMP on the measure over one
component's parameters; a constraint on the parameters is a support constraint of that
measure, so every estimated component satisfies it. Here each component's mean lies on
the line :math:`\\xi_1 + \\xi_2 = 1` (the "constrained" row of Table 3 of Wang, Chaganty
& Liang, 2015).
"""
import matplotlib.pyplot as plt
import numpy as np

from polymom_apps import PolymomGaussianMixture
from polymom_apps.experiments.synthetic import sample_gaussians
from polymom_apps.plotting import plot_mixture

rng = np.random.default_rng(0)
M = np.array([[0.3, 0.7], [1.6, -0.6]])          # both means on x1 + x2 = 1
V = np.array([[0.5, 0.3], [0.4, 0.6]])
X = sample_gaussians(M, V, np.array([0.45, 0.55]), 20_000, rng)


def on_the_line(p):
    """One component's parameters are (xi1, xi2, c1, c2): its mean on xi1 + xi2 = 1."""
    return [p[0] + p[1] == 1]


free = PolymomGaussianMixture(2, covariance_type="diag", random_state=0).fit(X)
tied = PolymomGaussianMixture(2, covariance_type="diag", constraints=on_the_line, random_state=0).fit(X)
print("unconstrained means:\n", np.round(free.means_, 3), "\nsums", np.round(free.means_.sum(axis=1), 4))
print("constrained means:\n", np.round(tied.means_, 3), "\nsums", np.round(tied.means_.sum(axis=1), 6))
print("free parameters:", free.n_parameters_, "->", tied.n_parameters_, "| BIC", round(free.bic(X)), "->",
      round(tied.bic(X)))

# %%
# The constrained fit (solid) and the unconstrained one (dashed) over the data; the line
# holds both constrained means.
fig, ax = plt.subplots(figsize=(6, 5))
plot_mixture(tied, X, ax, overlay=free, max_points=3000, label="constrained", overlay_label="unconstrained")
t = np.linspace(-1.5, 3.0, 2)
ax.plot(t, 1 - t, color="k", linewidth=1, label="x1 + x2 = 1")
ax.legend(fontsize=8)
ax.set_title("means constrained to a line")
fig.tight_layout()
