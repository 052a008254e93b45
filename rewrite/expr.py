"""Immutable expression trees of the matrix language.

A term is an `Expr(op, args, name, value)`.  Leaves are symbols (`SYM`, with `name`), rational
constants (`NUM`, with `value`), the sized-by-context constants `I`, `0` and `ones`, and the
constants with a stated size: `I(n)` (an `I` whose `name` is its size) and the commutation matrix
`K(m, n)` (`name` "m,n").  Every other node is an operator or a function applied to its `args`.
Trees are compared structurally; nothing here simplifies or rewrites (that is the job of the
rules).
"""
from __future__ import annotations

from fractions import Fraction
from typing import Iterator

# leaves
SYM = "sym"
NUM = "num"
IDENTITY = "I"
ZERO = "0"
ONES = "ones"
COMMUTATION = "K"   # K(m, n)*vec(A) = vec(A') for an m x n A
# operators
ADD = "+"
SUB = "-"
NEG = "neg"
MUL = "*"
TRANSPOSE = "'"
HADAMARD = ".*"
HDIV = "./"
POW = "^"
DIV = "/"
DIFF = "d"

# Unary functions: name -> what it is (used in docs and `rewrite rules`).
FUNCTIONS = {
    "inv": "matrix inverse",
    "det": "determinant",
    "logdet": "log of the determinant",
    "tr": "trace",
    "exp": "elementwise exponential",
    "log": "elementwise natural logarithm",
    "sin": "elementwise sine",
    "cos": "elementwise cosine",
    "tanh": "elementwise hyperbolic tangent",
    "sigmoid": "elementwise logistic function 1/(1+exp(-x))",
    "sqrt": "elementwise square root",
    "abs": "elementwise absolute value",
    "sign": "elementwise sign",
    "sum": "sum of all entries",
    "norm2": "Euclidean norm of a column vector",
    "norm2sq": "squared Euclidean norm of a column vector",
    "diag": "diagonal matrix with the vector on its diagonal",
    "softmax": "softmax of a column vector",
    "vec": "the columns of a matrix stacked into one column vector",
    DIFF: "differential",
}
# functions of two arguments
BINARY_FUNCTIONS = {"kron": "Kronecker product"}
ELEMENTWISE = ("exp", "log", "sin", "cos", "tanh", "sigmoid", "sqrt", "abs", "sign")
LEAF_OPS = (SYM, NUM, IDENTITY, ZERO, ONES, COMMUTATION)
BINARY_OPS = (ADD, SUB, MUL, HADAMARD, HDIV, POW, DIV) + tuple(BINARY_FUNCTIONS)
UNARY_OPS = (NEG, TRANSPOSE) + tuple(FUNCTIONS)
RESERVED_NAMES = frozenset(FUNCTIONS) | frozenset(BINARY_FUNCTIONS) | {IDENTITY, ONES}

Path = tuple[int, ...]


class Expr:
    """A node and its arguments.  Immutable by convention (nothing assigns to a built Expr):
    a plain class rather than a frozen dataclass, because building terms is the engine's inner
    loop and a frozen dataclass costs three times as much to construct."""
    __slots__ = ("op", "args", "name", "value", "_hash")

    def __init__(self, op: str, args: tuple["Expr", ...] = (), name: str = "",
                 value: Fraction | None = None):
        self.op = op
        self.args = args
        self.name = name
        self.value = value
        # cached so that hashing and comparing deep trees stays cheap and non-recursive
        self._hash = hash((op, args, name, value))

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if not isinstance(other, Expr) or self._hash != other._hash:
            return False
        return (self.op, self.name, self.value, self.args) == (other.op, other.name, other.value, other.args)

    def __reduce__(self):   # pickling (process pools) rebuilds through __init__
        return (Expr, (self.op, self.args, self.name, self.value))

    # --- structure -------------------------------------------------------------------------
    @property
    def is_leaf(self) -> bool:
        return not self.args

    def at(self, path: Path) -> "Expr":
        node = self
        for i in path:
            node = node.args[i]
        return node

    def replace(self, path: Path, new: "Expr") -> "Expr":
        """This tree with the subterm at `path` replaced by `new`."""
        if not path:
            return new
        i, rest = path[0], path[1:]
        args = list(self.args)
        args[i] = args[i].replace(rest, new)
        return Expr(self.op, tuple(args), self.name, self.value)

    def with_args(self, args: tuple["Expr", ...]) -> "Expr":
        return Expr(self.op, tuple(args), self.name, self.value)

    def walk(self, path: Path = ()) -> Iterator[tuple[Path, "Expr"]]:
        """Every subterm with its path, parents before children."""
        stack = [(path, self)]
        while stack:
            p, node = stack.pop()
            yield p, node
            for i in range(len(node.args) - 1, -1, -1):
                stack.append((p + (i,), node.args[i]))

    def symbols(self) -> set[str]:
        return {n.name for _, n in self.walk() if n.op == SYM}

    def contains(self, sub: "Expr") -> bool:
        return any(n == sub for _, n in self.walk())

    def size(self) -> int:
        return sum(1 for _ in self.walk())

    def depth(self) -> int:
        best, stack = 0, [(self, 1)]
        while stack:
            node, d = stack.pop()
            best = max(best, d)
            stack.extend((a, d + 1) for a in node.args)
        return best

    def __str__(self) -> str:
        from .printer import to_text

        return to_text(self)

    def __repr__(self) -> str:
        return f"Expr({to_text_safe(self)!r})"


def to_text_safe(e: Expr) -> str:
    from .printer import to_text

    try:
        return to_text(e)
    except Exception:  # repr must never fail
        return f"<{e.op}>"


# --- constructors ---------------------------------------------------------------------------
def sym(name: str) -> Expr:
    return Expr(SYM, name=name)


def num(value: int | Fraction | str) -> Expr:
    v = Fraction(value)
    return Expr(ZERO) if v == 0 else Expr(NUM, value=v)


def identity(size: str = "") -> Expr:
    """I (its size from the context), or I(size) when a size is given."""
    return Expr(IDENTITY, name=size)


def commutation(m: str, n: str) -> Expr:
    """K(m, n): the mn x mn matrix with K(m, n)*vec(A) = vec(A') for every m x n A."""
    return Expr(COMMUTATION, name=f"{m},{n}")


def stated_size(e: Expr) -> tuple[str, ...]:
    """The sizes written in I(n) or K(m, n) (none for any other node)."""
    return tuple(e.name.split(",")) if e.op in (IDENTITY, COMMUTATION) and e.name else ()


def zero() -> Expr:
    return Expr(ZERO)


def ones() -> Expr:
    return Expr(ONES)


def app(op: str, *args: Expr) -> Expr:
    return Expr(op, tuple(args))


def add(a: Expr, b: Expr) -> Expr:
    return Expr(ADD, (a, b))


def sub(a: Expr, b: Expr) -> Expr:
    return Expr(SUB, (a, b))


def neg(a: Expr) -> Expr:
    return Expr(NEG, (a,))


def mul(a: Expr, b: Expr) -> Expr:
    return Expr(MUL, (a, b))


def transpose(a: Expr) -> Expr:
    return Expr(TRANSPOSE, (a,))


def diff(a: Expr) -> Expr:
    return Expr(DIFF, (a,))


def tr(a: Expr) -> Expr:
    return Expr("tr", (a,))
