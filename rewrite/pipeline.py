"""The derivation of a gradient: five egglog stages from d(f) to tr(G'*dX).

Each stage is one egglog run; its result is extracted from the e-graph, and the run (its
snapshot, source and target) is kept so that a proof of every change can be reconstructed.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Mapping

from . import costs, stages
from . import expr as E
from .egg.compile import RuleUse
from .egg.extract import Extraction
from .egg.session import Budget, RunStats, Session
from .egg.snapshot import ENode, Snapshot
from .errors import InputError, ShapeError, UnknownResult
from .shapes import Decl, Typing, infer, normalize_decls
from .syntax import parse_with_spans


@dataclass
class StageRun:
    """One stage applied at `path` of the whole term: `source` became `target` in `snapshot`."""
    stage: str
    source: E.Expr
    target: E.Expr
    path: E.Path
    stats: RunStats
    snapshot: Snapshot
    seconds: float = 0.0


@dataclass
class Derivation:
    f: E.Expr
    wrt: str
    vars: dict[str, Decl]
    gradient: E.Expr
    differential: E.Expr
    runs: list[StageRun] = field(default_factory=list)

    def stats(self) -> list[dict]:
        return [{"stage": r.stage, "path": list(r.path), **r.stats.as_dict(),
                 "snapshot_nodes": r.snapshot.size} for r in self.runs]


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


class _Pipeline:
    def __init__(self, wrt: str, typing: Typing):
        self.wrt = wrt
        self.vars = typing.vars
        self.runs: list[StageRun] = []

    def run(self, stage: str, uses: list[RuleUse], source: E.Expr, path: E.Path,
            goal_canonical: bool = False, budget: Budget | None = None) -> tuple[Snapshot, str, RunStats]:
        """Saturate `source` with `uses`; the frozen e-graph, the root's name, the statistics."""
        typing = infer(source, self.vars)
        with Session(uses, self.wrt, self.vars, ("dfree",) if goal_canonical else ()) as session:
            root = session.add(source, typing)
            goal = None
            if goal_canonical:   # stop as soon as the root has a member tr(G'*dX) with G free of d
                x = f'(Sym "{self.wrt}")'
                goal = (f"(= {root} (FTr (Mul (T g) (D {x})))) (dfree g) "
                        f"(= (rows g) (rows {x})) (= (cols g) (cols {x}))")
            stats = session.run(budget or stages.BUDGETS[stage], goal)
            return session.snapshot(), root, stats

    def record(self, stage, source, target, path, stats, snap, t0) -> None:
        self.runs.append(StageRun(stage, source, target, path, stats, snap, time.perf_counter() - t0))

    def directed(self, stage: str, uses, source: E.Expr, cost_of, budget: Budget | None = None) -> E.Expr:
        """A stage of directed rules: run, then extract the cheapest member of the root class."""
        t0 = time.perf_counter()
        snap, root, stats = self.run(stage, uses, source, (), budget=budget)
        ex = Extraction(snap, cost_of(snap))
        c = snap.roots[root]
        if ex.cost(c) is None:
            raise UnknownResult("no well-typed term found", stage, stats.as_dict())
        target = ex.term(c)
        self.record(stage, source, target, (), stats, snap, t0)
        return target, ex.cost(c), stats

    def tidy(self, term: E.Expr, path: E.Path) -> E.Expr:
        """The tidy stage in short rounds, each from the previous round's extracted term, until
        nothing changes.  One long saturation finds the same forms but grows e-graphs of 10^4
        nodes whose proofs cannot be reconstructed; rounds of a few iterations stay small."""
        for _ in range(stages.TIDY_ROUNDS):
            for iterations in stages.TIDY_ITERATIONS:   # fewer iterations if the e-graph grows big
                full = stages.BUDGETS["tidy"]
                budget = Budget(min(iterations, full.iterations), full.nodes, full.seconds)
                tidied, _, _ = self.directed("tidy", stages.TIDY, term, costs.textbook, budget)
                run = self.runs[-1]
                run.path = path
                if run.snapshot.size <= stages.TIDY_ROUND_NODES or iterations == stages.TIDY_ITERATIONS[-1]:
                    break
                self.runs.pop()
            if tidied == term:
                break
            term = tidied
        return term

    def canonical_form(self, stage: str, uses, source: E.Expr, path: E.Path, budget: str | None = None) -> E.Expr:
        """Run `uses` on `source` and pick the member tr(G'*dX) with the smallest G."""
        t0 = time.perf_counter()
        snap, root, stats = self.run(budget or stage, uses, source, path, goal_canonical=True)
        ex = Extraction(snap, costs.free_of_d)
        var = snap.class_of_node.get(ENode(E.SYM, name=self.wrt))
        dx = snap.class_of_node.get(ENode(E.DIFF, (var,))) if var is not None else None
        want = snap.shape(var) if var is not None else None   # G has the shape of X
        best = None
        for node in snap.classes.get(snap.roots[root], []):
            if node.op != "tr":
                continue
            for m in snap.classes[node.children[0]]:
                if m.op != E.MUL or m.children[1] != dx:
                    continue
                for t in snap.classes[m.children[0]]:
                    if t.op != E.TRANSPOSE:
                        continue
                    k = ex.cost(t.children[0])
                    if snap.shape(t.children[0]) != want:
                        continue
                    if k is not None and k[0] == 0 and (best is None or k < best[0]):
                        best = (k, t.children[0])
        if best is None:
            why = f"no form tr(G'*d{self.wrt}) found ({stats.stop}: {stats.iterations} iterations, " \
                  f"{stats.nodes} e-nodes)"
            raise UnknownResult(why, stage, stats.as_dict())
        target = canonical(ex.term(best[1]), self.wrt)
        self.record(stage, source, target, path, stats, snap, t0)
        return target


def summands(e: E.Expr, path: E.Path = ()) -> list[E.Path]:
    """Paths of the terms of a sum tree (maximal subterms that are not + or -)."""
    if e.op in (E.ADD, E.SUB):
        return summands(e.args[0], path + (0,)) + summands(e.args[1], path + (1,))
    return [path]


def derive_expr(expr: E.Expr, wrt: str, typing: Typing) -> Derivation:
    p = _Pipeline(wrt, typing)
    start = E.diff(expr)

    differential, cost, stats = p.directed("differentiate", stages.DIFFERENTIATE, start,
                                           lambda s: costs.differentiated(s, wrt))
    if cost[0] > 0:
        raise UnknownResult(f"could not push d(...) through every operator ({stats.stop})",
                            "differentiate", stats.as_dict())

    linear, cost, stats = p.directed("linearize", stages.LINEARIZE, differential, lambda s: costs.linearized)
    if cost[0] > 0:
        raise UnknownResult(f"could not bring df to a sum of terms linear in d{wrt} ({stats.stop})",
                            "linearize", stats.as_dict())

    isolated = linear
    for path in summands(linear):
        term = linear.at(path)
        form = None
        # directed peeling first, then saturation with few rules, then with all of them
        for uses, budget in ((stages.ISOLATE_ADJOINT, "isolate-adjoint"),
                             (stages.ISOLATE_CORE, "isolate-core"), (stages.ISOLATE, "isolate")):
            try:
                form = p.canonical_form("isolate", uses, term, path, budget)
                break
            except UnknownResult as failure:
                last = failure
        if form is None:
            raise last
        isolated = isolated.replace(path, form)

    collected = isolated
    if len(summands(linear)) > 1:
        collected = p.canonical_form("collect", stages.COLLECT, isolated, ())
    raw_gradient = collected.args[0].args[0].args[0]

    tidy = p.tidy(raw_gradient, (0, 0, 0))
    return Derivation(expr, wrt, typing.vars, tidy, canonical(tidy, wrt), p.runs)


def tidy(term: E.Expr, wrt: str, vars: Mapping[str, Decl]) -> tuple[E.Expr, list[StageRun]]:
    """The tidy stage alone on a whole term (e.g. a convention's definition): the tidied term
    and its runs (rounds), each from the previous one's target at path ()."""
    p = _Pipeline(wrt, infer(term, vars))
    return p.tidy(term, ()), p.runs


def derive(f: str | E.Expr, wrt: str, vars: Mapping[str, object] | None = None) -> Derivation:
    expr, typing = prepare(f, wrt, vars)
    return derive_expr(expr, wrt, typing)
