"""A Python copy of an e-graph: classes, e-nodes, shapes and properties, read from `freeze()`.

Extraction and proof reconstruction work on this copy, never on egglog itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .. import expr as E
from .schema import LEAF_ARGS, OP_OF

PROPS = ("symmetric", "spd", "invertible", "diagonal", "positive", "const", "hasd")


@dataclass(frozen=True, slots=True)
class ENode:
    op: str                        # an op of the expression language
    children: tuple[int, ...] = ()
    name: str = ""                 # symbol name
    value: Fraction | None = None  # constant value
    dims: tuple[str, ...] = ()     # sizes of I, 0, ones

    def leaf_expr(self) -> E.Expr:
        if self.op == E.SYM:
            return E.sym(self.name)
        if self.op == E.NUM:
            return E.num(self.value)
        return E.Expr(self.op)


@dataclass
class Snapshot:
    classes: dict[int, list[ENode]] = field(default_factory=dict)
    class_of_node: dict[ENode, int] = field(default_factory=dict)
    rows: dict[int, str] = field(default_factory=dict)
    cols: dict[int, str] = field(default_factory=dict)
    props: dict[str, set[int]] = field(default_factory=dict)
    roots: dict[str, int] = field(default_factory=dict)   # "$t0" -> class

    @classmethod
    def read(cls, eg, names) -> "Snapshot":
        frozen = eg.freeze()
        ids: dict[object, int] = {}

        def cid(v) -> int:
            return ids.setdefault(v, len(ids))

        snap = cls()
        for ctor, op in OP_OF.items():
            fn = frozen.functions.get(ctor)
            if fn is None:
                continue
            for row in fn.rows:
                if row.subsumed:
                    continue
                if ctor in LEAF_ARGS:
                    sorts = LEAF_ARGS[ctor]
                    lits = [eg.value_to_string(v) if s == "String" else eg.value_to_bigrat(v)
                            for v, s in zip(row.inputs, sorts)]
                    if ctor == "Sym":
                        node = ENode(op, name=lits[0])
                    elif ctor == "Num":
                        node = ENode(op, value=lits[0]) if lits[0] != 0 else ENode(E.ZERO, dims=("1", "1"))
                    else:
                        node = ENode(op, dims=tuple(lits))
                else:
                    node = ENode(op, tuple(cid(v) for v in row.inputs))
                c = cid(row.output)
                if node not in snap.class_of_node:
                    snap.class_of_node[node] = c
                    snap.classes.setdefault(c, []).append(node)
        for which in ("rows", "cols"):
            fn = frozen.functions.get(which)
            table = getattr(snap, which)
            for row in fn.rows if fn else ():
                table[cid(row.inputs[0])] = eg.value_to_string(row.output)
        for prop in PROPS:
            fn = frozen.functions.get(prop)
            snap.props[prop] = {cid(row.inputs[0]) for row in fn.rows} if fn else set()
        for name in names:
            fn = frozen.functions.get(name)
            if fn is not None and fn.rows:
                snap.roots[name] = cid(fn.rows[0].output)
        return snap

    # --- queries --------------------------------------------------------------------------------
    @property
    def size(self) -> int:
        return len(self.class_of_node)

    def shape(self, c: int) -> tuple[str, str] | None:
        r, k = self.rows.get(c), self.cols.get(c)
        return (r, k) if r is not None and k is not None else None

    def is_scalar(self, c: int) -> bool:
        return self.shape(c) == ("1", "1")

    def well_typed(self, node: ENode, c: int) -> bool:
        """Does the node's own typing rule hold for its children's shapes (and give its class's)?"""
        want = self.shape(c)
        if want is None:
            return False
        got = self._node_shape(node)
        return got == want

    def _node_shape(self, node: ENode):
        op = node.op
        if op == E.SYM:
            return None   # symbols are typed by declaration: trust the class
        if op == E.NUM or (op == E.ZERO and node.dims == ("1", "1") and not node.children):
            return ("1", "1")
        if op == E.IDENTITY:
            return (node.dims[0], node.dims[0])
        if op in (E.ZERO, E.ONES):
            return node.dims
        kids = [self.shape(ch) for ch in node.children]
        if any(k is None for k in kids):
            return False
        if op in (E.ADD, E.SUB, E.HADAMARD, E.HDIV):
            return kids[0] if kids[0] == kids[1] else False
        if op == E.MUL:
            a, b = kids
            if a == ("1", "1"):
                return b
            if b == ("1", "1"):
                return a
            return (a[0], b[1]) if a[1] == b[0] else False
        if op == E.DIV:
            return kids[0] if kids[1] == ("1", "1") else False
        if op == E.TRANSPOSE:
            return (kids[0][1], kids[0][0])
        a = kids[0]
        if op in ("inv", E.POW):
            return a if a[0] == a[1] else False
        if op in ("tr", "det", "logdet"):
            return ("1", "1") if a[0] == a[1] else False
        if op == "sum":
            return ("1", "1")
        if op in ("norm2", "norm2sq"):
            return ("1", "1") if a[1] == "1" else False
        if op == "diag":
            return (a[0], a[0]) if a[1] == "1" else False
        if op == "softmax":
            return a if a[1] == "1" else False
        return a   # neg, d, elementwise

    def usable(self, node: ENode, c: int) -> bool:
        ok = self._node_shape(node)
        if ok is None:
            return self.shape(c) is not None
        return ok is not False and ok == self.shape(c)
