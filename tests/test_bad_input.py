"""Misuse raises a clear error: expected, got, remedy (texts written by hand)."""
import re

import numpy as np
import pytest

import gmp
from gmp import GMP, Measure, ModelError, OrderError, UnknownBackendError, minimize, variables


def test_non_polynomial_objective():
    with pytest.raises(ModelError, match=re.escape(
        "objective must be a polynomial in gmp variables (or a number), got function"
    )):
        gmp.solve(lambda t: t**2, [])
    with pytest.raises(ModelError, match=re.escape("objective must be a polynomial in gmp variables (or a number), got str 'x**2'")):
        gmp.solve("x**2")


def test_sympy_objective_names_the_converter():
    sympy = pytest.importorskip("sympy")
    a = sympy.Symbol("a")
    with pytest.raises(ModelError, match=re.escape("convert it with gmp.from_sympy(expr) first")):
        gmp.solve(a**2)


def test_nan_and_inf_coefficients():
    x = variables("x")
    with pytest.raises(ModelError, match=re.escape("coefficient nan is not finite; use finite numbers")):
        gmp.solve(x**2 + float("nan") * x)
    with pytest.raises(ModelError, match=re.escape("coefficient -inf is not finite")):
        gmp.solve(x**2, [x >= float("-inf")])
    with pytest.raises(ModelError, match="not finite"):
        gmp.solve(x**2 * np.float64(np.inf))


def test_constraint_degree_above_twice_the_order():
    x, y = variables("x y")
    with pytest.raises(OrderError, match=re.escape(
        "order must be at least 2 for the support constraint 1 - x^4 >= 0 of mu of degree 4, "
        "but got order=1; pass order=2 or order='auto'"
    )):
        gmp.solve(x + y, [1 - x**4 >= 0], order=1)
    with pytest.raises(OrderError, match=re.escape("order must be a positive integer or 'auto', got 0")):
        gmp.solve(x + y, [1 - x**2 >= 0], order=0)


def test_variables_of_another_measure_in_a_support_constraint():
    x, y = variables("x y")
    with pytest.raises(ModelError, match=re.escape(
        "support constraint 0 (y - x^2 >= 0) of measure 'nu' uses variable(s) x of another measure; "
        "a support constraint may only use this measure's variables (y)"
    )):
        Measure(y, support=[y - x**2 >= 0], name="nu")


def test_moment_of_foreign_polynomial():
    x, y = variables("x y")
    mu = Measure(x, name="mu")
    with pytest.raises(ModelError, match=re.escape(
        "mu.E(...) got a polynomial in y, which are not variables of measure 'mu' (x)"
    )):
        mu.E(x * y)


def test_hand_built_moment_expression_with_a_foreign_variable_fails_at_the_gmp():
    from gmp.problem import MomentExpr

    x, y = variables("x y")
    mu = Measure(x, name="mu")
    expr = MomentExpr({id(mu): (mu, x * y)})  # bypasses mu.E's own check
    with pytest.raises(ModelError, match=re.escape(
        "a moment expression integrates a polynomial in y against measure 'mu', whose variables "
        "are (x); write it with mu.E(p) with p in those variables"
    )):
        GMP(minimize(expr))


def test_empty_problem():
    with pytest.raises(ModelError, match=re.escape(
        "empty problem: no measure appears in the objective or the constraints; "
        "give an objective such as minimize(mu.E(f)) or pass measures=[mu]"
    )):
        GMP()
    with pytest.raises(ModelError, match=re.escape(
        "empty problem: neither the objective nor the constraints use a variable"
    )):
        gmp.solve(3.0)


def test_unknown_backend_name():
    x = variables("x")
    with pytest.raises(UnknownBackendError, match=r"unknown backend 'sedumi'; known backends: .*cvxopt"):
        gmp.solve(x**2, backend="sedumi")


def test_constraint_must_be_a_comparison():
    x = variables("x")
    with pytest.raises(ModelError, match=re.escape(
        "constraint 0 must be written as p >= q, p <= q or p == q with gmp polynomials, got Polynomial"
    )):
        gmp.solve(x**2, [1 - x**2])


def test_gmp_objective_must_be_a_moment_expression():
    x = variables("x")
    with pytest.raises(ModelError, match=re.escape(
        "the objective of a GMP is a moment expression such as mu.E(f); for polynomial optimization use gmp.solve(f, constraints)"
    )):
        GMP(minimize(x**2))
    with pytest.raises(ModelError, match=re.escape("for polynomial optimization use gmp.solve(f, constraints, sense='max')")):
        gmp.maximize(x * (1 - x))
