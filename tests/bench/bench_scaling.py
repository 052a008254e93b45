"""Benchmark: how derivation, proof and checking scale, side by side with SymPy's `diff`.

    python tests/bench/bench_scaling.py [--quick] [--random N] [--jobs J] [--json FILE]

Everything runs in this one process, each input timed for us and for SymPy one after the other
(best of --repeat), so that the ratios are fair on a shared machine:

1. the four series of `tests/scaling_series.py` (k-factor trace, L-layer tanh network, nested
   inverse, sum of m traces): time without proof (derive), with proof (derive and build the
   proof document), check (the checker replays it), SymPy, the ratio (with proof + check) /
   SymPy, SymPy's verdict, proof steps and the size of the differential; then the growth
   exponents fitted on log-log scales (time and size against n; check time against steps);
2. the gradient catalogue (`tests/data/gradients.json`): the distribution of derive + proof +
   check, and the ratio of medians against SymPy on the entries SymPy gets right;
3. a fresh process `rewrite derive "tr(A*X*B)" --wrt X` (wall time, median of 5) and what its
   imports cost;
4. N random functions (`tests/randexpr.py`, seeds 1, 2, ...): right (finite differences), with a
   checked proof, unknown, time.

Not collected by the test run.  Timings vary with the machine; ratios and exponents are the
measure.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(HERE)]

from scaling_series import SERIES, SYMPY_FORMS  # noqa: E402


def best(fn, repeat: int):
    """(result of the last call, best time)."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, min(times)


def fit_exponent(xs, ys) -> float:
    """Least-squares slope of log y against log x."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys) if x > 0 and y > 0]
    if len(pts) < 2:
        return float("nan")
    mx = statistics.fmean(p[0] for p in pts)
    my = statistics.fmean(p[1] for p in pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else float("nan")


# --- one input, both tools ---------------------------------------------------------------------------
def measure(f: str, wrt: str, vars: dict, repeat: int, sympy: bool = True, sympy_f: str | None = None) -> dict:
    from sympy_side import diff

    from rewrite.errors import RewriteError
    from rewrite.pipeline import derive, proof_of_derivation
    from rewrite.proof.checker import check

    row: dict = {}
    try:
        d, row["derive"] = best(lambda: derive(f, wrt, vars), repeat)
        proof, built = best(lambda: proof_of_derivation(d), repeat)
        row["with_proof"] = row["derive"] + built
        report, row["check"] = best(lambda: check(proof), repeat)
    except RewriteError as err:
        row.update(status="unknown", reason=str(err))
        return row
    row.update(status="proved" if report.ok else "rejected", steps=len(d.steps),
               size=max(s["term_nodes"] for s in d.stages), gradient=str(d.gradient))
    if sympy:
        if sympy_f is not None:   # SymPy on the same function, written the way it gets right
            row["sympy_on_ours"] = diff(f, wrt, vars, str(d.gradient), repeat=1).get("sympy")
        row.update(diff(sympy_f or f, wrt, vars, str(d.gradient), repeat=repeat))
        if "sympy_seconds" in row:
            row["ratio"] = (row["with_proof"] + row["check"]) / row["sympy_seconds"]
    return row


# --- 1. the series ---------------------------------------------------------------------------------------
def series(repeat: int, quick: bool) -> dict:
    out = {}
    for name, (make, letter, sizes) in SERIES.items():
        if quick:
            sizes = sizes[:: max(1, len(sizes) // 3)]
        rows = []
        alt = SYMPY_FORMS.get(name)
        print(f"\n{name} ({letter})")
        if alt:
            print(f"(SymPy is timed on the same function written as {alt(2)[0]} and so on; its verdict "
                  f"on our form is in brackets)")
        print(f"{letter:>3} {'derive s':>9} {'+proof s':>9} {'check s':>8} {'SymPy s':>8} {'ratio':>7} "
              f"{'SymPy':>16} {'steps':>6} {'size':>7}")
        for n in sizes:
            f, wrt, vars = make(n)
            r = measure(f, wrt, vars, repeat, sympy_f=alt(n)[0] if alt else None)
            r["n"] = n
            rows.append(r)
            if r["status"] == "unknown":
                print(f"{n:>3} unknown: {r['reason']}")
                continue
            sym = f"{r.get('sympy_seconds', float('nan')):8.3f}"
            print(f"{n:>3} {r['derive']:9.3f} {r['with_proof']:9.3f} {r['check']:8.3f} {sym} "
                  f"{r.get('ratio', float('nan')):7.2f} {_verdict(r):>16} {r['steps']:6} {r['size']:7}"
                  + ("" if r["status"] == "proved" else "  PROOF REJECTED"))
        done = [r for r in rows if r["status"] == "proved"]
        ns = [r["n"] for r in done]
        exps = {"time": fit_exponent(ns, [r["with_proof"] + r["check"] for r in done]),
                "size": fit_exponent(ns, [r["size"] for r in done]),
                "steps": fit_exponent(ns, [r["steps"] for r in done]),
                "check_vs_steps": fit_exponent([r["steps"] for r in done], [r["check"] for r in done])}
        print(f"growth exponents in {letter}: time {exps['time']:.2f}, size {exps['size']:.2f}, "
              f"steps {exps['steps']:.2f}; check time against steps {exps['check_vs_steps']:.2f}")
        if done and len(done) > 1:
            first = done[0]
            print(f"largest over smallest: {(done[-1]['with_proof'] + done[-1]['check']) / (first['with_proof'] + first['check']):.1f}x")
        out[name] = {"rows": rows, "exponents": exps}
    return out


def _verdict(r: dict) -> str:
    return r.get("sympy", "-") + (f" ({r['sympy_on_ours']})" if "sympy_on_ours" in r else "")


# --- 2. the catalogue ------------------------------------------------------------------------------------
def catalogue(repeat: int) -> dict:
    entries = json.loads((ROOT / "tests" / "data" / "gradients.json").read_text())["entries"]
    rows = []
    for e in entries:
        r = measure(e["f"], e["wrt"], e.get("vars") or {}, repeat)
        r["id"] = e["id"]
        rows.append(r)
    ours = sorted(r["with_proof"] + r["check"] for r in rows if r["status"] == "proved")
    both = [r for r in rows if r["status"] == "proved" and r.get("sympy") == "right"]
    q = statistics.quantiles(ours, n=10)
    print(f"\ncatalogue: {len(ours)} of {len(rows)} derived with a checked proof")
    print(f"derive + proof + check: median {statistics.median(ours) * 1000:.1f} ms, 10% {q[0] * 1000:.1f} ms, "
          f"90% {q[-1] * 1000:.1f} ms, max {ours[-1] * 1000:.1f} ms; over 2 s: "
          f"{sum(t > 2 for t in ours)}")
    verdicts: dict[str, int] = {}
    for r in rows:
        verdicts[r.get("sympy", "-")] = verdicts.get(r.get("sympy", "-"), 0) + 1
    print("SymPy: " + ", ".join(f"{k} {v}" for k, v in sorted(verdicts.items())))
    if both:
        mo = statistics.median(r["with_proof"] + r["check"] for r in both)
        ms = statistics.median(r["sympy_seconds"] for r in both)
        ratios = sorted(r["ratio"] for r in both)
        print(f"on the {len(both)} entries SymPy gets right: median ours {mo * 1000:.1f} ms, SymPy "
              f"{ms * 1000:.1f} ms, ratio of medians {mo / ms:.2f}; per-entry ratio median "
              f"{statistics.median(ratios):.2f}, range {ratios[0]:.2f}-{ratios[-1]:.2f}")
    return {"rows": rows}


# --- 3. a fresh process ------------------------------------------------------------------------------------
def fresh_process(runs: int = 5) -> dict:
    exe = shutil.which("rewrite")
    cmd = [exe] if exe else [sys.executable, "-m", "rewrite"]
    cmd += ["derive", "tr(A*X*B)", "--wrt", "X"]
    walls = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True)
        walls.append(time.perf_counter() - t0)
    bare = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], capture_output=True, check=True)
        bare.append(time.perf_counter() - t0)
    p = subprocess.run([sys.executable, "-X", "importtime", "-c",
                        "import rewrite.cli; rewrite.cli.main(['derive', 'tr(A*X*B)', '--wrt', 'X'])"],
                       capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    imports = []
    for line in p.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith(" " * 3):
            imports.append((int(parts[1]), parts[2].strip()))
    imports.sort(reverse=True)
    print(f"\nfresh process `{' '.join(cmd[-4:])}`: median {statistics.median(walls):.3f} s wall "
          f"(python -c pass: {statistics.median(bare):.3f} s); top-level imports: "
          + ", ".join(f"{name} {us / 1000:.0f} ms" for us, name in imports[:5]))
    return {"wall": walls, "python": bare, "imports": imports[:10]}


# --- 4. random functions -------------------------------------------------------------------------------------
def _random_one(case) -> dict:
    from rewrite import numeric
    from rewrite.errors import RewriteError
    from rewrite.pipeline import derive, proof_of_derivation
    from rewrite.proof.checker import check

    f, wrt, vars = case
    t0 = time.perf_counter()
    try:
        d = derive(f, wrt, vars)
        ok = check(proof_of_derivation(d)).ok
    except RewriteError as err:
        return {"f": f, "status": "unknown", "reason": str(err), "seconds": time.perf_counter() - t0}
    seconds = time.perf_counter() - t0
    fd = numeric.check_gradient(f, wrt, d.gradient, d.vars, seed=1)
    if not ok:
        status = "proof rejected"
    elif fd.ok:
        status = "right"
    elif fd.points and fd.max_rel_error > numeric.GRADIENT_TOL:
        status = "WRONG"
    else:
        status = "unchecked"   # finite differences found too few points in the domain
    return {"f": f, "wrt": wrt, "status": status, "seconds": seconds, "steps": len(d.steps),
            "details": "" if fd.ok else fd.details}


def random_functions(count: int, jobs: int) -> dict:
    from randexpr import functions

    cases, seed = [], 1
    while len(cases) < count:
        cases += [(c.f, c.wrt, c.vars) for c in functions(seed, min(1000, count - len(cases)))]
        seed += 1
    t0 = time.perf_counter()
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            rows = list(pool.map(_random_one, cases, chunksize=8))
    else:
        rows = [_random_one(c) for c in cases]
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    ts = sorted(r["seconds"] for r in rows)
    proved = counts.get("right", 0) + counts.get("unchecked", 0)
    print(f"\n{len(rows)} random functions ({time.perf_counter() - t0:.0f} s wall): "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(f"with a checked proof: {100 * proved / len(rows):.2f}%; unknown: "
          f"{100 * counts.get('unknown', 0) / len(rows):.2f}%; derive + proof + check median "
          f"{statistics.median(ts) * 1000:.1f} ms, max {ts[-1]:.2f} s, over 10 s: {sum(t > 10 for t in ts)}")
    for r in rows:
        if r["status"] not in ("right",):
            print(f"  {r['status']}: {r['f']} by {r.get('wrt')}: {r.get('reason') or r.get('details')}"[:300])
    return {"counts": counts, "rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="a third of each series, no catalogue, 200 random")
    ap.add_argument("--repeat", type=int, default=3, help="best of this many runs per timing")
    ap.add_argument("--random", type=int, default=2000, help="how many random functions")
    ap.add_argument("--jobs", type=int, default=1, help="processes for the random functions only")
    ap.add_argument("--json", help="write all measurements to this file")
    args = ap.parse_args()
    results = {"series": series(args.repeat, args.quick)}
    if not args.quick:
        results["catalogue"] = catalogue(args.repeat)
    results["fresh_process"] = fresh_process()
    results["random"] = random_functions(200 if args.quick else args.random, args.jobs)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
