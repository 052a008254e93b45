"""The proof checker: it accepts proofs built from library rules and rejects every tampering.

Proofs here are built by hand: each step names a rule, a direction and a path.  The helper
computes every intermediate term with rules.match/instantiate, independently of the kernel, and
the tests compare those with the terms the checker's replay reaches (`checker.terms`).
"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from rewrite import expr as E
from rewrite.directed.rewriter import Step
from rewrite.proof.checker import CheckReport, check, terms
from rewrite.proof.model import (FORMAT, SCHEMA_PATH, EqualityClaim, GradientClaim, Proof, RuleText,
                                 json_schema, make_proof, schema_text)
from rewrite.rules import instantiate, library, match
from rewrite.shapes import normalize_decls
from rewrite.syntax import parse


def rewrite_once(term: E.Expr, rule: str, direction: str, path: tuple[int, ...]) -> E.Expr:
    """The term after one step, by plain matching (no kernel)."""
    r = library()[rule]
    pattern, build = r.sides(direction)
    subst = match(pattern, term.at(path))
    assert subst is not None, f"{rule} {direction} does not match {term.at(path)}"
    return term.replace(path, instantiate(build, subst))


def chain(start: str, moves) -> tuple[list[Step], list[E.Expr]]:
    """The steps and every term from `start` on."""
    seen, steps = [parse(start)], []
    for rule, direction, path in moves:
        steps.append(Step(rule, direction, path))
        seen.append(rewrite_once(seen[-1], rule, direction, path))
    return steps, seen


# d(tr(A*X*B)) -> tr((A'*B')'*dX): differentiate, clean the zeros, then the trace tricks.
TRACE_MOVES = [
    ("d-tr", "forward", ()),                       # 1  tr(d(A*X*B))
    ("d-mul", "forward", (0,)),                    # 2  tr(d(A*X)*B + A*X*dB)
    ("d-const", "forward", (0, 1, 1)),             # 3  tr(d(A*X)*B + A*X*0)
    ("mul-zero-r", "forward", (0, 1)),             # 4  tr(d(A*X)*B + 0)
    ("add-zero-r", "forward", (0,)),               # 5  tr(d(A*X)*B)
    ("d-mul", "forward", (0, 0)),                  # 6  tr((dA*X + A*dX)*B)
    ("d-const", "forward", (0, 0, 0, 0)),          # 7  tr((0*X + A*dX)*B)
    ("mul-zero-l", "forward", (0, 0, 0)),          # 8  tr((0 + A*dX)*B)
    ("add-zero-l", "forward", (0, 0)),             # 9  tr(A*dX*B)
    ("trace-cyclic", "forward", ()),               # 10 tr(B*(A*dX))
    ("mul-assoc", "backward", (0,)),               # 11 tr(B*A*dX)
    ("transpose-transpose", "backward", (0, 0, 0)),  # 12 tr(B''*A*dX)
    ("transpose-transpose", "backward", (0, 0, 1)),  # 13 tr(B''*A''*dX)
    ("transpose-mul", "backward", (0, 0)),         # 14 tr((A'*B')'*dX)
]
TRACE_VARS = {"X": "n x m", "A": "p x n", "B": "m x p"}


def trace_proof() -> Proof:
    steps, seen = chain("d(tr(A*X*B))", TRACE_MOVES)
    claim = GradientClaim(kind="gradient", f="tr(A*X*B)", wrt="X", gradient="A'*B'",
                          differential=str(seen[-1]))
    return make_proof(claim, normalize_decls(TRACE_VARS), steps, {"origin": "hand-built"})


def equality_proof(lhs: str, moves, vars: dict[str, str]) -> Proof:
    steps, seen = chain(lhs, moves)
    claim = EqualityClaim(kind="equality", lhs=lhs, rhs=str(seen[-1]))
    return make_proof(claim, normalize_decls(vars), steps)


def mutate(proof: Proof, edit) -> dict:
    d = json.loads(proof.to_json())
    edit(d)
    return d


def rejected(report: CheckReport, *needles: str) -> None:
    assert not report.ok and not report, "the checker accepted a tampered proof"
    text = "\n".join(report.errors)
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{text}"


# --- acceptance -------------------------------------------------------------------------------
def test_hand_built_gradient_proof_is_accepted():
    proof = trace_proof()
    assert proof.claim.differential == "tr((A'*B')'*dX)"
    assert set(proof.rules) == {m[0] for m in TRACE_MOVES}
    report = check(proof)
    assert report.ok and report.errors == [] and report.steps == 14
    assert str(report) == "valid: ∂(tr(A*X*B))/∂X = A'*B' (14 steps)"


def test_the_replay_reaches_the_terms_plain_matching_computes():
    _, seen = chain("d(tr(A*X*B))", TRACE_MOVES)
    assert terms(trace_proof()) == seen


def test_a_step_is_only_its_rule_direction_and_path():
    assert trace_proof().to_dict()["steps"][1] == {"rule": "d-mul", "direction": "forward", "path": [0]}


def test_dict_and_json_inputs_are_accepted():
    proof = trace_proof()
    assert check(proof.to_dict()).ok
    assert check(proof.to_json()).ok
    assert check(proof.to_json().encode()).ok
    assert Proof.from_json(proof.to_json()) == proof


def test_conditional_rule_accepted_when_the_condition_holds():
    proof = equality_proof("tr(S'*X)", [("transpose-symmetric", "forward", (0, 0))],
                           {"S": "n x n, symmetric", "X": "n x n"})
    assert proof.rules["transpose-symmetric"].if_ == ["symmetric(S)"]
    assert check(proof).ok


def test_a_backward_step_must_be_fixed_by_its_match():
    # I -> inv(S)*S would need S from somewhere: a step names no substitution, so it is refused
    d = {"format": FORMAT, "claim": {"kind": "equality", "lhs": "X*I", "rhs": "X*(inv(S)*S)"},
         "vars": {"X": "m x n", "S": "n x n, spd"},
         "steps": [{"rule": "inv-mul-self-l", "direction": "backward", "path": [1]}],
         "rules": {"inv-mul-self-l": {"lhs": "inv(A)*A", "rhs": "I", "if": ["invertible(A)"]}}}
    rejected(check(d), "step 1 (inv-mul-self-l backward at [1])", "does not fix A")


def test_constant_folding_rule():
    proof = equality_proof("(2 + 3)*X", [("num-add", "forward", (0,))], {"X": "n x m"})
    assert proof.claim.rhs == "5*X" and check(proof).ok
    rejected(check(mutate(proof, lambda d: d["claim"].update(rhs="6*X"))), "after step 1", "6*X")


def test_zero_step_equality():
    assert check(equality_proof("A*B", [], {"A": "n x n", "B": "n x n"})).ok
    d = mutate(equality_proof("A*B", [], {"A": "n x n", "B": "n x n"}), lambda d: d["claim"].update(rhs="B*A"))
    rejected(check(d), "with no steps")


# --- tampering: each mutant is rejected, naming the step ---------------------------------------
def test_changed_rule_name():
    rejected(check(mutate(trace_proof(), lambda d: d["steps"][9].update(rule="trace-transpose"))),
             "step 10 (trace-transpose forward at [])", "not embedded")
    rejected(check(mutate(trace_proof(), lambda d: d["steps"][9].update(rule="no-such-rule"))), "step 10")


def test_changed_direction():
    rejected(check(mutate(trace_proof(), lambda d: d["steps"][10].update(direction="forward"))),
             "step 11 (mul-assoc forward at [0])")
    # trace-cyclic read backward is the same step: tr(A*B) = tr(B*A) is its own mirror image
    assert check(mutate(trace_proof(), lambda d: d["steps"][9].update(direction="backward"))).ok
    rejected(check(mutate(trace_proof(), lambda d: d["steps"][0].update(direction="backward"))),
             "step 1 (d-tr backward at [])")


def _one_step(rule: str, direction: str, before: str, after: str, decls: dict) -> dict:
    lib = library()[rule]
    return {"format": FORMAT, "claim": {"kind": "equality", "lhs": before, "rhs": after},
            "vars": decls, "steps": [{"rule": rule, "direction": direction, "path": []}],
            "rules": {rule: {"lhs": str(lib.lhs), "rhs": str(lib.rhs),
                             "if": [str(c) for c in lib.conditions], "oriented": lib.forward_only}}}


def test_an_oriented_rule_is_still_an_equation():
    # mul-one-l is "1*A => A" (the engine only runs it forward); read backward it is sound
    assert check(_one_step("mul-one-l", "backward", "X", "1*X", {"X": "n x m"})).ok


def test_a_computed_side_cannot_be_matched():
    # num-add builds eval(a + b): read backward it would turn 2 into any a + b
    rejected(check(_one_step("num-add", "backward", "2", "1 + 1", {})), "step 1 (num-add backward at [])", "eval")


def test_changed_path():
    rejected(check(mutate(trace_proof(), lambda d: d["steps"][10].update(path=[0, 0]))), "step 11")
    rejected(check(mutate(trace_proof(), lambda d: d["steps"][10].update(path=[0, 5]))),
             "step 11", "no subterm at path")


def test_a_step_that_does_not_match_where_it_says():
    rejected(check(mutate(trace_proof(), lambda d: d["steps"][9].update(rule="trace-transpose"))), "step 10")
    rejected(check(mutate(trace_proof(), lambda d: d["steps"][5].update(path=[0, 1]))),
             "step 6 (d-mul forward at [0, 1])", "does not match")


def test_dropped_step():
    rejected(check(mutate(trace_proof(), lambda d: d["steps"].pop(6))), "step 7")
    rejected(check(mutate(trace_proof(), lambda d: d["steps"].pop(0))), "step 1")
    rejected(check(mutate(trace_proof(), lambda d: d["steps"].pop())), "after step 13",
             "not the claim's differential")


def test_swapped_steps():
    def edit(d):
        d["steps"][3], d["steps"][4] = d["steps"][4], d["steps"][3]
    rejected(check(mutate(trace_proof(), edit)), "step 4")


def test_unsound_embedded_rule():
    def edit(d):
        d["rules"]["trace-cyclic"] = {"lhs": "tr(A*B)", "rhs": "tr(A)*tr(B)", "if": [], "oriented": False}
    rejected(check(mutate(trace_proof(), edit)), "rule 'trace-cyclic' differs from the library", "step 10")
    # the same for a dropped condition and for a changed orientation
    proof = equality_proof("tr(S'*X)", [("transpose-symmetric", "forward", (0, 0))],
                           {"S": "n x n, symmetric", "X": "n x n"})
    rejected(check(mutate(proof, lambda d: d["rules"]["transpose-symmetric"].update({"if": []}))),
             "states conditions []", "step 1")
    rejected(check(mutate(trace_proof(), lambda d: d["rules"]["trace-cyclic"].update(oriented=True))),
             "oriented=True", "step 10")


def test_own_rule_not_in_library():
    def edit(d):
        d["rules"]["tr-split"] = {"lhs": "tr(A*B)", "rhs": "tr(A)*tr(B)", "if": []}
        d["steps"][9]["rule"] = "tr-split"
    rejected(check(mutate(trace_proof(), edit)), "'tr-split': not a rule of the library", "step 10")


def test_changed_claim_gradient():
    # same shape, but the differential no longer is tr(G'*dX)
    rejected(check(mutate(trace_proof(), lambda d: d["claim"].update(gradient="2*A'*B'"))),
             "the differential")
    # gradient and differential changed together: the last step no longer reaches it
    def both(d):
        d["claim"].update(gradient="2*A'*B'", differential="tr((2*A'*B')'*dX)")
    rejected(check(mutate(trace_proof(), both)), "after step 14", "differential")
    rejected(check(mutate(trace_proof(), lambda d: d["claim"].update(f="tr(B*X*A)"))), "claim f", "ill-typed")
    rejected(check(mutate(trace_proof(), lambda d: d["claim"].update(f="tr(A*X*B)'"))), "step 1")


def test_gradient_of_the_wrong_shape():
    def edit(d):
        d["claim"].update(gradient="B*A", differential="tr((B*A)'*dX)")
    rejected(check(mutate(trace_proof(), edit)), "does not have the shape of X (n x m)")


def test_condition_that_does_not_hold():
    proof = equality_proof("tr(S'*X)", [("transpose-symmetric", "forward", (0, 0))],
                           {"S": "n x n, symmetric", "X": "n x n"})
    rejected(check(mutate(proof, lambda d: d["vars"].update(S="n x n"))),
             "step 1 (transpose-symmetric forward at [0, 0]): condition symmetric(S) does not hold")
    # d-const needs const(C) relative to wrt: dX is not constant (an equality claim has no wrt
    # at all, so nothing is constant in it)
    steps, seen = chain("tr(A*dX)", [("d-const", "forward", (0, 1))])
    claim = EqualityClaim(kind="equality", lhs="tr(A*dX)", rhs=str(seen[-1]))
    rejected(check(make_proof(claim, normalize_decls({"A": "n x n", "X": "n x n"}), steps)), "step 1", "const(C)")


def test_an_ill_typed_rewrite_is_refused():
    # trace-cyclic on tr(A*B) needs nothing more, but the result must keep the shape: here a
    # step claims mul-assoc at a scaling whose re-association is a different product
    d = _one_step("transpose-scalar", "forward", "X'", "X", {"X": "n x m"})
    rejected(check(d), "step 1", "scalar(s)")


def test_ill_typed_terms_and_undeclared_symbols():
    rejected(check(mutate(trace_proof(), lambda d: d["vars"].update(A="p x q"))), "ill-typed")
    rejected(check(mutate(trace_proof(), lambda d: d["vars"].pop("B"))), "B not declared")
    rejected(check(mutate(trace_proof(), lambda d: d["vars"].update(B="m x p, sideways"))), "vars:", "sideways")


def test_unparseable_term_is_reported():
    report = check(mutate(trace_proof(), lambda d: d["claim"].update(f="tr(A*X*B +")))
    rejected(report, "claim f", "cannot parse")


# --- malformed input: a report, never an exception ---------------------------------------------
@pytest.mark.parametrize("bad, needle", [
    ("{not json", "not JSON"),
    ("[1, 2]", "JSON object"),
    ("42", "JSON object"),
    ({"format": "rewrite-proof/3"}, "format is 'rewrite-proof/3'"),
    ({"format": "rewrite-proof/1"}, "derive the proof again"),
    ({"claim": {}}, "format is None"),
    ({"format": FORMAT, "claim": {"kind": "gradient"}, "vars": {}, "rules": {}, "steps": []}, "claim.gradient.f"),
    ({"format": FORMAT, "claim": {"kind": "limit", "x": "1"}, "vars": {}, "rules": {}, "steps": []}, "claim"),
])
def test_malformed_documents(bad, needle):
    rejected(check(bad), needle)


def test_malformed_step_fields():
    rejected(check(mutate(trace_proof(), lambda d: d["steps"][0].update(direction="sideways"))), "steps.0.direction")
    rejected(check(mutate(trace_proof(), lambda d: d["steps"][0].update(path=[-1]))), "steps.0.path")
    rejected(check(mutate(trace_proof(), lambda d: d["steps"][0].update(extra=1))), "steps.0.extra")
    # a model changed after construction is re-validated
    proof = trace_proof()
    proof.steps[0].direction = "sideways"
    rejected(check(proof), "direction")


# --- the published schema and the kernel's independence --------------------------------------
def test_committed_schema_is_current():
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text(), \
        "run `python -m rewrite.proof.model` to regenerate the schema"


def test_proofs_validate_against_the_schema():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema == json_schema()
    jsonschema.validate(trace_proof().to_dict(), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**trace_proof().to_dict(), "format": "rewrite-proof/0"}, schema)


def test_rule_text_round_trip():
    r = RuleText.model_validate({"lhs": "S'", "rhs": "S", "if": ["symmetric(S)"]})
    assert r.if_ == ["symmetric(S)"] and r.model_dump(by_alias=True)["if"] == ["symmetric(S)"]


def test_checker_imports_no_engine():
    code = ("import sys, rewrite.proof.checker, rewrite.proof.render\n"
            "bad = [m for m in sys.modules if m.split('.')[0] == 'egglog' or m.startswith('rewrite.egg')"
            " or m in ('rewrite.pipeline', 'rewrite.stages', 'rewrite.api', 'rewrite.proof.reconstruct',"
            " 'rewrite.proof.build', 'rewrite.proof.shorten')]\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# --- proofs of real derivations: accepted, and every mutant rejected -------------------------
CASES = [("tr(A*X*B)", {"X": "n x m"}), ("logdet(X)", {"X": "n x n, spd"}),
         ("tr(X'*S*X)", {"X": "n x m", "S": "n x n, symmetric"}), ("a'*X*b", {"X": "n x m"})]


@pytest.mark.parametrize("f, vars", CASES)
def test_derived_proofs_accepted_and_every_mutant_rejected(f, vars):
    from rewrite.pipeline import derive, proof_of_derivation

    proof = proof_of_derivation(derive(f, "X", vars))
    assert check(proof).ok, str(check(proof))
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(json.loads(proof.to_json()), json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    n = len(proof.steps)
    mutants = 0
    for k in range(n):
        flipped = "backward" if proof.steps[k].direction == "forward" else "forward"

        def swap(d):
            d["steps"][k], d["steps"][k + 1] = d["steps"][k + 1], d["steps"][k]
        for edit in (lambda d: d["steps"].pop(k),
                     lambda d: d["steps"][k].update(path=d["steps"][k]["path"] + [0]),
                     lambda d: d["steps"][k].update(direction=flipped),
                     swap if k + 1 < n else None):
            if edit is None:
                continue
            mutant = mutate(proof, edit)
            if not _still_reaches(mutant, str(E.diff(parse(f))), proof.claim.differential):
                rejected(check(mutant))
                mutants += 1
    assert mutants >= 2 * n   # most edits break the proof; the few harmless ones were skipped


def _still_reaches(d: dict, start: str, end: str) -> bool:
    """Does the (mutated) step list still lead from start to end by plain matching?  A swap of
    two steps at disjoint places does, and is then a valid proof of the same claim."""
    term = parse(start)
    for step in d["steps"]:
        try:
            term = rewrite_once(term, step["rule"], step["direction"], tuple(step["path"]))
        except (AssertionError, IndexError, KeyError):
            return False
    return str(term) == end


def test_claim_with_differentials_is_refused():
    rejected(check(mutate(trace_proof(), lambda d: d["claim"].update(f="tr(A*dX*B)"))), "f contains a differential")


def test_declarations_round_trip_through_the_proof():
    decls = normalize_decls({"S": "n x n, spd", "D": "3 x 3, diagonal", "x": "n", "c": "scalar", "X": "n x m"})
    proof = make_proof(EqualityClaim(kind="equality", lhs="X", rhs="X"), decls, [])
    assert normalize_decls(proof.vars) == decls
    assert proof.vars == {"S": "n x n, spd", "D": "3 x 3, diagonal", "x": "n x 1", "c": "scalar", "X": "n x m"}
