"""What each kind of claim asserts: the chains of steps it needs (a start term and an end term
each) and the checks on its parts.  Part of the trusted checker.

| kind         | chain(s)                                          | the claim's parts must be         |
|--------------|---------------------------------------------------|-----------------------------------|
| equality     | lhs -> rhs                                        | of one shape                      |
| gradient     | d(f) -> tr(G'*dX)                                 | f scalar, G of X's shape          |
| differential | d(F) -> dF                                        | dX the only differential in dF    |
| jacobian     | vec(d(F)) -> J*vec(dX)                            | J free of differentials           |
| vjp          | d(tr(C'*F)) -> tr(V'*dX)                          | C of F's shape, V of X's          |
| hessian      | d(f) -> tr(G'*dX), then vec(d(G)) -> H*vec(dX)    | f scalar, G of X's shape          |
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import expr as E
from ..syntax import is_valid_symbol_name
from .model import (DifferentialClaim, EqualityClaim, GradientClaim, HessianClaim, JacobianClaim,
                    VJPClaim)


@dataclass
class Chain:
    start: E.Expr
    end: E.Expr
    steps: list
    what: str   # the end's name, for messages


def _has_d(t: E.Expr) -> bool:
    return any(n.op == E.DIFF for _, n in t.walk())


def trace_form(g: E.Expr, x: str) -> E.Expr:
    """tr(G'*dX)."""
    return E.tr(E.mul(E.transpose(g), E.diff(E.sym(x))))


def jacobian_form(j: E.Expr, x: str) -> E.Expr:
    """J*vec(dX)."""
    return E.mul(j, E.Expr("vec", (E.diff(E.sym(x)),)))


class ClaimReader:
    """Reads a proof's claim for the checker `c` (its term, typed, same_shape and error)."""

    def __init__(self, checker):
        self.c = checker

    def read(self, proof) -> tuple[list[Chain], str, str | None]:
        """(chains, a one-line statement, the variable of differentiation or None)."""
        claim = proof.claim
        if proof.second_steps and not isinstance(claim, HessianClaim):
            self.c.error("claim: only a hessian claim has second_steps")
        if isinstance(claim, EqualityClaim):
            return self.equality(claim, proof), f"{claim.lhs} = {claim.rhs}", None
        wrt = claim.wrt
        if not is_valid_symbol_name(wrt) or wrt not in self.c.decls:
            self.c.error(f"claim: wrt {wrt!r} is not a declared variable")
            return [], wrt, None
        reader = {GradientClaim: self.gradient, DifferentialClaim: self.differential,
                  JacobianClaim: self.jacobian, VJPClaim: self.vjp, HessianClaim: self.hessian}[type(claim)]
        chains, statement = reader(claim, proof)
        return chains, statement, wrt

    # --- helpers ------------------------------------------------------------------------------------
    def part(self, text: str, name: str, d_free: bool = True) -> E.Expr | None:
        t = self.c.term(text, f"claim {name}")
        if t is not None and d_free and _has_d(t):
            self.c.error(f"claim: {name} contains a differential")
        return t

    def scalar(self, f: E.Expr | None, name: str) -> None:
        if f is not None and (tf := self.c.typed(f, f"claim {name}")) is not None and not tf.is_scalar:
            self.c.error(f"claim: {name} has shape {tf.shape}, not scalar")

    def shaped_like(self, t: E.Expr | None, like: E.Expr, name: str, of: str) -> E.Expr | None:
        if t is not None and (why := self.c.same_shape(t, like)):
            self.c.error(f"claim: the {name} does not have the shape of {of}: {why}")
            return None
        return t

    @staticmethod
    def chain(start, end, steps, what) -> list[Chain]:
        return [Chain(start, end, steps, what)] if start is not None and end is not None else []

    # --- the kinds --------------------------------------------------------------------------------------
    def equality(self, c: EqualityClaim, proof) -> list[Chain]:
        lhs, rhs = self.part(c.lhs, "lhs", False), self.part(c.rhs, "rhs", False)
        if lhs is not None and rhs is not None and (why := self.c.same_shape(lhs, rhs)):
            self.c.error(f"claim: lhs and rhs do not have one shape: {why}")
        return self.chain(lhs, rhs, proof.steps, "rhs")

    def gradient(self, c: GradientClaim, proof):
        x = E.sym(c.wrt)
        f, g = self.part(c.f, "f"), self.part(c.gradient, "gradient")
        diff = self.part(c.differential, "differential", False)
        self.scalar(f, "f")
        g = self.shaped_like(g, x, "gradient", f"{c.wrt} ({self.c.decls[c.wrt].shape})")
        if g is not None and diff is not None and diff != trace_form(g, c.wrt):
            self.c.error(f"claim: the differential {diff} is not tr(G'*d{c.wrt}) for the gradient G = {g}")
        start = E.diff(f) if f is not None else None
        return self.chain(start, diff, proof.steps, "differential"), f"∂({c.f})/∂{c.wrt} = {c.gradient}"

    def differential(self, c: DifferentialClaim, proof):
        F = self.part(c.F, "F")
        diff = self.part(c.differential, "differential", False)
        if diff is not None and any(n.op == E.DIFF and n.args[0] != E.sym(c.wrt) for _, n in diff.walk()):
            self.c.error(f"claim: the differential has a differential other than d{c.wrt}")
        start = E.diff(F) if F is not None else None
        return self.chain(start, diff, proof.steps, "differential"), f"d({c.F}) = {c.differential}"

    def jacobian(self, c: JacobianClaim, proof):
        F, J = self.part(c.F, "F"), self.part(c.jacobian, "jacobian")
        start = E.Expr("vec", (E.diff(F),)) if F is not None else None
        end = jacobian_form(J, c.wrt) if J is not None else None
        return (self.chain(start, end, proof.steps, "Jacobian form J*vec(d" + c.wrt + ")"),
                f"vec(d({c.F})) = ({c.jacobian})*vec(d{c.wrt})")

    def vjp(self, c: VJPClaim, proof):
        F, v = self.part(c.F, "F"), self.part(c.vjp, "vjp")
        diff = self.part(c.differential, "differential", False)
        if not is_valid_symbol_name(c.cotangent) or c.cotangent not in self.c.decls:
            self.c.error(f"claim: the cotangent {c.cotangent!r} is not a declared variable")
            return [], c.F
        cot = E.sym(c.cotangent)
        if F is not None and c.cotangent in F.symbols():
            self.c.error(f"claim: the cotangent {c.cotangent} occurs in F")
        if F is not None:
            self.shaped_like(cot, F, "cotangent", "F")
        v = self.shaped_like(v, E.sym(c.wrt), "vjp", c.wrt)
        if v is not None and diff is not None and diff != trace_form(v, c.wrt):
            self.c.error(f"claim: the differential {diff} is not tr(V'*d{c.wrt}) for the vjp V = {v}")
        start = E.diff(E.tr(E.mul(E.transpose(cot), F))) if F is not None else None
        return (self.chain(start, diff, proof.steps, "differential"),
                f"vjp of {c.F} by {c.wrt} with {c.cotangent} = {c.vjp}")

    def hessian(self, c: HessianClaim, proof):
        x = E.sym(c.wrt)
        f, g, H = self.part(c.f, "f"), self.part(c.gradient, "gradient"), self.part(c.hessian, "hessian")
        self.scalar(f, "f")
        g = self.shaped_like(g, x, "gradient", c.wrt)
        chains = self.chain(E.diff(f) if f is not None else None,
                            trace_form(g, c.wrt) if g is not None else None, proof.steps, "gradient form")
        chains += self.chain(E.Expr("vec", (E.diff(g),)) if g is not None else None,
                             jacobian_form(H, c.wrt) if H is not None else None, proof.second_steps,
                             "Hessian form H*vec(d" + c.wrt + ")")
        return chains, f"∂²({c.f})/∂{c.wrt}² = {c.hessian}"
