"""rewrite.numeric: the evaluator computes the right numbers, random points honour declarations,
gradient checks accept right and reject wrong gradients, and compare separates true from false
identities (with a counterexample that reproduces)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from rewrite.errors import ShapeError
from rewrite.numeric import (OutOfDomain, check_gradient, compare, draw_sizes, evaluate, fd_gradient,
                             random_env, random_matrix)
from rewrite.shapes import infer
from rewrite.syntax import parse

A = np.array([[1.0, 2.0], [3.0, 4.0]])
B = np.array([[0.5, -1.0], [2.0, 0.25]])
x = np.array([[1.0], [-2.0], [0.5]])


def ev(text, **env):
    return evaluate(text, env)


# --- evaluation --------------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("A*B", A @ B),
    ("A + B", A + B),
    ("A - B", A - B),
    ("-A", -A),
    ("A'", A.T),
    ("A.*B", A * B),
    ("A./B", A / B),
    ("A/s", A / 4.0),
    ("s*A", 4.0 * A),
    ("A*s", A * 4.0),
    ("(1/2)*A", 0.5 * A),
    ("A^3", A @ A @ A),
    ("A^(-2)", np.linalg.inv(A @ A)),
    ("inv(A)", np.linalg.inv(A)),
    ("tr(A)", [[5.0]]),
    ("det(A)", [[-2.0]]),
    ("sum(A)", [[10.0]]),
    ("exp(A)", np.exp(A)),
    ("log(A)", np.log(A)),
    ("sqrt(A)", np.sqrt(A)),
    ("sin(A) + cos(B)", np.sin(A) + np.cos(B)),
    ("tanh(B)", np.tanh(B)),
    ("sigmoid(B)", 1 / (1 + np.exp(-B))),
    ("abs(B)", np.abs(B)),
    ("sign(B)", np.sign(B)),
    ("I + A", A + np.eye(2)),
    ("A + 0", A),
    ("A.*ones + ones", A + 1),
])
def test_matrix_operations(text, expected):
    got = evaluate(text, {"A": A, "B": B, "s": 4.0})
    np.testing.assert_allclose(got, np.asarray(expected, dtype=float), rtol=1e-12, atol=1e-12)


def test_vector_functions():
    np.testing.assert_allclose(ev("norm2sq(x)", x=x), [[5.25]])
    np.testing.assert_allclose(ev("norm2(x)", x=x), [[math.sqrt(5.25)]])
    np.testing.assert_allclose(ev("diag(x)", x=x), np.diag([1.0, -2.0, 0.5]))
    w = np.exp(x[:, 0])
    np.testing.assert_allclose(ev("softmax(x)", x=x), (w / w.sum()).reshape(-1, 1))
    np.testing.assert_allclose(ev("x'*x", x=x), [[5.25]])
    np.testing.assert_allclose(ev("x*x'", x=x), x @ x.T)


def test_logdet_and_scalar_powers():
    s = np.array([[2.0, 0.5], [0.5, 1.0]])
    np.testing.assert_allclose(ev("logdet(S)", S=s), [[math.log(1.75)]])
    np.testing.assert_allclose(ev("t^(1/2)", t=9.0), [[3.0]])
    np.testing.assert_allclose(ev("t^(-1)", t=4.0), [[0.25]])
    np.testing.assert_allclose(ev("t^2 + 3", t=-2.0), [[7.0]])


def test_values_may_be_numbers_and_flat_lists():
    np.testing.assert_allclose(ev("s*x + y", s=2, x=[1, 2], y=[0.5, 0.5]), [[2.5], [4.5]])
    assert ev("s", s=3).shape == (1, 1)


def test_constants_take_their_size_from_the_context():
    assert ev("A*I", A=np.ones((2, 3))).shape == (2, 3)
    np.testing.assert_allclose(ev("x*ones' + M", x=x, M=np.zeros((3, 2))), x @ np.ones((1, 2)))
    np.testing.assert_allclose(ev("I.*(x*ones')", x=x), np.diag(x[:, 0]))


def test_a_lone_constant_needs_its_size():
    with pytest.raises(ValueError, match="size"):
        evaluate("inv(I)", {})
    e = parse("inv(I)")
    t = infer(e)
    sizes = draw_sizes(t, np.random.default_rng(0), {"k1": 3})
    np.testing.assert_allclose(evaluate(e, {}, typing=t, sizes=sizes), np.eye(3))


def test_shape_errors_are_reported():
    with pytest.raises(ShapeError):
        evaluate("A*x", {"A": A, "x": x})


@pytest.mark.parametrize("text, env", [
    ("log(x)", {"x": [1.0, -1.0]}),
    ("sqrt(x)", {"x": [-4.0]}),
    ("inv(A)", {"A": [[1.0, 2.0], [2.0, 4.0]]}),
    ("A^(-1)", {"A": [[1.0, 1.0], [1.0, 1.0 + 1e-9]]}),
    ("logdet(A)", {"A": [[0.0, 1.0], [1.0, 0.0]]}),     # det = -1
    ("A/s", {"A": A, "s": 0.0}),
    ("A./B", {"A": A, "B": [[1.0, 0.0], [1.0, 1.0]]}),
    ("t^(1/2)", {"t": -1.0}),
])
def test_out_of_domain(text, env):
    with pytest.raises(OutOfDomain):
        evaluate(text, env)


def test_differentials():
    with pytest.raises(ValueError, match="differential"):
        evaluate("d(X)", {"X": A})
    dx = np.array([[0.1, 0.2], [0.3, 0.4]])
    np.testing.assert_allclose(evaluate("dX", {"X": A}, differentials={"X": dx}), dx)
    # d(tr(B*X)) along dX is tr(B*dX); d(inv(X)) is -inv(X)*dX*inv(X): by finite differences
    got = evaluate("d(tr(B*X))", {"X": A, "B": B}, differentials={"X": dx, "B": 0 * B})
    np.testing.assert_allclose(got, [[np.trace(B @ dx)]], rtol=1e-8)
    got = evaluate("d(inv(X))", {"X": A}, differentials={"X": dx})
    ia = np.linalg.inv(A)
    np.testing.assert_allclose(got, -ia @ dx @ ia, rtol=1e-7)


# --- random points -------------------------------------------------------------------------------
DECLS = {"S": "n x n, symmetric", "P": "n x n, spd", "V": "n x n, invertible", "D": "n x n, diagonal",
         "Q": "n x m, positive", "R": "3 x m", "s": "scalar", "v": "n", "W": "1 x m",
         "T": "n x n, symmetric, invertible", "U": "n x n, spd, positive"}


@pytest.mark.parametrize("seed", range(10))
def test_random_env_honours_declarations(seed):
    rng = np.random.default_rng(seed)
    env = random_env(DECLS, rng)
    n, m = env["S"].shape[0], env["Q"].shape[1]
    assert 2 <= n <= 4 and 2 <= m <= 4
    assert {k: v.shape for k, v in env.items()} == {
        "S": (n, n), "P": (n, n), "V": (n, n), "D": (n, n), "Q": (n, m), "R": (3, m), "s": (1, 1),
        "v": (n, 1), "W": (1, m), "T": (n, n), "U": (n, n)}
    assert np.array_equal(env["S"], env["S"].T)
    assert np.array_equal(env["P"], env["P"].T) and np.linalg.eigvalsh(env["P"]).min() >= 1 - 1e-12
    assert np.linalg.cond(env["V"]) < 100
    assert np.array_equal(env["T"], env["T"].T) and np.linalg.cond(env["T"]) < 100
    assert np.array_equal(env["D"], np.diag(np.diag(env["D"]))) and np.abs(np.diag(env["D"])).min() >= 0.5
    assert env["Q"].min() >= 0.5 and env["Q"].max() <= 2
    assert env["U"].min() > 0 and np.linalg.eigvalsh(env["U"]).min() > 0


def test_random_env_keeps_given_sizes_and_covers_subterm_dimensions():
    rng = np.random.default_rng(1)
    env = random_env({"X": "n x m"}, rng, {"n": 5, "m": 1})
    assert env["X"].shape == (5, 1)
    t = infer(parse("tr(I) + x'*x"))   # I has a dimension no variable has
    sizes = draw_sizes(t, rng)
    assert set(sizes) == {d for s in t.shapes.values() for d in (s.rows, s.cols) if isinstance(d, str)}


def test_random_matrix_refuses_non_square_structure():
    with pytest.raises(ValueError, match="square"):
        random_matrix(2, 3, {"symmetric"}, np.random.default_rng(0))


# --- gradients -----------------------------------------------------------------------------------
@pytest.mark.parametrize("f, wrt, gradient, vars", [
    ("tr(A*X*B)", "X", "A'*B'", {}),
    ("x'*A*x", "x", "(A + A')*x", {}),
    ("logdet(X)", "X", "inv(X)'", {"X": "n x n, spd"}),
    ("det(X)", "X", "det(X)*inv(X)'", {"X": "n x n, invertible"}),
    ("sum(exp(X))", "X", "exp(X)", {}),
    ("norm2(x - a)", "x", "(x - a)/norm2(x - a)", {}),
    ("tr(X^3)", "X", "3*(X^2)'", {"X": "n x n"}),
    ("s^3 + 2*s", "s", "3*s^2 + 2", {"s": "scalar"}),
    ("sum(log(X))", "X", "ones./X", {"X": "n x m, positive"}),
])
def test_right_gradients_pass(f, wrt, gradient, vars):
    r = check_gradient(f, wrt, gradient, vars)
    assert r.ok, r.details
    assert r.points == 3 and r.max_rel_error < 1e-6


@pytest.mark.parametrize("f, wrt, gradient, vars", [
    ("tr(A*X*B)", "X", "A*B", {"X": "n x n", "A": "n x n", "B": "n x n"}),
    ("x'*A*x", "x", "2*A*x", {}),                          # needs A symmetric
    ("logdet(X)", "X", "inv(X)", {"X": "n x n, invertible"}),
    ("sum(exp(X))", "X", "exp(X) + (1/1000)*ones", {}),    # off by a little
    ("logdet(S)", "S", "2*inv(S) - I.*inv(S)", {"S": "n x n, spd"}),   # another convention
])
def test_wrong_gradients_fail(f, wrt, gradient, vars):
    r = check_gradient(f, wrt, gradient, vars)
    assert not r.ok and r.points > 0 and r.max_rel_error > 1e-4, r.details


def test_symmetric_variable_is_checked_on_symmetric_directions():
    # f = a'*S*b: G = a*b' and G' = b*a' have the same symmetric part; both count as right.
    for g in ("a*b'", "b*a'", "(a*b' + b*a')/2"):
        assert check_gradient("a'*S*b", "S", g, {"S": "n x n, symmetric"}).ok
    assert not check_gradient("a'*S*b", "S", "a*a'", {"S": "n x n, symmetric"}).ok


def test_finite_difference_gradient_matches_the_formula():
    rng = np.random.default_rng(5)
    a, x = rng.standard_normal((3, 3)), rng.standard_normal((3, 3))
    fd = fd_gradient("tr(A*X*X)", "X", {"A": a, "X": x})
    assert np.allclose(fd, (x @ a + a @ x).T, atol=1e-8)
    # symmetric X: the gradient on symmetric matrices is sym(G)
    s = x + x.T
    fd = fd_gradient("tr(A*X)", "X", {"A": a, "X": s}, symmetric=True)
    assert np.allclose(fd, (a + a.T) / 2, atol=1e-8)


def test_gradient_of_the_wrong_shape_fails_with_a_reason():
    r = check_gradient("tr(A*X)", "X", "x", {"X": "n x n"})
    assert not r.ok and r.points == 0 and r.details == "the gradient x is k1 x 1 but X is n x n"


def test_gradient_check_refuses_non_scalar_f():
    with pytest.raises(ShapeError, match="scalar"):
        check_gradient("A*X", "X", "A", {})


def test_no_usable_point_is_a_failure_not_a_pass():
    r = check_gradient("sum(log(-X))", "X", "ones./X", {"X": "n x n, positive"})
    assert not r.ok and r.points == 0 and "usable" in r.details


# --- identities ----------------------------------------------------------------------------------
TRUE_IDENTITIES = [
    ("inv(A*B)", "inv(B)*inv(A)", {"A": "n x n", "B": "n x n"}),
    ("det(A*B)", "det(A)*det(B)", {"A": "n x n", "B": "n x n"}),
    ("det(inv(A))", "1/det(A)", {"A": "n x n"}),
    ("logdet(inv(S))", "-logdet(S)", {"S": "n x n, spd"}),
    ("tr(A*B*C)", "tr(C*A*B)", {}),
    ("(A*B)'", "B'*A'", {}),
    ("inv(inv(A)) - A", "0", {}),
    ("A^(-3)", "inv(A)*inv(A)*inv(A)", {"A": "n x n"}),
    ("tr(A'*(B.*C))", "tr((A.*B)'*C)", {}),
    ("softmax(z)", "exp(z)/sum(exp(z))", {}),
    ("log(A.*B)", "log(A) + log(B)", {}),      # only defined on positive entries: drawn there
    ("d(tr(A*X))", "tr(A*dX)", {}),            # d(A) = 0 when only X moves (wrt below)
]


@pytest.mark.parametrize("lhs, rhs, vars", TRUE_IDENTITIES)
def test_true_identities_hold_at_many_points(lhs, rhs, vars):
    wrt = "X" if "dX" in rhs else None
    for seed in range(8):
        c = compare(lhs, rhs, vars, seed=seed, wrt=wrt)
        assert c.equal and c.points == 5, (seed, c)
        assert c.max_rel_error < 1e-7


FALSE_IDENTITIES = [
    ("tr(A*B*C)", "tr(B*A*C)", {}),
    ("inv(A + B)", "inv(A) + inv(B)", {"A": "n x n", "B": "n x n"}),
    ("det(A + B)", "det(A) + det(B)", {"A": "n x n", "B": "n x n"}),
    ("(A*B)'", "A'*B'", {"A": "n x n", "B": "n x n"}),
    ("A + (1/1000)*B", "A", {}),
    ("d(tr(A*X))", "tr(A*dX)", {}),            # without wrt, A moves too
]


@pytest.mark.parametrize("lhs, rhs, vars", FALSE_IDENTITIES)
def test_false_identities_are_refuted_with_a_counterexample(lhs, rhs, vars):
    c = compare(lhs, rhs, vars)
    assert not c.equal and c.counterexample is not None
    ce = c.counterexample
    le, re_ = parse(lhs), parse(rhs)
    assert set(ce.env) == le.symbols() | re_.symbols()
    env = {k: np.array(v) for k, v in ce.env.items()}
    lv, rv = np.array(ce.lhs_value), np.array(ce.rhs_value)
    np.testing.assert_allclose(np.array(ce.difference), lv - rv)
    assert np.max(np.abs(lv - rv)) > 1e-4 * max(1.0, np.max(np.abs(lv)))
    if not ce.differentials:   # the counterexample reproduces
        np.testing.assert_allclose(evaluate(le, env), lv, rtol=1e-12)
        np.testing.assert_allclose(evaluate(re_, env), rv, rtol=1e-12)


def test_compare_needs_equal_shapes():
    with pytest.raises(ShapeError):
        compare("A*B", "tr(A*B)", {"A": "2 x 3"})


def test_compare_without_usable_points_is_inconclusive():
    c = compare("sum(log(-A))", "sum(log(-A))", {"A": "n x n, positive"})
    assert not c.equal and c.counterexample is None and c.points == 0 and "usable" in c.details


def test_compare_honours_declarations():
    # true for symmetric S only
    assert compare("S'", "S", {"S": "n x n, symmetric"}).equal
    assert not compare("S'", "S", {"S": "n x n"}).equal
    assert compare("tr(D*A)", "tr(A.*D)", {"D": "n x n, diagonal"}).equal
