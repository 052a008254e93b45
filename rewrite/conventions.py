"""Gradients with respect to a symmetric matrix.

The engine derives the *unconstrained* gradient G: df = tr(G'*dX) for every dX.  When X is
symmetric only symmetric dX occur, and two other answers are in use:

- `symmetric`: sym(G) = (1/2)*(G + G'), the unique symmetric matrix with df = tr(sym(G)'*dX)
  for every symmetric dX (the gradient on the space of symmetric matrices);
- `cookbook`: G + G' - I.*G, the derivative with respect to the independent entries X_ij, i <= j
  (Matrix Cookbook, section 2.8).  It is not a gradient in the sense of tr(.'*dX).

A convention is a definition applied to G, not an identity, so it is not a proof step.  The
defining term is then simplified by the tidy stage, and that simplification has its own
equality proof.
"""
from __future__ import annotations

from fractions import Fraction

from . import expr as E
from .errors import InputError

UNCONSTRAINED, SYMMETRIC, COOKBOOK = "unconstrained", "symmetric", "cookbook"
CONVENTIONS = (UNCONSTRAINED, SYMMETRIC, COOKBOOK)


def definition(gradient: E.Expr, convention: str) -> E.Expr:
    """The defining term of the convention's gradient, in terms of the unconstrained G."""
    both = E.add(gradient, E.transpose(gradient))
    if convention == SYMMETRIC:
        return E.mul(E.num(Fraction(1, 2)), both)
    if convention == COOKBOOK:
        return E.sub(both, E.Expr(E.HADAMARD, (E.identity(), gradient)))
    raise ValueError(convention)


def require(convention: str, wrt: str, props) -> None:
    """InputError unless `convention` is known and applies to `wrt` with the declared `props`."""
    if convention not in CONVENTIONS:
        raise InputError(f"unknown convention {convention!r} (known: {', '.join(CONVENTIONS)})")
    if convention != UNCONSTRAINED and not ({"symmetric", "spd"} & set(props)):
        raise InputError(f"the {convention} convention needs {wrt} declared symmetric or spd "
                         f"(e.g. \"{wrt}: n x n, symmetric\")")


def convert(derivation, convention: str, proof: bool = True):
    """(gradient under `convention`, equality proof defining-term = gradient, or None without
    `proof`)."""
    from .pipeline import tidy as tidy_stage

    term = definition(derivation.gradient, convention)
    tidy, steps = tidy_stage(term, None, derivation.vars)   # an equality: no variable
    if not proof:
        return tidy, None
    from .proof.model import EqualityClaim, make_proof

    claim = EqualityClaim(kind="equality", lhs=str(term), rhs=str(tidy))
    return tidy, make_proof(claim, derivation.vars, steps, {"steps": len(steps)})
