"""Named subexpressions: an answer that repeats a subterm prints it once.

    ∂f/∂W1 = W2'*(softmax(W2*t1) - y).*t1.*(ones - t1)*x'
      where t1 = sigmoid(W1*x)

This is presentation only: the answer (`gradient`, the proof's claim) stays the whole term, and
the named form says the same thing with `t1` standing for its definition.  A subterm is named
when it occurs at least twice (counting its occurrences inside other names' definitions) and its
text, with the names given so far, is at least MIN_CHARS long; the one that shortens the text
most is named first, and the definitions are listed innermost first (each uses only names listed
before it).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable

from . import expr as E

MIN_CHARS = 10       # shorter subterms read better written out: inv(X)', W1*x
PREFIXES = ("t", "u", "v", "w", "s")   # t1, t2, ... unless the input already uses such names
_PLAIN = (E.SYM, E.NUM, E.IDENTITY, E.ONES, E.ZERO, E.DIFF)


@dataclass(frozen=True)
class Named:
    """Terms with their repeated subterms replaced by names, and the names' definitions."""
    terms: tuple[E.Expr, ...]
    definitions: tuple[tuple[str, E.Expr], ...]   # innermost first

    @property
    def term(self) -> E.Expr:
        return self.terms[0]

    def where_lines(self, show: Callable[[E.Expr], str] = str, indent: str = "  ") -> list[str]:
        """`  where t1 = ...`, then `        t2 = ...` aligned under it."""
        return [f"{indent}{'where' if i == 0 else '':5} {name} = {show(d)}"
                for i, (name, d) in enumerate(self.definitions)]

    def as_dict(self) -> list[dict]:
        return [{"name": name, "term": str(d)} for name, d in self.definitions]

    def expanded(self) -> tuple[E.Expr, ...]:
        """The terms with every name replaced by its definition (the original terms)."""
        out = self.terms
        for name, d in reversed(self.definitions):
            out = tuple(_replace(t, E.sym(name), d) for t in out)
        return out


def name_repeats(terms: Iterable[E.Expr], taken: Iterable[str] = (), *, min_chars: int = MIN_CHARS,
                 name_whole: bool = False) -> Named:
    """Name the repeated subterms of `terms` (jointly); `taken`: names the names must avoid.
    `min_chars`: the shortest text worth a name; `name_whole`: may a whole term be named (code
    computes it once; a printed answer is never just a name)."""
    current = list(terms)
    whole = set() if name_whole else set(current)
    taken = set(taken) | {s for t in current for s in t.symbols()}
    prefix = next(p for p in PREFIXES if not any(n.startswith(p) and n[len(p):].isdigit() for n in taken))
    made: list[tuple[str, E.Expr]] = []   # largest first
    while True:
        counts = Counter(node for t in current + [d for _, d in made] for _, node in t.walk())
        saving = {c: (k - 1) * len(str(c)) for c, k in counts.items()
                  if k >= 2 and c not in whole and _worth_naming(c, min_chars)}
        if not saving:
            break
        c = max(saving, key=lambda e: (saving[e], e.size(), str(e)))   # what shortens most
        placeholder = E.sym(f"#{len(made)}")   # renamed below (no input name has a #)
        current = [_replace(t, c, placeholder) for t in current]
        made = [(n, _replace(d, c, placeholder)) for n, d in made]
        made.append((placeholder.name, c))
    order = _uses_first(made)
    rename = {old: E.sym(f"{prefix}{i}") for i, (old, _) in enumerate(order, start=1)}

    def final(t: E.Expr) -> E.Expr:
        for old, new in rename.items():
            t = _replace(t, E.sym(old), new)
        return t

    return Named(tuple(final(t) for t in current),
                 tuple((rename[old].name, final(d)) for old, d in order))


def _uses_first(made: list[tuple[str, E.Expr]]) -> list[tuple[str, E.Expr]]:
    """The definitions ordered so that each comes after those it uses."""
    body = dict(made)
    order: list[tuple[str, E.Expr]] = []

    def place(name: str) -> None:
        if any(n == name for n, _ in order):
            return
        for used in sorted(body[name].symbols() & body.keys()):
            place(used)
        order.append((name, body[name]))

    for name, _ in made:
        place(name)
    return order


def _worth_naming(e: E.Expr, min_chars: int) -> bool:
    if e.op in _PLAIN or (e.op in (E.TRANSPOSE, E.NEG) and e.args[0].op in _PLAIN):
        return False
    return len(str(e)) >= min_chars


def _replace(t: E.Expr, old: E.Expr, new: E.Expr) -> E.Expr:
    if t == old:
        return new
    if not t.args:
        return t
    args = tuple(_replace(a, old, new) for a in t.args)
    return t if args == t.args else t.with_args(args)
