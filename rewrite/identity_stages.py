"""Which rules the identity prover runs, in which order, with which budgets.

Proving `lhs = rhs` runs in stages, each one egglog run on both sides at once (see verification.py):

1. normalize: directed rules only (push transposes, inverses and determinants into products,
   split traces over sums, pull scalars out of traces, right-nest products, distribute, drop
   zeros).  Many textbook identities meet here, and the run cannot blow up: nothing is undone.
2. saturate-core: from the two normal forms, the few equations that need search: the cyclic
   trace, associativity, transposes both ways, Hadamard swaps and commutativity, scalars.
3. saturate: a wider set (sums, signs, inverses, definitions) under a larger budget.

Distributivity runs only forward and only in stage 1, so it never meets associativity and
add-commutativity in a saturating run (together they pass a million e-nodes at three factors).
"""
from __future__ import annotations

from . import expr as E
from .egg.compile import RuleUse
from .egg.session import Budget
from .egg.snapshot import ENode, Snapshot
from .rules import library


def group_uses(name: str, direction: str = "forward", exclude: tuple[str, ...] = ()) -> list[RuleUse]:
    """Every rule of a group (a file in rules/), in one direction."""
    return [RuleUse(r.name, direction) for r in library().values()
            if r.group == name and r.name not in exclude]


def both_ways(*names: str) -> list[RuleUse]:
    return [RuleUse(n, d) for n in names for d in ("forward", "backward")]


def forward(*names: str) -> list[RuleUse]:
    return [RuleUse(n, "forward") for n in names]


ZERO = group_uses("zero")
ARITH = group_uses("arithmetic")


NORMALIZE = (
    group_uses("transpose")
    + forward("transpose-add", "transpose-sub", "transpose-neg",
           "tr-add", "tr-sub", "tr-neg", "trace-transpose", "trace-scale", "trace-scalar",
           "trace-div", "trace-identity-mul",
           "sum-add", "sum-sub", "sum-neg", "diag-add", "diag-sub", "diag-neg",
           "det-transpose", "det-mul", "det-inv", "det-identity", "logdet-transpose", "logdet-inv",
           "inv-mul", "inv-inv", "inv-identity", "inv-scalar", "inv-mul-self-l", "inv-mul-self-r",
           "pow-neg-one", "pow-expand", "norm2sq-def", "norm2-def",
           "mul-assoc", "had-assoc", "add-assoc",
           "mul-add-r", "mul-add-l", "mul-sub-r", "mul-sub-l",
           "had-add-r", "had-add-l", "had-sub-r", "had-sub-l", "hdiv-add-l", "hdiv-sub-l",
           "div-add", "div-sub",
           "neg-neg", "mul-neg-l", "mul-neg-r", "had-neg-l", "had-neg-r", "hdiv-neg-l", "div-neg",
           "scale-mul-r", "had-scale-l", "had-scale-r", "hdiv-scale-l", "had-ones",
           "hdiv-scalar", "had-scalar")
    + ZERO + ARITH
)

SATURATE_CORE = (
    forward("trace-cyclic", "transpose-transpose", "neg-neg", "transpose-symmetric")
    + both_ways("mul-assoc", "trace-transpose", "transpose-mul", "transpose-scalar", "trace-scalar",
            "trace-scale", "scalar-comm", "scale-mul-r", "had-comm", "had-assoc", "hadamard-swap",
            "hadamard-swap-r", "hdiv-swap", "transpose-hadamard", "add-comm", "mul-neg-l", "mul-neg-r",
            "tr-neg", "transpose-neg")
)

SATURATE = SATURATE_CORE + (
    forward("sum-def", "diag-def", "trace-hadamard", "had-ones", "div-as-scale", "inv-inv",
         "inv-mul-self-l", "inv-mul-self-r")
    + both_ways("add-assoc", "transpose-add", "transpose-sub", "tr-add", "tr-sub", "transpose-inv",
            "inv-mul", "det-transpose", "det-mul", "transpose-hdiv", "transpose-div", "trace-div",
            "had-scale-l", "had-scale-r", "had-neg-l", "had-neg-r", "sub-as-add", "neg-as-scale",
            "mul-identity-l", "mul-identity-r")
    + ZERO + ARITH
)

STAGES = (("normalize", NORMALIZE), ("saturate-core", SATURATE_CORE), ("saturate", SATURATE))

BUDGETS = {
    "normalize": Budget(iterations=40, nodes=20_000, seconds=4.0),
    "saturate-core": Budget(iterations=10, nodes=6_000, seconds=2.0),
    "saturate": Budget(iterations=8, nodes=15_000, seconds=4.0),
}


# --- which member of a class is "normalized" --------------------------------------------------
_LEAVES = (E.SYM, E.IDENTITY, E.ONES, E.ZERO, E.NUM)
_SUMS = (E.ADD, E.SUB)
_DEFINED = ("norm2sq", "norm2", E.POW)   # NORMALIZE unfolds them


def normal_form(snap: Snapshot):
    """Extraction cost (redexes left, size, op): the member the directed rules lead to.

    A redex is a place where a rule of NORMALIZE would still apply to the chosen term: a
    transpose over a compound term, a trace over a sum, sign or transpose, a left-nested product,
    a product over a sum, det or inv of a product or transpose, a double minus, a function or
    power that NORMALIZE unfolds.
    """
    def cost(node: ENode, c: int, kids: list):
        ops = [k[2] for k in kids]
        r = sum(k[0] for k in kids)
        op = node.op
        if op == E.TRANSPOSE and ops[0] not in _LEAVES:
            r += 1
        elif op == "tr" and ops[0] in _SUMS + (E.NEG, E.TRANSPOSE):
            r += 1
        elif op in (E.MUL, E.HADAMARD):
            r += (ops[0] == op) + sum(o in _SUMS for o in ops)
        elif op in ("det", "inv", "logdet") and ops[0] in (E.MUL, E.TRANSPOSE, "inv"):
            r += 1
        elif op == E.NEG and ops[0] == E.NEG:
            r += 1
        elif op in _DEFINED:
            r += 1
        return (r, 1 + sum(k[1] for k in kids), op)
    return cost
