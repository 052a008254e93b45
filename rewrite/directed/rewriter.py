"""The term a directed stage rewrites: rule applications through the kernel, recorded as steps."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping

from .. import expr as E
from ..assumptions import Assumptions
from ..errors import RewriteError
from ..proof.kernel import Cursor, StepError, Term, bindings
from ..rules import Rule, library
from ..shapes import Decl

Path = tuple[int, ...]


@dataclass(frozen=True)
class Step:
    """`rule` read `direction` at `path` of the whole term (the proof format's step)."""
    rule: str
    direction: str
    path: Path


@dataclass(frozen=True)
class Budget:
    steps: int = 200_000
    nodes: int = 400_000      # size of the term (tree nodes)
    seconds: float = 10.0


class OutOfBudget(RewriteError):
    """A directed stage reached a budget; `what` is "steps", "nodes" or "time"."""

    def __init__(self, what: str, limit):
        self.what, self.limit = what, limit
        super().__init__(f"{what} budget of {limit:,} reached" if what != "time"
                         else f"time budget of {limit} s reached")


class Rewriter:
    """A whole term, rewritten in place by rule applications at paths; `steps` is the proof."""

    def __init__(self, start: Term, decls: Mapping[str, Decl], wrt: str | None,
                 budget: Budget = Budget(), rules: Mapping[str, Rule] | None = None):
        self.cursor = Cursor(start)
        self.decls = dict(decls)
        self.wrt = wrt
        self.rules = rules or library()
        self.steps: list[Step] = []
        self.budget = budget
        self.deadline = time.perf_counter() + budget.seconds
        # the facts the steps rely on; only a differentiation rule (d(...) => ...) may assume one
        # (its condition says where the derivative exists), the other stages use them
        self.assumed = Assumptions()
        self.inside: frozenset[str] = frozenset()   # moves under way (a move may not nest itself)
        self._has_d: dict[E.Expr, bool] = {}
        self._depends: dict[E.Expr, bool] = {}

    @property
    def term(self) -> Term:
        """The whole term."""
        return self.cursor.root()

    def at(self, path: Path) -> Term:
        return self.cursor.move(path)

    def rule(self, name: str) -> Rule:
        return self.rules[name]

    def apply(self, name: str, path: Path, direction: str = "forward") -> Term:
        """Apply a rule (StepError if it does not apply); the subterm it built at `path`."""
        rule = self.rules[name]
        self.assumed.open = rule.lhs.op == E.DIFF and direction == "forward"
        built = self.cursor.apply(rule, direction, path, self.decls, self.wrt, self.assumed)
        self.steps.append(Step(name, direction, path))
        self._charge()
        return built

    def attempt(self, name: str, path: Path, direction: str = "forward") -> bool:
        """Apply the rule if it applies; whether it did."""
        rule = self.rules[name]
        side = rule.lhs if direction == "forward" else rule.rhs
        if side.op != E.SYM and side.op != self.at(path).expr.op:
            return False   # cheap pre-check: the root operator differs
        try:
            self.apply(name, path, direction)
            return True
        except StepError:
            return False

    def transaction(self, path: Path, macro) -> bool:
        """Run `macro(scratch)` on a scratch rewriter holding the subterm at `path` (its paths are
        relative to that subterm); if every step it makes applies, make the same steps here and
        return True.  If one is refused (StepError), or it makes none, change nothing: a move of
        several steps is taken whole or not at all."""
        scratch = Rewriter(self.at(path), self.decls, self.wrt, self.budget, self.rules)
        scratch.deadline = self.deadline
        scratch.assumed = Assumptions(self.assumed.facts)   # what it may use, not what it used
        scratch.inside = self.inside
        try:
            macro(scratch)
        except StepError:
            return False
        for s in scratch.steps:
            self.apply(s.rule, path + s.path, s.direction)
        return bool(scratch.steps)

    def bindings(self, name: str, path: Path, direction: str = "forward") -> dict[str, Term] | None:
        return bindings(self.rules[name], direction, self.at(path))

    def has_d(self, e: E.Expr) -> bool:
        """Does `e` contain a differential?  (Memoised: the same subterms are asked again.)"""
        known = self._has_d.get(e)
        if known is None:
            known = e.op == E.DIFF or any(self.has_d(a) for a in e.args)
            self._has_d[e] = known
        return known

    def depends(self, e: E.Expr) -> bool:
        """Does `e` contain the variable or a differential (is it not `const`)?"""
        known = self._depends.get(e)
        if known is None:
            known = (e.op == E.DIFF or (e.op == E.SYM and e.name == self.wrt)
                     or any(self.depends(a) for a in e.args))
            self._depends[e] = known
        return known

    def _charge(self) -> None:
        b = self.budget
        if len(self.steps) > b.steps:
            raise OutOfBudget("steps", b.steps)
        if self.cursor.size > b.nodes:
            raise OutOfBudget("nodes", b.nodes)
        if time.perf_counter() > self.deadline:
            raise OutOfBudget("time", b.seconds)


def collect_sum(rw: Rewriter, path: Path, on_add: str, on_sub: str, direction: str = "forward") -> None:
    """A +/- tree at `path` of terms L_i*R (with one R) -> one (sum of L_i)*R, innermost first:
    `on_add`/`on_sub` are the rules joining two terms (tr(A'*dX) + tr(B'*dX) = tr((A + B)'*dX),
    or A*v + B*v = (A + B)*v read backward)."""
    op = rw.at(path).expr.op
    if op not in (E.ADD, E.SUB):
        return
    collect_sum(rw, path + (0,), on_add, on_sub, direction)
    collect_sum(rw, path + (1,), on_add, on_sub, direction)
    rw.apply(on_add if op == E.ADD else on_sub, path, direction)
