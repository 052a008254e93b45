"""Random functions over the whole language (tests/randexpr.py): every answer is right by finite
differences and comes with a proof the checker accepts; none is "unknown".  A small sample here;
tests/bench/bench_scaling.py runs thousands."""
from __future__ import annotations

import pytest
from randexpr import functions

import rewrite
from rewrite import numeric

SAMPLE = list(functions(seed=7, count=60))
BIGGER = list(functions(seed=8, count=120))


def _derived_right_with_proof(case):
    result = rewrite.derive(case.f, case.wrt, case.vars)
    report = rewrite.check(result.proof)
    assert report.ok, report.errors
    fd = numeric.check_gradient(case.f, case.wrt, result.gradient, result.vars, seed=1)
    # a point may fall outside a domain (near-singular inverse): then fewer points, never a mismatch
    assert fd.ok or fd.max_rel_error <= numeric.GRADIENT_TOL, (case.f, str(result.gradient), fd.details)
    return fd.ok


@pytest.mark.parametrize("case", SAMPLE, ids=[f"seed7-{i}" for i in range(len(SAMPLE))])
def test_random_function(case):
    _derived_right_with_proof(case)


@pytest.mark.slow
def test_more_random_functions():
    checked = sum(_derived_right_with_proof(case) for case in BIGGER)
    assert checked >= 0.97 * len(BIGGER)


def test_the_generator_is_reproducible_and_varied():
    again = list(functions(seed=7, count=60))
    assert [c.f for c in again] == [c.f for c in SAMPLE]
    ops = "".join(c.f for c in SAMPLE)
    for construct in ("inv(", "det(", "logdet(", "tr(", ".*", "./", "softmax(", "diag(", "norm2", "'"):
        assert construct in ops, construct
    assert {c.wrt for c in SAMPLE} == {"X", "x", "lam"}
