"""
A first polynomial optimization problem and its certificate
===========================================================

Minimize the six-hump camel function of Dixon and Szegő,

.. math:: f(x, y) = 4x^2 - 2.1x^4 + x^6/3 + xy - 4y^2 + 4y^4,

over the plane. :func:`gmp.solve` builds the Lasserre moment relaxation, solves it, and
checks whether the moment matrix is *flat* (Curto–Fialkow): only then is the bound the
global minimum and the extracted atoms the global minimizers.
"""
import matplotlib.pyplot as plt
import numpy as np

import gmp
from gmp.plotting import plot_moment_spectrum

x, y = gmp.variables("x y")
f = 4 * x**2 - 2.1 * x**4 + x**6 / 3 + x * y - 4 * y**2 + 4 * y**4
res = gmp.solve(f, order="auto")
print(res)

# %%
# The certificate: ``certified`` is True only at a flat order; the ranks of
# ``M_0, ..., M_r`` say why, and ``atom_checks`` re-evaluates each atom.
print("certified:", res.certified, "| bound:", res.bound, "| ranks per order:", res.ranks[0])
print(res.flatness[0])
for check in res.atom_checks:
    print(f"atom {np.round(check.point, 6)}: objective gap {check.objective_gap:.1e}, ok={check.ok}")

# %%
# The spectrum of each moment matrix: two singular values stand three decades above the
# rest at orders 1 and 2, so ``rank M_1 = rank M_2 = 2`` (flat, two minimizers); at order 3
# no gap qualifies and the full rank is kept, which is the safe call.
fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(10, 4))
plot_moment_spectrum(res, ax0, rule=1e-4)

xs, ys = np.meshgrid(np.linspace(-2, 2, 200), np.linspace(-1.2, 1.2, 200))
pts = np.column_stack([xs.ravel(), ys.ravel()])
vals = f.evaluate(pts, [x, y]).reshape(xs.shape)
ax1.contour(xs, ys, vals, levels=np.linspace(-1.1, 3, 25), cmap="viridis")
ax1.scatter(*res.minimizers.T, color="red", marker="*", s=150, zorder=3, label="certified minimizers")
ax1.set_xlabel("x")
ax1.set_ylabel("y")
ax1.legend(loc="upper right")
ax1.set_title("six-hump camel")
fig.tight_layout()
