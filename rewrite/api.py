"""The library's front door: `derive` a gradient (with its proof), `check` a proof."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from . import expr as E
from .errors import InputError, RewriteError
from .shapes import Decl


@dataclass
class GradientResult:
    """∂f/∂X with the canonical differential tr(G'*dX), the proof and per-stage statistics."""
    f: E.Expr
    wrt: str
    vars: dict[str, Decl]
    gradient: E.Expr
    differential: E.Expr
    stats: list[dict] = field(default_factory=list)   # per stage: steps, seconds, term size
    # for a symmetric wrt under the `symmetric` or `cookbook` convention (see conventions.py):
    # `gradient` is that convention's answer, this the unconstrained G of the differential
    convention: str = "unconstrained"
    unconstrained_gradient: E.Expr | None = None
    convention_proof: Any = None       # equality proof: the convention's definition = gradient
    # where the derivative exists: facts the derivation assumed (rewrite/assumptions.py), as
    # conditions (`assumptions`: "positive(det(X))") and for people (`where`: "det(X) > 0")
    assumptions: list[str] = field(default_factory=list)
    where: list[str] = field(default_factory=list)
    # the derivation whose steps are the proof (None when no proof was asked for)
    derivation: Any = field(default=None, repr=False, compare=False)
    _proof: Any = field(default=None, repr=False, compare=False)

    @property
    def proof(self):
        """The proof (`rewrite.proof.model.Proof`, format rewrite-proof/2), or None; built on
        first use (it needs pydantic, which a command-line run that prints text can skip)."""
        if self._proof is None and self.derivation is not None:
            from .pipeline import proof_of_derivation

            self._proof = proof_of_derivation(self.derivation)
        return self._proof

    @property
    def readable_differential(self) -> E.Expr:
        """df as a book writes it: tr(H*dX) with H = G' tidied (not tr(inv(X)''*dX)), and
        G*dt for a scalar t.  The proof's claim keeps the canonical tr(G'*dX)."""
        from .pipeline import tidy

        dx = E.Expr(E.DIFF, (E.sym(self.wrt),))
        if self.vars[self.wrt].shape.is_scalar:
            return E.mul(self.gradient, dx)
        try:
            h, _ = tidy(E.transpose(self.gradient), None, self.vars)
        except RewriteError:
            return self.differential
        return E.tr(E.mul(h, dx))

    @property
    def named(self):
        """The gradient with its repeated subterms named (`rewrite.names.Named`: `.term`,
        `.definitions`), the way it prints."""
        from .names import name_repeats

        return name_repeats([self.gradient], self.vars)

    @property
    def proof_steps(self) -> int:
        return len(self.derivation.steps) if self.derivation is not None else 0

    def as_dict(self) -> dict:
        """Everything as plain data (JSON-ready), the proof included when there is one."""
        out = {"f": str(self.f), "wrt": self.wrt,
               "vars": {n: str(d) for n, d in self.vars.items()},
               "gradient": str(self.gradient), "differential": str(self.differential),
               "assumptions": self.assumptions, "stats": self.stats}
        out.update(named_dict(self.named, "gradient"))
        if self.convention != "unconstrained":
            out["convention"] = self.convention
            out["unconstrained_gradient"] = str(self.unconstrained_gradient)
            if self.convention_proof is not None:
                out["convention_proof"] = self.convention_proof.to_dict()
        if self.proof is not None:
            out["proof"] = self.proof.to_dict()
        return out

    def to_sympy(self):
        """(f, gradient) as SymPy expressions (the gradient with the shape of its variable);
        `rewrite.sympy_bridge.lambdify` turns either into a NumPy function."""
        from .sympy_bridge import to_sympy

        return to_sympy(self.f, self.vars), to_sympy(self.gradient, self.vars, self.vars[self.wrt].shape)

    def to_python(self, backend: str = "numpy") -> str:
        """Python source defining f_and_grad(**variables) -> (f, gradient) (rewrite.codegen)."""
        from .codegen import gradient_module

        return gradient_module(self, backend)

    def _answers(self) -> list[tuple[str, E.Expr]]:
        return [(rf"\frac{{\partial f}}{{\partial {latex_name(self.wrt)}}}", self.gradient)]

    def _repr_latex_(self) -> str:
        from .notebook import result_latex

        return result_latex(self, self._answers())

    def _repr_markdown_(self) -> str:
        from .notebook import result_markdown

        return result_markdown(self, [(f"∂f/∂{self.wrt}", self.gradient)])

    def __repr__(self) -> str:
        from .notebook import short

        return short("GradientResult", f"∂f/∂{self.wrt} = {self.named.term}", self.proof_steps)

    def __str__(self) -> str:
        lines = [f"f = {self.f}", "variables:"]
        lines += [f"  {n}: {d}" for n, d in sorted(self.vars.items())]
        lines.append("stages:")
        for s in self.stats:
            note = "" if s.get("stop", "done") == "done" else f" (stopped: {s['stop']})"
            lines.append(f"  {s['stage']:<14} {s['steps']:>5} steps  {s['seconds']:.3f} s{note}")
        if self.derivation is not None:
            lines.append(f"proof: {self.proof_steps} rule steps")
        lines.append(f"df = {self.readable_differential}")
        if self.convention != "unconstrained":
            from .conventions import definition
            from .expr import sym

            lines.append(f"{self.convention} convention for symmetric {self.wrt}: "
                         f"{definition(sym('G'), self.convention)} with G = {self.unconstrained_gradient}")
        lines += assuming_lines(self.where)
        named = self.named
        lines.append(f"∂f/∂{self.wrt} = {named.term}")
        lines += named.where_lines()
        return "\n".join(lines)


def derive(f, wrt: str, vars: Mapping[str, object] | None = None, *, proof: bool = True,
           convention: str = "unconstrained") -> GradientResult:
    """∂f/∂wrt for a scalar `f` (a string in the input syntax, an Expr, or a SymPy expression).

    `vars` maps names to declarations: {"X": "n x m", "S": "n x n, spd", "lam": "scalar"}.
    `convention` ("unconstrained", "symmetric", "cookbook") matters only for a symmetric wrt;
    see rewrite/conventions.py.
    Raises InputError (bad input) or UnknownResult (a budget was reached: no answer, not a guess).

    The proof's steps are the kernel's own rule applications (`rewrite.proof.kernel`), made as
    the derivation went; `check(result.proof)` replays them independently.
    """
    from . import conventions
    from .assumptions import describe, fact_texts
    from .pipeline import derive as run
    from .shapes import normalize_decls

    f, wrt, vars = _from_sympy(f, wrt, vars)
    if convention != conventions.UNCONSTRAINED:
        declared = normalize_decls(vars).get(wrt) if isinstance(wrt, str) else None
        conventions.require(convention, wrt, declared.props if declared else ())
    d = run(f, wrt, vars)
    result = GradientResult(d.f, d.wrt, d.vars, d.gradient, d.differential, d.stats(),
                            derivation=d if proof else None, assumptions=fact_texts(d.assumptions),
                            where=describe(d.assumptions))
    if convention != conventions.UNCONSTRAINED:
        result.convention, result.unconstrained_gradient = convention, d.gradient
        result.gradient, result.convention_proof = conventions.convert(d, convention, proof)
    return result


def named_dict(named, *fields: str) -> dict:
    """JSON of a result's answers with their repeated subterms named: {"named": {field: text,
    ..., "where": [{"name": "t1", "term": ...}]}} (the full answers stay in their own fields)."""
    out: dict = {f: str(t) for f, t in zip(fields, named.terms)}
    out["where"] = named.as_dict()
    return {"named": out}


def latex_name(name: str) -> str:
    from .printer import to_latex

    return to_latex(E.sym(name))


def assuming_lines(where: list[str]) -> list[str]:
    """The line stating the facts a result holds under (none if it needs none)."""
    return [f"assuming {', '.join(where)}"] if where else []


def check(proof):
    """Replay a proof (model, dict, JSON text, or the path of a JSON file) in the independent
    checker."""
    import os
    from pathlib import Path

    from .proof.checker import check as kernel_check

    if isinstance(proof, os.PathLike) or (isinstance(proof, str) and not proof.lstrip().startswith("{")
                                          and len(proof) < 4096 and Path(proof).is_file()):
        try:
            proof = Path(proof).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"cannot read {proof}: {getattr(err, 'strerror', None) or err}") from None
    return kernel_check(proof)


def sympy_input(x, decls: dict):
    """A SymPy matrix expression as a term, the shapes SymPy carries added to `decls` (the
    declarations already there win); anything else is returned unchanged."""
    if isinstance(x, (str, E.Expr)):
        return x
    try:
        import sympy
    except ImportError:   # pragma: no cover
        return x
    if not isinstance(x, sympy.Basic):
        return x
    from .sympy_bridge import from_sympy

    term, found = from_sympy(x)
    for name, decl in found.items():
        decls.setdefault(name, decl)
    return term


def _from_sympy(f, wrt, vars):
    """Accept SymPy matrix expressions (and a SymPy symbol as wrt); the rest passes unchanged."""
    decls = dict(vars or {})
    term = sympy_input(f, decls)
    if term is f:
        return f, wrt, vars
    if not isinstance(wrt, str) and type(wrt).__module__.startswith("sympy"):
        wrt = str(wrt)
    return term, wrt, decls
