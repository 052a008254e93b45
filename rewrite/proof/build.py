"""Proofs of equalities found by equality saturation: rule steps reconstructed from a snapshot.

The identity prover (`rewrite.verification`) puts both sides of a claim into one e-graph; when
they meet, `reconstruct` finds the rule steps from one to the other in the snapshot, `shorten`
cuts the detours, and the steps become a proof.  (Derivations need none of this: their steps are
made by the kernel as they go, see `rewrite.pipeline`.)
"""
from __future__ import annotations

import time
from typing import Any, Mapping

from .. import expr as E
from ..egg.snapshot import Snapshot
from ..rules import library
from ..shapes import Decl
from .reconstruct import Limits, RawStep, ReconstructionFailed, reconstruct, replay
from .shorten import shorten


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


__all__ = ["proof_of_equality", "equality_steps", "ReconstructionFailed", "replay"]
