"""Conversion between SymPy matrix expressions and the project's terms.

`from_sympy(expr)` reads MatrixSymbol / MatMul / MatAdd / Transpose / Inverse / Trace / Determinant /
HadamardProduct / Identity / ZeroMatrix / OneMatrix and scalar Symbol / Add / Mul / Pow / log / exp ...
and returns the term with a declaration for every symbol (SymPy carries the shapes, symbolic
dimensions included).  `to_sympy(term, decls)` goes the other way.

SymPy normalises as it builds (n-ary sums and products, coefficients first, X*X -> X**2), so a
round trip returns an equal matrix function, not always the identical tree.  Nodes without a
counterpart raise InputError naming the node.
"""
from __future__ import annotations

from fractions import Fraction
from functools import reduce
from typing import Mapping

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.hadamard import HadamardPower
from sympy.matrices.expressions.diagonal import DiagMatrix
from sympy.matrices.expressions.kronecker import KroneckerProduct
from sympy.matrices.expressions.matexpr import MatrixElement
from sympy.printing.numpy import NumPyPrinter

from . import expr as E
from .errors import InputError
from .shapes import Decl, Shape, infer, normalize_decls
from .syntax import is_valid_symbol_name

# SymPy scalar functions that are elementwise functions of the language
_FUNCTIONS = {sp.exp: "exp", sp.log: "log", sp.sin: "sin", sp.cos: "cos", sp.tanh: "tanh",
              sp.Abs: "abs", sp.sign: "sign"}
_TO_FUNCTION = {name: f for f, name in _FUNCTIONS.items()}
_TO_FUNCTION["sqrt"] = sp.sqrt


# --- SymPy -> Expr ----------------------------------------------------------------------------
def from_sympy(expr) -> tuple[E.Expr, dict[str, str]]:
    """(term, {name: declaration}) for a SymPy scalar or matrix expression."""
    reader = _Reader()
    term = reader.read(sp.sympify(expr))
    return term, {n: str(d) for n, d in reader.decls.items()}


def _dim(d, where: str):
    d = sp.sympify(d)
    if d.is_Integer and d > 0:
        return int(d)
    if d.is_Symbol and is_valid_symbol_name(d.name):
        return d.name
    raise InputError(f"dimension {d} of {where} is not a positive integer or a plain symbol")


def _stacked_columns(node):
    """A, when the block matrix stacks the columns A[:, 0], A[:, 1], ... of one A (to_sympy's
    vec(A)); else None."""
    blocks = node.blocks
    if blocks.shape[1] != 1:
        return None
    parents = []
    for j in range(blocks.shape[0]):
        b = blocks[j, 0]
        if not isinstance(b, sp.MatrixSlice) or b.colslice[:2] != (j, j + 1) \
                or b.rowslice[:2] != (0, b.parent.shape[0]):
            return None
        parents.append(b.parent)
    whole = parents[0]
    return whole if all(p == whole for p in parents) and whole.shape[1] == len(parents) else None


def _commutation_sizes(node):
    """(m, n) when the explicit matrix is the commutation matrix K(m, n) (to_sympy's), else None."""
    from .numeric import commutation_matrix

    size = node.shape[0]
    if node.shape[1] != size or size < 4:
        return None
    values = [[int(v) if v in (0, 1) else -1 for v in row] for row in node.tolist()]
    for m in range(2, size):
        if size % m == 0 and size // m >= 2 and commutation_matrix(m, size // m).astype(int).tolist() == values:
            return m, size // m
    return None


def _fold(op: str, items: list[E.Expr]) -> E.Expr:
    return reduce(lambda a, b: E.Expr(op, (a, b)), items)


class _Reader:
    def __init__(self):
        self.decls: dict[str, Decl] = {}

    def declare(self, name: str, shape: Shape, node) -> E.Expr:
        if not is_valid_symbol_name(name):
            raise InputError(f"{name!r} (in {node}) cannot be a variable name here")
        known = self.decls.get(name)
        if known is not None and known.shape != shape:
            raise InputError(f"symbol {name!r} is used with shapes {known.shape} and {shape}")
        self.decls[name] = Decl(shape)
        return E.sym(name)

    def read(self, node) -> E.Expr:
        M = sp.matrices.expressions
        if isinstance(node, sp.MatrixSymbol):
            return self.declare(node.name, Shape(_dim(node.rows, node.name), _dim(node.cols, node.name)), node)
        if isinstance(node, sp.Symbol):
            return self.declare(node.name, Shape(1, 1), node)
        if isinstance(node, sp.Rational):
            return E.num(Fraction(int(node.p), int(node.q)))
        if isinstance(node, sp.Float):
            return E.num(Fraction(str(node)))
        if isinstance(node, M.Identity):
            return E.identity()
        if isinstance(node, (M.ZeroMatrix,)):
            return E.zero()
        if isinstance(node, M.OneMatrix):
            return E.ones()
        if isinstance(node, (sp.MatAdd, sp.Add)):
            return self.sum(node.args)
        if isinstance(node, (sp.MatMul, sp.Mul)):
            return self.product(node.args)
        if isinstance(node, M.HadamardProduct):
            return self.hadamard(node.args)
        if isinstance(node, HadamardPower):
            k = node.exp
            if k.is_Integer and k != 0:
                power = _fold(E.HADAMARD, [self.read(node.base)] * abs(int(k)))
                return power if k > 0 else E.Expr(E.HDIV, (E.ones(), power))
            if k == sp.Rational(1, 2):
                return E.app("sqrt", self.read(node.base))
            raise InputError(f"HadamardPower with exponent {k} (in {node}) is not supported")
        if isinstance(node, M.Transpose):
            return E.transpose(self.read(node.arg))
        if isinstance(node, M.Inverse):
            return E.app("inv", self.read(node.arg))
        if isinstance(node, M.Trace):
            if node.arg.shape == (1, 1):   # the scalar of a 1x1 product (to_sympy writes x'*x so)
                return self.read(node.arg)
            return E.app("tr", self.read(node.arg))
        if isinstance(node, M.Determinant):
            return E.app("det", self.read(node.arg))
        if isinstance(node, sp.log) and isinstance(node.args[0], M.Determinant):
            return E.app("logdet", self.read(node.args[0].arg))
        if isinstance(node, (sp.Pow, M.MatPow)):
            return self.power(node)
        if isinstance(node, MatrixElement) and node.parent.shape == (1, 1):
            return self.read(node.parent)   # M[0, 0] of a 1x1 M: the scalar M
        if isinstance(node, ElementwiseApplyFunction):
            fn = node.function
            if not (isinstance(fn, sp.Lambda) and len(fn.variables) == 1):
                name = self.function_name(fn, node)
                return E.app(name, self.read(node.expr))
            return self.elementwise(fn.expr, fn.variables[0], self.read(node.expr), node)
        if isinstance(node, DiagMatrix):
            return E.app("diag", self.read(node.args[0]))
        if isinstance(node, KroneckerProduct):
            return _fold("kron", [self.read(a) for a in node.args])
        if isinstance(node, sp.Function) and node.func in _FUNCTIONS and len(node.args) == 1:
            return E.app(_FUNCTIONS[node.func], self.read(node.args[0]))
        if isinstance(node, sp.BlockMatrix) and _stacked_columns(node) is not None:
            return E.app("vec", self.read(_stacked_columns(node)))
        if isinstance(node, sp.ImmutableMatrix) and _commutation_sizes(node) is not None:
            m, k = _commutation_sizes(node)
            return E.commutation(str(m), str(k))
        raise InputError(f"SymPy node {type(node).__name__} ({node}) has no counterpart in the expression language")

    def sum(self, args) -> E.Expr:
        # SymPy orders terms canonically; put a positive one first so that it reads `a - b`
        args = sorted(args, key=lambda a: self.negated(a) is not None)
        out = None
        for a in args:
            negated = self.negated(a)
            term = self.read(negated if negated is not None else a)
            if out is None:
                out = E.neg(term) if negated is not None else term
            else:
                out = E.Expr(E.SUB if negated is not None else E.ADD, (out, term))
        return out

    def negated(self, node):
        """`c*x` when node is `-c*x` with a number c > 0 (so that sums read `a - c*x`), else None."""
        if isinstance(node, (sp.Mul, sp.MatMul)) and node.args and node.args[0].is_Number \
                and node.args[0] < 0:
            rest = node.args[1:] if node.args[0] == -1 else (-node.args[0],) + node.args[1:]
            return rest[0] if len(rest) == 1 else node.func(*rest)
        return None

    def product(self, args) -> E.Expr:
        args = list(args)
        if args and args[0] == -1:
            return E.neg(self.product(args[1:]) if len(args) > 2 else self.read(args[1]))

        def divisor(a):   # a scalar factor b**-1 is written `/ b`
            return isinstance(a, sp.Pow) and a.exp == -1 and not a.base.is_Number

        tops = [self.read(a) for a in args if not divisor(a)]
        out = _fold(E.MUL, tops) if tops else E.num(1)
        for a in args:
            if divisor(a):
                out = E.Expr(E.DIV, (out, self.read(a.base)))
        return out

    def hadamard(self, args) -> E.Expr:
        """A.*B.*C, then `./ D` for each factor HadamardPower(D, -1) (SymPy sorts the factors)."""
        def inverse(a):
            return isinstance(a, HadamardPower) and a.exp == -1

        tops = [self.read(a) for a in args if not inverse(a)]
        out = _fold(E.HADAMARD, tops) if tops else E.ones()
        for a in args:
            if inverse(a):
                out = E.Expr(E.HDIV, (out, self.read(a.base)))
        return out

    def power(self, node) -> E.Expr:
        base, k = node.args
        if k == sp.Rational(1, 2) and not getattr(base, "is_Matrix", False):
            return E.app("sqrt", self.read(base))
        if not k.is_Rational:
            raise InputError(f"exponent {k} in {node} is not a number")
        return E.Expr(E.POW, (self.read(base), E.num(Fraction(int(k.p), int(k.q)))))

    def elementwise(self, body, x, arg: E.Expr, node) -> E.Expr:
        """The body of an elementwise Lambda(x, body) applied to the matrix `arg`, as elementwise
        operations on it: x -> arg, c -> c*ones, + -> +, * -> .*, b**-1 -> ones./b, f(u) -> f(u)."""
        u = sp.Wild("u")

        def go(b) -> E.Expr:
            if b == x:
                return arg
            m = b.match(1 / (1 + sp.exp(-u)))
            if m and m[u].has(x):   # the logistic function, as to_sympy writes sigmoid
                return E.app("sigmoid", go(m[u]))
            if b.is_Number:
                c = E.num(Fraction(int(b.p), int(b.q))) if b.is_Rational else E.num(Fraction(str(b)))
                return E.ones() if b == 1 else E.mul(c, E.ones())
            if isinstance(b, sp.Add):
                return _fold(E.ADD, [go(a) for a in b.args])
            if isinstance(b, sp.Mul):
                numbers = [a for a in b.args if a.is_Number]
                rest = _fold(E.HADAMARD, [go(a) for a in b.args if not a.is_Number])
                return E.mul(go(numbers[0]).args[0], rest) if numbers and numbers[0] != 1 else rest
            if isinstance(b, sp.Pow) and b.exp.is_Integer:
                power = _fold(E.HADAMARD, [go(b.base)] * abs(int(b.exp)))
                return power if b.exp > 0 else E.Expr(E.HDIV, (E.ones(), power))
            if isinstance(b, sp.Pow) and b.exp == sp.Rational(1, 2):
                return E.app("sqrt", go(b.base))
            if isinstance(b, sp.Function) and b.func in _FUNCTIONS and len(b.args) == 1:
                return E.app(_FUNCTIONS[b.func], go(b.args[0]))
            raise InputError(f"the elementwise function {sp.Lambda(x, body)} (in {node}) has no "
                             f"counterpart in the expression language")
        return go(body)

    @staticmethod
    def function_name(fn, node) -> str:
        if isinstance(fn, sp.Lambda) and len(fn.variables) == 1:
            body = fn.expr
            if isinstance(body, sp.Function) and body.func in _FUNCTIONS and body.args == fn.variables:
                return _FUNCTIONS[body.func]
            if isinstance(body, sp.Pow) and body.args == (fn.variables[0], sp.Rational(1, 2)):
                return "sqrt"
        elif fn in _FUNCTIONS:
            return _FUNCTIONS[fn]
        raise InputError(f"elementwise function {fn} (in {node}) has no counterpart in the expression language")


# --- Expr -> SymPy ----------------------------------------------------------------------------
def to_sympy(term: E.Expr, decls: Mapping[str, object] | None = None, shape: Shape | None = None):
    """The SymPy expression of a term; undeclared shapes are inferred (fresh dimensions k1, k2...).
    `shape` fixes the term's own shape where the term alone leaves it open (a gradient `I` or
    `2*sum(X)*ones` has the shape of its variable: pass `decls[wrt].shape`).

    1x1 symbols become SymPy scalars (`Symbol`); other variables MatrixSymbols.
    """
    decls = normalize_decls(decls)
    if shape is None:
        return _Writer(infer(term, decls)).write(term, ())
    pin = "#shape"   # no input has this name
    typing = infer(E.Expr(E.SUB, (term, E.sym(pin))), {**decls, pin: Decl(shape)})
    return _Writer(typing).write(term, (0,))


def _sp_dim(d):
    from . import dims

    coef, names = dims.factors(d)
    return sp.Mul(sp.Integer(coef), *[sp.Symbol(n, integer=True, positive=True) for n in names])


class _Writer:
    def __init__(self, typing):
        self.typing = typing

    def shape(self, path) -> Shape:
        return self.typing.shapes[path]

    def write(self, e: E.Expr, path):
        kids = [self.write(a, path + (i,)) for i, a in enumerate(e.args) if e.op != E.POW or i == 0]
        shape = self.shape(path)
        rows, cols = _sp_dim(shape.rows), _sp_dim(shape.cols)
        op = e.op
        if op == E.SYM:
            decl = self.typing.vars[e.name]
            if decl.shape.is_scalar:
                return sp.Symbol(e.name)
            return sp.MatrixSymbol(e.name, _sp_dim(decl.shape.rows), _sp_dim(decl.shape.cols))
        if op == E.NUM:
            return sp.Rational(e.value.numerator, e.value.denominator)
        if op == E.IDENTITY:
            return sp.Integer(1) if shape.is_scalar else sp.Identity(rows)
        if op == E.ZERO:
            return sp.Integer(0) if shape.is_scalar else sp.ZeroMatrix(rows, cols)
        if op == E.ONES:
            return sp.Integer(1) if shape.is_scalar else sp.OneMatrix(rows, cols)
        if op in (E.ADD, E.SUB):
            a, b = (self.scalar_if(k, shape) for k in kids)
            return a + b if op == E.ADD else a - b
        if op == E.MUL:
            a, b = kids
            if _is_matrix(a) and _is_matrix(b) and (a.shape == (1, 1)) != (b.shape == (1, 1)):
                a, b = _as_scalar(a), _as_scalar(b)   # a 1x1 factor scales the other
            return _scale(a, b)
        if op == E.NEG:
            return -kids[0]
        if op == E.DIV:
            return _scale(_as_scalar(kids[1]) ** -1, self.scalar_if(kids[0], shape))
        if op in (E.HADAMARD, E.HDIV):
            a, b = kids
            if not _is_matrix(a) and not _is_matrix(b):
                return a * b if op == E.HADAMARD else a / b
            return sp.HadamardProduct(a, b if op == E.HADAMARD else HadamardPower(b, -1))
        if op == E.POW:
            k = e.args[1].value
            return self.scalar_if(kids[0], shape) ** sp.Rational(k.numerator, k.denominator)
        if op == E.TRANSPOSE:
            return sp.Transpose(kids[0]) if _is_matrix(kids[0]) else kids[0]
        if op == "inv":
            return sp.Inverse(kids[0]) if _is_matrix(kids[0]) else 1 / kids[0]
        if op == "tr":
            return sp.Trace(kids[0]) if _is_matrix(kids[0]) else kids[0]
        if op == "det":
            return sp.Determinant(kids[0]) if _is_matrix(kids[0]) else kids[0]
        if op == "logdet":
            return sp.log(sp.Determinant(kids[0]) if _is_matrix(kids[0]) else kids[0])
        if op in _TO_FUNCTION or op == "sigmoid":
            fn = _TO_FUNCTION.get(op) or (lambda u: 1 / (1 + sp.exp(-u)))
            arg = self.scalar_if(kids[0], shape)
            if _is_matrix(arg):
                x = sp.Dummy("x")
                return ElementwiseApplyFunction(sp.Lambda(x, fn(x)), arg)
            return fn(arg)
        if op == "sum":
            a = kids[0]
            return _sum(a) if _is_matrix(a) else a
        if op in ("norm2", "norm2sq"):
            a = kids[0]
            sq = _trace(_scale(sp.Transpose(a), a)) if _is_matrix(a) else a ** 2
            return sp.sqrt(sq) if op == "norm2" else sq
        if op == "softmax":
            z = kids[0]
            if not _is_matrix(z):
                return sp.Integer(1)
            x = sp.Dummy("x")
            ez = ElementwiseApplyFunction(sp.Lambda(x, sp.exp(x)), z)
            return _scale(1 / _sum(ez), ez)
        if op == "diag":
            return DiagMatrix(kids[0]) if _is_matrix(kids[0]) else kids[0]
        if op == "kron":
            a, b = kids
            return KroneckerProduct(a, b) if _is_matrix(a) and _is_matrix(b) else _scale(a, b)
        if op == "vec":
            a = kids[0]
            if not _is_matrix(a) or a.shape[1] == 1:
                return a
            if not a.shape[1].is_Integer:
                raise InputError(f"vec of a matrix with a symbolic number of columns ({e}) has no SymPy "
                                 f"form; declare its size as a number")
            return sp.BlockMatrix([[a[:, j]] for j in range(int(a.shape[1]))])
        if op == E.COMMUTATION:
            m, n = (sp.sympify(d) for d in E.stated_size(e))
            if not (m.is_Integer and n.is_Integer):
                raise InputError(f"{e} with symbolic sizes has no SymPy form; give its sizes as numbers")
            from .numeric import commutation_matrix

            return sp.ImmutableMatrix(commutation_matrix(int(m), int(n)).astype(int))
        raise InputError(f"{op!r} (in {e}) has no SymPy counterpart in this bridge")

    @staticmethod
    def scalar_if(value, shape: Shape):
        return _as_scalar(value) if shape.is_scalar else value


def _scale(a, b):
    """a*b; with a scalar and a matrix, an explicit MatMul, because `*` would expand a scalar
    `(x'*x)[0, 0]` into an index sum."""
    if _is_matrix(a) != _is_matrix(b):
        return sp.MatMul(a, b)
    return a * b


def _is_matrix(x) -> bool:
    return bool(getattr(x, "is_Matrix", False))


def _as_scalar(x):
    """A 1x1 matrix expression as a SymPy scalar: its trace, which stays unevaluated in sums,
    products and powers (its entry x[0, 0] would turn x'*A*x into an explicit index sum there)."""
    return _trace(x) if _is_matrix(x) and x.shape == (1, 1) else x


def _sum(a):
    """sum(A) as tr(A*J), J all ones (n x m for an m x n A): square unless A is a row, so the
    trace stays, and read back the size of J follows from A."""
    return _trace(_scale(a, sp.OneMatrix(a.shape[1], a.shape[0])))


def _trace(x):
    return sp.Trace(x) if _is_matrix(x) else x


# --- lambdify ------------------------------------------------------------------------------------
class _NumPyPrinter(NumPyPrinter):
    """SymPy's NumPy printer and what it lacks for these expressions (SymPy 1.14 prints no
    Trace, Determinant, HadamardPower or elementwise function of a matrix)."""

    def _print_Trace(self, e):
        return f"{self._module_format('numpy.trace')}({self._print(e.arg)})"

    def _print_Determinant(self, e):
        return f"{self._module_format('numpy.linalg.det')}({self._print(e.arg)})"

    def _print_HadamardPower(self, e):
        return f"{self._module_format('numpy.power')}({self._print(e.base)}, {self._print(e.exp)})"

    def _print_ElementwiseApplyFunction(self, e):
        x = e.function.variables[0]
        return f"(lambda {self._print(x)}: {self._print(e.function.expr)})({self._print(e.expr)})"

    def _print_DiagMatrix(self, e):
        return f"{self._module_format('numpy.diagflat')}({self._print(e.args[0])})"


def lambdify(args, expr, sizes: Mapping[str, int] | None = None):
    """`sympy.lambdify(args, expr, "numpy")` for the expressions `to_sympy` makes, with the
    printing SymPy lacks (Trace, Determinant, elementwise functions); `sizes` gives numbers for
    symbolic dimensions ({"n": 3}), which NumPy needs.  `args=None`: the variables by name."""
    dims = {sp.Symbol(k, integer=True, positive=True): v for k, v in (sizes or {}).items()}
    if dims:
        expr = expr.subs(dims)
    if args is None:   # the variables, by name: matrices and scalars, not the dimensions
        args = sorted((a for a in getattr(expr, "free_symbols", ()) if isinstance(a, sp.MatrixSymbol)
                       or not (a.is_integer and a.is_positive)), key=lambda a: a.name)
    else:   # a dimension given a size is no argument
        args = [a.subs(dims) for a in args if a not in dims]
    return sp.lambdify(args, expr, modules="numpy", printer=_NumPyPrinter)
