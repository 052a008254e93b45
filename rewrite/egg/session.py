"""One egglog run: a program of analysis rules and compiled rule uses, terms added by name,
iterated one step at a time under iteration, node and time budgets."""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Mapping, Sequence

from egglog import bindings

from .. import expr as E
from ..rules import library
from ..shapes import Decl, Typing
from . import analysis, schema
from .compile import RuleUse, compile_use
from .snapshot import Snapshot

MAIN = "main"


@dataclass(frozen=True)
class Budget:
    iterations: int = 30
    nodes: int = 20_000
    seconds: float = 10.0


@dataclass
class RunStats:
    iterations: int = 0
    nodes: int = 0
    classes: int = 0
    seconds: float = 0.0
    stop: str = ""           # "saturated" or the budget reached: "iterations", "nodes", "time"
    rule_matches: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"iterations": self.iterations, "nodes": self.nodes, "classes": self.classes,
                "seconds": round(self.seconds, 4), "stop": self.stop}


class _Program:
    """An e-graph holding the declarations and compiled rules of one stage.

    Declaring ~300 rules costs ~50 ms; a derivation runs 5-10 stages, and a catalogue repeats the
    same stages for the same variable names.  So programs are cached per thread (an egglog EGraph
    is bound to its thread) and each run works between `(push)` and `(pop)`, which restore the
    e-graph to its state before the run in about a millisecond.
    """

    def __init__(self, uses: Sequence[RuleUse], has_wrt: bool, relations: frozenset[str]):
        self.eg = bindings.EGraph()
        lib = library()
        rules = []
        for use in dict.fromkeys(uses):   # a use listed twice is compiled once
            rules += compile_use(lib[use.rule], use, has_wrt, MAIN)
        needed = set(relations) | {name for name in analysis.RELATIONS
                                   if any(f"({name} " in text for text in rules)}
        texts = [schema.declarations(), analysis.program(has_wrt, needed), f"(ruleset {MAIN})"] + rules
        # one command at a time: egglog handles a long program in a single call much slower
        for command in self.eg.parse_program("\n".join(texts)):
            self.eg.run_program(command)
        self.active: "Session | None" = None


_CACHE = threading.local()
_CACHE_SIZE = 48


def _program(uses: Sequence[RuleUse], has_wrt: bool, relations: frozenset[str]) -> _Program:
    cache: OrderedDict = getattr(_CACHE, "programs", None)
    if cache is None:
        cache = _CACHE.programs = OrderedDict()
    key = (tuple(uses), has_wrt, relations)
    program = cache.pop(key, None) or _Program(uses, has_wrt, relations)
    cache[key] = program
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return program


def _forget(program: _Program) -> None:
    cache = getattr(_CACHE, "programs", {})
    for key, value in list(cache.items()):
        if value is program:
            del cache[key]


class Session:
    """A scratch e-graph for one run; use it as a context manager (it is undone on exit)."""

    def __init__(self, uses: Sequence[RuleUse], wrt: str | None, var_decls: Mapping[str, Decl],
                 relations: Sequence[str] = ()):
        """`relations`: analysis relations needed beyond those the rules' conditions use."""
        self.program = _program(uses, wrt is not None, frozenset(relations))
        if self.program.active is not None:   # a session left open: undo it before reuse
            self.program.active.close()
        self.program.active = self
        self.eg = self.program.eg
        self.names: list[str] = []
        self.eg.run_program(*self.eg.parse_program("(push)"))
        self.open = True
        shapes = {n: (d.shape.rows, d.shape.cols) for n, d in var_decls.items()}
        try:
            facts = analysis.symbol_facts(shapes, var_decls)
            if wrt is not None:
                facts.append(f'(set (wrt-name) "{wrt}")')
            for command in self.eg.parse_program("\n".join(facts)):
                self.eg.run_program(command)
        except BaseException:
            self.close(failed=True)
            raise

    def close(self, failed: bool = False) -> None:
        if not self.open:
            return
        self.open = False
        self.program.active = None
        try:
            self.eg.run_program(*self.eg.parse_program("(pop)"))
        except BaseException:
            failed = True
        if failed:   # the e-graph may be in any state: build the program afresh next time
            _forget(self.program)

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, kind, err, tb) -> None:
        self.close(failed=kind is not None)

    def _exec(self, text: str):
        return self.eg.run_program(*self.eg.parse_program(text))

    def add(self, e: E.Expr, typing: Typing) -> str:
        name = f"$t{len(self.names)}"
        self._exec(f"(let {name} {schema.term(e, typing)})")
        self._exec(f"(is-root {name})")
        self.names.append(name)
        return name

    def reached(self, goal: str) -> bool:
        """Does the e-graph satisfy the query `goal` (egglog facts)?"""
        try:
            self._exec(f"(check {goal})")
            return True
        except bindings.EggSmolError:
            return False

    def run(self, budget: Budget, goal: str | None = None) -> RunStats:
        """Iterate until saturation, a budget, or (if given) until the `goal` query holds."""
        stats = RunStats()
        start = time.perf_counter()
        self._exec(f"(run-schedule (saturate {analysis.RULESET}))")
        while True:
            if stats.iterations >= budget.iterations:
                stats.stop = "iterations"
                break
            out = self._exec(f"(run {MAIN} 1)")
            stats.iterations += 1
            report = out[-1].report
            for rule, n in report.num_matches_per_rule.items():
                stats.rule_matches[rule] = stats.rule_matches.get(rule, 0) + n
            self._exec(f"(run-schedule (saturate {analysis.RULESET}))")
            if not report.updated:
                stats.stop = "saturated"
                break
            if goal is not None and self.reached(goal):
                stats.stop = "goal"
                break
            previous, stats.nodes = stats.nodes, self.node_count()
            # one iteration can multiply the size: stop when the next would likely pass the budget
            growth = stats.nodes / previous if previous else 1.0
            if stats.nodes > budget.nodes or stats.nodes * growth > 2 * budget.nodes:
                stats.stop = "nodes"
                break
            if time.perf_counter() - start > budget.seconds:
                stats.stop = "time"
                break
        stats.nodes = self.node_count()
        stats.seconds = time.perf_counter() - start
        return stats

    def node_count(self) -> int:
        frozen = self.eg.freeze()
        return sum(len(frozen.functions[c].rows) for c in schema.OP_OF if c in frozen.functions)

    def snapshot(self) -> Snapshot:
        return Snapshot.read(self.eg, self.names)
