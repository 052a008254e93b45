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


class _Gen:
    def __init__(self, rng: random.Random, wrt: str):
        self.rng = rng
        self.wrt = wrt

    def pick(self, options):
        return self.rng.choice(options)

    def leaf(self, kind: str) -> str:
        names = LEAVES[kind]
        if self.wrt in names and self.rng.random() < 0.5:
            return self.wrt
        if kind == S and self.rng.random() < 0.3:
            return self.pick(["2", "3", "(1/2)", "(-1)"])
        return self.pick(names)

    def term(self, kind: str, depth: int) -> str:
        if depth <= 0:
            return self.leaf(kind)
        d = depth - 1
        return "(" + getattr(self, kind)(d) + ")"   # bracketed: the caller puts it anywhere

    # --- each kind: a random constructor whose result has that kind -----------------------------
    def scalar(self, d: int) -> str:
        t = self.term
        choice = self.pick([
            lambda: f"tr({t(M, d)})", lambda: f"{t(V, d)}'*{t(V, d)}", lambda: f"{t(V, d)}'*{t(M, d)}*{t(V, d)}",
            lambda: f"sum({t(M, d)})", lambda: f"sum({t(V, d)})", lambda: f"norm2sq({t(V, d)})",
            lambda: f"norm2({t(V, d)} + a)", lambda: f"det({self.spd(d)})", lambda: f"det(I + {t(M, d)})",
            lambda: f"logdet({self.spd(d)})", lambda: f"({t(S, d)} + {t(S, d)})",
            lambda: f"({t(S, d)} - {t(S, d)})", lambda: f"{t(S, d)}*{t(S, d)}",
            lambda: f"{t(S, d)}/{self.positive(d)}", lambda: f"{self.pick(ELEMENTWISE)}({t(S, d)})",
            lambda: f"log({self.positive(d)})", lambda: f"sqrt({self.positive(d)})",
            lambda: f"{t(S, d)}^{self.pick(['2', '3'])}", lambda: f"-{t(S, d)}",
            lambda: f"{t(S, d)}.*{t(S, d)}", lambda: f"tr({t(M, d)})*{t(S, d)}",
        ])
        return choice()

    def vector(self, d: int) -> str:
        t = self.term
        choice = self.pick([
            lambda: f"{t(M, d)}*{t(V, d)}", lambda: f"({t(V, d)} + {t(V, d)})", lambda: f"({t(V, d)} - {t(V, d)})",
            lambda: f"{t(V, d)}.*{t(V, d)}", lambda: f"{t(V, d)}./(exp({t(V, d)}))",
            lambda: f"{self.pick(ELEMENTWISE)}({t(V, d)})", lambda: f"softmax({t(V, d)})",
            lambda: f"{t(S, d)}*{t(V, d)}", lambda: f"{t(V, d)}/{self.positive(d)}", lambda: f"-{t(V, d)}",
            lambda: f"diag({t(V, d)})*{t(V, d)}", lambda: f"{t(M, d)}'*{t(V, d)}",
        ])
        return choice()

    def matrix(self, d: int) -> str:
        t = self.term
        choice = self.pick([
            lambda: f"{t(M, d)}*{t(M, d)}", lambda: f"({t(M, d)} + {t(M, d)})", lambda: f"({t(M, d)} - {t(M, d)})",
            lambda: f"{t(M, d)}'", lambda: f"{t(M, d)}.*{t(M, d)}", lambda: f"{t(M, d)}./(exp({t(M, d)}))",
            lambda: f"inv({self.spd(d)})", lambda: f"{self.pick(ELEMENTWISE)}({t(M, d)})",
            lambda: f"{t(S, d)}*{t(M, d)}", lambda: f"{t(M, d)}/{self.positive(d)}",
            lambda: f"{t(V, d)}*{t(V, d)}'", lambda: f"diag({t(V, d)})", lambda: f"-{t(M, d)}",
            lambda: f"({t(M, d)})^{self.pick(['2', '3'])}", lambda: f"(I + {t(M, d)})",
        ])
        return choice()

    def positive(self, d: int) -> str:
        t = self.term

        def square_plus_one():
            s = t(S, d)
            return f"({s}*{s} + 1)"
        return self.pick([lambda: f"exp({t(S, d)})", lambda: f"(norm2sq({t(V, d)}) + 1)",
                          square_plus_one, lambda: f"sigmoid({t(S, d)})"])()

    def spd(self, d: int) -> str:
        m = self.term(M, d)
        return f"({m}*{m}' + I)"


def functions(seed: int, count: int, depths=(2, 3, 4, 5)) -> Iterator[Case]:
    """`count` random scalar functions (each with the variable in it), reproducible by seed."""
    rng = random.Random(seed)
    made = 0
    while made < count:
        wrt = rng.choice(["X", "x", "lam"])
        gen = _Gen(rng, wrt)
        f = gen.scalar(rng.choice(depths) - 1)
        names = {n for n in VARS if _mentions(f, n)}
        if wrt not in names:
            continue
        made += 1
        yield Case(f, wrt, {n: VARS[n] for n in sorted(names)})


def _mentions(f: str, name: str) -> bool:
    import re

    return re.search(rf"(?<![A-Za-z0-9_]){name}(?![A-Za-z0-9_(])", f) is not None
