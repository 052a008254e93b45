"""Which declaration would help: hints for a claim that verification refutes or cannot prove.

- Refuted: a claim may hold only under a property the user did not declare (the one-hot
  cross-entropy answer softmax(W*x) - y needs y to sum to 1).  The claim is checked numerically
  again with one property added to one variable (simplex, symmetric, orthogonal, diagonal); the
  first under which it holds is named.  It stays refuted: as stated, it is false.
- Unknown: the rules for inverses and logarithms have conditions (invertible(A), positive(x))
  that random points satisfy anyway, so the numbers agree while no rule applies.  The proof is
  tried again with those properties declared for the variables under inv/det/logdet and
  log/sqrt; if that proves it, the hint says which declarations did.
"""
from __future__ import annotations

from typing import Callable, Iterator, Mapping

from . import expr as E
from .conditions import has_prop
from .errors import ShapeError
from .shapes import CONSTRAINTS, Decl, parse_decl_body

_INVERTIBLE_UNDER = ("inv", "det", "logdet")
_POSITIVE_UNDER = ("log", "sqrt")


def declaration_text(name: str, decl: Decl) -> str:
    return f'--var "{name}: {decl}"'


def with_property(decls: Mapping[str, Decl], name: str, prop: str) -> dict[str, Decl] | None:
    """The declarations with `prop` added to `name`, or None where the shape does not allow it."""
    d = decls[name]
    if prop in d.props:
        return None
    try:
        return {**decls, name: parse_decl_body(f"{d}, {prop}", name)}
    except ShapeError:   # not square, not a column vector
        return None


def _single_additions(decls: Mapping[str, Decl], fixed: set[str]) -> Iterator[tuple[str, str, dict]]:
    for name, d in sorted(decls.items()):
        if d.shape.is_scalar:
            continue
        for prop in ("simplex", "symmetric", "orthogonal", "diagonal"):
            if name in fixed and prop in CONSTRAINTS:
                continue   # a derivative by a constrained variable is refused
            new = with_property(decls, name, prop)
            if new is not None:
                yield name, prop, new


def refuted_hint(holds: Callable[[dict], bool], decls: Mapping[str, Decl], fixed: set[str] = frozenset()) -> str:
    """'it holds when y is declared simplex (--var "y: n x 1, simplex")', or '' if no single
    added property makes `holds` (a numeric check of the claim) true.  `fixed`: variables not to
    constrain (the variable of differentiation)."""
    for name, prop, new in _single_additions(decls, set(fixed)):
        try:
            if holds(new):
                return f"it holds when {name} is declared {prop} ({declaration_text(name, new[name])})"
        except (ValueError, ArithmeticError):
            continue
    return ""


def prover_declarations(terms: list[E.Expr], decls: Mapping[str, Decl]) -> dict[str, Decl]:
    """The declarations with `invertible` added to square variables under inv/det/logdet and
    `positive` to variables under log/sqrt, where not declared or implied already; {} if none."""
    new = dict(decls)
    for t in terms:
        for _, node in t.walk():
            prop = ("invertible" if node.op in _INVERTIBLE_UNDER else
                    "positive" if node.op in _POSITIVE_UNDER else None)
            if prop is None:
                continue
            for _, leaf in node.args[0].walk():
                if leaf.op == E.SYM and leaf.name in new and not has_prop(leaf, prop, new):
                    added = with_property(new, leaf.name, prop)
                    new = added if added is not None else new
    return new if new != dict(decls) else {}


def added_text(before: Mapping[str, Decl], after: Mapping[str, Decl]) -> str:
    """'A is declared invertible (--var "A: n x n, invertible")', for each changed variable."""
    parts = []
    for name in sorted(after):
        extra = sorted(after[name].props - before[name].props)
        if extra:
            shown = [p for p in extra if p in str(after[name])] or extra
            parts.append(f"{name} is declared {' and '.join(shown)} ({declaration_text(name, after[name])})")
    return "; ".join(parts)
