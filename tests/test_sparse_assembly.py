"""The sparse assembly helpers of gmp.matrices against scipy's own COO conversion."""
import numpy as np
import pytest
import scipy.sparse as sp

import gmp.matrices as gm
from gmp.matrices import csc_from_triplets, csr_from_triplets, moment_coefficients, riesz_row
from gmp.monomials import basis, count


def random_triplets(rng, shape, nnz):
    rows = rng.integers(0, shape[0], nnz)
    cols = rng.integers(0, shape[1], nnz)
    data = rng.choice([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0], nnz)
    # a pair that cancels exactly: its entry must not be stored
    rows = np.concatenate([rows, [0, 0]])
    cols = np.concatenate([cols, [shape[1] - 1, shape[1] - 1]])
    data = np.concatenate([data, [1.25, -1.25]])
    return data, rows, cols


@pytest.mark.parametrize("key_path", [True, False], ids=["int64-key", "lexsort"])
@pytest.mark.parametrize("shape,nnz", [((1, 6), 1), ((7, 5), 60), ((40, 300), 2000), ((3, 3), 0)])
def test_triplets_match_scipy_coo(shape, nnz, key_path, monkeypatch):
    if not key_path:
        monkeypatch.setattr(gm, "_KEY_LIMIT", 0)
    rng = np.random.default_rng(nnz)
    data, rows, cols = random_triplets(rng, shape, nnz)
    ref = sp.coo_matrix((data, (rows, cols)), shape=shape).toarray()
    for build, fmt in ((csc_from_triplets, "csc"), (csr_from_triplets, "csr")):
        A = build(data, rows, cols, shape)
        assert A.format == fmt and A.shape == shape
        np.testing.assert_array_equal(A.toarray(), ref)
        assert np.all(A.data != 0), "explicit zeros (0.0 data and the cancelling pair) must be dropped"
        assert A.has_canonical_format  # sorted indices, no duplicates
        assert A.indices.dtype == np.int32 and A.indptr.dtype == np.int32


def test_cached_moment_matrix_is_shared_read_only_and_equal_to_a_fresh_build():
    F = moment_coefficients(2, 2)
    assert F is moment_coefficients(2, 2)
    with pytest.raises(ValueError, match="read-only"):
        F.data[0] = 5.0
    fresh = gm._moment_coefficients(2, 2, count(2, 4), 0, count(2, 4))
    np.testing.assert_array_equal(F.toarray(), fresh.toarray())
    # M_2(y)[i, j] = y[index(a_i + a_j)]: the entry (x1, x1*x2) is the moment x1^2 x2, index 7 in
    B = basis(2, 2)
    i, j = 1, 4
    assert (B[i] + B[j]).tolist() == [2, 1]
    assert F[i + 6 * j].nonzero()[1].tolist() == [7]  # 1 x1 x2 x1² x1x2 x2² x1³ x1²x2


def test_riesz_row_rejects_a_monomial_beyond_the_moments():
    with pytest.raises(ValueError, match="beyond the 6 moments"):
        riesz_row(np.array([[3, 0]]), np.array([1.0]), 6)
