"""Stage 2, isolate: bring the differential to tr(G'*dX), and stage 3, collect.

df is linear in dX.  It is wrapped as tr(G'*M), with G = 1 (or G = I when df is a trace), and
each step moves the operator around dX at the top of M into G: the adjoint of that operator, as
in reverse-mode differentiation.  `tr(G'*(B*C)) = tr((B'*G)'*C)` when C holds dX,
`tr(G'*(B.*C)) = tr((G.*B)'*C)`, `tr(G'*B') = tr(G''*B)`, and so on (the `trace-move-*`,
`hadamard-swap*` and `hdiv-swap` rules).  A sum in M splits the trace into two, each peeled on
its own; a part is done when its M is dX.  The number of steps is the size of df along the paths
to its dX's, and G is built by composing adjoints, never by search.

Collecting then joins the parts bottom-up, `tr(P'*dX) + tr(Q'*dX) = tr((P + Q)'*dX)`.
"""
from __future__ import annotations

from .. import expr as E
from ..errors import UnknownResult
from .rewriter import Path, Rewriter, collect_sum

M = (0, 1)   # where M sits in tr(G'*M)


def wrap(rw: Rewriter, path: Path = ()) -> None:
    """df (1x1) at `path` -> tr(G'*df) with G = 1, or tr(I'*A) when df is tr(A) of a matrix A."""
    df = rw.at(path)
    if df.expr.op == "tr" and not df.kids[0].is_scalar:
        rw.apply("trace-inner", path)
    else:
        rw.apply("trace-scalar", path, "backward")
        rw.apply("trace-inner-scalar", path)


def peel(rw: Rewriter, path: Path = ()) -> None:
    """Move everything around dX out of M in the tr(G'*M) at `path` (a sum of such terms after
    splits)."""
    while True:
        m = rw.at(path + M)
        op = m.expr.op
        if op == E.DIFF:
            if m.expr.args[0] != E.sym(rw.wrt):
                raise UnknownResult(f"a differential other than d{rw.wrt} is left: {m.expr}", "isolate")
            return
        if op in (E.ADD, E.SUB):
            if not all(rw.has_d(k.expr) for k in m.kids):
                raise UnknownResult(f"a summand without d{rw.wrt} in {m.expr}: df is not linear", "isolate")
            rw.apply("trace-move-add" if op == E.ADD else "trace-move-sub", path)
            peel(rw, path + (0,))
            peel(rw, path + (1,))
            return
        name, where = _move(rw, m)
        rw.apply(name, path + where)


def _move(rw: Rewriter, m) -> tuple[str, Path]:
    """The rule that moves M's top operator into G (at the trace: path ()), or one that first
    rewrites M itself (path M)."""
    op = m.expr.op
    kids = m.kids
    if op == E.NEG:
        return "trace-move-neg", ()
    if op == E.TRANSPOSE:
        return "trace-move-transpose", ()
    if op == E.MUL:
        b, c = kids
        if rw.has_d(c.expr):
            return ("trace-move-scale-r" if c.is_scalar and not b.is_scalar else "trace-move-mul-l"), ()
        return ("trace-move-scale-l" if b.is_scalar and not c.is_scalar else "trace-move-mul-r"), ()
    if op == E.HADAMARD:
        return ("hadamard-swap" if rw.has_d(kids[1].expr) else "hadamard-swap-r"), ()
    if op == E.HDIV and not rw.has_d(kids[1].expr):
        return "hdiv-swap", ()
    if op == E.DIV and not rw.has_d(kids[1].expr):
        return "trace-move-div", ()
    if op in ("tr", "sum", "diag"):
        if kids[0].is_scalar:
            return {"tr": "trace-scalar", "sum": "sum-scalar", "diag": "diag-scalar"}[op], M
        return {"tr": "trace-move-tr", "sum": "trace-move-sum", "diag": "trace-move-diag"}[op], ()
    raise UnknownResult(f"cannot move {op} out of the way of d{rw.wrt} in {m.expr}", "isolate")


def collect(rw: Rewriter, path: Path = ()) -> None:
    """A +/- tree of tr(G_i'*dX) at `path` -> one tr(G'*dX)."""
    collect_sum(rw, path, "trace-collect", "trace-collect-sub")
