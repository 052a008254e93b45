"""Notebook displays and API parity: `_repr_latex_` is one display of aligned LaTeX math (checked
by structure: balanced groups, known commands, one alignment per line), `_repr_markdown_` the
proof, `repr` short; `verify("lhs = rhs")`, `as_dict()` with the proof, `check` of a path."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import rewrite

# commands the printers and the notebook displays use, all in MathJax's and KaTeX's default sets
KNOWN = {"begin", "end", "left", "right", "frac", "tfrac", "partial", "mathrm", "mathbf", "mathit",
         "operatorname", "top", "odot", "oslash", "otimes", "det", "log", "exp", "sin", "cos", "tanh",
         "sigma", "sqrt", "text", "times", "lVert", "rVert", "lambda", "mu", "alpha", "beta", "gamma",
         "delta", "theta", "Sigma", "quad", "cdot"}


def assert_display_math(tex: str) -> None:
    assert tex.startswith("$$\n\\begin{aligned}\n") and tex.endswith("\n\\end{aligned}\n$$")
    body = tex[len("$$\n\\begin{aligned}\n"):-len("\n\\end{aligned}\n$$")]
    depth = 0
    for ch in re.sub(r"\\[{}]", "", body):   # escaped braces are text
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, "a } closes nothing"
    assert depth == 0, "unbalanced braces"
    assert body.count(r"\left") == body.count(r"\right")
    commands = set(re.findall(r"\\([A-Za-z]+)", body))
    assert commands <= KNOWN, f"unknown commands {commands - KNOWN}"
    for line in re.split(r" \\\\(?:\[6pt\])?\n", body):
        assert "&" in line, line
        assert "$" not in line and "\n" not in line


@pytest.mark.parametrize("make", [
    lambda: rewrite.derive("tr(A*X*B)", "X"),
    lambda: rewrite.derive("-y'*log(softmax(W2*sigmoid(W1*x)))", "W1", {"y": "n, simplex"}),
    lambda: rewrite.derive("log(det(X))", "X"),
    lambda: rewrite.derive("x'*x", "x", proof=False),
    lambda: rewrite.hessian("x'*A*x", "x"),
    lambda: rewrite.derivative("X'*X", "X"),
    lambda: rewrite.vjp("A*X*B", "X"),
    lambda: rewrite.derive("tr(A*X*B)", "X").proof,
    lambda: rewrite.verify("tr(A*B) = tr(B*A)"),
    lambda: rewrite.verify("tr(A*X') = tr(A*X)"),
], ids=["gradient", "named", "assumption", "no-proof", "hessian", "jacobian", "vjp", "proof",
        "proved", "refuted"])
def test_latex_and_markdown_displays(make):
    shown = make()
    tex = shown._repr_latex_()
    assert_display_math(tex)
    md = shown._repr_markdown_()
    assert md.strip()
    assert len(repr(shown)) < 200 and repr(shown).startswith("<")


def test_the_latex_display_holds_the_steps_and_the_answer():
    r = rewrite.derive("-y'*log(softmax(W2*sigmoid(W1*x)))", "W1", {"y": "n, simplex"})
    tex = r._repr_latex_()
    assert r"\text{d-tr}" in tex or r"\text{d-" in tex          # rules named
    assert tex.count(r" \\" + "\n") >= 5                          # a line a group of steps
    assert r"\frac{\partial f}{\partial \mathit{W1}} &=" in tex
    assert r"\mathit{t1} &= \sigma\left(\mathit{W1} x\right)" in tex
    assert "assuming" in rewrite.derive("log(det(X))", "X")._repr_latex_()


def test_reprs_are_short():
    r = rewrite.derive("tr(A*X*B)", "X")
    assert repr(r) == "<GradientResult ∂f/∂X = A'*B' (proof: 14 steps)>"
    assert repr(rewrite.verify("tr(A*B) = tr(B*A)")).startswith("<VerifyResult proved")


def test_verify_takes_one_equation_like_the_command_line():
    assert rewrite.verify("tr(A*B) = tr(B*A)").status == "proved"
    v = rewrite.verify("inv(A*B) = inv(B)*inv(A)", {"A": "n x n, invertible", "B": "n x n, invertible"})
    assert v.status == "proved"
    with pytest.raises(rewrite.InputError, match="one equation"):
        rewrite.verify("A = B = C")


def test_as_dict_holds_the_proof(tmp_path):
    for result in (rewrite.derive("tr(A*X*B)", "X"), rewrite.hessian("x'*A*x", "x"),
                   rewrite.vjp("A*X*B", "X")):
        data = json.loads(json.dumps(result.as_dict()))
        assert rewrite.check(data["proof"]).ok
    d = rewrite.derivative("X'*X", "X").as_dict()
    assert rewrite.check(d["proof"]).ok and rewrite.check(d["differential_proof"]).ok
    assert "proof" not in rewrite.derive("tr(X)", "X", proof=False).as_dict()
    v = rewrite.verify("tr(A*B) = tr(B*A)").as_dict()
    assert v["status"] == "proved" and rewrite.check(v["proof"]).ok


def test_check_reads_a_path(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(rewrite.derive("tr(A*X*B)", "X").proof.to_json())
    assert rewrite.check(path).ok and rewrite.check(str(path)).ok
    with pytest.raises(rewrite.InputError, match="cannot read"):
        rewrite.check(tmp_path)   # a directory


def test_the_public_api_is_documented():
    for name in rewrite.__all__:
        obj = getattr(rewrite, name)
        assert obj.__doc__, f"rewrite.{name} has no docstring"
    assert Path(rewrite.__file__).exists()
