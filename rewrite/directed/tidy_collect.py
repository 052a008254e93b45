"""Tidy moves that treat a sum as a polynomial: multiply out, collect like terms, keep it if shorter.

    (1 - s)*y - s*(1 - y)            ->  y - s
    y.*s - y + (ones - y).*s          ->  s - y
    y + 1 - y                         ->  1

A sum of 1x1 terms is a polynomial in its atoms under `*`; a sum of matrices one under `.*`
(both products commute).  The move multiplies out every product with a sum in it, brings each
term to the form c*M (a number times a product of atoms in a fixed order), sorts the terms so that
like ones are neighbours (in the order they first occur), adds their numbers ((2*M + (-1)*M) =
1*M), puts the subtracted terms last, and tidies the result.  It
runs in a transaction on a scratch copy and is kept only if the sum got shorter (or as long, with
fewer terms), so a sum that has nothing to collect is left as the book writes it.

Also here: in an elementwise product, a quotient by a factor that the product also has cancels,
((P./Q).*s).*Q = P.*s for a nonzero Q (a fact of the derivation: 1 - sigmoid(u) > 0).
"""
from __future__ import annotations

from .. import expr as E
from ..proof.kernel import StepError, Term
from .rewriter import Path, Rewriter
from .tidy_expand import DISTRIBUTE
from .tidy_scalars import chain

ROOT: Path = ()
LIMIT = 160   # nodes: a larger sum is left alone (the trial costs more than it is worth)
SUMS = (E.ADD, E.SUB)
COMM = {E.MUL: "scalar-comm", E.HADAMARD: "had-comm", E.ADD: "add-comm"}
ASSOC = {E.MUL: "mul-assoc", E.HADAMARD: "had-assoc", E.ADD: "add-assoc"}
PULL_NEG = {(E.MUL, 0): "mul-neg-l", (E.MUL, 1): "mul-neg-r",
            (E.HADAMARD, 0): "had-neg-l", (E.HADAMARD, 1): "had-neg-r"}
# A op1 (B op2 C) -> (A op1 B) op C: the rule read backward, by (op1, op2)
REGROUP = {(E.ADD, E.ADD): "add-assoc", (E.ADD, E.SUB): "add-sub-assoc",
           (E.SUB, E.ADD): "sub-sub-assoc", (E.SUB, E.SUB): "sub-add-assoc"}


# --- chains -----------------------------------------------------------------------------------------
def left_nest(rw: Rewriter, path: Path, op: str) -> None:
    """Re-associate the chain of `op` at `path` to the left: A op (B op C) -> (A op B) op C."""
    at = path
    while rw.at(at).expr.op == op:
        while rw.at(at).expr.args[1].op == op:
            rw.apply(ASSOC[op], at, "backward")
        at = at + (0,)


def swap(rw: Rewriter, path: Path, op: str, i: int, n: int) -> None:
    """Swap operands i and i+1 of the left-nested chain (of n operands) at `path`."""
    at = path + (0,) * (n - 2 - i)   # the node whose right operand is operand i+1
    if i == 0:
        rw.apply(COMM[op], at)
        return
    rw.apply(ASSOC[op], at)                   # (X op a) op b -> X op (a op b)
    rw.apply(COMM[op], at + (1,))             # X op (b op a)
    rw.apply(ASSOC[op], at, "backward")       # (X op b) op a


def sort_chain(rw: Rewriter, path: Path, op: str, key) -> None:
    """Bubble-sort the operands of the left-nested chain at `path` by `key` (a stable order)."""
    n = len(chain(rw.at(path), op))
    for end in range(n - 1, 0, -1):
        for i in range(end):
            ops = chain(rw.at(path), op)
            if key(ops[i]) > key(ops[i + 1]):
                swap(rw, path, op, i, n)


# --- the polynomial of a sum -------------------------------------------------------------------------
def collect_like_terms(rw: Rewriter) -> None:
    from .tidy import Cycle, Tidy   # (tidy imports the moves)

    t = rw.at(ROOT)
    if "collect" in rw.inside or t.size > LIMIT or rw.has_d(t.expr) or not _worth_trying(t):
        return
    kind = E.MUL if t.is_scalar else E.HADAMARD
    before = t.size
    rw.inside = rw.inside | {"collect"}
    try:
        _expand(rw, ROOT, kind)
        left_nest_sum(rw)
        n = len(chain(rw.at(ROOT), E.ADD))
        for i in range(n):
            at = ROOT + (0,) * (n - 1 - i) + ((1,) if i else ())
            Tidy(rw).normalize(at)
            _coefficient_form(rw, at, kind)
        first_seen: dict[str, int] = {}
        for term in chain(rw.at(ROOT), E.ADD):
            first_seen.setdefault(_term_key(term), len(first_seen))
        sort_chain(rw, ROOT, E.ADD, lambda term: first_seen[_term_key(term)])   # like terms meet
        _add_like_terms(rw)
        sort_chain(rw, ROOT, E.ADD, _negative)   # then the subtracted terms last, as books write
        Tidy(rw).normalize(ROOT)
    except Cycle:
        raise StepError("collecting leads round in a circle") from None
    after = rw.at(ROOT)
    if (after.size, len(_sum_terms(after))) >= (before, len(_sum_terms(t))):
        raise StepError("collecting like terms does not shorten the sum")


def _worth_trying(t: Term) -> bool:
    """Is there something to multiply out (a product with a sum in it), or a number or a term
    that occurs twice in the sum?  Otherwise collecting cannot shorten it."""
    terms = _sum_terms(t)
    atoms = [_strip(s.expr) for s in terms]
    if len(set(atoms)) < len(atoms) or sum(1 for s in terms if s.expr.op == E.NUM) > 1:
        return True
    return any(n.op in (E.MUL, E.HADAMARD, E.NEG) and any(a.op in SUMS for a in n.args)
               for s in terms for _, n in s.expr.walk())


def _strip(e: E.Expr) -> E.Expr:
    """A term without its sign and number: -2*M, M -> M."""
    while e.op == E.NEG or (e.op == E.MUL and e.args[0].op == E.NUM):
        e = e.args[0] if e.op == E.NEG else e.args[1]
    return e


def _sum_terms(t: Term) -> list[Term]:
    return _sum_terms(t.kids[0]) + _sum_terms(t.kids[1]) if t.expr.op in SUMS else [t]


def _expand(rw: Rewriter, path: Path, kind: str) -> None:
    """Multiply out the products (of `kind`, and scalings) with a sum in them, below `path`;
    minus signs move out of products and into sums."""
    t = rw.at(path)
    op = t.expr.op
    if op in SUMS:
        _expand(rw, path + (0,), kind)
        _expand(rw, path + (1,), kind)
        return
    if op == E.NEG:
        inner = rw.at(path + (0,)).expr.op
        if inner in (E.ADD, E.SUB, E.NEG):
            rw.apply({E.ADD: "neg-add", E.SUB: "neg-sub", E.NEG: "neg-neg"}[inner], path)
            _expand(rw, path, kind)
            return
        _expand(rw, path + (0,), kind)
        if rw.at(path + (0,)).expr.op in (E.ADD, E.SUB, E.NEG):
            _expand(rw, path, kind)
        return
    if op == kind or (op == E.MUL and t.kids[0].is_scalar):
        _expand(rw, path + (0,), kind)
        _expand(rw, path + (1,), kind)
        t = rw.at(path)
        for i, k in enumerate(t.kids):
            if (op, i, k.expr.op) in DISTRIBUTE:
                rw.apply(DISTRIBUTE[op, i, k.expr.op], path)
                _expand(rw, path, kind)
                return
            if k.expr.op == E.NEG and (op, i) in PULL_NEG:
                rw.apply(PULL_NEG[op, i], path)
                _expand(rw, path, kind)
                return


def left_nest_sum(rw: Rewriter) -> None:
    """The sum at the root as ((t0 + t1) + t2) + ...: left-nested, only `+` (A - B = A + -B)."""
    at = ROOT
    while rw.at(at).expr.op in SUMS:
        while rw.at(at).expr.args[1].op in SUMS:
            rw.apply(REGROUP[rw.at(at).expr.op, rw.at(at).expr.args[1].op], at, "backward")
        if rw.at(at).expr.op == E.SUB:
            rw.apply("sub-as-add", at)
        at = at + (0,)


def _coefficient_form(rw: Rewriter, at: Path, kind: str) -> None:
    """The term at `at` as c*M: a number times a product of atoms in a fixed order (or a number)."""
    if rw.at(at).expr.op == E.NUM:
        return
    _signs_out(rw, at, kind)
    negated = rw.at(at).expr.op == E.NEG
    if negated:
        rw.apply("neg-as-scale", at)                               # (-1)*x
    x = at + (1,) if negated else at
    if kind == E.HADAMARD and rw.at(x).expr.op == E.HADAMARD:
        _number_out_of_hadamard(rw, x)
    if negated:
        if _scaled(rw.at(x).expr):
            rw.apply("mul-assoc", at, "backward")                  # ((-1)*c)*M
            rw.apply("num-mul", at + (0,))
    elif not _scaled(rw.at(at).expr):
        rw.apply("mul-one-l", at, "backward")                      # 1*M
    m = at + (1,)
    if rw.at(m).expr.op == kind:
        left_nest(rw, m, kind)
        if kind == E.MUL and not all(f.is_scalar for f in chain(rw.at(m), kind)):
            return   # a product of matrices: its order is its meaning
        sort_chain(rw, m, kind, lambda f: str(f.expr))


def _signs_out(rw: Rewriter, at: Path, kind: str) -> None:
    """(-a)*b*(-c) -> a*b*c, -((-a)*b) -> a*b: the minus signs of a product's factors leave it
    (a tidy product carries its sign on the first factor)."""
    op = rw.at(at).expr.op
    if op == E.NEG:
        _signs_out(rw, at + (0,), kind)
        if rw.at(at + (0,)).expr.op == E.NEG:
            rw.apply("neg-neg", at)
        return
    if op not in (kind, E.MUL):
        return
    for i in (0, 1):
        _signs_out(rw, at + (i,), kind)
    for i in (0, 1):
        if rw.at(at + (i,)).expr.op == E.NEG:
            rw.apply(PULL_NEG[op, i], at)   # -(a*b) at `at` now
            _signs_out(rw, at, kind)
            return


def _scaled(e: E.Expr) -> bool:
    return e.op == E.MUL and e.args[0].op == E.NUM


def _number_out_of_hadamard(rw: Rewriter, at: Path) -> None:
    """((c*A).*B).*C -> c*((A.*B).*C): the number of the first factor moves out of the chain."""
    depth = len(chain(rw.at(at), E.HADAMARD)) - 1
    first = rw.at(at + (0,) * depth).expr
    if not (first.op == E.MUL and first.args[0].op == E.NUM):
        return
    for d in range(depth - 1, -1, -1):
        rw.apply("had-scale-l", at + (0,) * d)


def _term_key(t: Term):
    """Like terms get equal keys: the product part of c*M (a number: the empty key)."""
    e = t.expr
    return "" if e.op == E.NUM else str(e.args[1])


def _negative(t: Term) -> bool:
    e = t.expr
    number = e if e.op == E.NUM else e.args[0] if e.args else None
    return number is not None and number.op == E.NUM and number.value < 0


def _add_like_terms(rw: Rewriter) -> None:
    """(P + a*M) + b*M -> P + (a + b)*M for neighbouring like terms, and numbers likewise."""
    i = 1
    while True:
        terms = chain(rw.at(ROOT), E.ADD)
        n = len(terms)
        if i >= n:
            return
        if _term_key(terms[i - 1]) != _term_key(terms[i]):
            i += 1
            continue
        at = ROOT + (0,) * (n - 1 - i)     # (P + u) + v, or u + v
        pair = at
        if i > 1:
            rw.apply("add-assoc", at)     # P + (u + v)
            pair = at + (1,)
        if rw.at(pair).expr.args[0].op == E.NUM:
            rw.apply("num-add", pair)
        else:
            rw.apply("mul-add-l", pair, "backward")   # (a + b)*M
            rw.apply("num-add", pair + (0,))


# --- quotients that cancel in an elementwise product --------------------------------------------------
def cancel_in_hadamard(rw: Rewriter) -> None:
    """In the elementwise product at the root, P./Q and Q cancel to P, for a nonzero Q."""
    terms = chain(rw.at(ROOT), E.HADAMARD)
    for i, q in enumerate(terms):
        if q.expr.op != E.HDIV:
            continue
        den = q.kids[1]
        j = next((j for j, f in enumerate(terms) if j != i and f.expr == den.expr), None)
        if j is None or not rw.assumed.establish("nonzero", den, rw.decls):
            continue
        left_nest(rw, ROOT, E.HADAMARD)
        n = len(terms)
        # move the quotient to the front, then Q next to it
        for k in range(i, 0, -1):
            swap(rw, ROOT, E.HADAMARD, k - 1, n)
        j = j + 1 if j < i else j
        for k in range(j, 1, -1):
            swap(rw, ROOT, E.HADAMARD, k - 1, n)
        rw.apply("hdiv-cancel", ROOT + (0,) * (n - 2))
        return
