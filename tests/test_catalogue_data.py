"""The gradient catalogue (tests/data/gradients.json) and its false claims are sound.

Every entry must parse, type-check (f scalar, the expected gradient shaped like the variable) and
agree with central finite differences at random points; every false claim must disagree, while its
stated correction agrees.  The engine's acceptance tests rely on this data being right.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from rewrite import expr as E
from rewrite.numeric import check_gradient
from rewrite.shapes import infer, normalize_decls
from rewrite.syntax import parse

DATA = Path(__file__).parent / "data"
TOPICS = {"determinants", "inverses", "scalar-forms", "traces-1", "traces-2", "traces-higher",
          "norms", "elementwise", "ml", "seeds"}
FIELDS = {"id", "source", "topic", "f", "wrt", "vars", "expected", "note"}
FALSE_FIELDS = {"id", "source", "f", "wrt", "vars", "claimed", "correct", "error"}


def _load(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))["entries"]


GRADIENTS = _load("gradients.json")
FALSE = _load("false_gradients.json")


def _typed(text: str, decls: dict, wrt: str | None = None):
    """Parse and infer; with `wrt`, type `text - wrt` so `I`, `ones` take the variable's shape."""
    e = parse(text)
    if wrt is None:
        return e, infer(e, decls), ()
    t = infer(E.Expr(E.SUB, (e, E.sym(wrt))), decls)
    return e, t, (0,)


# --- the catalogue is well formed ----------------------------------------------------------------
def _by_id(entries):
    return [pytest.param(e, id=e["id"]) for e in entries]


def test_ids_are_unique():
    ids = [e["id"] for e in GRADIENTS + FALSE]
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_coverage():
    topics = Counter(e["topic"] for e in GRADIENTS)
    assert set(topics) == TOPICS, set(topics) ^ TOPICS
    assert sum(1 for e in GRADIENTS if e["source"].startswith("Matrix Cookbook")) >= 70
    seed_examples = {e["source"].split(",")[0].split(" (")[0] for e in GRADIENTS
                     if e["source"].startswith("seed 001 example")}
    assert seed_examples == {f"seed 001 example {i}" for i in range(1, 9)}
    assert len(FALSE) >= 15


@pytest.mark.parametrize("entry", _by_id(GRADIENTS))
def test_entry_is_well_formed(entry):
    assert set(entry) <= FIELDS and FIELDS - {"note"} <= set(entry), set(entry) ^ FIELDS
    assert entry["topic"] in TOPICS
    _check_typing(entry["f"], entry["wrt"], entry["vars"], [entry["expected"]])


@pytest.mark.parametrize("entry", _by_id(FALSE))
def test_false_entry_is_well_formed(entry):
    assert set(entry) == FALSE_FIELDS, set(entry) ^ FALSE_FIELDS
    _check_typing(entry["f"], entry["wrt"], entry["vars"], [entry["claimed"], entry["correct"]])


def _check_typing(f: str, wrt: str, vars: dict, gradients: list[str]) -> None:
    fe = parse(f)
    typing = infer(fe, normalize_decls(vars))
    assert typing.shape().is_scalar, f"f is {typing.shape()}, not scalar"
    assert wrt in fe.symbols(), f"{wrt} does not occur in f"
    assert set(vars) <= fe.symbols(), f"declared but unused: {set(vars) - fe.symbols()}"
    for g in gradients:
        ge, gt, gp = _typed(g, typing.vars, wrt)
        assert ge.symbols() <= fe.symbols(), f"{g} uses {ge.symbols() - fe.symbols()}, not in f"
        assert gt.shapes[gp] == typing.vars[wrt].shape, f"{g} has shape {gt.shapes[gp]}"


# --- the catalogue is right, the false claims are wrong ------------------------------------------
def _seed(entry: dict) -> int:
    return sum(map(ord, entry["id"]))


@pytest.mark.parametrize("entry", _by_id(GRADIENTS))
def test_expected_gradient_matches_finite_differences(entry):
    r = check_gradient(entry["f"], entry["wrt"], entry["expected"], entry["vars"], seed=_seed(entry))
    assert r.ok, f"{entry['id']}: {r.details}"


@pytest.mark.parametrize("entry", _by_id(FALSE))
def test_false_claim_is_refuted_and_its_correction_holds(entry):
    wrong = check_gradient(entry["f"], entry["wrt"], entry["claimed"], entry["vars"], seed=_seed(entry))
    assert not wrong.ok, f"{entry['id']}: the false claim passed: {wrong.details}"
    assert wrong.points > 0, f"{entry['id']}: no usable point, so nothing was refuted: {wrong.details}"
    assert wrong.max_rel_error > 1e-2, f"{entry['id']} fails only narrowly: {wrong.details}"
    right = check_gradient(entry["f"], entry["wrt"], entry["correct"], entry["vars"], seed=_seed(entry))
    assert right.ok, f"{entry['id']}: the correction fails: {right.details}"
