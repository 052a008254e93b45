"""Benchmark: the whole catalogue end to end, and SymPy's `diff` on the same gradients.

    python tests/bench/bench_catalogue.py [--jobs N] [--no-sympy] [--json FILE]

- gradients.json: derive with proof, the proof replayed by the checker, then the derived gradient
  against central finite differences;
- identities.json: rewrite.verify on every identity (proved / unknown; refuted is wrong) and every
  false claim (refuted; proved is wrong); false_gradients.json: rewrite.verify_gradient;
- SymPy: each gradient's f converted with rewrite.sympy_bridge, `f.diff(X)` timed in the same
  process, and its answer evaluated at a random point against the catalogue's expected gradient.

Prints a table by topic (proved / refuted / unknown / wrong, median and worst seconds), the
SymPy comparison, and every unknown with its reason.  Not collected by the default test run.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
DATA = ROOT / "tests" / "data"

# --- our engine --------------------------------------------------------------------------------
def run_gradient(entry: dict) -> dict:
    import rewrite
    from rewrite.errors import RewriteError
    from rewrite.numeric import check_gradient
    from rewrite.proof.checker import check

    row = {"id": entry["id"], "topic": "gradient:" + entry["topic"]}
    t0 = time.perf_counter()
    try:
        r = rewrite.derive(entry["f"], entry["wrt"], entry.get("vars") or {})
        checked = check(r.proof).ok
    except RewriteError as err:
        row.update(status="unknown", reason=str(err), seconds=time.perf_counter() - t0)
        return row
    row["seconds"] = time.perf_counter() - t0   # derive + proof + check
    row["gradient"] = str(r.gradient)
    numeric = check_gradient(entry["f"], entry["wrt"], r.gradient, entry.get("vars") or {})
    if not numeric.ok:
        row.update(status="wrong", reason=f"derived {r.gradient} fails finite differences ({numeric.details})")
    elif not checked:
        row.update(status="wrong", reason=f"derived {r.gradient}, but the checker rejects the proof")
    else:
        row.update(status="proved", steps=len(r.proof.steps))
    return row


def run_identity(entry: dict, true: bool) -> dict:
    from rewrite.proof.checker import check
    from rewrite.verification import verify

    row = {"id": entry["id"], "topic": ("identity:" if true else "false-identity:") + entry["topic"]}
    t0 = time.perf_counter()
    r = verify(entry["lhs"], entry["rhs"], entry.get("vars") or {})
    row["seconds"] = time.perf_counter() - t0
    status = r.status
    if status == "proved" and not check(r.proof).ok:
        status = "wrong"
    if (true and status == "refuted") or (not true and status == "proved"):
        status = "wrong"
    row.update(status=status, reason=r.reason)
    return row


def run_false_gradient(entry: dict) -> dict:
    from rewrite.verification import verify_gradient

    row = {"id": entry["id"], "topic": "false-gradient"}
    t0 = time.perf_counter()
    r = verify_gradient(entry["f"], entry["wrt"], entry["claimed"], entry.get("vars") or {})
    row["seconds"] = time.perf_counter() - t0
    row.update(status="wrong" if r.status == "proved" else r.status, reason=r.reason)
    return row


# --- SymPy ---------------------------------------------------------------------------------------
def run_sympy(entry: dict) -> dict:
    """SymPy's diff of the same f: time, and whether it equals the expected gradient at a point."""
    from sympy_side import diff

    return {"id": entry["id"], **diff(entry["f"], entry["wrt"], entry.get("vars") or {}, entry["expected"])}


# --- the run -------------------------------------------------------------------------------------
def job(task):
    kind, entry, with_sympy = task
    if kind == "gradient":
        row = run_gradient(entry)
        if with_sympy:
            row.update(run_sympy(entry))
        return row
    if kind == "identity":
        return run_identity(entry, True)
    if kind == "false-identity":
        return run_identity(entry, False)
    return run_false_gradient(entry)


def tasks(with_sympy: bool) -> list:
    grads = json.loads((DATA / "gradients.json").read_text())["entries"]
    ids = json.loads((DATA / "identities.json").read_text())
    false_grads = json.loads((DATA / "false_gradients.json").read_text())["entries"]
    return ([("gradient", e, with_sympy) for e in grads]
            + [("identity", e, False) for e in ids["identities"]]
            + [("false-identity", e, False) for e in ids["false_claims"]]
            + [("false-gradient", e, False) for e in false_grads])


def table(rows: list[dict]) -> None:
    by_topic = defaultdict(list)
    for r in rows:
        by_topic[r["topic"]].append(r)
    head = f"{'topic':<32} {'n':>4} {'proved':>7} {'refuted':>8} {'unknown':>8} {'wrong':>6} {'median s':>9} {'worst s':>8}"
    print(head)
    print("-" * len(head))

    def line(name, rs):
        c = defaultdict(int)
        for r in rs:
            c[r["status"]] += 1
        ts = [r["seconds"] for r in rs]
        print(f"{name:<32} {len(rs):>4} {c['proved']:>7} {c['refuted']:>8} {c['unknown']:>8} {c['wrong']:>6} "
              f"{statistics.median(ts):>9.3f} {max(ts):>8.3f}")
    for topic in sorted(by_topic):
        line(topic, by_topic[topic])
    print("-" * len(head))
    line("all", rows)


def sympy_report(rows: list[dict]) -> None:
    grads = [r for r in rows if r["topic"].startswith("gradient:") and "sympy" in r]
    if not grads:
        return
    c = defaultdict(int)
    for r in grads:
        c[r["sympy"]] += 1
    print(f"\nSymPy diff on the {len(grads)} gradients: " + ", ".join(f"{k} {v}" for k, v in sorted(c.items())))
    both = [r for r in grads if "sympy_seconds" in r]
    if both:
        ours = statistics.median(r["seconds"] for r in both)
        theirs = statistics.median(r["sympy_seconds"] for r in both)
        print(f"on the {len(both)} SymPy differentiated: median SymPy diff {theirs * 1000:.1f} ms, median ours "
              f"(derive + proof + check) {ours * 1000:.1f} ms, ratio ours/SymPy {ours / theirs:.1f}")
        right = [r for r in both if r["sympy"] == "right"]
        print(f"SymPy numerically right on {len(right)} of {len(grads)}; ours proved and right on "
              f"{sum(r['status'] == 'proved' for r in grads)} of {len(grads)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--no-sympy", action="store_true")
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args()
    work = tasks(not args.no_sympy)
    t0 = time.perf_counter()
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs) as pool:
            rows = list(pool.map(job, work, chunksize=1))
    else:
        rows = [job(t) for t in work]
    wall = time.perf_counter() - t0
    table(rows)
    sympy_report(rows)
    engine = sum(r["seconds"] for r in rows)
    print(f"\n{len(rows)} entries in {wall:.1f} s wall ({args.jobs} job(s)); engine time {engine:.1f} s, "
          f"median {statistics.median(r['seconds'] for r in rows):.3f} s per entry")
    for status in ("wrong", "unknown"):
        listed = [r for r in rows if r["status"] == status]
        if listed:
            print(f"\n{status.upper()} ({len(listed)}):")
            for r in listed:
                print(f"  {r['id']:<30} {r.get('reason', '')[:200]}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
