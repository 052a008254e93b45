"""One egglog run: a program of analysis rules and compiled rule uses, terms added by name,
iterated one step at a time under iteration, node and time budgets."""
from __future__ import annotations

import time
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


class Session:
    def __init__(self, uses: Sequence[RuleUse], wrt: str | None, var_decls: Mapping[str, Decl],
                 relations: Sequence[str] = ()):
        """`relations`: analysis relations needed beyond those the rules' conditions use."""
        self.eg = bindings.EGraph()
        self.names: list[str] = []
        lib = library()
        rules = []
        for use in dict.fromkeys(uses):   # a use listed twice is compiled once
            rules += compile_use(lib[use.rule], use, wrt, MAIN)
        needed = set(relations) | {name for name in analysis.RELATIONS
                                   if any(f"({name} " in text for text in rules)}
        texts = [schema.declarations(), analysis.program(wrt, needed), f"(ruleset {MAIN})"] + rules
        shapes = {n: (d.shape.rows, d.shape.cols) for n, d in var_decls.items()}
        texts += analysis.symbol_facts(shapes, var_decls)
        # one command at a time: egglog handles a long program in a single call much slower
        for command in self.eg.parse_program("\n".join(texts)):
            self.eg.run_program(command)

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
        stats.seconds = time.perf_counter() - start
        return stats

    def node_count(self) -> int:
        frozen = self.eg.freeze()
        return sum(len(frozen.functions[c].rows) for c in schema.OP_OF if c in frozen.functions)

    def snapshot(self) -> Snapshot:
        return Snapshot.read(self.eg, self.names)
