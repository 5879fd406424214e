"""Assembly of the relaxation's linear rows (gmp.relaxation.build_relaxation).

Independent truth: the rows applied to the exact moments of atomic measures give the
moment expressions evaluated at the atoms, polynomial by polynomial.
"""
import numpy as np
import pytest

import gmp
from gmp.moments import MomentSequence


def _two_measures():
    x1, x2 = gmp.variables("x1 x2")
    z = gmp.variables("z")
    mu = gmp.Measure([x1, x2], [1 - x1 ** 2 - x2 ** 2 >= 0], mass=None, name="mu")
    nu = gmp.Measure([z], [z * (1 - z) >= 0], mass=None, name="nu")
    exprs = [  # (constraint, callable giving its expression's value from the atoms)
        (mu.E(x1 ** 2 + 3 * x1 * x2) + nu.E(z ** 3) == 2,
         lambda P, w, Q, v: w @ (P[:, 0] ** 2 + 3 * P[:, 0] * P[:, 1]) + v @ Q[:, 0] ** 3 - 2),
        (mu.E(x2) >= -1, lambda P, w, Q, v: w @ P[:, 1] + 1),
        (mu.E(x1) - mu.E(x1) + nu.E(z) <= 5, lambda P, w, Q, v: 5 - v @ Q[:, 0]),   # cancelling terms
        (mu.E(x1 * x2) + mu.E(2 * x1 * x2) + nu.E(1) == 0.5,                        # merged terms, a mass
         lambda P, w, Q, v: 3 * w @ (P[:, 0] * P[:, 1]) + v.sum() - 0.5),
        (nu.E(z ** 2) - mu.E(x2 ** 3) >= 0, lambda P, w, Q, v: v @ Q[:, 0] ** 2 - w @ P[:, 1] ** 3),
    ]
    prob = gmp.GMP(gmp.minimize(mu.E(x1) + nu.E(z)), [c for c, _ in exprs], [mu, nu])
    return prob, mu, nu, [f for _, f in exprs], [c.kind for c, _ in exprs]


@pytest.mark.parametrize("order", [2, 3])
def test_moment_constraint_rows_are_the_riesz_functional(order):
    prob, mu, nu, values, kinds = _two_measures()
    program, rmap = gmp.build_relaxation(prob, order)
    rng = np.random.default_rng(0)
    P, w = rng.uniform(-0.7, 0.7, (3, 2)), rng.uniform(0.2, 1.0, 3)
    Q, v = rng.uniform(0, 1, (2, 1)), rng.uniform(0.2, 1.0, 2)
    y = np.concatenate([MomentSequence.from_atoms(mu.variables, P, w, 2 * order).values,
                        MomentSequence.from_atoms(nu.variables, Q, v, 2 * order).values])
    truth = np.array([f(P, w, Q, v) for f in values])
    eq = np.array([k == "==" for k in kinds])
    # no localizing equalities and free masses: the equality rows are the == constraints, in order
    assert program.n_eq == eq.sum() and program.n_ineq == (~eq).sum()
    np.testing.assert_allclose(program.A_eq @ y - program.b_eq, truth[eq], atol=1e-12)
    # A_ineq y <= b_ineq  <=>  expression >= 0
    np.testing.assert_allclose(program.b_ineq - program.A_ineq @ y, truth[~eq], atol=1e-12)
    # the cancelled x1 terms leave no stored zero; the merged x1*x2 terms are one entry
    assert np.all(program.A_eq.data != 0) and np.all(program.A_ineq.data != 0)
    assert program.A_eq[1].nnz == 2
    np.testing.assert_allclose(program.c @ y + program.c0, w @ P[:, 0] + v @ Q[:, 0], atol=1e-12)


def test_no_moment_constraints_and_masses_fixed():
    x = gmp.variables("x")
    mu = gmp.Measure([x], [1 - x ** 2 >= 0], name="mu")
    program, _ = gmp.build_relaxation(gmp.GMP(gmp.minimize(mu.E(x)), [], [mu]), 1)
    assert program.n_eq == 1 and program.n_ineq == 0
    assert program.A_eq.toarray().tolist() == [[1.0, 0.0, 0.0]] and program.b_eq.tolist() == [1.0]
