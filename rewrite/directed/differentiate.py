"""Stage 1, differentiate: push d(.) inward until it sits only on the variable.

At a node d(u): if u is free of the variable, `d-const` makes it 0; otherwise the rule of
`rules/differentiate.rules` for u's operator applies, and the new d(.) nodes on its right side are
differentiated in turn.  Which rule fits which operator is read from the rule files (the operator
under d(...) on each left side), so a new function needs only its rule.  Zeros left by constant
factors are removed on the way back up, but never where that would drop a differential.
"""
from __future__ import annotations

from functools import lru_cache

from .. import expr as E
from ..errors import UnknownResult
from ..rules import EVAL, library
from .rewriter import Path, Rewriter

CONST = "d-const"


@lru_cache(maxsize=1)
def rules_by_operator() -> dict[str, list[tuple[str, tuple[Path, ...]]]]:
    """operator under d(...) -> [(rule name, paths of the d(...) nodes on its right side)], in
    the order of the rule files (the first that applies is used: d-pow-int before d-pow-scalar)."""
    table: dict[str, list] = {}
    for rule in library().values():
        if not rule.forward_only or rule.lhs.op != E.DIFF:
            continue
        inner = rule.lhs.args[0]
        if inner.op == E.SYM:   # d-const: any term, under its condition
            continue
        holes = tuple(p for p, n in rule.rhs.walk() if n.op == E.DIFF)
        table.setdefault(inner.op, []).append((rule.name, holes))
    return table


@lru_cache(maxsize=1)
def zero_rules() -> dict[str, list[str]]:
    """operator -> the `zero` rules with a 0 argument on their left side (0*A => 0, A + 0 => A ...)."""
    table: dict[str, list[str]] = {}
    for rule in library().values():
        if rule.forward_only and any(a.op == E.ZERO for a in rule.lhs.args) and \
                (rule.rhs.op in (E.ZERO, E.SYM, E.NEG)):
            table.setdefault(rule.lhs.op, []).append(rule.name)
    return table


def differentiate(rw: Rewriter, path: Path = ()) -> None:
    """Differentiate the d(u) at `path` (and everything below it)."""
    u = rw.at(path).expr.args[0]
    if u.op == E.SYM and u.name == rw.wrt:
        return
    if not rw.depends(u):
        rw.apply(CONST, path)
        return
    if u.op == E.POW and not _scalar_power(rw.at(path + (0,))):
        _expand_power(rw, path)
        return
    entries = rules_by_operator().get(u.op)
    if entries is None:
        raise UnknownResult(f"no differential rule for {u.op}(...)", "differentiate")
    for name, holes in entries[:-1]:
        if rw.attempt(name, path):
            break
    else:   # the last is applied as such: if it does not apply, its error says why
        name, holes = entries[-1]
        rw.apply(name, path)
    for hole in holes:
        differentiate(rw, path + hole)
    clean_zeros(rw, path, rw.rule(name).rhs)


def _scalar_power(power) -> bool:
    base, k = power.kids
    return base.is_scalar and k.expr.op == E.NUM and k.expr.value != 1


def _expand_power(rw: Rewriter, path: Path) -> None:
    """d(A^k) for a matrix A: first write A^k as a product (or A, or inv(A))."""
    for name in ("pow-one", "pow-neg-one", "pow-expand"):
        if rw.attempt(name, path + (0,)):
            differentiate(rw, path)
            return
    raise UnknownResult(f"no differential rule for the power {rw.at(path + (0,)).expr}", "differentiate")


def clean_zeros(rw: Rewriter, path: Path, pattern: E.Expr) -> None:
    """Remove zeros in the part a rule built at `path` (its right side `pattern`), bottom-up.

    A zero rule applies only when the part it drops holds no differential (0*dX stays: the
    isolate stage needs every dX, and its G then holds the zero)."""
    if pattern.op in (E.SYM, EVAL) or not pattern.args:
        return
    for i, sub in enumerate(pattern.args):
        clean_zeros(rw, path + (i,), sub)
    node = rw.at(path).expr
    if not any(a.op == E.ZERO for a in node.args):
        return
    for name in zero_rules().get(node.op, ()):
        bound = rw.bindings(name, path)
        if bound is None:
            continue
        rhs_vars = rw.rule(name).rhs.symbols()
        dropped = [t for v, t in bound.items() if v not in rhs_vars]
        if any(rw.has_d(t.expr) for t in dropped):
            continue
        if rw.attempt(name, path):
            return
