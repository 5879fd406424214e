import itertools
from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    # and the closed form that index uses beyond INDEX_RADIX_MAX_MONOMIALS
    import gmp.monomials as gm

    saved, gm.INDEX_RADIX_MAX_MONOMIALS = gm.INDEX_RADIX_MAX_MONOMIALS, 0
    try:
        assert (index(B[pick]) == pick).all()
    finally:
        gm.INDEX_RADIX_MAX_MONOMIALS = saved


@pytest.mark.parametrize("n,d", [(12, 6), (12, 7), (2, 64), (2, 65)])
def test_index_on_both_sides_of_the_radix_limits(n, d):
    # C(18, 6) = 18564 and C(19, 7) = 50388 monomials: the second is beyond
    # INDEX_RADIX_MAX_MONOMIALS; degree 65 is beyond INDEX_RADIX_MAX_DEGREE.
    B = basis(n, d)
    pick = np.random.default_rng(d).integers(0, len(B), size=200)
    assert (index(B[pick]) == pick).all()


@pytest.mark.parametrize("radix", [True, False], ids=["radix-keys", "closed-form"])
@pytest.mark.parametrize("n,r", [(1, 3), (3, 2), (4, 3), (7, 1)])
def test_sum_index_table_is_index_of_sums(n, r, radix, monkeypatch):
    import gmp.monomials as gm

    if not radix:  # the fallback for keys that would overflow or huge bases
        monkeypatch.setattr(gm, "RADIX_MAX_MONOMIALS", 0)
    B = basis(n, r)
    shift = np.random.default_rng(n).integers(0, 3, size=(4, n))
    tab = sum_index_table(B, B[: len(B) // 2 + 1], shift)
    # the truth: positions in the explicit graded basis (closed-form index checked above)
    full = basis(n, int(B.sum(1).max() * 2 + shift.sum(1).max()))
    pos = {tuple(e): k for k, e in enumerate(full.tolist())}
    sums = shift[:, None, None, :] + B[None, :, None, :] + B[None, None, : len(B) // 2 + 1, :]
    ref = np.array([pos[tuple(e)] for e in sums.reshape(-1, n).tolist()]).reshape(tab.shape)
    assert (tab == ref).all()
