"""Proofs as a student reads them: a chain of equalities, one line a step, the rule on the right.

The terms between the steps are not stored in a proof; they are computed by replaying it
(`checker.terms`), so only a proof that checks can be rendered.  Consecutive steps of the same
rule share one line (showing the term after the last of them), so "trace-cyclic ×3" is one move,
not three.  A gradient proof starts at df, ends at tr(Gᵀ·dX) and concludes ∂f/∂X = G, in the
style of the differential method (df = tr((∂f/∂X)ᵀ dX)).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from pydantic import ValidationError

from .. import expr as E
from ..errors import InputError
from ..printer import to_latex as expr_latex
from ..printer import to_unicode
from ..rules import EVAL
from ..syntax import parse
from .checker import terms
from .model import FORMAT, GradientClaim, Proof


@dataclass(frozen=True)
class Line:
    term: E.Expr     # the term after this group of steps
    rule: str        # rule name
    count: int       # how many consecutive steps of that rule
    reversed: bool   # every step of the group applied the rule right to left


def lines(proof: Proof) -> list[Line]:
    out: list[Line] = []
    for s, after in zip(proof.steps, terms(proof)[1:]):
        back = s.direction == "backward"
        if out and out[-1].rule == s.rule:
            last = out[-1]
            out[-1] = Line(after, s.rule, last.count + 1, last.reversed and back)
        else:
            out.append(Line(after, s.rule, 1, back))
    return out


def _as_proof(proof: Proof | Mapping[str, Any] | str) -> Proof:
    if isinstance(proof, Proof):
        return proof
    try:
        return Proof.from_json(proof) if isinstance(proof, str) else Proof.model_validate(dict(proof))
    except (ValidationError, TypeError, ValueError) as err:
        first = err.errors()[0]["msg"] if isinstance(err, ValidationError) else str(err)
        raise InputError(f"not a {FORMAT} document: {first}") from None


def _printer(show: Callable[[E.Expr], str], extra: frozenset[str] = frozenset()) -> Callable[[str], str]:
    def term(text: str) -> str:
        try:
            return show(parse(text, extra))
        except InputError:  # a renderer never refuses: show the text as stated
            return text
    return term


def _start(proof: Proof) -> str:
    c = proof.claim
    return f"d({c.f})" if isinstance(c, GradientClaim) else c.lhs


def _rule_label(line: Line) -> str:
    return line.rule + (" (reversed)" if line.reversed else "") + (f" ×{line.count}" if line.count > 1 else "")


# --- Markdown ---------------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(proof: Proof | Mapping[str, Any] | str) -> str:
    proof = _as_proof(proof)
    c = proof.claim
    term = _printer(to_unicode)
    rule_term = _printer(to_unicode, frozenset({EVAL}))
    out: list[str] = []
    if isinstance(c, GradientClaim):
        out.append(f"**∂f/∂{c.wrt}** for f = {term(c.f)}")
    else:
        out.append(f"**{term(c.lhs)} = {term(c.rhs)}**")
    if proof.vars:
        out += ["", "where " + ", ".join(f"{n}: {b.replace(' x ', ' × ')}" for n, b in proof.vars.items())]
    head = "df" if isinstance(c, GradientClaim) else ""
    rows = [(head, term(_start(proof)), "")]
    rows += [("=", to_unicode(line.term), _rule_label(line)) for line in lines(proof)]
    widths = [max(len(r[i]) for r in rows + [("", "", "rule")]) for i in range(3)]
    out += ["", f"| {'':{widths[0]}} | {'':{widths[1]}} | {'rule':{widths[2]}} |",
            "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [f"| {a:{widths[0]}} | {_md_cell(b):{widths[1]}} | {r:{widths[2]}} |" for a, b, r in rows]
    out.append("")
    if isinstance(c, GradientClaim):
        out.append(f"Since df = tr((∂f/∂{c.wrt})ᵀ·d{c.wrt}):  **∂f/∂{c.wrt} = {term(c.gradient)}**")
    else:
        out.append(f"Hence **{term(c.lhs)} = {term(c.rhs)}**")
    if proof.rules:
        out += ["", "Rules used:", ""]
        for name, r in proof.rules.items():
            cond = f" if {', '.join(r.if_)}" if r.if_ else ""
            out.append(f"- `{name}`: {rule_term(r.lhs)} {'⇒' if r.oriented else '='} {rule_term(r.rhs)}{cond}")
    return "\n".join(out) + "\n"


# --- LaTeX ------------------------------------------------------------------------------------
def _tex_text(s: str) -> str:
    return s.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("&", r"\&").replace("%", r"\%")


def to_latex(proof: Proof | Mapping[str, Any] | str) -> str:
    """An `align*` chain (needs amsmath), then the conclusion."""
    proof = _as_proof(proof)
    c = proof.claim
    term = _printer(expr_latex)
    out: list[str] = []
    if isinstance(c, GradientClaim):
        x = expr_latex(E.sym(c.wrt))
        out.append(rf"% d/d{c.wrt} of f = {c.f}")
        out.append(rf"\[ f = {term(c.f)} \]")
        head = r"\mathrm{d}f"
    else:
        out.append(rf"% {c.lhs} = {c.rhs}")
        head = ""
    out.append(r"\begin{align*}")
    body = [rf"{head} &= {term(_start(proof))}" if head else rf"&{term(_start(proof))}"]
    body += [rf"&= {expr_latex(line.term)} && \text{{{_tex_text(_rule_label(line))}}}" for line in lines(proof)]
    out.append(" \\\\\n".join(body))
    out.append(r"\end{align*}")
    if isinstance(c, GradientClaim):
        out.append(rf"\[ \frac{{\partial f}}{{\partial {x}}} = {term(c.gradient)} \]")
    else:
        out.append(rf"\[ {term(c.lhs)} = {term(c.rhs)} \]")
    return "\n".join(out) + "\n"


__all__ = ["to_markdown", "to_latex", "lines", "Line"]
