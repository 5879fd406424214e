import itertools
from math import comb

import numpy as np
from hypothesis import given, settings, strategies as st

from gmp.monomials import basis, count, index, sum_index_table


def brute_basis(n, d):
    """Graded order by brute force: degree, then lexicographically descending."""
    exps = [e for e in itertools.product(range(d + 1), repeat=n) if sum(e) <= d]
    return sorted(exps, key=lambda e: (sum(e), [-v for v in e]))


def test_basis_matches_brute_force_order():
    for n in range(1, 5):
        for d in range(0, 6):
            assert basis(n, d).tolist() == [list(e) for e in brute_basis(n, d)]
            assert count(n, d) == comb(n + d, d) == len(basis(n, d))


def test_gloptipoly_order_example():
    assert basis(2, 2).tolist() == [[0, 0], [1, 0], [0, 1], [2, 0], [1, 1], [0, 2]]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 8), d=st.integers(0, 6), seed=st.integers(0, 2**31))
def test_index_inverts_basis(n, d, seed):
    B = basis(n, d)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(B), size=20)
    assert (index(B[pick]) == pick).all()


def test_sum_index_table_is_index_of_sums():
    n, r = 3, 2
    B = basis(n, r)
    shift = np.array([[0, 0, 0], [1, 0, 2], [0, 1, 0]])
    tab = sum_index_table(B, B, shift)
    ref = index(B[None, :, None, :] + B[None, None, :, :] + shift[:, None, None, :])
    assert (tab == ref).all()
