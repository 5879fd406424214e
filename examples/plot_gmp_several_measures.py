"""
A generalized moment problem with two measures
==============================================

Chebyshev's inequality as an optimization over probability laws: the largest
:math:`P(|X| \\ge 2)` over all laws with mean 0 and variance 1. Split the law into its
part on :math:`\\{x^2 \\ge 4\\}` (measure ``tail``) and the rest (measure ``rest``); the
moment constraints tie the two, and the objective is the mass of ``tail``. The answer is
Chebyshev's bound :math:`1/4`, attained by atoms at :math:`\\pm 2` of weight :math:`1/8`
each and the rest of the mass at 0.
"""
import matplotlib.pyplot as plt
import numpy as np

import gmp

x, y = gmp.variables("x"), gmp.variables("y")
tail = gmp.Measure(x, support=[x**2 >= 4], name="tail")
rest = gmp.Measure(y, name="rest")
prob = gmp.GMP(gmp.maximize(tail.E(1)),
               [tail.E(1) + rest.E(1) == 1,          # a probability law
                tail.E(x) + rest.E(y) == 0,          # mean 0
                tail.E(x**2) + rest.E(y**2) == 1])   # variance 1
res = prob.solve(order=3)
print(res)

# %%
# Each measure has its own atoms; together they form the extremal law.
for name, atoms in zip(("tail", "rest"), res.atoms_per_measure):
    print(name, "atoms", np.round(atoms.points.ravel(), 6), "weights", np.round(atoms.weights, 6))

fig, ax = plt.subplots(figsize=(6, 3.5))
for (name, atoms), color in zip(zip(("tail", "rest"), res.atoms_per_measure), ("C3", "C0")):
    ax.stem(atoms.points.ravel(), atoms.weights, linefmt=color, markerfmt=color + "o", basefmt=" ", label=name)
ax.axvspan(-3, -2, color="C3", alpha=0.1)
ax.axvspan(2, 3, color="C3", alpha=0.1, label="|x| >= 2")
ax.set_xlim(-3, 3)
ax.set_xlabel("x")
ax.set_ylabel("probability")
ax.set_title(f"largest P(|X| >= 2) = {res.bound:.4f} (certified: {res.certified})")
ax.legend()
fig.tight_layout()
