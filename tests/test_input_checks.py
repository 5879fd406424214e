"""Inputs checked before work (issue 14, item 6): sizes, numbers, config keys, pickling."""
from __future__ import annotations

import pickle
import time
import warnings

import numpy as np
import pytest

import gmp
from gmp import registry
from gmp.errors import ModelError
from gmp.size import RelaxationTooLarge, relaxation_size, set_size_limit


# -- size ------------------------------------------------------------------------
def test_astronomical_relaxation_is_refused_at_once_with_the_numbers():
    x = gmp.variables("x", 30)
    start = time.perf_counter()
    with pytest.raises(RelaxationTooLarge) as err:
        gmp.solve(gmp.polysum(v**2 for v in x), [1 - gmp.polysum(v**2 for v in x) >= 0], order=6)
    assert time.perf_counter() - start < 5.0
    text = str(err.value)
    # count(30, 12) = C(42, 12) = 11 058 116 888 moments; count(30, 6) = C(36, 6) = 1 947 792
    assert "11,058,116,888 moments" in text and "largest side 1,947,792" in text
    assert "gmp.set_size_limit(gigabytes)" in text and "GMP_MAX_RELAXATION_GB" in text


def test_size_estimate_counts_and_the_limit_can_be_raised():
    x, y = gmp.variables("x y")
    prob = gmp.GMP(gmp.minimize(gmp.Measure([x, y], [1 - x**2 - y**2 >= 0]).E(x)))
    size = relaxation_size(prob, 2)
    assert size.n_moments == 15 and size.psd_sides == (6, 3)  # C(6, 4) moments, M_2 and M_1(g)
    assert size.n_coefficients == 36 + 9 * 3
    set_size_limit(1e-9)  # 1 byte
    try:
        with pytest.raises(RelaxationTooLarge, match="above the limit of 1e-09 GB"):
            gmp.build_relaxation(prob, 2)
    finally:
        set_size_limit(None)
    gmp.build_relaxation(prob, 2)


# -- numbers ---------------------------------------------------------------------
def test_from_atoms_refuses_nan_points_and_signed_weights():
    x, y = gmp.variables("x y")
    with pytest.raises(ModelError, match=r"point 1 is \[nan, 0.0\]: every coordinate"):
        gmp.MomentSequence.from_atoms([x, y], [[1.0, 2.0], [np.nan, 0.0]], [0.5, 0.5], 2)
    with pytest.raises(ModelError, match=r"point 0 is \[inf, 0.0\]"):
        gmp.MomentSequence.from_atoms([x, y], [[np.inf, 0.0]], [1.0], 2)
    with pytest.raises(ModelError, match="weight 1 is -0.5: the weights of a measure must be finite and >= 0"):
        gmp.MomentSequence.from_atoms([x, y], [[1.0, 2.0], [0.0, 0.0]], [1.5, -0.5], 2)
    with pytest.raises(ModelError, match="weight 0 is nan"):
        gmp.MomentSequence.from_atoms([x, y], [[1.0, 2.0]], [np.nan], 2)


def test_exponents_that_would_overflow_int64_are_refused():
    x, y = gmp.variables("x y")
    with pytest.raises(ModelError, match="the power 4611686018427387904 would have total degree"):
        (x * y) ** (2**62)
    big = x ** (2**30)
    with pytest.raises(ModelError, match="the product would have total degree 2147483648"):
        big * big
    with pytest.raises(ModelError, match="above the largest supported"):
        gmp.Polynomial([x.vars[0]], [[2**40]], [1.0])
    assert (x**3 * y**2).degree == 5  # ordinary use unchanged


def test_non_finite_coefficients_are_refused_before_any_solver():
    x = gmp.variables("x")
    with pytest.raises(ModelError):
        gmp.solve(float("nan") * x)
    with pytest.raises(ModelError):
        gmp.solve(x, [x <= float("inf")])


# -- config keys -------------------------------------------------------------------
def test_unknown_tool_gmp_key_is_warned_with_the_closest_valid_key(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.gmp]\nbackned = "clarabel"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(registry.ENV_VAR, raising=False)
    monkeypatch.setattr(registry, "user_config_path", lambda: None)
    registry._WARNED.clear()
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        assert registry.resolve_backend() is not None
    texts = [str(w.message) for w in record]
    assert any("unknown key 'backned' under [tool.gmp]" in t and "did you mean 'backend'?" in t
               for t in texts), texts


# -- pickling ----------------------------------------------------------------------
def test_public_objects_pickle():
    x, y = gmp.variables("x y")
    p = (x + 2 * y) ** 2 - 1
    q, qx = pickle.loads(pickle.dumps((p, x)))  # pickled together, they share their variables
    assert q.vars[0] is qx.vars[0] and q.equals((qx + 2 * gmp.as_polynomial(q.vars[1])) ** 2 - 1)
    pts = np.array([[0.5, -1.0], [2.0, 3.0]])
    assert np.array_equal(q.evaluate(pts, q.vars), p.evaluate(pts, p.vars))
    v = pickle.loads(pickle.dumps(x.vars[0]))
    assert v.name == "x" and v.uid == x.vars[0].uid
    mu = gmp.Measure([x, y], [1 - x**2 - y**2 >= 0])
    prob = gmp.GMP(gmp.minimize(mu.E(x + y)))
    prob2 = pickle.loads(pickle.dumps(prob))
    res = prob.solve(order=1, backend="cvxopt")
    res2 = pickle.loads(pickle.dumps(res))
    assert res2.bound == res.bound and res2.certified == res.certified
    assert res2.verified_bound == res.verified_bound
    assert np.array_equal(res2.atoms.points, res.atoms.points)
    assert prob2.solve(order=1, backend="cvxopt").bound == pytest.approx(-np.sqrt(2), abs=1e-6)
    ms = gmp.MomentSequence.from_atoms([x, y], [[1.0, 2.0]], [1.0], 2)
    assert np.array_equal(pickle.loads(pickle.dumps(ms)).values, ms.values)
