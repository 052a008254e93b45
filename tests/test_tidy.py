"""The tidy stage: its normal form, moves taken whole or not at all, and its safety nets."""
from __future__ import annotations

import pytest

import rewrite
from rewrite import numeric
from rewrite.directed import tidy_rules
from rewrite.directed.rewriter import Rewriter
from rewrite.pipeline import tidy
from rewrite.proof.checker import check
from rewrite.proof.kernel import StepError, typed
from rewrite.proof.model import EqualityClaim, make_proof
from rewrite.shapes import infer, normalize_decls
from rewrite.syntax import parse


def tidied(text: str, vars: dict | None = None) -> tuple[str, list]:
    decls = infer(parse(text), normalize_decls(vars or {})).vars
    out, steps = tidy(parse(text), None, decls)
    proof = make_proof(EqualityClaim(kind="equality", lhs=text, rhs=str(out)), decls, steps)
    assert check(proof).ok, check(proof).errors
    same = numeric.compare(parse(text), out, decls, seed=1)
    assert same.equal, same.details
    return str(out), steps


@pytest.mark.parametrize("before, after", [
    ("((A*B)*C)'", "C'*B'*A'"),                        # transposes to the leaves, product left-nested
    ("A*(B*(C*D))", "A*B*C*D"),
    ("(x*2)*3", "6*x"),                                # scalars to the front, numbers folded
    ("A*(-B)", "-A*B"),                                # the sign on the first factor
    ("x'*A*x*(1/2) + x'*A*x*(1/2)", "x'*A*x"),         # like terms
    ("A*x + A'*x", "(A + A')*x"),                      # a common last factor
    ("X*b*c' + X*c*b'", "X*(b*c' + c*b')"),            # a common first factor
    ("y - (-2)*z", "y + 2*z"),
    ("x*(1/norm2(x))", "x/norm2(x)"),                  # division out of the product
    ("(ones - s).*ones", "ones - s"),
    ("A*inv(X)'*X'", "A"),                             # an inverse cancels
    ("2*(A.*B)", "2*A.*B"),                            # a scalar into a Hadamard product's first factor
])
def test_normal_forms(before, after):
    vars = {"X": "n x n, invertible", "x": "n", "s": "n x m", "A": "n x n", "B": "n x n"}
    if "C" in before:
        vars = {}
    assert tidied(before, vars)[0] == after


def test_a_long_product_is_tidied_in_linear_steps():
    """Right-nested, it is left-nested from the top, one step a factor (bottom-up would move
    each factor through the whole chain below it: quadratic)."""
    n = 40
    text = "*".join(f"A{i}" for i in range(n - 1)) + f"*A{n - 1}"
    right_nested = "(".join(f"A{i}*" for i in range(n - 1)) + f"A{n - 1}" + ")" * (n - 2)
    out, steps = tidied(right_nested)
    assert out == text and len(steps) == n - 2
    out, steps = tidied(f"({text})'")
    assert len(steps) <= 2 * n


def test_a_move_is_taken_whole_or_not_at_all():
    decls = infer(parse("tr(A*B)"), {}).vars
    rw = Rewriter(typed(parse("tr(A*B)"), decls), decls, None)

    def half(scratch):
        scratch.apply("trace-cyclic", ())
        scratch.apply("trace-cyclic", (0, 0))   # no such place: the whole move is dropped
    assert rw.transaction((), half) is False
    assert rw.steps == [] and str(rw.term.expr) == "tr(A*B)"
    assert rw.transaction((), lambda scratch: scratch.apply("trace-cyclic", ())) is True
    assert str(rw.term.expr) == "tr(B*A)" and len(rw.steps) == 1
    with pytest.raises(StepError):
        rw.apply("trace-cyclic", (0, 0, 0))


def test_rules_that_undo_each_other_stop_with_a_cycle_not_a_hang(monkeypatch):
    rules = dict(tidy_rules.RULES)
    rules["+"] = [("add-comm", "forward", None)] + rules["+"]   # A + B -> B + A -> A + B ...
    monkeypatch.setattr("rewrite.directed.tidy.RULES", rules)
    result = rewrite.derive("tr(A*X) + tr(B*X)", "X")
    assert [s["stop"] for s in result.stats if s["stage"] == "tidy"] == ["cycle"]
    assert check(result.proof).ok   # an untidy gradient is still a proved one
    assert numeric.check_gradient("tr(A*X) + tr(B*X)", "X", result.gradient, result.vars).ok


def test_the_gradients_of_the_catalogue_never_cycle():
    import json
    from pathlib import Path

    entries = json.loads((Path(__file__).parent / "data" / "gradients.json").read_text())["entries"]
    for e in entries:
        r = rewrite.derive(e["f"], e["wrt"], e.get("vars") or {}, proof=False)
        assert r.stats[-1]["stop"] == "done", (e["id"], r.stats[-1])
