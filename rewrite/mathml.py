"""Terms as MathML (presentation markup), which browsers render natively: the web page shows
results and proof steps with it, with no script library and no network.

The layout follows the Unicode printer (`printer.to_unicode`): the same precedence and
brackets, Xᵀ as a superscript ⊤, inv(X) as X⁻¹, ⊙ and ⊘ for the elementwise product and
quotient, 𝟙 for the all-ones matrix.
"""
from __future__ import annotations

from html import escape

from . import expr as E
from .printer import _PREC, _prec

_OPS = {E.ADD: "+", E.SUB: "−", E.MUL: "", E.HADAMARD: "⊙", E.HDIV: "⊘", E.DIV: "/"}
_NAMED = {"tr": "tr", "det": "det", "logdet": "log det", "exp": "exp", "log": "log", "sin": "sin",
          "cos": "cos", "tanh": "tanh", "sigmoid": "σ", "abs": "abs", "sign": "sign", "sum": "sum",
          "diag": "diag", "softmax": "softmax", "vec": "vec", E.DIFF: "d"}


def _mi(name: str) -> str:
    return f"<mi>{escape(name)}</mi>"


def _mo(op: str) -> str:
    return f"<mo>{escape(op)}</mo>"


def _row(*parts: str) -> str:
    return "<mrow>" + "".join(parts) + "</mrow>"


def _brackets(inner: str, left: str = "(", right: str = ")") -> str:
    return _row(_mo(left), inner, _mo(right))


def _number(v) -> str:
    text = str(abs(v.numerator)) if v.denominator == 1 else None
    body = f"<mn>{text}</mn>" if text else f"<mfrac><mn>{abs(v.numerator)}</mn><mn>{v.denominator}</mn></mfrac>"
    return _row(_mo("−"), body) if v < 0 else body


def _wrap(e: E.Expr, below: int, strict: bool = False) -> str:
    inner = node(e)
    p = _prec(e)
    return _brackets(inner) if (p <= below if strict else p < below) else inner


def node(e: E.Expr) -> str:
    """The MathML of a term (without the enclosing <math>)."""
    op = e.op
    if op == E.SYM:
        return _mi(e.name)
    if op == E.NUM:
        return _brackets(_number(e.value)) if e.value < 0 else _number(e.value)
    if op == E.IDENTITY:
        return f"<msub><mi mathvariant=\"normal\">I</mi><mn>{escape(e.name)}</mn></msub>" if e.name else \
            "<mi mathvariant=\"normal\">I</mi>"
    if op == E.COMMUTATION:
        return f"<msub><mi>K</mi><mrow><mn>{escape(', '.join(E.stated_size(e)))}</mn></mrow></msub>"
    if op == E.ZERO:
        return "<mn>0</mn>"
    if op == E.ONES:
        return "<mi mathvariant=\"bold\">1</mi>"
    if op in _OPS:
        p = _PREC[op]
        left, right = _wrap(e.args[0], p), _wrap(e.args[1], p, strict=True)
        return _row(left, _mo(_OPS[op]) if _OPS[op] else "<mo>&#x2062;</mo>", right)
    if op == E.NEG:
        return _row(_mo("−"), _wrap(e.args[0], _PREC[E.NEG]))
    if op == E.TRANSPOSE:
        return f"<msup>{_wrap(e.args[0], _PREC[E.TRANSPOSE])}<mo>⊤</mo></msup>"
    if op == E.POW:
        return f"<msup>{_wrap(e.args[0], _PREC[E.TRANSPOSE])}{_number(e.args[1].value)}</msup>"
    if op == "inv":
        return f"<msup>{_wrap(e.args[0], _PREC[E.TRANSPOSE])}<mrow><mo>−</mo><mn>1</mn></mrow></msup>"
    if op == "sqrt":
        return f"<msqrt>{node(e.args[0])}</msqrt>"
    if op == "norm2":
        return _brackets(node(e.args[0]), "‖", "‖")
    if op == "norm2sq":
        return f"<msup>{_brackets(node(e.args[0]), '‖', '‖')}<mn>2</mn></msup>"
    if op == "kron":
        return _brackets(_row(_wrap(e.args[0], _PREC[E.TRANSPOSE]), _mo("⊗"), _wrap(e.args[1], _PREC[E.TRANSPOSE])))
    if op == E.DIFF and e.args[0].is_leaf:
        return _row(_mi("d"), node(e.args[0]))
    name = _NAMED.get(op, op)
    return _row(_mi(name), "<mo>&#x2061;</mo>", _brackets(_row(*[node(a) for a in e.args])))


def math(e: E.Expr, display: bool = False) -> str:
    """A complete <math> element for the term."""
    mode = ' display="block"' if display else ""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"{mode}>{node(e)}</math>'
