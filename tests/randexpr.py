"""Random well-typed scalar functions of a variable, for stress tests and the scaling benchmark.

`functions(seed, count)` yields `Case(f, wrt, vars)`: f is a scalar term of depth 2-5 over the
whole language (products, sums, transposes, Hadamard products and quotients, inverses, traces,
determinants, elementwise functions, norms, softmax, diag, powers, numbers), in which the variable
occurs.  Shapes come from three kinds, scalar (1 x 1), vector (n x 1) and square matrix (n x n),
so that every choice is well typed by construction.  Functions with a restricted domain get
arguments inside it by construction (log of exp or of a sum of squares plus one, logdet and det
of M*M' + I or det of I + M, sqrt of a positive term), so that finite differences can check the
answers (the differential of det holds where the matrix is invertible: det of an outer product
u*v' is 0 and its gradient formula has no value there).

Plain seeded code (not hypothesis): the same seed gives the same functions on every machine, so a
failure can be reproduced by its seed and index.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Iterator

S, V, M = "scalar", "vector", "matrix"
LEAVES = {S: ["lam", "mu"], V: ["x", "y", "a"], M: ["X", "A", "B"]}
VARS = {"lam": "scalar", "mu": "scalar", "x": "n", "y": "n", "a": "n",
        "X": "n x n", "A": "n x n", "B": "n x n"}
ELEMENTWISE = ["exp", "sin", "cos", "tanh", "sigmoid"]


@dataclass(frozen=True)
class Case:
    f: str
    wrt: str
    vars: dict


# constructors by the kind of their result; each {K} is filled with a fresh random term of kind K:
# S scalar, V vector, M matrix, P a positive scalar, D an spd matrix, F an elementwise function,
# N a small integer exponent
TEMPLATES = {
    S: ["tr({M})", "{V}'*{V}", "{V}'*{M}*{V}", "sum({M})", "sum({V})", "norm2sq({V})",
        "norm2({V} + a)", "det({D})", "det(I + {M})", "logdet({D})", "({S} + {S})", "({S} - {S})",
        "{S}*{S}", "{S}/{P}", "{F}({S})", "log({P})", "sqrt({P})", "{S}^{N}", "-{S}", "{S}.*{S}",
        "tr({M})*{S}"],
    V: ["{M}*{V}", "({V} + {V})", "({V} - {V})", "{V}.*{V}", "{V}./(exp({V}))", "{F}({V})",
        "softmax({V})", "{S}*{V}", "{V}/{P}", "-{V}", "diag({V})*{V}", "{M}'*{V}"],
    M: ["{M}*{M}", "({M} + {M})", "({M} - {M})", "{M}'", "{M}.*{M}", "{M}./(exp({M}))",
        "inv({D})", "{F}({M})", "{S}*{M}", "{M}/{P}", "{V}*{V}'", "diag({V})", "-{M}",
        "({M})^{N}", "(I + {M})"],
}
_HOLE = re.compile(r"\{([SVMPDFN])\}")


class _Gen:
    def __init__(self, rng: random.Random, wrt: str):
        self.rng = rng
        self.wrt = wrt

    def leaf(self, kind: str) -> str:
        names = LEAVES[kind]
        if self.wrt in names and self.rng.random() < 0.5:
            return self.wrt
        if kind == S and self.rng.random() < 0.3:
            return self.rng.choice(["2", "3", "(1/2)", "(-1)"])
        return self.rng.choice(names)

    def term(self, kind: str, depth: int) -> str:
        if depth <= 0:
            return self.leaf(kind)
        template = self.rng.choice(TEMPLATES[kind])
        return "(" + _HOLE.sub(lambda m: self.hole(m.group(1), depth - 1), template) + ")"

    def hole(self, kind: str, depth: int) -> str:
        if kind == "F":
            return self.rng.choice(ELEMENTWISE)
        if kind == "N":
            return self.rng.choice(["2", "3"])
        if kind == "D":
            m = self.term(M, depth)
            return f"({m}*{m}' + I)"
        if kind == "P":
            choice = self.rng.randrange(4)
            if choice == 0:
                return f"exp({self.term(S, depth)})"
            if choice == 1:
                return f"(norm2sq({self.term(V, depth)}) + 1)"
            if choice == 2:
                s = self.term(S, depth)
                return f"({s}*{s} + 1)"
            return f"sigmoid({self.term(S, depth)})"
        return self.term({"S": S, "V": V, "M": M}[kind], depth)


def functions(seed: int, count: int, depths=(2, 3, 4, 5)) -> Iterator[Case]:
    """`count` random scalar functions (each with the variable in it), reproducible by seed."""
    rng = random.Random(seed)
    made = 0
    while made < count:
        wrt = rng.choice(["X", "x", "lam"])
        f = _Gen(rng, wrt).term(S, rng.choice(depths))[1:-1]
        names = {n for n in VARS if _mentions(f, n)}
        if wrt not in names:
            continue
        made += 1
        yield Case(f, wrt, {n: VARS[n] for n in sorted(names)})


def _mentions(f: str, name: str) -> bool:
    return re.search(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_(])", f) is not None
