"""The proof checker: the trusted kernel that replays a `rewrite-proof/1` proof.

It trusts only the rule library (`rules/*.rules`), the parser, shape inference and the side
conditions; nothing of the engine, extraction or reconstruction (de Bruijn's criterion: whatever
produced the proof, this small module alone decides whether it is valid).  For each step it
re-parses the terms, matches the library rule's side at the step's path with exactly the step's
substitution, checks the side conditions, rebuilds the rewritten term and compares it with the
stated one; then it checks that the steps chain and run from the claim's start to its end.

Every symbol must be declared in the proof's `vars`, so all terms are typed alike: the shapes a
condition reads cannot differ from one step to the next.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from pydantic import ValidationError

from .. import expr as E
from ..conditions import holds
from ..errors import InputError
from ..printer import to_text
from ..rules import EVAL, Rule, instantiate, library, match, occurrences
from ..shapes import SCALAR, Decl, Typing, infer, normalize_decls
from ..syntax import is_valid_symbol_name, parse
from .model import FORMAT, EqualityClaim, GradientClaim, Proof

MAX_ERRORS = 50
_COND = re.compile(r"^\s*([a-z0-9]+)\s*\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$")


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
        self.typings: dict[E.Expr, Typing] = {}  # consecutive steps share a term

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

    def typing(self, t: E.Expr, where: str) -> Typing | None:
        if t not in self.typings:
            try:
                self.typings[t] = infer(t, self.decls)
            except InputError as err:
                self.error(f"{where}: ill-typed under the declared shapes: {err}")
                return None
        return self.typings[t]

    def same_shape(self, a: E.Expr, b: E.Expr) -> str | None:
        """None if a and b have one shape (a - b is well-typed; declared dims are rigid), else why."""
        try:
            infer(E.sub(a, b), self.decls)
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
            conds = [_COND.match(c) for c in text.if_]
            stated = {(m[1], m[2]) for m in conds if m}
            problems = []
            if (lhs, rhs) != (lib.lhs, lib.rhs):
                problems.append(f"states {_short(lhs)} = {_short(rhs)}, the library {lib.lhs} = {lib.rhs}")
            if not all(conds) or stated != {(c.pred, c.var) for c in lib.conditions}:
                problems.append(f"states conditions [{', '.join(text.if_)}], the library "
                                f"[{', '.join(map(str, lib.conditions))}]")
            if text.oriented != lib.forward_only:
                problems.append(f"states oriented={text.oriented}, the library {lib.forward_only}")
            if problems:
                self.error(f"rule {name!r} differs from the library's: " + "; ".join(problems))
            else:
                good[name] = lib
        return good

    def check_claim(self) -> tuple[E.Expr | None, E.Expr | None, str]:
        """(start term, end term, a one-line statement) of the claim."""
        c = self.proof.claim
        if isinstance(c, EqualityClaim):
            lhs, rhs = self.term(c.lhs, "claim lhs"), self.term(c.rhs, "claim rhs")
            if lhs is not None and rhs is not None and (why := self.same_shape(lhs, rhs)):
                self.error(f"claim: lhs and rhs do not have one shape: {why}")
            return lhs, rhs, f"{c.lhs} = {c.rhs}"
        assert isinstance(c, GradientClaim)
        statement = f"∂({c.f})/∂{c.wrt} = {c.gradient}"
        if not is_valid_symbol_name(c.wrt) or c.wrt not in self.decls:
            self.error(f"claim: wrt {c.wrt!r} is not a declared variable")
            return None, None, statement
        self.wrt = c.wrt
        f, g = self.term(c.f, "claim f"), self.term(c.gradient, "claim gradient")
        diff = self.term(c.differential, "claim differential")
        x = E.sym(c.wrt)
        for name, t in (("f", f), ("gradient", g)):
            if t is not None and any(n.op == E.DIFF for _, n in t.walk()):
                self.error(f"claim: {name} contains a differential")
        if f is not None and (tf := self.typing(f, "claim f")) is not None and tf.shape() != SCALAR:
            self.error(f"claim: f has shape {tf.shape()}, not scalar")
        if g is not None and (why := self.same_shape(g, x)):
            self.error(f"claim: the gradient does not have the shape of {c.wrt} "
                       f"({self.decls[c.wrt].shape}): {why}")
            g = None
        if g is not None and diff is not None and diff != E.tr(E.mul(E.transpose(g), E.diff(x))):
            self.error(f"claim: the differential {_short(diff)} is not tr(G'*d{c.wrt}) for the "
                       f"gradient G = {_short(g)}")
        return (E.diff(f) if f is not None else None), diff, statement

    def check_step(self, i: int, step, rules: dict[str, Rule]) -> tuple[E.Expr | None, E.Expr | None]:
        """(before, after) of the step as parsed (None where unreadable); errors recorded."""
        where = _label(i, step)
        before = self.term(step.before, f"{where}: before")
        after = self.term(step.after, f"{where}: after")
        rule = rules.get(step.rule)
        if rule is None:
            if step.rule not in self.proof.rules:
                self.error(f"{where}: rule {step.rule!r} is not embedded in the proof")
            elif step.rule in self.library:
                self.error(f"{where}: its embedded rule differs from the library's")
            else:
                self.error(f"{where}: rule {step.rule!r} is not a library rule")
            return before, after
        # "=>" only tells the engine which way to run a rule; it is still an equation, except
        # that a side computing eval(...) can only be built, never matched
        if step.direction == "backward" and any(n.op == EVAL for _, n in rule.rhs.walk()):
            self.error(f"{where}: the rule computes its right side (eval) and cannot be applied backward")
            return before, after
        subst: dict[str, E.Expr] = {}
        for name, text in step.subst.items():
            t = self.term(text, f"{where}: subst {name}")
            if t is None:
                return before, after
            subst[name] = t
        if before is None or after is None:
            return before, after
        path = tuple(step.path)
        try:
            site = before.at(path)
        except IndexError:
            self.error(f"{where}: before has no subterm at path {list(path)}")
            return before, after
        pattern, build = rule.sides(step.direction)
        missing, extra = sorted(rule.variables - set(subst)), sorted(set(subst) - rule.variables)
        if missing or extra:
            self.error(f"{where}: subst must bind exactly {', '.join(sorted(rule.variables))}"
                       + (f"; missing {', '.join(missing)}" if missing else "")
                       + (f"; unknown {', '.join(extra)}" if extra else ""))
            return before, after
        if match(pattern, site) is None:
            self.error(f"{where}: the rule side {pattern} does not match {_short(site)}")
            return before, after
        if instantiate(pattern, subst) != site:
            self.error(f"{where}: the rule side {pattern} under subst is not {_short(site)} "
                       f"(the substitution does not fit)")
            return before, after
        try:
            new = instantiate(build, subst)
        except (ArithmeticError, ValueError) as err:
            self.error(f"{where}: cannot compute the rewritten subterm: {err}")
            return before, after
        expected = before.replace(path, new)
        if expected != after:
            self.error(f"{where}: after does not match: rewriting gives {_short(expected)}, "
                       f"the step states {_short(after)}")
            return before, after
        t_before, t_after = self.typing(before, f"{where}: before"), self.typing(after, f"{where}: after")
        if t_before is None or t_after is None:
            return before, after
        # conditions are decided on the lhs instance, in the whole term that contains it
        lhs_typing = t_before if step.direction == "forward" else t_after
        first = occurrences(rule.lhs)
        for cond in rule.conditions:
            shape = lhs_typing.shapes[path + first[cond.var]]
            if not holds(cond.pred, subst[cond.var], shape, self.decls, self.wrt):
                self.error(f"{where}: condition {cond} does not hold for {cond.var} = "
                           f"{_short(subst[cond.var])} (shape {shape})")
        return before, after

    def run(self) -> CheckReport:
        self.check_vars()
        rules = self.check_rules()
        start, end, statement = self.check_claim()
        steps = self.proof.steps
        previous = start
        for i, step in enumerate(steps, 1):
            before, after = self.check_step(i, step, rules)
            if before is not None and previous is not None and before != previous:
                what = ("the claim's start " + ("d(f)" if self.wrt else "lhs")) if i == 1 \
                    else f"the after of step {i - 1}"
                self.error(f"{_label(i, step)}: before {_short(before)} is not {what}, {_short(previous)}")
            previous = after
        if not steps and start is not None and end is not None and start != end:
            self.error("no steps, but the claim's start and end differ")
        elif steps and previous is not None and end is not None and previous != end:
            what = "differential" if self.wrt else "rhs"
            self.error(f"{_label(len(steps), steps[-1])}: after {_short(previous)} is not the claim's "
                       f"{what}, {_short(end)}")
        errors = self.errors
        if len(errors) > MAX_ERRORS:
            errors = errors[:MAX_ERRORS] + [f"... and {len(errors) - MAX_ERRORS} more errors"]
        return CheckReport(not errors, errors, len(steps), statement)


def _load(proof: Proof | Mapping[str, Any] | str | bytes) -> tuple[Proof | None, list[str]]:
    """The validated model, or None and the reasons it is not a rewrite-proof/1 document."""
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
        return None, [f"format is {proof.get('format')!r}, expected {FORMAT!r}"]
    try:
        return Proof.model_validate(dict(proof)), []
    except ValidationError as err:
        return None, [f"{'.'.join(map(str, e['loc'])) or 'proof'}: {e['msg']}" for e in err.errors()]


def check(proof: Proof | Mapping[str, Any] | str | bytes, rules: Mapping[str, Rule] | None = None) -> CheckReport:
    """Replay `proof` (a Proof, its dict, or JSON text) against the rule library."""
    model, problems = _load(proof)
    if model is None:
        return CheckReport(False, problems)
    return _Checker(model, library() if rules is None else rules).run()


__all__ = ["check", "CheckReport"]
