import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gmp
from gmp import ModelError, variables


def test_arithmetic_matches_pointwise_evaluation():
    x, y, z = variables("x y z")
    p = (x - 2 * y) ** 3 + x * z / 4 - 7
    q = 3 - y * z**2
    rng = np.random.default_rng(0)
    pts = rng.normal(size=(50, 3))
    X, Y, Z = pts.T
    P = (X - 2 * Y) ** 3 + X * Z / 4 - 7
    Q = 3 - Y * Z**2
    vs = [x, y, z]
    np.testing.assert_allclose((p * q).evaluate(pts, vs), P * Q, rtol=1e-12)
    np.testing.assert_allclose((p - q).evaluate(pts, vs), P - Q, rtol=1e-12)
    np.testing.assert_allclose((2.5 * p + q**2).evaluate(pts, vs), 2.5 * P + Q**2, rtol=1e-12)
    np.testing.assert_allclose((-p).evaluate(pts, vs), -P)


def test_degree_terms_and_cancellation():
    x, y = variables("x y")
    p = (x + y) ** 4
    assert p.degree == 4 and p.n_terms == 5
    assert (p - p).is_zero and (p - p).degree == 0
    assert (x * y - y * x).is_zero
    # binomial coefficients of (x + y)^4
    e, c = p.terms_in([x, y])
    got = {tuple(a): v for a, v in zip(e.tolist(), c)}
    assert got == {(4, 0): 1, (3, 1): 4, (2, 2): 6, (1, 3): 4, (0, 4): 1}


def test_numpy_scalars_and_constants():
    x = variables("x")
    p = np.float64(2.0) * x + np.int64(3)
    assert p.evaluate(np.array([[2.0]]), [x])[0] == 7.0
    assert gmp.as_polynomial(5).constant_term == 5.0


def test_comparisons_build_constraints():
    x, y = variables("x y")
    c1 = x**2 >= y
    c2 = x <= 1
    c3 = x * y == 2
    assert c1.kind == ">=" and c1.expr.equals(x**2 - y)
    assert c2.kind == ">=" and c2.expr.equals(1 - x)
    assert c3.kind == "==" and c3.expr.equals(x * y - 2)
    with pytest.raises(TypeError, match="no truth value"):
        bool(c3)


def test_variables_naming():
    xs = variables("x", 3)
    assert [repr(v) for v in xs] == ["x1", "x2", "x3"]
    assert repr(variables("t")) == "t"


def test_bad_inputs_have_clear_messages():
    x = variables("x")
    with pytest.raises(ModelError, match=r"coefficient nan is not finite; use finite numbers"):
        x * float("nan")
    with pytest.raises(ModelError, match=r"coefficient inf is not finite"):
        x + float("inf")
    with pytest.raises(ModelError, match=r"polynomial powers must be non-negative integers, got 0.5"):
        x**0.5
    with pytest.raises(ModelError, match=r"operand of \+: expected a polynomial in gmp variables or a real number, got str 'a'"):
        x + "a"
    with pytest.raises(ModelError, match=r"strict inequalities are not supported; write p >= q"):
        x > 0
    with pytest.raises(ModelError, match=r"points must have 1 columns"):
        x.evaluate(np.zeros((3, 2)))


def test_from_sympy_round_trip():
    sympy = pytest.importorskip("sympy")
    a, b = sympy.symbols("a b")
    x, y = variables("x y")
    p = gmp.from_sympy(a**3 - sympy.Rational(3, 2) * a * b + 2, {a: x, b: y})
    assert p.equals(x**3 - 1.5 * x * y + 2)
    with pytest.raises(ModelError, match="is not a polynomial"):
        gmp.from_sympy(sympy.sin(a), {a: x})
    with pytest.raises(ModelError, match=r"convert it with gmp.from_sympy"):
        x + a


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 4).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.lists(st.integers(0, 3), min_size=n, max_size=n),
                       st.sampled_from([-2.0, -1.0, 0.0, 0.5, 1.0, 3.0])), max_size=12))))
def test_canonical_form_sums_equal_terms_in_lexicographic_order(case):
    # independent truth: a dict from exponent tuple to summed coefficient, zeros dropped
    n, terms = case
    vs = gmp.variables("v", n) if n > 1 else ((gmp.variables("v"),) if n == 1 else ())
    exps = np.array([e for e, _ in terms], dtype=np.int64).reshape(len(terms), n)
    coefs = np.array([c for _, c in terms])
    p = gmp.Polynomial([v.vars[0] for v in vs], exps, coefs)
    want: dict = {}
    for e, c in terms:
        want[tuple(e)] = want.get(tuple(e), 0.0) + c
    want = {e: c for e, c in want.items() if c != 0.0}
    got_exps, got_coefs = p.terms_in(vs) if n else (np.zeros((p.n_terms, 0), int), p.coefs)
    got = {tuple(int(a) for a in e): c for e, c in zip(got_exps, got_coefs)}
    assert got.keys() == want.keys()
    for e in want:
        assert got[e] == pytest.approx(want[e], abs=1e-12)
    # stored rows strictly increasing in lexicographic order (over the variables kept)
    rows = [tuple(r) for r in p.exps.tolist()]
    assert rows == sorted(set(rows))


def test_module_doctests():
    import doctest
    import importlib

    assert doctest.testmod(importlib.import_module("gmp.polynomial")).failed == 0


def test_product_of_constants():
    x = variables("x")
    assert (2.0 * x**0).coefs.tolist() == [2.0] and (2.0 * x**0).vars == ()
    assert (gmp.as_polynomial(2) * gmp.as_polynomial(3)).constant_term == 6.0
    assert (gmp.as_polynomial(0) * gmp.as_polynomial(3)).is_zero


def test_polysum_equals_sum_and_evaluation():
    x = variables("x", 4)
    rng = np.random.default_rng(1)
    terms = [float(rng.standard_normal()) * x[rng.integers(4)] ** int(rng.integers(3)) * x[rng.integers(4)]
             for _ in range(300)] + [2.5, x[0], -x[0], x[3] ** 0]
    total = gmp.polysum(terms)
    ref = sum(terms)
    assert total.vars == ref.vars
    np.testing.assert_array_equal(total.exps, ref.exps)
    np.testing.assert_allclose(total.coefs, ref.coefs, rtol=1e-12, atol=1e-12)
    pts = rng.standard_normal((5, 4))
    direct = sum(t.evaluate(pts, x) if isinstance(t, gmp.Polynomial) else np.full(5, float(t)) for t in terms)
    np.testing.assert_allclose(total.evaluate(pts, x), direct, rtol=1e-10)
    assert gmp.polysum([]).is_zero and gmp.polysum(iter([x[1], x[1]])).coefs.tolist() == [2.0]
    assert gmp.polysum([x[0] - x[0], 0]).is_zero
    with pytest.raises(ModelError, match=r"term 1 of polysum: expected a polynomial .* got str 'x'"):
        gmp.polysum([x[0], "x"])
