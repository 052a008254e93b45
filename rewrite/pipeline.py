"""The derivation of a gradient: directed stages from d(f) to tr(G'*dX), one term throughout.

1. differentiate  push d(.) to the variable (`directed/differentiate.py`);
2. isolate        wrap df as tr(1'*df) and move every operator around dX into the left factor,
                  splitting at sums (`directed/isolate.py`);
3. collect        join the parts tr(G_i'*dX) into tr(G'*dX);
4. tidy           bring G to a normal form (`directed/tidy.py`).

Every change is a kernel rule application on the whole term, so the recorded steps are the
proof from d(f) to tr(G'*dX).  Each stage is linear in the size of the term it works on; the
budgets (steps, term size, seconds) are there for inputs whose differential itself is huge.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from . import expr as E
from .directed.differentiate import differentiate
from .directed.isolate import collect, peel, wrap
from .directed.rewriter import Budget, OutOfBudget, Rewriter, Step
from .directed.tidy import tidy as tidy_at
from .errors import InputError, ShapeError, UnknownResult
from .proof.kernel import reading_differs, typed
from .shapes import Decl, Typing, infer, normalize_decls
from .syntax import parse_with_spans

BUDGET = Budget(steps=200_000, nodes=400_000, seconds=10.0)
GRADIENT = (0, 0, 0)       # where G sits in tr(G'*dX)
RECURSION = 20_000         # the strategies and printers recurse along the depth of terms


@dataclass
class Derivation:
    f: E.Expr
    wrt: str
    vars: dict[str, Decl]
    gradient: E.Expr
    differential: E.Expr
    steps: list[Step] = field(default_factory=list)
    stages: list[dict[str, Any]] = field(default_factory=list)

    def stats(self) -> list[dict]:
        return self.stages


def canonical(gradient: E.Expr, wrt: str) -> E.Expr:
    """tr(G'*dX)."""
    return E.tr(E.mul(E.transpose(gradient), E.diff(E.sym(wrt))))


def prepare(f: str | E.Expr, wrt: str, vars: Mapping[str, object] | None) -> tuple[E.Expr, Typing]:
    """Parse and type-check the input; InputError names what is wrong."""
    decls = normalize_decls(vars)
    if isinstance(f, E.Expr):
        expr, parsed = f, None
    else:
        parsed = parse_with_spans(f)
        expr = parsed.expr
    if any(n.op == E.DIFF for _, n in expr.walk()):
        raise InputError("f must not contain differentials (d(...) or dX)")
    if not isinstance(wrt, str) or not wrt:
        raise InputError("the variable to differentiate by (wrt) must be a name")
    if wrt not in expr.symbols():
        if wrt in decls:
            raise InputError(f"f does not depend on {wrt}: the gradient is 0")
        raise InputError(f"variable {wrt!r} does not occur in f (names in f: "
                         f"{', '.join(sorted(expr.symbols())) or 'none'})")
    typing = infer(expr, decls, parsed)
    if not typing.shape().is_scalar:
        raise ShapeError(f"f must be a scalar, but its shape is {typing.shape()}")
    return expr, typing


class _Stages:
    """Runs stages on one Rewriter and keeps a statistics record per stage."""

    def __init__(self, rw: Rewriter):
        self.rw = rw
        self.records: list[dict[str, Any]] = []

    def run(self, name: str, work: Callable[[], Any]) -> Any:
        rw = self.rw
        t0, n0 = time.perf_counter(), len(rw.steps)
        try:
            out = work()
        except OutOfBudget as err:
            raise UnknownResult(str(err), name, {"stop": err.what, "steps": len(rw.steps) - n0}) from None
        stop = out if isinstance(out, str) else "done"   # tidy says "budget" or "cycle" if it stopped
        self.records.append({"stage": name, "steps": len(rw.steps) - n0,
                             "seconds": round(time.perf_counter() - t0, 4),
                             "term_nodes": rw.term.size, "stop": stop})
        return out


def derive_expr(expr: E.Expr, wrt: str, typing: Typing, budget: Budget | None = None) -> Derivation:
    """The derivation of ∂f/∂wrt for a parsed, typed scalar f (budget: `BUDGET` unless given).
    Raises UnknownResult."""
    if sys.getrecursionlimit() < RECURSION:
        sys.setrecursionlimit(RECURSION)
    for tidying in (True, False):
        rw = Rewriter(typed(E.diff(expr), typing.vars), typing.vars, wrt, budget or BUDGET)
        stages = _Stages(rw)
        stages.run("differentiate", lambda: differentiate(rw))
        stages.run("isolate", lambda: (wrap(rw), peel(rw)))
        stages.run("collect", lambda: collect(rw))
        if tidying:
            stages.run("tidy", lambda: tidy_at(rw, GRADIENT))
        else:
            stages.records.append({"stage": "tidy", "steps": 0, "seconds": 0.0, "term_nodes": rw.term.size,
                                   "stop": "ambiguous"})
        gradient = rw.term.at(GRADIENT).expr
        if rw.term.expr != canonical(gradient, wrt):   # the stages end there by construction
            raise UnknownResult(f"the derivation ended at {rw.term.expr}, not at tr(G'*d{wrt})", "collect")
        ambiguous = reading_differs(rw.term, typing.vars)
        if ambiguous is None:
            return Derivation(expr, wrt, typing.vars, gradient, rw.term.expr, rw.steps, stages.records)
        # tidying left a constant whose size only a removed context fixed (tr(I + 0*A) -> tr(I)):
        # the written gradient would mean something else.  Give it untidied instead.
    raise UnknownResult(f"the gradient cannot be written so that it reads as derived: {ambiguous}", "tidy")


def derive(f: str | E.Expr, wrt: str, vars: Mapping[str, object] | None = None,
           budget: Budget | None = None) -> Derivation:
    expr, typing = prepare(f, wrt, vars)
    return derive_expr(expr, wrt, typing, budget)


def tidy(term: E.Expr, wrt: str | None, vars: Mapping[str, Decl],
         budget: Budget | None = None) -> tuple[E.Expr, list[Step]]:
    """The tidy stage alone on a whole term (e.g. a convention's definition): the tidied term and
    the steps from `term` to it."""
    rw = Rewriter(typed(term, vars), vars, wrt, budget or BUDGET)
    tidy_at(rw, ())
    return rw.term.expr, rw.steps


def proof_of_derivation(d: Derivation):
    """The proof d(f) = tr(G'*dX) of a derivation (its steps are kernel steps already)."""
    from .proof.model import GradientClaim, make_proof

    claim = GradientClaim(kind="gradient", f=str(d.f), wrt=d.wrt, gradient=str(d.gradient),
                          differential=str(d.differential))
    stats = {"steps": len(d.steps), "stages": [{k: v for k, v in s.items() if k != "seconds"}
                                               for s in d.stages]}
    return make_proof(claim, d.vars, d.steps, stats)
