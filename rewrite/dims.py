"""Dimensions: a positive integer, a name (`n`), or a product of them (`m*n`, the rows of vec(X)
for an m x n X, or of kron(A, B)).

A product is kept in one canonical form (its number, then its names sorted), so two products are
equal exactly when they are the same product: m*n == n*m.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Union


@dataclass(frozen=True)
class Prod:
    """coef * names[0] * names[1] * ..., names sorted (with repetition), at least two factors."""
    coef: int
    names: tuple[str, ...]

    def __str__(self) -> str:
        return "*".join(([str(self.coef)] if self.coef != 1 else []) + list(self.names))


Dim = Union[int, str, Prod]
_FACTOR = re.compile(r"[A-Za-z][A-Za-z0-9_]*|[1-9][0-9]*")


def factors(d: Dim) -> tuple[int, list[str]]:
    """(number, names) of a dimension."""
    if isinstance(d, int):
        return d, []
    if isinstance(d, str):
        return 1, [d]
    return d.coef, list(d.names)


def make(coef: int, names) -> Dim:
    """The canonical dimension coef * names."""
    names = tuple(sorted(names))
    if not names:
        return coef
    if coef == 1 and len(names) == 1:
        return names[0]
    return Prod(coef, names)


def mul(a: Dim, b: Dim) -> Dim:
    ca, na = factors(a)
    cb, nb = factors(b)
    return make(ca * cb, na + nb)


def names(d: Dim) -> list[str]:
    return factors(d)[1]


def value(d: Dim, sizes: Mapping[str, int]) -> int:
    """The size a dimension has when its names have `sizes`."""
    coef, ns = factors(d)
    out = coef
    for n in ns:
        out *= int(sizes[n])
    return out


def parse(text: str) -> Dim | None:
    """`n`, `3`, `m*n`, `2*n` -> the dimension; None if the text is not one."""
    parts = [p.strip() for p in text.split("*")]
    if not parts or not all(_FACTOR.fullmatch(p) for p in parts):
        return None
    coef, ns = 1, []
    for p in parts:
        if p.isdigit():
            coef *= int(p)
        else:
            ns.append(p)
    return make(coef, ns)
