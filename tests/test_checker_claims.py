"""The checker on the claim kinds beyond the gradient: differential, jacobian, vjp and hessian.

Each derived proof is accepted; each tampering (of the claimed result, of a step, of the
cotangent, of the second chain of a Hessian) is rejected with a message naming what is wrong.
"""
from __future__ import annotations

import json

import pytest

import rewrite
from rewrite.proof.checker import check


def as_dict(proof) -> dict:
    return json.loads(proof.to_json())


def rejected(d: dict, *needles: str) -> None:
    report = check(d)
    assert not report.ok, "the checker accepted a tampered proof"
    text = "\n".join(report.errors)
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{text}"


@pytest.fixture(scope="module")
def proofs() -> dict:
    xtx = rewrite.derivative("X'*X", "X", {"X": "m x n"})
    axb = rewrite.derivative("A*X*B", "X", {"X": "m x n", "A": "p x m", "B": "n x q"})
    vjp = rewrite.vjp("sigmoid(W*x)", "W", "G", {"W": "h x n", "x": "n"})
    hess = rewrite.hessian("log(sum(exp(A*x)))", "x", {"x": "n", "A": "m x n"})
    return {"differential": as_dict(xtx.differential_proof), "jacobian": as_dict(axb.proof),
            "vjp": as_dict(vjp.proof), "hessian": as_dict(hess.proof)}


@pytest.mark.parametrize("kind", ["differential", "jacobian", "vjp", "hessian"])
def test_derived_proofs_of_every_kind_are_accepted(proofs, kind):
    report = check(proofs[kind])
    assert report.ok, report.errors
    assert proofs[kind]["claim"]["kind"] == kind


@pytest.mark.parametrize("kind", ["differential", "jacobian", "vjp", "hessian"])
def test_every_dropped_step_is_rejected(proofs, kind):
    for field in ("steps", "second_steps"):
        for i in range(len(proofs[kind].get(field) or [])):
            d = json.loads(json.dumps(proofs[kind]))
            del d[field][i]
            assert not check(d).ok, f"{kind}: dropping {field}[{i}] was accepted"


def test_a_changed_differential_is_rejected(proofs):
    d = json.loads(json.dumps(proofs["differential"]))
    d["claim"]["differential"] = "2*X'*dX"
    rejected(d, "differential")


def test_a_differential_in_another_variable_is_rejected(proofs):
    d = json.loads(json.dumps(proofs["differential"]))
    d["vars"]["A"] = "m x n"
    d["claim"]["differential"] = "dA'*X + X'*dX"
    rejected(d, "a differential other than dX")


def test_only_a_hessian_has_second_steps(proofs):
    d = json.loads(json.dumps(proofs["differential"]))
    d["second_steps"] = proofs["hessian"]["second_steps"]
    rejected(d, "only a hessian claim has second_steps")


def test_a_changed_jacobian_is_rejected(proofs):
    d = json.loads(json.dumps(proofs["jacobian"]))
    assert d["claim"]["jacobian"] == "kron(B', A)"
    d["claim"]["jacobian"] = "2*kron(B', A)"
    rejected(d, "Jacobian form")


def test_a_jacobian_with_a_differential_is_rejected(proofs):
    d = json.loads(json.dumps(proofs["jacobian"]))
    d["claim"]["jacobian"] = "kron(B', dA)"
    rejected(d, "jacobian contains a differential")


def test_a_jacobian_by_an_undeclared_variable_is_rejected(proofs):
    d = json.loads(json.dumps(proofs["jacobian"]))
    d["claim"]["wrt"] = "Y"
    rejected(d, "wrt 'Y' is not a declared variable")


def test_a_changed_vjp_is_rejected(proofs):
    d = json.loads(json.dumps(proofs["vjp"]))
    v = d["claim"]["vjp"]
    d["claim"]["vjp"], d["claim"]["differential"] = f"2*({v})", f"tr((2*({v}))'*dW)"
    rejected(d, "differential")
    # the result and its trace form must agree
    d = json.loads(json.dumps(proofs["vjp"]))
    d["claim"]["vjp"] = f"2*({v})"
    rejected(d, "is not tr(V'*dW)")


def test_a_vjp_with_a_cotangent_of_the_wrong_shape_or_name_is_rejected(proofs):
    d = json.loads(json.dumps(proofs["vjp"]))
    d["vars"]["G"] = "h x h"
    rejected(d, "the cotangent does not have the shape of F")
    d = json.loads(json.dumps(proofs["vjp"]))
    d["claim"]["cotangent"] = "C"
    rejected(d, "the cotangent 'C' is not a declared variable")
    d = json.loads(json.dumps(proofs["vjp"]))
    d["claim"]["cotangent"] = "x"
    rejected(d, "the cotangent x occurs in F")


def test_a_changed_hessian_or_gradient_is_rejected(proofs):
    d = json.loads(json.dumps(proofs["hessian"]))
    d["claim"]["hessian"] = "2*(" + d["claim"]["hessian"] + ")"
    rejected(d, "Hessian form")
    d = json.loads(json.dumps(proofs["hessian"]))
    d["claim"]["gradient"] = "2*(" + d["claim"]["gradient"] + ")"
    rejected(d, "gradient form")


def test_a_hessian_without_its_second_chain_is_rejected(proofs):
    d = json.loads(json.dumps(proofs["hessian"]))
    d["second_steps"] = []
    rejected(d, "Hessian form")
    d = json.loads(json.dumps(proofs["hessian"]))
    d["steps"], d["second_steps"] = d["second_steps"], d["steps"]
    assert not check(d).ok


def test_a_hessian_of_a_matrix_function_is_rejected(proofs):
    d = json.loads(json.dumps(proofs["hessian"]))
    d["claim"]["f"] = "A*x"
    rejected(d, "not scalar")
