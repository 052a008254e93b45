"""SymPy both ways: every construct of the language converts to a SymPy matrix expression of the
right shape; over the whole catalogue, f and its gradient survive to_sympy/from_sympy (equal
numerically) and `rewrite.sympy_bridge.lambdify` of the SymPy form gives the same numbers."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import rewrite
from rewrite import expr as E
from rewrite import numeric
from rewrite.shapes import Shape, normalize_decls
from rewrite.sympy_bridge import from_sympy, lambdify, to_sympy
from rewrite.syntax import parse

ENTRIES = json.loads((Path(__file__).parent / "data" / "gradients.json").read_text())["entries"]
n = sp.Symbol("n", integer=True, positive=True)


@pytest.mark.parametrize("text, vars, shape", [
    ("ones./X", {"X": "n x n"}, (n, n)),
    ("x*x'.*I*ones", {"x": "n"}, (n, 1)),   # as a gradient by x: pinned to x's shape
    ("sigmoid(X)", {"X": "n x n"}, (n, n)),
    ("softmax(x)", {"x": "n"}, (n, 1)),
    ("sum(X)", {"X": "n x n"}, ()),
    ("norm2(x)", {"x": "n"}, ()),
    ("norm2sq(x)", {"x": "n"}, ()),
    ("diag(x)", {"x": "n"}, (n, n)),
    ("kron(X, Y)", {"X": "2 x 3", "Y": "3 x 2"}, (6, 6)),
    ("vec(X)", {"X": "2 x 3"}, (6, 1)),
    ("K(2, 3)*vec(X)", {"X": "2 x 3"}, (6, 1)),
    ("x'*A*x/(x'*x)", {"x": "n", "A": "n x n"}, ()),
    ("exp(X) + log(X) - sqrt(X).*abs(X)", {"X": "n x n"}, (n, n)),
])
def test_each_construct_has_a_sympy_form_of_the_right_shape(text, vars, shape):
    pin = Shape("n", 1) if text == "x*x'.*I*ones" else None
    s = to_sympy(parse(text), vars, pin)
    assert (tuple(s.shape) if getattr(s, "is_Matrix", False) else ()) == shape
    back, decls = from_sympy(s)
    rng = np.random.default_rng(0)
    typing = normalize_decls(vars)
    sizes = numeric.draw_sizes(typing, rng)
    env = {k: 0.5 * v for k, v in numeric.random_env(typing, rng, sizes, positive_entries=True).items()}
    wrt = "x" if pin is not None else None
    assert np.allclose(_value(parse(text), wrt, env, sizes), _value(back, wrt, env, sizes))


def test_symbolic_vec_is_refused_with_a_reason():
    with pytest.raises(rewrite.InputError, match="symbolic number of columns"):
        to_sympy(parse("vec(X)"), {"X": "n x m"})


def _value(term, wrt, env, sizes):
    """A term's value; a gradient alone (I, ones) takes its variable's shape."""
    if wrt is None:
        return numeric.evaluate(term, env, sizes=sizes)
    return numeric.evaluate(E.Expr(E.SUB, (term, E.sym(wrt))), env, sizes=sizes) + env[wrt]


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["id"] for e in ENTRIES])
def test_catalogue_round_trip_and_lambdify(entry):
    r = rewrite.derive(entry["f"], entry["wrt"], entry["vars"], proof=False)
    f_sp, g_sp = r.to_sympy()
    rng = np.random.default_rng(1)
    sizes = numeric.draw_sizes(r.vars, rng)
    env = {k: 0.3 * v for k, v in numeric.random_env(r.vars, rng, sizes, positive_entries=True).items()}
    for term, s, wrt in ((r.f, f_sp, None), (r.gradient, g_sp, r.wrt)):
        want = _value(term, wrt, env, sizes)
        back, _ = from_sympy(s)
        assert np.allclose(_value(back, wrt, env, sizes), want, rtol=1e-7, atol=1e-9)
        args = sorted((a for a in s.free_symbols if a.name in env), key=lambda a: a.name) \
            if hasattr(s, "free_symbols") else []
        fn = lambdify(args, s, sizes)
        values = [env[a.name] if env[a.name].shape != (1, 1) else float(env[a.name][0, 0]) for a in args]
        got = np.asarray(fn(*values), dtype=float)
        assert np.allclose(got.reshape(np.shape(want)), want, rtol=1e-7, atol=1e-9)
