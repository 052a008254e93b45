"""Regenerate `proofs/gradients/<id>.json`: one checked proof per entry of the gradient catalogue.

    python -m rewrite.proof.generate              # every entry of tests/data/gradients.json
    python -m rewrite.proof.generate ID [ID ...]  # only these entries
    python -m rewrite.proof.generate --jobs 4     # in parallel processes

Each entry is derived (`rewrite.pipeline.derive`), its proof reconstructed
(`build.proof_of_derivation`) and replayed by the checker; only accepted proofs are written.
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
CATALOGUE = ROOT / "tests" / "data" / "gradients.json"
OUT = ROOT / "proofs" / "gradients"


def catalogue(path: Path = CATALOGUE) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["entries"]


def _without_timings(stats):
    """The stats with every `*_seconds` key removed (recursively)."""
    if isinstance(stats, dict):
        return {k: _without_timings(v) for k, v in stats.items() if not k.endswith("seconds")}
    if isinstance(stats, list):
        return [_without_timings(v) for v in stats]
    return stats


def proof_for(entry: dict):
    """(Proof, None) or (None, why): the checked proof of one catalogue entry."""
    from ..pipeline import derive
    from ..errors import RewriteError
    from .build import proof_of_derivation
    from .checker import check

    try:
        d = derive(entry["f"], entry["wrt"], entry.get("vars") or {})
        proof = proof_of_derivation(d)
    except RewriteError as err:
        return None, f"{type(err).__name__}: {err}"
    report = check(proof)
    if not report.ok:
        return None, "rejected by the checker: " + "; ".join(report.errors[:3])
    proof.stats = _without_timings(proof.stats)
    proof.stats["catalogue_id"] = entry["id"]
    return proof, None


def _job(entry: dict) -> tuple[str, str | None, str | None]:
    proof, why = proof_for(entry)
    return entry["id"], proof.to_json(indent=1) + "\n" if proof else None, why


def generate(ids: list[str] | None = None, jobs: int = 1, out: Path = OUT) -> dict[str, str]:
    """Write the proof files; the failures, id -> reason."""
    entries = catalogue()
    known = {e["id"] for e in entries}
    unknown = sorted(set(ids or ()) - known)
    if unknown:
        raise SystemExit(f"generate: error: not in the catalogue: {', '.join(unknown)}")
    todo = [e for e in entries if not ids or e["id"] in ids]
    out.mkdir(parents=True, exist_ok=True)
    if not ids:   # a full run: drop proofs of entries that left the catalogue
        for stale in out.glob("*.json"):
            if stale.stem not in known:
                stale.unlink()
    failures: dict[str, str] = {}
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = pool.map(_job, todo)
            results = list(results)
    else:
        results = map(_job, todo)
    for entry_id, text, why in results:
        target = out / f"{entry_id}.json"
        if text is None:
            failures[entry_id] = why
            target.unlink(missing_ok=True)   # never leave a proof of an older derivation
            print(f"FAILED {entry_id}: {why}", file=sys.stderr)
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
