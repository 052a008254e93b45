"""Side conditions of rules, decided on a concrete subterm (part of the trusted kernel).

Shape predicates read the subterm's inferred shape; property predicates (symmetric, spd,
invertible, diagonal, positive) follow declarations through a few structural facts that are
true of every instance; `const` and `hasd` look at the variable of differentiation.
"""
from __future__ import annotations

from typing import Mapping

from . import expr as E
from .shapes import Decl, Shape

# What each property follows from, structurally: (op, how the children must be).
#   "all": every argument has the property; "any-scalar-other": a product where one factor is
#   scalar and the other has it.
_THROUGH = {
    "symmetric": {E.NEG: "all", E.TRANSPOSE: "all", "inv": "all", E.ADD: "all", E.SUB: "all",
                  E.HADAMARD: "all", E.HDIV: "all", E.POW: "first", **{f: "all" for f in E.ELEMENTWISE}},
    "spd": {E.TRANSPOSE: "all", "inv": "all", E.ADD: "all"},
    "invertible": {E.TRANSPOSE: "all", "inv": "all", E.NEG: "all", E.POW: "first", E.MUL: "all"},
    "diagonal": {E.NEG: "all", E.TRANSPOSE: "all", "inv": "all", E.ADD: "all", E.SUB: "all",
                 E.HADAMARD: "all", E.MUL: "all", E.POW: "first"},
    "positive": {E.HADAMARD: "all", E.HDIV: "all", E.ADD: "all", "sqrt": "all"},
    "nonzero": {E.NEG: "all", E.TRANSPOSE: "all", E.HADAMARD: "all", E.HDIV: "all"},
    "orthogonal": {E.NEG: "all", E.TRANSPOSE: "all", "inv": "all", E.MUL: "all"},
}
_ALWAYS = {
    "symmetric": {E.IDENTITY, "diag"},
    "spd": {E.IDENTITY},
    "invertible": {E.IDENTITY},
    "diagonal": {E.IDENTITY, "diag"},
    "positive": {"exp", "sigmoid", "softmax", E.ONES},
    "nonzero": {"exp", "sigmoid", "softmax", E.ONES, E.IDENTITY},
    "orthogonal": {E.IDENTITY},
}


def has_prop(term: E.Expr, prop: str, decls: Mapping[str, Decl]) -> bool:
    op = term.op
    if op == E.SYM:
        d = decls.get(term.name)
        return d is not None and prop in d.props
    if op in _ALWAYS.get(prop, ()):
        return True
    if op == E.NUM:
        v = term.value   # a number scales: invertible and nonzero unless 0, orthogonal if ±1
        return {"positive": v > 0, "nonzero": v != 0, "invertible": v != 0, "orthogonal": abs(v) == 1,
                "symmetric": True, "diagonal": True}.get(prop, False)
    if prop == "invertible" and (has_prop(term, "spd", decls) or has_prop(term, "orthogonal", decls)):
        return True
    if prop == "nonzero" and has_prop(term, "positive", decls):
        return True
    if prop == "symmetric" and has_prop(term, "diagonal", decls):
        return True
    if prop == "symmetric" and op in (E.MUL, E.ADD):   # A*A', A'*A, A + A', A' + A
        a, b = term.args
        if (a.op == E.TRANSPOSE and a.args[0] == b) or (b.op == E.TRANSPOSE and b.args[0] == a):
            return True
    if prop == "symmetric" and op == E.MUL and _congruence(_factors(term), decls):
        return True
    how = _THROUGH.get(prop, {}).get(op)
    if how == "all":
        return all(has_prop(a, prop, decls) for a in term.args)
    if how == "first":
        return has_prop(term.args[0], prop, decls)
    return False


def _factors(e: E.Expr) -> list[E.Expr]:
    return _factors(e.args[0]) + _factors(e.args[1]) if e.op == E.MUL else [e]


def _mirror(a: E.Expr, b: E.Expr) -> bool:
    """b = a' as terms: A and A', or A' and A."""
    return (b.op == E.TRANSPOSE and b.args[0] == a) or (a.op == E.TRANSPOSE and a.args[0] == b)


def _congruence(fs: list[E.Expr], decls) -> bool:
    """F1*...*Fk = (F1*...*Fk)': the product reads the same backwards with each factor transposed
    (P'*S*P with S symmetric, A*B*B'*A'), the middle factor, if any, symmetric."""
    k = len(fs)
    if k < 3 or not all(_mirror(fs[i], fs[k - 1 - i]) for i in range(k // 2)):
        return False
    return k % 2 == 0 or has_prop(fs[k // 2], "symmetric", decls)


def holds(pred: str, term: E.Expr, shape: Shape, decls: Mapping[str, Decl], wrt: str | None) -> bool:
    """Does condition `pred` hold of `term` (whose shape in context is `shape`)?"""
    if pred == "scalar":
        return shape.is_scalar
    if pred == "nonscalar":
        return not shape.is_scalar
    if pred == "matrix":
        return shape.rows != 1 and shape.cols != 1
    if pred == "square":
        return shape.rows == shape.cols
    if pred == "const":
        return wrt is not None and all(
            not (n.op == E.SYM and n.name == wrt) and n.op != E.DIFF for _, n in term.walk())
    if pred == "hasd":
        return any(n.op == E.DIFF for _, n in term.walk())
    if pred == "num":
        return term.op == E.NUM
    if pred == "int2":
        return term.op == E.NUM and term.value.denominator == 1 and term.value >= 2
    if pred == "column":
        return shape.cols == 1
    if pred == "row":
        return shape.rows == 1
    if pred == "dims":   # names the sizes (the kernel binds them); holds of every term
        return True
    if pred == "unit":   # I or ones: 1 when 1x1
        return term.op in (E.IDENTITY, E.ONES)
    if pred == "negint":
        return term.op == E.NUM and term.value.denominator == 1 and term.value < 0
    if pred in ("nonzero", "nonnull"):   # from the declarations alone (the kernel also uses facts)
        return term.op == E.NUM and term.value != 0 or has_prop(term, "nonzero", decls)
    if pred == "negnum":
        return term.op == E.NUM and term.value < 0
    if pred == "notone":
        return term.op == E.NUM and term.value != 1
    if pred in ("symmetric", "spd", "invertible", "diagonal", "orthogonal"):
        return shape.rows == shape.cols and has_prop(term, pred, decls)
    if pred == "simplex":
        return shape.cols == 1 and has_prop(term, pred, decls)
    if pred == "positive":
        return has_prop(term, pred, decls)
    raise ValueError(f"unknown predicate {pred!r}")
