"""Assumptions: where a derivative exists.  A derivation records the facts its differentiation
rules need (det(X) > 0 for log(det(X)), x ≠ 0 for norm2(x)) unless the declarations imply them;
the result states them, the proof's claim lists them, and the checker replays the steps with
exactly those facts, each of which some step must use."""
from __future__ import annotations

import json

import pytest

import rewrite
from rewrite import numeric
from rewrite.assumptions import Assumptions, describe_texts, human, implied, parse_fact
from rewrite.proof.checker import check
from rewrite.proof.kernel import typed
from rewrite.shapes import normalize_decls
from rewrite.syntax import parse


@pytest.mark.parametrize("f, wrt, vars, facts", [
    ("log(det(X))", "X", {}, ["positive(det(X))"]),
    ("log(abs(det(X)))", "X", {}, ["invertible(X)"]),          # |det X| > 0: X invertible
    ("sum(log(x))", "x", {}, ["positive(x)"]),
    ("norm2(x)", "x", {}, ["nonnull(x)"]),
    ("tr(inv(X))", "X", {}, ["invertible(X)"]),
    ("tr(inv(X))", "X", {"X": "n x n, spd"}, []),                # declared: nothing to assume
    ("sum(log(x))", "x", {"x": "n, positive"}, []),
    ("x'*x/(a'*x)", "x", {}, ["nonzero(a'*x)"]),
    ("sum(sqrt(exp(x)))", "x", {}, []),                          # exp(x) > 0 always
    ("tr(X)^(-1)", "X", {}, ["nonzero(tr(X))"]),
    ("tr(X)^3", "X", {}, []),
])
def test_the_facts_a_derivation_needs(f, wrt, vars, facts):
    r = rewrite.derive(f, wrt, vars)
    assert r.assumptions == facts
    assert r.proof.claim.assumptions == facts
    assert check(r.proof).ok
    assert numeric.check_gradient(f, wrt, r.gradient, r.vars).ok


def test_results_state_their_facts_for_people():
    r = rewrite.derive("log(det(X))", "X")
    assert r.where == ["det(X) > 0"]
    assert "assuming det(X) > 0" in str(r).splitlines()
    assert str(r).splitlines()[-1].startswith("∂f/∂X = ")   # the last line stays the answer
    assert r.as_dict()["assumptions"] == ["positive(det(X))"]
    assert rewrite.derive("sum(log(x))", "x").where == ["x > 0 (entrywise)"]
    assert rewrite.derive("norm2(x)", "x").where == ["x ≠ 0"]
    h = rewrite.hessian("norm2(x)", "x")
    assert h.assumptions == ["nonnull(x)"] and check(h.proof).ok
    v = rewrite.vjp("log(X)", "X")
    assert v.assumptions == ["positive(X)"] and check(v.proof).ok
    d = rewrite.derivative("inv(X)", "X")
    assert d.assumptions == ["invertible(X)"] and check(d.proof).ok and check(d.differential_proof).ok


def _proof(f="log(det(X))", wrt="X"):
    return json.loads(rewrite.derive(f, wrt).proof.to_json())


def test_a_proof_without_its_assumption_is_rejected_at_the_step_that_needs_it():
    d = _proof()
    d["claim"]["assumptions"] = []
    report = check(d)
    assert not report.ok and "d-log" in report.errors[0] and "positive(A) does not hold" in report.errors[0]


def test_an_assumption_no_step_uses_is_rejected():
    d = _proof()
    d["claim"]["assumptions"].append("nonzero(tr(X))")
    report = check(d)
    assert not report.ok
    assert report.errors == ["claim: the assumption nonzero(tr(X)) is used by no step"]


@pytest.mark.parametrize("text, needle", [
    ("small(X)", "not an assumption"),
    ("nonzero(det(Y))", "Y not declared"),
    ("nonzero(X*)", "unexpected end of input"),
    ("nonzero(tr(X) + X)", "ill-typed"),
])
def test_malformed_assumptions_are_rejected(text, needle):
    d = _proof()
    d["claim"]["assumptions"] = ["positive(det(X))", text]
    report = check(d)
    assert not report.ok and any(needle in e for e in report.errors), report.errors


def test_a_weaker_stated_fact_does_not_do():
    """det(X) ≠ 0 does not give det(X) > 0, which log needs."""
    d = _proof()
    d["claim"]["assumptions"] = ["nonzero(det(X))"]
    assert not check(d).ok


# --- what follows from what -------------------------------------------------------------------------
DECLS = normalize_decls({"X": "n x n", "A": "n x n", "B": "n x n", "x": "n", "y": "n", "s": "scalar",
                         "P": "n x n, spd", "R": "n x m"})


def follows(pred, text, facts=()):
    known = {parse_fact(f): typed(parse_fact(f)[1], DECLS) for f in facts}
    trail = []
    return implied(pred, typed(parse(text), DECLS), DECLS, known, trail), trail


@pytest.mark.parametrize("pred, text, facts", [
    ("positive", "exp(x)", []),
    ("nonzero", "det(X)", ["invertible(X)"]),
    ("invertible", "X", ["positive(det(X))"]),
    ("positive", "abs(s)", ["nonzero(s)"]),
    ("positive", "x'*x", ["nonnull(x)"]),
    ("nonzero", "norm2(x)", ["nonnull(x)"]),
    ("nonzero", "2*s*s", ["nonzero(s)"]),
    ("nonzero", "s^(-2)", ["nonzero(s)"]),
    ("invertible", "X", ["invertible(A*X*B)"]),     # a factor of an invertible square product
    ("invertible", "inv(X)'", ["invertible(X)"]),
    ("positive", "det(P)", []),
    ("positive", "tr(X'*X)", ["nonnull(X)"]),
])
def test_implications(pred, text, facts):
    ok, trail = follows(pred, text, facts)
    assert ok and set(trail) <= {parse_fact(f) for f in facts}


@pytest.mark.parametrize("pred, text, facts", [
    ("nonzero", "x'*y", ["nonzero(x)", "nonzero(y)"]),   # (1, -1)*(1, 1)' = 0
    ("positive", "X^2", ["nonzero(X)"]),                   # a matrix power is not entrywise
    ("nonzero", "det(X)", []),
    ("positive", "s", ["nonzero(s)"]),
    ("invertible", "R", []),
    ("invertible", "X", ["invertible(X*R*R')"]),          # R is not square
])
def test_non_implications(pred, text, facts):
    assert not follows(pred, text, facts)[0]


def test_open_assumptions_record_plain_facts_and_undo_failed_steps():
    a = Assumptions(open=True)
    assert a.establish("positive", typed(parse("abs(det(X))"), DECLS), DECLS)
    assert list(a.facts) == [("invertible", parse("X"))]
    mark = a.mark()
    a.establish("nonzero", typed(parse("tr(X)"), DECLS), DECLS)
    a.rollback(mark)
    assert list(a.facts) == [("invertible", parse("X"))]


def test_human_forms():
    assert human(("nonzero", parse("det(X)"))) == "det(X) ≠ 0"
    assert human(("positive", parse("x")), scalar=False) == "x > 0 (entrywise)"
    assert describe_texts(["invertible(X)", "nonnull(x)"], DECLS) == ["X invertible", "x ≠ 0"]
