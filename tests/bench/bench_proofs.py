"""Benchmark: proofs of the identity catalogue (not collected by the default test run).

    python tests/bench/bench_proofs.py [--jobs N] [ID ...]

Identities are proved by equality saturation (egglog), and their rule steps reconstructed from
the saturated e-graph (`rewrite/proof/reconstruct.py`).  For every true identity of
tests/data/identities.json: the saturation stages' time and largest e-graph, the reconstruction
time, the proof length before and after shortening, and the checker's time.  (Gradient proofs
need no reconstruction; tests/bench/bench_scaling.py measures them.)
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
    from rewrite.proof.checker import check
    from rewrite.verification import verify

    row = {"id": entry["id"]}
    t0 = time.perf_counter()
    r = verify(entry["lhs"], entry["rhs"], entry.get("vars") or {})
    row["verify_s"] = time.perf_counter() - t0
    if r.status != "proved":
        row["error"] = f"{r.status}: {r.reason}"
        return row
    stages = r.stats.get("stages", [])
    row["egglog_s"] = sum(s.get("seconds", 0.0) for s in stages)
    row["egraph"] = max((s.get("egraph_nodes", 0) for s in stages), default=0)
    row["reconstruct_s"] = r.stats.get("reconstruct_seconds", 0.0)
    row["steps"] = len(r.proof.steps)
    t0 = time.perf_counter()
    report = check(r.proof)
    row["check_s"] = time.perf_counter() - t0
    if not report.ok:
        row["error"] = "checker: " + "; ".join(report.errors[:2])
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("ids", nargs="*")
    ap.add_argument("--jobs", type=int, default=1)
    args = ap.parse_args()
    entries = json.loads((ROOT / "tests" / "data" / "identities.json").read_text())["identities"]
    entries = [e for e in entries if not args.ids or e["id"] in args.ids]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(measure, entries))
    else:
        rows = [measure(e) for e in entries]
    print(f"{'id':<28} {'steps':>6} {'e-graph':>8} {'egglog s':>9} {'rebuild s':>10} {'check s':>8}")
    for r in rows:
        if "error" in r:
            print(f"{r['id']:<28} {r['error'][:80]}")
            continue
        print(f"{r['id']:<28} {r['steps']:>6} {r['egraph']:>8} {r['egglog_s']:>9.3f} "
              f"{r['reconstruct_s']:>10.3f} {r['check_s']:>8.4f}")
    ok = [r for r in rows if "error" not in r]
    if ok:
        med = {k: statistics.median(r[k] for r in ok) for k in ("steps", "egglog_s", "reconstruct_s", "check_s")}
        print(f"\n{len(ok)} of {len(rows)} proved; median {med['steps']} steps, egglog {med['egglog_s']:.3f} s, "
              f"reconstruction {med['reconstruct_s']:.3f} s, check {med['check_s'] * 1000:.1f} ms; total "
              f"reconstruction {sum(r['reconstruct_s'] for r in ok):.1f} s against egglog "
              f"{sum(r['egglog_s'] for r in ok):.1f} s")


if __name__ == "__main__":
    main()
