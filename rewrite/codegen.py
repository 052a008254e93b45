"""Python source for a result: numpy, PyTorch or JAX code that computes f and its derivative.

    >>> print(rewrite.derive("tr(A*X*B)", "X").to_python("numpy"))

gives a module with `f_and_grad(*, A, B, X) -> (f, gradient)`.  Arguments are keywords named as
the variables (a name that is a Python keyword gets a trailing underscore: `lambda_`); matrices
and vectors are 2-D arrays (a vector n x 1), scalars floats (0-d tensors under torch and jax).
Subterms that f and its derivative share, or that either repeats, are computed once (named as
in `rewrite.names`).  Forms that overflow or lose precision when written naively are replaced
by stable ones: log(sigmoid(u)) by -softplus(-u), log(ones - sigmoid(u)) by -softplus(u),
log(softmax(z)) by z - logsumexp(z), softmax and sigmoid by their stable forms, logdet(A) by
slogdet (Cholesky for A declared spd).
"""
from __future__ import annotations

import keyword
from typing import Mapping

from . import dims as D
from . import expr as E
from .conditions import has_prop
from .errors import InputError
from .names import name_repeats
from .shapes import SCALAR, Decl, Shape, infer

BACKENDS = ("numpy", "torch", "jax")
_IMPORTS = {"numpy": "import numpy as np\n",
            "torch": "import numpy as np\nimport torch\n",
            "jax": "import numpy as np\nimport jax\nimport jax.numpy as jnp\n"}
_XP = {"numpy": "np", "torch": "torch", "jax": "jnp"}
_ELEMENTWISE = ("exp", "log", "sin", "cos", "tanh", "sqrt", "abs", "sign")

# helpers a module gets when it uses them, per backend
_HELPERS = {
    ("numpy", "sigmoid"): "def _sigmoid(u):\n    return 0.5 * (1.0 + np.tanh(0.5 * u))\n",
    ("numpy", "softplus"): "def _softplus(u):\n    return np.logaddexp(0.0, u)\n",
    ("numpy", "softmax"): "def _softmax(z):\n    e = np.exp(z - np.max(z))\n    return e / np.sum(e)\n",
    ("numpy", "log_softmax"): "def _log_softmax(z):\n    m = np.max(z)\n"
                               "    return z - m - np.log(np.sum(np.exp(z - m)))\n",
    ("numpy", "logdet"): "def _logdet(a):\n    sign, value = np.linalg.slogdet(a)\n"
                         "    return value if sign > 0 else np.nan   # logdet needs det(a) > 0\n",
    ("torch", "softplus"): "def _softplus(u):\n    return torch.nn.functional.softplus(u)\n",
    ("torch", "logdet"): "def _logdet(a):\n    return torch.logdet(a)\n",
    ("jax", "softplus"): "def _softplus(u):\n    return jax.nn.softplus(u)\n",
    ("jax", "logdet"): "def _logdet(a):\n    sign, value = jnp.linalg.slogdet(a)\n"
                       "    return jnp.where(sign > 0, value, jnp.nan)\n",
    ("any", "commutation"): "def _commutation(m, n):\n"
                            "    k = np.zeros((m * n, m * n))\n"
                            "    for i in range(m):\n        for j in range(n):\n"
                            "            k[j + i * n, i + j * m] = 1.0\n    return k\n",
}


def python_name(name: str) -> str:
    """A variable's name in Python: keywords (and names the module uses) get a trailing _."""
    return name + "_" if keyword.iskeyword(name) or name in ("np", "torch", "jax", "jnp") else name


class _Emitter:
    def __init__(self, backend: str, decls: Mapping[str, Decl], dims: Mapping[str, str]):
        self.backend, self.xp = backend, _XP[backend]
        self.decls = dict(decls)
        self.dims = dims            # dimension name -> Python expression of its size
        self.helpers: list[str] = []
        self.definitions: dict[str, E.Expr] = {}   # the names computed so far (t1 = ...)

    def resolve(self, e: E.Expr) -> E.Expr:
        """A named subterm's definition (to see log(t1) with t1 = sigmoid(u) as log(sigmoid(u)))."""
        return self.definitions.get(e.name, e) if e.op == E.SYM else e

    def helper(self, name: str) -> str:
        key = (self.backend, name) if (self.backend, name) in _HELPERS else ("any", name)
        if key not in _HELPERS:
            return ""
        if _HELPERS[key] not in self.helpers:
            self.helpers.append(_HELPERS[key])
        return f"_{name}"

    def size(self, d) -> str:
        coef, names = D.factors(d)
        missing = [n for n in names if n not in self.dims]
        if missing:
            raise InputError(f"cannot tell the size {missing[0]} from the arguments")
        parts = ([str(coef)] if coef != 1 or not names else []) + [self.dims[n] for n in names]
        return " * ".join(parts)

    def code(self, e: E.Expr, shape: Shape | None = None) -> str:
        """A Python expression for e (its subterms' shapes inferred from the declarations; `shape`
        fixes e's own where e alone leaves it open, as in 2*sum(X)*ones)."""
        if shape is None:
            return self._code(e, infer(e, self.decls), ())
        pinned = {**self.decls, PIN: Decl(shape)}
        return self._code(e, infer(E.Expr(E.SUB, (e, E.sym(PIN))), pinned), (0,))

    def _code(self, e: E.Expr, typing, path) -> str:
        op, xp = e.op, self.xp
        shape = typing.shape(path)
        scalar = shape.is_scalar
        kid = lambda i: self._code(e.args[i], typing, path + (i,))   # noqa: E731
        kid_scalar = lambda i: typing.shape(path + (i,)).is_scalar   # noqa: E731
        if op == E.SYM:
            return python_name(e.name)
        if op == E.NUM:
            return repr(float(e.value)) if e.value >= 0 else f"({float(e.value)!r})"
        if op in (E.IDENTITY, E.ONES, E.ZERO):
            if scalar:
                return "0.0" if op == E.ZERO else "1.0"
            r, c = self.size(shape.rows), self.size(shape.cols)
            dtype = ", dtype=torch.float64" if self.backend == "torch" else ""
            return (f"{xp}.eye({r}{dtype})" if op == E.IDENTITY else
                    f"{xp}.{'ones' if op == E.ONES else 'zeros'}(({r}, {c}){dtype})")
        if op == E.COMMUTATION:
            m, n = (self.size(D.parse(s)) for s in E.stated_size(e))
            return self._array(f"{self.helper('commutation')}({m}, {n})")   # (a constant matrix)
        if op in (E.ADD, E.SUB):
            return f"({kid(0)} {'+' if op == E.ADD else '-'} {kid(1)})"
        if op == E.NEG:
            return f"(-{kid(0)})"
        if op == E.MUL:
            if kid_scalar(0) or kid_scalar(1):
                return f"({kid(0)} * {kid(1)})"
            product = f"({kid(0)} @ {kid(1)})"
            return f"{product}[0, 0]" if scalar else product
        if op == E.HADAMARD:
            return f"({kid(0)} * {kid(1)})"
        if op in (E.HDIV, E.DIV):
            return f"({kid(0)} / {kid(1)})"
        if op == E.TRANSPOSE:
            return kid(0) if scalar else f"{kid(0)}.T"
        if op == E.POW:
            k = e.args[1].value
            if scalar:
                return f"({kid(0)} ** {float(k)!r})" if k.denominator != 1 else f"({kid(0)} ** {int(k)})"
            return f"{xp}.linalg.matrix_power({kid(0)}, {int(k)})"
        if op == E.DIFF:
            raise InputError("a term with a differential has no code")
        return self._function(e, typing, path, kid, kid_scalar, scalar)

    def _function(self, e, typing, path, kid, kid_scalar, scalar) -> str:
        op, xp, b = e.op, self.xp, self.backend
        a = self.resolve(e.args[0]) if e.args else None
        if op == "log" and a.op == "sigmoid":                       # log σ(u) = -softplus(-u)
            return f"(-{self.helper('softplus')}(-{self.code(a.args[0])}))"
        if op == "log" and a.op == E.SUB and _is_one(a.args[0]) and self.resolve(a.args[1]).op == "sigmoid":
            u = self.code(self.resolve(a.args[1]).args[0])          # log(1 - σ(u)) = -softplus(u)
            return f"(-{self.helper('softplus')}({u}))"
        if op == "log" and a.op == "softmax":
            z = self.code(a.args[0])
            if b == "numpy":
                return f"{self.helper('log_softmax')}({z})"
            return f"torch.log_softmax({z}, dim=0)" if b == "torch" else f"jax.nn.log_softmax({z}, axis=0)"
        if op in _ELEMENTWISE:
            return f"{xp}.{op}({kid(0)})"
        if op == "sigmoid":
            if b == "numpy":
                return f"{self.helper('sigmoid')}({kid(0)})"
            return f"torch.sigmoid({kid(0)})" if b == "torch" else f"jax.nn.sigmoid({kid(0)})"
        if op == "softmax":
            if b == "numpy":
                return f"{self.helper('softmax')}({kid(0)})"
            return f"torch.softmax({kid(0)}, dim=0)" if b == "torch" else f"jax.nn.softmax({kid(0)}, axis=0)"
        if op == "inv":
            return f"(1.0 / {kid(0)})" if scalar else f"{xp}.linalg.inv({kid(0)})"
        if op == "det":
            return kid(0) if kid_scalar(0) else f"{xp}.linalg.det({kid(0)})"
        if op == "logdet":
            if kid_scalar(0):
                return f"{xp}.log({kid(0)})"
            if has_prop(a, "spd", self.decls):                      # Cholesky: 2*sum(log(diag(L)))
                return f"(2.0 * {xp}.sum({xp}.log({xp}.diagonal({xp}.linalg.cholesky({kid(0)})))))"
            return f"{self.helper('logdet')}({kid(0)})"
        if op == "tr":
            return kid(0) if kid_scalar(0) else f"{xp}.trace({kid(0)})"
        if op == "sum":
            return kid(0) if kid_scalar(0) else f"{xp}.sum({kid(0)})"
        if op == "diag":
            if kid_scalar(0):
                return kid(0)
            return f"torch.diag({kid(0)}.reshape(-1))" if b == "torch" else f"{xp}.diagflat({kid(0)})"
        if op == "norm2":
            return f"{xp}.sqrt({xp}.sum({kid(0)} * {kid(0)}))" if not kid_scalar(0) else f"{xp}.abs({kid(0)})"
        if op == "norm2sq":
            return f"{xp}.sum({kid(0)} * {kid(0)})" if not kid_scalar(0) else f"({kid(0)} ** 2)"
        if op == "vec":
            return kid(0) if kid_scalar(0) else f"{kid(0)}.T.reshape(-1, 1)"
        if op == "kron":
            return f"{xp}.kron({kid(0)}, {kid(1)})"
        raise InputError(f"no code for the function {op!r}")

    def _array(self, numpy_code: str) -> str:
        return {"numpy": numpy_code, "torch": f"torch.as_tensor({numpy_code})",
                "jax": f"jnp.asarray({numpy_code})"}[self.backend].replace(
            "torch.as_tensor(", "torch.as_tensor(dtype=torch.float64, data=")


PIN = "#shape"   # a name no input has: it fixes a term's shape for the inference


def _subterm_shapes(outputs, decls: Mapping[str, Decl]) -> dict[E.Expr, Shape]:
    """The shape of every subterm of the outputs, each typed in its output's shape."""
    out: dict[E.Expr, Shape] = {}
    for _, term, shape in outputs:
        typing = infer(E.Expr(E.SUB, (term, E.sym(PIN))), {**decls, PIN: Decl(shape)})
        for path, node in term.walk((0,)):
            out.setdefault(node, typing.shape(path))
    return out


def _written_out(e: E.Expr, meaning: Mapping[str, E.Expr]) -> E.Expr:
    if e.op == E.SYM and e.name in meaning:
        return meaning[e.name]
    return e.with_args(tuple(_written_out(a, meaning) for a in e.args)) if e.args else e


def _stable_arguments(terms: list[E.Expr]) -> list[E.Expr]:
    """The u of each log(sigmoid(u)), log(ones - sigmoid(u)), log(softmax(u)): the stable form
    uses u itself, so u is worth a name of its own when sigmoid(u) has one."""
    out = []
    for t in terms:
        for _, n in t.walk():
            if n.op != "log":
                continue
            a = n.args[0]
            if a.op == E.SUB and _is_one(a.args[0]):
                a = a.args[1]
            if a.op in ("sigmoid", "softmax") and a.args[0].args:
                out.append(a.args[0])
    return out


def _is_one(e: E.Expr) -> bool:
    return e.op == E.ONES or (e.op == E.NUM and e.value == 1)


def _dimension_sources(decls: Mapping[str, Decl]) -> dict[str, str]:
    """Each dimension name -> how the function reads it off an argument (`X.shape[0]`)."""
    out: dict[str, str] = {}
    for name, d in sorted(decls.items()):
        for axis, dim in enumerate((d.shape.rows, d.shape.cols)):
            if isinstance(dim, str) and dim not in out:
                out[dim] = f"{python_name(name)}.shape[{axis}]"
    return out


def generate(function: str, outputs: list[tuple[str, E.Expr, Shape]], decls: Mapping[str, Decl],
             backend: str = "numpy", doc: str = "") -> str:
    """A module defining `function(*, <variables>)` that returns the values of `outputs`
    ((name, term, shape) triples: f first, then its derivatives), repeated subterms computed
    once."""
    if backend not in BACKENDS:
        raise InputError(f"unknown backend {backend!r} (known: {', '.join(BACKENDS)})")
    used = sorted({s for _, t, _ in outputs for s in t.symbols()} & set(decls))
    decls = {n: decls[n] for n in used}
    terms = [t for _, t, _ in outputs]
    shapes = _subterm_shapes(outputs, decls)
    # every repeated compound subterm once; an output that is a subterm of another, once too
    named = name_repeats(terms + _stable_arguments(terms), set(decls) | {python_name(n) for n in decls},
                         min_chars=1, name_whole=True)
    em = _Emitter(backend, decls, _dimension_sources(decls))
    body: list[str] = []
    if backend != "numpy":
        convert = "torch.as_tensor({}, dtype=torch.float64)" if backend == "torch" else "jnp.asarray({})"
        body += [f"    {python_name(n)} = {convert.format(python_name(n))}" for n in used]
    meaning: dict[str, E.Expr] = {}   # each name's subterm, written out
    for name, d in named.definitions:
        whole = _written_out(d, meaning)
        meaning[name] = whole
        body.append(f"    {name} = {em.code(d, shapes[whole])}")
        em.decls[name] = Decl(shapes[whole])
        em.definitions[name] = d
    values = []
    for (label, _, shape), t in zip(outputs, named.terms[:len(outputs)]):
        body.append(f"    {label} = {em.code(t, shape)}")
        values.append(label)
    params = ", ".join(python_name(n) for n in used)
    function_text = "\n".join([
        f"def {function}(*, {params}):",
        f'    """Return ({", ".join(values)}); matrices and vectors are 2-D arrays, scalars floats."""',
        *body, f"    return {', '.join(values)}"])
    parts = ([f'"""{doc}"""'] if doc else []) + [_IMPORTS[backend].rstrip()] + \
        [h.rstrip() for h in em.helpers] + [function_text]
    return "\n\n\n".join(parts) + "\n"


def _header(what: str, result, answer: str, steps: int | None) -> str:
    lines = [f"{what}, generated by rewrite:", "", f"    {answer}", ""]
    lines.append(f"(proved in {steps} rule steps; `rewrite derive --proof` writes the proof)." if steps else
                 "(derived without a proof document).")
    if getattr(result, "where", None):
        lines.append("It holds where " + ", ".join(result.where) + ".")
    return "\n".join(lines)


def gradient_module(result, backend: str = "numpy") -> str:
    """`f_and_grad(**variables) -> (f, ∂f/∂X)` for a GradientResult."""
    doc = _header(f"f = {result.f} and its gradient", result, f"∂f/∂{result.wrt} = {result.gradient}",
                  result.proof_steps)
    x = result.vars[result.wrt].shape
    return generate("f_and_grad", [("f", result.f, SCALAR), ("grad", result.gradient, x)], result.vars,
                    backend, doc)


def jacobian_module(result, backend: str = "numpy") -> str:
    """`F_and_jacobian(**variables) -> (F, J)` for a DerivativeResult (vec(dF) = J*vec(dX))."""
    steps = len(result.derivation.jacobian.steps) if result.derivation is not None else None
    doc = _header(f"F = {result.F} and its Jacobian (numerator layout: vec(dF) = J*vec(d{result.wrt}))",
                  result, f"J = {result.jacobian}", steps)
    return generate("F_and_jacobian", [("F", result.F, _shape(result.F, result.vars)),
                                       ("J", result.jacobian, _vec_shape(result.F, result.vars, result.wrt))],
                    result.vars, backend, doc)


def hessian_module(result, backend: str = "numpy") -> str:
    """`f_grad_hess(**variables) -> (f, gradient, H)` for a HessianResult (vec(dG) = H*vec(dX))."""
    d = result.derivation
    steps = len(d.gradient.steps) + len(d.hessian.steps) if d is not None else None
    doc = _header(f"f = {result.f}, its gradient and Hessian (vec(dG) = H*vec(d{result.wrt}))", result,
                  f"H = {result.hessian}", steps)
    x = result.vars[result.wrt].shape
    return generate("f_grad_hess", [("f", result.f, SCALAR), ("grad", result.gradient, x),
                                    ("H", result.hessian, _vec_shape(E.sym(result.wrt), result.vars, result.wrt))],
                    result.vars, backend, doc)


def vjp_module(result, backend: str = "numpy") -> str:
    """`F_and_vjp(**variables, G) -> (F, vjp)` for a VJPResult (the gradient of tr(G'*F))."""
    steps = len(result.derivation.derivation.steps) if result.derivation is not None else None
    doc = _header(f"F = {result.F} and its vector-Jacobian product with {result.cotangent}", result,
                  f"vjp = {result.result}", steps)
    return generate("F_and_vjp", [("F", result.F, _shape(result.F, result.vars)),
                                  ("vjp", result.result, result.vars[result.wrt].shape)], result.vars, backend, doc)


def _shape(term: E.Expr, decls) -> Shape:
    return infer(term, decls).shape()


def _vec_shape(F: E.Expr, decls, wrt: str) -> Shape:
    """The shape of J in vec(dF) = J*vec(dX): (rows of vec(F)) x (rows of vec(X))."""
    f, x = _shape(F, decls), decls[wrt].shape
    return Shape(D.mul(f.rows, f.cols), D.mul(x.rows, x.cols))
