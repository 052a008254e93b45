"""Which rules each stage of the derivation runs, in which direction, with which guards.

Stages (see DESIGN.md): differentiate, linearize, isolate (per summand), collect, tidy.
Each stage is one egglog run; the guards only restrict where a rule fires.
"""
from __future__ import annotations

from .egg.compile import RuleUse
from .egg.session import Budget
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

DIFFERENTIATE = group_uses("differentiate") + ZERO + ARITH + forward("pow-expand", "pow-neg-one")

# distribute only over sums holding a differential
_DISTRIBUTE = {"mul-add-r": "BC", "mul-add-l": "AB", "mul-sub-r": "BC", "mul-sub-l": "AB",
               "had-add-r": "BC", "had-add-l": "AB", "had-sub-r": "BC", "had-sub-l": "AB",
               "hdiv-add-l": "AB", "hdiv-sub-l": "AB", "div-add": "AB", "div-sub": "AB"}
# a constant factor goes into the trace, so that the term is one trace.  (Hoisting numbers
# in this stage was tried and dropped: (1/2)*(2*T) = T makes the e-graph grow without end.)
_INTO_TRACE = [RuleUse("trace-scale", "backward", (("const", "s"),))]
LINEARIZE = ([RuleUse(n, "forward", (("hasd", v),)) for n, vs in _DISTRIBUTE.items() for v in vs]
             + group_uses("linear", exclude=tuple(_DISTRIBUTE)) + ZERO + ARITH + _INTO_TRACE)

# Peel operators off dX one at a time into the left factor of tr(A'*M) (directed, linear size).
_D = "hasd"
ISOLATE_ADJOINT = [
    RuleUse("trace-scalar", "backward", (("root", "s"),)),
    RuleUse("trace-inner", "forward", (("root", ""),)),
    RuleUse("trace-inner-scalar", "forward", (("root", ""),)),
    RuleUse("transpose-transpose", "backward", (("left-in-tr", "A"),)),
    RuleUse("trace-move-mul-l", "forward", ((_D, "C"),)),
    RuleUse("trace-move-mul-r", "forward", ((_D, "B"),)),
    RuleUse("trace-move-neg", "forward", ((_D, "B"),)),
    RuleUse("trace-move-transpose", "forward", ((_D, "B"),)),
    RuleUse("trace-move-div", "forward", ((_D, "B"),)),
    RuleUse("hadamard-swap", "forward", ((_D, "C"),)),
    RuleUse("hadamard-swap-r", "forward", ((_D, "B"),)),
    RuleUse("hdiv-swap", "forward", ((_D, "B"),)),
    RuleUse("sum-def", "forward", ((_D, "A"),)),
    RuleUse("diag-def", "forward", ((_D, "x"),)),
] + forward("neg-neg")

# The few rules that isolate dX in a product under a trace; tried before the full set.
_DEMAND = [RuleUse("mul-identity-l", "backward", (("dx", "A"),)),
           RuleUse("transpose-transpose", "backward", (("left-of-dx", "A"),))]
ISOLATE_CORE = (
    forward("trace-cyclic", "neg-neg", "transpose-transpose", "sum-def", "diag-def", "div-as-scale")
    + both_ways("trace-scalar", "trace-scale", "trace-transpose", "mul-assoc", "tr-neg", "mul-neg-l",
            "transpose-mul", "transpose-neg", "transpose-scalar",
            "hadamard-swap", "hdiv-swap", "had-comm", "trace-div")
    + forward("trace-hadamard") + _DEMAND
)

ISOLATE = (
    forward("trace-cyclic", "div-as-scale", "sum-def", "diag-def", "neg-neg", "transpose-transpose")
    + both_ways("trace-transpose", "trace-scalar", "trace-scale", "trace-div", "mul-assoc",
            "transpose-mul", "transpose-scalar", "hadamard-swap", "hdiv-swap", "had-comm",
            "transpose-hadamard", "transpose-hdiv", "mul-neg-l", "mul-neg-r", "tr-neg",
            "transpose-neg", "had-neg-l", "had-neg-r", "hdiv-neg-l", "scalar-comm",
            "scale-mul-r", "had-scale-l", "had-scale-r", "hdiv-scale-l", "transpose-div",
            "div-neg", "hdiv-scalar", "had-scalar")
    + forward("trace-hadamard")
    + _DEMAND
)

COLLECT = forward("trace-collect", "trace-collect-sub")

TIDY = (
    group_uses("transpose") + ZERO + ARITH
    + forward("neg-neg", "add-neg", "sub-neg", "mul-neg-l", "mul-neg-r", "had-neg-l", "had-neg-r",
           "transpose-neg", "hdiv-neg-l", "div-neg", "add-self", "inv-inv", "inv-mul-self-l",
           "inv-mul-self-r", "hdiv-cancel", "had-ones", "trace-collect", "scale-add-self-l",
           "scale-add-self-r", "hdiv-scalar", "had-scalar", "trace-scalar")
    + both_ways("mul-assoc", "add-comm", "had-comm", "scalar-comm", "scale-mul-r", "mul-add-l",
            "mul-add-r", "mul-sub-l", "mul-sub-r", "transpose-mul", "transpose-add",
            "transpose-sub", "had-scale-l", "had-scale-r", "neg-as-scale", "transpose-inv", "neg-add",
            "div-as-scale", "had-add-l", "had-sub-l", "had-add-r", "had-sub-r", "had-assoc")
)

BUDGETS = {
    "differentiate": Budget(iterations=60, nodes=20_000, seconds=8.0),
    "linearize": Budget(iterations=60, nodes=20_000, seconds=8.0),
    "isolate-adjoint": Budget(iterations=40, nodes=4_000, seconds=2.0),
    "isolate-core": Budget(iterations=12, nodes=4_000, seconds=2.0),
    "isolate": Budget(iterations=12, nodes=8_000, seconds=3.0),
    "collect": Budget(iterations=40, nodes=10_000, seconds=4.0),
    "tidy": Budget(iterations=8, nodes=1_500, seconds=3.0),   # one round; see TIDY_ROUNDS
}
# Tidy runs in rounds (see pipeline._Pipeline.tidy).  A round whose e-graph passes
# TIDY_ROUND_NODES is redone with fewer iterations: proofs of larger ones are hard to rebuild.
TIDY_ROUNDS = 8
TIDY_ITERATIONS = (8, 4, 2, 1)
TIDY_ROUND_NODES = 2000
