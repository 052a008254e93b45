"""The inputs of the scaling benchmark derive, every size of every series, with a proof the
checker accepts and a gradient that finite differences confirm.  (No timing asserts: the times
and their growth are measured by tests/bench/bench_scaling.py.)"""
from __future__ import annotations

import pytest
from scaling_series import SERIES

import rewrite
from rewrite import numeric

CASES = [(name, n) for name, (_, _, sizes) in SERIES.items() for n in sizes]
LARGE = {"k-factor trace": 12, "tanh network": 8, "nested inverse": 5, "sum of traces": 16}


@pytest.mark.parametrize("name, n", [pytest.param(name, n, marks=pytest.mark.slow) if n >= LARGE[name]
                                     else (name, n) for name, n in CASES],
                         ids=[f"{name}-{n}" for name, n in CASES])
def test_series_member_derives_with_a_checked_proof(name, n):
    f, wrt, vars = SERIES[name][0](n)
    result = rewrite.derive(f, wrt, vars)
    assert [s["stop"] for s in result.stats] == ["done"] * 4
    report = rewrite.check(result.proof)
    assert report.ok, report.errors
    fd = numeric.check_gradient(f, wrt, result.gradient, result.vars, seed=n)
    assert fd.ok, fd.details
