"""How results, proofs and verdicts show in a notebook (Jupyter's `_repr_latex_`,
`_repr_markdown_`) and in a short `repr`.

The LaTeX form is one display-math block that MathJax and KaTeX render: an `aligned`
environment with a line per group of steps (`&= term && \\text{rule}`), then the answer with its
named subexpressions (`where t1 = ...`) and the facts it assumes.  The Markdown form is the proof
as `rewrite derive --format markdown` prints it.
"""
from __future__ import annotations

from typing import Any

from .printer import to_latex


def _text(s: str) -> str:
    """Plain words inside math: \\text{...} with the characters LaTeX treats specially escaped."""
    out = s.replace("\\", r"\backslash ").replace("{", r"\{").replace("}", r"\}")
    for ch in "_&%#$":
        out = out.replace(ch, "\\" + ch)
    out = out.replace("^", r"\^{}").replace("~", r"\~{}")
    return (r"\text{" + out + "}").replace(" ×", r"}\times\text{")   # d-mul ×2: d-mul × 2


def proof_lines(proof) -> list[str]:
    """The aligned lines of each chain of a proof: head &= start, then &= term && \\text{rule}."""
    from .proof.render import _rule_label, _words, chains

    words = _words(proof.claim, to_latex, tex=True)
    lines = []
    for head, (start, chain) in zip(words.heads, chains(proof)):
        lines.append(rf"{head or ''} &= {to_latex(start)}")
        lines += [rf"&= {to_latex(line.term)} && {_text(_rule_label(line))}" for line in chain]
    return lines


def display(*groups: list[str]) -> str:
    """One display of aligned lines; a little space between the groups."""
    body = " \\\\[6pt]\n".join(" \\\\\n".join(g) for g in groups if g)
    return "$$\n\\begin{aligned}\n" + body + "\n\\end{aligned}\n$$"


def answer_lines(pairs: list[tuple[str, Any]], named, where: list[str]) -> list[str]:
    """`label &= answer` for each answer (named form), then `t1 &= ...` and the assumptions."""
    lines = [rf"{label} &= {to_latex(term)}" for (label, _), term in zip(pairs, named.terms)]
    lines += [rf"{to_latex_name(n)} &= {to_latex(d)}" for n, d in named.definitions]
    if where:
        lines.append(r"& " + _text("assuming " + ", ".join(where)))
    return lines


def to_latex_name(name: str) -> str:
    from . import expr as E

    return to_latex(E.sym(name))


def result_latex(result, answers: list[tuple[str, Any]]) -> str:
    """The derivation (when it has a proof) and the answers of a result, as one display."""
    proof = getattr(result, "proof", None)
    return display(proof_lines(proof) if proof is not None else [],
                   answer_lines(answers, result.named, result.where))


def result_markdown(result, answers: list[tuple[str, Any]]) -> str:
    from .printer import to_unicode

    proof = getattr(result, "proof", None)
    if proof is not None:
        from .proof.render import to_markdown

        return to_markdown(proof)
    named = result.named
    out = [f"**{label} = {to_unicode(t)}**" for (label, _), t in zip(answers, named.terms)]
    out += [f"where {n} = {to_unicode(d)}" for n, d in named.definitions]
    if result.where:
        out.append("assuming " + ", ".join(result.where))
    return "\n\n".join(out) + "\n"


def proof_latex(proof) -> str:
    from .proof.render import _words

    words = _words(proof.claim, to_latex, tex=True)
    return display(proof_lines(proof), [rf"& {words.conclusion}"] + [rf"& \text{{where }} {w}" for w in words.where])


def verdict_latex(v) -> str:
    if v.proof is not None:
        return display(proof_lines(v.proof))
    return display([rf"& {_text(v.status + ': ' + v.reason)}"]
                   + ([rf"& {_text('hint: ' + v.stats['hint'])}"] if v.stats.get("hint") else []))


def verdict_markdown(v) -> str:
    head = f"**{v.status}**" + (f": {v.reason}" if v.reason else "")
    parts = [head]
    if v.stats.get("hint"):
        parts.append(f"hint: {v.stats['hint']}")
    if v.proof is not None:
        from .proof.render import to_markdown

        parts.append(to_markdown(v.proof))
    return "\n\n".join(parts) + "\n"


def short(kind: str, answer: str, steps: int | None, limit: int = 120) -> str:
    """`<GradientResult ∂f/∂X = A'*B' (proof: 7 steps)>`, the answer cut at `limit` characters."""
    if len(answer) > limit:
        answer = answer[:limit - 1] + "…"
    proof = f" (proof: {steps} steps)" if steps else " (no proof)"
    return f"<{kind} {answer}{proof}>"
