"""Rendering proofs for people: one line a step (or a run of one rule), ending with the result."""
from __future__ import annotations

import pytest
from test_checker import equality_proof, trace_proof

from rewrite.errors import InputError
from rewrite.printer import to_latex as expr_latex
from rewrite.printer import to_unicode
from rewrite.proof.checker import terms
from rewrite.proof.render import lines, to_latex, to_markdown
from rewrite.syntax import parse


def test_consecutive_steps_of_one_rule_share_a_line():
    proof = trace_proof()
    got = [(l.rule, l.count, l.reversed) for l in lines(proof)]
    assert len(got) == 13  # 14 steps; the two transpose-transpose steps are one line
    assert got[10:] == [("mul-assoc", 1, True), ("transpose-transpose", 2, True), ("transpose-mul", 1, True)]
    assert got[1] == ("d-mul", 1, False)
    after = terms(proof)[1:]
    assert lines(proof)[-1].term == after[-1] == parse(proof.claim.differential)
    assert lines(proof)[-2].term == after[12]


def _table_rows(md: str) -> list[list[str]]:
    rows = [l for l in md.splitlines() if l.startswith("|")][2:]  # skip the header and the rule
    return [[c.strip() for c in r.strip("|").split(" | ")] for r in rows]


def test_markdown_gradient():
    proof = trace_proof()
    md = to_markdown(proof)
    rows = _table_rows(md)
    assert rows[0] == ["df", to_unicode(parse("d(tr(A*X*B))")), ""]
    assert [r[1] for r in rows[1:]] == [to_unicode(l.term) for l in lines(proof)]
    assert [r[2] for r in rows[1:]][-3:] == ["mul-assoc (reversed)", "transpose-transpose (reversed) ×2",
                                             "transpose-mul (reversed)"]
    assert rows[-1][1] == "tr((Aᵀ·Bᵀ)ᵀ·dX)"
    conclusion, rules = md.split("Rules used:")
    assert conclusion.rstrip().endswith("Since df = tr((∂f/∂X)ᵀ·dX):  **∂f/∂X = Aᵀ·Bᵀ**")
    assert "for f = tr(A·X·B)" in md.splitlines()[0]
    # every rule used is stated once, with its condition if any
    stated = [l for l in rules.splitlines() if l.startswith("- `")]
    assert [s.split("`")[1] for s in stated] == list(proof.rules)
    assert "- `d-const`: dC ⇒ 0 if const(C)" in stated


def test_markdown_equality_and_inputs():
    proof = equality_proof("tr(S'*X)", [("transpose-symmetric", "forward", (0, 0))],
                           {"S": "n x n, symmetric", "X": "n x n"})
    md = to_markdown(proof)
    assert _table_rows(md) == [["", "tr(Sᵀ·X)", ""], ["=", "tr(S·X)", "transpose-symmetric"]]
    assert "Hence **tr(Sᵀ·X) = tr(S·X)**" in md
    assert "S: n × n, symmetric" in md
    assert to_markdown(proof.to_dict()) == md == to_markdown(proof.to_json())


def test_latex_gradient():
    proof = trace_proof()
    tex = to_latex(proof)
    body = tex.split(r"\begin{align*}")[1].split(r"\end{align*}")[0].strip().split(" \\\\\n")
    assert len(body) == 1 + len(lines(proof))
    assert body[0] == r"\mathrm{d}f &= " + expr_latex(parse("d(tr(A*X*B))"))
    for row, line in zip(body[1:], lines(proof)):
        assert row.startswith("&= " + expr_latex(line.term) + r" && \text{")
    assert r"\text{transpose-transpose (reversed) ×2}" in body[-2]
    assert tex.rstrip().endswith(r"\[ \frac{\partial f}{\partial X} = A^{\top} B^{\top} \]")


def test_latex_equality():
    proof = equality_proof("(2 + 3)*X", [("num-add", "forward", (0,))], {"X": "n x m"})
    tex = to_latex(proof)
    assert r"&= 5 X && \text{num-add}" in tex
    assert tex.rstrip().endswith(r"\[ \left(2 + 3\right) X = 5 X \]")


def test_only_a_proof_that_checks_is_rendered():
    """The terms of a rendering are the replay's: a proof that does not replay has none."""
    d = trace_proof().to_dict()
    d["steps"][3]["path"] = [0, 0]
    with pytest.raises(InputError, match="step 4"):
        to_markdown(d)


def test_a_document_that_is_not_a_proof_is_an_input_error():
    for bad in ("{oops", {"format": "rewrite-proof/1"}, '{"format": "other"}'):
        with pytest.raises(InputError, match="not a rewrite-proof/2 document"):
            to_markdown(bad)
