"""Prove or refute a claimed identity `lhs = rhs`, or a claimed gradient.

Numbers first: a claim that fails at a random point (honouring the declared shapes and props) is
refuted with that point.  A claim that holds numerically is then proved, if the rules can, by
equality saturation in stages (identity_stages.py): both sides go into one e-graph, and the
proof is reconstructed from the e-graph and replayed by the kernel before it is handed out.
Numbers never prove anything: a claim neither refuted nor proved within the budgets is "unknown".
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from . import expr as E
from . import identity_stages as stages
from . import hints, numeric
from .errors import InputError, ShapeError, UnknownResult, is_engine_failure
from .shapes import Decl, infer, normalize_decls
from .syntax import parse

PROVED, REFUTED, UNKNOWN = "proved", "refuted", "unknown"
GRADIENT = (0, 0, 0)   # where G sits in tr(G'*dX)


@dataclass
class VerifyResult:
    """`status`: "proved" (with `proof`), "refuted" (with `counterexample`) or "unknown".

    `stats["reason"]` says why, in a sentence; `stats` also holds per-stage e-graph statistics,
    the numeric comparison and timings.
    """
    status: str
    proof: Any = None
    counterexample: Any = None
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def reason(self) -> str:
        return self.stats.get("reason", "")

    def __str__(self) -> str:
        return f"{self.status}: {self.reason}" if self.reason else self.status

    def __repr__(self) -> str:
        reason = self.reason if len(self.reason) <= 100 else self.reason[:99] + "…"
        return f"<VerifyResult {self.status}" + (f": {reason}" if reason else "") + ">"

    def as_dict(self) -> dict:
        """The verdict as plain data: status, reason, hint, counterexample, proof, stats."""
        out = {"status": self.status, "reason": self.reason, "stats": plain(self.stats),
               "counterexample": plain(self.counterexample)}
        if self.stats.get("hint"):
            out["hint"] = self.stats["hint"]
        if self.proof is not None:
            out["proof"] = self.proof.to_dict()
        return out

    def _repr_latex_(self) -> str:
        from .notebook import verdict_latex

        return verdict_latex(self)

    def _repr_markdown_(self) -> str:
        from .notebook import verdict_markdown

        return verdict_markdown(self)


@dataclass
class GradientCounterexample(numeric.Counterexample):
    """A point where a claimed gradient is wrong: `lhs_value` is the gradient by central finite
    differences of f, `rhs_value` the claimed one (both as sym(G) = (G+G')/2 for a symmetric
    variable, the only part a gradient on symmetric matrices determines)."""
    wrt: str = ""
    note: str = ""


def plain(value):
    """Counterexample fields (numpy arrays, dataclasses, pydantic) as JSON-ready data."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return {k: plain(getattr(value, k)) for k in value.__dataclass_fields__}
    return str(value)


# --- input -------------------------------------------------------------------------------------


def _term(x, what: str, decls: dict) -> E.Expr:
    """The term of a string, Expr or SymPy expression (SymPy's shapes go into `decls`)."""
    from .api import sympy_input

    x = sympy_input(x, decls)
    if isinstance(x, E.Expr):
        return x
    if isinstance(x, str):
        return parse(x)
    raise InputError(f"the {what} must be a term (a string, an Expr or a SymPy expression), "
                     f"not {type(x).__name__}")


def _no_differentials(e: E.Expr, what: str) -> None:
    if any(n.op == E.DIFF for _, n in e.walk()):
        raise InputError(f"the {what} must not contain differentials (d(...) or dX)")


def _typed_pair(lhs: E.Expr, rhs: E.Expr, decls: Mapping[str, Decl]):
    """The joint typing of both sides; a side that does not type, or two sides of different
    shapes, is a ShapeError that says which."""
    sides = []
    for side, what in ((lhs, "left"), (rhs, "right")):
        try:
            sides.append(infer(side, decls))
        except ShapeError as err:
            raise ShapeError(f"the {what} side {side} does not type: {err}") from None
    try:
        return infer(E.Expr(E.SUB, (lhs, rhs)), decls)
    except ShapeError as err:
        raise ShapeError(f"the two sides cannot have the same shape: {lhs} is {sides[0].shape()}, "
                         f"{rhs} is {sides[1].shape()} ({err})") from None


# --- proving equalities in stages ----------------------------------------------------------------
@dataclass
class _Segment:
    """In `snap`, `source` and `target` are members of one class."""
    snap: Any
    source: E.Expr
    target: E.Expr


def _run_stage(name: str, uses, a: E.Expr, b: E.Expr, decls: Mapping[str, Decl]):
    """One egglog run with both terms; (snapshot, class of a, class of b, statistics)."""
    from .egg.session import Session

    with Session(uses, None, decls) as session:
        ra = session.add(a, infer(a, decls))
        rb = session.add(b, infer(b, decls))
        run = session.run(stages.BUDGETS[name], goal=f"(= {ra} {rb})")
        snap = session.snapshot()
    return snap, snap.roots[ra], snap.roots[rb], run


def _normal_forms(snap, ca: int, cb: int) -> tuple[E.Expr, E.Expr] | None:
    from .egg.extract import Extraction

    ex = Extraction(snap, stages.normal_form(snap))
    if ex.cost(ca) is None or ex.cost(cb) is None:
        return None
    return ex.term(ca), ex.term(cb)


def search(lhs: E.Expr, rhs: E.Expr, decls: Mapping[str, Decl]) -> tuple[list[_Segment] | None, list[dict], str]:
    """Run the stages until lhs and rhs meet: (segments lhs -> ... -> rhs or None, per-stage
    statistics, why not)."""
    a, b = lhs, rhs
    front: list[_Segment] = []   # lhs -> a, in the normalize snapshot
    back: list[_Segment] = []    # b -> rhs
    records: list[dict] = []
    whys: list[str] = []
    for name, uses in stages.STAGES:
        if a == b:
            return front + back, records, ""
        t0 = time.perf_counter()
        snap, ca, cb, run = _run_stage(name, uses, a, b, decls)
        records.append({"stage": name, **run.as_dict(), "egraph_nodes": snap.size,
                        "wall_seconds": round(time.perf_counter() - t0, 4)})
        if ca == cb:
            return front + [_Segment(snap, a, b)] + back, records, ""
        whys.append({"saturated": f"{name}: saturated without the two sides meeting",
               "iterations": f"{name}: iteration budget ({run.iterations}) reached",
               "nodes": f"{name}: e-node budget reached ({run.nodes} e-nodes)",
               "time": f"{name}: time budget reached ({run.seconds:.1f} s)"}.get(run.stop, f"{name}: {run.stop}"))
        if name == "normalize":
            forms = _normal_forms(snap, ca, cb)
            if forms is not None:
                a1, b1 = forms
                front, back = [_Segment(snap, lhs, a1)], [_Segment(snap, b1, rhs)]
                a, b = a1, b1
    return None, records, "; ".join(whys)


def _reversed(steps):
    """The same chain read backwards (each rule used in the other direction)."""
    from .proof.reconstruct import RawStep

    other = {"forward": "backward", "backward": "forward"}
    return [RawStep(s.rule, other[s.direction], s.path, s.subst, s.after, s.before) for s in reversed(steps)]


# Reconstruction of one segment gets a few seconds: a failure is an honest "unknown", and the
# default (20 s) would make a catalogue of hard claims crawl.
LIMITS_SECONDS = 4.0


def _segment_steps(seg: _Segment, decls: Mapping[str, Decl], source: E.Expr, target: E.Expr) -> list:
    """Steps source -> target (two members of one class of `seg.snap`); if reconstruction fails
    that way, target -> source read backwards, if that uses no oriented (=>) rule: a backward
    reading of one is valid only when its right side computes nothing, and this stays on the
    safe side."""
    from .proof.build import equality_steps
    from .proof.reconstruct import Limits, ReconstructionFailed
    from .rules import library

    limits = Limits(seconds=LIMITS_SECONDS, fallback_seconds=1.0)
    try:
        return equality_steps(source, target, seg.snap, decls, limits=limits)[0]
    except ReconstructionFailed as first:
        try:
            back = equality_steps(target, source, seg.snap, decls, limits=limits)[0]
        except ReconstructionFailed:
            raise first from None
        lib = library()
        if any(lib[s.rule].forward_only for s in back):
            raise first from None
        return _reversed(back)


def prove_equal(lhs: E.Expr, rhs: E.Expr, decls: Mapping[str, Decl], *, either_way: bool = False):
    """(raw steps, reversed, statistics, why not): steps lhs -> rhs, or with `either_way` and
    when only that succeeds, rhs -> lhs (`reversed` True).  A rule whose right side computes
    (eval) applies only forward, so `X*X = X^2` has a proof only as `X^2 = X*X` (pow-expand)."""
    from .proof.reconstruct import ReconstructionFailed

    segments, records, why = search(lhs, rhs, decls)
    stats: dict[str, Any] = {"stages": records}
    if segments is None:
        return None, False, stats, why
    t0 = time.perf_counter()
    ways = [False, True] if either_way else [False]
    failure = None
    for backwards in ways:
        steps = []
        try:
            for seg in (reversed(segments) if backwards else segments):
                a, b = (seg.target, seg.source) if backwards else (seg.source, seg.target)
                steps += _segment_steps(seg, decls, a, b)
        except ReconstructionFailed as err:
            failure = failure or err
            continue
        stats["reconstruct_seconds"] = round(time.perf_counter() - t0, 4)
        return steps, backwards, stats, ""
    stats["reconstruct_seconds"] = round(time.perf_counter() - t0, 4)
    where = records[-1]["stage"] if records else "no stage"
    return None, False, stats, f"the two sides meet in the e-graph ({where}), but {failure}"


def _kernel_ok(proof) -> tuple[bool, str]:
    from .proof.checker import check

    report = check(proof)
    return report.ok, "; ".join(report.errors[:3])


# --- verify --------------------------------------------------------------------------------------
def verify(lhs, rhs, vars: Mapping[str, object] | None = None, *, trials: int = 5,
           seed: int = 0) -> VerifyResult:
    """Prove or refute `lhs = rhs` (strings, Exprs or SymPy matrix expressions).

    `vars`: declarations {"A": "n x n, symmetric", ...}; undeclared names get default shapes.
    Raises InputError for malformed input or sides of different shapes.
    """
    t0 = time.perf_counter()
    decls = normalize_decls(vars)
    le, re_ = _term(lhs, "left side", decls), _term(rhs, "right side", decls)
    for e, what in ((le, "left side"), (re_, "right side")):
        _no_differentials(e, what)
    decls = normalize_decls(decls)
    typing = _typed_pair(le, re_, decls)
    stats: dict[str, Any] = {"lhs": str(le), "rhs": str(re_),
                             "vars": {n: str(d) for n, d in typing.vars.items()}}

    t1 = time.perf_counter()
    cmp = numeric.compare(le, re_, typing.vars, trials=trials, seed=seed)
    stats["numeric"] = {"equal": cmp.equal, "max_rel_error": cmp.max_rel_error, "points": cmp.points,
                        "seconds": round(time.perf_counter() - t1, 4), "details": cmp.details}
    if cmp.counterexample is not None:
        stats["reason"] = (f"the two sides differ at a random point (relative error "
                           f"{cmp.max_rel_error:.3g})")
        _hint(stats, hints.refuted_hint(lambda new: _agree(le, re_, new, trials, seed), typing.vars))
        stats["seconds"] = round(time.perf_counter() - t0, 4)
        return VerifyResult(REFUTED, None, cmp.counterexample, stats)

    result = _prove_claim(le, re_, typing.vars, stats)
    if result.status == UNKNOWN:
        more = hints.prover_declarations([le, re_], typing.vars)
        if more and _prove_claim(le, re_, more, {}).status == PROVED:
            _hint(stats, f"it is proved when {hints.added_text(typing.vars, more)}")
    if result.status == UNKNOWN and not cmp.equal:
        stats["reason"] += f"; numeric check inconclusive ({cmp.details})"
    stats["seconds"] = round(time.perf_counter() - t0, 4)
    return result


def _agree(le: E.Expr, re_: E.Expr, decls, trials: int, seed: int) -> bool:
    c = numeric.compare(le, re_, decls, trials=trials, seed=seed)
    return c.counterexample is None and c.equal


def _hint(stats: dict, hint: str) -> None:
    """Which declaration would help (rewrite/hints.py), if any."""
    if hint:
        stats["hint"] = hint


def _unknown(stats: dict, reason: str) -> "VerifyResult":
    stats["reason"] = reason
    return VerifyResult(UNKNOWN, None, None, stats)


def _outside_the_egraph(*terms: E.Expr) -> list[str]:
    """The operators of `terms` the e-graph backend has no constructor for (vec, kron, K)."""
    from .egg.schema import CTOR

    return sorted({n.op for t in terms for _, n in t.walk() if n.op not in CTOR})


def _tidy_meet(le: E.Expr, re_: E.Expr, decls, wrt: str | None = None, facts=None) -> list | None:
    """The steps lhs -> rhs through the tidy normal form, if both sides tidy to one term: the
    steps of lhs -> t, then those of rhs -> t read backward (which the checker must accept).
    `facts`: assumptions the tidying may use."""
    from .directed.rewriter import OutOfBudget, Step
    from .pipeline import tidy

    try:
        lt, lsteps = tidy(le, wrt, decls, facts=facts)
        rt, rsteps = tidy(re_, wrt, decls, facts=facts)
    except (OutOfBudget, ShapeError):
        return None
    if lt != rt:
        return None
    back = {"forward": "backward", "backward": "forward"}
    return lsteps + [Step(s.rule, back[s.direction], s.path) for s in reversed(rsteps)]


def _prove_claim(le: E.Expr, re_: E.Expr, decls, stats: dict) -> VerifyResult:
    from .proof.model import EqualityClaim, make_proof

    outside = _outside_the_egraph(le, re_)
    if outside:   # the e-graph cannot hold these terms: only the directed normal form can meet
        steps, backwards = _tidy_meet(le, re_, decls), False
        stats["stages"] = [{"stage": "tidy both sides", "met": steps is not None}]
        why = (f"{', '.join(outside)} {'is' if len(outside) == 1 else 'are'} outside the e-graph "
               f"prover, and the two sides have different tidy normal forms")
    else:
        try:
            steps, backwards, pstats, why = prove_equal(le, re_, decls, either_way=True)
        except BaseException as err:
            if not is_engine_failure(err):
                raise
            return _unknown(stats, f"the e-graph engine failed: {err}")
        stats.update(pstats)
        if steps is None and (steps := _tidy_meet(le, re_, decls)) is not None:
            backwards = False   # the e-graph missed it, the directed normal forms meet
            stats["stages"] = stats.get("stages", []) + [{"stage": "tidy both sides", "met": True}]
    if steps is None:
        return _unknown(stats, why)
    # a proof runs from its claim's lhs to its rhs; stated the other way round when only that
    # way was found (e.g. it avoids reading a computing rule backward)
    first, last = (re_, le) if backwards else (le, re_)
    proof = make_proof(EqualityClaim(kind="equality", lhs=str(first), rhs=str(last)), decls, steps,
                       {"steps": len(steps), "stages": stats["stages"], "claim_reversed": backwards})
    ok, errors = _kernel_ok(proof)
    if not ok:   # a reconstruction bug: never hand out a proof the kernel rejects
        return _unknown(stats, f"the checker rejected the reconstructed proof: {errors}")
    where = stats["stages"][-1]["stage"] if stats["stages"] else "the sides are the same term"
    stats["reason"] = (f"proved in {len(steps)} rule steps ({where})"
                       + ("; the proof states the claim as rhs = lhs" if backwards else ""))
    stats["steps"] = len(steps)
    stats["claim_reversed"] = backwards
    return VerifyResult(PROVED, proof, None, stats)


# --- gradients -----------------------------------------------------------------------------------
def gradient_counterexample(f: E.Expr, wrt: str, claimed: E.Expr, decls, *, tries: int = 12,
                            seed: int = 0, tol: float = 1e-4) -> GradientCounterexample | None:
    """A random point (honouring the declarations) where `claimed` differs from finite
    differences of f by more than `tol` relative to the larger of 1 and the gradients' size."""
    joint = infer(E.Expr(E.ADD, (f, E.tr(E.mul(E.transpose(claimed), E.sym(wrt))))), decls)
    symmetric = bool(joint.vars[wrt].props & {"symmetric", "spd"})
    rng = np.random.default_rng(seed)
    for _ in range(tries):
        sizes = numeric.draw_sizes(joint, rng)
        env = numeric.random_env(joint, rng, sizes)
        try:
            fd = numeric.fd_gradient(f, wrt, env, sizes=sizes, symmetric=symmetric)
            gc = numeric.evaluate(claimed, env, sizes=sizes)
        except numeric.OutOfDomain:
            continue
        if gc.shape != fd.shape:
            continue
        if symmetric:
            gc = numeric.symmetrize(gc)
        diff = fd - gc
        scale = max(1.0, float(np.max(np.abs(fd))), float(np.max(np.abs(gc))))
        if float(np.max(np.abs(diff))) / scale > tol:
            note = ("lhs_value: central finite differences of f; rhs_value: the claimed gradient"
                    + ("; both as sym(G) = (G+G')/2, since the variable is symmetric" if symmetric else ""))
            return GradientCounterexample({k: numeric.as_lists(v) for k, v in env.items()},
                                          numeric.as_lists(fd), numeric.as_lists(gc),
                                          numeric.as_lists(diff), dict(sizes), {}, wrt, note)
    return None


def verify_gradient(f, wrt: str, claimed, vars: Mapping[str, object] | None = None, *,
                    trials: int = 3, seed: int = 0) -> VerifyResult:
    """Prove or refute ∂f/∂wrt = claimed.

    Refuted: the claim fails the finite-difference check (`numeric.check_gradient`), with a
    point where it differs.  Proved: the derivation's proof (d(f) = tr(Gd'*dX)) followed by the
    steps turning the derived Gd into the claimed G inside tr(G'*dX): one proof whose claim's
    gradient is the claimed one.
    """
    from .pipeline import prepare

    t0 = time.perf_counter()
    decls = normalize_decls(vars)
    fe, ce = _term(f, "function", decls), _term(claimed, "claimed gradient", decls)
    _no_differentials(ce, "claimed gradient")
    wrt = wrt if isinstance(wrt, str) else str(wrt)   # a SymPy symbol names the variable too
    fe, typing = prepare(fe, wrt, decls)
    extra = ce.symbols() - fe.symbols()
    if extra:
        raise InputError(f"the claimed gradient uses names that are not in f: {', '.join(sorted(extra))}")
    try:
        ctyping = infer(ce, typing.vars)
    except ShapeError as err:
        raise ShapeError(f"the claimed gradient {ce} does not type: {err}") from None
    want = typing.vars[wrt].shape
    got = ctyping.shape()
    try:
        infer(E.Expr(E.SUB, (ce, E.sym(wrt))), typing.vars)
    except ShapeError:
        raise ShapeError(f"the claimed gradient is {got}, but {wrt} is {want}: a gradient has "
                         f"the shape of its variable") from None
    stats: dict[str, Any] = {"f": str(fe), "wrt": wrt, "claimed": str(ce),
                             "vars": {n: str(d) for n, d in typing.vars.items()}}

    t1 = time.perf_counter()
    check = numeric.check_gradient(fe, wrt, ce, typing.vars, trials=trials, seed=seed)
    stats["numeric"] = {"ok": check.ok, "max_rel_error": check.max_rel_error, "points": check.points,
                        "seconds": round(time.perf_counter() - t1, 4), "details": check.details}
    conclusive = check.points >= trials
    if not check.ok and conclusive:
        cx = gradient_counterexample(fe, wrt, ce, typing.vars, seed=seed)
        stats["reason"] = (f"the claimed gradient fails the finite-difference check (relative error "
                           f"{check.max_rel_error:.3g})")
        _hint(stats, hints.refuted_hint(
            lambda new: numeric.check_gradient(fe, wrt, ce, new, trials=trials, seed=seed).ok,
            typing.vars, {wrt}))
        stats["seconds"] = round(time.perf_counter() - t0, 4)
        return VerifyResult(REFUTED, None, cx, stats)

    result = _prove_gradient(fe, wrt, ce, typing, stats)
    if result.status == UNKNOWN:
        more = hints.prover_declarations([fe, ce], typing.vars)
        if more and _prove_gradient(fe, wrt, ce, infer(fe, more), {}).status == PROVED:
            _hint(stats, f"it is proved when {hints.added_text(typing.vars, more)}")
    if result.status == UNKNOWN and not conclusive:
        stats["reason"] += f"; numeric check inconclusive ({check.details})"
    stats["seconds"] = round(time.perf_counter() - t0, 4)
    return result


def _prove_gradient(fe, wrt, ce, typing, stats) -> VerifyResult:
    from .pipeline import derive_expr

    try:
        d = derive_expr(fe, wrt, typing)   # f was prepared (parsed, typed) by the caller
        stats["derived"] = str(d.gradient)
        met = _tidy_meet(d.gradient, ce, d.vars, wrt, d.assumptions)
        if met is not None:   # the claim tidies to the derived gradient (with its facts)
            proof = _gradient_proof(d, wrt, ce, met, {"stages": [{"stage": "tidy the claim", "met": True}]})
            if _kernel_ok(proof)[0]:
                return _proved_gradient(d, proof, len(met), stats)
        steps, _, pstats, why = prove_equal(d.gradient, ce, d.vars)
    except UnknownResult as err:
        return _unknown(stats, f"no derivation: {err}")
    except BaseException as err:
        if not is_engine_failure(err):
            raise
        return _unknown(stats, f"the e-graph engine failed: {err}")
    stats.update(pstats)
    if steps is None:
        return _unknown(stats, f"the derived gradient {d.gradient} was not shown equal to the claim: {why}")
    proof = _gradient_proof(d, wrt, ce, steps, pstats)
    ok, errors = _kernel_ok(proof)
    if not ok:
        return _unknown(stats, f"the checker rejected the assembled proof: {errors}")
    return _proved_gradient(d, proof, len(steps), stats)


def _gradient_proof(d, wrt: str, ce: E.Expr, steps, pstats: dict):
    """The derivation's steps, then `steps` (derived G -> claimed G) acting on G inside tr(G'*dX)."""
    from .assumptions import fact_texts
    from .directed.rewriter import Step
    from .pipeline import canonical
    from .proof.model import GradientClaim, make_proof

    lifted = [Step(s.rule, s.direction, GRADIENT + tuple(s.path)) for s in steps]
    claim = GradientClaim(kind="gradient", f=str(d.f), wrt=wrt, gradient=str(ce),
                          differential=str(canonical(ce, wrt)), assumptions=fact_texts(d.assumptions))
    all_steps = d.steps + lifted
    return make_proof(claim, d.vars, all_steps,
                      {"steps": len(all_steps), "derivation_steps": len(d.steps),
                       "equality_steps": len(lifted), "derived": str(d.gradient), "stages": pstats["stages"]})


def _proved_gradient(d, proof, equality_steps: int, stats: dict) -> "VerifyResult":
    stats["steps"] = len(proof.steps)
    stats["reason"] = (f"derived {d.gradient}" + ("" if not equality_steps else f", shown equal to the claim in "
                                                  f"{equality_steps} steps") + f"; {len(proof.steps)} rule steps")
    return VerifyResult(PROVED, proof, None, stats)


__all__ = ["verify", "verify_gradient", "VerifyResult", "GradientCounterexample", "prove_equal",
           "gradient_counterexample", "PROVED", "REFUTED", "UNKNOWN"]
