"""SymPy's `diff` on the project's inputs, for the benchmarks: convert, differentiate under a time
limit, and judge the answer numerically against a gradient known to be right.

Not collected by the test run (tests/bench is excluded).
"""
from __future__ import annotations

import signal
import time

SYMPY_SECONDS = 60   # a SymPy diff (or the evaluation of its answer) running longer: not answered
GRADIENT_PATH = (1, 0, 0, 0, 0)   # of G in joint(f, G, X)


class _Timeout(Exception):
    pass


def _alarm(signum, frame):
    raise _Timeout()


def joint(f, gradient, wrt: str):
    """f + tr((G - X)'*(G - X)): a term whose typing gives G the shape of X (only the typing is
    used, so that `I` or `ones` in G get X's sizes)."""
    from rewrite import expr as E

    gap = E.Expr(E.SUB, (gradient, E.sym(wrt)))
    return E.Expr(E.ADD, (f, E.tr(E.mul(E.transpose(gap), gap))))


def sympy_form(term):
    """The same function in constructs the SymPy bridge converts: norm2sq(r) as r'*r and sum(A)
    as tr(ones'*A) (both by their definitions)."""
    from rewrite import expr as E

    args = tuple(sympy_form(a) for a in term.args)
    if term.op == "norm2sq":
        return E.mul(E.transpose(args[0]), args[0])
    if term.op == "sum":
        return E.tr(E.mul(E.transpose(E.ones()), args[0]))
    return term.with_args(args) if args else term


def value(g, env: dict, sizes: dict):
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
    v = g.xreplace(values).doit()   # products of explicit matrices first: entrywise is slow
    if hasattr(v, "as_explicit"):
        v = v.as_explicit()
    v = v.doit()
    if hasattr(v, "tolist"):
        a = np.array(v.tolist(), dtype=float)
    else:
        a = np.array([[float(v)]])
    return a.reshape(a.shape[0], -1) if a.ndim != 2 else a


def diff(f_text: str, wrt: str, vars: dict, expected: str, repeat: int = 1) -> dict:
    """SymPy's diff of f: {"sympy": right | wrong | transposed | other shape | no answer | error |
    timeout | not expressible | not checked, "sympy_seconds": best time, "note": ...}.
    `expected` is a gradient known to be right (the catalogue's, or a derived and checked one)."""
    import numpy as np
    import sympy as sp

    from rewrite.errors import RewriteError
    from rewrite.numeric import OutOfDomain, draw_sizes, evaluate, random_env
    from rewrite.shapes import infer, normalize_decls
    from rewrite.sympy_bridge import to_sympy
    from rewrite.syntax import parse

    out: dict = {}
    decls = normalize_decls(vars or {})
    f = parse(f_text)
    try:
        fs = to_sympy(sympy_form(f), infer(f, decls).vars)
    except (RewriteError, TypeError, ValueError) as err:
        out.update(sympy="not expressible", note=str(err).splitlines()[0][:90])
        return out
    x = next((s for s in fs.free_symbols if getattr(s, "name", None) == wrt), None)
    if x is None:
        out.update(sympy="not expressible", note="the variable is lost in conversion")
        return out
    old = signal.signal(signal.SIGALRM, _alarm)
    try:
        best = None
        for _ in range(repeat):
            signal.alarm(SYMPY_SECONDS)
            t0 = time.perf_counter()
            g = fs.diff(x)
            t = time.perf_counter() - t0
            best = t if best is None else min(best, t)
        out["sympy_seconds"] = best
        signal.alarm(SYMPY_SECONDS)   # a fresh allowance for evaluating the answer
        if g.has(sp.Derivative):
            out.update(sympy="no answer", note="returns an unevaluated Derivative")
            return out
        want_term = parse(expected)
        typing = infer(joint(f, want_term, wrt), decls)
        rng = np.random.default_rng(0)
        for _ in range(10):
            sizes = draw_sizes(typing, rng)
            env = random_env(typing, rng, sizes)
            try:
                want = evaluate(want_term, env, typing=typing, path=GRADIENT_PATH, sizes=sizes)
            except OutOfDomain:
                continue
            break
        else:
            out.update(sympy="not checked", note="no point in the domain")
            return out
        got = value(g, env, sizes)
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
