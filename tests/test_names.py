"""Named subexpressions (rewrite/names.py): an answer that repeats a subterm prints it once, as
`where t1 = ...`, in text, JSON, Markdown and LaTeX; the named form means the same term."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

import rewrite
from rewrite import expr as E
from rewrite.cli import main
from rewrite.names import MIN_CHARS, name_repeats
from rewrite.proof.render import to_latex, to_markdown
from rewrite.syntax import parse

ENTRIES = json.loads((Path(__file__).parent / "data" / "gradients.json").read_text())["entries"]
TWO_LAYER = "-y'*log(softmax(W2*sigmoid(W1*x)))"


def test_the_network_gradient_names_its_hidden_layer():
    r = rewrite.derive(TWO_LAYER, "W1", {"y": "n, simplex"})
    assert str(r.named.term) == "W2'*(softmax(W2*t1) - y).*t1.*(ones - t1)*x'"
    assert [(n, str(d)) for n, d in r.named.definitions] == [("t1", "sigmoid(W1*x)")]
    assert str(r).splitlines()[-2:] == ["∂f/∂W1 = W2'*(softmax(W2*t1) - y).*t1.*(ones - t1)*x'",
                                        "  where t1 = sigmoid(W1*x)"]
    assert r.as_dict()["named"] == {"gradient": str(r.named.term),
                                    "where": [{"name": "t1", "term": "sigmoid(W1*x)"}]}
    assert str(r.gradient) == str(r.named.expanded()[0])   # the answer itself stays whole


def test_definitions_come_after_the_names_they_use():
    r = rewrite.derive("norm2sq(W4*tanh(W3*tanh(W2*tanh(W1*x))) - y)", "W1", proof=False)
    assert [(n, str(d)) for n, d in r.named.definitions] == [
        ("t1", "tanh(W1*x)"), ("t2", "tanh(W2*t1)"), ("t3", "tanh(W3*t2)")]


def test_names_avoid_the_names_of_the_input():
    named = name_repeats([parse("sigmoid(t1*x) + sigmoid(t1*x)'*t2")])
    assert [n for n, _ in named.definitions] == ["u1"]


def test_short_or_single_subterms_are_not_named():
    assert name_repeats([parse("inv(X)'*A*inv(X)'")]).definitions == ()        # inv(X)' is short
    assert name_repeats([parse("sigmoid(W*x) + A*x")]).definitions == ()      # once only
    whole = parse("sigmoid(W*x)")
    assert name_repeats([whole, whole]).definitions == ()   # an answer is never a name as a whole


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_named_forms_mean_the_catalogue_answers(entry):
    """Over the catalogue: the named form expands back to the answer; each name stands for a
    subterm long enough and used at least twice; definitions only use earlier names."""
    g = rewrite.derive(entry["f"], entry["wrt"], entry["vars"], proof=False).gradient
    named = name_repeats([g])
    assert named.expanded() == (g,)
    defined: set[str] = set()
    uses = Counter(n.name for t in (named.term, *(d for _, d in named.definitions))
                   for _, n in t.walk() if n.op == E.SYM)
    for name, d in named.definitions:
        assert d.symbols() & {n for n, _ in named.definitions} <= defined
        assert uses[name] >= 2 and len(str(d)) >= MIN_CHARS - 4   # (names inside are shorter)
        defined.add(name)


def test_markdown_and_latex_state_the_names():
    proof = rewrite.derive(TWO_LAYER, "W1", {"y": "n, simplex"}).proof
    md = to_markdown(proof)
    assert "**∂f/∂W1 = W2ᵀ·(softmax(W2·t1) − y) ⊙ t1 ⊙ (𝟙 − t1)·xᵀ**" in md
    assert "where t1 = sigmoid(W1·x)" in md
    tex = to_latex(proof)
    assert r"\noindent where $\mathit{t1} = \sigma\left(\mathit{W1} x\right)$" in tex


def test_hessians_and_jacobians_share_their_names():
    h = rewrite.hessian("-(y*log(sigmoid(x'*w)) + (1 - y)*log(1 - sigmoid(x'*w)))", "w", {"y": "scalar"},
                        proof=False)
    assert [(n, str(d)) for n, d in h.named.definitions] == [("t1", "sigmoid(x'*w)")]
    assert all("sigmoid" not in str(t) for t in h.named.terms)
    d = rewrite.derivative("sigmoid(W*x)", "W", proof=False)
    assert "where t1 = sigmoid(W*x)" in str(d)
    assert d.as_dict()["named"]["where"][0] == {"name": "t1", "term": "sigmoid(W*x)"}


def test_the_command_line_prints_the_names(capsys):
    assert main(["derive", TWO_LAYER, "--wrt", "W1", "--var", "y: n, simplex", "--no-proof"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "  where t1 = sigmoid(W1*x)"
