"""The moves of the tidy stage that take several rule steps.

Each move works on the subterm at the root of the rewriter it is given (the tidy stage runs it in
a transaction, `Rewriter.transaction`): it makes its steps, or makes none when it does not apply.
If the kernel refuses one of its steps (StepError), the transaction drops all of them.
"""
from __future__ import annotations

from .. import expr as E
from ..proof.kernel import StepError
from .rewriter import Path, Rewriter
from .tidy_collect import cancel_in_hadamard, collect_like_terms
from .tidy_expand import expand_if_smaller
from .tidy_scalars import (cancel_elementwise, cancel_quotient, group_inner_product, is_group,
                           merge_powers)
from .tidy_rules import first_factor, number_like

ROOT = ()
# pulling a leading minus out of a factor of a product, to turn A + (-B)*C into A - B*C
PULL_NEG = {E.MUL: "mul-neg-l", E.HADAMARD: "had-neg-l", E.HDIV: "hdiv-neg-l", E.DIV: "div-neg"}
FOLD = {E.ADD: "num-add", E.SUB: "num-sub", E.MUL: "num-mul", E.DIV: "num-div"}
# factoring two terms: (rule read backward, operator of both terms, which side is shared)
FACTOR = {E.ADD: (("mul-add-l", E.MUL, 1), ("mul-add-r", E.MUL, 0), ("div-add", E.DIV, 1),
                  ("had-add-l", E.HADAMARD, 1), ("had-add-r", E.HADAMARD, 0)),
          E.SUB: (("mul-sub-l", E.MUL, 1), ("mul-sub-r", E.MUL, 0), ("div-sub", E.DIV, 1),
                  ("had-sub-l", E.HADAMARD, 1), ("had-sub-r", E.HADAMARD, 0))}
REGROUP = {(E.ADD, E.ADD): "add-assoc", (E.ADD, E.SUB): "add-sub-assoc",
           (E.SUB, E.ADD): "sub-add-assoc", (E.SUB, E.SUB): "sub-sub-assoc"}
ASSOC = {E.MUL: "mul-assoc", E.HADAMARD: "had-assoc"}


def left_nest(rw: Rewriter) -> None:
    """A*(B*(C*D)) -> ((A*B)*C)*D from the top, before the arguments are tidied: done bottom-up,
    each factor would be moved through the whole chain below it.  Stops where re-associating
    is not well typed (an inner product scaling a matrix)."""
    op = rw.at(ROOT).expr.op
    while (rw.at(ROOT).expr.args[1].op == op and not is_group(rw.at((1,)))
           and rw.attempt(ASSOC[op], ROOT, "backward")):
        pass


def fold(rw: Rewriter) -> None:
    """a op b for numbers a, b -> one number (a minus on a number is folded into it first)."""
    t = rw.at(ROOT)
    if not all(number_like(k.expr) for k in t.kids):
        return
    for i, k in enumerate(t.kids):
        if k.expr.op == E.NEG:
            rw.apply("num-neg", (i,))
    rw.apply(FOLD[t.expr.op], ROOT)


def transpose_product(rw: Rewriter) -> None:
    """(A*B*C)' -> C'*B'*A': right-nest the product, then (A*R)' = R'*A' down the chain, so that
    the result comes out left-nested (linear in the length of the product)."""
    t = rw.at(ROOT)
    if t.kids[0].expr.op != E.MUL or t.kids[0].is_scalar:
        return
    while rw.at((0,)).expr.args[0].op == E.MUL and rw.attempt("mul-assoc", (0,)):
        pass
    path = ROOT
    while rw.at(path).expr.op == E.TRANSPOSE and rw.at(path + (0,)).expr.op == E.MUL:
        rw.apply("transpose-mul", path)
        path = path + (0,)


def cancel_inverse(rw: Rewriter) -> None:
    """... * inv(A) * A * ... -> ... (also A*inv(A), inv(A)'*A', A'*inv(A)'), for invertible A;
    Q'*Q and Q*Q' for orthogonal Q."""
    left, right = rw.at(ROOT).kids
    chain = left.expr.op == E.MUL
    y = left.kids[1] if chain else left
    plan = _cancellation(y.expr, right.expr)
    if plan is None:
        return
    pred, cancelled, steps = plan
    term = next(t for t in (right, y, *right.kids[:1], *y.kids[:1]) if t.expr == cancelled)
    if not rw.assumed.establish(pred, term, rw.decls):   # declared, or assumed earlier
        return
    at = ROOT
    if chain:   # (P*Y)*Z -> P*(Y*Z)
        rw.apply("mul-assoc", ROOT)
        at = (1,)
    for name, direction, where in steps:
        rw.apply(name, at + where, direction)


def cancel_powers(rw: Rewriter) -> None:
    """... * P^a * Q^b * ... -> ... * P^(a-1) * Q^(b-1) * ... where P*Q = I (inv(A)*A, A'*inv(A)',
    Q'*Q for orthogonal Q ...) and a or b is at least 2 (cancel_inverse does P*Q): a power gives
    up one factor next to the other (pow-peel), the pair cancels, the identity goes."""
    left, right = rw.at(ROOT).kids
    chain = left.expr.op == E.MUL and not left.is_scalar
    y = left.kids[1] if chain else left
    (p, a), (q, b) = _power(y.expr), _power(right.expr)
    if a == b == 1:
        return
    plan = _cancellation(p, q)
    if plan is None:
        return
    pred, cancelled, steps = plan
    w = ROOT
    if chain:                                   # (L*y)*z -> L*(y*z)
        rw.apply("mul-assoc", ROOT)
        w = (1,)
    spot = w
    if a > 1:                                   # (P^(a-1)*P)*z -> P^(a-1)*(P*z)
        rw.apply("pow-peel-r", w + (0,))
        rw.apply("mul-assoc", w)
        spot = w + (1,)
    term = _find(rw, spot, cancelled)
    if term is None or not rw.assumed.establish(pred, term, rw.decls):
        raise StepError(f"{cancelled} is not known to be {pred}")
    pair = spot
    if b > 1:                                   # P*(Q*Q^(b-1)) -> (P*Q)*Q^(b-1)
        rw.apply("pow-peel-l", spot + (1,))
        rw.apply("mul-assoc", spot, "backward")
        pair = spot + (0,)
    for name, direction, where in steps:
        rw.apply(name, pair + where, direction)
    if b > 1:
        rw.apply("mul-identity-l", spot)        # I*Q^(b-1)
    else:
        rw.apply("mul-identity-r", w)           # P^(a-1)*I


def _power(e: E.Expr) -> tuple[E.Expr, int]:
    """(A, k) for A^k with an integer k >= 2, else (e, 1)."""
    if e.op == E.POW and e.args[1].op == E.NUM and e.args[1].value.denominator == 1 and e.args[1].value >= 2:
        return e.args[0], int(e.args[1].value)
    return e, 1


def _find(rw: Rewriter, at: Path, e: E.Expr):
    """A typed subterm equal to e below `at` (the kernel's Term, for a condition on it)."""
    stack = [rw.at(at)]
    while stack:
        t = stack.pop()
        if t.expr == e:
            return t
        stack.extend(t.kids)
    return None


def _cancellation(y: E.Expr, z: E.Expr):
    """(the condition, the term it is about, the steps at y*z that make it I) when y*z is
    inv(A)*A, A*inv(A), inv(A)'*A' or A'*inv(A)' (A invertible), or Q'*Q, Q*Q' (Q orthogonal);
    None otherwise."""
    if y.op == "inv" and y.args[0] == z:
        return "invertible", z, [("inv-mul-self-l", "forward", ROOT)]
    if z.op == "inv" and z.args[0] == y:
        return "invertible", y, [("inv-mul-self-r", "forward", ROOT)]
    if y.op == E.TRANSPOSE and y.args[0] == z:
        return "orthogonal", z, [("orthogonal-l", "forward", ROOT)]
    if z.op == E.TRANSPOSE and z.args[0] == y:
        return "orthogonal", y, [("orthogonal-r", "forward", ROOT)]
    if y.op == E.TRANSPOSE and z.op == E.TRANSPOSE:
        a, b = y.args[0], z.args[0]
        if a.op == "inv" and a.args[0] == b:     # inv(A)'*A' = (A*inv(A))'
            return "invertible", b, [("transpose-mul", "backward", ROOT), ("inv-mul-self-r", "forward", (0,)),
                                     ("transpose-identity", "forward", ROOT)]
        if b.op == "inv" and b.args[0] == a:     # A'*inv(A)' = (inv(A)*A)'
            return "invertible", a, [("transpose-mul", "backward", ROOT), ("inv-mul-self-l", "forward", (0,)),
                                     ("transpose-identity", "forward", ROOT)]
    return None


def split_inverse(rw: Rewriter) -> None:
    """F*inv(R*F) -> inv(R) and inv(F*R)*F -> inv(R), for invertible square F and R (declared,
    or facts of the derivation: det(A*X*B) needs A*X*B invertible, and with A, X, B square each
    is): inv(R*F) = inv(F)*inv(R), then F*inv(F) = I."""
    left, right = rw.at(ROOT).kids
    chained = left.expr.op == E.MUL and not left.is_scalar
    f = left.kids[1] if chained else left
    m = right.expr.args[0] if right.expr.op == "inv" else None
    if m is not None and m.op == E.MUL and m.args[1] == f.expr:
        rw.apply("inv-mul", (1,))                        # (P*)F*(inv(F)*inv(R))
        rw.apply("mul-assoc", ROOT, "backward")          # ((P*)F*inv(F))*inv(R)
        at = (0,)
        if chained:                                      # (P*F)*inv(F) -> P*(F*inv(F))
            rw.apply("mul-assoc", at)
            at = at + (1,)
        rw.apply("inv-mul-self-r", at)
        return
    if right.expr.op == E.MUL:
        return
    inv_at = (0, 1) if chained else (0,)
    m = rw.at(inv_at).expr.args[0] if rw.at(inv_at).expr.op == "inv" else None
    if m is None or m.op != E.MUL or _leftmost(m) != right.expr:
        return
    while rw.at(inv_at + (0,)).expr.args[0].op == E.MUL:   # inv(F*(rest))
        rw.apply("mul-assoc", inv_at + (0,))
    rw.apply("inv-mul", inv_at)                           # inv(R)*inv(F)
    tail = ROOT
    if chained:                                           # (P*(inv(R)*inv(F)))*F
        rw.apply("mul-assoc", ROOT)
        tail = (1,)
    rw.apply("mul-assoc", tail)                           # inv(R)*(inv(F)*F)
    rw.apply("inv-mul-self-l", tail + (1,))


def _leftmost(e: E.Expr) -> E.Expr:
    while e.op == E.MUL:
        e = e.args[0]
    return e


def kron_in_chain(rw: Rewriter) -> None:
    """(P*kron(A, B))*kron(C, D) -> P*kron(A*C, B*D), when those products are well typed."""
    left, right = rw.at(ROOT).kids
    if right.expr.op != "kron":
        return
    if left.expr.op == E.NEG and left.expr.args[0].op == "kron":   # (-kron(A, B))*kron(C, D)
        rw.apply("mul-neg-l", ROOT)
        rw.apply("kron-mixed", (0,))
        return
    if left.expr.op != E.MUL or left.expr.args[1].op != "kron":
        return
    rw.apply("mul-assoc", ROOT)
    rw.apply("kron-mixed", (1,))


def identity_in_chain(rw: Rewriter) -> None:
    """(s*I)*A -> s*(I*A) -> s*A: an I left inside a chain after a scalar."""
    left, right = rw.at(ROOT).kids
    if left.expr.op != E.MUL or left.expr.args[1].op != E.IDENTITY or right.is_scalar:
        return
    rw.apply("mul-assoc", ROOT)
    rw.apply("mul-identity-l", (1,))


def scalar_out_of_trace(rw: Rewriter) -> None:
    """tr(s*A*B) -> s*tr(A*B) for a scalar first factor s."""
    arg = rw.at((0,))
    if arg.expr.op != E.MUL:
        return
    first = arg
    while first.expr.op == E.MUL:
        first = first.kids[0]
    if not first.is_scalar:
        return
    while rw.at((0, 0)).expr.op == E.MUL:
        rw.apply("mul-assoc", (0,))
    rw.apply("trace-scale", ROOT)


def row_of_ones(rw: Rewriter) -> None:
    """ones*B -> sum(B) when ones is a row and the product 1x1: written as a product, the size of
    that ones is fixed only by the context (it could be read as a scaling)."""
    t = rw.at(ROOT)
    ones, rest = t.kids
    if ones.expr.op != E.ONES or not t.is_scalar or rest.is_scalar:
        return
    rw.apply("trace-scalar", ROOT, "backward")        # tr(ones*B)
    rw.apply("transpose-ones", (0, 0), "backward")    # tr(ones'*B), a column of ones
    rw.apply("sum-def", ROOT, "backward")             # sum(B)


def subtract_negative(rw: Rewriter) -> None:
    """A + (-B)*C -> A - B*C and A - (-B)*C -> A + B*C: pull the sign of the second term's first
    factor up to the sum."""
    right = rw.at((1,)).expr
    if right.op in (E.NEG, E.NUM) or first_factor(right, tuple(PULL_NEG)).op != E.NEG:
        return
    chain = []
    p, e = (1,), right
    while e.op in PULL_NEG:
        chain.append(p)
        p, e = p + (0,), e.args[0]
    for q in reversed(chain):   # innermost first: (-B)*C -> -(B*C), then up
        rw.apply(PULL_NEG[rw.at(q).expr.op], q)
    rw.apply("add-neg" if rw.at(ROOT).expr.op == E.ADD else "sub-neg", ROOT)


def negated_like_terms(rw: Rewriter) -> None:
    """-A - B -> -(A + B) when A and B join (-x - x = -(2*x), then -2*x)."""
    p, q = rw.at(ROOT).expr.args
    if p.op == E.NEG and can_factor(p.args[0], q):
        rw.apply("neg-add", ROOT, "backward")


def factor(rw: Rewriter) -> None:
    """P +- Q with a common last or first factor -> one product (this also collects like terms,
    2*A + A = 3*A).  When P is itself a sum, its last term is tried with Q."""
    t = rw.at(ROOT)
    op = t.expr.op
    p, q = (k.expr for k in t.kids)
    if p.op in (E.ADD, E.SUB):
        if can_factor(p.args[1], q):
            rw.apply(REGROUP[p.op, op], ROOT)   # (A +- B) +- Q -> A +- (B +- Q); B +- Q is next
        return
    if p == q or not can_factor(p, q):
        return   # add-self / sub-self are one-step rules
    for name, kind, side in FACTOR[op]:
        if p.op == kind and q.op == kind and side == 1 and p.args[1] == q.args[1]:
            rw.apply(name, ROOT, "backward")
            return
        if side == 0 and kind in ASSOC and _shared_first(p, q, kind):
            for i in (0, 1):   # right-nest each term so that the first factor is its left argument
                while rw.at((i,)).expr.args[0].op == kind:
                    rw.apply(ASSOC[kind], (i,))
            rw.apply(name, ROOT, "backward")
            return
    # like terms: c*A +- A, A +- c*A: write the bare A as 1*A, then factor
    if p.op == E.MUL and number_like(p.args[0]) and p.args[1] == q:
        rw.apply("mul-one-l", (1,), "backward")
    elif q.op == E.MUL and number_like(q.args[0]) and q.args[1] == p:
        rw.apply("mul-one-l", (0,), "backward")
    else:
        return
    rw.apply("mul-add-l" if op == E.ADD else "mul-sub-l", ROOT, "backward")


def _has_d(e: E.Expr) -> bool:
    return any(n.op == E.DIFF for _, n in e.walk())


def _shares_d(p: E.Expr, q: E.Expr) -> bool:
    """Do p and q have the same last or first factor, and is it the one with the differential?
    (Then factoring keeps one dX in the term: A*dX + B*dX = (A + B)*dX.)"""
    for kind in (E.MUL, E.HADAMARD):
        if p.op == kind and q.op == kind and p.args[1] == q.args[1]:
            return _has_d(p.args[1])
        first = _first(p, kind)
        if first is not None and first == _first(q, kind):
            return _has_d(first)
    return True   # like terms (c*A + A): one term either way


def can_factor(p: E.Expr, q: E.Expr) -> bool:
    """Will `factor` (or add-self / sub-self) find something to join in p +- q?  Two terms that
    each hold a differential are joined only where the shared factor holds it: dF stays a sum of
    terms each with one dX."""
    if p == q:
        return True
    if _has_d(p) and _has_d(q) and not _shares_d(p, q):
        return False
    for kind in (E.MUL, E.HADAMARD, E.DIV):
        if p.op == kind and q.op == kind and p.args[1] == q.args[1]:
            return True
        if kind in ASSOC and _shared_first(p, q, kind):
            return True
    return ((p.op == E.MUL and number_like(p.args[0]) and p.args[1] == q)
            or (q.op == E.MUL and number_like(q.args[0]) and q.args[1] == p))


def _shared_first(p: E.Expr, q: E.Expr, kind: str) -> bool:
    """Do the chains p and q start with the same factor, one a book would take out?  A number
    alone is not (2*A*x + 2*b stays, as books write it), a number with the next factor is
    ((2/3)*S*a + (2/3)*S*b = (2/3)*S*(a + b))."""
    first = _first(p, kind)
    if first is None or first != _first(q, kind):
        return False
    if not number_like(first):
        return True
    return _nth(p, kind, 1) is not None and _nth(p, kind, 1) == _nth(q, kind, 1)


def _nth(e: E.Expr, kind: str, i: int) -> E.Expr | None:
    chain = []
    while e.op == kind:
        chain.append(e.args[1])
        e = e.args[0]
    chain.append(e)
    chain.reverse()
    return chain[i] if i < len(chain) - 1 else None   # a factor, not the whole rest


def _first(e: E.Expr, kind: str) -> E.Expr | None:
    """The first factor of a left-nested chain of `kind` (None if `e` is not such a chain)."""
    return first_factor(e, (kind,)) if e.op == kind else None


# operator -> moves: PRE before the arguments are tidied, FIRST before the one-step rules,
# LAST after them
PRE = {E.MUL: [left_nest], E.HADAMARD: [left_nest]}
FIRST = {E.TRANSPOSE: [transpose_product], E.ADD: [fold], E.SUB: [fold], E.DIV: [fold]}
LAST = {E.ADD: [factor, subtract_negative, collect_like_terms],
        E.SUB: [factor, subtract_negative, negated_like_terms, collect_like_terms],
        E.MUL: [fold, cancel_inverse, cancel_powers, split_inverse, identity_in_chain, kron_in_chain, row_of_ones,
                group_inner_product, merge_powers, expand_if_smaller],
        E.HADAMARD: [cancel_in_hadamard, expand_if_smaller],
        E.DIV: [cancel_quotient], E.HDIV: [cancel_elementwise],
        "tr": [scalar_out_of_trace]}
