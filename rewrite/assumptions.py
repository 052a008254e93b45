"""Assumptions: facts about subterms that a derivative needs (part of the trusted kernel).

A derivative exists only where its function is differentiable: d(inv(A)) needs A invertible,
d(log(u)) needs u > 0, d(u./v) needs v ≠ 0.  The differentiation rules say so in their
conditions, with the predicates

    nonzero(A)     every entry of A is ≠ 0 (a scalar: A ≠ 0)
    positive(A)    every entry of A is > 0
    invertible(A)  A is square and invertible
    nonnull(x)     x is not the zero matrix (some entry ≠ 0): what norm2(x) needs

Such a condition holds if it follows from the declarations and the facts assumed so far by a
few structural implications (`implied`: exp(u) > 0, det(A) ≠ 0 for an invertible A, a product
of nonzero scalars is nonzero, ...).  While differentiating, the engine may *assume* a condition
that does not follow (`Assumptions.open`): it becomes a fact, in a normal form (abs(u) > 0 is
recorded as u ≠ 0).  A proof states its facts in the claim (`assumptions`); the checker replays
the steps with exactly those facts and requires each to be used by some step.  The tidy stage
uses the facts but assumes nothing new, so `det(X)*inv(X)'/det(X)` becomes `inv(X)'` where
log(det(X)) was differentiated (det(X) > 0).
"""
from __future__ import annotations

import re
from typing import Mapping

from . import expr as E
from .conditions import has_prop
from .shapes import Decl

ASSUMABLE = ("nonzero", "positive", "invertible", "nonnull")
Fact = tuple[str, E.Expr]
_POSITIVE_ALWAYS = {"exp", "sigmoid", "softmax", E.ONES}


class Assumptions:
    """The facts a derivation relies on (each with its typed term), and which the steps used."""

    def __init__(self, facts: Mapping[Fact, object] | None = None, open: bool = False):
        self.facts: dict[Fact, object] = dict(facts or {})   # fact -> its typed term (kernel Term)
        self.used: dict[Fact, None] = {}   # ordered, so that a failed step can be undone
        self.open = open   # may a condition that does not follow be assumed?

    def establish(self, pred: str, t, decls: Mapping[str, Decl]) -> bool:
        """Does pred hold of the typed term t (a kernel Term) — or, when open, may it be assumed?"""
        trail: list[Fact] = []
        if implied(pred, t, decls, self.facts, trail):
            self.used.update(dict.fromkeys(trail))
            return True
        if not self.open or pred not in ASSUMABLE:
            return False
        for fact, term in normal_facts(pred, t):
            self.facts.setdefault(fact, term)
            self.used[fact] = None
        return True

    def mark(self) -> tuple[int, int]:
        return len(self.facts), len(self.used)

    def rollback(self, mark: tuple[int, int]) -> None:
        """Forget what was assumed and first used since `mark` (a step that failed)."""
        for table, n in zip((self.facts, self.used), mark):
            for fact in list(table)[n:]:
                del table[fact]

    def texts(self) -> list[str]:
        return [fact_text(f) for f in self.facts]


# --- what follows from what ---------------------------------------------------------------------
def implied(pred: str, t, decls: Mapping[str, Decl], facts: Mapping[Fact, object], trail: list[Fact]) -> bool:
    """Does pred(t) follow from the declarations and `facts`?  Appends the facts it used to
    `trail` (only on success)."""
    if _fact(pred, t.expr, facts, trail):
        return True
    sub: list[Fact] = []
    if _structural(pred, t, decls, facts, sub):
        trail.extend(sub)
        return True
    return False


def _fact(pred: str, e: E.Expr, facts, trail) -> bool:
    if (pred, e) in facts:
        trail.append((pred, e))
        return True
    return False


def _all(pred: str, kids, decls, facts, trail) -> bool:
    sub: list[Fact] = []
    if all(implied(pred, k, decls, facts, sub) for k in kids):
        trail.extend(sub)
        return True
    return False


def _first(options, trail) -> bool:
    """Whether one of `options` (functions of a trail) holds; the first that does adds its trail."""
    for option in options:
        sub: list[Fact] = []
        if option(sub):
            trail.extend(sub)
            return True
    return False


def _structural(pred: str, t, decls, facts, trail) -> bool:
    e, kids, op = t.expr, t.kids, t.expr.op
    if pred not in ASSUMABLE:   # a declared property (orthogonal ...): from the declarations only
        return t.rows == t.cols and has_prop(e, pred, decls)
    if op == E.NUM:
        return e.value > 0 if pred == "positive" else e.value != 0
    if pred == "positive":
        return _positive(t, decls, facts, trail)
    if pred == "nonzero":
        return has_prop(e, "nonzero", decls) or _first([
            lambda tr: _positive(t, decls, facts, tr),
            lambda tr: (op in (E.NEG, "abs", "sign") or (op == E.POW and t.is_scalar))
            and implied("nonzero", kids[0], decls, facts, tr),
            # a product of nonzero scalars (not of vectors: (1, -1)*(1, 1)' = 0)
            lambda tr: (op == E.HADAMARD or (op == E.MUL and all(k.is_scalar for k in kids)))
            and _all("nonzero", kids, decls, facts, tr),
            lambda tr: op in (E.DIV, E.HDIV) and implied("nonzero", kids[0], decls, facts, tr),
            lambda tr: op == "det" and implied("invertible", kids[0], decls, facts, tr),
            lambda tr: op == "sqrt" and implied("positive", kids[0], decls, facts, tr),
            lambda tr: op == "norm2" and implied("nonnull", kids[0], decls, facts, tr),
            lambda tr: t.is_scalar and _fact("nonnull", e, facts, tr),
        ], trail)
    if pred == "nonnull":
        return op == E.IDENTITY or implied("nonzero", t, decls, facts, trail)
    if pred == "invertible":
        if t.rows != t.cols:
            return False
        if has_prop(e, "invertible", decls):
            return True
        det = E.Expr("det", (e,))
        return _first([
            lambda tr: t.is_scalar and implied("nonzero", t, decls, facts, tr),
            lambda tr: _fact("nonzero", det, facts, tr) or _fact("positive", det, facts, tr),
            lambda tr: op in (E.TRANSPOSE, "inv", E.NEG) and implied("invertible", kids[0], decls, facts, tr),
            lambda tr: op == E.MUL and all(k.rows == k.cols for k in kids) and _all("invertible", kids, decls, facts, tr),
            lambda tr: _factor_of_invertible(e, facts, tr),
        ], trail)
    return False


def _positive(t, decls, facts, trail) -> bool:
    e, kids, op = t.expr, t.kids, t.expr.op
    if op == E.NUM:
        return e.value > 0
    if _fact("positive", e, facts, trail):
        return True
    if op in _POSITIVE_ALWAYS or has_prop(e, "positive", decls):
        return True
    if op == E.SUB and kids[1].expr.op == "sigmoid" and (kids[0].expr.op == E.ONES or kids[0].expr == E.num(1)):
        return True   # 1 - σ(u) = σ(-u) > 0
    if op == "tr" and _gram(kids[0]):                     # tr(A'*A)
        return implied("nonnull", kids[0].kids[1], decls, facts, trail)
    if op in (E.HADAMARD, E.HDIV, "sqrt", "sum", "tr") or (op in (E.MUL, E.DIV) and t.is_scalar and not _gram(t)):
        return _all("positive", kids, decls, facts, trail)
    if op == E.ADD:   # positive + positive, or positive + a square (x.*x + ones > 0)
        a, b = kids
        return _first([lambda tr: _all("positive", kids, decls, facts, tr),
                       lambda tr: _nonnegative(a) and implied("positive", b, decls, facts, tr),
                       lambda tr: _nonnegative(b) and implied("positive", a, decls, facts, tr)], trail)
    if op == "abs":
        return implied("nonzero", kids[0], decls, facts, trail)
    if op == "norm2":
        return implied("nonnull", kids[0], decls, facts, trail)
    if t.is_scalar and _gram(t):                          # x'*x for a column x
        return implied("nonnull", kids[1], decls, facts, trail)
    if op == "det":
        return has_prop(kids[0].expr, "spd", decls)
    if op == E.POW and t.is_scalar:   # (a matrix power is no entrywise power)
        k = e.args[1].value
        even = k.denominator == 1 and k.numerator % 2 == 0
        return implied("nonzero" if even else "positive", kids[0], decls, facts, trail)
    return False


def _nonnegative(t) -> bool:
    """Is every entry >= 0 whatever the variables (a square, an absolute value, a norm)?"""
    e, op = t.expr, t.expr.op
    if op == E.NUM:
        return e.value >= 0
    if op in (E.ZERO, E.ONES, "abs", "norm2", "norm2sq", "exp", "sigmoid", "softmax", "sqrt"):
        return True
    if op == E.HADAMARD and e.args[0] == e.args[1]:
        return True
    if (t.is_scalar and _gram(t)) or (op == "tr" and _gram(t.kids[0])):
        return True
    if op in (E.ADD, E.HADAMARD, "sum") or (op == E.MUL and all(k.is_scalar for k in t.kids)):
        return all(_nonnegative(k) for k in t.kids)
    return False


def _gram(t) -> bool:
    """A'*A (its trace, or its value for a column A, is the squared norm of A)."""
    e = t.expr
    return e.op == E.MUL and e.args[0].op == E.TRANSPOSE and e.args[0].args[0] == e.args[1]


def _factor_of_invertible(e: E.Expr, facts: Mapping[Fact, object], trail: list[Fact]) -> bool:
    """A factor of an invertible product of square matrices is invertible (the typed term of the
    fact says whether every factor is square)."""
    for (pred, p), term in facts.items():
        if pred != "invertible" or p.op != E.MUL:
            continue
        factors = _factors(term)
        if all(f.rows == f.cols for f in factors) and any(f.expr == e for f in factors):
            trail.append((pred, p))
            return True
    return False


def _factors(t) -> list:
    return _factors(t.kids[0]) + _factors(t.kids[1]) if t.expr.op == E.MUL else [t]


# --- the facts a derivation records ------------------------------------------------------------------
def normal_facts(pred: str, t) -> list[tuple[Fact, object]]:
    """The facts (with their typed terms) recorded when pred(t) is assumed: a plainer statement
    that implies it (abs(u) > 0 is u ≠ 0; x'*x > 0 and norm2(x) ≠ 0 are x ≠ 0; det(A) ≠ 0 is A
    invertible)."""
    e, kids, op = t.expr, t.kids, t.expr.op
    if pred == "positive" and op == "abs":
        return normal_facts("nonzero", kids[0])
    if pred in ("positive", "nonzero") and op == "norm2":
        return [(("nonnull", kids[0].expr), kids[0])]
    if pred in ("positive", "nonzero") and t.is_scalar and _gram(t):
        return [(("nonnull", kids[1].expr), kids[1])]
    if pred in ("positive", "nonzero") and op == "tr" and _gram(kids[0]):   # tr(A'*A) > 0: A ≠ 0
        return [(("nonnull", kids[0].kids[1].expr), kids[0].kids[1])]
    if pred == "nonzero" and op == "det":
        return [(("invertible", kids[0].expr), kids[0])]
    if pred == "nonzero" and op in (E.NEG, "abs"):
        return normal_facts("nonzero", kids[0])
    if pred == "nonzero" and op == "sqrt":
        return [(("positive", kids[0].expr), kids[0])]
    return [((pred, e), t)]


_FACT = re.compile(r"^\s*([a-z]+)\((.*)\)\s*$", re.S)


def fact_texts(facts) -> list[str]:
    return [fact_text(f) for f in facts]


def describe(facts: Mapping[Fact, object]) -> list[str]:
    """The facts for people: det(X) ≠ 0, x > 0 (entrywise), ..."""
    return [human(f, getattr(t, "is_scalar", True)) for f, t in facts.items()]


def describe_texts(texts, decls: Mapping[str, Decl]) -> list[str]:
    """describe() for a claim's fact texts, typed under the declarations."""
    from .proof.kernel import typed

    out = []
    for text in texts:
        fact = parse_fact(text)
        out.append(human(fact, typed(fact[1], decls).is_scalar))
    return out


def fact_text(fact: Fact) -> str:
    """The claim's text of a fact: nonzero(det(X))."""
    return f"{fact[0]}({fact[1]})"


def parse_fact(text: str) -> Fact:
    """`nonzero(det(X))` -> ("nonzero", det(X)); ValueError if it is not one."""
    from .syntax import parse

    m = _FACT.match(text)
    if m is None or m.group(1) not in ASSUMABLE:
        raise ValueError(f"not an assumption: {text!r} (one of {', '.join(ASSUMABLE)} of a term)")
    return m.group(1), parse(m.group(2))


def human(fact: Fact, scalar: bool = True) -> str:
    """det(X) ≠ 0, x > 0 (entrywise), A invertible, x ≠ 0."""
    pred, e = fact
    every = "" if scalar else " (entrywise)"
    return {"nonzero": f"{e} ≠ 0{every}", "positive": f"{e} > 0{every}",
            "invertible": f"{e} invertible", "nonnull": f"{e} ≠ 0"}[pred]
