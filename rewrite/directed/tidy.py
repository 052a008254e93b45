"""Stage 4, tidy: a normal form for the gradient G, close to how books write it.

Innermost rewriting: a node is tidied after its arguments, by the first one-step rule of its
operator that applies (`tidy_rules.py`) or by a move of several steps (`tidy_moves.py`), again
and again until nothing applies.  In short:

- transposes move down to symbols and inverses ((A*B)' = B'*A', A'' = A, S' = S for symmetric S,
  s' = s for a scalar), and not into sums: a book writes (x - m)';
- zeros, ones and identities go (A*0, A*1, I*A, A.*ones, A + 0, inv(A)*A ...); numbers fold;
- a minus sign moves to the first factor of a product (-(A*B) = (-A)*B, A*-B = -(A*B)), and into
  a sum as subtraction (A + (-B)*C = A - B*C);
- products associate to the left, a scalar factor moves to the front (A*s = s*A), numbers before
  other scalars, division out of products (A*(B/s) = (A*B)/s);
- sums associate to the left; two neighbouring terms with a common last or first factor are
  factored (A*C + B*C = (A + B)*C), which also collects like terms (2*A + A = 3*A).

Every change is a library rule applied by the kernel; the strategy only chooses where.  A node
whose rewriting comes back to a term it already had is a bug in the orientation: tidying stops
there (the term is still equal, and the proof still valid) and says so ("cycle").
"""
from __future__ import annotations

from .rewriter import OutOfBudget, Path, Rewriter
from .tidy_moves import FIRST, LAST, PRE
from .tidy_rules import RULES


class Cycle(Exception):
    """The rules went round in a circle at one node (an orientation bug)."""


class Tidy:
    def __init__(self, rw: Rewriter):
        self.rw = rw
        self.normal: set[tuple] = set()   # (expr, rows, cols) of subterms already in normal form

    def run(self, path: Path) -> str:
        """Tidy the subterm at `path`: "done", or why it stopped half way ("budget", "cycle");
        the term is valid (and proved) either way."""
        try:
            self.normalize(path)
            return "done"
        except OutOfBudget:
            return "budget"
        except Cycle:
            return "cycle"

    def normalize(self, path: Path) -> None:
        rw = self.rw
        t = rw.at(path)
        if (t.expr, t.rows, t.cols) in self.normal:
            return
        for move in PRE.get(t.expr.op, ()):
            rw.transaction(path, move)
        t = rw.at(path)
        for i in range(len(t.kids)):
            self.normalize(path + (i,))
        seen = {t.expr}
        while self.step(path):
            t = rw.at(path)
            for i in range(len(t.kids)):
                self.normalize(path + (i,))
            t = rw.at(path)
            if t.expr in seen:
                raise Cycle(str(t.expr))
            seen.add(t.expr)
        t = rw.at(path)
        self.normal.add((t.expr, t.rows, t.cols))

    def step(self, path: Path) -> bool:
        """One rule or move at `path` (its arguments are in normal form); whether one applied."""
        rw = self.rw
        t = rw.at(path)
        op = t.expr.op
        if any(rw.transaction(path, move) for move in FIRST.get(op, ())):
            return True
        for name, direction, guard in RULES.get(op, ()):
            if (guard is None or guard(t)) and rw.attempt(name, path, direction):
                return True
        return any(rw.transaction(path, move) for move in LAST.get(op, ()))


def tidy(rw: Rewriter, path: Path) -> str:
    """Tidy the subterm at `path`: "done", "budget" or "cycle" (see `Tidy.run`)."""
    return Tidy(rw).run(path)
