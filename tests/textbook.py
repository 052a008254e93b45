"""The documented normalisation under which a derived gradient must read like the book's.

Both answers are parsed and brought to the same form by three purely syntactic changes, then
compared as text:

1. transposes are pushed to the symbols: (A*B)' = B'*A', (A + B)' = A' + B', (-A)' = -A',
   (A.*B)' = A'.*B', inv(A)' = inv(A'), (A^k)' = (A')^k, A'' = A  (books write either), and a symbol declared
   symmetric loses its transpose (S' = S);
2. brackets in a product go: A*(B*C) reads as A*B*C (also for .*), numbers go to the front of
   a product (A*(2*B) = 2*A*B, and (2*A).*B = 2*(A.*B)), and a minus sign on the first factor of
   a product or quotient is the product's: (-A)*B = -(A*B);
3. the terms of a sum are put in one order (by their text), minus signs kept with their terms;
4. the factors of an elementwise product are put in one order (by their text).

Nothing else: a factored answer and its expansion, 2*x/2 and x, (x'*x)^2 and x'*x*x'*x, or
A*B and B*A stay different.  Used by tests/test_textbook.py and documented in README.md.
"""
from __future__ import annotations

from rewrite import expr as E
from rewrite.printer import to_text
from rewrite.syntax import parse


def normal_form(e: E.Expr, symmetric: frozenset[str] = frozenset()) -> E.Expr:
    e = _transpose_down(e, False, symmetric)
    return _ordered(_flat(e))


def _chain(e: E.Expr, op: str) -> list[E.Expr]:
    return _chain(e.args[0], op) + _chain(e.args[1], op) if e.op == op else [e]


def _nest(items: list[E.Expr], op: str) -> E.Expr:
    out = items[0]
    for x in items[1:]:
        out = E.Expr(op, (out, x))
    return out


def _flat(e: E.Expr) -> E.Expr:
    """Products left-nested; numbers out of the factors of an elementwise product."""
    if e.op in (E.MUL, E.DIV):
        items = [_flat(a) for a in (_chain(e, E.MUL) if e.op == E.MUL else e.args)]
        if e.op == E.MUL:   # re-flatten (a factor may have become a product) and numbers first
            items = [x for a in items for x in _chain(a, E.MUL)]
            items = [x for x in items if x.op == E.NUM] + [x for x in items if x.op != E.NUM]
        if items[0].op == E.NEG:
            items[0] = items[0].args[0]
            return E.neg(_nest(items, e.op) if e.op == E.MUL else E.Expr(E.DIV, tuple(items)))
        return _nest(items, e.op) if e.op == E.MUL else E.Expr(E.DIV, tuple(items))
    if e.op == E.HADAMARD:
        numbers, factors = [], []
        for f in (_flat(a) for a in _chain(e, E.HADAMARD)):
            items = _chain(f, E.MUL)
            while len(items) > 1 and items[0].op == E.NUM:
                numbers.append(items.pop(0))
            factors.append(_nest(items, E.MUL))
        inner = _nest(factors, E.HADAMARD)
        return _nest(numbers + [inner], E.MUL) if numbers else inner
    return e.with_args(tuple(_flat(a) for a in e.args)) if e.args else e


def normal_text(text: str | E.Expr, symmetric=frozenset()) -> str:
    """The normal form's text; `symmetric`: names of symbols declared symmetric."""
    return to_text(normal_form(parse(text) if isinstance(text, str) else text, frozenset(symmetric)))


def _transpose_down(e: E.Expr, flip: bool, sym: frozenset[str]) -> E.Expr:
    """e (transposed if `flip`) with its transposes on the symbols."""
    op = e.op

    def down(a: E.Expr, f: bool) -> E.Expr:
        return _transpose_down(a, f, sym)
    if op == E.TRANSPOSE:
        return down(e.args[0], not flip)
    if not flip or (op == E.SYM and e.name in sym):
        return e.with_args(tuple(down(a, False) for a in e.args)) if e.args else e
    if op == E.MUL:
        a, b = e.args
        return E.Expr(E.MUL, (down(b, True), down(a, True)))
    if op == E.DIV:   # (A/s)' = A'/s
        return E.Expr(E.DIV, (down(e.args[0], True), down(e.args[1], False)))
    if op in (E.ADD, E.SUB, E.NEG, E.HADAMARD, E.HDIV, "inv") or op in E.ELEMENTWISE:
        return e.with_args(tuple(down(a, True) for a in e.args))
    if op == E.POW:   # (A^k)' = (A')^k
        return E.Expr(E.POW, (down(e.args[0], True), e.args[1]))
    if op in (E.IDENTITY, E.ZERO, E.NUM, "tr", "det", "logdet", "sum", "norm2", "norm2sq"):
        return e.with_args(tuple(down(a, False) for a in e.args)) if e.args else e
    return E.transpose(e.with_args(tuple(down(a, False) for a in e.args)) if e.args else e)


def _terms(e: E.Expr, sign: int = 1) -> list[tuple[int, E.Expr]]:
    if e.op == E.NEG:
        return _terms(e.args[0], -sign)
    if e.op == E.ADD:
        return _terms(e.args[0], sign) + _terms(e.args[1], sign)
    if e.op == E.SUB:
        return _terms(e.args[0], sign) + _terms(e.args[1], -sign)
    return [(sign, e)]


def _ordered(e: E.Expr) -> E.Expr:
    if e.op in (E.ADD, E.SUB):
        terms = sorted(((s, _ordered(t)) for s, t in _terms(e)), key=lambda st: (to_text(st[1]), st[0]))
        sign, out = terms[0]
        out = E.neg(out) if sign < 0 else out
        for s, t in terms[1:]:
            out = E.Expr(E.ADD if s > 0 else E.SUB, (out, t))
        return out
    if e.op == E.HADAMARD:
        return _nest(sorted((_ordered(f) for f in _chain(e, E.HADAMARD)), key=to_text), E.HADAMARD)
    return e.with_args(tuple(_ordered(a) for a in e.args)) if e.args else e
