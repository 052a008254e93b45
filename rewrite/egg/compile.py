"""Compile a use of a library rule (rule, direction, optional guards) to egglog rules.

The pattern side becomes the query, the other side the action `(union e <built term>)`.  Two
things need care because shapes live in the e-graph:
- constants the built side creates (`I`, `0`, `ones`) need their sizes, found by unifying the
  dimensions of both sides of the rule;
- a new product or sum of two pattern variables must be well typed; a product is guarded by one
  variant per typing (matrix product, scalar on the left, scalar on the right).
Guards never change what a rule means; they only keep the engine from building junk.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

from .. import expr as E
from ..rules import EVAL, Rule
from .schema import CTOR, rational

ONE = '"1"'


@dataclass(frozen=True)
class RuleUse:
    """A rule in one direction, optionally restricted to some instances.

    guards: (predicate, variable): any predicate of the rule language, or "dx" (the variable
    is the differential of the variable of differentiation), "left-of-dx" (the variable is
    L in some tr(L*dX)), "left-in-tr" (L in some tr(L*M)), "root" (the term being rewritten).
    """
    rule: str
    direction: str = "forward"
    guards: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        g = ",".join(f"{k}({v})" for k, v in self.guards)
        return f"{self.rule}/{self.direction}" + (f"/{g}" if g else "")


class _Dims:
    """Union-find over dimensions named by egglog expressions or fresh placeholders."""

    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, d: str) -> str:
        while d in self.parent:
            d = self.parent[d]
        return d

    def union(self, a: str, b: str) -> None:
        a, b = self.find(a), self.find(b)
        if a == b:
            return
        # keep a name egglog knows (a literal or a query variable) as the representative
        if a.startswith("?"):
            self.parent[a] = b
        else:
            self.parent[b] = a


class _Compiler:
    def __init__(self, rule: Rule, use: RuleUse, has_wrt: bool):
        self.rule, self.use, self.has_wrt = rule, use, has_wrt
        self.src, self.dst = rule.sides(use.direction)
        self.facts: list[str] = []
        self.dims = _Dims()
        self.fresh = itertools.count()
        self.scalar_vars = {c.var for c in rule.conditions if c.pred in ("scalar", "num", "int2", "notone", "negnum")}
        self.bound_dims: set[str] = set()   # egglog variables holding dimensions (bound in the query)

    # --- the query ----------------------------------------------------------------------------
    def var(self, name: str) -> str:
        return "p_" + name

    def query(self, p: E.Expr) -> str:
        op = p.op
        if op == E.SYM:
            return self.var(p.name)
        if op == E.NUM:
            return f"(Num {rational(p.value)})"
        if op == E.IDENTITY:
            n = f"d_{next(self.fresh)}"
            self.bound_dims.add(n)
            return f"(Ident {n})"
        if op in (E.ZERO, E.ONES):
            r, c = f"d_{next(self.fresh)}", f"d_{next(self.fresh)}"
            self.bound_dims |= {r, c}
            return f"({CTOR[op]} {r} {c})"
        return f"({CTOR[op]} {' '.join(self.query(a) for a in p.args)})"

    def predicate_facts(self, pred: str, name: str) -> list[str]:
        """Query facts for `pred(name)`; the engine's view of conditions.holds."""
        v, q = self.var(name), "q_" + name
        if pred == "scalar":
            return [f"(= (rows {v}) {ONE})", f"(= (cols {v}) {ONE})"]
        if pred == "nonscalar":
            return [f"(nonscalar {v})"]
        if pred == "matrix":
            return [f"(!= (rows {v}) {ONE})", f"(!= (cols {v}) {ONE})"]
        if pred == "square":
            return [f"(= (rows {v}) (cols {v}))"]
        if pred in ("symmetric", "spd", "invertible", "diagonal"):
            return [f"({pred} {v})", f"(= (rows {v}) (cols {v}))"]
        if pred in ("positive", "const", "hasd", "unit"):
            return [f"({pred} {v})"]
        if pred in ("num", "int2", "notone", "negnum"):
            out = [f"(= {v} (Num {q}))"]
            if pred == "negnum":
                out.append(f"(< {q} {rational(0)})")
            if pred == "int2":
                out += [f"(= (denom {q}) (bigint 1))", f"(>= {q} {rational(2)})"]
            if pred == "notone":
                out.append(f"(!= {q} {rational(1)})")
            return out
        if pred == "dx":
            return ["(= wrt (wrt-name))", f"(= {v} (D (Sym wrt)))"]
        if pred == "root":   # the variable, or with no variable the whole match, is the root term
            return [f"(is-root {v if name else 'e'})"]
        if pred == "left-in-tr":   # v is L in some tr(L*M)
            return [f"(= demand (FTr (Mul {v} demand_rest)))"]
        if pred == "left-of-dx":   # v is L in some tr(L*dX): the demand for the canonical form
            return ["(= wrt (wrt-name))", f"(= demand (FTr (Mul {v} (D (Sym wrt)))))"]
        raise ValueError(f"unknown predicate {pred!r}")

    def condition_facts(self) -> list[str]:
        out: list[str] = []
        for c in self.rule.conditions:
            out += self.predicate_facts(c.pred, c.var)
        for kind, name in self.use.guards:
            out += [f for f in self.predicate_facts(kind, name) if f not in out]
        return out

    # --- dimensions of both sides ---------------------------------------------------------------
    def dim_of_var(self, name: str, which: str) -> str:
        key = f"{which}_{name}"
        self.facts_dims.setdefault(key, f"(= {key} ({which} {self.var(name)}))")
        return key

    def shape(self, p: E.Expr, creating: bool, consts: dict[int, tuple[str, str]]) -> tuple[str, str]:
        """Symbolic (rows, cols) of a pattern; records the sizes of constants on the built side."""
        op = p.op
        if op == E.SYM:
            if p.name in self.scalar_vars:
                return ONE, ONE
            return self.dim_of_var(p.name, "rows"), self.dim_of_var(p.name, "cols")
        if op == E.NUM or op == EVAL:
            return ONE, ONE
        if op in (E.IDENTITY, E.ZERO, E.ONES):
            r = f"?{next(self.fresh)}"
            c = r if op == E.IDENTITY else f"?{next(self.fresh)}"
            if creating:
                consts[id(p)] = (r, c)
            return r, c
        kids = [self.shape(a, creating, consts) for a in p.args]
        u = self.dims.union
        if op in (E.ADD, E.SUB, E.HADAMARD, E.HDIV):
            u(kids[0][0], kids[1][0]); u(kids[0][1], kids[1][1])
            return kids[0]
        if op == E.MUL:
            (ar, ac), (br, bc) = kids
            if self.dims.find(ar) == ONE and self.dims.find(ac) == ONE:
                return br, bc
            if self.dims.find(br) == ONE and self.dims.find(bc) == ONE:
                return ar, ac
            if not creating and any(a.op in (E.IDENTITY, E.ZERO, E.ONES) for a in p.args):
                # a matched A*0 may be a scaling (A 1x1) or a product: its shape is not
                # knowable here, so leave it open and let the match's own shape decide
                return f"?{next(self.fresh)}", f"?{next(self.fresh)}"
            u(ac, br)
            return ar, bc
        if op == E.TRANSPOSE:
            return kids[0][1], kids[0][0]
        if op in ("inv", E.POW):
            u(kids[0][0], kids[0][1])
            return kids[0]
        if op in ("tr", "det", "logdet"):
            u(kids[0][0], kids[0][1])
            return ONE, ONE
        if op in ("sum", "norm2", "norm2sq"):
            return ONE, ONE
        if op == "diag":
            return kids[0][0], kids[0][0]
        if op == E.DIV:
            return kids[0]
        return kids[0]   # neg, d, elementwise, softmax

    # --- the built side -----------------------------------------------------------------------
    def build(self, p: E.Expr, consts: dict[int, tuple[str, str]]) -> str | None:
        op = p.op
        if op == E.SYM:
            return self.var(p.name)
        if op == E.NUM:
            return f"(Num {rational(p.value)})"
        if op == EVAL:
            return f"(Num {self.arith(p.args[0])})"
        if op in (E.IDENTITY, E.ZERO, E.ONES):
            r, c = (self.resolve(d) for d in consts[id(p)])
            if r is None or c is None:
                return None   # size not determined by the match: this direction cannot build it
            return f"(Ident {r})" if op == E.IDENTITY else f"({CTOR[op]} {r} {c})"
        kids = [self.build(a, consts) for a in p.args]
        if any(k is None for k in kids):
            return None
        return f"({CTOR[op]} {' '.join(kids)})"

    def resolve(self, d: str) -> str | None:
        r = self.dims.find(d)
        if r.startswith("?"):
            return None
        return r

    def arith(self, p: E.Expr) -> str:
        if p.op == E.SYM:
            return "q_" + p.name
        if p.op == E.NUM:
            return rational(p.value)
        if p.op == E.NEG:
            return f"(neg {self.arith(p.args[0])})"
        fn = {E.ADD: "+", E.SUB: "-", E.MUL: "*", E.DIV: "/"}[p.op]
        return f"({fn} {self.arith(p.args[0])} {self.arith(p.args[1])})"

    def typing_variants(self) -> list[list[str]]:
        """Facts making each new product/sum of two pattern variables well typed."""
        src_vars = self.src.symbols()
        choices: list[list[list[str]]] = []
        for _, node in self.dst.walk():
            if len(node.args) != 2 or node.op == E.POW or not all(a.op == E.SYM for a in node.args):
                continue
            if self.src.contains(node):
                continue
            a, b = (x.name for x in node.args)
            if not {a, b} <= src_vars:
                continue
            ra, ca = self.dim_of_var(a, "rows"), self.dim_of_var(a, "cols")
            rb, cb = self.dim_of_var(b, "rows"), self.dim_of_var(b, "cols")
            if node.op == E.MUL:
                opts = [[f"(= {ca} {rb})"], [f"(= {ra} {ONE})", f"(= {ca} {ONE})"],
                        [f"(= {rb} {ONE})", f"(= {cb} {ONE})"]]
                if a in self.scalar_vars or b in self.scalar_vars:
                    opts = [[]]
                choices.append(opts)
            elif node.op in (E.ADD, E.SUB, E.HADAMARD, E.HDIV):
                choices.append([[f"(= {ra} {rb})", f"(= {ca} {cb})"]])
        if len(choices) > 3:
            choices = choices[:3]
        return [sum(combo, []) for combo in itertools.product(*choices)] or [[]]

    def compile(self, ruleset: str) -> list[str]:
        self.facts_dims: dict[str, str] = {}
        root_r, root_c = "rows_root", "cols_root"
        consts: dict[int, tuple[str, str]] = {}
        sr, sc = self.shape(self.src, False, consts)
        dr, dc = self.shape(self.dst, True, consts)
        self.dims.union(sr, root_r); self.dims.union(sc, root_c)
        self.dims.union(dr, root_r); self.dims.union(dc, root_c)
        pattern = self.query(self.src)
        built = self.build(self.dst, consts)
        if built is None:
            return []
        base = [f"(= e {pattern})"] + self.condition_facts()
        if self.src.op == E.SYM:   # a bare variable matches every class: ground it on the shape table
            base.insert(0, f"(= bare_rows (rows {pattern}))")
        uses_root = any(x in built for x in (root_r, root_c))
        out = []
        for i, variant in enumerate(self.typing_variants()):
            facts = base + variant
            text = " ".join(facts + [built])
            dims = [f for k, f in self.facts_dims.items() if k in text]
            if uses_root:
                dims += [f"(= {root_r} (rows e))", f"(= {root_c} (cols e))"]
            name = f"{self.use.label}#{i}"
            out.append(f"(rule ({' '.join(base + dims + variant)}) ((union e {built})) "
                       f":ruleset {ruleset} :name \"{name}\")")
        return out


def compile_use(rule: Rule, use: RuleUse, has_wrt: bool, ruleset: str) -> list[str]:
    """egglog rules for one use of `rule`; `has_wrt`: runs name a variable (`wrt-name`)."""
    if use.direction == "backward" and not rule.reversible:
        raise ValueError(f"rule {rule.name} cannot be used backward (its right side loses information)")
    if any(c.pred in WITHOUT_FACTS for c in rule.conditions):
        return []   # the e-graph holds no assumed facts (nonzero(s) ...): such rules stay out
    return _Compiler(rule, use, has_wrt).compile(ruleset)


WITHOUT_FACTS = ("nonzero", "nonnull", "negint", "orthogonal", "simplex")
