"""Derivatives beyond the gradient: differentials and Jacobians of matrix functions, vector-Jacobian
products and Hessians, over the catalogues in tests/data (jacobians.json, vjps.json,
hessians.json).  Every result comes with proofs the checker accepts and is checked numerically:
dF along random directions against central differences, J against a finite-difference Jacobian
of vec(F), a VJP as the gradient of tr(G'*F), H against finite differences of the gradient (which
is itself checked against f).  Where an entry gives a textbook form, the result equals it at
random points."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import rewrite
from rewrite import expr as E
from rewrite import numeric
from rewrite.proof.checker import check
from rewrite.syntax import parse

DATA = Path(__file__).parent / "data"
JACOBIANS = json.loads((DATA / "jacobians.json").read_text())["entries"]
VJPS = json.loads((DATA / "vjps.json").read_text())["entries"]
HESSIANS = json.loads((DATA / "hessians.json").read_text())["entries"]


def test_the_catalogues_are_as_large_as_promised():
    assert len(JACOBIANS) >= 50 and len(VJPS) >= 25 and len(HESSIANS) >= 30
    for entries in (JACOBIANS, VJPS, HESSIANS):
        assert len({e["id"] for e in entries}) == len(entries)


@pytest.mark.parametrize("entry", JACOBIANS, ids=[e["id"] for e in JACOBIANS])
def test_jacobian(entry):
    F, wrt = entry["F"], entry["wrt"]
    r = rewrite.derivative(F, wrt, entry["vars"])
    for proof in (r.proof, r.differential_proof):
        assert check(proof).ok, check(proof).errors
    fd = numeric.check_jacobian(F, wrt, r.jacobian, r.vars, seed=1)
    assert fd.ok, fd.details
    along = numeric.compare(E.diff(parse(F)), r.differential, r.vars, wrt=wrt, seed=2)
    assert along.equal, along.details
    # dF is a sum of terms with one dX each
    for term in _summands(r.differential):
        assert sum(n.op == E.DIFF for _, n in term.walk()) == 1, term
    if "expected" in entry:
        assert numeric.check_jacobian(F, wrt, entry["expected"], r.vars, seed=3).ok, entry["expected"]


def _summands(e: E.Expr) -> list[E.Expr]:
    if e.op in (E.ADD, E.SUB):
        return _summands(e.args[0]) + _summands(e.args[1])
    return [e.args[0]] if e.op == E.NEG else [e]


@pytest.mark.parametrize("entry", VJPS, ids=[e["id"] for e in VJPS])
def test_vjp(entry):
    F, wrt, g = entry["F"], entry["wrt"], entry["cotangent"]
    r = rewrite.vjp(F, wrt, g, entry["vars"])
    assert check(r.proof).ok, check(r.proof).errors
    assert r.proof.claim.kind == "vjp" and r.proof.claim.vjp == str(r.result)
    f = E.tr(E.mul(E.transpose(E.sym(g)), parse(F)))
    assert numeric.check_gradient(f, wrt, r.result, r.vars, seed=1).ok
    if "expected" in entry:
        assert numeric.compare(r.result, parse(entry["expected"]), r.vars, seed=2).equal, entry["expected"]


@pytest.mark.parametrize("entry", HESSIANS, ids=[e["id"] for e in HESSIANS])
def test_hessian(entry):
    f, wrt = entry["f"], entry["wrt"]
    r = rewrite.hessian(f, wrt, entry["vars"])
    report = check(r.proof)
    assert report.ok, report.errors
    assert report.steps == len(r.proof.steps) + len(r.proof.second_steps)
    assert numeric.check_gradient(f, wrt, r.gradient, r.vars, seed=1).ok
    fd = numeric.check_jacobian(r.gradient, wrt, r.hessian, r.vars, seed=1)
    assert fd.ok, fd.details
    if "expected" in entry:
        assert numeric.check_jacobian(r.gradient, wrt, entry["expected"], r.vars, seed=2).ok, entry["expected"]


def test_a_hessian_of_a_vector_function_is_refused():
    with pytest.raises(rewrite.InputError, match="Hessian is of a scalar"):
        rewrite.hessian("A*x", "x")


def test_a_linear_function_has_no_hessian_to_derive():
    with pytest.raises(rewrite.InputError, match="the Hessian is 0"):
        rewrite.hessian("a'*x", "x")


def test_the_frechet_derivative_of_xtx():
    """Seed 002: F(X) = X'X has the derivative L(dX) = X'dX + dX'X, a matrix in the vec layout."""
    r = rewrite.derivative("X'*X", "X", {"X": "m x n"})
    assert str(r.differential) == "dX'*X + X'*dX"
    assert parse(str(r.jacobian)) == r.jacobian
    assert numeric.check_jacobian("X'*X", "X", "kron(I(n), X') + kron(X', I(n))*K(m, n)", r.vars).ok


def test_chained_vjps_through_a_two_layer_network_give_the_gradient():
    """Seed 001, example 7: back-propagation is the composite rule, layer by layer.  The VJP
    through each layer, evaluated at a point, gives the same numbers as the derived gradient."""
    vars = {"W1": "h x n", "W2": "m x h", "x": "n", "y": "m"}
    f = "-y'*log(softmax(W2*sigmoid(W1*x)))"
    whole = rewrite.derive(f, "W1", vars)
    rng = np.random.default_rng(0)
    sizes = {"h": 3, "n": 4, "m": 2}
    env = {"W1": rng.standard_normal((3, 4)), "W2": rng.standard_normal((2, 3)),
           "x": rng.standard_normal((4, 1)), "y": np.array([[1.0], [0.0]])}
    h = numeric.evaluate(parse("sigmoid(W1*x)"), env, sizes=sizes)
    # the loss by the logits z = W2*h, then back through W2*h (to h) and sigmoid(W1*x) (to W1)
    g_z = rewrite.derive("-y'*log(softmax(z))", "z", {"z": "m", "y": "m"})
    gz = numeric.evaluate(g_z.gradient, {"z": env["W2"] @ h, "y": env["y"]}, sizes=sizes)
    g_h = rewrite.vjp("W2*h", "h", "G", {"W2": "m x h", "h": "h"})
    gh = numeric.evaluate(g_h.result, {"W2": env["W2"], "G": gz}, sizes=sizes)
    g_w1 = rewrite.vjp("sigmoid(W1*x)", "W1", "G", {"W1": "h x n", "x": "n"})
    chained = numeric.evaluate(g_w1.result, {"W1": env["W1"], "x": env["x"], "G": gh}, sizes=sizes)
    direct = numeric.evaluate(whole.gradient, env, sizes=sizes)
    assert np.allclose(chained, direct, atol=1e-10)
    for r in (g_z, g_h, g_w1):
        assert check(r.proof).ok


def test_newton_converges_on_logistic_regression():
    """Seed 001, example 8: w <- w - inv(H)*grad l, with the derived gradient and Hessian of the
    logistic loss evaluated by the project's numeric evaluation, reaches the optimum (gradient
    below 1e-8) within 10 iterations on a small fixed data set."""
    vars = {"w": "n", "X": "m x n", "y": "m"}
    loss = "-(y'*log(sigmoid(X*w)) + (ones - y)'*log(ones - sigmoid(X*w)))"
    h = rewrite.hessian(loss, "w", vars)
    assert check(h.proof).ok
    X = np.array([[1.0, 0.5], [1.0, -1.0], [1.0, 2.0], [1.0, 0.1], [1.0, -0.7], [1.0, 1.3]])
    y = np.array([[1.0], [0.0], [1.0], [0.0], [1.0], [0.0]])   # not separable: a finite optimum
    w = np.zeros((2, 1))
    sizes = {"m": 6, "n": 2}
    for iteration in range(1, 11):
        env = {"w": w, "X": X, "y": y}
        g = numeric.evaluate(h.gradient, env, sizes=sizes)
        if np.max(np.abs(g)) < 1e-8:
            break
        H = numeric.evaluate(h.hessian, env, sizes=sizes)
        w = w - np.linalg.solve(H, g)
    else:
        iteration = 11
    assert iteration <= 10, f"no convergence: gradient {g.ravel()}"
    p = 1.0 / (1.0 + np.exp(-X @ w))
    assert np.allclose(X.T @ (p - y), 0.0, atol=1e-8)   # the optimum, checked independently


def test_results_print_and_convert():
    r = rewrite.derivative("A*X*B", "X")
    text = str(r)
    assert text.splitlines()[-1].startswith("J = kron(B', A)") and "dF = A*dX*B" in text
    assert r.as_dict()["jacobian"] == "kron(B', A)"
    v = rewrite.vjp("A*X*B", "X")
    assert str(v).endswith("= A'*G*B'") and v.as_dict()["vjp"] == "A'*G*B'"
    h = rewrite.hessian("x'*A*x", "x")
    assert str(h).endswith("H = A + A'") and h.as_dict()["hessian"] == "A + A'"
    s = rewrite.derivative("x'*A*x", "x")   # a scalar F: its gradient too
    assert str(s.gradient) == "(A + A')*x"
