"""Stage 4, tidy: a normal form for the gradient G, close to how books write it.

Innermost rewriting: a node is tidied after its arguments, by the first rule of its operator's
list below that applies, again and again until none does.  The orientation makes it terminate:

- transposes move down to symbols and inverses ((A*B)' = B'*A', A'' = A, S' = S for symmetric S,
  s' = s for a scalar), and not into sums: a book writes (x - m)';
- zeros, ones and identities go (A*0, A*1, I*A, A.*ones, A + 0 ...); numbers fold;
- a minus sign moves to the first factor of a product (-(A*B) = (-A)*B, A*-B = -(A*B)), and into
  a sum as subtraction (A + (-B)*C = A - B*C);
- products associate to the left and a scalar factor moves to the front (A*s = s*A), numbers
  before other scalars; scalars leave Hadamard products;
- sums associate to the left; two neighbouring terms with a common right or left factor are
  factored (A*C + B*C = (A + B)*C), which also collects like terms (2*A + A = 3*A).

Each of these is a library rule in the direction given here; the strategy only chooses where.
"""
from __future__ import annotations

from typing import Callable

from .. import expr as E
from ..conditions import holds
from ..proof.kernel import Term
from ..shapes import Shape
from .rewriter import OutOfBudget, Path, Rewriter

Guard = Callable[[Term], bool]
ELEMENTWISE_TRANSPOSE = tuple(f"transpose-{f}" for f in E.ELEMENTWISE)
_UNITS = (E.IDENTITY, E.ONES)


def _number_like(e: E.Expr) -> bool:
    return e.op == E.NUM or (e.op == E.NEG and e.args[0].op == E.NUM)


def _negative(e: E.Expr) -> bool:
    """Does the term start with a minus sign (on its first factor)?"""
    while e.op in (E.MUL, E.HADAMARD, E.HDIV, E.DIV):
        e = e.args[0]
    return e.op == E.NEG or (e.op == E.NUM and e.value < 0)


def _scalar_to_front(t: Term) -> bool:
    """A*s -> s*A: a scalar s goes in front of a matrix, a number in front of another scalar."""
    a, s = t.kids
    if not s.is_scalar:
        return False
    if not a.is_scalar:
        return True
    return _number_like(s.expr) and not _number_like(a.expr)


def _negative_number(t: Term) -> bool:
    return t.kids[0].expr.op == E.NUM and t.kids[0].expr.value < 0


def _minus_unit_left(t: Term) -> bool:
    """(-I)*A, (-ones).*A, (-1)*A: the minus leaves, so that the unit can go."""
    a = t.kids[0].expr
    return a.op == E.NEG and (a.args[0].op in _UNITS or a.args[0] == E.num(1))


def _scalar_into(kind: str) -> Guard:
    """s*(A.*B) -> (s*A).*B (prints as s*A.*B, the way books write it)."""
    return lambda t: t.kids[0].is_scalar and t.kids[1].expr.op == kind


def _compound_inverse(t: Term) -> bool:
    """inv(P)' -> inv(P') when P is a product: the transposes then reach the leaves
    (a book writes inv(X)' but inv(X'*A'*X), not inv(X'*A*X)')."""
    a = t.kids[0].expr
    return a.op == "inv" and a.args[0].op == E.MUL


def _transposed_argument(t: Term) -> bool:
    """exp(A')' -> exp(A''): a transpose on an elementwise function moves in only to cancel."""
    a = t.kids[0]
    return a.expr.op in E.ELEMENTWISE and a.kids[0].expr.op == E.TRANSPOSE


# operator -> [(rule, direction, guard)], tried in order
RULES: dict[str, list[tuple[str, str, Guard | None]]] = {
    E.TRANSPOSE: [(n, "forward", None) for n in (
        "transpose-transpose", "transpose-scalar", "transpose-symmetric", "transpose-identity",
        "transpose-ones", "transpose-zero", "transpose-mul", "transpose-neg", "transpose-hadamard",
        "transpose-hdiv", "transpose-div")]
                 + [("transpose-inv", "forward", _compound_inverse)]
                 + [(n, "forward", _transposed_argument) for n in ELEMENTWISE_TRANSPOSE],
    E.NEG: [("neg-neg", "forward", None), ("neg-zero", "forward", None),
            ("num-neg", "forward", _negative_number),
            ("mul-neg-l", "backward", None), ("had-neg-l", "backward", None),
            ("hdiv-neg-l", "backward", None), ("div-neg", "backward", None)],
    E.MUL: [(n, "forward", None) for n in (
        "mul-zero-l", "mul-zero-r", "mul-one-l", "mul-one-r", "mul-identity-l", "mul-identity-r")]
           + [("mul-neg-l", "forward", _minus_unit_left), ("mul-neg-r", "forward", None),
              ("mul-div-r", "forward", None), ("mul-div-l", "forward", None),
              ("had-scale-l", "backward", _scalar_into(E.HADAMARD)),
              ("hdiv-scale-l", "backward", _scalar_into(E.HDIV)),
              ("mul-assoc", "backward", None), ("scalar-comm", "backward", _scalar_to_front)],
    E.HADAMARD: [(n, "forward", None) for n in (
        "had-zero-l", "had-zero-r", "had-ones", "had-ones-l", "had-scalar", "hdiv-cancel",
        "had-div-r", "had-div-l")]
                + [("had-neg-l", "forward", _minus_unit_left), ("had-neg-r", "forward", None),
                   ("had-scale-r", "forward", None), ("had-assoc", "backward", None)],
    E.HDIV: [(n, "forward", None) for n in ("hdiv-zero", "hdiv-scalar", "hdiv-div-l")],
    E.DIV: [(n, "forward", None) for n in ("div-zero", "div-one", "div-div")],
    E.ADD: [(n, "forward", None) for n in ("add-zero-l", "add-zero-r", "add-neg", "add-self")]
           + [("add-assoc", "backward", None), ("add-sub-assoc", "backward", None)],
    E.SUB: [(n, "forward", None) for n in ("sub-zero-r", "sub-zero-l", "sub-self", "sub-neg")]
           + [("sub-add-assoc", "backward", None), ("sub-sub-assoc", "backward", None)],
    "tr": [(n, "forward", None) for n in ("tr-zero", "trace-scalar", "trace-transpose")],
    "sum": [(n, "forward", None) for n in ("sum-zero", "sum-scalar")],
    "diag": [(n, "forward", None) for n in ("diag-zero", "diag-scalar")],
    "inv": [(n, "forward", None) for n in ("inv-inv", "inv-identity", "inv-scalar")],
    "det": [("det-identity", "forward", None)],
    E.POW: [("pow-one", "forward", None)],
    E.NUM: [("neg-literal", "forward", None)],
}
# constant folding: both arguments numbers (a minus on a number is folded into it first)
_FOLD = {E.ADD: "num-add", E.SUB: "num-sub", E.MUL: "num-mul", E.DIV: "num-div"}
# pulling a leading minus out of a factor of a product, to turn A + (-B)*C into A - B*C
_PULL_NEG = {E.MUL: "mul-neg-l", E.HADAMARD: "had-neg-l", E.HDIV: "hdiv-neg-l", E.DIV: "div-neg"}
# factoring two terms: (rule read backward, operator of both terms, which side is shared)
_FACTOR = {E.ADD: (("mul-add-l", E.MUL, 1), ("mul-add-r", E.MUL, 0), ("div-add", E.DIV, 1),
                   ("had-add-l", E.HADAMARD, 1), ("had-add-r", E.HADAMARD, 0)),
           E.SUB: (("mul-sub-l", E.MUL, 1), ("mul-sub-r", E.MUL, 0), ("div-sub", E.DIV, 1),
                   ("had-sub-l", E.HADAMARD, 1), ("had-sub-r", E.HADAMARD, 0))}


class Tidy:
    def __init__(self, rw: Rewriter):
        self.rw = rw
        self.normal: set[tuple] = set()   # (expr, rows, cols) of subterms already in normal form

    def run(self, path: Path) -> bool:
        """Tidy the subterm at `path`; False if a budget stopped it half way (still valid)."""
        try:
            self.normalize(path)
            return True
        except OutOfBudget:
            return False

    def normalize(self, path: Path) -> None:
        rw = self.rw
        t = rw.at(path)
        if (t.expr, t.rows, t.cols) in self.normal:
            return
        self.left_nest(path)
        t = rw.at(path)
        for i in range(len(t.kids)):
            self.normalize(path + (i,))
        while self.step(path):
            t = rw.at(path)
            for i in range(len(t.kids)):
                self.normalize(path + (i,))
        t = rw.at(path)
        self.normal.add((t.expr, t.rows, t.cols))

    def left_nest(self, path: Path) -> None:
        """A*(B*(C*D)) -> ((A*B)*C)*D from the top, before the arguments are tidied: done
        bottom-up, each factor would be moved through the whole chain below it."""
        rw = self.rw
        op = rw.at(path).expr.op
        if op in (E.MUL, E.HADAMARD):
            while rw.at(path).expr.args[1].op == op:
                rw.apply(_assoc(op), path, "backward")

    def transpose_product(self, path: Path) -> bool:
        """(A*B*C)' -> C'*B'*A': right-nest the product, then (A*R)' = R'*A' down the chain, so
        that the result comes out left-nested (linear in the length of the product)."""
        rw = self.rw
        if rw.at(path + (0,)).expr.op != E.MUL:
            return False
        while rw.at(path + (0,)).expr.args[0].op == E.MUL:
            rw.apply("mul-assoc", path + (0,))
        while rw.at(path).expr.op == E.TRANSPOSE and rw.at(path + (0,)).expr.op == E.MUL:
            rw.apply("transpose-mul", path)
            path = path + (0,)
        return True

    def step(self, path: Path) -> bool:
        """One rewrite at `path` (its arguments are in normal form); whether one applied."""
        rw = self.rw
        t = rw.at(path)
        if t.expr.op in _FOLD and self.fold(path):
            return True
        if t.expr.op == E.TRANSPOSE and t.kids[0].expr.op == E.MUL and not t.kids[0].is_scalar:
            return self.transpose_product(path)
        for name, direction, guard in RULES.get(t.expr.op, ()):
            if (guard is None or guard(t)) and rw.attempt(name, path, direction):
                return True
        op = t.expr.op
        if op in (E.ADD, E.SUB):
            return self.factor(path) or self.subtract_negative(path)
        if op == E.MUL:
            return self.cancel_inverse(path) or self.identity_in_chain(path)
        if op == "tr":
            return self.scalar_out_of_trace(path)
        return False

    def cancel_inverse(self, path: Path) -> bool:
        """... * inv(A) * A * ... -> ... (also A*inv(A), inv(A)'*A', A'*inv(A)'), A invertible."""
        rw = self.rw
        t = rw.at(path)
        left, right = t.kids
        chain = left.expr.op == E.MUL
        y = left.kids[1] if chain else left
        plan = _cancellation(y.expr, right.expr)
        if plan is None:
            return False
        inverted, steps = plan
        if not holds("invertible", inverted, Shape(right.rows, right.rows), rw.decls, rw.wrt):
            return False
        if chain:   # (P*Y)*Z -> P*(Y*Z)
            rw.apply("mul-assoc", path)
            path = path + (1,)
        for name, direction, where in steps:
            rw.apply(name, path + where, direction)
        return True

    def identity_in_chain(self, path: Path) -> bool:
        """(s*I)*A -> s*(I*A) -> s*A: an I left inside a chain after a scalar."""
        rw = self.rw
        t = rw.at(path)
        left, right = t.kids
        if left.expr.op != E.MUL or left.expr.args[1].op != E.IDENTITY or right.is_scalar:
            return False
        rw.apply("mul-assoc", path)
        rw.apply("mul-identity-l", path + (1,))
        return True

    def scalar_out_of_trace(self, path: Path) -> bool:
        """tr(s*A*B) -> s*tr(A*B) for a scalar first factor s."""
        rw = self.rw
        arg = rw.at(path + (0,))
        if arg.expr.op != E.MUL or not _first_term(arg).is_scalar:
            return False
        while rw.at(path + (0, 0)).expr.op == E.MUL:
            rw.apply("mul-assoc", path + (0,))
        rw.apply("trace-scale", path)
        return True

    def fold(self, path: Path) -> bool:
        """a op b for numbers a, b -> one number."""
        rw = self.rw
        kids = rw.at(path).kids
        if not all(_number_like(k.expr) for k in kids):
            return False
        for i, k in enumerate(kids):
            if k.expr.op == E.NEG:
                rw.apply("num-neg", path + (i,))
        rw.apply(_FOLD[rw.at(path).expr.op], path)
        return True

    def subtract_negative(self, path: Path) -> bool:
        """A + (-B)*C -> A - B*C and A - (-B)*C -> A + B*C: pull the sign of the second term's
        first factor up to the sum."""
        rw = self.rw
        right = rw.at(path + (1,)).expr
        if not _negative(right) or right.op == E.NEG or right.op == E.NUM:
            return False
        chain = []
        p = path + (1,)
        e = right
        while e.op in _PULL_NEG:
            chain.append(p)
            p, e = p + (0,), e.args[0]
        if e.op != E.NEG:
            return False
        for q in reversed(chain):   # innermost first: (-B)*C -> -(B*C), then up
            rw.apply(_PULL_NEG[rw.at(q).expr.op], q)
        return rw.attempt("add-neg" if rw.at(path).expr.op == E.ADD else "sub-neg", path)

    def factor(self, path: Path) -> bool:
        """P +- Q with a common last or first factor -> one product (also like terms)."""
        rw = self.rw
        t = rw.at(path)
        op = t.expr.op
        p, q = (k.expr for k in t.kids)
        if p.op in (E.ADD, E.SUB):   # the left side is a sum: its last term may factor with Q
            if not _can_factor(p.args[1], q):
                return False
            rw.apply(_REGROUP[p.op, op], path)   # (A +- B) +- Q -> A +- (B +- Q); B +- Q is next
            return True
        if p == q:
            return False   # add-self / sub-self did not apply: nothing to factor
        for name, kind, side in _FACTOR[op]:
            if self._factor_with(path, name, kind, side):
                return True
        return self._like_terms(path)

    def _factor_with(self, path: Path, name: str, kind: str, side: int) -> bool:
        rw = self.rw
        p, q = (rw.at(path + (i,)).expr for i in (0, 1))
        if side == 1:   # common last factor: the right argument of both (left-nested chains)
            if p.op == kind and q.op == kind and p.args[1] == q.args[1]:
                return rw.attempt(name, path, "backward")
            return False
        lp, lq = _first(p, kind), _first(q, kind)
        if lp is None or lq is None or lp != lq:
            return False
        for i in (0, 1):   # right-nest each term so that the first factor is its left argument
            while rw.at(path + (i,)).expr.args[0].op == kind:
                rw.apply(_assoc(kind), path + (i,))
        rw.apply(name, path, "backward")
        return True

    def _like_terms(self, path: Path) -> bool:
        """c*A +- A, A +- c*A: write the bare A as 1*A, so that the common-factor rule applies."""
        rw = self.rw
        p, q = (rw.at(path + (i,)).expr for i in (0, 1))
        if p.op == E.MUL and _number_like(p.args[0]) and p.args[1] == q:
            rw.apply("mul-one-l", path + (1,), "backward")
        elif q.op == E.MUL and _number_like(q.args[0]) and q.args[1] == p:
            rw.apply("mul-one-l", path + (0,), "backward")
        else:
            return False
        return rw.attempt("mul-add-l" if rw.at(path).expr.op == E.ADD else "mul-sub-l", path, "backward")


_REGROUP = {(E.ADD, E.ADD): "add-assoc", (E.ADD, E.SUB): "add-sub-assoc",
            (E.SUB, E.ADD): "sub-add-assoc", (E.SUB, E.SUB): "sub-sub-assoc"}


def _can_factor(p: E.Expr, q: E.Expr) -> bool:
    """Will `factor` (or add-self / sub-self) join the two terms p +- q?"""
    if p == q:
        return True
    for kind in (E.MUL, E.HADAMARD, E.DIV):
        if p.op == kind and q.op == kind and p.args[1] == q.args[1]:
            return True
        if kind == E.DIV:
            continue
        first = _first(p, kind)
        if first is not None and first == _first(q, kind):
            return True
    return ((p.op == E.MUL and _number_like(p.args[0]) and p.args[1] == q)
            or (q.op == E.MUL and _number_like(q.args[0]) and q.args[1] == p))


def _first_term(t: Term) -> Term:
    while t.expr.op == E.MUL:
        t = t.kids[0]
    return t


def _cancellation(y: E.Expr, z: E.Expr):
    """(A, the steps at y*z that make it I) when y*z is inv(A)*A, A*inv(A), inv(A)'*A' or
    A'*inv(A)'; None otherwise."""
    if y.op == "inv" and y.args[0] == z:
        return z, [("inv-mul-self-l", "forward", ())]
    if z.op == "inv" and z.args[0] == y:
        return y, [("inv-mul-self-r", "forward", ())]
    if y.op == E.TRANSPOSE and z.op == E.TRANSPOSE:
        a, b = y.args[0], z.args[0]
        if a.op == "inv" and a.args[0] == b:     # inv(A)'*A' = (A*inv(A))'
            return b, [("transpose-mul", "backward", ()), ("inv-mul-self-r", "forward", (0,)),
                       ("transpose-identity", "forward", ())]
        if b.op == "inv" and b.args[0] == a:     # A'*inv(A)' = (inv(A)*A)'
            return a, [("transpose-mul", "backward", ()), ("inv-mul-self-l", "forward", (0,)),
                       ("transpose-identity", "forward", ())]
    return None


def _first(e: E.Expr, kind: str) -> E.Expr | None:
    """The first factor of a left-nested chain of `kind` (None if `e` is not such a chain)."""
    if e.op != kind:
        return None
    while e.op == kind:
        e = e.args[0]
    return e


def _assoc(kind: str) -> str:
    return "mul-assoc" if kind == E.MUL else "had-assoc"


def tidy(rw: Rewriter, path: Path) -> bool:
    """Tidy the subterm at `path`; False if a budget stopped it half way."""
    return Tidy(rw).run(path)
