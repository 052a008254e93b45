"""The one-step rules of the tidy stage: for each operator, the library rules (and the direction)
tried at a node of that operator, in order, each with an optional guard on the node.

The orientation is what makes tidying terminate: transposes only move down, a minus sign only
moves to the first factor of a product (or out of a unit: -I*A = -A), products and sums only
associate to the left, scalars only move to the front, division only moves out of products.
A guard only says where a rule is not wanted; the kernel decides whether it applies.
"""
from __future__ import annotations

from typing import Callable

from .. import expr as E
from ..proof.kernel import Term

Guard = Callable[[Term], bool]
UNITS = (E.IDENTITY, E.ONES)
ELEMENTWISE_TRANSPOSE = tuple(f"transpose-{f}" for f in E.ELEMENTWISE)


def number_like(e: E.Expr) -> bool:
    return e.op == E.NUM or (e.op == E.NEG and e.args[0].op == E.NUM)


def is_unit(e: E.Expr) -> bool:
    return e.op in UNITS or e == E.num(1)


def first_factor(e: E.Expr, kinds=(E.MUL,)) -> E.Expr:
    while e.op in kinds:
        e = e.args[0]
    return e


# --- guards ---------------------------------------------------------------------------------------
def scalar_to_front(t: Term) -> bool:
    """A*s -> s*A: a scalar s goes in front of a matrix, a number in front of another scalar."""
    a, s = t.kids
    if not s.is_scalar:
        return False
    if not a.is_scalar:
        return True
    return number_like(s.expr) and not number_like(a.expr)


def negative_literal_inside(t: Term) -> bool:
    return t.kids[0].expr.op == E.NUM and t.kids[0].expr.value < 0


def minus_unit_left(t: Term) -> bool:
    """(-I)*A, (-ones).*A, (-1)*A, (-(ones./B)).*A: the minus leaves, so that the unit can go."""
    a = t.kids[0].expr
    return a.op == E.NEG and (is_unit(a.args[0]) or (a.args[0].op == E.HDIV and is_unit(a.args[0].args[0])))


def sign_into_first_factor(t: Term) -> bool:
    """-(A*B) -> (-A)*B, unless A is a unit (the minus just came out of it: -I*B = -(I*B))."""
    return not is_unit(t.kids[0].expr.args[0]) if t.kids[0].expr.args else False


def not_a_group(t: Term) -> bool:
    """A*(B*C) -> (A*B)*C, unless B*C is an inner product kept as one factor (2*(x'*A*x))."""
    from .tidy_scalars import is_group

    return not is_group(t.kids[1])


def scalar_into(kind: str) -> Guard:
    """s*(A.*B) -> (s*A).*B (prints as s*A.*B, the way books write it)."""
    return lambda t: t.kids[0].is_scalar and t.kids[1].expr.op == kind


def compound_inverse(t: Term) -> bool:
    """inv(P)' -> inv(P') when P is a product: the transposes then reach the leaves
    (a book writes inv(X)' but inv(X'*A'*X), not inv(X'*A*X)')."""
    a = t.kids[0].expr
    return a.op == "inv" and a.args[0].op == E.MUL


def transposed_symbol(t: Term) -> bool:
    """inv(X') -> inv(X)' for a symbol X (the way books write it; compound ones go the other way)."""
    a = t.kids[0].expr
    return a.op == E.TRANSPOSE and a.args[0].op == E.SYM


def transposed_argument(t: Term) -> bool:
    """exp(A')' -> exp(A''): a transpose on an elementwise function moves in only to cancel."""
    a = t.kids[0]
    return a.expr.op in E.ELEMENTWISE and a.kids[0].expr.op == E.TRANSPOSE


def _forward(*names: str) -> list[tuple[str, str, Guard | None]]:
    return [(n, "forward", None) for n in names]


# operator -> [(rule, direction, guard)], tried in order
RULES: dict[str, list[tuple[str, str, Guard | None]]] = {
    E.TRANSPOSE: _forward("transpose-transpose", "transpose-scalar", "transpose-symmetric",
                          "transpose-identity", "transpose-identity-sized", "transpose-ones",
                          "transpose-zero", "transpose-mul", "transpose-neg", "transpose-hadamard",
                          "transpose-hdiv", "transpose-div", "kron-transpose", "commutation-transpose",
                          "transpose-pow")
                 + [("transpose-inv", "forward", compound_inverse)]
                 + [(n, "forward", transposed_argument) for n in ELEMENTWISE_TRANSPOSE],
    E.NEG: _forward("neg-neg", "neg-zero")
           + [("num-neg", "forward", negative_literal_inside),
              ("mul-neg-l", "backward", sign_into_first_factor),
              ("had-neg-l", "backward", sign_into_first_factor),
              ("hdiv-neg-l", "backward", sign_into_first_factor),
              ("div-neg", "backward", sign_into_first_factor)],
    E.MUL: _forward("mul-zero-l", "mul-zero-r", "mul-one-l", "mul-one-r", "mul-identity-l",
                    "mul-identity-r", "identity-sized-l", "identity-sized-r", "kron-mixed")
           + [("mul-neg-l", "forward", minus_unit_left), ("mul-neg-r", "forward", None),
              ("mul-div-r", "forward", None), ("mul-div-l", "forward", None),
              ("had-scale-l", "backward", scalar_into(E.HADAMARD)),
              ("hdiv-scale-l", "backward", scalar_into(E.HDIV)),
              ("mul-assoc", "backward", not_a_group), ("scalar-comm", "backward", scalar_to_front),
              ("sign-mul", "forward", None), ("mul-pow-self", "forward", None),
              ("mul-pow-r", "forward", None), ("mul-pow-l", "forward", None),
              ("mul-pow-pow", "forward", None), ("diag-outer", "forward", None),
              ("diag-hdiv", "forward", None), ("inner-hdiv", "forward", None),
              ("simplex-inner", "forward", None)],
    E.HADAMARD: _forward("had-zero-l", "had-zero-r", "had-ones", "had-ones-l", "had-scalar",
                         "hdiv-cancel", "had-div-r", "had-div-l")
                + [("had-neg-l", "forward", minus_unit_left), ("had-neg-r", "forward", None),
                   ("had-scale-r", "forward", None), ("had-assoc", "backward", None)]
                + _forward("sign-had", "hdiv-ones-had"),
    E.HDIV: _forward("hdiv-zero", "hdiv-scalar", "hdiv-div-l", "hdiv-self", "sigmoid-fold-had",
                     "sigmoid-fold-had-r", "hdiv-num-den")
            + [("hdiv-neg-l", "forward", minus_unit_left)],
    E.DIV: _forward("div-zero", "div-one", "div-div", "softmax-fold", "sigmoid-fold", "sigmoid-fold-r",
                    "sigmoid-fold-mul"),
    E.ADD: _forward("add-zero-l", "add-zero-r", "add-neg", "add-neg-l", "add-self")
           + [("add-assoc", "backward", None), ("add-sub-assoc", "backward", None)],
    E.SUB: _forward("sub-zero-r", "sub-zero-l", "sub-self", "sub-neg")
           + [("sub-add-assoc", "backward", None), ("sub-sub-assoc", "backward", None)],
    "tr": _forward("tr-zero", "trace-scalar", "trace-transpose"),
    "sum": _forward("sum-zero", "sum-scalar", "sum-neg", "simplex-sum"),
    "diag": _forward("diag-zero", "diag-scalar", "diag-ones", "diag-scale"),
    "inv": _forward("inv-inv", "inv-identity", "inv-scalar", "inv-orthogonal", "inv-pow")
           + [("transpose-inv", "backward", transposed_symbol)],
    "det": _forward("det-identity"),
    "sigmoid": _forward("sigmoid-neg", "sigmoid-neg-had"),   # σ(-u) = 1 - σ(u), as books write it
    E.POW: _forward("pow-one"),
    "kron": _forward("kron-scalar-l", "kron-scalar-r", "kron-identity", "kron-scale-l", "kron-scale-r",
                     "kron-neg-l", "kron-neg-r", "kron-row-column", "kron-column-row"),
    "vec": _forward("vec-column", "vec-row"),
    E.COMMUTATION: _forward("commutation-one-l", "commutation-one-r"),
    E.NUM: _forward("neg-literal"),
    E.IDENTITY: _forward("unit-scalar"),
    E.ONES: _forward("unit-scalar"),
}
