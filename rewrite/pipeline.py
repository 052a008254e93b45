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
from .assumptions import Assumptions, fact_texts
from .directed.tidy import tidy as tidy_at
from .errors import InputError, ShapeError, UnknownResult
from .proof.kernel import reading_differs, typed
from .shapes import CONSTRAINTS, Decl, Typing, infer, normalize_decls
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
    assumptions: dict = field(default_factory=dict)   # fact -> its typed term (assumptions.py)

    def stats(self) -> list[dict]:
        return self.stages


def canonical(gradient: E.Expr, wrt: str) -> E.Expr:
    """tr(G'*dX)."""
    return E.tr(E.mul(E.transpose(gradient), E.diff(E.sym(wrt))))


def prepare(f: str | E.Expr, wrt: str, vars: Mapping[str, object] | None,
            scalar: bool = True) -> tuple[E.Expr, Typing]:
    """Parse and type-check the input (a scalar f unless `scalar` is False); InputError names
    what is wrong."""
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
    constrained = [p for p in CONSTRAINTS if p in (decls[wrt].props if wrt in decls else ())]
    if constrained:
        raise InputError(f"{wrt} is declared {constrained[0]}: a derivative with respect to a constrained "
                         f"variable is not supported (drop '{constrained[0]}' from its declaration for "
                         f"the unconstrained gradient)")
    typing = infer(expr, decls, parsed)
    if scalar and not typing.shape().is_scalar:
        raise ShapeError(f"f must be a scalar, but its shape is {typing.shape()} (the Jacobian of a "
                         f"matrix function: rewrite.derivative, or `rewrite derive` of it)")
    check_stated_sizes(expr, decls)
    return expr, typing


def check_stated_sizes(expr: E.Expr, decls: Mapping[str, Decl]) -> None:
    """The sizes written in I(n) and K(m, n) must be sizes of declared variables (or numbers): a
    size only the written constant names would be a guess."""
    from .dims import names as dim_names
    from .dims import parse as parse_dim

    known = {n for d in decls.values() for dim in (d.shape.rows, d.shape.cols) for n in dim_names(dim)}
    for _, node in expr.walk():
        for size in E.stated_size(node):
            unknown = [n for n in dim_names(parse_dim(size)) if n not in known]
            if unknown:
                raise InputError(f"the size {unknown[0]} in {node} is not a dimension of the declared "
                                 f"variables (declare one with it, e.g. --var \"x: {unknown[0]}\", or use a number)")


class Stages:
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


def run_chain(start: E.Expr, vars: Mapping[str, Decl], wrt: str | None,
              work: list[tuple[str, Callable[[Rewriter], Any]]],
              tidy_path: tuple[int, ...] | Callable[[Rewriter], Any],
              budget: Budget | None = None) -> tuple[Rewriter, list[dict[str, Any]]]:
    """Run the stages `work` on `start`, then tidy the subterm at `tidy_path` (or run `tidy_path`
    on the rewriter when it is a function); (the rewriter,
    one statistics record per stage).  If tidying leaves a constant whose size only a removed
    context fixed (tr(I + 0*A) -> tr(I)), the result would read as something else: then the
    chain is run again without tidying.  Raises UnknownResult."""
    if sys.getrecursionlimit() < RECURSION:
        sys.setrecursionlimit(RECURSION)
    for tidying in (True, False):
        rw = Rewriter(typed(start, vars), vars, wrt, budget or BUDGET)
        stages = Stages(rw)
        for name, fn in work:
            stages.run(name, lambda fn=fn: fn(rw))
        if tidying:
            stages.run("tidy", lambda: tidy_path(rw) if callable(tidy_path) else tidy_at(rw, tidy_path))
        else:
            stages.records.append({"stage": "tidy", "steps": 0, "seconds": 0.0, "term_nodes": rw.term.size,
                                   "stop": "ambiguous"})
        ambiguous = reading_differs(rw.term, vars)
        if ambiguous is None:
            refuse_division_by_zero(rw.term.expr)
            return rw, stages.records
    raise UnknownResult(f"the result cannot be written so that it reads as derived: {ambiguous}", "tidy")


def refuse_division_by_zero(result: E.Expr) -> None:
    """A divisor that tidies to 0 (tr(X)/(a - a), X./(ones - ones)) makes f undefined everywhere;
    no rule divides by zero unless f does."""
    for _, n in result.walk():
        if n.op in (E.DIV, E.HDIV) and (n.args[1].op == E.ZERO or n.args[1] == E.num(0)):
            raise InputError(f"f is undefined: one of its divisors is 0 (the derivation reaches {n})")


def derive_expr(expr: E.Expr, wrt: str, typing: Typing, budget: Budget | None = None) -> Derivation:
    """The derivation of ∂f/∂wrt for a parsed, typed scalar f (budget: `BUDGET` unless given).
    Raises UnknownResult."""
    work = [("differentiate", differentiate), ("isolate", lambda rw: (wrap(rw), peel(rw))),
            ("collect", collect)]
    rw, records = run_chain(E.diff(expr), typing.vars, wrt, work, GRADIENT, budget)
    gradient = rw.term.at(GRADIENT).expr
    if rw.term.expr != canonical(gradient, wrt):   # the stages end there by construction
        raise UnknownResult(f"the derivation ended at {rw.term.expr}, not at tr(G'*d{wrt})", "collect")
    return Derivation(expr, wrt, typing.vars, gradient, rw.term.expr, rw.steps, records,
                      dict(rw.assumed.facts))


def derive(f: str | E.Expr, wrt: str, vars: Mapping[str, object] | None = None,
           budget: Budget | None = None) -> Derivation:
    expr, typing = prepare(f, wrt, vars)
    return derive_expr(expr, wrt, typing, budget)


def tidy(term: E.Expr, wrt: str | None, vars: Mapping[str, Decl],
         budget: Budget | None = None, facts: Mapping | None = None) -> tuple[E.Expr, list[Step]]:
    """The tidy stage alone on a whole term (e.g. a convention's definition): the tidied term and
    the steps from `term` to it.  `facts`: assumptions it may use (a derivation's)."""
    rw = Rewriter(typed(term, vars), vars, wrt, budget or BUDGET)
    if facts:
        rw.assumed = Assumptions(facts)
    tidy_at(rw, ())
    return rw.term.expr, rw.steps


def proof_of_derivation(d: Derivation):
    """The proof d(f) = tr(G'*dX) of a derivation (its steps are kernel steps already)."""
    from .proof.model import GradientClaim, make_proof

    claim = GradientClaim(kind="gradient", f=str(d.f), wrt=d.wrt, gradient=str(d.gradient),
                          differential=str(d.differential), assumptions=fact_texts(d.assumptions))
    stats = {"steps": len(d.steps), "stages": [{k: v for k, v in s.items() if k != "seconds"}
                                               for s in d.stages]}
    return make_proof(claim, d.vars, d.steps, stats)
