"""Benchmark: derivatives beyond the gradient (Jacobians, VJPs, Hessians), with SymPy alongside.

    python tests/bench/bench_beyond.py [--repeat R] [--sympy-seconds S] [--only jacobians|vjps|hessians]

For every entry of tests/data/jacobians.json, vjps.json and hessians.json, in this one process:
ours = the result, its proof(s) and the checker's replay (best of --repeat); SymPy = `diff` of
the same input (F.diff(X) for a Jacobian, tr(G'*F).diff(X) for a VJP, f.diff(x).diff(x) for a
Hessian), judged numerically at a random point against our result (itself checked against finite
differences by the tests).  SymPy lays matrix-by-matrix derivatives out as 4-index arrays: an
answer counts as right if some arrangement of its indices gives our matrix.

The issue's targets come first: the Hessian of the logistic loss and the Jacobian of X'*X, each
at most 1 s with proof.  Not collected by the test run; timings vary with the machine.
"""
from __future__ import annotations

import argparse
import itertools
import json
import signal
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path[:0] = [str(ROOT), str(HERE)]

from sympy_side import sympy_form  # noqa: E402

TARGETS = [("hessians", "h-logistic-design"), ("jacobians", "cb-xtx")]
TARGET_SECONDS = 1.0


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def entries(kind: str) -> list[dict]:
    return json.loads((ROOT / "tests" / "data" / f"{kind}.json").read_text())["entries"]


# --- ours -------------------------------------------------------------------------------------------
def ours(kind: str, e: dict):
    """(result expression, proofs) for one entry."""
    import rewrite

    if kind == "jacobians":
        r = rewrite.derivative(e["F"], e["wrt"], e["vars"])
        return r.jacobian, [r.proof, r.differential_proof]
    if kind == "vjps":
        r = rewrite.vjp(e["F"], e["wrt"], e["cotangent"], e["vars"])
        return r.result, [r.proof]
    r = rewrite.hessian(e["f"], e["wrt"], e["vars"])
    return r.hessian, [r.proof]


def time_ours(kind: str, e: dict, repeat: int) -> dict:
    from rewrite.proof.checker import check

    times, result, steps, ok = [], None, 0, True
    for _ in range(repeat):
        t0 = time.perf_counter()
        result, proofs = ours(kind, e)
        ok = all(check(p).ok for p in proofs)
        times.append(time.perf_counter() - t0)
        steps = sum(len(p.steps) + len(p.second_steps or []) for p in proofs)
    return {"ours_seconds": min(times), "proved": ok, "steps": steps, "result": str(result)}


# --- SymPy ------------------------------------------------------------------------------------------
def _point(kind: str, e: dict, result: str):
    """(typing, sizes, env, our result as a matrix) at a random point in the domain."""
    import numpy as np

    from rewrite import expr as E
    from rewrite.numeric import OutOfDomain, draw_sizes, evaluate, random_env
    from rewrite.shapes import infer, normalize_decls
    from rewrite.syntax import parse

    decls = normalize_decls(e["vars"])
    res, wrt = parse(result), e["wrt"]
    if kind == "vjps":   # V has X's shape: type V - X next to F and G
        F, G = parse(e["F"]), E.sym(e["cotangent"])
        joint = E.Expr(E.ADD, (E.tr(E.mul(E.transpose(G), F)), E.tr(E.mul(E.transpose(res), E.sym(wrt)))))
        path = (1, 0, 0, 0)
    else:   # J*vec(X) - vec(F) (a Hessian: F is the gradient, typed through f next to it)
        F = parse(e["F"] if kind == "jacobians" else e["f"])
        vec_x = E.Expr("vec", (E.sym(wrt),))
        if kind == "jacobians":
            joint = E.Expr(E.SUB, (E.mul(res, vec_x), E.Expr("vec", (F,))))
        else:
            joint = E.Expr(E.ADD, (E.tr(E.mul(E.transpose(vec_x), E.mul(res, vec_x))), F))
        path = (0, 0) if kind == "jacobians" else (0, 0, 1, 0)
    typing = infer(joint, {**decls, **infer(F, decls).vars})
    rng = np.random.default_rng(0)
    for _ in range(10):
        sizes = draw_sizes(typing, rng)
        env = random_env(typing, rng, sizes)
        try:
            return typing, sizes, env, evaluate(res, env, typing=typing, path=path, sizes=sizes)
        except OutOfDomain:
            continue
    return None


def _array(g, env: dict, sizes: dict):
    """SymPy's answer at a point, as an n-d float array (all its indices kept)."""
    import numpy as np
    import sympy as sp

    g = g.subs({sp.Symbol(d, integer=True, positive=True): v for d, v in sizes.items()})
    values = {m: sp.ImmutableMatrix(env[m.name].tolist()) for m in g.atoms(sp.MatrixSymbol)}
    for s in g.free_symbols:
        if isinstance(s, sp.Symbol) and s.name in env:
            values[s] = sp.Float(float(env[s.name][0, 0]))
    v = g.xreplace(values).doit()
    if hasattr(v, "as_explicit"):
        v = v.as_explicit()
    v = v.doit()
    return np.array(v.tolist(), dtype=float) if hasattr(v, "tolist") else np.array(float(v))


def same_up_to_layout(got, want) -> bool:
    """Does some order of got's indices, grouped into rows and columns (each group flattened
    first index fastest, as vec does), give want?"""
    import numpy as np

    scale = max(1.0, float(np.max(np.abs(want), initial=0)))
    dims = [d for d in got.shape if d != 1]
    a = got.reshape(dims) if dims else got.reshape(())
    for perm in itertools.permutations(range(a.ndim)):
        b = np.transpose(a, perm)
        for split in range(a.ndim + 1):
            rows = int(np.prod(b.shape[:split], dtype=int))
            if rows * int(np.prod(b.shape[split:], dtype=int)) != want.size or rows != want.shape[0]:
                continue
            m = b.reshape(b.shape[:split] + (-1,), order="F").reshape((rows, -1), order="F")
            if m.shape == want.shape and np.max(np.abs(m - want), initial=0) / scale < 1e-6:
                return True
    return False


def sympy_side(kind: str, e: dict, result: str, seconds: int) -> dict:
    import sympy as sp

    from rewrite import expr as E
    from rewrite.errors import RewriteError
    from rewrite.shapes import infer, normalize_decls
    from rewrite.sympy_bridge import to_sympy
    from rewrite.syntax import parse

    decls = normalize_decls(e["vars"])
    f = parse(e["f"] if kind == "hessians" else e["F"])
    if kind == "vjps":
        f = E.tr(E.mul(E.transpose(E.sym(e["cotangent"])), f))
    try:
        fs = to_sympy(sympy_form(f), infer(f, decls).vars)
    except (RewriteError, TypeError, ValueError) as err:
        return {"sympy": "not expressible", "note": str(err).splitlines()[0][:80]}
    x = next((s for s in fs.free_symbols if getattr(s, "name", None) == e["wrt"]), None)
    if x is None:
        return {"sympy": "not expressible", "note": "the variable is lost in conversion"}
    old = signal.signal(signal.SIGALRM, _alarm)
    out: dict = {}
    try:
        signal.alarm(seconds)
        t0 = time.perf_counter()
        g = fs.diff(x)
        if kind == "hessians":
            g = g.diff(x)
        out["sympy_seconds"] = time.perf_counter() - t0
        if g.has(sp.Derivative):
            return {**out, "sympy": "no answer", "note": "an unevaluated Derivative"}
        signal.alarm(seconds)
        point = _point(kind, e, result)
        if point is None:
            return {**out, "sympy": "not checked", "note": "no point in the domain"}
        _, sizes, env, want = point
        got = _array(g, env, sizes)
        out["sympy"] = "right" if same_up_to_layout(got, want) else "wrong"
        if out["sympy"] == "wrong":
            out["note"] = f"SymPy's array {got.shape} is no layout of ours {want.shape}"
    except _Timeout:
        out.update(sympy="timeout", note=f"over {seconds} s")
    except Exception as err:   # SymPy fails in many ways here; record, never crash
        out.update(sympy="error", note=f"{type(err).__name__}: {str(err).splitlines()[0][:70] if str(err) else ''}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return out


# --- report -----------------------------------------------------------------------------------------
def run(kinds, repeat: int, seconds: int) -> list[dict]:
    rows = []
    for kind in kinds:
        for e in entries(kind):
            row = {"kind": kind, "id": e["id"], **time_ours(kind, e, repeat)}
            row.update(sympy_side(kind, e, row["result"], seconds))
            rows.append(row)
            print(f"  {kind:9} {e['id']:24} {row['ours_seconds']:7.3f} s  {'proved' if row['proved'] else 'NOT PROVED':10}"
                  f" SymPy {row['sympy']:15} {row.get('sympy_seconds', float('nan')):7.3f} s", file=sys.stderr)
    return rows


def report(rows: list[dict]) -> None:
    by = {(r["kind"], r["id"]): r for r in rows}
    print("targets (result + proof + check, best of the repeats):")
    for kind, ident in TARGETS:
        r = by.get((kind, ident))
        if r:
            verdict = "OK" if r["proved"] and r["ours_seconds"] <= TARGET_SECONDS else "MISSED"
            print(f"  {kind}/{ident}: {r['ours_seconds']:.3f} s, {r['steps']} proof steps  [{verdict}: ≤ {TARGET_SECONDS} s]")
    print()
    print(f"{'kind':10} {'entries':>7} {'proved':>6} {'median s':>9} {'max s':>7} {'SymPy right':>11} "
          f"{'wrong':>5} {'other':>5} {'ratio':>6}")
    for kind in dict.fromkeys(r["kind"] for r in rows):
        rs = [r for r in rows if r["kind"] == kind]
        right = [r for r in rs if r["sympy"] == "right"]
        ratio = (statistics.median(r["ours_seconds"] for r in right)
                 / statistics.median(r["sympy_seconds"] for r in right)) if right else float("nan")
        print(f"{kind:10} {len(rs):7} {sum(r['proved'] for r in rs):6} "
              f"{statistics.median(r['ours_seconds'] for r in rs):9.3f} {max(r['ours_seconds'] for r in rs):7.3f} "
              f"{len(right):11} {sum(r['sympy'] == 'wrong' for r in rs):5} "
              f"{len(rs) - len(right) - sum(r['sympy'] == 'wrong' for r in rs):5} {ratio:6.2f}")
    print("\nratio: median of ours (with proof and check) / median of SymPy's diff, on the entries SymPy gets right")
    print("other: SymPy errors, times out, answers with an unevaluated Derivative, or cannot take the input")
    wrong = [r for r in rows if r["sympy"] == "wrong"]
    if wrong:
        print("\nSymPy wrong on: " + ", ".join(f"{r['kind']}/{r['id']}" for r in wrong))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sympy-seconds", type=int, default=30)
    ap.add_argument("--only", choices=["jacobians", "vjps", "hessians"])
    ap.add_argument("--json", help="write the rows to this file")
    args = ap.parse_args(argv)
    kinds = [args.only] if args.only else ["hessians", "jacobians", "vjps"]
    rows = run(kinds, args.repeat, args.sympy_seconds)
    report(rows)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
