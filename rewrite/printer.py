"""Printers: the faithful input syntax, Unicode, and LaTeX.

`to_text` is exact: `parse(to_text(t)) == t` for every tree, so it brackets products as they are
(`A*(B*C)`) and writes non-integer or negative constants as `(1/2)`, `(-3)`.
"""
from __future__ import annotations

from fractions import Fraction

from . import expr as E
from .syntax import is_differential_name

# binding strength of the printed form, loosest first
_PREC = {E.ADD: 1, E.SUB: 1, E.MUL: 2, E.HADAMARD: 2, E.HDIV: 2, E.DIV: 2, E.NEG: 3, E.POW: 4,
         E.TRANSPOSE: 5}
_ATOM = 6


def _prec(e: E.Expr) -> int:
    return _PREC.get(e.op, _ATOM)


def _scientific(v: Fraction) -> tuple[int, int] | None:
    """(m, k) with v = m*10^k when v > 0 is a long power-of-ten multiple (1e300, 3e-9), else None."""
    if v <= 0:
        return None
    n, d, k = v.numerator, v.denominator, 0
    if d == 1:
        while n % 10 == 0:
            n, k = n // 10, k + 1
    else:
        while d % 10 == 0:
            d, k = d // 10, k - 1
        if d != 1:
            return None
    return (n, k) if abs(k) >= 6 else None


def _num_text(v: Fraction) -> str:
    sci = _scientific(v)
    if sci:   # parses back to the same exact number
        return f"{sci[0]}e{sci[1]}"
    if v.denominator == 1 and v >= 0:
        return str(v.numerator)
    return f"({v.numerator}/{v.denominator})" if v.denominator != 1 else f"({v.numerator})"


def to_text(e: E.Expr) -> str:
    out: list[str] = []
    _text(e, out)
    return "".join(out)


def _reads_as_literal(e: E.Expr) -> bool:
    """Would `(text of e)` read back as one rational constant, like (-1) or (1/2)?"""
    numbers = (E.NUM, E.ZERO)
    if e.op == E.NEG:
        return e.args[0].op in numbers
    return e.op == E.DIV and e.args[0].op in numbers and e.args[1].op == E.NUM


def _wrap(e: E.Expr, min_prec: int, out: list[str]) -> None:
    if _prec(e) < min_prec:
        out.append("(")
        if _reads_as_literal(e):   # bracket the first number too: (-(1)), ((1)/2)
            out.append("-(" if e.op == E.NEG else "(")
            _text(e.args[0], out)
            out.append(")")
            if e.op == E.DIV:
                out.append("/")
                _text(e.args[1], out)
        else:
            _text(e, out)
        out.append(")")
    else:
        _text(e, out)


def _text(e: E.Expr, out: list[str]) -> None:
    op = e.op
    if op == E.SYM:
        out.append(e.name)
    elif op == E.NUM:
        out.append(_num_text(e.value))
    elif op in (E.IDENTITY, E.COMMUTATION) and e.name:
        out.append(f"{op}({', '.join(E.stated_size(e))})")
    elif op in (E.IDENTITY, E.ZERO, E.ONES):
        out.append(op)
    elif op in (E.ADD, E.SUB, E.MUL, E.HADAMARD, E.HDIV, E.DIV):
        p = _PREC[op]
        _wrap(e.args[0], p, out)
        out.append({E.ADD: " + ", E.SUB: " - "}.get(op, op))
        _wrap(e.args[1], p + 1, out)
    elif op == E.NEG:
        out.append("-")
        _wrap(e.args[0], _PREC[E.NEG], out)
    elif op == E.POW:
        _wrap(e.args[0], _PREC[E.TRANSPOSE], out)
        out.append("^")
        k = e.args[1]
        # a pattern variable or eval(...) only occurs as an exponent in rule files
        out.append(_num_text(k.value) if k.op == E.NUM else to_text(k))
    elif op == E.TRANSPOSE:
        _wrap(e.args[0], _PREC[E.TRANSPOSE], out)
        out.append("'")
    elif op == E.DIFF and e.args[0].op == E.SYM and is_differential_name("d" + e.args[0].name):
        out.append("d" + e.args[0].name)
    else:  # function application
        out.append(op + "(")
        for i, a in enumerate(e.args):
            if i:
                out.append(", ")
            _text(a, out)
        out.append(")")


# --- Unicode ----------------------------------------------------------------------------------
_UNI_OP = {E.ADD: " + ", E.SUB: " − ", E.MUL: "·", E.HADAMARD: " ⊙ ", E.HDIV: " ⊘ ", E.DIV: "/"}
_SUPER = str.maketrans("0123456789-/", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻ᐟ")


def to_unicode(e: E.Expr) -> str:
    op = e.op
    if op == E.SYM:
        return e.name
    if op == E.NUM:
        v = e.value
        if sci := _scientific(v):
            return f"{sci[0]}·10{str(sci[1]).translate(_SUPER)}"
        return str(v.numerator) if v.denominator == 1 and v >= 0 else f"({v})"
    if op == E.IDENTITY:
        return "I" + (f"({e.name})" if e.name else "")
    if op == E.COMMUTATION:
        return f"K({', '.join(E.stated_size(e))})"
    if op == E.ZERO:
        return "0"
    if op == E.ONES:
        return "𝟙"
    if op == "kron":
        a, b = (to_unicode(x) for x in e.args)
        wrap = lambda x, t: f"({t})" if _prec(x) < _PREC[E.TRANSPOSE] else t   # noqa: E731
        return f"({wrap(e.args[0], a)} ⊗ {wrap(e.args[1], b)})"
    if op in _UNI_OP:
        p = _PREC[op]
        left, right = to_unicode(e.args[0]), to_unicode(e.args[1])
        if _prec(e.args[0]) < p:
            left = f"({left})"
        if _prec(e.args[1]) <= p:
            right = f"({right})"
        return left + _UNI_OP[op] + right
    if op == E.NEG:
        inner = to_unicode(e.args[0])
        return "−" + (f"({inner})" if _prec(e.args[0]) < _PREC[E.NEG] else inner)
    if op in (E.POW, E.TRANSPOSE):
        inner = to_unicode(e.args[0])
        if _prec(e.args[0]) < _PREC[E.TRANSPOSE]:
            inner = f"({inner})"
        if op == E.TRANSPOSE:
            return inner + "ᵀ"
        v = e.args[1].value
        return inner + str(v).translate(_SUPER)
    if op == E.DIFF and e.args[0].is_leaf:
        return "d" + to_unicode(e.args[0])
    return f"{op}({to_unicode(e.args[0])})"


# --- LaTeX ------------------------------------------------------------------------------------
_TEX_FN = {"tr": r"\operatorname{tr}", "det": r"\det", "logdet": r"\log\det", "exp": r"\exp",
           "log": r"\log", "sin": r"\sin", "cos": r"\cos", "tanh": r"\tanh",
           "sigmoid": r"\sigma", "sqrt": r"\sqrt", "abs": r"\operatorname{abs}",
           "sign": r"\operatorname{sign}", "sum": r"\operatorname{sum}",
           "diag": r"\operatorname{diag}", "softmax": r"\operatorname{softmax}",
           "vec": r"\operatorname{vec}",
           "norm2sq": None, "norm2": None, "inv": None, E.DIFF: r"\mathrm{d}"}
_TEX_OP = {E.ADD: " + ", E.SUB: " - ", E.MUL: " ", E.HADAMARD: r" \odot ", E.HDIV: r" \oslash ",
           E.DIV: " / "}


def _tex_name(name: str) -> str:
    head, _, tail = name.partition("_")
    greek = {"alpha", "beta", "gamma", "delta", "lambda", "lam", "mu", "sigma", "Sigma", "theta",
             "Theta", "Lambda", "Omega", "omega", "phi", "psi", "eta", "rho", "tau", "epsilon"}
    if head in greek:
        head = "\\" + ("lambda" if head == "lam" else head)
    elif len(head) > 1:
        head = rf"\mathit{{{head}}}"
    return head + (f"_{{{tail}}}" if tail else "")


def to_latex(e: E.Expr) -> str:
    op = e.op
    if op == E.SYM:
        return _tex_name(e.name)
    if op == E.NUM:
        v = e.value
        if sci := _scientific(v):
            return rf"{sci[0]} \cdot 10^{{{sci[1]}}}"
        if v.denominator == 1:
            return str(v.numerator)
        return ("-" if v < 0 else "") + rf"\tfrac{{{abs(v.numerator)}}}{{{v.denominator}}}"
    if op == E.IDENTITY:
        return "I" + (f"_{{{e.name}}}" if e.name else "")
    if op == E.COMMUTATION:
        return f"K_{{{','.join(E.stated_size(e))}}}"
    if op == E.ZERO:
        return "0"
    if op == E.ONES:
        return r"\mathbf{1}"
    if op == "kron":
        a, b = (to_latex(x) for x in e.args)
        wrap = lambda x, t: rf"\left({t}\right)" if _prec(x) < _PREC[E.TRANSPOSE] else t   # noqa: E731
        return rf"\left({wrap(e.args[0], a)} \otimes {wrap(e.args[1], b)}\right)"
    if op in _TEX_OP:
        p = _PREC[op]
        left, right = to_latex(e.args[0]), to_latex(e.args[1])
        if _prec(e.args[0]) < p:
            left = rf"\left({left}\right)"
        if _prec(e.args[1]) <= p:
            right = rf"\left({right}\right)"
        return left + _TEX_OP[op] + right
    if op == E.NEG:
        inner = to_latex(e.args[0])
        return "-" + (rf"\left({inner}\right)" if _prec(e.args[0]) < _PREC[E.NEG] else inner)
    if op in (E.POW, E.TRANSPOSE) or op == "inv":
        inner = to_latex(e.args[0])
        # a superscript on a superscript (X^{-1}^{T}) is not LaTeX: bracket the inner one
        if _prec(e.args[0]) < _ATOM or e.args[0].op in ("inv", E.POW, E.TRANSPOSE):
            inner = rf"\left({inner}\right)"
        if op == E.TRANSPOSE:
            return inner + r"^{\top}"
        if op == "inv":
            return inner + "^{-1}"
        return inner + "^{" + str(e.args[1].value) + "}"
    inner = to_latex(e.args[0])
    if op == "norm2":
        return rf"\left\|{inner}\right\|_2"
    if op == "norm2sq":
        return rf"\left\|{inner}\right\|_2^2"
    if op == E.DIFF and e.args[0].is_leaf:
        return rf"\mathrm{{d}}{inner}"
    if op == "sqrt":
        return rf"\sqrt{{{inner}}}"
    return rf"{_TEX_FN.get(op, op)}\left({inner}\right)"
