"""Benchmark: proofs of the gradient catalogue (not collected by the default test run).

    python tests/bench/bench_proofs.py [--jobs N] [ID ...]

For every entry: derive, reconstruct and shorten the proof, replay it in the checker.  Prints one
row per entry (proof length, reconstruction time, check time, largest e-graph, egglog time) and
the medians, then reconstruction time against egglog saturation time in total.  With --jobs > 1
entries run in parallel processes, which makes every timing noisier.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def measure(entry: dict) -> dict:
    from rewrite.pipeline import derive
    from rewrite.errors import RewriteError
    from rewrite.proof.build import proof_of_derivation
    from rewrite.proof.checker import check

    row = {"id": entry["id"]}
    try:
        d = derive(entry["f"], entry["wrt"], entry.get("vars") or {})
    except RewriteError as err:
        row["error"] = f"derive: {err}"
        return row
    row["egglog_s"] = sum(r.stats.seconds for r in d.runs)
    row["egraph"] = max(r.snapshot.size for r in d.runs)
    t0 = time.perf_counter()
    try:
        proof = proof_of_derivation(d)
    except RewriteError as err:
        row["error"] = f"reconstruct: {err}"
        row["reconstruct_s"] = time.perf_counter() - t0
        return row
    row["reconstruct_s"] = time.perf_counter() - t0
    row["steps"] = len(proof.steps)
    row["unshortened"] = proof.stats["steps_unshortened"]
    t0 = time.perf_counter()
    report = check(proof)
    row["check_s"] = time.perf_counter() - t0
    if not report.ok:
        row["error"] = "checker: " + "; ".join(report.errors[:2])
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ids", nargs="*")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    entries = json.loads((ROOT / "tests" / "data" / "gradients.json").read_text())["entries"]
    if args.ids:
        entries = [e for e in entries if e["id"] in args.ids]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(measure, entries))
    else:
        rows = [measure(e) for e in entries]

    head = f"{'entry':<28} {'steps':>5} {'(raw)':>5} {'recon s':>8} {'check s':>8} {'e-nodes':>8} {'egglog s':>8}"
    print(head)
    print("-" * len(head))
    for r in rows:
        if "steps" in r:
            print(f"{r['id']:<28} {r['steps']:>5} {r['unshortened']:>5} {r['reconstruct_s']:>8.3f} "
                  f"{r['check_s']:>8.3f} {r['egraph']:>8} {r['egglog_s']:>8.3f}"
                  + (f"  {r['error']}" if "error" in r else ""))
        else:
            print(f"{r['id']:<28} {r.get('error', '')}")
    ok = [r for r in rows if "steps" in r and "error" not in r]
    print("-" * len(head))
    if ok:
        med = {k: statistics.median(r[k] for r in ok)
               for k in ("steps", "unshortened", "reconstruct_s", "check_s", "egraph", "egglog_s")}
        print(f"{'median':<28} {med['steps']:>5} {med['unshortened']:>5} {med['reconstruct_s']:>8.3f} "
              f"{med['check_s']:>8.3f} {med['egraph']:>8.0f} {med['egglog_s']:>8.3f}")
        rec = sum(r["reconstruct_s"] for r in ok)
        egg = sum(r["egglog_s"] for r in ok)
        within = sum(r["reconstruct_s"] <= r["egglog_s"] for r in ok)
        print(f"\n{len(ok)} of {len(rows)} proofs accepted by the checker")
        print(f"total reconstruction {rec:.2f} s vs egglog saturation {egg:.2f} s (ratio {rec / egg:.2f}); "
              f"reconstruction no slower than saturation for {within} of {len(ok)} entries; "
              f"max reconstruction {max(r['reconstruct_s'] for r in ok):.2f} s")
    failed = [r for r in rows if "error" in r]
    for r in failed:
        print(f"FAILED {r['id']}: {r['error']}")


if __name__ == "__main__":
    main()
