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
}
_ALWAYS = {
    "symmetric": {E.IDENTITY, "diag"},
    "spd": {E.IDENTITY},
    "invertible": {E.IDENTITY},
    "diagonal": {E.IDENTITY, "diag"},
    "positive": {"exp", "sigmoid", "softmax", E.ONES},
}


def has_prop(term: E.Expr, prop: str, decls: Mapping[str, Decl]) -> bool:
    op = term.op
    if op == E.SYM:
        d = decls.get(term.name)
        return d is not None and (prop in d.props or (prop == "invertible" and "spd" in d.props))
    if op in _ALWAYS.get(prop, ()):
        return True
    if op == E.NUM:
        return prop == "positive" and term.value > 0 or prop in ("invertible", "symmetric", "diagonal")
    if prop == "invertible" and has_prop(term, "spd", decls):
        return True
    if prop == "symmetric" and has_prop(term, "diagonal", decls):
        return True
    if prop == "symmetric" and op in (E.MUL, E.ADD):   # A*A', A'*A, A + A', A' + A
        a, b = term.args
        if (a.op == E.TRANSPOSE and a.args[0] == b) or (b.op == E.TRANSPOSE and b.args[0] == a):
            return True
    how = _THROUGH.get(prop, {}).get(op)
    if how == "all":
        return all(has_prop(a, prop, decls) for a in term.args)
    if how == "first":
        return has_prop(term.args[0], prop, decls)
    return False


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
        return term.op == E.NUM and term.value != 0 or has_prop(term, "positive", decls)
    if pred == "negnum":
        return term.op == E.NUM and term.value < 0
    if pred == "notone":
        return term.op == E.NUM and term.value != 1
    if pred in ("symmetric", "spd", "invertible", "diagonal"):
        return shape.rows == shape.cols and has_prop(term, pred, decls)
    if pred == "positive":
        return has_prop(term, pred, decls)
    raise ValueError(f"unknown predicate {pred!r}")
