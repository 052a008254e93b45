"""Parser of the expression language (the one syntax for input, rules, results and proofs).

Precedence, loosest first: `+ -` (left), `* .* ./ /` (left), unary `-`, `^` (exponent is a
number), postfix `'`.  A parenthesised signed integer or fraction, `(-3)` or `(1/2)`, is a
single rational constant; that is how the printer writes such constants, so printing and
parsing round-trip exactly.  `dX` is the differential of `X` (see `is_differential_name`).
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from fractions import Fraction

from . import expr as E
from .dims import parse as parse_dim
from .errors import ParseError

MAX_CHARS = 20_000   # longer input is refused: the engine is not built for it
MAX_DEPTH = 200      # deepest tree accepted (a chain a+b+...+z counts one level a term)

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(?P<ident>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\.\*|\./|[-+*/^'(),]))"
)
_DIFF_NAME = re.compile(r"d([A-Z]\w*|[a-z](?:[0-9_]\w*)?)")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def is_differential_name(ident: str) -> bool:
    """`dX`, `dW1`, `dx`, `dx_1` name differentials; `data`, `delta`, `dmu` are plain names."""
    return _DIFF_NAME.fullmatch(ident) is not None


def is_valid_symbol_name(name: str) -> bool:
    """A variable's name: not a function's (except `d`, which is a variable where no bracket
    follows it) and not a differential's (`dX`)."""
    return (_IDENT.fullmatch(name) is not None and (name not in E.RESERVED_NAMES or name == E.DIFF)
            and not is_differential_name(name))


# spellings of other tools (MATLAB, textbooks) that are refused with the way to write them here
OTHER_FUNCTIONS = {
    "trace": "tr(...)", "Tr": "tr(...)", "norm": "norm2(...) (the Euclidean norm of a vector; "
    "norm2sq(...) for its square; the Frobenius norm of X is sqrt(tr(X'*X)))",
    "ln": "log(...)", "transpose": "X' for the transpose of X", "inverse": "inv(...)",
    "eye": "I (its size follows from the context, or I(n))", "zeros": "0",
    "logistic": "sigmoid(...)", "expm": "exp(...) (elementwise; the matrix exponential is not "
    "supported)",
}
OTHER_OPERATORS = {
    ".^": "an elementwise power .^ is not supported: write x.*x for x.^2, sqrt(x) for x.^(1/2), "
          "ones./x for x.^(-1)",
    ".'": "MATLAB's .' is not supported: write X' for the transpose (every matrix here is real)",
    "**": "** is not an operator here: write ^ for a power (A^2), .* for the elementwise product",
}


@dataclass(frozen=True)
class Token:
    kind: str   # "num", "ident", "op", "end"
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    n = len(text)
    while True:
        while pos < n and text[pos].isspace():
            pos += 1
        if pos >= n:
            break
        if text[pos:pos + 2] in OTHER_OPERATORS:
            raise ParseError(OTHER_OPERATORS[text[pos:pos + 2]], pos, text)
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ParseError(f"unexpected character {text[pos]!r}", pos, text)
        kind = m.lastgroup
        start = m.start(kind)
        if kind == "num":
            _check_number(m.group(kind), start, text)
        tokens.append(Token(kind, m.group(kind), start))
        pos = m.end()
    tokens.append(Token("end", "", n))
    return tokens


MAX_NUMBER_CHARS = 40            # a longer literal is refused before it is converted
NUMBER_RANGE = Fraction(10) ** 300   # literals are exact; |x| must lie in [1e-300, 1e300] (or be 0)


def _check_number(text: str, pos: int, source: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise ParseError(f"the number {text[:12]}... has {len(text)} characters; the limit is "
                         f"{MAX_NUMBER_CHARS}", pos, source)
    value = Fraction(text)
    if value and not 1 / NUMBER_RANGE <= value <= NUMBER_RANGE:
        raise ParseError(f"the number {text} is out of range: a constant must lie between 1e-300 and "
                         f"1e300 in size (or be 0)", pos, source)


def constant_value(e: E.Expr) -> Fraction | None:
    """The value of a term made of numbers only (+ - * / and small integer powers), or None.
    Raises ZeroDivisionError for a division by a constant 0."""
    op = e.op
    if op == E.NUM:
        return e.value
    if op == E.ZERO:
        return Fraction(0)
    if op == E.NEG:
        a = constant_value(e.args[0])
        return None if a is None else -a
    if op in (E.ADD, E.SUB, E.MUL, E.DIV, E.HDIV, E.HADAMARD):
        a, b = constant_value(e.args[0]), constant_value(e.args[1])
        if b == 0 and op in (E.DIV, E.HDIV):
            raise ZeroDivisionError(str(e.args[1]))
        if a is None or b is None:
            return None
        return {E.ADD: a + b, E.SUB: a - b, E.MUL: a * b, E.HADAMARD: a * b}.get(op, a / b if b else None)
    return None


class _Parser:
    def __init__(self, text: str, extra_functions: frozenset[str] = frozenset()):
        self.text = text
        self.functions = set(E.FUNCTIONS) | set(extra_functions)
        self.tokens = tokenize(text)
        self.i = 0
        self.depth: dict[int, int] = {}   # id(node) -> tree depth, to refuse over-deep input early
        self.spans: dict[int, tuple[int, int]] = {}
        self.nesting = 0   # open brackets, calls and unary minus: refused before Python's stack is

    def enter(self, at: Token) -> None:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self.error(f"expression nested deeper than {MAX_DEPTH} levels", at)

    # --- helpers --------------------------------------------------------------------------
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, message: str, tok: Token | None = None) -> ParseError:
        tok = tok or self.tok
        return ParseError(message, tok.pos, self.text)

    def expect(self, text: str) -> Token:
        if self.tok.text != text or self.tok.kind != "op":
            found = "end of input" if self.tok.kind == "end" else repr(self.tok.text)
            raise self.error(f"expected {text!r}, found {found}")
        t = self.tok
        self.i += 1
        return t

    def node(self, e: E.Expr, start: int, at: Token) -> E.Expr:
        d = 1 + max((self.depth.get(id(a), 1) for a in e.args), default=0)
        if d > MAX_DEPTH:
            raise self.error(f"expression nested deeper than {MAX_DEPTH} levels", at)
        self.depth[id(e)] = d
        self.spans[id(e)] = (start, self.tokens[self.i - 1].pos + len(self.tokens[self.i - 1].text))
        return e

    # --- grammar --------------------------------------------------------------------------
    def parse(self) -> E.Expr:
        if self.tok.kind == "end":
            raise self.error("empty expression")
        e = self.sum()
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.tok.text!r}")
        return e

    def sum(self) -> E.Expr:
        start = self.tok.pos
        left = self.product()
        while self.tok.kind == "op" and self.tok.text in "+-":
            op = self.tok
            self.i += 1
            right = self.product()
            left = self.node(E.Expr(E.ADD if op.text == "+" else E.SUB, (left, right)), start, op)
        return left

    def product(self) -> E.Expr:
        start = self.tok.pos
        left = self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", ".*", "./", "/"):
            op = self.tok
            self.i += 1
            right = self.unary()
            if op.text in ("/", "./"):
                self.refuse_zero_divisor(right, op)
            left = self.node(E.Expr(op.text, (left, right)), start, op)
        return left

    def refuse_zero_divisor(self, divisor: E.Expr, op: Token) -> None:
        try:
            zero = constant_value(divisor) == 0
        except ZeroDivisionError:
            zero = False   # the inner division was refused where it was read
        if zero:
            what = "" if divisor.op in (E.NUM, E.ZERO) else f": the divisor {divisor} is 0"
            raise self.error(f"division by zero{what}", op)

    def unary(self) -> E.Expr:
        if self.tok.kind == "op" and self.tok.text == "-":
            op = self.tok
            self.i += 1
            self.enter(op)
            inner = self.unary()
            self.nesting -= 1
            return self.node(E.neg(inner), op.pos, op)
        return self.power()

    def power(self) -> E.Expr:
        start = self.tok.pos
        base = self.postfix()
        if self.tok.kind == "op" and self.tok.text == "^":
            op = self.tok
            self.i += 1
            exponent = self.exponent()
            return self.node(E.Expr(E.POW, (base, exponent)), start, op)
        return base

    def exponent(self) -> E.Expr:
        t = self.tok
        if self.functions != set(E.FUNCTIONS) and t.kind == "ident":
            return self.postfix()   # rule files: a pattern variable or eval(...) as exponent
        if t.kind == "ident" and t.text in ("T", "H"):
            raise self.error(f"^{t.text} is not a transpose here: write X' for the transpose of X", t)
        sign = 1
        if t.kind == "op" and t.text == "-":
            self.i += 1
            sign = -1
        if self.tok.kind == "num":
            value = Fraction(self.tok.text)
            self.i += 1
        elif self.tok.kind == "op" and self.tok.text == "(" and sign == 1:
            lit = self.try_literal()
            if lit is None:
                zero = self._zero_denominator()
                if zero is not None:
                    raise ParseError("division by zero in a constant", zero.pos, self.text)
                raise self.error("an exponent must be a number, like 2, -1 or (1/2)", t)
            return lit
        else:
            raise self.error("an exponent must be a number, like 2, -1 or (1/2)", t)
        if value == 0:
            raise self.error("exponent 0 is not allowed (write I or 1)", t)
        return E.num(sign * value)

    def postfix(self) -> E.Expr:
        start = self.tok.pos
        e = self.primary()
        while self.tok.kind == "op" and self.tok.text == "'":
            op = self.tok
            self.i += 1
            e = self.node(E.transpose(e), start, op)
        return e

    def try_literal(self) -> E.Expr | None:
        """`(-3)`, `(1/2)`, `(-1/2)`: a parenthesised rational constant, or None (no tokens used)."""
        t = self.tokens
        j = self.i + 1
        sign = 1
        if t[j].kind == "op" and t[j].text == "-":
            sign, j = -1, j + 1
        if t[j].kind != "num" or not _is_int(t[j].text):
            return None
        value = Fraction(t[j].text)
        j += 1
        if t[j].kind == "op" and t[j].text == "/" and t[j + 1].kind == "num" and _is_int(t[j + 1].text):
            if Fraction(t[j + 1].text) == 0:
                return None   # (1/0) is no number: it reads as a division (which has no value)
            value /= Fraction(t[j + 1].text)
            j += 2
        if not (t[j].kind == "op" and t[j].text == ")"):
            return None
        if sign == 1 and value.denominator == 1:
            return None   # (3) is just a bracketed 3
        start = self.tok.pos
        self.i = j + 1
        return self.node(E.num(sign * value), start, t[j])

    def _zero_denominator(self) -> Token | None:
        """The 0 of a bracketed `(n/0)` starting at the current token, if that is what follows."""
        t, j = self.tokens, self.i + 1
        if t[j].kind == "op" and t[j].text == "-":
            j += 1
        if (t[j].kind == "num" and t[j + 1].text == "/" and t[j + 2].kind == "num"
                and _is_int(t[j + 2].text) and Fraction(t[j + 2].text) == 0):
            return t[j + 2]
        return None

    def primary(self) -> E.Expr:
        t = self.tok
        if t.kind == "num":
            self.i += 1
            return self.node(E.num(t.text), t.pos, t)
        if t.kind == "op" and t.text == "(":
            lit = self.try_literal()
            if lit is not None:
                return lit
            self.i += 1
            if self.tok.kind == "op" and self.tok.text == ")":
                raise self.error("empty brackets")
            self.enter(t)
            inner = self.sum()
            self.nesting -= 1
            self.expect(")")
            return inner
        if t.kind == "ident":
            self.i += 1
            name = t.text
            if self.tok.kind == "op" and self.tok.text == "(":
                if name in (E.IDENTITY, E.COMMUTATION):
                    return self.sized_constant(t)
                if name in OTHER_FUNCTIONS and self.functions == set(E.FUNCTIONS):
                    raise self.error(f"unknown function {name!r}: write {OTHER_FUNCTIONS[name]}", t)
                if name not in self.functions and name not in E.BINARY_FUNCTIONS:
                    known = sorted(self.functions | set(E.BINARY_FUNCTIONS))
                    raise self.error(f"unknown function {name!r} (known: {', '.join(known)})", t)
                self.i += 1
                if self.tok.kind == "op" and self.tok.text == ")":
                    raise self.error(f"{name}() needs an argument")
                self.enter(t)
                want = 2 if name in E.BINARY_FUNCTIONS else 1
                takes = "one argument" if want == 1 else "two arguments"
                args = [self.sum()]
                while self.tok.kind == "op" and self.tok.text == ",":
                    if len(args) == want:
                        raise self.error(f"{name} takes {takes}")
                    self.i += 1
                    args.append(self.sum())
                self.nesting -= 1
                if len(args) != want:
                    raise self.error(f"{name} takes {takes}, not {len(args)}")
                self.expect(")")
                return self.node(E.Expr(name, tuple(args)), t.pos, t)
            if (name in E.FUNCTIONS or name in E.BINARY_FUNCTIONS) and name != E.DIFF:
                raise self.error(f"function {name!r} needs an argument in brackets: {name}(...)", t)
            if name == E.IDENTITY:
                return self.node(E.identity(), t.pos, t)
            if name == E.ONES:
                return self.node(E.ones(), t.pos, t)
            if is_differential_name(name):
                inner = E.sym(name[1:])
                self.spans[id(inner)] = (t.pos + 1, t.pos + len(name))
                return self.node(E.diff(inner), t.pos, t)
            return self.node(E.sym(name), t.pos, t)
        if t.kind == "end":
            raise self.error("unexpected end of input")
        raise self.error(f"unexpected {t.text!r}")


    def sized_constant(self, t: Token) -> E.Expr:
        """I(n) or K(m, n): the sizes are dimensions (names, numbers, products like m*n)."""
        self.i += 1   # the bracket
        sizes = [self.dimension()]
        while self.tok.kind == "op" and self.tok.text == ",":
            self.i += 1
            sizes.append(self.dimension())
        want = 1 if t.text == E.IDENTITY else 2
        if len(sizes) != want:
            what = "I(n) takes one size" if want == 1 else "K(m, n) takes two sizes"
            raise self.error(f"{what}, not {len(sizes)}", t)
        self.expect(")")
        e = E.identity(sizes[0]) if want == 1 else E.commutation(*sizes)
        return self.node(e, t.pos, t)

    def dimension(self) -> str:
        """A size: a name or a positive integer, or a product of them (m*n)."""
        parts = []
        while True:
            tok = self.tok
            if tok.kind == "ident" or (tok.kind == "num" and _is_int(tok.text) and int(tok.text) > 0):
                parts.append(tok.text)
                self.i += 1
            else:
                raise self.error("a size is a dimension name or a positive integer, like n or 3", tok)
            if not (self.tok.kind == "op" and self.tok.text == "*"):
                break
            self.i += 1
        return str(parse_dim("*".join(parts)))


def _is_int(text: str) -> bool:
    return text.isdigit()


@dataclass(frozen=True)
class Parsed:
    expr: E.Expr
    text: str
    spans: dict[int, tuple[int, int]]   # id(subterm) -> (start, end) in `text`

    def position(self, node: E.Expr) -> int | None:
        span = self.spans.get(id(node))
        return span[0] if span else None


def parse_with_spans(text: str, extra_functions: frozenset[str] = frozenset()) -> Parsed:
    if not isinstance(text, str):
        raise ParseError(f"expected a string, got {type(text).__name__}")
    if len(text) > MAX_CHARS:
        raise ParseError(f"input is {len(text):,} characters long; the limit is {MAX_CHARS:,}")
    p = _Parser(text, extra_functions)
    # one level of nesting takes ~7 Python frames in this recursive-descent parser
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * MAX_DEPTH + 500))
    try:
        e = p.parse()
    finally:
        sys.setrecursionlimit(limit)
    return Parsed(e, text, p.spans)


def parse(text: str, extra_functions: frozenset[str] = frozenset()) -> E.Expr:
    """Parse a term; raises ParseError naming the problem and its column.

    `extra_functions` admits unary functions outside the user language (the rule files' `eval`).
    """
    return parse_with_spans(text, extra_functions).expr


def split_equation(text: str) -> tuple[str, str]:
    """'lhs = rhs' -> (lhs, rhs); InputError unless it is one equation of two terms."""
    if not isinstance(text, str) or text.count("=") != 1:
        raise ParseError(f"expected one equation 'lhs = rhs', got {text!r}")
    lhs, rhs = (s.strip() for s in text.split("="))
    if not lhs or not rhs:
        raise ParseError(f"both sides of {text!r} must be terms")
    return lhs, rhs
