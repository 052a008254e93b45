"""Tidy moves for scalar factors: inner products grouped in front, equal factors as powers,
common factors of a quotient cancelled.

A product chain is left-nested (((f0*f1)*f2)*...), scalars in front.  An inner product inside
it, x*x'*A*x, is grouped and brought to the front as one factor, (x'*A*x)*x, the way books
write it; a chain of two inner products, x'*x*x'*x, becomes (x'*x)*(x'*x) and then (x'*x)^2.
A quotient N/D with a factor common to N and D (or numbers in both) loses it when the factor
is known to be nonzero (from the declarations or the derivation's assumptions):
det(X)*inv(X)'/det(X) = inv(X)', 2*X/(2*s) = X/s, x/(n*n*n) = x/n^3.

Each move runs in a transaction (see tidy.py): every step is a library rule the kernel checks,
and a move either completes or changes nothing.
"""
from __future__ import annotations

from .. import expr as E
from ..proof.kernel import Term
from .rewriter import Path, Rewriter
from .tidy_rules import number_like

ROOT: Path = ()


def is_group(t: Term) -> bool:
    """A 1x1 product whose first factor is not 1x1: an inner product kept as one factor."""
    if t.expr.op != E.MUL or not t.is_scalar:
        return False
    first = t
    while first.expr.op == E.MUL:
        first = first.kids[0]
    return not first.is_scalar


def chain(t: Term, op: str) -> list[Term]:
    """The operands of the left-nested chain t of `op`, first to last (a right-hand group is one
    operand)."""
    out = []
    while t.expr.op == op:
        out.append(t.kids[1])
        t = t.kids[0]
    out.append(t)
    return out[::-1]


def factors(t: Term) -> list[Term]:
    """The factors of the left-nested product t, first to last."""
    return chain(t, E.MUL)


def node_of(chain: Path, n: int, i: int) -> Path:
    """The path of the chain node whose right argument is factor i (of n); factor 0 is the
    leftmost leaf."""
    return chain + (0,) * (n - 1 - i)


def to_front(rw: Rewriter, chain: Path, i: int) -> None:
    """Move the scalar factor i of the chain at `chain` to its front: P*f = f*P, then f*P is
    left-nested again (a group stays one factor)."""
    n = len(factors(rw.at(chain)))
    if i == 0:
        return
    at = node_of(chain, n, i)
    rw.apply("scalar-comm", at, "backward")
    while rw.at(at + (1,)).expr.op == E.MUL and not is_group(rw.at(at + (1,))):
        rw.apply("mul-assoc", at, "backward")
        at = at + (0,)


def _right_nest(rw: Rewriter, at: Path) -> None:
    """((f*a)*b)*c -> f*(a*(b*c)): the first factor becomes the left argument."""
    while rw.at(at).expr.args[0].op == E.MUL and not is_group(rw.at(at + (0,))):
        rw.apply("mul-assoc", at)


def _first_as_left(rw: Rewriter, at: Path) -> None:
    """The term at `at` as f*R with f its first factor (a lone f is padded: f*1)."""
    if rw.at(at).expr.op != E.MUL or is_group(rw.at(at)):
        rw.apply("mul-one-r", at, "backward")
    else:
        _right_nest(rw, at)


# --- inner products in front -------------------------------------------------------------------------
def group_inner_product(rw: Rewriter) -> None:
    """In the chain at the root, the first inner product f_i*...*f_j (1x1, i >= 1, not the whole
    chain) becomes one factor in front: P*(f_i*...*f_j)*Q -> (f_i*...*f_j)*P*Q."""
    t = rw.at(ROOT)
    fs = factors(t)
    n = len(fs)
    if n < 3:
        return
    for i in range(1, n - 1):
        if fs[i].is_scalar:
            continue
        rows = fs[i].rows
        if rows != 1:
            continue
        for j in range(i + 1, n):
            if _product_is_scalar(fs[i:j + 1]):
                _group(rw, n, i, j)
                return
    return


def _product_is_scalar(fs: list[Term]) -> bool:
    return fs[0].rows == 1 and fs[-1].cols == 1 and not fs[-1].is_scalar


def _group(rw: Rewriter, n: int, i: int, j: int) -> None:
    # the node ending at f_j is (P*f_i)*...*f_j: right-associate f_i..f_j into one subterm
    at = node_of(ROOT, n, j)
    for _ in range(j - i):
        rw.apply("mul-assoc", at)          # (X*a)*b -> X*(a*b)
    # now at = P*G with G = f_i*(...*f_j); left-nest G inside
    g = at + (1,)
    while rw.at(g).expr.args[1].op == E.MUL:
        rw.apply("mul-assoc", g, "backward")
    if not rw.at(at + (0,)).is_scalar:      # a matrix before it: the group goes in front
        to_front(rw, ROOT, len(factors(rw.at(ROOT))) - (n - 1 - j) - 1)


# --- powers ---------------------------------------------------------------------------------------
def _base(t: Term) -> tuple[E.Expr, int]:
    e = t.expr
    if e.op == E.POW and e.args[1].op == E.NUM and e.args[1].value.denominator == 1 and e.args[1].value >= 2:
        return e.args[0], int(e.args[1].value)
    return e, 1


def merge_powers(rw: Rewriter) -> None:
    """Two equal scalar factors (or powers of one) of the chain at the root become one power:
    s*t*s -> s^2*t.  The later one is moved next to the earlier, then merged."""
    fs = factors(rw.at(ROOT))
    n = len(fs)
    for i in range(n):
        if not fs[i].is_scalar or fs[i].expr.op == E.NUM:
            continue
        b, _ = _base(fs[i])
        for j in range(i + 1, n):
            if fs[j].is_scalar and _base(fs[j])[0] == b:
                _bring_next_to(rw, n, i, j)
                at = node_of(ROOT, n - 0, i + 1)   # the node (... * f_i) * f_j
                _merge_at(rw, at)
                return


def _bring_next_to(rw: Rewriter, n: int, i: int, j: int) -> None:
    """Move scalar factor j to position i + 1 (past the factors between, which it commutes with
    as a scalar): swap it leftwards one factor at a time."""
    for k in range(j, i + 1, -1):
        at = node_of(ROOT, n, k)              # (Q*f_{k-1})*f_k
        rw.apply("mul-assoc", at)              # Q*(f_{k-1}*f_k)
        rw.apply("scalar-comm", at + (1,))     # Q*(f_k*f_{k-1})   (s*A = A*s read forward)
        rw.apply("mul-assoc", at, "backward")  # (Q*f_k)*f_{k-1}


def _merge_at(rw: Rewriter, at: Path) -> None:
    """(Q*a)*b or a*b with a, b powers of one scalar -> (Q*)s^k."""
    t = rw.at(at)
    if t.kids[0].expr.op == E.MUL and not is_group(t.kids[0]):
        rw.apply("mul-assoc", at)
        at = at + (1,)
    a, b = (_base(k) for k in rw.at(at).kids)
    name = {(1, 1): "mul-pow-self"}.get((a[1], b[1]))
    if name is None:
        name = "mul-pow-r" if b[1] == 1 else ("mul-pow-l" if a[1] == 1 else "mul-pow-pow")
    rw.apply(name, at)


# --- quotients ------------------------------------------------------------------------------------
def cancel_quotient(rw: Rewriter) -> None:
    """N/D with a factor common to N and D (a scalar, or a power of one), or numbers in both:
    bring it to the front of each, then (s*A)/(s*B) = A/B (for s nonzero) or fold the numbers."""
    num, den = rw.at((0,)), rw.at((1,))
    nf, df = factors(num), factors(den)
    for i, f in enumerate(nf):
        if not f.is_scalar:
            continue
        for j, g in enumerate(df):
            numbers = number_like(f.expr) and number_like(g.expr)
            if not numbers and _base(f)[0] != _base(g)[0]:
                continue
            if not numbers and not rw.assumed.establish("nonzero", _base_term(g), rw.decls):
                continue
            _to_left(rw, (0,), i, len(nf))
            _to_left(rw, (1,), j, len(df))
            if numbers:
                for side in (0, 1):   # -2 is written -(2) by the tidy stage: fold it first
                    if rw.at((side, 0)).expr.op == E.NEG:
                        rw.apply("num-neg", (side, 0))
                rw.apply("div-nums", ROOT)
                return
            for side in (0, 1):   # s^k -> s*s^(k-1) in front
                if rw.at((side, 0)).expr.op == E.POW:
                    rw.apply("pow-expand", (side, 0))
                    rw.apply("mul-assoc", (side,))
            rw.apply("div-cancel", ROOT)
            return


def _base_term(t: Term) -> Term:
    return t.kids[0] if _base(t)[1] > 1 else t


def _to_left(rw: Rewriter, side: Path, i: int, n: int) -> None:
    """Factor i of the chain at `side` to the front, and the chain as f*R."""
    if n > 1:
        to_front(rw, side, i)
    _first_as_left(rw, side)


def cancel_elementwise(rw: Rewriter) -> None:
    """A./A = ones, and (s*A)./(s*B) = A./B, for a nonzero A or scalar s."""
    num, den = rw.at((0,)), rw.at((1,))
    if num.expr == den.expr:
        rw.apply("hdiv-self", ROOT)
        return
    nf, df = factors(num), factors(den)
    for i, f in enumerate(nf):
        if not f.is_scalar:
            continue
        for j, g in enumerate(df):
            if f.expr == g.expr and g.is_scalar:
                _to_left(rw, (0,), i, len(nf))
                _to_left(rw, (1,), j, len(df))
                rw.apply("hdiv-cancel-scale", ROOT)
                return
