"""The library's entry points beyond the gradient: `derivative` (differential and Jacobian of a
matrix function), `vjp` (vector-Jacobian products) and `hessian`; each result carries its proof.

Layout: the Jacobian J is the one of vec(F) by vec(X) (vec stacks columns): vec(dF) = J*vec(dX),
so J has size(F) rows and size(X) columns (numerator layout).  For a scalar f the gradient is
the transpose of its 1 x size(X) Jacobian, reshaped like X; the Hessian is the Jacobian of
vec(gradient), size(X) x size(X).  See the README, "Layouts".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from . import expr as E
from .api import assuming_lines, latex_name, named_dict
from .assumptions import describe, fact_texts
from .names import name_repeats
from .notebook import result_latex, result_markdown, short
from .shapes import Decl


def _vars(vars: Mapping[str, Decl]) -> list[str]:
    return [f"  {n}: {d}" for n, d in sorted(vars.items())]


def _stats_lines(stages: list[dict], title: str = "stages") -> list[str]:
    lines = [f"{title}:"]
    for s in stages:
        note = "" if s.get("stop", "done") == "done" else f" (stopped: {s['stop']})"
        lines.append(f"  {s['stage']:<14} {s['steps']:>5} steps  {s['seconds']:.3f} s{note}")
    return lines


def _lazy_proof(result, builder: str):
    """result._proof, built on first use by derivatives.<builder>(result.derivation) (the proof
    model loads pydantic, which printing a result does not need)."""
    if result._proof is None and result.derivation is not None:
        from . import derivatives

        result._proof = getattr(derivatives, builder)(result.derivation)
    return result._proof


def _proof_dict(proof) -> dict:
    return {"proof": proof.to_dict()} if proof is not None else {}


@dataclass
class DerivativeResult:
    """dF (a sum of terms each linear in dX) and J with vec(dF) = J*vec(dX); `gradient` too for
    a scalar F.  `proof` proves the Jacobian, `differential_proof` the differential."""
    F: E.Expr
    wrt: str
    vars: dict[str, Decl]
    differential: E.Expr
    jacobian: E.Expr
    gradient: E.Expr | None = None
    stats: dict[str, list[dict]] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)   # as in GradientResult
    where: list[str] = field(default_factory=list)
    derivation: Any = field(default=None, repr=False, compare=False)
    _proofs: Any = field(default=None, repr=False, compare=False)

    def _built(self):
        if self._proofs is None and self.derivation is not None:
            from .derivatives import proofs_of_derivative

            self._proofs = proofs_of_derivative(self.derivation)
        return self._proofs or (None, None)

    @property
    def proof(self):
        """The proof of vec(d(F)) = J*vec(dX) (built on first use)."""
        return self._built()[0]

    @property
    def differential_proof(self):
        """The proof of d(F) = dF."""
        return self._built()[1]

    def as_dict(self) -> dict:
        out = {"F": str(self.F), "wrt": self.wrt, "vars": {n: str(d) for n, d in self.vars.items()},
               "differential": str(self.differential), "jacobian": str(self.jacobian),
               "assumptions": self.assumptions, "stats": self.stats}
        if self.gradient is not None:
            out["gradient"] = str(self.gradient)
        for name, proof in (("proof", self.proof), ("differential_proof", self.differential_proof)):
            if proof is not None:
                out[name] = proof.to_dict()
        return out | named_dict(self.named, *self._answer_fields())

    def _answers(self) -> list[tuple[str, E.Expr]]:
        labels = {"differential": r"\mathrm{d}F", "jacobian": "J",
                  "gradient": rf"\frac{{\partial F}}{{\partial {latex_name(self.wrt)}}}"}
        return [(labels[f], getattr(self, f)) for f in self._answer_fields()]

    def to_python(self, backend: str = "numpy") -> str:
        """Python source defining F_and_jacobian(**variables) -> (F, J) (rewrite.codegen)."""
        from .codegen import jacobian_module

        return jacobian_module(self, backend)

    def _repr_latex_(self) -> str:
        return result_latex(self, self._answers())

    def _repr_markdown_(self) -> str:
        return result_markdown(self, [(f, getattr(self, f)) for f in self._answer_fields()])

    def __repr__(self) -> str:
        return short("DerivativeResult", f"J = {self.named.terms[1]}", len(self.derivation.jacobian.steps)
                     if self.derivation is not None else None)

    def _answer_fields(self) -> list[str]:
        return ["differential", "jacobian"] + (["gradient"] if self.gradient is not None else [])

    @property
    def named(self):
        """dF, J (and the gradient) with their repeated subterms named alike (rewrite/names.py)."""
        return name_repeats([getattr(self, f) for f in self._answer_fields()], self.vars)

    def __str__(self) -> str:
        lines = [f"F = {self.F}", "variables:", *_vars(self.vars)]
        for name, stages in self.stats.items():
            lines += _stats_lines(stages, f"stages ({name})")
        d = self.derivation
        if d is not None:
            lines.append(f"proofs: {len(d.differential.steps)} rule steps (differential), "
                         f"{len(d.jacobian.steps)} (Jacobian)")
        lines += assuming_lines(self.where)
        named = self.named
        shown = dict(zip(self._answer_fields(), named.terms))
        lines.append(f"dF = {shown['differential']}")
        if self.gradient is not None:
            lines.append(f"∂F/∂{self.wrt} = {shown['gradient']}")
        lines.append(f"J = {shown['jacobian']}   (vec(dF) = J*vec(d{self.wrt}))")
        lines += named.where_lines()
        return "\n".join(lines)


@dataclass
class VJPResult:
    """The vector-Jacobian product of a cotangent C (F's shape) with F: the gradient of tr(C'*F)."""
    F: E.Expr
    wrt: str
    cotangent: str
    vars: dict[str, Decl]
    result: E.Expr
    stats: list[dict] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)   # as in GradientResult
    where: list[str] = field(default_factory=list)
    derivation: Any = field(default=None, repr=False, compare=False)
    _proof: Any = field(default=None, repr=False, compare=False)

    @property
    def proof(self):
        return _lazy_proof(self, "proof_of_vjp")

    def as_dict(self) -> dict:
        return {"F": str(self.F), "wrt": self.wrt, "cotangent": self.cotangent,
                "vars": {n: str(d) for n, d in self.vars.items()}, "vjp": str(self.result),
                "assumptions": self.assumptions, "stats": self.stats} | named_dict(self.named, "vjp") \
            | _proof_dict(self.proof)

    @property
    def named(self):
        return name_repeats([self.result], set(self.vars) | {self.cotangent})

    def to_python(self, backend: str = "numpy") -> str:
        """Python source defining F_and_vjp(**variables) -> (F, vjp) (rewrite.codegen)."""
        from .codegen import vjp_module

        return vjp_module(self, backend)

    def _repr_latex_(self) -> str:
        return result_latex(self, [(r"\operatorname{vjp}", self.result)])

    def _repr_markdown_(self) -> str:
        return result_markdown(self, [("vjp", self.result)])

    def __repr__(self) -> str:
        return short("VJPResult", f"vjp = {self.named.term}", len(self.derivation.derivation.steps)
                     if self.derivation is not None else None)

    def __str__(self) -> str:
        lines = [f"F = {self.F}", f"cotangent {self.cotangent} (the shape of F)", "variables:",
                 *_vars(self.vars), *_stats_lines(self.stats)]
        if self.derivation is not None:
            lines.append(f"proof: {len(self.derivation.derivation.steps)} rule steps")
        lines += assuming_lines(self.where)
        named = self.named
        lines.append(f"vjp = ∂tr({self.cotangent}'*F)/∂{self.wrt} = {named.term}")
        return "\n".join(lines + named.where_lines())


@dataclass
class HessianResult:
    """H with vec(d(G)) = H*vec(dX) for the gradient G of a scalar f (d²f = vec(dX)'*H*vec(dX));
    `differential` is d(G), linear in dX."""
    f: E.Expr
    wrt: str
    vars: dict[str, Decl]
    gradient: E.Expr
    hessian: E.Expr
    differential: E.Expr
    stats: dict[str, list[dict]] = field(default_factory=dict)
    assumptions: list[str] = field(default_factory=list)   # as in GradientResult
    where: list[str] = field(default_factory=list)
    derivation: Any = field(default=None, repr=False, compare=False)
    _proof: Any = field(default=None, repr=False, compare=False)

    @property
    def proof(self):
        return _lazy_proof(self, "proof_of_hessian")

    def as_dict(self) -> dict:
        return {"f": str(self.f), "wrt": self.wrt, "vars": {n: str(d) for n, d in self.vars.items()},
                "gradient": str(self.gradient), "differential": str(self.differential),
                "hessian": str(self.hessian), "assumptions": self.assumptions, "stats": self.stats} \
            | named_dict(self.named, "gradient", "differential", "hessian") | _proof_dict(self.proof)

    @property
    def named(self):
        return name_repeats([self.gradient, self.differential, self.hessian], self.vars)

    def _answers(self) -> list[tuple[str, E.Expr]]:
        x = latex_name(self.wrt)
        return [(rf"\frac{{\partial f}}{{\partial {x}}}", self.gradient),
                (rf"\mathrm{{d}}\frac{{\partial f}}{{\partial {x}}}", self.differential), ("H", self.hessian)]

    def to_python(self, backend: str = "numpy") -> str:
        """Python source defining f_grad_hess(**variables) -> (f, gradient, H) (rewrite.codegen)."""
        from .codegen import hessian_module

        return hessian_module(self, backend)

    def _repr_latex_(self) -> str:
        return result_latex(self, self._answers())

    def _repr_markdown_(self) -> str:
        return result_markdown(self, [(f"∂f/∂{self.wrt}", self.gradient), ("H", self.hessian)])

    def __repr__(self) -> str:
        d = self.derivation
        return short("HessianResult", f"H = {self.named.terms[2]}",
                     len(d.gradient.steps) + len(d.hessian.steps) if d is not None else None)

    def __str__(self) -> str:
        lines = [f"f = {self.f}", "variables:", *_vars(self.vars)]
        for name, stages in self.stats.items():
            lines += _stats_lines(stages, f"stages ({name})")
        d = self.derivation
        if d is not None:
            lines.append(f"proof: {len(d.gradient.steps)} rule steps (gradient), "
                         f"{len(d.hessian.steps)} (Hessian)")
        lines += assuming_lines(self.where)
        named = self.named
        g, dg, h = named.terms
        lines += [f"∂f/∂{self.wrt} = {g}", f"d(∂f/∂{self.wrt}) = {dg}", f"H = {h}"]
        return "\n".join(lines + named.where_lines())


def derivative(F, wrt: str, vars: Mapping[str, object] | None = None, *, proof: bool = True) -> DerivativeResult:
    """The differential and the Jacobian of F (scalar, vector or matrix) by wrt.  Raises
    InputError (bad input) or UnknownResult (a budget was reached)."""
    from .api import _from_sympy
    from .derivatives import derivative as run

    F, wrt, vars = _from_sympy(F, wrt, vars)
    d = run(F, wrt, vars)
    stats = {"differential": d.differential.stages, "jacobian": d.jacobian.stages}
    facts = {**d.differential.assumptions, **d.jacobian.assumptions}
    return DerivativeResult(d.F, d.wrt, d.vars, d.differential.term, d.jacobian.term,
                            d.gradient.gradient if d.gradient else None, stats, fact_texts(facts),
                            describe(facts), d if proof else None)


def vjp(F, wrt: str, cotangent: str = "G", vars: Mapping[str, object] | None = None, *,
        proof: bool = True) -> VJPResult:
    """The gradient of tr(C'*F) by wrt, C the variable named `cotangent`, of F's shape."""
    from .api import _from_sympy
    from .derivatives import vjp as run

    F, wrt, vars = _from_sympy(F, wrt, vars)
    v = run(F, wrt, cotangent, vars)
    facts = v.derivation.assumptions
    return VJPResult(v.F, v.wrt, v.cotangent, v.vars, v.result, v.derivation.stages, fact_texts(facts),
                     describe(facts), v if proof else None)


def hessian(f, wrt: str, vars: Mapping[str, object] | None = None, *, proof: bool = True) -> HessianResult:
    """The Hessian of a scalar f by wrt (for a matrix wrt, in the vec layout)."""
    from .api import _from_sympy
    from .derivatives import hessian as run

    f, wrt, vars = _from_sympy(f, wrt, vars)
    h = run(f, wrt, vars)
    stats = {"gradient": h.gradient.stages, "hessian": h.hessian.stages}
    return HessianResult(h.f, h.wrt, h.vars, h.gradient.gradient, h.hessian.term, h.differential.term,
                         stats, fact_texts(h.assumptions), describe(h.assumptions), h if proof else None)
