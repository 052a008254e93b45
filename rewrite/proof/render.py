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
from ..names import name_repeats
from ..printer import to_latex as expr_latex
from ..printer import to_unicode
from ..rules import EVAL
from ..syntax import parse
from .checker import chain_terms
from .model import (FORMAT, DifferentialClaim, EqualityClaim, GradientClaim, HessianClaim,
                    JacobianClaim, Proof, VJPClaim)


@dataclass(frozen=True)
class Line:
    term: E.Expr     # the term after this group of steps
    rule: str        # rule name
    count: int       # how many consecutive steps of that rule
    reversed: bool   # every step of the group applied the rule right to left


def _grouped(steps, after: list[E.Expr]) -> list[Line]:
    out: list[Line] = []
    for s, t in zip(steps, after):
        back = s.direction == "backward"
        if out and out[-1].rule == s.rule:
            last = out[-1]
            out[-1] = Line(t, s.rule, last.count + 1, last.reversed and back)
        else:
            out.append(Line(t, s.rule, 1, back))
    return out


def chains(proof: Proof) -> list[tuple[E.Expr, list[Line]]]:
    """Each chain of the proof (two for a Hessian): its start term and its lines."""
    step_lists = [proof.steps, proof.second_steps]
    return [(seen[0], _grouped(steps, seen[1:])) for steps, seen in zip(step_lists, chain_terms(proof))]


def lines(proof: Proof) -> list[Line]:
    """The lines of the (first) chain."""
    return chains(proof)[0][1]


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


def _rule_label(line: Line) -> str:
    return line.rule + (" (reversed)" if line.reversed else "") + (f" ×{line.count}" if line.count > 1 else "")


@dataclass(frozen=True)
class _Words:
    headline: str
    heads: tuple[str, ...]     # the left column of each chain's first line
    conclusion: str
    where: tuple[str, ...] = ()   # definitions of the names in the conclusion (t1 = ...)


_ANSWER = {GradientClaim: "gradient", DifferentialClaim: "differential", JacobianClaim: "jacobian",
           VJPClaim: "vjp", HessianClaim: "hessian"}


def _answer_printer(c, show: Callable[[E.Expr], str]) -> tuple[Callable[[str], str], tuple[str, ...]]:
    """How to print the claim's answer (its repeated subterms named, rewrite/names.py), and the
    definitions of the names, each as `t1 = ...`."""
    field = _ANSWER.get(type(c))
    try:
        answer = parse(getattr(c, field)) if field else None
    except InputError:
        answer = None
    if answer is None:
        return _printer(show), ()
    named = name_repeats([answer], _claim_names(c))
    whole = getattr(c, field)
    return ((lambda text: show(named.term) if text == whole else _printer(show)(text)),
            tuple(f"{show(E.sym(n))} = {show(d)}" for n, d in named.definitions))


def _claim_names(c) -> set[str]:
    out: set[str] = set()
    for value in vars(c).values():
        if isinstance(value, str):
            try:
                out |= parse(value).symbols()
            except InputError:
                pass
    return out


def _words(c, show: Callable[[E.Expr], str], tex: bool) -> _Words:
    """What to say around the chains of a claim, in Unicode or LaTeX (the answer with its
    repeated subterms named)."""
    answer, where = _answer_printer(c, show)
    words = _claim_words(c, _printer(show), answer, tex)
    return _Words(words.headline, words.heads, words.conclusion, where)


def _claim_words(c, term: Callable[[str], str], answer: Callable[[str], str], tex: bool) -> _Words:
    x = c.wrt if hasattr(c, "wrt") else ""
    d = (r"\mathrm{d}" if tex else "d")
    if isinstance(c, GradientClaim):
        grad = rf"\frac{{\partial f}}{{\partial {x}}}" if tex else f"∂f/∂{x}"
        return _Words(f"∂f/∂{x} for f = {term(c.f)}", (f"{d}f",),
                      (rf"{grad} = {answer(c.gradient)}" if tex else
                       f"Since df = tr((∂f/∂{x})ᵀ·d{x}):  **∂f/∂{x} = {answer(c.gradient)}**"))
    if isinstance(c, DifferentialClaim):
        return _Words(f"the differential of F = {term(c.F)}", (f"{d}F",),
                      f"{d}F = {answer(c.differential)}" if tex else f"Hence **dF = {answer(c.differential)}**")
    if isinstance(c, JacobianClaim):
        vec = r"\operatorname{vec}" if tex else "vec"
        return _Words(f"the Jacobian of F = {term(c.F)}", (f"{vec}({d}F)",),
                      (f"J = {answer(c.jacobian)}" if tex else
                       f"Since vec(dF) = J·vec(d{x}):  **J = {answer(c.jacobian)}**"))
    if isinstance(c, VJPClaim):
        return _Words(f"the vector-Jacobian product of {c.cotangent} with F = {term(c.F)}",
                      (rf"{d}\,\operatorname{{tr}}({c.cotangent}^\top F)" if tex else f"d tr({c.cotangent}ᵀ·F)",),
                      f"vjp = {answer(c.vjp)}" if tex else f"Hence **vjp = {answer(c.vjp)}**")
    if isinstance(c, HessianClaim):
        vec = r"\operatorname{vec}" if tex else "vec"
        return _Words(f"the Hessian of f = {term(c.f)}", (f"{d}f", f"{vec}({d}G)"),
                      (f"H = {answer(c.hessian)}" if tex else
                       f"With G = {term(c.gradient)} and vec(dG) = H·vec(d{x}):  **H = {answer(c.hessian)}**"))
    return _Words(f"{term(c.lhs)} = {term(c.rhs)}", ("",),
                  f"{term(c.lhs)} = {term(c.rhs)}" if tex else f"Hence **{term(c.lhs)} = {term(c.rhs)}**")


# --- Markdown ---------------------------------------------------------------------------------
def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def to_markdown(proof: Proof | Mapping[str, Any] | str) -> str:
    proof = _as_proof(proof)
    rule_term = _printer(to_unicode, frozenset({EVAL}))
    words = _words(proof.claim, to_unicode, tex=False)
    out = [f"**{words.headline}**"] if not isinstance(proof.claim, EqualityClaim) else [words.conclusion[6:]]
    if proof.vars:
        out += ["", "where " + ", ".join(f"{n}: {b.replace(' x ', ' × ')}" for n, b in proof.vars.items())]
    if proof.claim.assumptions:
        out += ["", "assuming " + ", ".join(_where(proof))]
    for head, (start, chain) in zip(words.heads, chains(proof)):
        rows = [(head, to_unicode(start), "")]
        rows += [("=", to_unicode(line.term), _rule_label(line)) for line in chain]
        widths = [max(len(r[i]) for r in rows + [("", "", "rule")]) for i in range(3)]
        out += ["", f"| {'':{widths[0]}} | {'':{widths[1]}} | {'rule':{widths[2]}} |",
                "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        out += [f"| {a:{widths[0]}} | {_md_cell(b):{widths[1]}} | {r:{widths[2]}} |" for a, b, r in rows]
    out += ["", words.conclusion]
    out += [f"where {w}" if i == 0 else f"{'':6}{w}" for i, w in enumerate(words.where)]
    if proof.rules:
        out += ["", "Rules used:", ""]
        for name, r in proof.rules.items():
            cond = f" if {', '.join(r.if_)}" if r.if_ else ""
            out.append(f"- `{name}`: {rule_term(r.lhs)} {'⇒' if r.oriented else '='} {rule_term(r.rhs)}{cond}")
    return "\n".join(out) + "\n"


def _where(proof: Proof) -> list[str]:
    """The claim's assumptions for people (det(X) > 0)."""
    from ..assumptions import describe_texts
    from ..shapes import normalize_decls

    return describe_texts(proof.claim.assumptions, normalize_decls(proof.vars))


# --- LaTeX ------------------------------------------------------------------------------------
def _tex_text(s: str) -> str:
    return s.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("&", r"\&").replace("%", r"\%")


def to_latex(proof: Proof | Mapping[str, Any] | str) -> str:
    """An `align*` chain for each chain of the proof (needs amsmath), then the conclusion."""
    proof = _as_proof(proof)
    c = proof.claim
    term = _printer(expr_latex)
    words = _words(c, expr_latex, tex=True)
    out = [f"% {_tex_text(words.headline)}" if not isinstance(c, EqualityClaim) else f"% {c.lhs} = {c.rhs}"]
    if isinstance(c, GradientClaim):
        out.append(rf"\[ f = {term(c.f)} \]")
    for head, (start, chain) in zip(words.heads, chains(proof)):
        out.append(r"\begin{align*}")
        body = [rf"{head} &= {expr_latex(start)}" if head else rf"&{expr_latex(start)}"]
        body += [rf"&= {expr_latex(line.term)} && \text{{{_tex_text(_rule_label(line))}}}" for line in chain]
        out.append(" \\\\\n".join(body))
        out.append(r"\end{align*}")
    out.append(rf"\[ {words.conclusion} \]")
    if words.where:
        out.append(r"\noindent where " + ", ".join(rf"${w}$" for w in words.where))
    if c.assumptions:
        out.append(r"\noindent assuming " + ", ".join(_tex_text(w) for w in _where(proof)))
    return "\n".join(out) + "\n"


__all__ = ["to_markdown", "to_latex", "lines", "chains", "Line"]
