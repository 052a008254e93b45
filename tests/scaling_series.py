"""The four input series of the scaling benchmark (issue 8), shared by the tests (each size must
derive with a checked proof) and `tests/bench/bench_scaling.py` (which times them).

Each function returns (f, wrt, declarations) for a size n.
"""
from __future__ import annotations


def k_factor_trace(k: int):
    """tr(A1*X*A2*X*...*Ak*X): X occurs k times in one product."""
    return "tr(" + "*".join(f"A{i}*X" for i in range(1, k + 1)) + ")", "X", {"X": "n x n"}


def tanh_network(layers: int):
    """norm2sq(W_L*tanh(... tanh(W_1*x)) - y) in W_1: an L-layer network's squared error."""
    t = "x"
    for i in range(1, layers + 1):
        t = f"tanh(W{i}*{t})" if i < layers else f"W{i}*{t}"
    return f"norm2sq({t} - y)", "W1", {}


def nested_inverse(depth: int):
    """logdet(X + inv(X + inv(... X))) with `depth` inverses (X spd, so that it is defined)."""
    t = "X"
    for _ in range(depth):
        t = f"X + inv({t})"
    return f"logdet({t})", "X", {"X": "n x n, spd"}   # spd: every argument of inv and logdet is spd


def sum_of_traces(m: int):
    """tr(A1*X*B1) + ... + tr(Am*X*Bm)."""
    return " + ".join(f"tr(A{i}*X*B{i})" for i in range(1, m + 1)), "X", {"X": "n x m"}


def one_trace_of_the_sum(m: int):
    """tr(A1*X*B1 + ... + Am*X*Bm): the same function as `sum_of_traces`, in the form SymPy
    differentiates right (for a sum of traces its `diff` returns 0)."""
    return "tr(" + " + ".join(f"A{i}*X*B{i}" for i in range(1, m + 1)) + ")", "X", {"X": "n x m"}


SERIES = {
    "k-factor trace": (k_factor_trace, "k", [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20]),
    "tanh network": (tanh_network, "L", [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    "nested inverse": (nested_inverse, "d", [1, 2, 3, 4, 5, 6]),
    "sum of traces": (sum_of_traces, "m", [1, 2, 4, 8, 16, 32]),
}
# the form given to SymPy where it differs from ours (same function)
SYMPY_FORMS = {"sum of traces": one_trace_of_the_sum}
