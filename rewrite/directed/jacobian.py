"""Jacobians: vec(dF) -> J*vec(dX), and the differential dF as a sum of terms each with one dX.

`wrap` writes vec(dF) as I*vec(dF); `peel` then moves the operator around dX out of the vec into
the left factor, one rule at a time, as `isolate` does for a trace (`vec(A*B) = kron(I(n), A)*vec(B)`
when B holds dX, `vec(A') = K(m, n)*vec(A)`, `vec(A.*B) = diag(vec(A))*vec(B)` ...); a sum splits
the term in two.  `collect` joins J1*vec(dX) + J2*vec(dX) = (J1 + J2)*vec(dX).

`expand` distributes products (and transposes, traces, ...) over the sums that hold a
differential, so that dF becomes a sum of terms each linear in dX by itself: X'*dX + dX'*X.
"""
from __future__ import annotations

from .. import expr as E
from ..errors import UnknownResult
from .rewriter import Path, Rewriter, collect_sum

VEC_M = (1, 0)   # where M sits in J*vec(M)


def wrap(rw: Rewriter, path: Path = ()) -> None:
    """vec(dF) at `path` -> I*vec(dF) (1*vec(dF) when F and X are scalars)."""
    if rw.at(path).is_scalar:
        rw.apply("mul-one-l", path, "backward")
    else:
        rw.apply("mul-identity-l", path, "backward")


def peel(rw: Rewriter, path: Path = ()) -> None:
    """Move everything around dX out of the vec in the J*vec(M) at `path`."""
    while True:
        m = rw.at(path + VEC_M)
        op = m.expr.op
        if op == E.DIFF:
            if m.expr.args[0] != E.sym(rw.wrt):
                raise UnknownResult(f"a differential other than d{rw.wrt} is left: {m.expr}", "jacobian")
            return
        if op in (E.ADD, E.SUB):
            rw.apply("vec-add" if op == E.ADD else "vec-sub", path + (1,))
            rw.apply("mul-add-r" if op == E.ADD else "mul-sub-r", path)
            peel(rw, path + (0,))
            peel(rw, path + (1,))
            return
        _move(rw, path, m)


def _outward(rw: Rewriter, path: Path) -> None:
    """J*(P*vec(M)) -> (J*P)*vec(M)."""
    rw.apply("mul-assoc", path, "backward")


def _move(rw: Rewriter, path: Path, m) -> None:
    """One operator of M out of the vec (into J)."""
    op = m.expr.op
    vec = path + (1,)
    if op == E.NEG:                                  # J*(-vec(B)) -> (-J)*vec(B)
        rw.apply("vec-neg", vec)
        rw.apply("mul-neg-r", path)
        rw.apply("mul-neg-l", path, "backward")
        return
    if op == E.TRANSPOSE:
        rw.apply("vec-transpose", vec)
        _outward(rw, path)
        return
    if op == E.MUL:
        b, c = m.kids
        d_right = rw.has_d(c.expr)
        if b.is_scalar and not c.is_scalar and not d_right:        # s*C, dX in s
            rw.apply("vec-scale-l", vec)                           # J*(vec(C)*s)
            _outward(rw, path)                                     # (J*vec(C))*s
            rw.apply("vec-column", path + (1,), "backward")        # (J*vec(C))*vec(s)
            return
        if c.is_scalar and not b.is_scalar and d_right:            # B*s, dX in s
            rw.apply("vec-scale-r", vec)
            _outward(rw, path)
            rw.apply("vec-column", path + (1,), "backward")
            return
        if b.is_scalar and not c.is_scalar:                        # s*C, dX in C: scale J
            rw.apply("vec-scale-l", vec)                           # J*(vec(C)*s)
            rw.apply("scalar-comm", vec, "backward")               # J*(s*vec(C))
            _outward(rw, path)                                     # (J*s)*vec(C)
            return
        if c.is_scalar and not b.is_scalar:                        # B*s, dX in B
            rw.apply("vec-scale-r", vec)
            rw.apply("scalar-comm", vec, "backward")
            _outward(rw, path)
            return
        rw.apply("vec-mul-l" if d_right else "vec-mul-r", vec)
        _outward(rw, path)
        return
    if op == E.HADAMARD:
        if not rw.has_d(m.kids[1].expr):
            rw.apply("had-comm", vec + (0,))
        rw.apply("vec-hadamard", vec)
        _outward(rw, path)
        return
    if op == E.HDIV and not rw.has_d(m.kids[1].expr):
        rw.apply("vec-hdiv", vec)
        _outward(rw, path)
        return
    if op == E.DIV and not rw.has_d(m.kids[1].expr):          # J*vec(B/s) -> (J/s)*vec(B)
        rw.apply("vec-div", vec)
        rw.apply("mul-div-r", path)
        rw.apply("mul-div-l", path, "backward")
        return
    if op in ("tr", "sum"):                                  # a 1x1 M: an inner product of vecs
        rw.apply("vec-column", vec)                          # J*tr(B)
        if m.kids[0].is_scalar:
            rw.apply("trace-scalar" if op == "tr" else "sum-scalar", vec)
            rw.apply("vec-column", vec, "backward")
            return
        if op == "tr":
            rw.apply("trace-inner", vec)                     # J*tr(I'*B)
        else:
            rw.apply("sum-def", vec)                         # J*tr(ones'*B)
        rw.apply("trace-vec", vec)                           # J*(vec(I)'*vec(B))
        _outward(rw, path)
        return
    if op == "diag":
        if m.kids[0].is_scalar:
            rw.apply("diag-scalar", path + VEC_M)
            return
        rw.apply("diag-def", path + VEC_M)                   # vec(I.*(b*ones'))
        return
    if op == "kron":   # vec(kron(B, C)) = P*kron(vec(B), vec(C)); then a column times the other
        rw.apply("vec-kron", vec)
        _outward(rw, path)
        left = rw.has_d(m.kids[0].expr)
        rw.apply("kron-column-l" if left else "kron-column-r", path + (1,))
        _outward(rw, path)
        return
    if op == "vec":                                          # vec(vec(B)) = vec(B)
        rw.apply("vec-column", vec)
        return
    raise UnknownResult(f"cannot move {op} out of the way of d{rw.wrt} in {m.expr}", "jacobian")


def collect(rw: Rewriter, path: Path = ()) -> None:
    """A +/- tree of J_i*vec(dX) at `path` -> one J*vec(dX)."""
    collect_sum(rw, path, "mul-add-l", "mul-sub-l", "backward")


# --- the differential as a sum of terms linear in dX -----------------------------------------------
# operator -> (rule distributing it over a sum in argument i, ...)
_OVER_SUM = {
    E.MUL: {(0, E.ADD): "mul-add-l", (0, E.SUB): "mul-sub-l", (1, E.ADD): "mul-add-r",
            (1, E.SUB): "mul-sub-r"},
    E.HADAMARD: {(0, E.ADD): "had-add-l", (0, E.SUB): "had-sub-l", (1, E.ADD): "had-add-r",
                 (1, E.SUB): "had-sub-r"},
    E.HDIV: {(0, E.ADD): "hdiv-add-l", (0, E.SUB): "hdiv-sub-l"},
    E.DIV: {(0, E.ADD): "div-add", (0, E.SUB): "div-sub"},
    E.TRANSPOSE: {(0, E.ADD): "transpose-add", (0, E.SUB): "transpose-sub", (0, E.NEG): "transpose-neg"},
    E.NEG: {(0, E.ADD): "neg-add", (0, E.SUB): "neg-sub"},
    "tr": {(0, E.ADD): "tr-add", (0, E.SUB): "tr-sub", (0, E.NEG): "tr-neg"},
    "sum": {(0, E.ADD): "sum-add", (0, E.SUB): "sum-sub", (0, E.NEG): "sum-neg"},
    "diag": {(0, E.ADD): "diag-add", (0, E.SUB): "diag-sub", (0, E.NEG): "diag-neg"},
    "vec": {(0, E.ADD): "vec-add", (0, E.SUB): "vec-sub", (0, E.NEG): "vec-neg"},
    "kron": {(0, E.ADD): "kron-add-l", (0, E.SUB): "kron-sub-l", (1, E.ADD): "kron-add-r",
             (1, E.SUB): "kron-sub-r"},
}


def expand(rw: Rewriter, path: Path = ()) -> None:
    """Distribute over every sum that holds a differential, bottom-up: the result is a sum (+/-)
    of terms each linear in dX by itself."""
    for i in range(len(rw.at(path).kids)):
        expand(rw, path + (i,))
    t = rw.at(path)   # after its arguments changed
    rules = _OVER_SUM.get(t.expr.op, {})
    for i, k in enumerate(t.kids):
        name = rules.get((i, k.expr.op))
        if name and rw.has_d(k.expr):
            rw.apply(name, path)
            expand(rw, path)   # the distributed parts may distribute further
            return
