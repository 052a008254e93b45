"""How terms of the language are spelled in egglog.

Every operator is a constructor of sort `M`.  Leaves carry what they need: a symbol its name, a
constant its rational value, `I` its size and `0`/`ones` their rows and columns (dimensions are
strings).  Shapes of all classes are kept by the analysis functions `rows` and `cols`.
"""
from __future__ import annotations

from fractions import Fraction

from .. import expr as E
from ..shapes import Shape, Typing

BINARY = {E.ADD: "Add", E.SUB: "Sub", E.MUL: "Mul", E.HADAMARD: "Had", E.HDIV: "HDiv",
          E.DIV: "Div", E.POW: "Pow"}
UNARY = {E.NEG: "Neg", E.TRANSPOSE: "T", E.DIFF: "D",
         **{f: "F" + f.capitalize() for f in E.FUNCTIONS if f != E.DIFF}}
CTOR = {**BINARY, **UNARY, E.SYM: "Sym", E.NUM: "Num", E.IDENTITY: "Ident", E.ZERO: "Zero",
        E.ONES: "Ones"}
OP_OF = {v: k for k, v in CTOR.items()}
# argument sorts of the leaf constructors (the others take M children)
LEAF_ARGS = {"Sym": ("String",), "Num": ("BigRat",), "Ident": ("String",),
             "Zero": ("String", "String"), "Ones": ("String", "String")}


def declarations() -> str:
    lines = ["(sort M)"]
    for ctor, sorts in LEAF_ARGS.items():
        lines.append(f"(constructor {ctor} ({' '.join(sorts)}) M)")
    for ctor in BINARY.values():
        lines.append(f"(constructor {ctor} (M M) M)")
    for ctor in UNARY.values():
        lines.append(f"(constructor {ctor} (M) M)")
    lines += ["(function rows (M) String :merge old)", "(function cols (M) String :merge old)",
              # the name of the variable of a derivation, set per run: programs do not depend on it
              "(function wrt-name () String :merge old)"]
    for rel in ("symmetric", "spd", "invertible", "diagonal", "positive", "const", "hasd", "dfree",
                "nonscalar", "unit", "is-root"):
        lines.append(f"(relation {rel} (M))")
    return "\n".join(lines)


def dim_text(d) -> str:
    return '"' + str(d).replace('"', "") + '"'


def rational(v: Fraction) -> str:
    num = f"(bigint {abs(v.numerator)})"
    lit = f"(bigrat {num} (bigint {v.denominator}))"
    return "(bigrat (bigint 0) (bigint 1))" if v == 0 else (f"(neg {lit})" if v < 0 else lit)


def term(e: E.Expr, typing: Typing, path: E.Path = ()) -> str:
    """egglog text of a concrete term; `typing` gives the sizes of I, 0 and ones."""
    op = e.op
    if op == E.SYM:
        return f'(Sym "{e.name}")'
    if op == E.NUM:
        return f"(Num {rational(e.value)})"
    if op in (E.IDENTITY, E.ZERO, E.ONES):
        s: Shape = typing.shapes[path]
        if op == E.IDENTITY:
            return f"(Ident {dim_text(s.rows)})"
        return f"({CTOR[op]} {dim_text(s.rows)} {dim_text(s.cols)})"
    kids = " ".join(term(a, typing, path + (i,)) for i, a in enumerate(e.args))
    return f"({CTOR[op]} {kids})"
