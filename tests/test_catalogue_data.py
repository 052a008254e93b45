"""The gradient catalogue (tests/data/gradients.json) and its false claims are sound.

Every entry must parse, type-check (f scalar, the expected gradient shaped like the variable) and
agree with central finite differences at random points; every false claim must disagree, while its
stated correction agrees.  The engine's acceptance tests rely on this data being right.
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from rewrite import expr as E
from rewrite.shapes import infer, normalize_decls
from rewrite.syntax import parse

DATA = Path(__file__).parent / "data"
TOPICS = {"determinants", "inverses", "scalar-forms", "traces-1", "traces-2", "traces-higher",
          "norms", "elementwise", "ml", "seeds"}
FIELDS = {"id", "source", "topic", "f", "wrt", "vars", "expected", "note"}
FALSE_FIELDS = {"id", "source", "f", "wrt", "vars", "claimed", "correct", "error"}


def _load(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text(encoding="utf-8"))["entries"]


GRADIENTS = _load("gradients.json")
FALSE = _load("false_gradients.json")


# --- a small numeric evaluator (to be replaced by rewrite.numeric) -------------------------------
class _OutOfDomain(Exception):
    """The random point is outside the function's domain (or too close to its edge)."""


@dataclass
class GradientCheck:
    ok: bool
    max_rel_error: float
    details: str


_MAX_COND = 1e4   # inverses of worse-conditioned matrices spoil finite differences


def _inv(a: np.ndarray) -> np.ndarray:
    if np.linalg.cond(a) > _MAX_COND:
        raise _OutOfDomain("ill-conditioned inverse")
    return np.linalg.inv(a)


def _positive(a: np.ndarray, what: str) -> np.ndarray:
    if np.any(a <= 1e-8):
        raise _OutOfDomain(f"{what} of a non-positive number")
    return a


def _softmax(z: np.ndarray) -> np.ndarray:
    w = np.exp(z - z.max())
    return w / w.sum()


_ELEMENTWISE = {
    "exp": np.exp, "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "abs": np.abs, "sign": np.sign,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "log": lambda a: np.log(_positive(a, "log")),
    "sqrt": lambda a: np.sqrt(_positive(a, "sqrt")),
}


def _evaluate(e: E.Expr, env: dict, shape_of, path: E.Path = ()) -> np.ndarray:
    """Value of `e` as a 2-d array; `shape_of(path)` gives the (rows, cols) of leaves like I."""
    op = e.op
    if op == E.SYM:
        return env[e.name]
    if op == E.NUM:
        return np.array([[float(e.value)]])
    if op in (E.IDENTITY, E.ZERO, E.ONES):
        r, c = shape_of(path)
        return {E.IDENTITY: lambda: np.eye(r), E.ZERO: lambda: np.zeros((r, c)),
                E.ONES: lambda: np.ones((r, c))}[op]()
    k = [_evaluate(a, env, shape_of, path + (i,)) for i, a in enumerate(e.args)]
    if op == E.ADD:
        return k[0] + k[1]
    if op == E.SUB:
        return k[0] - k[1]
    if op == E.NEG:
        return -k[0]
    if op == E.MUL:
        if k[0].shape == (1, 1) and k[1].shape != (1, 1):
            return k[0][0, 0] * k[1]
        if k[1].shape == (1, 1) and k[0].shape != (1, 1):
            return k[0] * k[1][0, 0]
        return k[0] @ k[1]
    if op == E.HADAMARD:
        return k[0] * k[1]
    if op == E.HDIV:
        return k[0] / k[1]
    if op == E.DIV:
        return k[0] / k[1][0, 0]
    if op == E.TRANSPOSE:
        return k[0].T
    if op == E.POW:
        p = e.args[1].value
        if k[0].shape == (1, 1):
            if p.denominator != 1:
                _positive(k[0], "fractional power")
            return k[0] ** float(p)
        base = _inv(k[0]) if p < 0 else k[0]
        return np.linalg.matrix_power(base, abs(int(p)))
    if op in _ELEMENTWISE:
        return _ELEMENTWISE[op](k[0])
    a = k[0]
    if op == "inv":
        return _inv(a)
    if op == "det":
        return np.array([[np.linalg.det(a)]])
    if op == "logdet":
        sign, logabs = np.linalg.slogdet(a)
        if sign <= 0:
            raise _OutOfDomain("logdet of a matrix with det <= 0")
        return np.array([[logabs]])
    if op == "tr":
        return np.array([[np.trace(a)]])
    if op == "sum":
        return np.array([[a.sum()]])
    if op == "norm2":
        return np.array([[np.linalg.norm(a)]])
    if op == "norm2sq":
        return np.array([[float((a * a).sum())]])
    if op == "diag":
        return np.diag(a[:, 0])
    if op == "softmax":
        return _softmax(a)
    raise AssertionError(f"the test evaluator has no case for {op!r}")


def _random_value(decl, sizes: dict, rng: np.random.Generator) -> np.ndarray:
    def size(d):
        return d if isinstance(d, int) else sizes[d]

    r, c = size(decl.shape.rows), size(decl.shape.cols)
    props = decl.props
    if "spd" in props:
        m = rng.standard_normal((r, r))
        return m @ m.T / r + np.eye(r)
    if "diagonal" in props:
        return np.diag(rng.uniform(0.5, 2.0, r) * rng.choice([-1.0, 1.0], r))
    if "positive" in props:
        return rng.uniform(0.5, 2.0, (r, c))
    m = rng.standard_normal((r, c))
    if "symmetric" in props:
        return (m + m.T) / 2
    return m


def _typed(text: str, decls: dict, wrt: str | None = None):
    """Parse and infer; with `wrt`, type `text - wrt` so `I`, `ones` take the variable's shape."""
    e = parse(text)
    if wrt is None:
        return e, infer(e, decls), ()
    t = infer(E.Expr(E.SUB, (e, E.sym(wrt))), decls)
    return e, t, (0,)


def gradient_check(f: str, wrt: str, gradient: str, vars: dict, rng: np.random.Generator,
                   trials: int = 3, tol: float = 1e-5) -> GradientCheck:
    """Compare `gradient` with central differences of `f` in `wrt` at `trials` random points."""
    fe, ft, _ = _typed(f, normalize_decls(vars))
    decls = ft.vars
    ge, gt, gp = _typed(gradient, decls, wrt)
    dims = {d for t in (ft, gt) for s in t.shapes.values() for d in (s.rows, s.cols)
            if isinstance(d, str)}

    def shape_fn(typing, prefix, sizes):
        def shape_of(path):
            s = typing.shapes[prefix + path]
            return tuple(d if isinstance(d, int) else sizes[d] for d in (s.rows, s.cols))
        return shape_of

    worst, done, details = 0.0, 0, []
    for _ in range(trials * 20):
        if done == trials:
            break
        sizes = {d: int(rng.integers(2, 5)) for d in sorted(dims)}
        env = {name: _random_value(decl, sizes, rng) for name, decl in decls.items()}
        f_shape = shape_fn(ft, (), sizes)
        try:
            g = _evaluate(ge, env, shape_fn(gt, gp, sizes), ())
            x0 = env[wrt]
            fd = np.zeros_like(x0)
            for idx in np.ndindex(*x0.shape):
                h = 1e-6 * max(1.0, abs(x0[idx]))
                vals = []
                for sign in (1.0, -1.0):
                    x = x0.copy()
                    x[idx] += sign * h
                    vals.append(_evaluate(fe, {**env, wrt: x}, f_shape)[0, 0])
                fd[idx] = (vals[0] - vals[1]) / (2 * h)
        except _OutOfDomain:
            continue
        if g.shape != x0.shape:
            return GradientCheck(False, math.inf, f"gradient shape {g.shape} != {x0.shape}")
        rel = float(np.max(np.abs(g - fd)) / max(1.0, float(np.max(np.abs(fd)))))
        worst = max(worst, rel)
        details.append(f"sizes {sizes}: relative error {rel:.2e}")
        done += 1
    if done < trials:
        return GradientCheck(False, math.inf, f"only {done} of {trials} random points were usable")
    return GradientCheck(worst <= tol, worst, "; ".join(details))


# --- the catalogue is well formed ----------------------------------------------------------------
def _by_id(entries):
    return [pytest.param(e, id=e["id"]) for e in entries]


def test_ids_are_unique():
    ids = [e["id"] for e in GRADIENTS + FALSE]
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_coverage():
    topics = Counter(e["topic"] for e in GRADIENTS)
    assert set(topics) == TOPICS, set(topics) ^ TOPICS
    assert sum(1 for e in GRADIENTS if e["source"].startswith("Matrix Cookbook")) >= 70
    seed_examples = {e["source"].split(",")[0].split(" (")[0] for e in GRADIENTS
                     if e["source"].startswith("seed 001 example")}
    assert seed_examples == {f"seed 001 example {i}" for i in range(1, 9)}
    assert len(FALSE) >= 15


@pytest.mark.parametrize("entry", _by_id(GRADIENTS))
def test_entry_is_well_formed(entry):
    assert set(entry) <= FIELDS and FIELDS - {"note"} <= set(entry), set(entry) ^ FIELDS
    assert entry["topic"] in TOPICS
    _check_typing(entry["f"], entry["wrt"], entry["vars"], [entry["expected"]])


@pytest.mark.parametrize("entry", _by_id(FALSE))
def test_false_entry_is_well_formed(entry):
    assert set(entry) == FALSE_FIELDS, set(entry) ^ FALSE_FIELDS
    _check_typing(entry["f"], entry["wrt"], entry["vars"], [entry["claimed"], entry["correct"]])


def _check_typing(f: str, wrt: str, vars: dict, gradients: list[str]) -> None:
    fe = parse(f)
    typing = infer(fe, normalize_decls(vars))
    assert typing.shape().is_scalar, f"f is {typing.shape()}, not scalar"
    assert wrt in fe.symbols(), f"{wrt} does not occur in f"
    assert set(vars) <= fe.symbols(), f"declared but unused: {set(vars) - fe.symbols()}"
    for g in gradients:
        ge, gt, gp = _typed(g, typing.vars, wrt)
        assert ge.symbols() <= fe.symbols(), f"{g} uses {ge.symbols() - fe.symbols()}, not in f"
        assert gt.shapes[gp] == typing.vars[wrt].shape, f"{g} has shape {gt.shapes[gp]}"


# --- the catalogue is right, the false claims are wrong ------------------------------------------
@pytest.mark.parametrize("entry", _by_id(GRADIENTS))
def test_expected_gradient_matches_finite_differences(entry):
    rng = np.random.default_rng(sum(map(ord, entry["id"])))
    r = gradient_check(entry["f"], entry["wrt"], entry["expected"], entry["vars"], rng)
    assert r.ok, f"{entry['id']}: {r.details}"


@pytest.mark.parametrize("entry", _by_id(FALSE))
def test_false_claim_is_refuted_and_its_correction_holds(entry):
    rng = np.random.default_rng(sum(map(ord, entry["id"])))
    wrong = gradient_check(entry["f"], entry["wrt"], entry["claimed"], entry["vars"], rng)
    assert not wrong.ok, f"{entry['id']}: the false claim passed: {wrong.details}"
    assert wrong.max_rel_error > 1e-2, f"{entry['id']} fails only narrowly: {wrong.details}"
    right = gradient_check(entry["f"], entry["wrt"], entry["correct"], entry["vars"], rng)
    assert right.ok, f"{entry['id']}: the correction fails: {right.details}"
