"""The engine end to end on the gradient catalogue (Matrix Cookbook, seeds, ML losses).

Every entry is derived by the rules, and the derived gradient must (1) have the shape of the
variable, (2) agree with central finite differences at random points, (3) agree numerically with
the textbook gradient of the entry, and (4) come with a proof the independent checker accepts.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import rewrite
from rewrite import expr as E
from rewrite import numeric
from rewrite.proof.checker import check
from rewrite.shapes import infer, normalize_decls

ENTRIES = json.loads((Path(__file__).parent / "data" / "gradients.json").read_text())["entries"]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_catalogue_gradient(entry):
    f, wrt, decls = entry["f"], entry["wrt"], entry.get("vars", {})
    result = rewrite.derive(f, wrt, decls)

    # the gradient has the shape of wrt: G - X type-checks (a lone I or ones takes X's size)
    decls = normalize_decls({n: str(d) for n, d in result.vars.items()})
    assert infer(E.sub(result.gradient, E.sym(wrt)), decls).shape() == result.vars[wrt].shape

    fd = numeric.check_gradient(f, wrt, result.gradient, decls, seed=1)
    assert fd.ok, f"{result.gradient} disagrees with finite differences: {fd.details}"
    same = numeric.compare(str(result.gradient), entry["expected"], decls, seed=2)
    assert same.equal, f"{result.gradient} differs from the textbook {entry['expected']}"

    assert result.proof is not None
    report = check(result.proof)
    assert report.ok, report.errors
    assert result.proof.claim.gradient == str(result.gradient)


def test_differential_is_canonical():
    r = rewrite.derive("tr(A*X*B)", "X", {"X": "n x m"}, proof=False)
    assert str(r.gradient) == "A'*B'"
    assert str(r.differential) == "tr((A'*B')'*dX)"


@pytest.mark.parametrize("f, wrt, decls, expected", [
    ("tr(A*X*B)", "X", {"X": "n x m"}, "A'*B'"),
    ("logdet(X)", "X", {"X": "n x n, spd"}, "inv(X)"),
    ("x'*A*x", "x", {}, "(A + A')*x"),
    ("lam*tr(X)", "X", {"lam": "scalar", "X": "n x n"}, "lam*I"),
    ("(x - A*s)'*W*(x - A*s)", "s", {"W": "n x n, symmetric"}, "-2*A'*W*(x - A*s)"),
    ("a'*inv(X)*b", "X", {"X": "n x n, invertible"}, "-inv(X)'*a*b'*inv(X)'"),
    ("norm2(x)", "x", {}, "x/norm2(x)"),
    ("sum(log(sigmoid(X)))", "X", {}, "ones - sigmoid(X)"),
    ("tr(X*A*inv(X))", "X", {"X": "n x n, invertible"}, "0"),
])
def test_textbook_forms(f, wrt, decls, expected):
    """The tidy stage gives the short textbook answer, not a pile of transposes."""
    assert str(rewrite.derive(f, wrt, decls, proof=False).gradient) == expected


@pytest.mark.parametrize("budget, named", [(dict(steps=20), "steps budget"), (dict(nodes=60), "nodes budget"),
                                           (dict(seconds=0.0), "time budget")])
def test_unknown_is_reported_not_guessed(budget, named):
    """A tiny budget must give UnknownResult naming the stage and the budget, never a gradient."""
    from rewrite.directed.rewriter import Budget
    from rewrite.pipeline import derive

    with pytest.raises(rewrite.UnknownResult) as info:
        derive("tr(inv(X)*A*X*B*X*X*X*X*X)", "X", {"X": "n x n, invertible"}, budget=Budget(**budget))
    assert info.value.stage in ("differentiate", "isolate", "collect")
    assert named in str(info.value)


def test_a_tidy_stopped_by_its_budget_still_gives_a_proved_gradient(monkeypatch):
    """Tidying is presentation: when its budget runs out the gradient is left less tidy, and
    is still right, with a proof."""
    from rewrite.directed import tidy

    def stop(*args, **kwargs):
        from rewrite.directed.rewriter import OutOfBudget

        raise OutOfBudget("steps", 0)

    monkeypatch.setattr(tidy.Tidy, "normalize", stop)
    result = rewrite.derive("tr(A*X*B)", "X", {"X": "n x m"})
    assert [s["stop"] for s in result.stats if s["stage"] == "tidy"] == ["budget"]
    assert str(result.gradient) == "A'*(I*B')"
    assert check(result.proof).ok
