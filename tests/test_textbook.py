"""Answers that read like the book: every catalogue gradient (tests/data/gradients.json, 162
entries with the book's answer) is compared with the book's answer as text, after the
normalisation of tests/textbook.py (transposes on the symbols, the order of sum terms and
elementwise factors, brackets of products; nothing that changes the shape of the answer).

The share that matches is a floor that may only rise (issue 10 asks for 85%); the entries that
do not match are listed in the failure message, with the book's answer next to ours.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import rewrite
from rewrite.shapes import normalize_decls
from textbook import normal_text

ENTRIES = json.loads((Path(__file__).parent / "data" / "gradients.json").read_text())["entries"]
FLOOR = 146          # entries that read like the book (of 162); raise it when more do
LONG = 0             # answers longer than 1.5 times the book's; lower it when fewer are


@pytest.fixture(scope="module")
def answers() -> list[tuple[dict, str]]:
    return [(e, str(rewrite.derive(e["f"], e["wrt"], e["vars"], proof=False).gradient)) for e in ENTRIES]


def _symmetric(entry) -> set[str]:
    return {n for n, d in normalize_decls(entry["vars"]).items() if d.props & {"symmetric", "spd", "diagonal"}}


def test_answers_read_like_the_book(answers):
    differ = [(e, g) for e, g in answers
              if normal_text(g, _symmetric(e)) != normal_text(e["expected"], _symmetric(e))]
    matched = len(answers) - len(differ)
    report = "\n".join(f"  {e['id']}: {g}   (book: {e['expected']})" for e, g in differ)
    assert matched >= FLOOR, f"{matched} of {len(answers)} read like the book (floor {FLOOR}):\n{report}"


def test_answers_are_not_much_longer_than_the_book(answers):
    long = [(e, g) for e, g in answers if len(g) > 1.5 * len(e["expected"])]
    report = "\n".join(f"  {e['id']}: {g}   (book: {e['expected']})" for e, g in long)
    assert len(long) <= LONG, f"{len(long)} answers are over 1.5 times the book's length:\n{report}"


@pytest.mark.parametrize("ours, book, same", [
    ("-inv(X)'*A'*B'*inv(X)'", "-(inv(X)*B*A*inv(X))'", True),
    ("X*(c*b' + b*c')", "X*(b*c' + c*b')", True),
    ("2*A.*X", "2*X.*A", True),
    ("-y + sum(y)*s", "sum(y)*s - y", True),
    ("2*W'*(M*s.*t)", "W'*((2*M*s).*t)", True),
    ("(B + B')*X", "B*X + B'*X", False),        # factored and expanded stay apart
    ("2*x/2", "x", False),
    ("A*B", "B*A", False),
])
def test_the_normalisation_is_only_syntactic(ours, book, same):
    assert (normal_text(ours) == normal_text(book)) is same
