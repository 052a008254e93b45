"""Gradients with respect to a symmetric matrix under the three conventions."""
from __future__ import annotations

import pytest

import rewrite
from rewrite import numeric
from rewrite.conventions import definition
from rewrite.proof.checker import check
from rewrite.syntax import parse

CASES = [("tr(A*X)", {"X": "n x n, symmetric"}),
         ("a'*X*b", {"X": "n x n, symmetric"}),
         ("logdet(X)", {"X": "n x n, spd"}),
         ("tr(X*B*X)", {"X": "n x n, symmetric"})]


@pytest.mark.parametrize("f, decls", CASES)
def test_symmetric_convention_is_the_gradient_on_symmetric_matrices(f, decls):
    r = rewrite.derive(f, "X", decls, convention="symmetric")
    # finite differences along symmetric directions see exactly sym(G)
    fd = numeric.check_gradient(f, "X", r.gradient, decls, seed=3)
    assert fd.ok, fd.details
    # and it is symmetric: equal to its own transpose at random symmetric points
    assert numeric.compare(str(r.gradient), f"({r.gradient})'", decls, seed=4).equal
    sym_g = definition(r.unconstrained_gradient, "symmetric")
    assert numeric.compare(str(r.gradient), str(sym_g), decls, seed=5).equal


@pytest.mark.parametrize("f, decls", CASES)
def test_cookbook_convention_is_its_definition(f, decls):
    r = rewrite.derive(f, "X", decls, convention="cookbook")
    g = r.unconstrained_gradient
    assert numeric.compare(str(r.gradient), f"{g} + ({g})' - I.*({g})", decls, seed=6).equal
    if r.convention_proof is not None:
        report = check(r.convention_proof)
        assert report.ok, report.errors
        assert parse(r.convention_proof.claim.rhs) == r.gradient


def test_the_differential_and_its_proof_stay_unconstrained():
    r = rewrite.derive("a'*X*b", "X", {"X": "n x n, symmetric"}, convention="symmetric")
    assert str(r.unconstrained_gradient) == "a*b'"
    assert r.proof.claim.gradient == "a*b'"
    assert check(r.proof).ok


@pytest.mark.parametrize("decls, convention, message", [
    ({"X": "n x n"}, "symmetric", "declared symmetric or spd"),
    ({}, "cookbook", "declared symmetric or spd"),
    ({"X": "n x n, symmetric"}, "upper", "unknown convention"),
])
def test_convention_needs_a_symmetric_variable(decls, convention, message):
    with pytest.raises(rewrite.InputError, match=message):
        rewrite.derive("tr(A*X)", "X", decls, convention=convention)
