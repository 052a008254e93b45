"""Analysis rules run alongside every stage: shapes (`rows`, `cols`), the structural properties
of `conditions.py` (symmetric, spd, ...), and `const` / `hasd` relative to the variable.

The property rules are generated from the same table the kernel uses, so the engine and the
checker agree on what is, say, symmetric (the checker still decides on every step).
"""
from __future__ import annotations

from typing import Mapping

from .. import conditions as C
from .. import expr as E
from ..shapes import Decl
from .schema import BINARY, CTOR, UNARY, dim_text

RULESET = "analysis"
_SAME_SHAPE = (E.ADD, E.SUB, E.HADAMARD, E.HDIV)
_KEEP_SHAPE = (E.NEG, E.DIFF) + E.ELEMENTWISE


def _set(r: str, c: str) -> str:
    return f"(set (rows e) {r}) (set (cols e) {c})"


def shape_rules() -> list[str]:
    R = RULESET
    out = [
        f'(rule ((= e (Num q))) ({_set(chr(34) + "1" + chr(34), chr(34) + "1" + chr(34))}) :ruleset {R})',
        f"(rule ((= e (Ident n))) ({_set('n', 'n')}) :ruleset {R})",
        f"(rule ((= e (Zero r c))) ({_set('r', 'c')}) :ruleset {R})",
        f"(rule ((= e (Ones r c))) ({_set('r', 'c')}) :ruleset {R})",
    ]
    one = '"1"'
    for op in _SAME_SHAPE:
        out.append(f"(rule ((= e ({CTOR[op]} a b)) (= r (rows a)) (= c (cols a)) (= r (rows b)) "
                   f"(= c (cols b))) ({_set('r', 'c')}) :ruleset {R})")
    mul = CTOR[E.MUL]
    out += [
        f"(rule ((= e ({mul} a b)) (= k (cols a)) (= k (rows b)) (= r (rows a)) (= c (cols b))) "
        f"({_set('r', 'c')}) :ruleset {R})",
        f"(rule ((= e ({mul} a b)) (= (rows a) {one}) (= (cols a) {one}) (= r (rows b)) (= c (cols b))) "
        f"({_set('r', 'c')}) :ruleset {R})",
        f"(rule ((= e ({mul} a b)) (= (rows b) {one}) (= (cols b) {one}) (= r (rows a)) (= c (cols a))) "
        f"({_set('r', 'c')}) :ruleset {R})",
        f"(rule ((= e (Div a b)) (= (rows b) {one}) (= (cols b) {one}) (= r (rows a)) (= c (cols a))) "
        f"({_set('r', 'c')}) :ruleset {R})",
        f"(rule ((= e (Pow a k)) (= r (rows a)) (= r (cols a))) ({_set('r', 'r')}) :ruleset {R})",
        f"(rule ((= e (T a)) (= r (rows a)) (= c (cols a))) ({_set('c', 'r')}) :ruleset {R})",
    ]
    for op in _KEEP_SHAPE + ("softmax",):
        extra = f" (= c {one})" if op == "softmax" else ""
        out.append(f"(rule ((= e ({CTOR[op]} a)) (= r (rows a)) (= c (cols a)){extra}) "
                   f"({_set('r', 'c')}) :ruleset {R})")
    out.append(f"(rule ((= e (FInv a)) (= r (rows a)) (= r (cols a))) ({_set('r', 'r')}) :ruleset {R})")
    for f in ("det", "logdet", "tr"):
        out.append(f"(rule ((= e ({CTOR[f]} a)) (= r (rows a)) (= r (cols a))) ({_set(one, one)}) "
                   f":ruleset {R})")
    out.append(f"(rule ((= e (FSum a))) ({_set(one, one)}) :ruleset {R})")
    for f in ("norm2", "norm2sq"):
        out.append(f"(rule ((= e ({CTOR[f]} a)) (= (cols a) {one})) ({_set(one, one)}) :ruleset {R})")
    out.append(f"(rule ((= e (FDiag a)) (= r (rows a)) (= (cols a) {one})) ({_set('r', 'r')}) "
               f":ruleset {R})")
    return out


def _arity(op: str) -> int:
    return 2 if op in BINARY else 1


def nonscalar_rules() -> list[str]:
    R = RULESET
    return [f'(rule ((= r (rows e)) (!= r "1")) ((nonscalar e)) :ruleset {R})',
            f'(rule ((= c (cols e)) (!= c "1")) ((nonscalar e)) :ruleset {R})']


def property_rules() -> list[str]:
    R = RULESET
    out = []
    leaf_pattern = {E.IDENTITY: "(Ident n)", E.ONES: "(Ones r c)"}
    for prop, ops in C._ALWAYS.items():
        if prop not in PROPERTIES:   # nonzero, orthogonal: the e-graph does not track them
            continue
        for op in ops:
            pat = leaf_pattern.get(op) or f"({CTOR[op]} a)"
            out.append(f"(rule ((= e {pat})) (({prop} e)) :ruleset {R})")
    for prop, table in C._THROUGH.items():
        if prop not in PROPERTIES:
            continue
        for op, how in table.items():
            if _arity(op) == 2:
                need = f"({prop} a) ({prop} b)" if how == "all" else f"({prop} a)"
                out.append(f"(rule ((= e ({CTOR[op]} a b)) {need}) (({prop} e)) :ruleset {R})")
            else:
                out.append(f"(rule ((= e ({CTOR[op]} a)) ({prop} a)) (({prop} e)) :ruleset {R})")
    out += [
        f"(rule ((spd e)) ((invertible e)) :ruleset {R})",
        f"(rule ((diagonal e)) ((symmetric e)) :ruleset {R})",
        f"(rule ((= e (Mul t a)) (= t (T a))) ((symmetric e)) :ruleset {R})",
        f"(rule ((= e (Mul a t)) (= t (T a))) ((symmetric e)) :ruleset {R})",
        f"(rule ((= e (Add t a)) (= t (T a))) ((symmetric e)) :ruleset {R})",
        f"(rule ((= e (Add a t)) (= t (T a))) ((symmetric e)) :ruleset {R})",
        f"(rule ((= e (Num q))) ((symmetric e) (diagonal e)) :ruleset {R})",
        f"(rule ((= e (Num q)) (!= q (bigrat (bigint 0) (bigint 1)))) ((invertible e)) :ruleset {R})",
        f"(rule ((= e (Num q)) (> q (bigrat (bigint 0) (bigint 1)))) ((positive e)) :ruleset {R})",
    ]
    return out


def hasd_rules() -> list[str]:
    """`hasd`: some member contains a differential."""
    R = RULESET
    out = [f"(rule ((= e (D a))) ((hasd e)) :ruleset {R})"]
    for ctor in BINARY.values():
        out.append(f"(rule ((= e ({ctor} a b)) (hasd a)) ((hasd e)) :ruleset {R})")
        out.append(f"(rule ((= e ({ctor} a b)) (hasd b)) ((hasd e)) :ruleset {R})")
    for ctor in UNARY.values():
        if ctor != "D":
            out.append(f"(rule ((= e ({ctor} a)) (hasd a)) ((hasd e)) :ruleset {R})")
    return out


def _free_of(rel: str, leaves: list[str]) -> list[str]:
    """`rel` holds of a class with a member built, without d, from classes where it holds."""
    R = RULESET
    out = [f"(rule ((= e {leaf})) (({rel} e)) :ruleset {R})" for leaf in leaves]
    for ctor in BINARY.values():
        out.append(f"(rule ((= e ({ctor} a b)) ({rel} a) ({rel} b)) (({rel} e)) :ruleset {R})")
    for ctor in UNARY.values():
        if ctor != "D":
            out.append(f"(rule ((= e ({ctor} a)) ({rel} a)) (({rel} e)) :ruleset {R})")
    return out


_CONSTANT_LEAVES = ["(Num q)", "(Ident n)", "(Zero r c)", "(Ones r c)"]


def const_rules(has_wrt: bool) -> list[str]:
    """`const`: some member is free of the variable (`wrt-name`) and of differentials."""
    sym = "(Sym n)) (= wrt (wrt-name)) (!= n wrt" if has_wrt else "(Sym n)"
    return _free_of("const", _CONSTANT_LEAVES + [sym])


def dfree_rules() -> list[str]:
    """`dfree`: some member is free of differentials (the variable itself allowed)."""
    return _free_of("dfree", _CONSTANT_LEAVES + ["(Sym n)"])


def symbol_facts(shapes: Mapping[str, tuple], decls: Mapping[str, Decl]) -> list[str]:
    """Shapes and declared properties of the symbols of the input."""
    out = []
    for name, (r, c) in shapes.items():
        out.append(f'(set (rows (Sym "{name}")) {dim_text(r)}) (set (cols (Sym "{name}")) {dim_text(c)})')
        for prop in PROPERTIES:
            if name in decls and prop in decls[name].props:
                out.append(f'({prop} (Sym "{name}"))')
    return out


PROPERTIES = ("symmetric", "spd", "invertible", "diagonal", "positive")
RELATIONS = PROPERTIES + ("nonscalar", "hasd", "const", "dfree", "unit")


def program(has_wrt: bool, relations: set[str] | frozenset[str] = frozenset(PROPERTIES)) -> str:
    """The analysis rules, with the relations in `relations` (others are declared but empty)."""
    parts = [f"(ruleset {RULESET})"] + shape_rules()
    if relations & set(PROPERTIES):
        parts += property_rules()
    if "nonscalar" in relations:
        parts += nonscalar_rules()
    if "hasd" in relations:
        parts += hasd_rules()
    if "const" in relations:
        parts += const_rules(has_wrt)
    if "dfree" in relations:
        parts += dfree_rules()
    if "unit" in relations:   # I and ones (which are the number 1 when 1x1)
        parts += [f"(rule ((= e (Ident n))) ((unit e)) :ruleset {RULESET})",
                  f"(rule ((= e (Ones r c))) ((unit e)) :ruleset {RULESET})"]
    return "\n".join(parts)
