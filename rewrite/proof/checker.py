"""The proof checker: replays a `rewrite-proof/2` proof with the kernel (`kernel.py`).

It trusts only the rule library (`rules/*.rules`), the parser, the kernel's typing and the side
conditions; nothing of the engine, extraction or reconstruction (de Bruijn's criterion: whatever
produced the proof, this module alone decides whether it is valid).  It checks that each embedded
rule is the library's rule of that name, parses and types the claim, then applies the steps one
after another to the claim's start term (each must be a valid rule application where it says)
and compares the result with the claim's end term.

Every symbol must be declared in the proof's `vars`, so all terms are typed alike: the shapes a
condition reads cannot differ from one step to the next.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from pydantic import ValidationError

from .. import expr as E
from ..assumptions import Assumptions, fact_text, parse_fact
from ..errors import InputError
from ..printer import to_text
from ..rules import EVAL, Rule, library, parse_condition
from ..shapes import Decl, normalize_decls
from ..syntax import parse
from .kernel import Cursor, StepError, Term, reading_differs, typed
from .claims import Chain, ClaimReader
from .model import FORMAT, Proof

MAX_ERRORS = 50


@dataclass
class CheckReport:
    ok: bool
    errors: list[str] = field(default_factory=list)
    steps: int = 0
    claim: str = ""

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        if self.ok:
            return f"valid: {self.claim} ({self.steps} steps)"
        head = f"invalid: {len(self.errors)} error{'s' if len(self.errors) != 1 else ''}"
        return "\n  ".join([head] + self.errors)


def _label(i: int, step) -> str:
    return f"step {i} ({step.rule} {step.direction} at {list(step.path)})"


def _short(e: E.Expr | str, limit: int = 160) -> str:
    s = e if isinstance(e, str) else to_text(e)
    return s if len(s) <= limit else s[: limit - 1] + "…"


class _Checker:
    def __init__(self, proof: Proof, rules: Mapping[str, Rule]):
        self.proof = proof
        self.library = rules
        self.errors: list[str] = []
        self.decls: dict[str, Decl] = {}
        self.wrt: str | None = None
        self.assumed = Assumptions()   # the claim's facts; the steps may use them, not add to them

    def error(self, message: str) -> None:
        self.errors.append(message)

    # --- terms --------------------------------------------------------------------------
    def term(self, text: str, where: str) -> E.Expr | None:
        """The parsed term, every symbol declared; None (and an error) otherwise."""
        try:
            t = parse(text)
        except InputError as err:
            self.error(f"{where}: cannot parse {_short(text)!r}: {err}")
            return None
        undeclared = sorted(t.symbols() - set(self.decls))
        if undeclared:
            self.error(f"{where}: {', '.join(undeclared)} not declared in vars")
            return None
        return t

    def typed(self, t: E.Expr, where: str) -> Term | None:
        try:
            return typed(t, self.decls)
        except InputError as err:
            self.error(f"{where}: ill-typed under the declared shapes: {err}")
            return None

    def same_shape(self, a: E.Expr, b: E.Expr) -> str | None:
        """None if a and b have one shape (a - b is well-typed; declared dims are rigid), else why."""
        try:
            typed(E.sub(a, b), self.decls)
            return None
        except InputError as err:
            return str(err)

    # --- the parts of a proof -----------------------------------------------------------
    def check_vars(self) -> None:
        for name, body in self.proof.vars.items():
            try:
                self.decls.update(normalize_decls({name: body}))
            except InputError as err:
                self.error(f"vars: {err}")

    def check_rules(self) -> dict[str, Rule]:
        """The embedded rules that are exactly library rules, by name."""
        good: dict[str, Rule] = {}
        for name, text in self.proof.rules.items():
            lib = self.library.get(name)
            if lib is None:
                self.error(f"rule {name!r}: not a rule of the library")
                continue
            try:
                lhs, rhs = parse(text.lhs, frozenset({EVAL})), parse(text.rhs, frozenset({EVAL}))
            except InputError as err:
                self.error(f"rule {name!r}: cannot parse a side: {err}")
                continue
            conds = [parse_condition(c) for c in text.if_]
            stated = set(conds)
            problems = []
            if (lhs, rhs) != (lib.lhs, lib.rhs):
                problems.append(f"states {_short(lhs)} = {_short(rhs)}, the library {lib.lhs} = {lib.rhs}")
            if not all(conds) or stated != set(lib.conditions):
                problems.append(f"states conditions [{', '.join(text.if_)}], the library "
                                f"[{', '.join(map(str, lib.conditions))}]")
            if text.oriented != lib.forward_only:
                problems.append(f"states oriented={text.oriented}, the library {lib.forward_only}")
            if problems:
                self.error(f"rule {name!r} differs from the library's: " + "; ".join(problems))
            else:
                good[name] = lib
        return good

    def replay(self, start: Term, rules: dict[str, Rule], steps, each=None) -> Term | None:
        """The term after every step, or None at the first step that is not valid (an error
        names it: a later step cannot be judged once the term it applies to is unknown).
        `each(term)` is called with the whole term after every step (for renderers)."""
        cursor = Cursor(start)
        for i, step in enumerate(steps, 1):
            where = _label(i, step)
            rule = rules.get(step.rule)
            if rule is None:
                if step.rule not in self.proof.rules:
                    self.error(f"{where}: rule {step.rule!r} is not embedded in the proof")
                elif step.rule in self.library:
                    self.error(f"{where}: its embedded rule differs from the library's")
                else:
                    self.error(f"{where}: rule {step.rule!r} is not a library rule")
                return None
            try:
                cursor.apply(rule, step.direction, step.path, self.decls, self.wrt, self.assumed)
            except StepError as err:
                self.error(f"{where}: {err}")
                return None
            if each is not None:
                each(cursor.root())
        return cursor.root()

    def check_assumptions(self) -> None:
        """The claim's facts, each a parsed, typed term of an assumable predicate."""
        facts = {}
        for text in self.proof.claim.assumptions:
            try:
                pred, e = parse_fact(text)
            except (ValueError, InputError) as err:
                self.error(f"claim: assumption {text!r}: {err}")
                continue
            t = self.term(str(e), f"claim: assumption {text!r}")
            t = self.typed(t, f"claim: assumption {text!r}") if t is not None else None
            if t is not None:
                facts[(pred, e)] = t
        self.assumed = Assumptions(facts)

    def run(self) -> CheckReport:
        self.check_vars()
        rules = self.check_rules()
        self.check_assumptions()
        chains, statement, self.wrt = ClaimReader(self).read(self.proof)
        for chain in chains:
            self.check_chain(chain, rules)
        if not self.errors:   # a claim states only what its steps need
            for fact in self.assumed.facts:
                if fact not in self.assumed.used:
                    self.error(f"claim: the assumption {fact_text(fact)} is used by no step")
        if self.assumed.facts:
            statement += ", assuming " + ", ".join(fact_text(f) for f in self.assumed.facts)
        errors = self.errors
        if len(errors) > MAX_ERRORS:
            errors = errors[:MAX_ERRORS] + [f"... and {len(errors) - MAX_ERRORS} more errors"]
        steps = len(self.proof.steps) + len(self.proof.second_steps)
        return CheckReport(not errors, errors, steps, statement)

    def check_chain(self, chain: Chain, rules: dict[str, Rule]) -> None:
        """The steps lead from the chain's start to its end, which reads as the claim says."""
        start = self.typed(chain.start, "the claim's start")
        if start is None:
            return
        last = self.replay(start, rules, chain.steps)
        if last is None:
            return
        if last.expr != chain.end:
            n = len(chain.steps)
            where = f"after step {n}" if n else "with no steps"
            self.error(f"{where} the term is {_short(last.expr)}, not the claim's {chain.what}, "
                       f"{_short(chain.end)}")
        elif why := reading_differs(last, self.decls):
            # the proof reached the claim's text, but with sizes the text does not say
            self.error(f"the claim's {chain.what} as written does not mean what the steps reached: {why}")


def _load(proof: Proof | Mapping[str, Any] | str | bytes) -> tuple[Proof | None, list[str]]:
    """The validated model, or None and the reasons it is not a rewrite-proof/2 document."""
    if isinstance(proof, (str, bytes)):
        try:
            proof = json.loads(proof)
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            return None, [f"not JSON: {err}"]
    if isinstance(proof, Proof):  # re-validate: fields may have been assigned after construction
        proof = proof.model_dump(mode="json", by_alias=True)
    if not isinstance(proof, Mapping):
        return None, [f"a proof is a JSON object, not {type(proof).__name__}"]
    if proof.get("format") != FORMAT:
        old = " (the format of earlier versions, with whole terms in every step: derive the " \
              "proof again)" if proof.get("format") == "rewrite-proof/1" else ""
        return None, [f"format is {proof.get('format')!r}, expected {FORMAT!r}{old}"]
    try:
        return Proof.model_validate(dict(proof)), []
    except ValidationError as err:
        return None, [f"{'.'.join(map(str, e['loc'])) or 'proof'}: {e['msg']}" for e in err.errors()]


def chain_terms(proof: Proof | Mapping[str, Any] | str | bytes) -> list[list[E.Expr]]:
    """For each chain of the claim (one, or two for a Hessian), its start term and the term after
    every step, by replaying a valid proof (for renderers).  Raises InputError if the proof does
    not check."""
    model, problems = _load(proof)
    if model is None:
        raise InputError("not a proof: " + "; ".join(problems[:3]))
    checker = _Checker(model, library())
    report = checker.run()
    if not report.ok:
        raise InputError("the proof does not check: " + "; ".join(report.errors[:3]))
    rules = checker.check_rules()
    out = []
    for chain in ClaimReader(checker).read(model)[0]:
        seen = [chain.start]
        checker.replay(checker.typed(chain.start, "start"), rules, chain.steps, lambda t: seen.append(t.expr))
        out.append(seen)
    return out


def terms(proof: Proof | Mapping[str, Any] | str | bytes) -> list[E.Expr]:
    """The start term and the term after every step of the proof's (first) chain."""
    return chain_terms(proof)[0]


def check(proof: Proof | Mapping[str, Any] | str | bytes, rules: Mapping[str, Rule] | None = None) -> CheckReport:
    """Replay `proof` (a Proof, its dict, or JSON text) against the rule library."""
    model, problems = _load(proof)
    if model is None:
        return CheckReport(False, problems)
    return _Checker(model, library() if rules is None else rules).run()


__all__ = ["check", "terms", "chain_terms", "CheckReport"]
