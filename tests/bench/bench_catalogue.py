"""Benchmark: the whole catalogue end to end, and SymPy's `diff` on the same gradients.

    python tests/bench/bench_catalogue.py [--jobs N] [--no-sympy] [--json FILE]

- gradients.json: derive with proof (rewrite.derive: the proof is replayed by the kernel before it
  is returned), then the derived gradient against central finite differences;
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
import signal
import statistics
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data"

SYMPY_SECONDS = 10   # a SymPy diff (or its evaluation) running longer counts as not answered


# --- our engine --------------------------------------------------------------------------------
def run_gradient(entry: dict) -> dict:
    import rewrite
    from rewrite.errors import RewriteError
    from rewrite.numeric import check_gradient

    row = {"id": entry["id"], "topic": "gradient:" + entry["topic"]}
    t0 = time.perf_counter()
    try:
        r = rewrite.derive(entry["f"], entry["wrt"], entry.get("vars") or {})
    except RewriteError as err:
        row.update(status="unknown", reason=str(err), seconds=time.perf_counter() - t0)
        return row
    row["seconds"] = time.perf_counter() - t0
    row["gradient"] = str(r.gradient)
    numeric = check_gradient(entry["f"], entry["wrt"], r.gradient, entry.get("vars") or {})
    if not numeric.ok:
        row.update(status="wrong", reason=f"derived {r.gradient} fails finite differences ({numeric.details})")
    elif r.proof is None:
        row.update(status="unknown", reason=f"derived {r.gradient}, no proof: {r.proof_failure}")
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
class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def _sympy_value(g, env: dict, sizes: dict):
    """SymPy's answer at a concrete point, as a 2-d float array."""
    import numpy as np
    import sympy as sp
    from sympy.tensor.array.expressions import convert_array_to_matrix

    try:   # SymPy answers some gradients as array expressions (tensor products, permutations)
        g = convert_array_to_matrix(g)
    except Exception:
        pass
    g = g.subs({sp.Symbol(d, integer=True, positive=True): v for d, v in sizes.items()})
    values = {}
    for m in g.atoms(sp.MatrixSymbol):
        values[m] = sp.ImmutableMatrix(env[m.name].tolist())
    for s in g.free_symbols:
        if isinstance(s, sp.Symbol) and s.name in env:
            values[s] = sp.Float(float(env[s.name][0, 0]))
    v = g.xreplace(values)
    if hasattr(v, "as_explicit"):
        v = v.as_explicit()
    v = v.doit()
    if hasattr(v, "tolist"):
        a = np.array(v.tolist(), dtype=float)
    else:
        a = np.array([[float(v)]])
    return a.reshape(a.shape[0], -1) if a.ndim != 2 else a


def run_sympy(entry: dict) -> dict:
    """SymPy's diff of the same f: time, and whether it equals the expected gradient at a point."""
    import numpy as np
    import sympy as sp

    from rewrite.errors import RewriteError
    from rewrite.numeric import OutOfDomain, draw_sizes, evaluate, random_env
    from rewrite.shapes import infer, normalize_decls
    from rewrite.sympy_bridge import to_sympy
    from rewrite.syntax import parse

    out = {"id": entry["id"]}
    decls = normalize_decls(entry.get("vars") or {})
    f = parse(entry["f"])
    try:
        fs = to_sympy(f, decls)
    except (RewriteError, TypeError, ValueError) as err:
        out.update(sympy="not expressible", note=str(err).splitlines()[0][:90])
        return out
    wrt = next((s for s in fs.free_symbols if getattr(s, "name", None) == entry["wrt"]), None)
    if wrt is None:
        out.update(sympy="not expressible", note="the variable is lost in conversion")
        return out
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SYMPY_SECONDS)
    try:
        t0 = time.perf_counter()
        g = fs.diff(wrt)
        out["sympy_seconds"] = time.perf_counter() - t0
        if g.has(sp.Derivative):
            out.update(sympy="no answer", note="returns an unevaluated Derivative")
            return out
        expected = parse(entry["expected"])
        typing = infer(joint(f, expected, entry["wrt"]), decls)
        rng = np.random.default_rng(0)
        for _ in range(10):
            sizes = draw_sizes(typing, rng)
            env = random_env(typing, rng, sizes)
            try:
                want = evaluate(expected, env, typing=typing, path=GRADIENT_PATH, sizes=sizes)
            except OutOfDomain:
                continue
            break
        else:
            out.update(sympy="not checked", note="no point in the domain")
            return out
        got = _sympy_value(g, env, sizes)
        scale = max(1.0, float(np.max(np.abs(want))))
        if got.shape == want.shape and np.max(np.abs(got - want)) / scale < 1e-6:
            out["sympy"] = "right"
        elif got.shape == want.T.shape and np.max(np.abs(got - want.T)) / scale < 1e-6:
            out.update(sympy="transposed", note="the transpose of the gradient (numerator layout)")
        else:
            out.update(sympy="wrong" if got.size == want.size else "other shape",
                       note=f"SymPy gives shape {got.shape}, the gradient is {want.shape}")
    except _Timeout:
        out.update(sympy="timeout", note=f"over {SYMPY_SECONDS} s")
    except Exception as err:   # SymPy fails in many ways on matrix calculus; record, never crash
        out.update(sympy="error", note=f"{type(err).__name__}: {str(err).splitlines()[0][:80] if str(err) else ''}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return out


GRADIENT_PATH = (1, 0, 0, 0, 0)   # of G in joint(f, G, X)


def joint(f, gradient, wrt: str):
    """f + tr((G - X)'*(G - X)): a term whose typing gives G the shape of X (only the typing
    is used, so that `I` or `ones` in G get X's sizes)."""
    from rewrite import expr as E

    gap = E.Expr(E.SUB, (gradient, E.sym(wrt)))
    return E.Expr(E.ADD, (f, E.tr(E.mul(E.transpose(gap), gap))))


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
