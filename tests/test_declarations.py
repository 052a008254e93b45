"""Declared properties beyond shape: `nonzero`, `orthogonal` (Q'*Q = Q*Q' = I) and `simplex`
(entries >= 0 summing to 1: probabilities, one-hot labels).  What they give is used by the tidy
stage through rules (rules/declared.rules), so answers come with proofs the checker replays
under the same declarations, and without them the same proof is refused."""
from __future__ import annotations

import json

import numpy as np
import pytest

import rewrite
from rewrite import numeric
from rewrite.cli import main
from rewrite.errors import InputError, ShapeError
from rewrite.proof.checker import check
from rewrite.shapes import normalize_decls


@pytest.mark.parametrize("f, wrt, vars, gradient", [
    # seed 001, examples 6 and 7, with one-hot (or probability) labels
    ("-y'*log(softmax(W*x))", "W", {"y": "n, simplex"}, "(softmax(W*x) - y)*x'"),
    ("-y'*log(softmax(z))", "z", {"y": "n, simplex"}, "softmax(z) - y"),
    ("-y'*log(softmax(W*z))", "z", {"y": "n, simplex"}, "W'*(softmax(W*z) - y)"),
    ("-y'*log(softmax(W2*sigmoid(W1*x)))", "W2", {"y": "n, simplex"},
     "(softmax(W2*sigmoid(W1*x)) - y)*sigmoid(W1*x)'"),
    ("-y'*log(softmax(W2*sigmoid(W1*x)))", "W1", {"y": "n, simplex"},
     "W2'*(softmax(W2*sigmoid(W1*x)) - y).*sigmoid(W1*x).*(ones - sigmoid(W1*x))*x'"),
    ("sum(y)*tr(X)", "X", {"y": "n, simplex"}, "I"),
    ("tr(Q'*Q*X)", "X", {"Q": "n x n, orthogonal"}, "I"),
    ("tr(Q*X*Q'*A)", "X", {"Q": "n x n, orthogonal"}, "Q'*A'*Q"),
    ("tr(X*inv(Q)*Y*Q)", "X", {"Q": "n x n, orthogonal"}, "Q'*Y'*Q"),
    ("sum(a.*x./a)", "x", {"a": "n, nonzero"}, "ones"),
])
def test_declared_properties_simplify_with_proof(f, wrt, vars, gradient):
    r = rewrite.derive(f, wrt, vars)
    assert str(r.gradient) == gradient
    assert r.assumptions == []   # declared, so nothing is assumed
    assert check(r.proof).ok
    assert numeric.check_gradient(f, wrt, r.gradient, r.vars).ok


@pytest.mark.parametrize("f, wrt, vars, dropped", [
    ("-y'*log(softmax(W*x))", "W", {"y": "n, simplex"}, ("y", "simplex")),
    ("tr(X*inv(Q)*Y*Q)", "X", {"Q": "n x n, orthogonal"}, ("Q", "orthogonal")),
])
def test_the_checker_refuses_the_proof_without_the_declaration(f, wrt, vars, dropped):
    proof = json.loads(rewrite.derive(f, wrt, vars).proof.to_json())
    name, prop = dropped
    claim_vars = proof["vars"]
    assert prop in claim_vars[name]
    claim_vars[name] = claim_vars[name].replace(f", {prop}", "")
    verdict = check(proof)
    assert not verdict.ok
    assert prop in str(verdict), str(verdict)   # the step names the condition that fails


def test_without_the_declaration_the_general_answer_stays():
    r = rewrite.derive("-y'*log(softmax(W*x))", "W")
    assert str(r.gradient) == "(sum(y)*softmax(W*x) - y)*x'"


def test_random_points_honour_the_declarations():
    decls = normalize_decls({"Q": "n x n, orthogonal", "y": "n, simplex", "a": "n, nonzero"})
    env = numeric.random_env(decls, np.random.default_rng(0), {"n": 4})
    q, y, a = env["Q"], env["y"], env["a"]
    assert np.allclose(q.T @ q, np.eye(4))
    assert y.shape == (4, 1) and np.all(y >= 0) and np.isclose(y.sum(), 1)
    assert np.all(np.abs(a) >= 0.5)


@pytest.mark.parametrize("spec, message", [
    ("n x m, simplex", "not a column vector"),
    ("n x m, orthogonal", "not square"),
    ("n, unitary", "unknown property"),
])
def test_bad_declarations_are_named(spec, message):
    with pytest.raises(ShapeError, match=message):
        normalize_decls({"Y": spec})


@pytest.mark.parametrize("vars, wrt", [({"y": "n, simplex"}, "y"), ({"Q": "n x n, orthogonal"}, "Q")])
def test_no_derivative_with_respect_to_a_constrained_variable(vars, wrt, capsys):
    f = "tr(Q*A)" if wrt == "Q" else "y'*log(x)"
    with pytest.raises(InputError, match="constrained"):
        rewrite.derive(f, wrt, vars)
    (name, spec), = vars.items()
    assert main(["derive", f, "--wrt", wrt, "--var", f"{name}: {spec}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "constrained" in err[0]
