"""Tidy moves that need algebra beyond one rule: like terms collected in a sum of scalars or of
elementwise products (tidy_collect.py), quotients cancelled in an elementwise product, powers
of a matrix cancelled against its inverse.  Each answer is checked by finite differences and
comes with a proof the checker accepts."""
from __future__ import annotations

import pytest

import rewrite
from rewrite import numeric
from rewrite.proof.checker import check


@pytest.mark.parametrize("f, wrt, vars, gradient", [
    # logistic regression: the polynomial in sigmoid collapses
    ("y*log(sigmoid(x'*w)) + (1 - y)*log(1 - sigmoid(x'*w))", "w", {"y": "scalar"},
     "(y - sigmoid(x'*w))*x"),
    ("-(y'*log(sigmoid(A*w)) + (ones - y)'*log(ones - sigmoid(A*w)))", "w", {}, "A'*(sigmoid(A*w) - y)"),
    ("tr(X)*(y + 1 - y)", "X", {"y": "scalar"}, "I"),
    ("(x1 - m)'*inv(S)*(x1 - m) + (x2 - m)'*inv(S)*(x2 - m)", "m", {"S": "n x n, spd"},
     "-2*inv(S)*(x1 + x2 - 2*m)"),
    # Matrix Cookbook (58): det(X^k) has gradient k*det(X^k)*inv(X)'
    ("det(X^2)", "X", {"X": "n x n, invertible"}, "2*det(X^2)*inv(X)'"),
    ("det(X^4)", "X", {"X": "n x n, invertible"}, "4*det(X^4)*inv(X)'"),
    ("tr(inv(X)^2*X^3*A)", "X", {"X": "n x n, invertible"}, "A'"),
    # σ(-u) = 1 - σ(u) > 0: nothing to assume, and the quotient cancels
    ("sum(log(sigmoid(-x)))", "x", {}, "-sigmoid(x)"),
    # nothing to collect: the factored form stays
    ("x'*(A + B)*x", "x", {}, "(A + B + (A + B)')*x"),
])
def test_algebraic_tidying(f, wrt, vars, gradient):
    r = rewrite.derive(f, wrt, vars)
    assert str(r.gradient) == gradient
    assert check(r.proof).ok
    assert numeric.check_gradient(f, wrt, r.gradient, r.vars).ok


def test_a_quotient_cancels_only_where_its_divisor_is_known_nonzero():
    """(P./Q).*Q = P needs Q nonzero: a fact of the derivation, or a declaration."""
    from rewrite.pipeline import tidy
    from rewrite.shapes import infer, normalize_decls
    from rewrite.syntax import parse

    term = parse("(a./q).*b.*q")
    decls = infer(term, normalize_decls({"q": "n, nonzero"})).vars
    assert str(tidy(term, None, decls)[0]) == "a.*b"
    plain = infer(term, {}).vars
    assert str(tidy(term, None, plain)[0]) == "a./q.*b.*q"


def test_the_book_forms_of_the_logistic_derivative_are_proved():
    assert rewrite.verify_gradient("log(sigmoid(t))", "t", "sigmoid(-t)", {"t": "scalar"}).status == "proved"
    assert rewrite.verify("ones - sigmoid(X) = sigmoid(-X)").status == "proved"
    r = rewrite.derive("-(y'*log(sigmoid(A*w)) + (ones - y)'*log(ones - sigmoid(A*w)))", "w")
    assert r.assumptions == []   # 1 - σ(u) > 0 always


@pytest.mark.parametrize("f, wrt, vars, gradient", [
    ("exp(-x'*x/2)", "x", {}, "-exp(-x'*x/2)*x"),                 # numbers cancel across the quotient
    ("sum(log(exp(X) + ones))", "X", {}, "sigmoid(X)"),             # exp(u)./(exp(u) + 1) folds
    ("log(exp(t) + 1)", "t", {"t": "scalar"}, "sigmoid(t)"),
])
def test_the_issue_examples_read_like_the_book(f, wrt, vars, gradient):
    r = rewrite.derive(f, wrt, vars)
    assert str(r.gradient) == gradient and check(r.proof).ok
    assert numeric.check_gradient(f, wrt, r.gradient, r.vars).ok


@pytest.mark.parametrize("f, wrt, vars, line", [
    ("logdet(X)", "X", {}, "df = tr(inv(X)*dX)"),                        # not tr(inv(X)''*dX)
    ("logdet(X + t*A)", "t", {"t": "scalar"}, "df = tr(inv(X + t*A)*A)*dt"),   # a scalar t: G*dt
    ("tr(A*X*B)", "X", {}, "df = tr(B*A*dX)"),
])
def test_the_differential_line_reads_like_a_book(f, wrt, vars, line):
    r = rewrite.derive(f, wrt, vars)
    assert line in str(r).splitlines()
    assert str(r.differential).startswith("tr(")   # the claim keeps tr(G'*dX)
    # the readable form is the same linear function of dX
    assert numeric.compare(r.readable_differential, r.differential, r.vars).equal
