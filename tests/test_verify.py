"""Proving and refuting identities and gradient claims (rewrite.verify, rewrite.verification).

Every true identity of tests/data/identities.json is proved, and its proof is replayed by the
kernel; every false claim is refuted at a point where the two sides really differ (recomputed
here); claims that need a prop prove with it and not without; the numeric tolerance neither
refutes true identities with inverses and determinants nor lets a small real error through.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rewrite import expr as E
from rewrite.errors import InputError, ParseError, ShapeError
from rewrite.numeric import evaluate
from rewrite.proof.checker import check, terms
from rewrite.syntax import parse
from rewrite.verification import verify, verify_gradient

DATA = Path(__file__).parent / "data"
CATALOGUE = json.loads((DATA / "identities.json").read_text())
TRUE = CATALOGUE["identities"]
FALSE = CATALOGUE["false_claims"]
FALSE_GRADIENTS = json.loads((DATA / "false_gradients.json").read_text())["entries"]


def relative_gap(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b))) / max(1.0, float(np.max(np.abs(a))), float(np.max(np.abs(b))))


def assert_really_differs(lhs: str, rhs: str, cx) -> None:
    """Evaluate both sides again at the counterexample: the stored values are right and differ."""
    env = {k: np.array(v, dtype=float) for k, v in cx.env.items()}
    sizes = dict(getattr(cx, "sizes", {}) or {})
    lv, rv = evaluate(parse(lhs), env, sizes=sizes), evaluate(parse(rhs), env, sizes=sizes)
    assert np.allclose(lv, np.array(cx.lhs_value), rtol=1e-9, atol=1e-12)
    assert np.allclose(rv, np.array(cx.rhs_value), rtol=1e-9, atol=1e-12)
    assert np.allclose(lv - rv, np.array(cx.difference), rtol=1e-9, atol=1e-12)
    assert relative_gap(lv, rv) > 1e-6


# --- the catalogue ------------------------------------------------------------------------------
def test_catalogue_size_and_ids():
    ids = [e["id"] for e in TRUE + FALSE]
    assert len(ids) == len(set(ids))
    assert len(TRUE) >= 45 and len(FALSE) >= 20
    assert all(e["source"] and e["topic"] for e in TRUE + FALSE)


@pytest.mark.parametrize("entry", TRUE, ids=[e["id"] for e in TRUE])
def test_true_identity_is_proved_and_the_proof_checks(entry):
    r = verify(entry["lhs"], entry["rhs"], entry["vars"])
    assert r.status != "refuted", r.counterexample
    if "limit" in entry and r.status == "unknown":
        assert r.proof is None and r.reason
        return
    assert r.status == "proved", r.reason
    report = check(r.proof)
    assert report.ok, report.errors
    claim = (r.proof.claim.lhs, r.proof.claim.rhs)
    sides = (str(parse(entry["lhs"])), str(parse(entry["rhs"])))
    assert claim == (sides[::-1] if r.stats["claim_reversed"] else sides)
    # the proof replays from one side to the other
    seen = terms(r.proof)
    assert (str(seen[0]), str(seen[-1])) == claim


@pytest.mark.parametrize("entry", FALSE, ids=[e["id"] for e in FALSE])
def test_false_claim_is_refuted_with_a_real_counterexample(entry):
    r = verify(entry["lhs"], entry["rhs"], entry["vars"])
    assert r.status == "refuted" and r.proof is None
    assert_really_differs(entry["lhs"], entry["rhs"], r.counterexample)


def test_counterexample_honours_declared_props():
    r = verify("inv(S)*A", "A*inv(S)", {"S": "n x n, spd", "A": "n x n"})
    assert r.status == "refuted"
    s = np.array(r.counterexample.env["S"])
    assert np.allclose(s, s.T) and np.all(np.linalg.eigvalsh(s) > 0)


# --- claims that need a prop ---------------------------------------------------------------------
@pytest.mark.parametrize("lhs, rhs, props", [
    ("x'*S*y", "y'*S*x", "symmetric"),
    ("S'", "S", "symmetric"),
    ("inv(S)'", "inv(S)", "symmetric, invertible"),
    ("tr(S*A)", "tr(S*A')", "symmetric"),
])
def test_symmetric_claims_prove_with_the_prop_and_are_refuted_without(lhs, rhs, props):
    assert verify(lhs, rhs, {"S": f"n x n, {props}"}).status == "proved"
    without = verify(lhs, rhs, {"S": "n x n"})
    assert without.status == "refuted"
    assert_really_differs(lhs, rhs, without.counterexample)


@pytest.mark.parametrize("lhs, rhs, names", [
    ("inv(A*B)", "inv(B)*inv(A)", "AB"),
    ("inv(inv(A))", "A", "A"),
    ("inv(A)*A*B", "B", "A"),
])
def test_inverse_claims_prove_only_when_invertible_is_declared(lhs, rhs, names):
    plain = {n: "n x n" for n in "AB"}
    declared = {**plain, **{n: "n x n, invertible" for n in names}}
    assert verify(lhs, rhs, declared).status == "proved"
    # random square matrices are invertible, so the numbers agree; the rules need the prop
    without = verify(lhs, rhs, plain)
    assert without.status == "unknown" and without.proof is None
    assert "saturated" in without.reason or "budget" in without.reason


# --- numeric tolerance ----------------------------------------------------------------------------
@pytest.mark.parametrize("lhs, rhs, vars", [
    ("inv(A*B*C)", "inv(C)*inv(B)*inv(A)", {n: "n x n, invertible" for n in "ABC"}),
    ("det(inv(A))", "1/det(A)", {"A": "n x n, invertible"}),
    ("logdet(inv(S))", "-logdet(S)", {"S": "n x n, spd"}),
    ("det(A*B*C)", "det(A)*det(B)*det(C)", {n: "n x n" for n in "ABC"}),
    ("tr(inv(A)*B*A)", "tr(B)", {"A": "n x n, invertible", "B": "n x n"}),
])
def test_true_identities_with_inverses_and_determinants_are_never_refuted(lhs, rhs, vars):
    for seed in range(25):
        r = verify(lhs, rhs, vars, seed=seed)
        assert r.status == "proved", (seed, r.reason)
        assert r.stats["numeric"]["max_rel_error"] < 1e-9


def tenth_power(k: int, term: str) -> str:
    """(1/10)^k * term, written with small constants only (see the note below)."""
    for _ in range(k):
        term = f"(1/10)*({term})"
    return term


# Written with small constants: numeric.compare counts every intermediate value, constants
# included, in the rounding scale, so a factor written (1 + 1/100000) hides its own error.
@pytest.mark.parametrize("lhs, rhs, vars", [
    ("A*B", "A*B + " + tenth_power(4, "A*B"), {}),
    ("det(A*B)", "det(A)*det(B) + " + tenth_power(5, "det(A)*det(B)"), {"A": "n x n", "B": "n x n"}),
    ("inv(A*B)", "inv(B)*inv(A) + " + tenth_power(5, "inv(A)"), {"A": "n x n, invertible", "B": "n x n, invertible"}),
])
def test_a_tiny_but_real_error_is_refuted(lhs, rhs, vars):
    r = verify(lhs, rhs, vars)
    assert r.status == "refuted"
    cx = r.counterexample
    assert_really_differs(lhs, rhs, cx)
    assert relative_gap(cx.lhs_value, cx.rhs_value) < 1e-3   # small, and still caught


# --- input ---------------------------------------------------------------------------------------
def test_sides_of_different_shapes_are_an_input_error():
    with pytest.raises(ShapeError) as info:
        verify("A'", "A", {"A": "n x m"})
    assert "same shape" in str(info.value) and "n x m" in str(info.value).replace("×", "x")
    with pytest.raises(ShapeError):
        verify("tr(A)", "A", {"A": "n x n"})
    with pytest.raises(ParseError):
        verify("tr(A*", "A")
    with pytest.raises(InputError):
        verify("d(A)", "A")


def test_the_same_term_is_proved_with_no_steps():
    r = verify("tr(A*B)", E.tr(E.mul(E.sym("A"), E.sym("B"))))
    assert r.status == "proved" and r.proof.steps == [] and check(r.proof).ok


def test_a_claim_that_holds_only_with_an_oriented_rule_backward_is_stated_the_other_way():
    # 5 -> 2 + 3 would read the computing rule num-add backward: the proof runs the other way
    r = verify("5*tr(X)", "(2 + 3)*tr(X)")
    assert r.status == "proved" and r.stats["claim_reversed"]
    assert (r.proof.claim.lhs, r.proof.claim.rhs) == ("(2 + 3)*tr(X)", "5*tr(X)")
    assert check(r.proof).ok


def test_a_square_times_itself_is_its_square():
    r = verify("X*X", "X^2", {"X": "n x n"})
    assert r.status == "proved" and not r.stats["claim_reversed"] and check(r.proof).ok


# --- gradients -----------------------------------------------------------------------------------
def fd_gradient(f: str, wrt: str, env: dict, sizes: dict, symmetric: bool) -> np.ndarray:
    x0 = env[wrt]
    g = np.zeros_like(x0)
    h = 1e-6
    for i in range(x0.shape[0]):
        for j in range(x0.shape[1]):
            step = np.zeros_like(x0)
            step[i, j] = h
            if symmetric:
                step[j, i] = h
            up = evaluate(parse(f), {**env, wrt: x0 + step}, sizes=sizes)[0, 0]
            down = evaluate(parse(f), {**env, wrt: x0 - step}, sizes=sizes)[0, 0]
            g[i, j] = (up - down) / (2 * h) / (2 if symmetric and i != j else 1)
    return g


@pytest.mark.parametrize("f, wrt, claimed, vars", [
    ("tr(A*X*B)", "X", "A'*B'", {"X": "n x m"}),
    ("tr(A*X*B)", "X", "(B*A)'", {"X": "n x m"}),                  # equal to the derived form
    ("x'*A*x", "x", "A*x + A'*x", {}),
    ("logdet(X)", "X", "inv(X)", {"X": "n x n, spd"}),
])
def test_right_gradient_claims_are_proved(f, wrt, claimed, vars):
    r = verify_gradient(f, wrt, claimed, vars)
    assert r.status == "proved", r.reason
    assert r.proof.claim.kind == "gradient"
    assert r.proof.claim.gradient == str(parse(claimed))
    seen = terms(r.proof)
    assert seen[0] == E.diff(parse(f)) and str(seen[-1]) == r.proof.claim.differential
    report = check(r.proof)
    assert report.ok, report.errors


@pytest.mark.parametrize("entry", FALSE_GRADIENTS, ids=[e["id"] for e in FALSE_GRADIENTS])
def test_false_gradient_claims_are_refuted(entry):
    r = verify_gradient(entry["f"], entry["wrt"], entry["claimed"], entry["vars"])
    assert r.status == "refuted" and r.proof is None
    cx = r.counterexample
    env = {k: np.array(v, dtype=float) for k, v in cx.env.items()}
    symmetric = cx.note.endswith("symmetric")
    claimed = evaluate(parse(entry["claimed"]), env, sizes=cx.sizes)
    if symmetric:
        claimed = (claimed + claimed.T) / 2
    assert np.allclose(claimed, np.array(cx.rhs_value), rtol=1e-9, atol=1e-12)
    fd = fd_gradient(entry["f"], entry["wrt"], env, cx.sizes, symmetric)
    assert np.allclose(fd, np.array(cx.lhs_value), rtol=1e-4, atol=1e-5)
    assert relative_gap(fd, claimed) > 1e-3


def test_gradient_claim_of_the_wrong_shape_is_an_input_error():
    with pytest.raises(ShapeError):
        verify_gradient("tr(A*X*B)", "X", "A*B", {"X": "n x m", "A": "m x n", "B": "m x p"})
    with pytest.raises(InputError):
        verify_gradient("tr(A*X)", "X", "C'", {"X": "n x n"})


def test_sympy_expressions_are_accepted_with_their_shapes():
    sp = pytest.importorskip("sympy")
    n = sp.Symbol("n", integer=True, positive=True)
    A, B = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("B", n, n)
    assert verify(sp.Trace(A * B), sp.Trace(B * A)).status == "proved"
    r = verify((A * B).T, A.T * B.T)
    assert r.status == "refuted" and np.array(r.counterexample.env["A"]).shape[0] == np.array(r.counterexample.env["A"]).shape[1]


# --- terms the e-graph cannot hold (kron, K): the directed normal forms of both sides ------------
def test_kron_identities_are_proved_through_the_tidy_normal_form():
    for lhs, rhs in [("kron(A, B)'", "kron(A', B')"), ("kron(A, B)*kron(C, D)", "kron(A*C, B*D)"),
                     ("kron(x', y)", "y*x'"), ("K(m, 1)*vec(X)", "vec(X)")]:
        r = verify(lhs, rhs, {"X": "m x 1"} if "K" in lhs else {})
        assert r.status == "proved", (lhs, rhs, r.stats.get("reason"))
        assert check(r.proof).ok


def test_a_kron_identity_the_normal_forms_miss_is_unknown_with_the_reason():
    r = verify("vec(A*X*B)", "kron(B', A)*vec(X)")
    assert r.status == "unknown" and r.proof is None
    assert "kron is outside the e-graph prover" in r.stats["reason"]


def test_a_false_kron_identity_is_refuted():
    r = verify("kron(A, B)", "kron(B, A)", {"A": "2 x 3", "B": "3 x 2"})
    assert r.status == "refuted" and r.counterexample is not None
