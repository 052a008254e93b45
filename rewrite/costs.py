"""Extraction costs of the stages (tuples compared lexicographically; see egg/extract.py)."""
from __future__ import annotations

from . import expr as E
from .egg.snapshot import ENode, Snapshot


def differentiated(snap: Snapshot, wrt: str):
    """(differentials not yet at the variable, size): d must reach X everywhere."""
    var = snap.class_of_node.get(ENode(E.SYM, name=wrt))

    def cost(node: ENode, c: int, kids: list):
        bad = sum(k[0] for k in kids)
        if node.op == E.DIFF and node.children[0] != var:
            bad += 1
        return (bad, 1 + sum(k[1] for k in kids))
    return cost


NO_D, HAS_D, D_SUM = 0, 1, 2


def linearized(node: ENode, c: int, kids: list):
    """(sums with a differential below a non-sum, minus signs inside products, size, tag,
    is a minus): a sum of terms linear in dX, each with its sign in front."""
    penalty = sum(k[0] for k in kids)
    inner_negs = sum(k[1] for k in kids)
    size = 1 + sum(k[2] for k in kids)
    tags = [k[3] for k in kids]
    has_d = node.op == E.DIFF or any(t != NO_D for t in tags)
    is_neg = node.op == E.NEG
    if node.op in (E.ADD, E.SUB):
        return (penalty, inner_negs, size, D_SUM if has_d else NO_D, False)
    penalty += sum(1 for t in tags if t == D_SUM)
    if not is_neg:
        inner_negs += sum(1 for k in kids if k[4])
    return (penalty, inner_negs, size, HAS_D if has_d else NO_D, is_neg)


def free_of_d(node: ENode, c: int, kids: list):
    """(contains a differential, size): for reading off G."""
    return (max([k[0] for k in kids] + [int(node.op == E.DIFF)]), 1 + sum(k[1] for k in kids))


def textbook(snap: Snapshot):
    """Weighted size of a textbook-looking term: (weight, top is a minus, top is a product).

    Transposes cost little on a symbol or an inverse and much on a compound term; a scalar
    factor costs more on the right than in front; a right-nested product costs a little more
    (it prints with brackets); a minus sign inside a product costs more than one in front.
    """
    def cost(node: ENode, c: int, kids: list):
        w = 2
        op = node.op
        if op == E.TRANSPOSE:
            child = snap.classes[node.children[0]]
            w = 1 if any(n.op in (E.SYM, "inv") for n in child) else 10
        elif op in (E.ADD, E.SUB):
            w = 3
        elif op == E.NUM:
            w = 2 if node.value > 0 else 4
        elif op == E.MUL:
            left, right = node.children
            if snap.is_scalar(right) and not snap.is_scalar(left):
                w += 2
            if kids[1][2]:
                w += 1
        if op in (E.MUL, E.HADAMARD, E.HDIV, E.DIV, E.TRANSPOSE):
            w += sum(2 for k in kids if k[1])
        return (w + sum(k[0] for k in kids), op == E.NEG, op == E.MUL)
    return cost
