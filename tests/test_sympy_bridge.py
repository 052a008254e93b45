"""The SymPy bridge: SymPy matrix expressions in and out, and derivations from SymPy input.

Numbers come from SymPy itself: a term is evaluated by substituting explicit float matrices into
its SymPy form, so these tests do not depend on the project's own numeric module.
"""
from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from rewrite import api
from rewrite.errors import InputError
from rewrite.sympy_bridge import from_sympy, to_sympy
from rewrite.syntax import parse

n, m, p = sp.symbols("n m p")
X, A, B = sp.MatrixSymbol("X", n, m), sp.MatrixSymbol("A", p, n), sp.MatrixSymbol("B", m, p)
S, T = sp.MatrixSymbol("S", n, n), sp.MatrixSymbol("T", n, n)
x, a = sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("a", n, 1)
lam = sp.Symbol("lam")


def scalar(e):
    return MatrixElement(e, 0, 0)


FROM_SYMPY = [
    (lambda: sp.Trace(A * X * B), "tr(A*X*B)", {"A": "p x n", "X": "n x m", "B": "m x p"}),
    (lambda: sp.log(sp.Determinant(S)), "logdet(S)", {"S": "n x n"}),
    (lambda: sp.Determinant(S.T * S), "det(S'*S)", {"S": "n x n"}),
    (lambda: sp.Inverse(S) + S.T, "inv(S) + S'", {"S": "n x n"}),
    (lambda: S**-1, "inv(S)", {"S": "n x n"}),
    (lambda: 2 * S - T, "2*S - T", {"S": "n x n", "T": "n x n"}),
    (lambda: S * T - 3 * T.T, "S*T - 3*T'", {"S": "n x n", "T": "n x n"}),
    (lambda: sp.hadamard_product(S, T), "S.*T", {"S": "n x n", "T": "n x n"}),
    (lambda: sp.hadamard_product(S, sp.HadamardPower(T, -1)), "S./T", {"S": "n x n", "T": "n x n"}),
    (lambda: S**3, "S^3", {"S": "n x n"}),
    (lambda: sp.Identity(n) + S, "I + S", {"S": "n x n"}),
    (lambda: S + sp.ZeroMatrix(n, n), "S", {"S": "n x n"}),   # SymPy drops the zero itself
    (lambda: sp.Trace(sp.ZeroMatrix(n, n)) + sp.Trace(S), "tr(S) + tr(0)", {"S": "n x n"}),
    (lambda: x.T * x, "x'*x", {"x": "n x 1"}),
    (lambda: sp.log(sp.Determinant(S)) - scalar(a.T * S.I * a), "logdet(S) - a'*inv(S)*a",
     {"S": "n x n", "a": "n x 1"}),
    (lambda: lam * sp.Trace(S) + lam**2, "lam^2 + lam*tr(S)", {"lam": "scalar", "S": "n x n"}),
    (lambda: sp.Trace(S) / lam, "tr(S)/lam", {"lam": "scalar", "S": "n x n"}),
    (lambda: sp.exp(scalar(a.T * x)), "exp(a'*x)", {"a": "n x 1", "x": "n x 1"}),
    (lambda: sp.Trace(S.applyfunc(sp.exp)), "tr(exp(S))", {"S": "n x n"}),
    (lambda: sp.sqrt(scalar(x.T * x)), "sqrt(x'*x)", {"x": "n x 1"}),
    (lambda: sp.Trace(sp.MatrixSymbol("Y", 3, 3)), "tr(Y)", {"Y": "3 x 3"}),
]


@pytest.mark.parametrize("build,text,decls", FROM_SYMPY, ids=[c[1] for c in FROM_SYMPY])
def test_from_sympy(build, text, decls):
    term, got = from_sympy(build())
    assert term == parse(text), str(term)
    assert got == decls


ROUND_TRIP = ["tr(A*X*B)", "x'*x", "a'*inv(S)*a + logdet(S)", "logdet(S) - a'*inv(S)*a", "tr(exp(X))",
              "X./Y - 2*X", "sqrt(x'*x)", "exp(a'*x)", "(a'*x)^2", "2*X - 3*Y'", "(1/2)*tr(X)",
              "det(X)*tr(inv(X))", "tr(X.*Y)", "inv(X)'", "I + X^3", "tr(X)/lam", "-tr(X)"]


@pytest.mark.parametrize("text", ROUND_TRIP)
def test_round_trip(text):
    term = parse(text)
    back, decls = from_sympy(to_sympy(term, {"lam": "scalar"}))
    assert back == term


def evaluate(term_text: str, env: dict[str, np.ndarray]) -> np.ndarray:
    """The value of a term at numbers, computed by SymPy (an oracle independent of the engine)."""
    decls = {k: ("scalar" if v.shape == (1, 1) else f"{v.shape[0]} x {v.shape[1]}") for k, v in env.items()}
    e = to_sympy(parse(term_text), decls)
    values = {}
    for s in e.free_symbols | {a for a in e.atoms(sp.MatrixSymbol)}:
        name = str(s.name) if hasattr(s, "name") else str(s)
        if name in env:
            values[s] = sp.ImmutableMatrix(env[name]) if isinstance(s, sp.MatrixSymbol) else env[name][0, 0]
    out = e.xreplace(values).doit()
    return np.array(sp.Matrix(out) if hasattr(out, "shape") else [[out]], dtype=float)


def finite_difference(f, X0: np.ndarray, h: float = 1e-6) -> np.ndarray:
    G = np.zeros_like(X0)
    for i in range(X0.shape[0]):
        for j in range(X0.shape[1]):
            E = np.zeros_like(X0)
            E[i, j] = h
            G[i, j] = (f(X0 + E) - f(X0 - E)) / (2 * h)
    return G


def well_conditioned(rng, k):
    return rng.normal(size=(k, k)) + k * np.eye(k)


def test_to_sympy_values_match_direct_numpy():
    rng = np.random.default_rng(0)
    Xv, av = well_conditioned(rng, 3), rng.normal(size=(3, 1))
    got = evaluate("a'*inv(X)*a + logdet(X)", {"X": Xv, "a": av})
    want = av.T @ np.linalg.inv(Xv) @ av + np.log(np.linalg.det(Xv))
    assert np.allclose(got, want)


@pytest.mark.parametrize("build,wrt,sizes", [
    (lambda: sp.Trace(A * X * B), X, {"n": 3, "m": 2, "p": 4}),
    (lambda: sp.log(sp.Determinant(S)) - scalar(a.T * S.I * a), S, {"n": 3}),
    (lambda: scalar(x.T * S * x) + lam * sp.Trace(S.T * S), S, {"n": 3}),
])
def test_derive_from_sympy(build, wrt, sizes):
    f = build()
    result = api.derive(f, wrt=wrt, proof=False)
    term, decls = from_sympy(f)
    assert result.f == term
    assert str(result.vars[wrt.name].shape) == decls[wrt.name]

    rng = np.random.default_rng(1)
    env = {}
    for name, decl in decls.items():
        r, c = ((1, 1) if decl == "scalar" else
                tuple(int(sizes.get(d.strip(), d.strip())) for d in decl.split(" x ")))
        env[name] = well_conditioned(rng, r) if r == c and r > 1 else rng.normal(size=(r, c))
    fd = finite_difference(lambda V: evaluate(str(term), {**env, wrt.name: V})[0, 0], env[wrt.name])
    assert np.allclose(evaluate(str(result.gradient), env), fd, rtol=1e-5, atol=1e-6)


def test_sympy_own_diff_of_logdet_against_ours():
    """SymPy's diff of log(det(X)) compared with finite differences, and ours likewise.

    This documents SymPy's behaviour in the installed version rather than assuming it."""
    Y = sp.MatrixSymbol("Y", 3, 3)
    f = sp.log(sp.Determinant(Y))
    rng = np.random.default_rng(2)
    Yv = well_conditioned(rng, 3)
    fd = finite_difference(lambda V: np.log(np.linalg.det(V)), Yv)

    theirs = sp.diff(f, Y)
    theirs_value = np.array(sp.Matrix(theirs.xreplace({Y: sp.ImmutableMatrix(Yv)}).doit())
                            if getattr(theirs, "shape", None) else np.full((3, 3), float(theirs)), dtype=float)
    ours = api.derive(f, wrt=Y, proof=False).gradient
    assert np.allclose(evaluate(str(ours), {"Y": Yv}), fd, rtol=1e-5)
    if np.allclose(theirs_value, fd, rtol=1e-5):
        pytest.skip(f"SymPy {sp.__version__} gets d logdet right: {theirs}")
    assert not np.allclose(theirs_value, fd, rtol=1e-3), f"SymPy {sp.__version__} says {theirs}"


@pytest.mark.parametrize("build,fragment", [
    (lambda: sp.Trace(sp.HadamardPower(S, sp.Rational(1, 3))), "HadamardPower"),
    (lambda: S[0, 1], "MatrixElement"),
    (lambda: sp.Trace(sp.MatrixSymbol("Z", 2 * n, 2 * n)), "2*n"),
    (lambda: sp.Trace(S) + sp.Trace(sp.MatrixSymbol("S", 3, 3)), "'S' is used with shapes"),
    (lambda: sp.Trace(sp.MatrixSymbol("dX", n, n)), "'dX'"),
    (lambda: sp.Trace(S.applyfunc(sp.Lambda(sp.Symbol("t"), sp.gamma(sp.Symbol("t"))))), "elementwise function"),
])
def test_unsupported_sympy_nodes_are_named(build, fragment):
    with pytest.raises(InputError) as err:
        from_sympy(build())
    assert fragment in str(err.value)


@pytest.mark.parametrize("text,fragment", [("tr(d(X))", "'d'"), ("vec(X)", "symbolic number of columns"),
                                           ("K(m, n)*vec(X)", "symbolic sizes")])
def test_unsupported_terms_to_sympy_are_named(text, fragment):
    with pytest.raises(InputError) as err:
        to_sympy(parse(text))
    assert fragment in str(err.value)
