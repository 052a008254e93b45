"""Generated code (rewrite.codegen): the numpy module of every catalogue gradient computes f as
the evaluator does and a gradient that agrees with finite differences; Jacobians and Hessians
likewise; stable forms stay finite where the naive ones overflow.  torch and jax run where they
are installed (optional; skipped with the reason otherwise)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

import rewrite
from rewrite import numeric
from rewrite.cli import main
from rewrite.codegen import python_name

DATA = Path(__file__).parent / "data"
GRADIENTS = json.loads((DATA / "gradients.json").read_text())["entries"]
JACOBIANS = json.loads((DATA / "jacobians.json").read_text())["entries"]
HESSIANS = json.loads((DATA / "hessians.json").read_text())["entries"]


def _load(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace


def _point(result, seed: int):
    """Random values honouring the declarations (positive entries if the function needs them)."""
    rng = np.random.default_rng(seed)
    for attempt in range(20):
        sizes = numeric.draw_sizes(result.vars, rng)
        env = numeric.random_env(result.vars, rng, sizes, positive_entries=attempt >= 10)
        try:
            with np.errstate(all="raise"):
                value = numeric.evaluate(result.f if hasattr(result, "f") else result.F, env, sizes=sizes)
            if np.all(np.isfinite(value)):
                return env, sizes
        except (numeric.OutOfDomain, FloatingPointError, ArithmeticError, np.linalg.LinAlgError):
            continue
    pytest.skip("no point in the domain found")


def _arguments(result, env) -> dict:
    return {python_name(n): (float(v[0, 0]) if result.vars[n].shape.is_scalar else v)
            for n, v in env.items() if n in result.vars}


@pytest.mark.parametrize("entry", GRADIENTS, ids=[e["id"] for e in GRADIENTS])
def test_numpy_gradient_code_agrees_with_finite_differences(entry):
    r = rewrite.derive(entry["f"], entry["wrt"], entry["vars"], proof=False)
    f_and_grad = _load(r.to_python("numpy"))["f_and_grad"]
    env, sizes = _point(r, 7)
    f, grad = f_and_grad(**_arguments(r, {n: env[n] for n in env if n in r.f.symbols()}))
    assert np.isscalar(f) or np.ndim(f) == 0
    assert np.allclose(f, numeric.evaluate(r.f, env, sizes=sizes), rtol=1e-8, atol=1e-10)
    symmetric = bool(r.vars[r.wrt].props & {"symmetric", "spd"})
    want = numeric.fd_gradient(r.f, r.wrt, env, sizes=sizes, symmetric=symmetric)
    got = np.asarray(grad, dtype=float).reshape(want.shape)
    if symmetric:
        got = (got + got.T) / 2
    assert np.allclose(got, want, rtol=1e-5, atol=1e-6 * (1 + np.abs(want).max()))


def _vec(a) -> np.ndarray:
    return np.asarray(a, dtype=float).reshape(-1, 1, order="F")


def _directional(function, args: dict, wrt: str, x0: np.ndarray, output: int, seed: int):
    """(direction, the central difference of output `output` of `function` along it at x0)."""
    direction = np.random.default_rng(seed).standard_normal(x0.shape)
    h = 1e-6

    def at(t):
        moved = x0 + t * direction
        value = float(moved[0, 0]) if x0.shape == (1, 1) and isinstance(args[python_name(wrt)], float) else moved
        return np.asarray(function(**dict(args, **{python_name(wrt): value}))[output], dtype=float)

    return direction, (at(h) - at(-h)) / (2 * h)


@pytest.mark.parametrize("entry", JACOBIANS[:20], ids=[e["id"] for e in JACOBIANS[:20]])
def test_numpy_jacobian_code_agrees_with_finite_differences(entry):
    d = rewrite.derivative(entry["F"], entry["wrt"], entry.get("vars", {}), proof=False)
    F_and_jacobian = _load(d.to_python("numpy"))["F_and_jacobian"]
    env, _ = _point(d, 3)
    args = _arguments(d, env)
    _, J = F_and_jacobian(**args)
    direction, slope = _directional(F_and_jacobian, args, d.wrt, np.asarray(env[d.wrt], dtype=float), 0, 1)
    assert np.allclose(np.asarray(J, dtype=float) @ _vec(direction), _vec(slope), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("entry", HESSIANS[:12], ids=[e["id"] for e in HESSIANS[:12]])
def test_numpy_hessian_code_agrees_with_its_gradient(entry):
    h = rewrite.hessian(entry["f"], entry["wrt"], entry.get("vars", {}), proof=False)
    f_grad_hess = _load(h.to_python("numpy"))["f_grad_hess"]
    env, _ = _point(h, 5)
    args = _arguments(h, env)
    _, _, H = f_grad_hess(**args)
    direction, slope = _directional(f_grad_hess, args, h.wrt, np.asarray(env[h.wrt], dtype=float), 1, 2)
    assert np.allclose(np.asarray(H, dtype=float) @ _vec(direction), _vec(slope), rtol=1e-4, atol=1e-6)


def test_stable_forms_stay_finite_where_naive_ones_overflow():
    r = rewrite.derive("-(y'*log(sigmoid(A*w)) + (ones - y)'*log(ones - sigmoid(A*w)))", "w", proof=False)
    source = r.to_python("numpy")
    assert "_softplus" in source
    f_and_grad = _load(source)["f_and_grad"]
    A = np.array([[1000.0], [-1000.0]])
    f, grad = f_and_grad(A=A, w=np.array([[1.0]]), y=np.array([[0.0], [1.0]]))
    assert np.isfinite(f) and np.all(np.isfinite(grad))
    assert np.isclose(f, 2000.0)   # -log(1 - σ(1000)) - log(σ(-1000)) = 1000 + 1000
    s = rewrite.derive("-y'*log(softmax(W*x))", "W", proof=False).to_python("numpy")
    f, _ = _load(s)["f_and_grad"](W=np.array([[800.0], [0.0]]), x=np.array([[1.0]]), y=np.array([[0.0], [1.0]]))
    assert np.isclose(f, 800.0)
    spd = rewrite.derive("logdet(S)", "S", {"S": "n x n, spd"}, proof=False).to_python("numpy")
    assert "cholesky" in spd


def test_shared_subterms_are_computed_once_and_keywords_are_renamed():
    r = rewrite.derive("-y'*log(softmax(W2*sigmoid(W1*x)))", "W1", proof=False)
    source = r.to_python("numpy")
    assert source.count("_sigmoid((W1 @ x))") == 1
    k = rewrite.derive("lambda*tr(X)", "X", {"lambda": "scalar"}, proof=False)
    f, grad = _load(k.to_python())["f_and_grad"](lambda_=2.0, X=np.eye(3))
    assert f == 6.0 and np.allclose(grad, 2 * np.eye(3))


def test_unknown_backend_is_an_input_error():
    with pytest.raises(rewrite.InputError, match="unknown backend"):
        rewrite.derive("tr(X)", "X", proof=False).to_python("tensorflow")


def test_the_command_line_writes_a_module(tmp_path, capsys):
    out = tmp_path / "grad.py"
    assert main(["codegen", "tr(A*X*B)", "--wrt", "X", "--output", str(out)]) == 0
    f, grad = _load(out.read_text())["f_and_grad"](A=np.eye(2), B=2 * np.eye(2), X=np.ones((2, 2)))
    assert f == 4.0 and np.allclose(grad, 2 * np.eye(2))
    assert main(["codegen", "x'*A*x", "--wrt", "x", "--hessian"]) == 0
    assert "def f_grad_hess(*, A, x):" in capsys.readouterr().out


@pytest.mark.parametrize("backend", ["torch", "jax"])
def test_other_backends_agree_with_numpy_on_the_catalogue(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed (an optional extra: pip install {backend})")
    for entry in GRADIENTS:
        r = rewrite.derive(entry["f"], entry["wrt"], entry["vars"], proof=False)
        env, _ = _point(r, 3)
        args = _arguments(r, {n: 0.5 * v for n, v in env.items() if n in r.f.symbols()})
        f0, g0 = _load(r.to_python("numpy"))["f_and_grad"](**args)
        f, g = _load(r.to_python(backend))["f_and_grad"](**args)
        assert np.allclose(float(f), float(f0), rtol=1e-4, atol=1e-6), entry["id"]
        assert np.allclose(np.asarray(g, dtype=float).reshape(np.shape(g0)), g0, rtol=1e-3, atol=1e-5), entry["id"]
