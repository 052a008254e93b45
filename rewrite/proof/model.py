"""The proof format `rewrite-proof/2`: pydantic models, `make_proof`, and its JSON Schema.

A proof is self-contained: the claim, the variable declarations, the text of every rule it uses
and the steps.  A step names a rule, the direction it is read in, and the path of the subterm it
rewrites; nothing else, because the rest follows: the first term is the claim's start, matching
the rule's side at the path fixes its variables, and each step's result is the next step's
start.  (Format 1 also stated each step's substitution and whole terms before and after; that
made proofs and their checking grow with the square of the derivation's size.)  Terms in the
claim are strings in the input syntax (`printer.to_text`); `render` shows every intermediate
term by replaying the steps.

`python -m rewrite.proof.model` rewrites the published schema file
(proofs/schema/rewrite-proof-2.schema.json); a test keeps the two in step.
"""
from __future__ import annotations

import json
from pathlib import Path as FsPath
from typing import Annotated, Any, Iterable, Literal, Mapping, Protocol, Union

from pydantic import BaseModel, ConfigDict, Field

from ..printer import to_text
from ..rules import Rule, library
from ..shapes import Decl, normalize_decls

FORMAT = "rewrite-proof/2"
SCHEMA_PATH = FsPath(__file__).resolve().parent.parent.parent / "proofs" / "schema" / "rewrite-proof-2.schema.json"


class _Strict(BaseModel):
    # Unknown keys are refused: a checker should not silently skip what it does not understand.
    # "if" is a Python keyword: the field is `if_`, written "if" in every dump (serialize_by_alias).
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


ASSUMPTIONS_DOC = ('facts the claim holds under, each used by some step: nonzero(A), positive(A) (every '
                   'entry), invertible(A), nonnull(A) (A is not 0), e.g. "nonzero(det(X))"')


class RuleText(_Strict):
    """A rule as the proof states it: both sides and its conditions, in the input syntax."""
    lhs: str
    rhs: str
    if_: list[str] = Field(default_factory=list, alias="if",
                           description='side conditions, e.g. "symmetric(A)"')
    oriented: bool = Field(False, description='a "=>" rule: the engine runs it forward only; a proof may read '
                                          'it backward unless its right side computes eval(...)')


class Step(_Strict):
    """The term so far, with `rule` applied (read `direction`) to its subterm at `path` (child
    indices from the root)."""
    rule: str
    direction: Literal["forward", "backward"]
    path: list[Annotated[int, Field(ge=0)]]


class GradientClaim(_Strict):
    """d(f) = differential = tr(gradient' * d(wrt)), so gradient = ∂f/∂wrt."""
    kind: Literal["gradient"]
    f: str
    wrt: str
    gradient: str
    differential: str
    assumptions: list[str] = Field(default_factory=list, description=ASSUMPTIONS_DOC)


class EqualityClaim(_Strict):
    """lhs = rhs for every value of the variables (of the declared shapes)."""
    kind: Literal["equality"]
    lhs: str
    rhs: str
    assumptions: list[str] = Field(default_factory=list, description=ASSUMPTIONS_DOC)


class DifferentialClaim(_Strict):
    """d(F) = differential, a term in which d(wrt) is the only differential (the Fréchet
    derivative of F at X applied to dX)."""
    kind: Literal["differential"]
    F: str
    wrt: str
    differential: str
    assumptions: list[str] = Field(default_factory=list, description=ASSUMPTIONS_DOC)


class JacobianClaim(_Strict):
    """vec(d(F)) = jacobian * vec(d(wrt)): the Jacobian of vec(F) by vec(wrt)."""
    kind: Literal["jacobian"]
    F: str
    wrt: str
    jacobian: str
    assumptions: list[str] = Field(default_factory=list, description=ASSUMPTIONS_DOC)


class VJPClaim(_Strict):
    """d(tr(cotangent'*F)) = tr(vjp'*d(wrt)): vjp is the vector-Jacobian product of the cotangent
    (a variable of F's shape) with the derivative of F by wrt."""
    kind: Literal["vjp"]
    F: str
    wrt: str
    cotangent: str
    vjp: str
    differential: str
    assumptions: list[str] = Field(default_factory=list, description=ASSUMPTIONS_DOC)


class HessianClaim(_Strict):
    """d(f) = tr(gradient'*d(wrt)) (the proof's `steps`) and vec(d(gradient)) = hessian*vec(d(wrt))
    (its `second_steps`): the Hessian of f in the vec layout."""
    kind: Literal["hessian"]
    f: str
    wrt: str
    gradient: str
    hessian: str
    assumptions: list[str] = Field(default_factory=list, description=ASSUMPTIONS_DOC)


Claim = Annotated[Union[GradientClaim, EqualityClaim, DifferentialClaim, JacobianClaim, VJPClaim,
                        HessianClaim], Field(discriminator="kind")]
ClaimModel = Union[GradientClaim, EqualityClaim, DifferentialClaim, JacobianClaim, VJPClaim, HessianClaim]


class Proof(_Strict):
    format: Literal["rewrite-proof/2"]
    claim: Claim
    vars: dict[str, str] = Field(description='name -> declaration body, e.g. "n x n, spd"')
    rules: dict[str, RuleText]
    steps: list[Step]
    second_steps: list[Step] = Field(default_factory=list,
                                     description="a Hessian's second chain, vec(d(gradient)) to hessian*vec(d(wrt))")
    stats: dict[str, Any] = Field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        skip = None if self.second_steps else {"second_steps"}   # only a Hessian has two chains
        return self.model_dump(mode="json", by_alias=True, exclude=skip)

    def to_json(self, indent: int | None = 1) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> "Proof":
        return cls.model_validate_json(text)

    def _repr_latex_(self) -> str:
        from ..notebook import proof_latex

        return proof_latex(self)

    def _repr_markdown_(self) -> str:
        from .render import to_markdown

        return to_markdown(self)

    def __repr__(self) -> str:
        c = self.claim
        what = {"gradient": "gradient", "equality": "equality"}.get(c.kind, c.kind)
        answer = getattr(c, "gradient", None) if c.kind == "gradient" else None
        text = f"{c.lhs} = {c.rhs}" if c.kind == "equality" else f"of {getattr(c, 'f', getattr(c, 'F', ''))}"
        if answer:
            text += f": {answer}"
        if len(text) > 100:
            text = text[:99] + "…"
        return f"<Proof ({what}) {text}, {len(self.steps) + len(self.second_steps)} steps>"


# --- building a proof from the engine's steps --------------------------------------------------
class StepLike(Protocol):
    rule: str
    direction: str
    path: tuple[int, ...]


def rule_text(rule: Rule) -> RuleText:
    return RuleText(lhs=to_text(rule.lhs), rhs=to_text(rule.rhs), if_=[str(c) for c in rule.conditions],
                    oriented=rule.forward_only)


def make_proof(claim: ClaimModel, vars: Mapping[str, Decl | str], steps: Iterable[StepLike],
               stats: Mapping[str, Any] | None = None, rules: Mapping[str, Rule] | None = None,
               second_steps: Iterable[StepLike] = ()) -> Proof:
    """A Proof embedding exactly the rules (from `rules`, default the library) the steps use."""
    rules = library() if rules is None else rules
    decls = normalize_decls(vars)
    used: dict[str, RuleText] = {}

    def out(chain) -> list[Step]:
        made = []
        for s in chain:
            if s.rule not in used:
                used[s.rule] = rule_text(rules[s.rule])
            made.append(Step.model_construct(rule=s.rule, direction=s.direction, path=list(s.path)))
        return made
    first, second = out(steps), out(second_steps)
    return Proof(format=FORMAT, claim=claim, vars={n: str(d) for n, d in decls.items()}, rules=used,
                 steps=first, second_steps=second, stats=dict(stats or {}))


# --- the published JSON Schema ----------------------------------------------------------------
def json_schema() -> dict[str, Any]:
    schema = Proof.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": FORMAT,
            **{k: v for k, v in schema.items() if k != "title"}}


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def write_schema(path: FsPath = SCHEMA_PATH) -> FsPath:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(schema_text(), encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"wrote {write_schema()}")
