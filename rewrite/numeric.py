"""Numeric evidence: evaluate terms with numpy, check gradients, test identities at random points.

This is evidence, not proof.  A gradient is checked against central finite differences, an
identity is compared at random points of random sizes; a failure comes with the point.

Values are 2-d arrays (scalars 1x1).  Shapes come from `rewrite.shapes.infer`, so the sized-by-
context constants `I`, `0` and `ones` get their sizes from the same typing the engine uses.
Points too close to the edge of a function's domain (a near-singular inverse, log of a tiny
number) raise `OutOfDomain`; `check_gradient` and `compare` then draw another point.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np

from . import dims
from . import expr as E
from .errors import ShapeError
from .shapes import Decl, Shape, Typing, infer, normalize_decls
from .syntax import parse

# Beyond this condition number an inverse (or log-determinant) is "at the edge": rounding would
# spoil both the finite differences and the comparison of identities.
MAX_COND = 1e4
# Arguments of log, sqrt, fractional powers and divisors closer than this to the edge of the
# domain (0) count as out of domain: finite differences with our steps need room around them.
EDGE = 1e-3
# compare(): relative to the largest intermediate value, so that cancellation does not fail true
# identities while a false one (off by O(1)) cannot pass.
COMPARE_TOL = 1e-7
COMPARE_TOL_FD = 1e-6        # when a side contains d(compound), evaluated by finite differences
GRADIENT_TOL = 1e-6
_FD_STEP = 1e-5              # relative step of the Richardson-extrapolated central difference
_ATTEMPTS_PER_POINT = 40     # redraws allowed per wanted point before giving up
_PLAIN_FAILURES = 10         # out-of-domain draws in a row before positive entries are drawn

Value = np.ndarray
Env = Mapping[str, np.ndarray]


class OutOfDomain(Exception):
    """The point is outside the domain of a function in the term (or too close to its edge)."""


# --- evaluation ---------------------------------------------------------------------------------
def _positive(a: Value, what: str) -> Value:
    if np.any(a <= EDGE):
        raise OutOfDomain(f"{what} of a number <= {EDGE:g}")
    return a


def _nonzero(a: Value, what: str) -> Value:
    if np.any(np.abs(a) < EDGE):
        raise OutOfDomain(f"{what} by a number closer to 0 than {EDGE:g}")
    return a


def _inv(a: Value) -> Value:
    if np.linalg.cond(a) > MAX_COND:
        raise OutOfDomain(f"inverse of a matrix with condition number above {MAX_COND:g}")
    return np.linalg.inv(a)


def _sigmoid(a: Value) -> Value:
    return 0.5 * (1.0 + np.tanh(0.5 * a))   # the same function, without overflow in exp(-a)


def _softmax(z: Value) -> Value:
    w = np.exp(z - z.max())
    return w / w.sum()


def _logdet(a: Value) -> Value:
    sign, logabs = np.linalg.slogdet(a)
    if sign <= 0:
        raise OutOfDomain("logdet of a matrix whose determinant is not positive")
    if np.linalg.cond(a) > MAX_COND:
        raise OutOfDomain(f"logdet of a matrix with condition number above {MAX_COND:g}")
    return np.array([[logabs]])


def _scalar(x: float) -> Value:
    return np.array([[float(x)]])


_ELEMENTWISE: dict[str, Callable[[Value], Value]] = {
    "exp": np.exp, "sin": np.sin, "cos": np.cos, "tanh": np.tanh, "abs": np.abs, "sign": np.sign,
    "sigmoid": _sigmoid,
    "log": lambda a: np.log(_positive(a, "log")),
    "sqrt": lambda a: np.sqrt(_positive(a, "sqrt")),
}
_REDUCTIONS: dict[str, Callable[[Value], Value]] = {
    "inv": _inv,
    "det": lambda a: _scalar(np.linalg.det(a)),
    "logdet": _logdet,
    "tr": lambda a: _scalar(np.trace(a)),
    "sum": lambda a: _scalar(a.sum()),
    "norm2": lambda a: _scalar(np.sqrt((a * a).sum())),
    "norm2sq": lambda a: _scalar((a * a).sum()),
    "diag": lambda a: np.diag(a[:, 0]),
    "softmax": _softmax,
}


def _as_array(name: str, v) -> Value:
    a = np.asarray(v, dtype=float)
    if a.ndim == 0:
        return a.reshape(1, 1)
    if a.ndim == 1:
        return a.reshape(-1, 1)   # a flat sequence is a column vector
    if a.ndim != 2:
        raise ValueError(f"the value of {name} must be a scalar, a vector or a matrix, not {a.ndim}-d")
    return a


class _Evaluator:
    """Evaluates one typed term; tracks the largest magnitude seen (the scale of rounding)."""

    def __init__(self, typing: Typing, sizes: Mapping[str, int], env: Env,
                 differentials: Env | None):
        self.typing = typing
        self.sizes = sizes
        self.env = env
        self.differentials = differentials
        self.scale = 0.0
        self.used_fd = False

    def dim(self, d) -> int:
        missing = [n for n in dims.names(d) if n not in self.sizes]
        if missing:
            raise ValueError(f"the size of dimension {missing[0]!r} is not fixed by the values; give it in sizes")
        return dims.value(d, self.sizes)

    def shape_at(self, path: E.Path) -> tuple[int, int]:
        s = self.typing.shapes[path]
        return self.dim(s.rows), self.dim(s.cols)

    def run(self, e: E.Expr, path: E.Path) -> Value:
        v = self._run(e, path)
        if not np.all(np.isfinite(v)):
            raise OutOfDomain(f"a non-finite value in {e}")
        # written constants (like 100000 in (1 + 1/100000)*A) are exact: not a scale of rounding
        if v.size and e.symbols():
            self.scale = max(self.scale, float(np.max(np.abs(v))))
        return v

    def _run(self, e: E.Expr, path: E.Path) -> Value:
        op = e.op
        if op == E.SYM:
            if e.name not in self.env:
                raise ValueError(f"no value for the variable {e.name}")
            return self.env[e.name]
        if op == E.NUM:
            return _scalar(e.value)
        if op in (E.IDENTITY, E.ZERO, E.ONES):
            r, c = self.shape_at(path)
            if op == E.IDENTITY:
                return np.eye(r)
            return np.zeros((r, c)) if op == E.ZERO else np.ones((r, c))
        if op == E.COMMUTATION:
            m, n = (self.dim(dims.parse(d)) for d in E.stated_size(e))
            return commutation_matrix(m, n)
        if op == E.DIFF:
            return self.differential(e, path)
        if op == E.POW:
            return self.power(self.run(e.args[0], path + (0,)), e.args[1])
        k = [self.run(a, path + (i,)) for i, a in enumerate(e.args)]
        if op == E.ADD:
            return k[0] + k[1]
        if op == E.SUB:
            return k[0] - k[1]
        if op == E.NEG:
            return -k[0]
        if op == E.MUL:
            a, b = k
            if a.shape == (1, 1):     # a 1x1 factor scales the other one
                return a[0, 0] * b
            if b.shape == (1, 1):
                return a * b[0, 0]
            return a @ b
        if op == E.HADAMARD:
            return k[0] * k[1]
        if op == E.HDIV:
            return k[0] / _nonzero(k[1], "elementwise division")
        if op == E.DIV:
            return k[0] / _nonzero(k[1], "division")[0, 0]
        if op == E.TRANSPOSE:
            return k[0].T
        if op in _ELEMENTWISE:
            return _ELEMENTWISE[op](k[0])
        if op in _REDUCTIONS:
            return _REDUCTIONS[op](k[0])
        if op == "vec":
            return k[0].reshape(-1, 1, order="F")   # the columns, one under the other
        if op == "kron":
            return np.kron(k[0], k[1])
        raise ValueError(f"cannot evaluate the operator {op!r}")

    def power(self, base: Value, exponent: E.Expr) -> Value:
        if exponent.op != E.NUM:
            raise ValueError(f"the exponent {exponent} is not a number")
        p = exponent.value
        if base.shape == (1, 1):
            if p.denominator != 1:
                _positive(base, "fractional power")
            elif p < 0:
                _nonzero(base, "negative power (division)")
            return base ** float(p)
        if p.denominator != 1:
            raise ValueError("a matrix power needs an integer exponent")
        m = _inv(base) if p < 0 else base
        return np.linalg.matrix_power(m, abs(int(p)))

    def differential(self, e: E.Expr, path: E.Path) -> Value:
        """`d(V)` of a variable: the given differential; `d(F)`: F's directional derivative."""
        if self.differentials is None:
            raise ValueError(f"cannot evaluate the differential {e} (no differentials given)")
        inner = e.args[0]
        if inner.op == E.SYM:
            if inner.name not in self.differentials:
                raise ValueError(f"no value for the differential d{inner.name}")
            return self.differentials[inner.name]
        if any(n.op == E.DIFF for _, n in inner.walk()):
            raise ValueError(f"cannot evaluate the nested differential {e}")
        self.used_fd = True
        directions = {v: self.differentials[v] for v in inner.symbols() if v in self.differentials}

        def at(t: float) -> Value:
            moved = {**self.env, **{v: self.env[v] + t * dv for v, dv in directions.items()}}
            sub = _Evaluator(self.typing, self.sizes, moved, None)
            return sub.run(inner, path + (0,))

        return _derivative(at, [self.env[v] for v in directions], list(directions.values()),
                           self.shape_at(path))


def commutation_matrix(m: int, n: int) -> Value:
    """K(m, n): the permutation with K @ vec(A) = vec(A') for every m x n A."""
    k = np.zeros((m * n, m * n))
    for i in range(m):
        for j in range(n):
            k[i * n + j, j * m + i] = 1.0   # vec(A')[i*n + j] = A[i, j] = vec(A)[j*m + i]
    return k


def _step(points: list[Value], directions: list[Value]) -> float:
    big_x = max([1.0] + [float(np.max(np.abs(x))) for x in points if x.size])
    big_d = max([0.0] + [float(np.max(np.abs(d))) for d in directions if d.size])
    return _FD_STEP * big_x / big_d if big_d > 0 else 0.0


def _derivative(at: Callable[[float], Value], points: list[Value], directions: list[Value],
                shape: tuple[int, int]) -> Value:
    """d/dt at(t) at t = 0: central differences at h and h/2, Richardson-extrapolated (O(h^4))."""
    h = _step(points, directions)
    if h == 0.0:
        return np.zeros(shape)

    def central(s: float) -> Value:
        return (at(s) - at(-s)) / (2 * s)

    return (4 * central(h / 2) - central(h)) / 3


def _typing_from_env(expr: E.Expr, env: Env, differentials: Env | None) -> Typing:
    decls = {name: Decl(Shape(*v.shape)) for name, v in env.items()}
    for name, v in (differentials or {}).items():
        decls.setdefault(name, Decl(Shape(*v.shape)))
    return infer(expr, decls)


def evaluate(expr: E.Expr | str, env: Mapping[str, object], *, typing: Typing | None = None,
             path: E.Path = (), sizes: Mapping[str, int] | None = None,
             differentials: Mapping[str, object] | None = None) -> Value:
    """The value of `expr` (a 2-d array; scalars 1x1) at the point `env` (name -> value).

    Shapes are inferred from the values.  To evaluate a subterm of a bigger typed term, pass that
    term's `typing` and the subterm's `path`; `sizes` gives dimensions the values do not fix (the
    size of a lone `I`).  `d(V)` takes its value from `differentials[V]`; `d(F)` of a compound F
    is F's derivative along those differentials (finite differences).  Without `differentials`
    a differential is a ValueError.  Raises OutOfDomain at points outside a function's domain.
    """
    e = _as_expr(expr)
    values = {name: _as_array(name, v) for name, v in env.items()}
    diffs = None if differentials is None else {
        name: _as_array("d" + name, v) for name, v in differentials.items()}
    if typing is None:
        typing, path = _typing_from_env(e, values, diffs), ()
    ev = _Evaluator(typing, dict(sizes or {}), values, diffs)
    return ev.run(e, path)


def _evaluate_with_scale(e: E.Expr, env: Env, typing: Typing, path: E.Path, sizes: Mapping[str, int],
                         differentials: Env | None = None) -> tuple[Value, float, bool]:
    ev = _Evaluator(typing, sizes, env, differentials)
    v = ev.run(e, path)
    return v, ev.scale, ev.used_fd


# --- random points ------------------------------------------------------------------------------
def _decls_of(typing_or_decls) -> dict[str, Decl]:
    if isinstance(typing_or_decls, Typing):
        return dict(typing_or_decls.vars)
    return normalize_decls(typing_or_decls)


def _dims_of(typing_or_decls) -> set[str]:
    shapes = [d.shape for d in _decls_of(typing_or_decls).values()]
    if isinstance(typing_or_decls, Typing):
        shapes += list(typing_or_decls.shapes.values())
    return {n for s in shapes for d in (s.rows, s.cols) for n in dims.names(d)}


def draw_sizes(typing_or_decls, rng: np.random.Generator,
               sizes: Mapping[str, int] | None = None) -> dict[str, int]:
    """A size in 2..4 for every dimension symbol (of the variables, and with a Typing of every
    subterm, e.g. a lone `I`); those in `sizes` are kept."""
    out = {d: int(rng.integers(2, 5)) for d in sorted(_dims_of(typing_or_decls))}
    out.update(sizes or {})
    return out


def _orthogonal(n: int, rng: np.random.Generator) -> Value:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def _well_conditioned(draw: Callable[[], Value], limit: float = 100.0, tries: int = 50) -> Value:
    best, best_cond = None, math.inf
    for _ in range(tries):
        m = draw()
        c = np.linalg.cond(m)
        if c < limit:
            return m
        if c < best_cond:
            best, best_cond = m, c
    return best


def random_matrix(rows: int, cols: int, props: frozenset[str] | set[str], rng: np.random.Generator,
                  positive_entries: bool = False) -> Value:
    """A random matrix with the given properties; invertible ones are well conditioned.

    Plain entries are standard normal; `positive` entries (also `positive_entries=True`) lie in
    [0.5, 2]; `spd` is M M'/n + I (eigenvalues >= 1); other invertible matrices have singular
    values (or eigenvalues, if symmetric) of size 0.5..2.
    """
    props = set(props)
    pos = positive_entries or "positive" in props
    square = props & {"symmetric", "spd", "invertible", "diagonal", "square", "orthogonal"}
    if square and rows != cols:
        raise ValueError(f"a {', '.join(sorted(square))} matrix must be square, not {rows} x {cols}")
    n = rows

    def sizes_of(k: int) -> Value:   # magnitudes in [0.5, 2], signs random unless positive
        m = rng.uniform(0.5, 2.0, k)
        return m if pos else m * rng.choice([-1.0, 1.0], k)

    if "orthogonal" in props:
        return _orthogonal(n, rng)
    if "simplex" in props:   # inside the simplex: every entry > 0, so that log(y) is defined too
        w = rng.uniform(0.5, 2.0, (rows, cols))
        return w / w.sum()
    if "nonzero" in props and not pos and not square:
        return sizes_of(rows * cols).reshape(rows, cols)
    if "diagonal" in props:
        d = rng.uniform(0.5, 2.0, n) if "spd" in props else sizes_of(n)
        return np.diag(d)
    if "spd" in props:
        m = rng.uniform(0.5, 2.0, (n, n)) if pos else rng.standard_normal((n, n))
        return m @ m.T / n + np.eye(n)
    if "symmetric" in props and "invertible" in props:
        if pos:
            return _well_conditioned(lambda: symmetrize(rng.uniform(0.5, 2.0, (n, n))))
        q = _orthogonal(n, rng)
        return symmetrize(q @ np.diag(sizes_of(n)) @ q.T)
    if "symmetric" in props:
        m = rng.uniform(0.5, 2.0, (n, n)) if pos else rng.standard_normal((n, n))
        return symmetrize(m)
    if "invertible" in props:
        if pos:
            return _well_conditioned(lambda: rng.uniform(0.5, 2.0, (n, n)))
        return _orthogonal(n, rng) @ np.diag(sizes_of(n)) @ _orthogonal(n, rng)
    if pos:
        return rng.uniform(0.5, 2.0, (rows, cols))
    return rng.standard_normal((rows, cols))


def symmetrize(m: Value) -> Value:
    return (m + m.T) / 2


def random_env(typing_or_decls, rng: np.random.Generator, sizes: Mapping[str, int] | None = None,
               positive_entries: bool = False) -> dict[str, np.ndarray]:
    """A random value for every variable of a Typing (or declarations), honouring their props.

    Dimension symbols take their size from `sizes`, else a random one in 2..4 (use `draw_sizes`
    first when the sizes are needed again, e.g. for `evaluate`).
    """
    decls = _decls_of(typing_or_decls)
    sizes = draw_sizes(typing_or_decls, rng, sizes)

    def size(d) -> int:
        return dims.value(d, sizes)

    return {name: random_matrix(size(d.shape.rows), size(d.shape.cols), d.props, rng, positive_entries)
            for name, d in sorted(decls.items())}


class _Points:
    """Random points for a check: redraws on OutOfDomain, bounded; after repeated failures draws
    positive entries (log, sqrt and friends are defined only there)."""

    def __init__(self, typing: Typing, rng: np.random.Generator, wanted: int, fixed_sizes=None):
        self.typing, self.rng, self.wanted = typing, rng, wanted
        self.fixed_sizes = dict(fixed_sizes or {})
        self.attempts = 0
        self.failures_in_row = 0
        self.positive = False
        self.reasons: list[str] = []

    def __iter__(self):
        while self.attempts < self.wanted * _ATTEMPTS_PER_POINT:
            self.attempts += 1
            if self.failures_in_row >= _PLAIN_FAILURES:
                self.positive = True
            sizes = draw_sizes(self.typing, self.rng, self.fixed_sizes)
            yield sizes, random_env(self.typing, self.rng, sizes, self.positive)

    def out_of_domain(self, err: OutOfDomain) -> None:
        self.failures_in_row += 1
        if str(err) not in self.reasons:
            self.reasons.append(str(err))

    def usable(self) -> None:
        self.failures_in_row = 0

    def note(self) -> str:
        bits = []
        if self.positive:
            bits.append("points drawn with positive entries after repeated out-of-domain draws")
        if self.reasons:
            bits.append("redrawn because: " + "; ".join(self.reasons[:3]))
        return "; ".join(bits)


# --- gradients ----------------------------------------------------------------------------------
@dataclass
class GradientCheck:
    ok: bool
    max_rel_error: float
    details: str
    points: int = 0


class _Tally:
    """The relative errors of a check at its usable points, and the verdict they give."""

    def __init__(self, trials: int):
        self.trials, self.worst, self.done, self.details = trials, 0.0, 0, []

    def add(self, got: np.ndarray, want: np.ndarray, sizes) -> bool:
        """Record one point; True when enough points are done."""
        norm = max(1.0, float(np.max(np.abs(got), initial=0)), float(np.max(np.abs(want), initial=0)))
        rel = float(np.max(np.abs(got - want), initial=0)) / norm
        self.worst = max(self.worst, rel)
        self.details.append(f"sizes {sizes}: relative error {rel:.2e}")
        self.done += 1
        return self.done == self.trials

    def verdict(self, points: "_Points", tol: float, remark: str = "") -> "GradientCheck":
        details = self.details + [n for n in (points.note(),) if n]
        if self.done < self.trials:
            details.insert(0, f"only {self.done} of {self.trials} random points were usable")
            return GradientCheck(False, math.inf if self.done == 0 else self.worst, "; ".join(details), self.done)
        if remark:
            details.append(remark)
        return GradientCheck(self.worst <= tol, self.worst, "; ".join(details), self.done)


def _as_expr(x: E.Expr | str) -> E.Expr:
    return parse(x) if isinstance(x, str) else x


def _directions(decl: Decl, shape: tuple[int, int]) -> list[Value]:
    """Unit directions spanning the space `wrt` lives in: all entries; symmetric matrices move
    along E_ij + E_ji (so a gradient counts on symmetric matrices, i.e. sym(G)); diagonal ones
    along E_ii."""
    r, c = shape
    out = []
    for i in range(r):
        for j in range(c):
            if "diagonal" in decl.props and i != j:
                continue
            if "symmetric" in decl.props and j < i:
                continue
            m = np.zeros((r, c))
            m[i, j] = 1.0
            if "symmetric" in decl.props:
                m[j, i] = 1.0
            out.append(m)
    return out


def fd_gradient(f: E.Expr | str, wrt: str, env: Mapping[str, object], *,
                sizes: Mapping[str, int] | None = None, symmetric: bool = False) -> Value:
    """∂f/∂wrt at the point `env`, entry by entry, by the same Richardson-extrapolated central
    differences as `check_gradient`; for a symmetric `wrt` (moving along E_ij + E_ji) sym(G)."""
    fe = _as_expr(f)
    values = {name: _as_array(name, v) for name, v in env.items()}
    typing = _typing_from_env(fe, values, None)
    x0 = values[wrt]
    g = np.zeros(x0.shape)
    for direction in _directions(Decl(Shape(*x0.shape), frozenset({"symmetric"} if symmetric else ())),
                                 x0.shape):
        def at(t: float, direction=direction) -> Value:
            return evaluate(fe, {**values, wrt: x0 + t * direction}, typing=typing, sizes=sizes)

        slope = float(_derivative(at, [x0 * (direction != 0)], [direction], (1, 1))[0, 0])
        # along E_ij + E_ji the slope is G_ij + G_ji: each of the two entries of sym(G) is half
        g += slope * direction / direction.sum()
    return g


def check_gradient(f: E.Expr | str, wrt: str, gradient: E.Expr | str, vars=None, trials: int = 3,
                   seed: int = 0, tol: float = GRADIENT_TOL) -> GradientCheck:
    """Does `gradient` (shaped like `wrt`) agree with finite differences of the scalar `f`?

    At `trials` random points (random sizes) each directional derivative of f along a unit
    direction D of `wrt` (every entry; E_ij + E_ji for a symmetric `wrt`) is estimated with
    Richardson-extrapolated central differences and compared with tr(G'*D).  The error is
    max |fd - tr(G'D)| / max(1, max|fd|, max|tr(G'D)|).  Out-of-domain points are redrawn a
    bounded number of times; fewer than `trials` usable points is a failure, never a pass.
    """
    fe, ge = _as_expr(f), _as_expr(gradient)
    decls = normalize_decls(vars)
    ft = infer(fe, decls)
    if not ft.shape().is_scalar:
        raise ShapeError(f"f must be a scalar (1 x 1), but {fe} is {ft.shape()}")
    known = {**decls, **ft.vars}
    if wrt not in known:
        raise ShapeError(f"the variable {wrt} does not occur in f and is not declared")
    try:
        gt = infer(E.Expr(E.SUB, (ge, E.sym(wrt))), known)
    except ShapeError:
        alone = infer(ge, known)   # a malformed gradient raises here (bad input)
        return GradientCheck(False, math.inf, f"the gradient {ge} is {alone.shape()} but {wrt} is "
                                              f"{known[wrt].shape}")
    joint = Typing({**gt.vars, **ft.vars}, {})
    joint.shapes = {**{(0,) + p: s for p, s in ft.shapes.items()},
                    **{(1,) + p: s for p, s in gt.shapes.items()}}
    wrt_decl = known[wrt]
    points = _Points(joint, np.random.default_rng(seed), trials)
    tally = _Tally(trials)
    for sizes, env in points:
        try:
            g, _, _ = _evaluate_with_scale(ge, env, gt, (0,), sizes)
            x0 = env[wrt]
            fd, claimed = [], []
            for direction in _directions(wrt_decl, x0.shape):
                def at(t: float, direction=direction) -> Value:
                    return _evaluate_with_scale(fe, {**env, wrt: x0 + t * direction}, ft, (), sizes)[0]

                fd.append(float(_derivative(at, [x0 * (direction != 0)], [direction], (1, 1))[0, 0]))
                claimed.append(float(np.sum(g * direction)))
        except OutOfDomain as err:
            points.out_of_domain(err)
            continue
        points.usable()
        if tally.add(np.array(fd), np.array(claimed), sizes):
            break
    symmetric = "symmetric" in wrt_decl.props
    return tally.verdict(points, tol, f"{wrt} is symmetric: compared on symmetric directions (sym(G))"
                         if symmetric else "")


def check_jacobian(F: E.Expr | str, wrt: str, jacobian: E.Expr | str, vars=None, trials: int = 3,
                   seed: int = 0, tol: float = GRADIENT_TOL) -> GradientCheck:
    """Does `jacobian` J agree with finite differences of F: vec(dF) = J*vec(dX)?

    At `trials` random points the derivative of vec(F) along each entry E_k of X (k in vec
    order: column by column) is estimated with Richardson-extrapolated central differences and
    compared with the k-th column of J.  Errors as in `check_gradient`.  (Checking a Hessian:
    the Jacobian of the gradient.)"""
    fe, je = _as_expr(F), _as_expr(jacobian)
    decls = normalize_decls(vars)
    ft = infer(fe, decls)
    known = {**decls, **ft.vars}
    if wrt not in known:
        raise ShapeError(f"the variable {wrt} does not occur in F and is not declared")
    joint = infer(E.Expr(E.SUB, (E.mul(je, E.Expr("vec", (E.sym(wrt),))),
                                 E.Expr("vec", (fe,)))), known)
    points = _Points(joint, np.random.default_rng(seed), trials)
    tally = _Tally(trials)
    for sizes, env in points:
        try:
            j = _evaluate_with_scale(je, env, joint, (0, 0), sizes)[0]
            x0 = env[wrt]
            rows, cols = x0.shape
            fd = []
            for k in range(rows * cols):   # E_k: entry (k % rows, k // rows), vec order
                direction = np.zeros(x0.shape)
                direction[k % rows, k // rows] = 1.0

                def at(t: float, direction=direction) -> Value:
                    return _evaluate_with_scale(fe, {**env, wrt: x0 + t * direction}, joint, (1, 0), sizes)[0]

                out = at(0.0)
                fd.append(_derivative(at, [x0 * (direction != 0)], [direction], out.shape).reshape(-1, order="F"))
        except OutOfDomain as err:
            points.out_of_domain(err)
            continue
        points.usable()
        fd_j = np.array(fd).T
        if fd_j.shape != j.shape:
            return GradientCheck(False, math.inf, f"J is {j.shape}, but vec(F) by vec({wrt}) is {fd_j.shape}")
        if tally.add(fd_j, j, sizes):
            break
    return tally.verdict(points, tol)


# --- identities ---------------------------------------------------------------------------------
def as_lists(v: Value) -> list[list[float]]:
    return [[float(x) for x in row] for row in np.asarray(v)]


@dataclass
class Counterexample:
    env: dict[str, list[list[float]]]
    lhs_value: list[list[float]]
    rhs_value: list[list[float]]
    difference: list[list[float]]
    sizes: dict[str, int] = field(default_factory=dict)
    differentials: dict[str, list[list[float]]] = field(default_factory=dict)


@dataclass
class Comparison:
    equal: bool
    max_rel_error: float
    counterexample: Counterexample | None
    points: int = 0
    details: str = ""


def compare(lhs: E.Expr | str, rhs: E.Expr | str, vars=None, trials: int = 5, seed: int = 0,
            wrt: str | None = None) -> Comparison:
    """Are `lhs` and `rhs` (equal shapes) equal at `trials` random points of random sizes?

    The error at a point is max|lhs - rhs| divided by the largest magnitude of any intermediate
    value of either side (rounding is relative to that), and must stay below COMPARE_TOL.  The
    first point where it does not is the counterexample.  Differentials: `d(V)` gets a random
    value for every variable V (only for `wrt`, if given: the others are constants), and
    `d(F)` is F's derivative along them.  If no point is usable, `equal` is False with no
    counterexample (inconclusive; see `details`).
    """
    le, re_ = _as_expr(lhs), _as_expr(rhs)
    typing = infer(E.Expr(E.SUB, (le, re_)), normalize_decls(vars))
    has_d = any(n.op == E.DIFF for t in (le, re_) for _, n in t.walk())
    points = _Points(typing, np.random.default_rng(seed), trials)
    worst, done, example = 0.0, 0, None
    for sizes, env in points:
        diffs = None
        if has_d:
            moving = [wrt] if wrt is not None else sorted(env)
            diffs = {v: (random_env({v: typing.vars[v]}, points.rng, sizes)[v] if v in moving
                         else np.zeros_like(env[v])) for v in env}
        try:
            lv, ls, lfd = _evaluate_with_scale(le, env, typing, (0,), sizes, diffs)
            rv, rs, rfd = _evaluate_with_scale(re_, env, typing, (1,), sizes, diffs)
        except OutOfDomain as err:
            points.out_of_domain(err)
            continue
        points.usable()
        done += 1
        diff = lv - rv
        scale = max(ls, rs)
        rel = float(np.max(np.abs(diff))) / scale if scale > 0 else 0.0
        worst = max(worst, rel)
        tol = COMPARE_TOL_FD if (lfd or rfd) else COMPARE_TOL
        if rel > tol and example is None:
            example = Counterexample({k: as_lists(v) for k, v in env.items()}, as_lists(lv),
                                     as_lists(rv), as_lists(diff), dict(sizes),
                                     {k: as_lists(v) for k, v in (diffs or {}).items()})
            break
        if done == trials:
            break
    note = points.note()
    if example is not None:
        return Comparison(False, worst, example, done, note)
    if done < trials:
        msg = f"only {done} of {trials} random points were usable" + (f"; {note}" if note else "")
        return Comparison(False, worst if done else math.nan, None, done, msg)
    return Comparison(True, worst, None, done, note)
