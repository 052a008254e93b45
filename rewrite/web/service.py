"""What the web page asks for, as JSON-ready dicts: a derivation (gradient or Hessian) with its
answers, named subexpressions, assumptions, steps and proof; a verification with its verdict.

Bad input raises InputError (the server answers 400 with its message); a budget reached gives
{"status": "unknown", ...}.  Inputs are held to the command line's limits by the same parser."""
from __future__ import annotations

from typing import Any

from ..errors import InputError, UnknownResult
from ..mathml import math
from ..shapes import parse_declarations
from ..syntax import MAX_CHARS, parse


def _text(request: dict, key: str) -> str:
    value = request.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{key} is missing")
    if len(value) > MAX_CHARS:
        raise InputError(f"{key} is longer than the limit of {MAX_CHARS:,} characters")
    return value


def _term(text: str) -> dict:
    e = parse(text) if isinstance(text, str) else text
    return {"text": str(e), "mathml": math(e)}


def _steps(proof) -> list[dict]:
    from ..proof.render import _rule_label, chains

    out = []
    for start, lines in chains(proof):
        out.append({"mathml": math(start), "rule": ""})
        out += [{"mathml": math(line.term), "rule": _rule_label(line)} for line in lines]
    return out


def derive(request: dict) -> dict[str, Any]:
    """{"f", "wrt", "vars": [lines], "kind": "gradient" | "hessian"} -> the answer and its proof."""
    import rewrite

    f, wrt = _text(request, "f"), _text(request, "wrt")
    vars = parse_declarations(request.get("vars"))
    kind = request.get("kind", "gradient")
    if kind not in ("gradient", "hessian"):
        raise InputError(f"unknown kind {kind!r} (gradient or hessian)")
    try:
        if kind == "hessian":
            r = rewrite.hessian(f, wrt, vars)
            labels = [f"∂f/∂{r.wrt}", "H"]
            terms = [r.named.terms[0], r.named.terms[2]]
        else:
            r = rewrite.derive(f, wrt, vars)
            labels, terms = [f"∂f/∂{r.wrt}"], [r.named.term]
    except UnknownResult as err:
        return {"status": "unknown", "reason": str(err)}
    proof = r.proof
    return {
        "status": "ok", "kind": kind, "f": str(r.f),
        "vars": {n: str(d) for n, d in r.vars.items()},
        "answers": [{"label": label, **_term(t)} for label, t in zip(labels, terms)],
        "where": [{"name": n, **_term(d)} for n, d in r.named.definitions],
        "assumptions": r.where,
        "steps": _steps(proof) if proof is not None else [],
        "proof": proof.to_dict() if proof is not None else None,
    }


def verify(request: dict) -> dict[str, Any]:
    """{"claim": "lhs = rhs", "vars": [lines]} -> the verdict (and proof, counterexample, hint)."""
    import rewrite
    from ..verification import plain

    claim = _text(request, "claim")
    v = rewrite.verify(claim, vars=parse_declarations(request.get("vars")))
    out = {"status": v.status, "reason": v.reason, "hint": v.stats.get("hint", "")}
    if v.proof is not None:
        out["steps"] = _steps(v.proof)
        out["proof"] = v.proof.to_dict()
    if v.counterexample is not None:
        out["counterexample"] = plain(v.counterexample)
    return out
