"""Whole proofs: the steps of every stage of a derivation, lifted into one sequence of terms.

Each stage of a derivation rewrote one subterm (at the run's `path`) of the whole term inside its
own e-graph.  We reconstruct each run's steps in its snapshot, with the whole term as the frame
(so side conditions see the shapes the checker will see), put the whole term around every step,
chain the runs from `d(f)` to `tr(G'*dX)`, shorten, and hand the steps to the proof model.
"""
from __future__ import annotations

import time
from typing import Any, Mapping

from .. import expr as E
from ..egg.snapshot import Snapshot
from ..rules import Rule, library
from ..shapes import Decl
from .reconstruct import Limits, RawStep, ReconstructionFailed, reconstruct, replay
from .shorten import shorten


def lift(steps: list[RawStep], whole: E.Expr, prefix: E.Path) -> list[RawStep]:
    """Steps on the subterm at `prefix` of `whole`, as steps on the whole term."""
    if not prefix:
        return list(steps)
    return [RawStep(s.rule, s.direction, prefix + s.path, s.subst,
                    whole.replace(prefix, s.before), whole.replace(prefix, s.after)) for s in steps]


def fired_rules(stats, rules: Mapping[str, Rule]) -> dict[str, Rule]:
    """The rules that matched at least once in an egglog run (every union of the run came from
    one of them), each usable both ways.  The whole library if the run reports no matches."""
    names = {label.split("/", 1)[0] for label, n in (stats.rule_matches or {}).items() if n > 0}
    if not names:
        return dict(rules)
    return {name: rules[name] for name in sorted(names) if name in rules}


def steps_of_runs(start: E.Expr, runs, vars: Mapping[str, Decl], wrt: str | None, *,
                  rules: Mapping[str, Rule] | None = None, limits: Limits = Limits()
                  ) -> tuple[list[RawStep], list[dict[str, Any]], E.Expr]:
    """The unshortened whole-term steps of stage runs applied one after another from `start`
    (each at its `path` of the term so far), one statistics record per run, and the end term."""
    rules = dict(rules or library())
    whole = start
    steps: list[RawStep] = []
    per_run: list[dict[str, Any]] = []
    for k, run in enumerate(runs):
        try:
            here = whole.at(run.path)
        except IndexError:
            here = None
        if here != run.source:
            raise ReconstructionFailed(
                f"stage {run.stage} (run {k + 1}) starts from {run.source}, but the term at "
                f"{list(run.path)} is {here}: the runs do not chain")
        try:
            rec = reconstruct(run.snapshot, run.source, run.target, vars, wrt,
                              rules=fired_rules(run.stats, rules),
                              frame=(whole, run.path), limits=limits)
        except ReconstructionFailed as failure:
            raise ReconstructionFailed(f"stage {run.stage} (run {k + 1}, {run.source} -> "
                                       f"{run.target}): {failure.reason}") from None
        steps += lift(rec.steps, whole, run.path)
        whole = whole.replace(run.path, run.target)
        per_run.append({"stage": run.stage, "path": list(run.path), "steps": len(rec.steps),
                        "method": rec.method, "reconstruct_seconds": round(rec.seconds, 4),
                        "egglog_seconds": round(run.stats.seconds, 4),
                        "egraph_nodes": run.snapshot.size, "iterations": run.stats.iterations})
    return steps, per_run, whole


def steps_of_derivation(d, *, rules: Mapping[str, Rule] | None = None, limits: Limits = Limits()
                        ) -> tuple[list[RawStep], list[dict[str, Any]]]:
    """The unshortened whole-term steps from d(f) to the canonical differential, and one
    statistics record per stage run."""
    steps, per_run, end = steps_of_runs(E.diff(d.f), d.runs, d.vars, d.wrt, rules=rules, limits=limits)
    if end != d.differential:
        raise ReconstructionFailed(f"the stages end at {end}, not at the differential {d.differential}")
    return steps, per_run


def derivation_steps(d, *, limits: Limits = Limits()) -> tuple[list[RawStep], dict[str, Any]]:
    """The shortened steps d(f) -> tr(G'*dX) of a `Derivation`, and their statistics: steps
    before and after shortening, and per stage run reconstruction and egglog seconds, e-graph
    size and reconstruction method.  Raises ReconstructionFailed."""
    t0 = time.perf_counter()
    rules = library()
    raw, per_run = steps_of_derivation(d, rules=rules, limits=limits)
    t1 = time.perf_counter()
    steps = shorten(raw, d.vars, d.wrt, rules)
    stats = {"steps": len(steps), "steps_unshortened": len(raw),
             "reconstruct_seconds": round(t1 - t0, 4),
             "shorten_seconds": round(time.perf_counter() - t1, 4),
             "egglog_seconds": round(sum(r.stats.seconds for r in d.runs), 4),
             "egraph_nodes": sum(r.snapshot.size for r in d.runs), "stages": per_run}
    return steps, stats


def proof_of_derivation(d, *, limits: Limits = Limits()):
    """The checked-by-replay proof that d(f) = tr(G'*dX) for a `Derivation` of rewrite.pipeline
    (statistics as `derivation_steps`).  Raises ReconstructionFailed (never a partial proof)."""
    from .model import GradientClaim, make_proof

    steps, stats = derivation_steps(d, limits=limits)
    claim = GradientClaim(kind="gradient", f=str(d.f), wrt=d.wrt, gradient=str(d.gradient),
                          differential=str(d.differential))
    return make_proof(claim, d.vars, steps, stats)


def equality_steps(lhs: E.Expr, rhs: E.Expr, snapshot: Snapshot, vars: Mapping[str, Decl], *,
                   wrt: str | None = None, limits: Limits = Limits()
                   ) -> tuple[list[RawStep], dict[str, Any]]:
    """The shortened whole-term steps lhs -> rhs, two terms of one e-class of `snapshot`, and
    their statistics.  Arguments as `proof_of_equality`.  Raises ReconstructionFailed."""
    t0 = time.perf_counter()
    rules = library()
    rec = reconstruct(snapshot, lhs, rhs, vars, wrt, rules=rules, limits=limits)
    t1 = time.perf_counter()
    steps = shorten(rec.steps, vars, wrt, rules)
    stats = {"steps": len(steps), "steps_unshortened": len(rec.steps), "method": rec.method,
             "reconstruct_seconds": round(t1 - t0, 4),
             "shorten_seconds": round(time.perf_counter() - t1, 4), "egraph_nodes": snapshot.size}
    return steps, stats


def proof_of_equality(lhs: E.Expr, rhs: E.Expr, snapshot: Snapshot, vars: Mapping[str, Decl], *,
                      wrt: str | None = None, stats: Mapping[str, Any] | None = None,
                      limits: Limits = Limits()):
    """The proof of the EqualityClaim `lhs = rhs`, two terms of one e-class of `snapshot`.

    - `lhs`, `rhs`: Exprs (each must be a member of the same class of `snapshot`, e.g. both
      added to one egglog session that then saturated; the snapshot is `session.snapshot()`).
    - `vars`: the declarations the terms were typed with (name -> Decl, as `infer(...).vars`
      gives them; every symbol of lhs and rhs should be declared, so the checker types alike).
    - `wrt`: leave None for a plain identity (the checker decides `const` with wrt None).
    - `stats`: merged into the proof's stats (e.g. the egglog run's statistics).
    Steps are whole terms from `lhs` to `rhs`; zero steps when lhs == rhs.
    Raises ReconstructionFailed when no chain of rule steps is found within `limits`.
    """
    from .model import EqualityClaim, make_proof

    steps, out = equality_steps(lhs, rhs, snapshot, vars, wrt=wrt, limits=limits)
    out.update(stats or {})
    return make_proof(EqualityClaim(kind="equality", lhs=str(lhs), rhs=str(rhs)), vars, steps, out)


def proof_of_rounds(lhs: E.Expr, rhs: E.Expr, runs, vars: Mapping[str, Decl], *,
                    limits: Limits = Limits()):
    """The proof of the EqualityClaim `lhs = rhs` made by stage runs on the whole term, one after
    another (each run's source is the previous run's target: e.g. the rounds of the tidy stage)."""
    from .model import EqualityClaim, make_proof

    rules = library()
    steps, _, end = steps_of_runs(lhs, runs, vars, None, rules=rules, limits=limits)
    if end != rhs:
        raise ReconstructionFailed(f"the runs end at {end}, not at {rhs}")
    steps = shorten(steps, vars, None, rules)
    claim = EqualityClaim(kind="equality", lhs=str(lhs), rhs=str(rhs))
    return make_proof(claim, vars, steps, {"steps": len(steps)})


__all__ = ["proof_of_derivation", "proof_of_equality", "proof_of_rounds", "derivation_steps",
           "equality_steps", "steps_of_derivation", "steps_of_runs", "lift",
           "ReconstructionFailed", "replay"]
