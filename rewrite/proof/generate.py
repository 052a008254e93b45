"""Regenerate `proofs/<kind>/<id>.json`: one checked proof per entry of the catalogues.

    python -m rewrite.proof.generate              # every entry of every catalogue
    python -m rewrite.proof.generate ID [ID ...]  # only these entries
    python -m rewrite.proof.generate --jobs 4     # in parallel processes

The catalogues are in `tests/data`: `gradients.json` (kind `gradients`: each entry derived with
`rewrite.pipeline.derive`, whose steps are the proof), the true identities of `identities.json`
(kind `identities`, proved with `rewrite.verification.verify`), `jacobians.json` (two proofs
per entry: `jacobians/<id>.json` for vec(dF) = J*vec(dX) and `differentials/<id>.json` for
dF), `vjps.json` (kind `vjps`) and `hessians.json` (kind `hessians`).  Every proof is replayed by
the checker; only accepted ones are written.
Timings are left out of the files' stats so that regenerating on another machine gives the same
files (the benchmark `tests/bench/bench_proofs.py` measures them).  Files of entries that are
no longer in a catalogue are removed.  Exit status 1 if any entry has no accepted proof.
"""
from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
DATA = ROOT / "tests" / "data"
OUT = ROOT / "proofs"
# catalogue kind -> (file, list of entries in it, the proof folders an entry writes to)
KINDS = {
    "gradients": ("gradients.json", "entries", ("gradients",)),
    "identities": ("identities.json", "identities", ("identities",)),
    "jacobians": ("jacobians.json", "entries", ("jacobians", "differentials")),
    "vjps": ("vjps.json", "entries", ("vjps",)),
    "hessians": ("hessians.json", "entries", ("hessians",)),
}
FOLDERS = [folder for _, _, folders in KINDS.values() for folder in folders]


def catalogue(kind: str = "gradients") -> list[dict]:
    """The entries of one kind, each tagged with its kind."""
    file, key, _ = KINDS[kind]
    entries = json.loads((DATA / file).read_text(encoding="utf-8"))[key]
    return [{**e, "kind": kind} for e in entries]


def _without_timings(stats):
    """The stats with every `*_seconds` key removed (recursively)."""
    if isinstance(stats, dict):
        return {k: _without_timings(v) for k, v in stats.items() if not k.endswith("seconds")}
    if isinstance(stats, list):
        return [_without_timings(v) for v in stats]
    return stats


def _proofs(entry: dict) -> list:
    """The proofs of one entry, one per folder of its kind.  Raises RewriteError."""
    kind, vars = entry.get("kind", "gradients"), entry.get("vars") or {}
    if kind == "gradients":
        from ..pipeline import derive, proof_of_derivation

        return [proof_of_derivation(derive(entry["f"], entry["wrt"], vars))]
    if kind == "identities":
        from ..errors import UnknownResult
        from ..verification import verify

        result = verify(entry["lhs"], entry["rhs"], vars)
        if result.status != "proved":
            raise UnknownResult(f"{result.status}: {result.stats.get('reason', '')}", "verify")
        return [result.proof]
    from .. import api_beyond as beyond

    if kind == "jacobians":
        r = beyond.derivative(entry["F"], entry["wrt"], vars)
        return [r.proof, r.differential_proof]
    if kind == "vjps":
        return [beyond.vjp(entry["F"], entry["wrt"], entry["cotangent"], vars).proof]
    return [beyond.hessian(entry["f"], entry["wrt"], vars).proof]


def proofs_for(entry: dict) -> tuple[list | None, str | None]:
    """([Proof, ...], None) or (None, why): the checked proofs of one catalogue entry."""
    from ..errors import RewriteError
    from .checker import check

    try:
        proofs = _proofs(entry)
    except RewriteError as err:
        return None, f"{type(err).__name__}: {err}"
    for proof in proofs:
        report = check(proof)
        if not report.ok:
            return None, f"rejected by the checker ({proof.claim.kind}): " + "; ".join(report.errors[:3])
        proof.stats = _without_timings(proof.stats)
        proof.stats["catalogue_id"] = entry["id"]
    return proofs, None


def _job(entry: dict) -> tuple[str, str, list[str] | None, str | None]:
    proofs, why = proofs_for(entry)
    texts = [p.to_json(indent=1) + "\n" for p in proofs] if proofs else None
    return entry["kind"], entry["id"], texts, why


def generate(ids: list[str] | None = None, jobs: int = 1, out: Path = OUT) -> dict[str, str]:
    """Write the proof files; the failures, "kind/id" -> reason."""
    entries = [e for kind in KINDS for e in catalogue(kind)]
    known = {e["id"] for e in entries}
    unknown = sorted(set(ids or ()) - known)
    if unknown:
        raise SystemExit(f"generate: error: not in the catalogue: {', '.join(unknown)}")
    todo = [e for e in entries if not ids or e["id"] in ids]
    for kind, (_, _, folders) in KINDS.items():
        ids_of_kind = {e["id"] for e in entries if e["kind"] == kind}
        for folder in folders:
            (out / folder).mkdir(parents=True, exist_ok=True)
            if not ids:   # a full run: drop proofs of entries that left the catalogue
                for stale in (out / folder).glob("*.json"):
                    if stale.stem not in ids_of_kind:
                        stale.unlink()
    failures: dict[str, str] = {}
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(_job, todo))
    else:
        results = map(_job, todo)
    written = 0
    for kind, entry_id, texts, why in results:
        targets = [out / folder / f"{entry_id}.json" for folder in KINDS[kind][2]]
        if texts is None:
            failures[f"{kind}/{entry_id}"] = why
            for target in targets:
                target.unlink(missing_ok=True)   # never leave a proof of an older derivation
            print(f"FAILED {kind}/{entry_id}: {why}", file=sys.stderr)
            continue
        for target, text in zip(targets, texts):
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
        written += 1
    print(f"{written} of {len(todo)} entries have their proofs written", file=sys.stderr)
    return failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rewrite.proof.generate", description=__doc__.splitlines()[0])
    ap.add_argument("ids", nargs="*", help="catalogue ids (default: every entry)")
    ap.add_argument("--jobs", type=int, default=1, help="parallel processes")
    args = ap.parse_args(argv)
    return 1 if generate(args.ids or None, args.jobs) else 0


if __name__ == "__main__":
    sys.exit(main())
