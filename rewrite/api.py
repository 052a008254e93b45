"""The library's front door: `derive` a gradient (with its proof), `check` a proof."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from . import expr as E
from .errors import UnknownResult
from .shapes import Decl


@dataclass
class GradientResult:
    """∂f/∂X with the canonical differential tr(G'*dX), the proof and per-stage statistics."""
    f: E.Expr
    wrt: str
    vars: dict[str, Decl]
    gradient: E.Expr
    differential: E.Expr
    proof: Any = None
    stats: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"f": str(self.f), "wrt": self.wrt,
                "vars": {n: str(d) for n, d in self.vars.items()},
                "gradient": str(self.gradient), "differential": str(self.differential),
                "stats": self.stats}


def derive(f, wrt: str, vars: Mapping[str, object] | None = None, *, proof: bool = True) -> GradientResult:
    """∂f/∂wrt for a scalar `f` (a string in the input syntax, an Expr, or a SymPy expression).

    `vars` maps names to declarations: {"X": "n x m", "S": "n x n, spd", "lam": "scalar"}.
    Raises InputError (bad input) or UnknownResult (a budget was reached: no answer, not a guess).
    """
    from .derive import derive as run

    f, wrt, vars = _from_sympy(f, wrt, vars)
    try:
        d = run(f, wrt, vars)
    except UnknownResult:
        raise
    except BaseException as err:   # egglog reports internal failures as Rust panics
        if type(err).__name__ != "PanicException":
            raise
        raise UnknownResult(f"the e-graph engine failed: {err}") from None
    result = GradientResult(d.f, d.wrt, d.vars, d.gradient, d.differential, None, d.stats())
    if proof:
        from .proof.build import proof_of_derivation

        result.proof = proof_of_derivation(d)
    return result


def check(proof):
    """Replay a proof (model, dict or JSON text) in the independent checker."""
    from .proof.checker import check as kernel_check

    return kernel_check(proof)


def _from_sympy(f, wrt, vars):
    """Accept SymPy matrix expressions; everything else passes through unchanged."""
    if isinstance(f, (str, E.Expr)):
        return f, wrt, vars
    try:
        import sympy
    except ImportError:   # pragma: no cover
        return f, wrt, vars
    if isinstance(f, sympy.Basic):
        from .sympy_bridge import from_sympy

        expr, decls = from_sympy(f)
        merged = {**decls, **dict(vars or {})}
        if isinstance(wrt, sympy.Basic):
            wrt = str(wrt)
        return expr, wrt, merged
    return f, wrt, vars
