"""Regenerate `proofs/<kind>/<id>.json`: one checked proof per entry of the catalogue.

    python -m rewrite.proof.generate              # every entry of both catalogues
    python -m rewrite.proof.generate ID [ID ...]  # only these entries
    python -m rewrite.proof.generate --jobs 4     # in parallel processes

The catalogue is `tests/data/gradients.json` (kind `gradients`: each entry is derived with
`rewrite.pipeline.derive`, whose steps are the proof, `pipeline.proof_of_derivation`) and the
true identities of `tests/data/identities.json` (kind `identities`: each is proved with
`rewrite.verification.verify`).  Every proof is replayed by the checker; only accepted ones are
written.
Timings are left out of the files' stats so that regenerating on another machine gives the same
files (the benchmark `tests/bench/bench_proofs.py` measures them).  Files of entries that are
no longer in the catalogue are removed.  Exit status 1 if any entry has no accepted proof.
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
# kind -> (catalogue file, list of entries in it)
KINDS = {"gradients": ("gradients.json", "entries"), "identities": ("identities.json", "identities")}


def catalogue(kind: str = "gradients") -> list[dict]:
    """The entries of one kind, each tagged with its kind."""
    file, key = KINDS[kind]
    entries = json.loads((DATA / file).read_text(encoding="utf-8"))[key]
    return [{**e, "kind": kind} for e in entries]


def _without_timings(stats):
    """The stats with every `*_seconds` key removed (recursively)."""
    if isinstance(stats, dict):
        return {k: _without_timings(v) for k, v in stats.items() if not k.endswith("seconds")}
    if isinstance(stats, list):
        return [_without_timings(v) for v in stats]
    return stats


def proof_for(entry: dict):
    """(Proof, None) or (None, why): the checked proof of one catalogue entry."""
    from ..errors import RewriteError
    from .checker import check

    try:
        if entry.get("kind", "gradients") == "gradients":
            from ..pipeline import derive, proof_of_derivation

            proof = proof_of_derivation(derive(entry["f"], entry["wrt"], entry.get("vars") or {}))
        else:
            from ..verification import verify

            result = verify(entry["lhs"], entry["rhs"], entry.get("vars") or {})
            if result.status != "proved":
                return None, f"{result.status}: {result.stats.get('reason', '')}"
            proof = result.proof
    except RewriteError as err:
        return None, f"{type(err).__name__}: {err}"
    report = check(proof)
    if not report.ok:
        return None, "rejected by the checker: " + "; ".join(report.errors[:3])
    proof.stats = _without_timings(proof.stats)
    proof.stats["catalogue_id"] = entry["id"]
    return proof, None


def _job(entry: dict) -> tuple[str, str, str | None, str | None]:
    proof, why = proof_for(entry)
    return entry["kind"], entry["id"], proof.to_json(indent=1) + "\n" if proof else None, why


def generate(ids: list[str] | None = None, jobs: int = 1, out: Path = OUT) -> dict[str, str]:
    """Write the proof files; the failures, "kind/id" -> reason."""
    entries = [e for kind in KINDS for e in catalogue(kind)]
    known = {e["id"] for e in entries}
    unknown = sorted(set(ids or ()) - known)
    if unknown:
        raise SystemExit(f"generate: error: not in the catalogue: {', '.join(unknown)}")
    todo = [e for e in entries if not ids or e["id"] in ids]
    for kind in KINDS:
        (out / kind).mkdir(parents=True, exist_ok=True)
        if not ids:   # a full run: drop proofs of entries that left the catalogue
            ids_of_kind = {e["id"] for e in entries if e["kind"] == kind}
            for stale in (out / kind).glob("*.json"):
                if stale.stem not in ids_of_kind:
                    stale.unlink()
    failures: dict[str, str] = {}
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = pool.map(_job, todo)
            results = list(results)
    else:
        results = map(_job, todo)
    for kind, entry_id, text, why in results:
        target = out / kind / f"{entry_id}.json"
        if text is None:
            failures[f"{kind}/{entry_id}"] = why
            target.unlink(missing_ok=True)   # never leave a proof of an older derivation
            print(f"FAILED {kind}/{entry_id}: {why}", file=sys.stderr)
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    print(f"{len(todo) - len(failures)} of {len(todo)} proofs written", file=sys.stderr)
    return failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rewrite.proof.generate", description=__doc__.splitlines()[0])
    ap.add_argument("ids", nargs="*", help="catalogue ids (default: every entry)")
    ap.add_argument("--jobs", type=int, default=1, help="parallel processes")
    args = ap.parse_args(argv)
    return 1 if generate(args.ids or None, args.jobs) else 0


if __name__ == "__main__":
    sys.exit(main())
