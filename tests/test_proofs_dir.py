"""Every proof file in `proofs/` is accepted by the checker, and every catalogue entry has one.

The files are written by `python -m rewrite.proof.generate` (see proofs/README.md); this test
only replays them, so it needs neither egglog nor the engine.
"""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from rewrite.proof.checker import check
from rewrite.proof.model import SCHEMA_PATH, Proof
from rewrite.shapes import parse_decl_body
from rewrite.syntax import parse

ROOT = Path(__file__).resolve().parent.parent
PROOFS = ROOT / "proofs"
DATA = ROOT / "tests" / "data"
ENTRIES = json.loads((DATA / "gradients.json").read_text())["entries"]
IDENTITIES = json.loads((DATA / "identities.json").read_text())["identities"]
JACOBIANS = json.loads((DATA / "jacobians.json").read_text())["entries"]
VJPS = json.loads((DATA / "vjps.json").read_text())["entries"]
HESSIANS = json.loads((DATA / "hessians.json").read_text())["entries"]
FILES = sorted(p for p in PROOFS.rglob("*.json") if "schema" not in p.relative_to(PROOFS).parts)


SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PROOFS)) for p in FILES])
def test_proof_file_is_accepted(path):
    text = path.read_text(encoding="utf-8")
    jsonschema.validate(json.loads(text), SCHEMA)   # the published schema describes every proof
    report = check(text)
    assert report.ok, f"{path.relative_to(ROOT)}: " + "; ".join(report.errors[:5])


def _current_proof(folder: str, entry: dict, kind: str, function: str) -> Proof:
    """The proof file of `entry` in proofs/<folder>, which proves a claim of `kind` about the
    entry's function (the field `function` of the entry), with its variables."""
    path = PROOFS / folder / f"{entry['id']}.json"
    assert path.exists(), f"no proof file for {entry['id']}: run python -m rewrite.proof.generate"
    proof = Proof.from_json(path.read_text(encoding="utf-8"))
    claim = proof.claim
    assert claim.kind == kind
    # stale if the entry changed since the proof was generated
    stated = getattr(claim, "f", None) or claim.F
    assert parse(stated) == parse(entry[function]), f"{path.name} is about {stated}"
    assert claim.wrt == entry["wrt"]
    for name, body in (entry.get("vars") or {}).items():
        assert name in proof.vars, f"{path.name} does not declare {name}"
        want, got = parse_decl_body(body, name), parse_decl_body(proof.vars[name], name)
        assert (got.shape, got.props) == (want.shape, want.props), f"{name}: {got} is not {body}"
    return proof


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_catalogue_entry_has_a_current_proof(entry):
    _current_proof("gradients", entry, "gradient", "f")


@pytest.mark.parametrize("entry", JACOBIANS, ids=[e["id"] for e in JACOBIANS])
def test_jacobian_entry_has_current_proofs(entry):
    _current_proof("jacobians", entry, "jacobian", "F")
    _current_proof("differentials", entry, "differential", "F")


@pytest.mark.parametrize("entry", VJPS, ids=[e["id"] for e in VJPS])
def test_vjp_entry_has_a_current_proof(entry):
    proof = _current_proof("vjps", entry, "vjp", "F")
    assert proof.claim.cotangent == entry["cotangent"]


@pytest.mark.parametrize("entry", HESSIANS, ids=[e["id"] for e in HESSIANS])
def test_hessian_entry_has_a_current_proof(entry):
    _current_proof("hessians", entry, "hessian", "f")


@pytest.mark.parametrize("entry", IDENTITIES, ids=[e["id"] for e in IDENTITIES])
def test_identity_has_a_current_proof(entry):
    path = PROOFS / "identities" / f"{entry['id']}.json"
    assert path.exists(), f"no proof file for {entry['id']}: run python -m rewrite.proof.generate"
    claim = Proof.from_json(path.read_text(encoding="utf-8")).claim
    assert claim.kind == "equality"
    # a proof may run from either side to the other
    assert {parse(claim.lhs), parse(claim.rhs)} == {parse(entry["lhs"]), parse(entry["rhs"])}


@pytest.mark.parametrize("kind, entries", [
    ("gradients", ENTRIES), ("identities", IDENTITIES), ("jacobians", JACOBIANS),
    ("differentials", JACOBIANS), ("vjps", VJPS), ("hessians", HESSIANS)])
def test_no_proof_without_a_catalogue_entry(kind, entries):
    ids = {e["id"] for e in entries}
    orphans = sorted(p.stem for p in (PROOFS / kind).glob("*.json") if p.stem not in ids)
    assert not orphans, f"proof files of entries not in the catalogue: {orphans}"
