"""Extraction: the cheapest term of every class under a cost given per e-node.

Costs are any comparable values (tuples work); a cost function returns None for an e-node it
refuses.  Computed by fixpoint iteration over the snapshot; only well-typed e-nodes are used.
"""
from __future__ import annotations

from typing import Callable, Optional

from .. import expr as E
from .snapshot import ENode, Snapshot

CostFn = Callable[[ENode, int, list], Optional[tuple]]


class Extraction:
    def __init__(self, snap: Snapshot, cost: CostFn):
        self.snap = snap
        self.best: dict[int, tuple[tuple, ENode]] = {}
        self._run(cost)

    def _run(self, cost: CostFn) -> None:
        snap, best = self.snap, self.best
        nodes = [(n, c) for c, ns in snap.classes.items() for n in ns if snap.usable(n, c)]
        changed = True
        while changed:
            changed = False
            for node, c in nodes:
                kids = []
                for ch in node.children:
                    b = best.get(ch)
                    if b is None:
                        break
                    kids.append(b[0])
                else:
                    k = cost(node, c, kids)
                    if k is not None and (c not in best or k < best[c][0]):
                        best[c] = (k, node)
                        changed = True

    def cost(self, c: int):
        b = self.best.get(c)
        return b[0] if b else None

    def term(self, c: int) -> E.Expr:
        _, node = self.best[c]
        if not node.children:
            return node.leaf_expr()
        if node.op == E.POW:
            return E.Expr(E.POW, (self.term(node.children[0]), self.term(node.children[1])))
        return E.Expr(node.op, tuple(self.term(ch) for ch in node.children))


def size_cost(node: ENode, c: int, kids: list) -> tuple:
    return (1 + sum(k[0] for k in kids),)
