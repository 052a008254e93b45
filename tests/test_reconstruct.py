"""Proof reconstruction from snapshots and shortening (the identity prover's proofs).

Reconstruction re-discovers, on a frozen e-graph, the rule steps between two members of a class;
shortening removes detours; `build` makes them a proof the kernel accepts.
"""
from __future__ import annotations

from fractions import Fraction

import pytest

from rewrite import expr as E
from rewrite.egg.compile import RuleUse
from rewrite.egg.session import Budget, Session
from rewrite.errors import RewriteError
from rewrite.proof.build import proof_of_equality
from rewrite.proof.checker import check
from rewrite.proof.reconstruct import Limits, Move, ReconstructionFailed, reconstruct, replay
from rewrite.proof.shorten import cut_local_loops, cut_loops, shorten, valid
from rewrite.rules import library
from rewrite.shapes import infer, normalize_decls
from rewrite.syntax import parse

def chains(steps, source, target) -> bool:
    """Every step starts where the previous ended; the first at source, the last at target."""
    terms = [source] + [s.after for s in steps]
    return all(s.before == t for s, t in zip(steps, terms)) and terms[-1] == target


# --- single snapshots -------------------------------------------------------------------------------
def test_equality_snapshot_cyclic_trace():
    decls = normalize_decls({"A": "n x m", "B": "m x p", "C": "p x n"})
    lhs, rhs = parse("tr(A*B*C)"), parse("tr(C*A*B)")
    uses = [RuleUse("trace-cyclic", "forward"), RuleUse("mul-assoc", "forward"),
            RuleUse("mul-assoc", "backward")]
    with Session(uses, None, decls) as s:
        s.add(lhs, infer(lhs, decls))
        s.add(rhs, infer(rhs, decls))
        s.run(Budget(iterations=8))
        snap = s.snapshot()
    rec = reconstruct(snap, lhs, rhs, decls, None)
    assert chains(rec.steps, lhs, rhs)
    assert {s.rule for s in rec.steps} <= {"trace-cyclic", "mul-assoc"}
    proof = proof_of_equality(lhs, rhs, snap, decls)
    assert proof.claim.kind == "equality" and (proof.claim.lhs, proof.claim.rhs) == ("tr(A*B*C)", "tr(C*A*B)")
    report = check(proof)
    assert report.ok, report.errors
    assert len(proof.steps) <= len(rec.steps)


def _saturated(uses, terms, decls, iterations=8):
    with Session(uses, None, decls) as s:
        for t in terms:
            s.add(t, infer(t, decls))
        s.run(Budget(iterations=iterations))
        return s.snapshot()


NO_FALLBACK = Limits(fallback_size=0)   # the e-graph search alone must find these


def test_a_number_condition_drives_the_subterm_to_the_literal():
    # egglog checks num(a) on the class of (-1/3)', which also holds -1/3 (transpose-scalar);
    # the kernel checks it on the term, so (-1/3)' must first become -1/3
    decls = normalize_decls({"A": "n x m"})
    third = E.num(Fraction(-1, 3))
    lhs = E.Expr(E.MUL, (E.Expr(E.SUB, (E.Expr(E.TRANSPOSE, (third,)), E.num(Fraction(1, 3)))),
                         E.sym("A")))
    rhs = E.Expr(E.MUL, (E.num(Fraction(-2, 3)), E.sym("A")))
    snap = _saturated([RuleUse("transpose-scalar"), RuleUse("num-sub")], [lhs, rhs], decls)
    rec = reconstruct(snap, lhs, rhs, decls, None, limits=NO_FALLBACK)
    assert [s.rule for s in rec.steps] == ["transpose-scalar", "num-sub"]
    assert chains(rec.steps, lhs, rhs)


def test_an_edge_that_keeps_the_top_enode_but_changes_its_children_is_used():
    # on a scalar class tr(s) = s puts tr(c) in c; hadamard-swap then links tr(c) to tr(c),
    # and that edge is the only link between the two products inside
    decls = normalize_decls({"a": "n x 1", "b": "n x 1", "c": "n x 1"})
    lhs, rhs = parse("a'*(b.*c)"), parse("(a.*b)'*c")
    uses = [RuleUse("hadamard-swap"), RuleUse("trace-scalar"), RuleUse("trace-scalar", "backward")]
    snap = _saturated(uses, [lhs], decls, iterations=4)
    rec = reconstruct(snap, lhs, rhs, decls, None, limits=NO_FALLBACK)
    assert [s.rule for s in rec.steps] == ["trace-scalar", "hadamard-swap", "trace-scalar"]
    assert chains(rec.steps, lhs, rhs)


# --- the failure type -----------------------------------------------------------------------------
def test_terms_of_different_classes_fail_with_a_reason():
    decls = normalize_decls({"A": "n x n", "B": "n x n"})
    lhs = parse("tr(A*B)")
    snap = _saturated([RuleUse("trace-cyclic")], [lhs], decls)
    with pytest.raises(ReconstructionFailed) as info:
        reconstruct(snap, lhs, parse("tr(A*B')"), decls, None)
    assert isinstance(info.value, RewriteError)
    assert "class" in info.value.reason or "chain" in info.value.reason


def test_a_replayed_step_that_does_not_match_is_refused():
    decls = normalize_decls({"A": "n x n"})
    with pytest.raises(ReconstructionFailed):
        replay(parse("tr(A')"), [Move("trace-cyclic", "forward", (), (("A", parse("A")), ("B", parse("A"))))],
               decls, None)


# --- shortening -----------------------------------------------------------------------------------
DECLS = normalize_decls({"A": "n x m", "B": "m x n"})


def _steps(source: str, moves):
    return replay(parse(source), [Move(r, d, p, tuple(sorted((k, parse(v)) for k, v in s.items())))
                                  for r, d, p, s in moves], DECLS, None)


def test_shorten_cancels_a_rule_followed_by_its_inverse():
    detour = _steps("tr(A*B)", [
        ("transpose-transpose", "backward", (0, 0), {"A": "A"}),   # A -> A''
        ("transpose-transpose", "forward", (0, 0), {"A": "A"}),    # A'' -> A
        ("trace-cyclic", "forward", (), {"A": "A", "B": "B"}),
    ])
    assert [str(s.after) for s in detour] == ["tr(A''*B)", "tr(A*B)", "tr(B*A)"]
    short = shorten(detour, DECLS, None)
    assert [(s.rule, str(s.before), str(s.after)) for s in short] == [("trace-cyclic", "tr(A*B)", "tr(B*A)")]
    assert valid(short, parse("tr(A*B)"), parse("tr(B*A)"), DECLS, None, library())


def test_shorten_cuts_a_local_loop_around_a_step_elsewhere():
    # A -> A'' at one place, an unrelated step at another, then back: only the middle step stays,
    # and its terms no longer show the detour
    detour = _steps("A*B + A*B", [
        ("transpose-transpose", "backward", (0, 0), {"A": "A"}),
        ("transpose-transpose", "backward", (1, 1), {"A": "B"}),
        ("transpose-transpose", "forward", (0, 0), {"A": "A"}),
    ])
    assert str(detour[-1].after) == "A*B + A*B''"
    short = cut_local_loops(cut_loops(detour))
    assert [(s.path, str(s.before), str(s.after)) for s in short] == [((1, 1), "A*B + A*B", "A*B + A*B''")]
    assert valid(short, detour[0].before, detour[-1].after, DECLS, None, library())


def test_shortening_keeps_reconstructed_proofs_valid():
    decls = normalize_decls({"A": "n x m", "B": "m x p", "C": "p x n"})
    lhs, rhs = parse("tr((A*B*C)')"), parse("tr(B*C*A)")
    uses = [RuleUse("trace-cyclic"), RuleUse("trace-transpose"), RuleUse("mul-assoc"),
            RuleUse("mul-assoc", "backward"), RuleUse("transpose-mul"), RuleUse("transpose-transpose"),
            RuleUse("transpose-transpose", "backward")]
    snap = _saturated(uses, [lhs, rhs], decls, iterations=6)
    raw = reconstruct(snap, lhs, rhs, decls, None).steps
    short = shorten(raw, decls, None)
    assert len(short) <= len(raw)
    assert valid(short, lhs, rhs, decls, None, library())
    terms = [short[0].before] + [s.after for s in short]
    assert len(set(terms)) == len(terms)   # no term recurs
    assert check(proof_of_equality(lhs, rhs, snap, decls)).ok
