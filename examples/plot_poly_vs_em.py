"""
Polymom against EM
==================

EM (scikit-learn's ``GaussianMixture``) climbs the likelihood from an initial guess and
may stop at a local maximum; Polymom solves one convex relaxation of the moment
equations, with no initial guess, and its estimate is a good start for EM ("Poly + EM",
``refine="em"``). Here a 1-d mixture of three overlapping components.
"""
import time

import matplotlib.pyplot as plt
import numpy as np
from sklearn.mixture import GaussianMixture

from polymom_apps import PolymomGaussianMixture
from polymom_apps.experiments.synthetic import sample_gaussians
from polymom_apps.plotting import plot_mixture

rng = np.random.default_rng(1)
M, V, w = np.array([[-3.0], [0.0], [2.5]]), np.array([[1.0], [0.5], [1.5]]), np.array([0.3, 0.3, 0.4])
X = sample_gaussians(M, V, w, 10_000, rng)

fits = {}
for name, est in [("Polymom", PolymomGaussianMixture(3, random_state=0)),
                  ("Poly + EM", PolymomGaussianMixture(3, refine="em", random_state=0)),
                  ("EM, one random start", GaussianMixture(3, init_params="random", n_init=1, random_state=2)),
                  ("EM, k-means, 5 starts", GaussianMixture(3, n_init=5, random_state=0))]:
    t0 = time.perf_counter()
    est.fit(X)
    fits[name] = est
    order = np.argsort(est.means_[:, 0])
    print(f"{name:22s} means {np.round(est.means_[order, 0], 3)}  weights {np.round(est.weights_[order], 3)}  "
          f"mean log-likelihood {est.score(X):.5f}  ({time.perf_counter() - t0:.2f} s)")

# %%
# Polymom (solid) against EM from k-means (dashed), over the data.
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4))
plot_mixture(fits["Polymom"], X, ax0, overlay=fits["EM, k-means, 5 starts"])
ax0.set_title("Polymom (solid) and EM (dashed)")
plot_mixture(fits["Poly + EM"], X, ax1, components=False)
ax1.set_title("Poly + EM")
fig.tight_layout()
