"""Derivatives beyond the gradient, each a chain of kernel steps (so each has a proof):

- the differential dF of a matrix function F, a sum of terms each linear in dX (Fréchet
  derivative: X'*dX + dX'*X for X'*X);
- the Jacobian J with vec(dF) = J*vec(dX) (`kron(I(n), X') + kron(X', I(n))*K(m, n)` for X'*X);
- the vector-Jacobian product of a cotangent C with F: the gradient of tr(C'*F) (backpropagation);
- the Hessian of a scalar f: the Jacobian of its gradient (x'*A*x: A + A'), in the vec layout
  for a matrix variable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from . import expr as E
from .assumptions import fact_texts
from .directed import jacobian as J
from .directed.differentiate import differentiate
from .directed.rewriter import Budget, Step
from .errors import InputError, UnknownResult
from .directed.tidy import tidy as tidy_at
from .pipeline import Derivation, derive_expr, prepare, run_chain
from .proof.claims import jacobian_form
from .shapes import Decl, Typing, infer, normalize_decls
from .syntax import is_valid_symbol_name

JACOBIAN = (0,)   # where J sits in J*vec(dX)


@dataclass
class ChainResult:
    """A term reached from a start by `steps`, with statistics per stage."""
    term: E.Expr
    steps: list[Step]
    stages: list[dict[str, Any]] = field(default_factory=list)
    assumptions: dict = field(default_factory=dict)   # fact -> typed term (assumptions.py)


def differential(expr: E.Expr, wrt: str, typing: Typing, budget: Budget | None = None) -> ChainResult:
    """d(F) -> dF, a sum of terms each linear in d(wrt)."""
    work = [("differentiate", differentiate), ("expand", J.expand)]
    rw, records = run_chain(E.diff(expr), typing.vars, wrt, work, _tidy_summands, budget)
    return ChainResult(rw.term.expr, rw.steps, records, dict(rw.assumed.facts))


def jacobian(expr: E.Expr, wrt: str, typing: Typing, budget: Budget | None = None) -> ChainResult:
    """vec(d(F)) -> J*vec(d(wrt)); `term` is J."""
    work = [("differentiate", lambda rw: differentiate(rw, (0,))),
            ("jacobian", lambda rw: (J.wrap(rw), J.peel(rw))), ("collect", J.collect)]
    rw, records = run_chain(E.Expr("vec", (E.diff(expr),)), typing.vars, wrt, work, JACOBIAN, budget)
    jac = rw.term.at(JACOBIAN).expr
    if rw.term.expr != jacobian_form(jac, wrt):   # the stages end there by construction
        raise UnknownResult(f"the derivation ended at {rw.term.expr}, not at J*vec(d{wrt})", "jacobian")
    return ChainResult(jac, rw.steps, records, dict(rw.assumed.facts))


def _tidy_summands(rw) -> None:
    """Tidy each term of the expanded sum by itself: tidying the whole would factor the sum
    back together (-(A*dX + dX'*B)*C) and lose the one-dX-per-term form."""
    def leaves(path):
        t = rw.at(path)
        if t.expr.op in (E.ADD, E.SUB):
            return leaves(path + (0,)) + leaves(path + (1,))
        return [path]
    for path in reversed(leaves(())):   # tidying a term leaves the paths of the others alone
        tidy_at(rw, path)


# --- the derivative of a matrix function ---------------------------------------------------------
@dataclass
class DerivativeDerivation:
    F: E.Expr
    wrt: str
    vars: dict[str, Decl]
    differential: ChainResult
    jacobian: ChainResult
    gradient: Derivation | None    # for a scalar F


def derivative(F, wrt: str, vars: Mapping[str, object] | None = None,
               budget: Budget | None = None) -> DerivativeDerivation:
    expr, typing = prepare(F, wrt, vars, scalar=False)
    grad = derive_expr(expr, wrt, typing, budget) if typing.shape().is_scalar else None
    return DerivativeDerivation(expr, wrt, typing.vars, differential(expr, wrt, typing, budget),
                                jacobian(expr, wrt, typing, budget), grad)


def proofs_of_derivative(d: DerivativeDerivation):
    """(the Jacobian's proof, the differential's proof)."""
    from .proof.model import DifferentialClaim, JacobianClaim, make_proof

    jc = JacobianClaim(kind="jacobian", F=str(d.F), wrt=d.wrt, jacobian=str(d.jacobian.term),
                       assumptions=fact_texts(d.jacobian.assumptions))
    dc = DifferentialClaim(kind="differential", F=str(d.F), wrt=d.wrt, differential=str(d.differential.term),
                           assumptions=fact_texts(d.differential.assumptions))
    return (make_proof(jc, d.vars, d.jacobian.steps, {"steps": len(d.jacobian.steps), "stages": _plain(d.jacobian)}),
            make_proof(dc, d.vars, d.differential.steps,
                       {"steps": len(d.differential.steps), "stages": _plain(d.differential)}))


def _plain(chain: ChainResult) -> list[dict]:
    return [{k: v for k, v in s.items() if k != "seconds"} for s in chain.stages]


# --- vector-Jacobian products ---------------------------------------------------------------------
@dataclass
class VJPDerivation:
    F: E.Expr
    wrt: str
    cotangent: str
    vars: dict[str, Decl]
    derivation: Derivation   # of tr(C'*F)

    @property
    def result(self) -> E.Expr:
        return self.derivation.gradient


def vjp(F, wrt: str, cotangent: str = "G", vars: Mapping[str, object] | None = None,
        budget: Budget | None = None) -> VJPDerivation:
    """The gradient of tr(C'*F) in wrt, C (named `cotangent`) of F's shape."""
    decls = normalize_decls(vars)
    expr, typing = prepare(F, wrt, {n: d for n, d in decls.items() if n != cotangent}, scalar=False)
    if not isinstance(cotangent, str) or not is_valid_symbol_name(cotangent):
        raise InputError(f"the cotangent must be a variable name, not {cotangent!r}")
    if cotangent in expr.symbols():
        raise InputError(f"the cotangent {cotangent} occurs in F: name it otherwise (--cotangent NAME)")
    shape = typing.shape()
    given = decls.get(cotangent)
    if given is not None and given.shape != shape:
        raise InputError(f"the cotangent {cotangent} is declared {given.shape}, but F is {shape}: "
                         f"a cotangent has the shape of F")
    f = E.tr(E.mul(E.transpose(E.sym(cotangent)), expr))
    all_vars = {**typing.vars, cotangent: Decl(shape, given.props if given else frozenset())}
    d = derive_expr(f, wrt, infer(f, all_vars), budget)
    return VJPDerivation(expr, wrt, cotangent, d.vars, d)


def proof_of_vjp(v: VJPDerivation):
    from .proof.model import VJPClaim, make_proof

    d = v.derivation
    claim = VJPClaim(kind="vjp", F=str(v.F), wrt=v.wrt, cotangent=v.cotangent, vjp=str(d.gradient),
                     differential=str(d.differential), assumptions=fact_texts(d.assumptions))
    return make_proof(claim, v.vars, d.steps, {"steps": len(d.steps)})


# --- Hessians ----------------------------------------------------------------------------------------
@dataclass
class HessianDerivation:
    f: E.Expr
    wrt: str
    vars: dict[str, Decl]
    gradient: Derivation
    differential: ChainResult    # d of the gradient
    hessian: ChainResult         # the Jacobian of the gradient

    @property
    def assumptions(self) -> dict:
        """The facts of both chains (the proof's: the gradient's and the Hessian's)."""
        return {**self.gradient.assumptions, **self.hessian.assumptions}


def hessian(f, wrt: str, vars: Mapping[str, object] | None = None,
            budget: Budget | None = None) -> HessianDerivation:
    """The Hessian of a scalar f: H with vec(d(G)) = H*vec(dX), G the gradient."""
    try:
        expr, typing = prepare(f, wrt, vars)
    except InputError as err:
        if "must be a scalar" in str(err):
            raise InputError(f"a Hessian is of a scalar function: {err}".split(" (the Jacobian")[0]) from None
        raise
    grad = derive_expr(expr, wrt, typing, budget)
    g = grad.gradient
    if wrt not in g.symbols():   # a linear f: the gradient is constant, the Hessian 0
        raise InputError(f"the gradient {g} does not depend on {wrt}: the Hessian is 0")
    gtyping = infer(g, typing.vars)
    return HessianDerivation(expr, wrt, typing.vars, grad, differential(g, wrt, gtyping, budget),
                             jacobian(g, wrt, gtyping, budget))


def proof_of_hessian(h: HessianDerivation):
    from .proof.model import HessianClaim, make_proof

    claim = HessianClaim(kind="hessian", f=str(h.f), wrt=h.wrt, gradient=str(h.gradient.gradient),
                         hessian=str(h.hessian.term), assumptions=fact_texts(h.assumptions))
    stats = {"steps": len(h.gradient.steps), "second_steps": len(h.hessian.steps)}
    return make_proof(claim, h.vars, h.gradient.steps, stats, second_steps=h.hessian.steps)
