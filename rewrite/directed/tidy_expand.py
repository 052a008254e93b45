"""Tidy move: multiply out a product with a sum when that makes the term smaller.

(diag(s) - s*s')*(y./s) is longer than what it multiplies out to, s*sum(y) - y, once each
product is tidied (diag(s)*(y./s) = y, s'*(y./s) = sum(y)).  The move distributes, tidies the
result in the transaction's scratch rewriter, and keeps it only if it has fewer nodes than
before; otherwise it changes nothing (books factor what stays long: (A + A')*x).
"""
from __future__ import annotations

from .. import expr as E
from ..proof.kernel import StepError
from .rewriter import Rewriter

ROOT = ()
LIMIT = 120   # nodes: beyond this the trial tidy costs more than a shorter answer is worth
DISTRIBUTE = {(E.MUL, 0, E.ADD): "mul-add-l", (E.MUL, 0, E.SUB): "mul-sub-l",
              (E.MUL, 1, E.ADD): "mul-add-r", (E.MUL, 1, E.SUB): "mul-sub-r",
              (E.HADAMARD, 0, E.ADD): "had-add-l", (E.HADAMARD, 0, E.SUB): "had-sub-l",
              (E.HADAMARD, 1, E.ADD): "had-add-r", (E.HADAMARD, 1, E.SUB): "had-sub-r"}


def expand_if_smaller(rw: Rewriter) -> None:
    from .tidy import Cycle, Tidy   # (tidy imports the moves)

    t = rw.at(ROOT)
    if "expand" in rw.inside or t.size > LIMIT or any(n.op == E.DIFF for _, n in t.expr.walk()):
        return   # not within its own trial tidy: that would try every level again
    at = ROOT
    left = t.kids[0]
    if t.expr.op == E.MUL and left.expr.op == E.MUL and not left.is_scalar and \
            left.kids[1].expr.op in (E.ADD, E.SUB) and _distribution(t) is None:
        rw.apply("mul-assoc", ROOT)   # (P*(A - B))*v -> P*((A - B)*v): the sum meets v
        at = (1,)
    name = _distribution(rw.at(at))
    if name is None:
        if at != ROOT:
            raise StepError("nothing to multiply out")
        return
    before = t.size
    rw.apply(name, at)
    rw.inside = rw.inside | {"expand"}
    try:
        Tidy(rw).normalize(ROOT)
    except Cycle:
        raise StepError("multiplying out leads round in a circle") from None
    if rw.at(ROOT).size >= before:
        raise StepError("multiplying out does not shorten the term")   # the transaction drops it


def _distribution(t) -> str | None:
    """The rule that multiplies out the product t with a sum, or None."""
    return next((DISTRIBUTE[t.expr.op, i, k.expr.op] for i, k in enumerate(t.kids)
                 if (t.expr.op, i, k.expr.op) in DISTRIBUTE), None)
