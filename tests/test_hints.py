"""Hints (rewrite/hints.py): a refuted or unproved claim says which declaration would help, and
only a declaration that does (checked numerically for a refuted claim, by a proof for an
unknown one).  The verdict itself is unchanged."""
from __future__ import annotations

import pytest

import rewrite
from rewrite.cli import main


def test_a_refuted_gradient_names_the_missing_simplex():
    r = rewrite.verify_gradient("-y'*log(softmax(W*x))", "W", "(softmax(W*x) - y)*x'")
    assert r.status == "refuted"
    assert r.stats["hint"].startswith("it holds when y is declared simplex")
    declared = rewrite.verify_gradient("-y'*log(softmax(W*x))", "W", "(softmax(W*x) - y)*x'",
                                       {"y": "n, simplex"})
    assert declared.status == "proved" and rewrite.check(declared.proof).ok


def test_a_refuted_identity_names_the_missing_symmetry():
    r = rewrite.verify("tr(A*X')", "tr(A*X)", {"A": "n x n", "X": "n x n"})
    assert r.status == "refuted"
    assert "A is declared symmetric" in r.stats["hint"] or "X is declared symmetric" in r.stats["hint"]


def test_an_unknown_identity_names_the_declarations_that_prove_it():
    r = rewrite.verify("inv(A*B)", "inv(B)*inv(A)", {"A": "n x n", "B": "n x n"})
    assert r.status == "unknown" and r.proof is None
    assert r.stats["hint"] == ('it is proved when A is declared invertible (--var "A: n x n, invertible"); '
                               'B is declared invertible (--var "B: n x n, invertible")')


@pytest.mark.parametrize("lhs, rhs", [("tr(A)", "2*tr(A)"), ("A*B", "B*A")])
def test_no_hint_when_no_single_declaration_helps(lhs, rhs):
    r = rewrite.verify(lhs, rhs, {"A": "n x n", "B": "n x n"})
    assert r.status == "refuted" and "hint" not in r.stats


def test_the_command_line_prints_the_hint(capsys):
    code = main(["verify", "--gradient", "-y'*log(softmax(W*x))", "--wrt", "W", "(softmax(W*x) - y)*x'"])
    assert code == 1
    out = capsys.readouterr().out.splitlines()
    assert any(line.startswith("hint: it holds when y is declared simplex") for line in out)
