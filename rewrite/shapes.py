"""Shapes: declarations, defaults for undeclared names, and inference by unification.

Every term has a shape `rows x cols` whose dimensions are integers or dimension symbols (`n`).
A 1x1 operand of `*` scales the other operand.  Undeclared names default to a matrix (upper
case) or a column vector (lower case) of fresh dimensions, fixed by unification.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping, Union

from . import expr as E
from .errors import ShapeError
from .syntax import Parsed, is_valid_symbol_name

Dim = Union[int, str]
PROPS = ("symmetric", "spd", "invertible", "square", "diagonal", "positive")
# a prop and everything it implies
_IMPLIED = {
    "spd": {"spd", "symmetric", "invertible", "square", "positive_definite"},
    "symmetric": {"symmetric", "square"},
    "invertible": {"invertible", "square"},
    "diagonal": {"diagonal", "symmetric", "square"},
    "square": {"square"},
    "positive": {"positive"},
}


@dataclass(frozen=True)
class Shape:
    rows: Dim
    cols: Dim

    @property
    def is_scalar(self) -> bool:
        return self.rows == 1 and self.cols == 1

    def __str__(self) -> str:
        return "scalar" if self.is_scalar else f"{self.rows} x {self.cols}"


SCALAR = Shape(1, 1)


@dataclass(frozen=True)
class Decl:
    shape: Shape
    props: frozenset[str] = frozenset()

    def __str__(self) -> str:
        given = [p for p in PROPS if p in self.props and not any(
            p != q and p in _IMPLIED[q] for q in self.props if q in _IMPLIED)]
        return ", ".join([str(self.shape)] + given)


_DIM = re.compile(r"[A-Za-z][A-Za-z0-9_]*|[1-9][0-9]*")


def parse_dim(text: str, where: str) -> Dim:
    t = text.strip()
    if not _DIM.fullmatch(t):
        raise ShapeError(f"bad dimension {t!r} in {where!r} (use a name like n or a positive integer)")
    return int(t) if t.isdigit() else t


def parse_decl_body(body: str, name: str = "") -> Decl:
    """`n x m`, `n x n, symmetric`, `scalar`, `n` (a column vector), `3 x 3, spd`."""
    where = f"{name}: {body}" if name else body
    parts = [p.strip() for p in body.split(",")]
    head, props = parts[0], parts[1:]
    if head == "scalar":
        shape = SCALAR
    elif re.fullmatch(r"\s*\S+\s*[x×]\s*\S+\s*", head):
        r, c = re.split(r"\s*[x×]\s*", head.strip())
        shape = Shape(parse_dim(r, where), parse_dim(c, where))
    elif head and " " not in head:
        shape = Shape(parse_dim(head, where), 1)
    else:
        raise ShapeError(f"bad shape {head!r} in declaration {where!r} (write 'n x m', 'n' or 'scalar')")
    implied: set[str] = set()
    for p in props:
        if p not in PROPS:
            raise ShapeError(f"unknown property {p!r} in {where!r} (known: {', '.join(PROPS)})")
        implied |= _IMPLIED[p]
    if "square" in implied and shape.rows != shape.cols:
        raise ShapeError(f"{name or 'the matrix'} is declared {', '.join(props)} but its shape "
                         f"{shape} is not square")
    return Decl(shape, frozenset(implied))


def parse_declaration(text: str) -> tuple[str, Decl]:
    """`X: n x m, symmetric` -> ("X", Decl(...))."""
    if ":" not in text:
        raise ShapeError(f"declaration {text!r} needs the form 'NAME: ROWS x COLS[, props]'")
    name, body = (s.strip() for s in text.split(":", 1))
    if not is_valid_symbol_name(name):
        raise ShapeError(f"{name!r} cannot be a variable name (reserved or malformed)")
    return name, parse_decl_body(body, name)


def normalize_decls(vars: Mapping[str, object] | None) -> dict[str, Decl]:
    """Accept {"X": "n x m"}, {"X": Decl}, or {"X": (rows, cols)}."""
    out: dict[str, Decl] = {}
    for name, spec in (vars or {}).items():
        if not is_valid_symbol_name(name):
            raise ShapeError(f"{name!r} cannot be a variable name (reserved or malformed)")
        if isinstance(spec, Decl):
            out[name] = spec
        elif isinstance(spec, Shape):
            out[name] = Decl(spec)
        elif isinstance(spec, str):
            out[name] = parse_decl_body(spec, name)
        elif isinstance(spec, tuple) and len(spec) == 2:
            out[name] = Decl(Shape(*spec))
        else:
            raise ShapeError(f"cannot read the declaration of {name!r}: {spec!r}")
    return out


# --- inference --------------------------------------------------------------------------------
class _Var:
    """A dimension not yet known."""
    __slots__ = ("id",)

    def __init__(self, id: int):
        self.id = id

    def __repr__(self) -> str:
        return f"?{self.id}"


def is_free(d) -> bool:
    return isinstance(d, _Var)


@dataclass
class Typing:
    """Result of inference: shapes of the variables and of every subterm (by path)."""
    vars: dict[str, Decl]
    shapes: dict[E.Path, Shape] = field(default_factory=dict)

    def shape(self, path: E.Path = ()) -> Shape:
        return self.shapes[path]


class Unifier:
    """Dimension variables, unification, and the typing rule of every operator.

    Shared by `infer` (user input, with positions in messages) and the proof kernel (which types
    only the part of a term a step builds).  `fail` makes the error; subclasses add positions.
    """

    def __init__(self):
        self.parent: dict[int, object] = {}
        self.fresh_count = 0

    def fresh(self) -> _Var:
        self.fresh_count += 1
        return _Var(self.fresh_count)

    def find(self, d):
        while isinstance(d, _Var) and d.id in self.parent:
            d = self.parent[d.id]
        return d

    def fail(self, message: str, node: E.Expr) -> ShapeError:
        from .printer import to_text

        return ShapeError(f"{message} in {to_text(node)}")

    def unify(self, a, b, node: E.Expr, what: str) -> None:
        a, b = self.find(a), self.find(b)
        if a is b or (not isinstance(a, _Var) and a == b):
            return
        if isinstance(a, _Var):
            self.parent[a.id] = b
        elif isinstance(b, _Var):
            self.parent[b.id] = a
        else:
            raise self.fail(f"{what}: dimension {a} does not match {b}", node)

    def clash(self, a, b) -> bool:
        """Are a and b two different known dimensions (so they can never be unified)?"""
        a, b = self.find(a), self.find(b)
        return not isinstance(a, _Var) and not isinstance(b, _Var) and a != b

    def can_be_one(self, d) -> bool:
        d = self.find(d)
        return isinstance(d, _Var) or d == 1

    def is_one(self, d) -> bool:
        return self.find(d) == 1

    def scalar(self, s) -> bool:
        return self.is_one(s[0]) and self.is_one(s[1])

    def constant_shape(self, op: str) -> tuple:
        """The shape of a leaf constant: 1x1 for a number, fresh dimensions for I, 0, ones."""
        if op == E.NUM:
            return (1, 1)
        if op == E.IDENTITY:
            v = self.fresh()
            return (v, v)
        return (self.fresh(), self.fresh())

    def op_shape(self, e: E.Expr, kids: list[tuple]) -> tuple:
        """The shape of `e` (an operator or function node) from the shapes of its arguments."""
        op = e.op
        if op in (E.ADD, E.SUB, E.HADAMARD, E.HDIV):
            a, b = kids
            word = {E.ADD: "sum", E.SUB: "difference", E.HADAMARD: "Hadamard product",
                    E.HDIV: "Hadamard quotient"}[op]
            self.unify(a[0], b[0], e, f"{word} of terms with different row counts")
            self.unify(a[1], b[1], e, f"{word} of terms with different column counts")
            return a
        if op == E.MUL:
            a, b = kids
            if self.scalar(a):
                return b
            if self.scalar(b):
                return a
            if self.clash(a[1], b[0]):   # no matrix product: a factor whose size is open is 1x1
                for one, other in ((a, b), (b, a)):
                    if self.can_be_one(one[0]) and self.can_be_one(one[1]):
                        self.unify(one[0], 1, e, "scaling")
                        self.unify(one[1], 1, e, "scaling")
                        return other
            self.unify(a[1], b[0], e, "product of non-conformable factors (columns of the left "
                                      "factor vs rows of the right)")
            return (a[0], b[1])
        if op == E.DIV:
            a, b = kids
            self.unify(b[0], 1, e, "division by a non-scalar")
            self.unify(b[1], 1, e, "division by a non-scalar")
            return a
        if op == E.POW:
            a = kids[0]
            k = e.args[1]
            if k.op != E.NUM:
                raise self.fail("exponent must be a number", e)
            self.unify(a[0], a[1], e, "power of a non-square matrix")
            if not self.scalar(a) and k.value.denominator != 1:
                raise self.fail("a matrix power needs an integer exponent", e)
            return a
        if op == E.TRANSPOSE:
            return (kids[0][1], kids[0][0])
        if op == E.NEG or op == E.DIFF or op in E.ELEMENTWISE:
            return kids[0]
        a = kids[0]
        if op in ("inv", "det", "logdet", "tr"):
            self.unify(a[0], a[1], e, f"{op} of a non-square matrix")
            return a if op == "inv" else (1, 1)
        if op == "sum":
            return (1, 1)
        if op in ("norm2", "norm2sq"):
            self.unify(a[1], 1, e, f"{op} of a non-vector (it takes a column vector)")
            return (1, 1)
        if op == "diag":
            self.unify(a[1], 1, e, "diag of a non-vector (it takes a column vector)")
            return (a[0], a[0])
        if op == "softmax":
            self.unify(a[1], 1, e, "softmax of a non-vector (it takes a column vector)")
            return a
        raise self.fail(f"no shape rule for {op!r}", e)


class _Inference(Unifier):
    def __init__(self, decls: Mapping[str, Decl], parsed: Parsed | None):
        super().__init__()
        self.decls = decls
        self.parsed = parsed
        self.var_shapes: dict[str, tuple] = {}
        self.raw: dict[E.Path, tuple] = {}

    def fail(self, message: str, node: E.Expr) -> ShapeError:
        pos = self.parsed.position(node) if self.parsed else None
        from .printer import to_text

        return ShapeError(f"{message} in {to_text(node)}", pos, self.parsed.text if self.parsed else None)

    def infer(self, e: E.Expr, path: E.Path) -> tuple:
        s = self._infer(e, path)
        self.raw[path] = s
        return s

    def _infer(self, e: E.Expr, path: E.Path) -> tuple:
        op = e.op
        if op == E.SYM:
            if e.name not in self.var_shapes:
                d = self.decls.get(e.name)
                if d is not None:
                    self.var_shapes[e.name] = (d.shape.rows, d.shape.cols)
                elif e.name[0].isupper():
                    self.var_shapes[e.name] = (self.fresh(), self.fresh())
                else:
                    self.var_shapes[e.name] = (self.fresh(), 1)
            return self.var_shapes[e.name]
        if not e.args:
            return self.constant_shape(op)
        return self.op_shape(e, [self.infer(a, path + (i,)) for i, a in enumerate(e.args)])

    def resolve(self, d, names: dict[int, str], taken: set[str]) -> Dim:
        d = self.find(d)
        return free_name(d, names, taken) if isinstance(d, _Var) else d


def free_name(d: _Var, names: dict[int, str], taken: set[str]) -> str:
    """The name (k1, k2, ...) of a dimension nothing fixed; one name per dimension, none taken."""
    if d.id not in names:
        i = len(names) + 1
        while f"k{i}" in taken:
            i += 1
        names[d.id] = f"k{i}"
        taken.add(names[d.id])
    return names[d.id]


def infer(e: E.Expr, decls: Mapping[str, Decl] | None = None, parsed: Parsed | None = None) -> Typing:
    """Shapes of all variables and subterms of `e`; raises ShapeError on a clash."""
    decls = dict(decls or {})
    inf = _Inference(decls, parsed)
    inf.infer(e, ())
    taken = {d for decl in decls.values() for d in (decl.shape.rows, decl.shape.cols) if isinstance(d, str)}
    names: dict[int, str] = {}
    shapes = {p: Shape(inf.resolve(s[0], names, taken), inf.resolve(s[1], names, taken))
              for p, s in sorted(inf.raw.items(), key=lambda kv: (len(kv[0]), kv[0]))}
    vars = {}
    for name, s in inf.var_shapes.items():
        shape = Shape(inf.resolve(s[0], names, taken), inf.resolve(s[1], names, taken))
        vars[name] = Decl(shape, decls[name].props) if name in decls else Decl(shape)
    return Typing(vars, shapes)
