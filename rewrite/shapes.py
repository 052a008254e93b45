"""Shapes: declarations, defaults for undeclared names, and inference by unification.

Every term has a shape `rows x cols` whose dimensions are integers, dimension symbols (`n`) or
products of them (`m*n`: vec and kron multiply sizes; see dims.py).  A 1x1 operand of `*` scales
the other operand.  Undeclared names default to a matrix (upper case) or a column vector (lower
case) of fresh dimensions, fixed by unification.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from . import dims as D
from . import expr as E
from .dims import Dim
from .errors import ShapeError
from .syntax import Parsed, is_valid_symbol_name

PROPS = ("symmetric", "spd", "invertible", "square", "diagonal", "positive", "nonzero", "orthogonal",
         "simplex")
# properties that constrain a variable beyond its entries' signs: what they give (Q'*Q = I,
# sum(y) = 1) holds only along the constraint, so a derivative with respect to such a variable
# is refused (see api.py)
CONSTRAINTS = ("orthogonal", "simplex")
# a prop and everything it implies
_IMPLIED = {
    "spd": {"spd", "symmetric", "invertible", "square", "positive_definite"},
    "symmetric": {"symmetric", "square"},
    "invertible": {"invertible", "square"},
    "diagonal": {"diagonal", "symmetric", "square"},
    "square": {"square"},
    "positive": {"positive", "nonzero"},
    "nonzero": {"nonzero"},
    "orthogonal": {"orthogonal", "invertible", "square"},
    "simplex": {"simplex"},   # entries >= 0 summing to 1 (one-hot labels have zeros)
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




def parse_dim(text: str, where: str) -> Dim:
    t = text.strip()
    d = D.parse(t) if t else None
    if d is None:
        raise ShapeError(f"bad dimension {t!r} in {where!r} (use a name like n, a positive integer, "
                         f"or a product like m*n)")
    return d


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
    if "simplex" in implied and shape.cols != 1:
        raise ShapeError(f"{name or 'the variable'} is declared simplex but its shape {shape} is not a "
                         f"column vector (write '{name or 'y'}: n, simplex')")
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


def parse_declarations(specs) -> dict[str, Decl]:
    """Declarations "NAME: ROWS x COLS[, props]", one a string (or one a line of a single string,
    blank lines skipped) -> {name: Decl}; a name declared twice is an error."""
    if isinstance(specs, str):
        specs = [line for line in specs.splitlines() if line.strip()]
    out: dict[str, Decl] = {}
    for spec in specs or ():
        name, decl = parse_declaration(spec)
        if name in out:
            raise ShapeError(f"variable {name!r} is declared twice")
        out[name] = decl
    return out


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


class _VProd:
    """A product with unknown dimensions in it (during inference): coef * atoms, atoms names or
    _Vars, in a canonical order."""
    __slots__ = ("coef", "atoms")

    def __init__(self, coef: int, atoms: tuple):
        self.coef, self.atoms = coef, atoms

    def __eq__(self, other) -> bool:
        return isinstance(other, _VProd) and (self.coef, self.atoms) == (other.coef, other.atoms)

    def __hash__(self) -> int:
        return hash((self.coef, self.atoms))

    def __repr__(self) -> str:
        return "*".join([str(self.coef)] + [repr(a) for a in self.atoms])


def _key(atom) -> tuple:
    return (1, atom.id, "") if isinstance(atom, _Var) else (0, 0, atom)


def _atoms(d) -> tuple[int, list]:
    if isinstance(d, _VProd):
        return d.coef, list(d.atoms)
    if isinstance(d, _Var):
        return 1, [d]
    return D.factors(d)


def _product(coef: int, atoms: list):
    """The canonical dimension coef * atoms (a plain Dim when no atom is unknown)."""
    if not any(isinstance(a, _Var) for a in atoms):
        return D.make(coef, atoms)
    atoms = sorted(atoms, key=_key)
    if coef == 1 and len(atoms) == 1:
        return atoms[0]
    return _VProd(coef, tuple(atoms))


def is_free(d) -> bool:
    return isinstance(d, (_Var, _VProd))


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
        self.deferred: list[tuple] = []   # products equal to products, with unknowns on both sides

    def fresh(self) -> _Var:
        self.fresh_count += 1
        return _Var(self.fresh_count)

    def find(self, d):
        while isinstance(d, _Var) and d.id in self.parent:
            d = self.parent[d.id]
        if isinstance(d, _VProd):   # put in what is known of its unknowns
            coef, atoms = d.coef, []
            for a in d.atoms:
                c, more = _atoms(self.find(a))
                coef *= c
                atoms += more
            return _product(coef, atoms)
        return d

    def mul(self, a, b):
        """The product of two dimensions (known or not)."""
        ca, ta = _atoms(self.find(a))
        cb, tb = _atoms(self.find(b))
        return _product(ca * cb, ta + tb)

    def fail(self, message: str, node: E.Expr) -> ShapeError:
        from .printer import to_text

        return ShapeError(f"{message} in {to_text(node)}")

    def unify(self, a, b, node: E.Expr, what: str, defer: bool = True) -> None:
        a, b = self.find(a), self.find(b)
        if a is b or (not isinstance(a, _Var) and a == b):
            return
        if isinstance(a, _Var) and not self._occurs(a, b):
            self.parent[a.id] = b
        elif isinstance(b, _Var) and not self._occurs(b, a):
            self.parent[b.id] = a
        elif isinstance(a, _VProd) or isinstance(b, _VProd):
            self._unify_products(a, b, node, what, defer)
        else:
            raise self.fail(f"{what}: dimension {a} does not match {b}", node)

    def _occurs(self, v: _Var, d) -> bool:
        return isinstance(d, _VProd) and any(a is v for a in d.atoms)

    def _unify_products(self, a, b, node: E.Expr, what: str, defer: bool) -> None:
        """u*rest = known: u := known / rest when exactly one unknown is left after cancelling
        common factors; with unknowns on both sides, decide later (`settle`)."""
        (ca, ta), (cb, tb) = _atoms(a), _atoms(b)
        for x in list(ta):
            if x in tb:
                ta.remove(x)
                tb.remove(x)
        va = [x for x in ta if isinstance(x, _Var)]
        vb = [x for x in tb if isinstance(x, _Var)]
        if len(va) + len(vb) == 1:
            (var,), (mine_c, mine), (other_c, other) = ((va, (ca, ta), (cb, tb)) if va else
                                                         (vb, (cb, tb), (ca, ta)))
            mine.remove(var)
            if not mine and other_c % mine_c == 0:
                self.parent[var.id] = _product(other_c // mine_c, other)
                return
        elif (va or vb) and defer:
            self.deferred.append((a, b, node, what))
            return
        raise self.fail(f"{what}: dimension {a} does not match {b}", node)

    def settle(self) -> None:
        """Decide the products left equal to products: by what is known now, else factor by
        factor (vec(A) = vec(B) with the sizes of A and B unknown: A and B alike)."""
        while self.deferred:
            pending, self.deferred = self.deferred, []
            for a, b, node, what in pending:
                self.unify(a, b, node, what, defer=True)
            if len(self.deferred) == len(pending):   # no progress: pair the unknowns in order
                a, b, node, what = self.deferred.pop(0)
                (ca, ta), (cb, tb) = _atoms(self.find(a)), _atoms(self.find(b))
                if ca != cb or len(ta) != len(tb):
                    raise self.fail(f"{what}: dimension {a} does not match {b}", node)
                for x, y in zip(ta, tb):
                    self.unify(x, y, node, what, defer=False)

    def clash(self, a, b) -> bool:
        """Are a and b two different known dimensions (so they can never be unified)?"""
        a, b = self.find(a), self.find(b)
        return not is_free(a) and not is_free(b) and a != b

    def can_be_one(self, d) -> bool:
        d = self.find(d)
        return isinstance(d, _Var) or d == 1

    def is_one(self, d) -> bool:
        return self.find(d) == 1

    def scalar(self, s) -> bool:
        return self.is_one(s[0]) and self.is_one(s[1])

    def constant_shape(self, e: E.Expr) -> tuple:
        """The shape of a leaf constant: 1x1 for a number, fresh dimensions for I, 0, ones, and
        the stated ones for I(n) and K(m, n)."""
        op = e.op
        if op == E.NUM:
            return (1, 1)
        stated = [D.parse(d) for d in E.stated_size(e)]
        if op == E.IDENTITY:
            v = stated[0] if stated else self.fresh()
            return (v, v)
        if op == E.COMMUTATION:
            mn = D.mul(*stated)
            return (mn, mn)
        return (self.fresh(), self.fresh())

    def op_shape(self, e: E.Expr, kids: list[tuple]) -> tuple:
        """The shape of `e` (an operator or function node) from the shapes of its arguments."""
        op = e.op
        if op in (E.ADD, E.SUB, E.HADAMARD, E.HDIV):
            a, b = kids
            word = {E.ADD: "sum", E.SUB: "difference", E.HADAMARD: "Hadamard product",
                    E.HDIV: "Hadamard quotient"}[op]
            hint = broadcast_hint(e)
            self.unify(a[0], b[0], e, f"{word} of terms with different row counts{hint}")
            self.unify(a[1], b[1], e, f"{word} of terms with different column counts{hint}")
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
        if op == "vec":
            return (self.mul(a[0], a[1]), 1)
        if op == "kron":
            b = kids[1]
            return (self.mul(a[0], b[0]), self.mul(a[1], b[1]))
        raise self.fail(f"no shape rule for {op!r}", e)


def broadcast_hint(e: E.Expr) -> str:
    """For a number in an elementwise operation (MATLAB's 1./x, 2.*x, x + 1), how to write it
    here: a number is 1 x 1 and does not broadcast."""
    a, b = e.args
    numbers = [k for k in (a, b) if k.op == E.NUM or (k.op == E.NEG and k.args[0].op == E.NUM)]
    if len(numbers) != 1:
        return ""
    if e.op == E.HADAMARD:
        c, x = (a, b) if numbers[0] is a else (b, a)
        better = E.mul(c, x)
    elif e.op == E.HDIV and numbers[0] is b:
        better = E.Expr(E.DIV, (a, b))
    elif e.op == E.HDIV:
        better = E.Expr(E.HDIV, (E.ones() if a == E.num(1) else E.mul(a, E.ones()), b))
    else:
        c = numbers[0]
        scaled = E.ones() if c == E.num(1) else E.mul(c, E.ones())
        better = E.Expr(e.op, (scaled, b) if c is a else (a, scaled))
    return f" (a number does not broadcast: write {better})"


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
            return self.constant_shape(e)
        return self.op_shape(e, [self.infer(a, path + (i,)) for i, a in enumerate(e.args)])

    def resolve(self, d, names: dict[int, str], taken: set[str]) -> Dim:
        return name_free(self.find(d), names, taken)


def name_free(d, names: dict[int, str], taken: set[str]) -> Dim:
    """A dimension with each unknown in it named (k1, k2, ...)."""
    if isinstance(d, _Var):
        return free_name(d, names, taken)
    if isinstance(d, _VProd):
        return D.make(d.coef, [free_name(a, names, taken) if isinstance(a, _Var) else a for a in d.atoms])
    return d


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
    inf.settle()
    taken = {n for decl in decls.values() for d in (decl.shape.rows, decl.shape.cols) for n in D.names(d)}
    names: dict[int, str] = {}
    shapes = {p: Shape(inf.resolve(s[0], names, taken), inf.resolve(s[1], names, taken))
              for p, s in sorted(inf.raw.items(), key=lambda kv: (len(kv[0]), kv[0]))}
    vars = {}
    for name, s in inf.var_shapes.items():
        shape = Shape(inf.resolve(s[0], names, taken), inf.resolve(s[1], names, taken))
        vars[name] = Decl(shape, decls[name].props) if name in decls else Decl(shape)
    return Typing(vars, shapes)
