"""The rule library: loading `rules/*.rules`, matching and instantiating rule sides.

A rule is a line `name: lhs = rhs [if cond(V), ...]` (`=>` instead of `=` marks a rule the engine
uses only forward; both are equations for proofs).  Identifiers are pattern variables; `I`, `0`,
`ones` and numbers are constants.  On a right-hand side `eval(...)` computes a rational constant
from numeric pattern variables (constant folding).  The group of a rule is its file's name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path as FsPath
from typing import Iterable, Mapping

from . import expr as E
from .errors import ParseError, RuleError
from .syntax import parse

EVAL = "eval"
# the predicates a condition may use; see conditions.py for their meaning
PREDICATES = ("scalar", "nonscalar", "matrix", "square", "symmetric", "spd", "invertible", "diagonal", "positive",
              "const", "hasd", "num", "int2", "notone", "negnum", "unit", "column", "row", "dims",
              "nonzero", "nonnull", "negint", "orthogonal", "simplex")
_HERE = FsPath(__file__).resolve().parent
# a source checkout keeps the library in rules/; an installed wheel carries it as rewrite/_rules
RULES_DIR = next((d for d in (_HERE.parent / "rules", _HERE / "_rules") if d.is_dir()), _HERE.parent / "rules")

_LINE = re.compile(r"^(?P<name>[a-z0-9][a-z0-9-]*)\s*:\s*(?P<body>.+)$")
_COND = re.compile(r"^(?P<pred>[a-z0-9]+)\(\s*(?P<var>[A-Za-z_][A-Za-z0-9_]*)"
                   r"(?P<dims>(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*\)$")
_CONDITIONS = re.compile(r"[a-z0-9]+\([^()]*\)")


@dataclass(frozen=True)
class Condition:
    """pred(var); `dims(A, m, n)` names the sizes of A for the rule's I(n) and K(m, n) (it binds
    them, or checks them where the matched side already stated them)."""
    pred: str
    var: str
    dims: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.pred}({', '.join((self.var,) + self.dims)})"


def parse_condition(text: str) -> Condition | None:
    m = _COND.match(text.strip())
    if not m:
        return None
    dims = tuple(d.strip() for d in m["dims"].split(",") if d.strip())
    return Condition(m["pred"], m["var"], dims)


def dim_vars(e: E.Expr) -> set[str]:
    """The size names in the I(n) and K(m, n) of a rule side (its dimension variables)."""
    out = set()
    for _, n in e.walk():
        for size in E.stated_size(n):
            out |= {f for f in size.split("*") if not f.isdigit()}
    return out


@dataclass(frozen=True)
class Rule:
    name: str
    group: str
    lhs: E.Expr
    rhs: E.Expr
    forward_only: bool
    conditions: tuple[Condition, ...]
    text: str

    def sides(self, direction: str) -> tuple[E.Expr, E.Expr]:
        """(pattern to match, pattern to build) for 'forward' or 'backward'."""
        if direction == "forward":
            return self.lhs, self.rhs
        if direction == "backward":
            return self.rhs, self.lhs
        raise ValueError(f"direction must be 'forward' or 'backward', not {direction!r}")

    @property
    def variables(self) -> set[str]:
        return self.lhs.symbols() | self.rhs.symbols()

    @property
    def reversible(self) -> bool:
        """The right side determines every variable and computes nothing."""
        return (self.lhs.symbols() <= self.rhs.symbols() and not _has_eval(self.rhs)
                and dim_vars(self.lhs) <= dim_vars(self.rhs) | self.sized_by_conditions)

    @property
    def sized(self) -> bool:
        """Does the rule write sizes (I(n), K(m, n), dims(A, m, n))?  The e-graph engine keeps
        sizes as shapes of classes, not in terms, so it leaves these rules to the kernel."""
        return bool(dim_vars(self.lhs) or dim_vars(self.rhs) or self.sized_by_conditions)

    @property
    def sized_by_conditions(self) -> set[str]:
        return {d for c in self.conditions for d in c.dims}


def _has_eval(e: E.Expr) -> bool:
    return any(n.op == EVAL for _, n in e.walk())


def _parse_side(text: str, where: str) -> E.Expr:
    try:
        return parse(text, frozenset({EVAL}))
    except ParseError as err:
        raise RuleError(f"{where}: {err}") from None


def parse_rule(line: str, group: str, where: str = "") -> Rule:
    m = _LINE.match(line.strip())
    if not m:
        raise RuleError(f"{where}: expected 'name: lhs = rhs [if ...]', got {line!r}")
    name, body = m["name"], m["body"]
    conditions: tuple[Condition, ...] = ()
    if " if " in body:
        body, cond_text = body.rsplit(" if ", 1)
        conds = []
        texts = _CONDITIONS.findall(cond_text)
        if ", ".join(texts).replace(" ", "") != cond_text.replace(" ", ""):
            raise RuleError(f"{where}: bad conditions {cond_text!r} (write pred(A), pred(B), ...)")
        for c in texts:
            cond = parse_condition(c)
            if cond is None or cond.pred not in PREDICATES or (len(cond.dims) == 2) != (cond.pred == "dims"):
                raise RuleError(f"{where}: bad condition {c!r} (predicates: {', '.join(PREDICATES)}; "
                                f"dims(A, m, n) names the sizes of A)")
            conds.append(cond)
        conditions = tuple(conds)
    if "=>" in body:
        lhs_text, rhs_text = body.split("=>", 1)
        forward_only = True
    elif body.count("=") == 1:
        lhs_text, rhs_text = body.split("=")
        forward_only = False
    else:
        raise RuleError(f"{where}: a rule needs exactly one '=' or '=>'")
    lhs, rhs = _parse_side(lhs_text.strip(), where), _parse_side(rhs_text.strip(), where)
    if _has_eval(lhs):
        raise RuleError(f"{where}: eval(...) may appear only on the right")
    if not rhs.symbols() <= lhs.symbols():
        raise RuleError(f"{where}: right side uses variables not bound by the left: "
                        f"{sorted(rhs.symbols() - lhs.symbols())}")
    if _has_eval(rhs) and not forward_only:
        raise RuleError(f"{where}: a rule with eval(...) must be written with '=>'")
    for c in conditions:
        if c.var not in lhs.symbols():
            raise RuleError(f"{where}: condition {c} names a variable not on the left side")
    sized = {d for c in conditions for d in c.dims}
    if not dim_vars(rhs) <= dim_vars(lhs) | sized:
        raise RuleError(f"{where}: sizes on the right that nothing on the left names: "
                        f"{sorted(dim_vars(rhs) - dim_vars(lhs) - sized)} (use dims(A, m, n))")
    return Rule(name, group, lhs, rhs, forward_only, conditions, line.strip())


def load_text(text: str, group: str, source: str = "<text>") -> list[Rule]:
    rules = []
    for no, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if line:
            rules.append(parse_rule(line, group, f"{source}:{no}"))
    return rules


@lru_cache(maxsize=4)
def _load_dir(directory: str) -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for path in sorted(FsPath(directory).glob("*.rules")):
        for rule in load_text(path.read_text(encoding="utf-8"), path.stem, path.name):
            if rule.name in rules:
                raise RuleError(f"{path.name}: rule name {rule.name!r} is used twice")
            rules[rule.name] = rule
    if not rules:
        raise RuleError(f"no rules found in {directory}")
    return rules


def library(directory: str | FsPath | None = None) -> dict[str, Rule]:
    """Every rule of the library by name (loaded once)."""
    return _load_dir(str(directory or RULES_DIR))


def group(name: str) -> list[Rule]:
    return [r for r in library().values() if r.group == name]


# --- matching and instantiation ---------------------------------------------------------------
Subst = Mapping[str, E.Expr]


def match(pattern: E.Expr, term: E.Expr, subst: dict[str, E.Expr] | None = None) -> dict[str, E.Expr] | None:
    """Bindings that make `pattern` equal to `term`, extending `subst`; None if there are none."""
    out = dict(subst or {})
    stack = [(pattern, term)]
    while stack:
        p, t = stack.pop()
        if p.op == E.SYM:
            bound = out.get(p.name)
            if bound is None:
                out[p.name] = t
            elif bound != t:
                return None
            continue
        if p.op != t.op or len(p.args) != len(t.args) or p.value != t.value:
            return None
        stack.extend(zip(p.args, t.args))
    return out


def instantiate(pattern: E.Expr, subst: Subst, sizes: Mapping[str, object] | None = None) -> E.Expr:
    """The pattern with its variables replaced (its dimension variables by `sizes`); `eval(...)`
    computed.  KeyError if unbound."""
    if pattern.op == E.SYM:
        return subst[pattern.name]
    if pattern.op == EVAL:
        return E.num(evaluate_constant(instantiate(pattern.args[0], subst, sizes)))
    if not pattern.args:
        stated = E.stated_size(pattern)
        if stated:
            return E.Expr(pattern.op, name=",".join(size_of(d, sizes or {}) for d in stated))
        return pattern
    return pattern.with_args(tuple(instantiate(a, subst, sizes) for a in pattern.args))


def size_of(pattern_size: str, sizes: Mapping[str, object]) -> str:
    """A size written in a rule (`n`, `m*n`, `1`) with its dimension variables replaced."""
    from .dims import mul, parse

    out = 1
    for f in pattern_size.split("*"):
        out = mul(out, int(f) if f.isdigit() else parse(str(sizes[f])))
    return str(out)


def evaluate_constant(e: E.Expr) -> Fraction:
    """The value of a term built from numbers with + - * / neg and integer ^."""
    op = e.op
    if op == E.NUM:
        return e.value
    if op == E.ZERO:
        return Fraction(0)
    if op == E.NEG:
        return -evaluate_constant(e.args[0])
    if op in (E.ADD, E.SUB, E.MUL, E.DIV):
        a, b = evaluate_constant(e.args[0]), evaluate_constant(e.args[1])
        if op == E.DIV and b == 0:
            raise ZeroDivisionError("constant division by zero")
        return {E.ADD: a + b, E.SUB: a - b, E.MUL: a * b}.get(op, a / b if b else None)
    if op == E.POW and e.args[1].value.denominator == 1:
        return evaluate_constant(e.args[0]) ** int(e.args[1].value)
    raise ValueError(f"not a constant: {op}")


def occurrences(pattern: E.Expr) -> dict[str, E.Path]:
    """Path of the first occurrence of each variable in the pattern."""
    first: dict[str, E.Path] = {}
    for path, node in pattern.walk():
        if node.op == E.SYM and node.name not in first:
            first[node.name] = path
    return first


def all_rules() -> Iterable[Rule]:
    return library().values()
