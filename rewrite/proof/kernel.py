"""The trusted kernel: terms that carry their shapes, and one rule application.

A `Term` is an expression with the shape of every subterm (a parallel tree).  `apply` rewrites
the subterm at a path by one library rule in one direction, after checking that

- the rule's side matches the subterm there (the match fixes every variable of the rule),
- its side conditions hold for the bound subterms (`conditions.holds`, on their shapes),
- the part the rule builds is well typed, with the shape of the part it replaces.

Only the nodes a step builds are typed; everything else keeps its shapes, so a step costs the
size of the rule plus the length of the path, not the size of the term.  The checker replays
proofs with `apply`, and the directed derivation engine makes its steps with it, so every step
the engine records is one the checker accepts (LCF style: the engine can only use the kernel's
operations).
"""
from __future__ import annotations

from typing import Mapping, Sequence

from .. import expr as E
from ..assumptions import ASSUMABLE, Assumptions
from ..conditions import holds
from ..errors import RewriteError, ShapeError
from ..dims import parse as dims_parse
from ..rules import EVAL, Rule, evaluate_constant, size_of
from ..dims import names as dim_names
from ..shapes import Decl, Shape, Unifier, is_free, name_free


class StepError(RewriteError):
    """A rule does not apply where a step says it does (the message says why).

    The message may be given as a function: strategies try many rules that do not apply, and
    printing the terms for each refusal would cost more than the whole derivation."""

    def __init__(self, message):
        super().__init__()
        self._message = message

    def __str__(self) -> str:
        if callable(self._message):
            self._message = self._message()
        return self._message


class Term:
    """An expression and its shape, with the typed arguments (immutable by convention).
    `size` counts the nodes of the tree."""
    __slots__ = ("expr", "rows", "cols", "kids", "size")

    def __init__(self, expr: E.Expr, rows, cols, kids: tuple["Term", ...] = ()):
        self.expr, self.rows, self.cols, self.kids = expr, rows, cols, kids
        size = 1
        for k in kids:
            size += k.size
        self.size = size

    @property
    def shape(self) -> Shape:
        return Shape(self.rows, self.cols)

    @property
    def is_scalar(self) -> bool:
        return self.rows == 1 and self.cols == 1

    def at(self, path: Sequence[int]) -> "Term":
        node = self
        for i in path:
            node = node.kids[i]
        return node

    def __repr__(self) -> str:
        return f"Term({self.expr!r}: {self.rows} x {self.cols})"


# --- typing -------------------------------------------------------------------------------------
class _Typer(Unifier):
    """Types an expression bottom-up; `leaf(sym)` gives the Term of a symbol (a declared variable
    of the whole term, or a subterm bound to a rule variable)."""

    def __init__(self, leaf, evaluate=None):
        super().__init__()
        self.leaf = leaf
        self.evaluate = evaluate   # computes an eval(...) node (a rule's built side) to a number

    def fail(self, message: str, node: E.Expr) -> ShapeError:
        from ..printer import to_text

        return ShapeError(f"{message} in {to_text(node)}")

    def raw(self, e: E.Expr):
        """(raw shape, builder) pairs: the shape may hold free dimensions until `finish`."""
        op = e.op
        if op == E.SYM:
            t = self.leaf(e)
            return (t.rows, t.cols), t
        if op == EVAL:
            return (1, 1), Term(self.evaluate(e), 1, 1)
        if not e.args:
            return self.constant_shape(e), ("leaf", e)
        kids = [self.raw(a) for a in e.args]
        if op == E.POW and isinstance(kids[1][1], Term):   # the exponent was computed: type it as given
            e = e.with_args((e.args[0], kids[1][1].expr))
        return self.op_shape(e, [k[0] for k in kids]), ("node", e, kids)

    def finish(self, raw_shape, built, name=None) -> Term:
        """The Term of a `raw` result.  A dimension left free is an error, unless `name` gives
        it a name (a constant of a whole input term whose size nothing fixes, as in tr(I))."""
        rows, cols = (self.resolve(d, name) for d in raw_shape)
        if isinstance(built, Term):
            return built
        kind, e = built[0], built[1]
        if kind == "leaf":
            return Term(e, rows, cols)
        kids = tuple(self.finish(shape, b, name) for shape, b in built[2])
        return Term(e.with_args(tuple(k.expr for k in kids)), rows, cols, kids)

    def resolve(self, d, name):
        d = self.find(d)
        if is_free(d):
            if name is None:
                raise ShapeError("the size of a constant is not determined")
            return name(d)
        return d


def typed(e: E.Expr, decls: Mapping[str, Decl]) -> Term:
    """The Term of a whole expression; every symbol must be declared.  A constant whose size
    nothing fixes (`tr(I)`) gets a fresh dimension name.  Raises ShapeError."""
    def leaf(sym: E.Expr) -> Term:
        d = decls.get(sym.name)
        if d is None:
            raise ShapeError(f"{sym.name} is not declared")
        return Term(sym, d.shape.rows, d.shape.cols)

    typer = _Typer(leaf)
    shape, built = typer.raw(e)
    typer.settle()
    taken = {n for decl in decls.values() for d in (decl.shape.rows, decl.shape.cols) for n in dim_names(d)}
    names: dict[int, str] = {}
    return typer.finish(shape, built, name=lambda d: name_free(d, names, taken))


def reading_differs(term: Term, decls: Mapping[str, Decl]) -> str | None:
    """None if `term.expr`, typed afresh from its text, has the shapes `term` carries; else the
    first subterm that reads with another size.  A constant's size may come from a context a step
    later removed (`tr(I + 0*A)` -> `tr(I)`): the text then says something other than what was
    shown.  Undeclared dimension names (free sizes) may be renamed consistently."""
    try:
        fresh = typed(term.expr, decls)
    except ShapeError as err:
        return f"{_short(term.expr)} does not type as written: {err}"
    declared = {n for decl in decls.values() for d in (decl.shape.rows, decl.shape.cols) for n in dim_names(d)}
    renaming: dict[str, object] = {}

    def same(a, b) -> bool:
        if isinstance(a, str) and isinstance(b, str) and a not in declared and b not in declared:
            return renaming.setdefault(a, b) == b   # two free sizes, named apart
        return a == b

    stack = [(term, fresh)]
    while stack:
        t, f = stack.pop()
        if not (same(t.rows, f.rows) and same(t.cols, f.cols)):
            return (f"{_short(t.expr)} is {t.rows} x {t.cols} here, but reads as {f.rows} x {f.cols} "
                    f"on its own")
        stack.extend(zip(t.kids, f.kids))
    return None


# --- one step -------------------------------------------------------------------------------------
def _match(p: E.Expr, t: Term, bound: dict[str, Term], sizes: dict[str, object]) -> bool:
    """Extend `bound` (and `sizes`, the rule's dimension variables) so that pattern `p` is the
    expression of `t`."""
    if p.op == E.SYM:
        seen = bound.get(p.name)
        if seen is None:
            bound[p.name] = t
            return True
        return seen.expr == t.expr
    e = t.expr
    if p.op != e.op or len(p.args) != len(e.args) or p.value != e.value:
        return False
    if E.stated_size(p):   # I(n), K(m, n): each size a dimension variable or a number
        given = E.stated_size(e)
        return len(given) == len(E.stated_size(p)) and all(
            _bind_size(sizes, v, dims_parse(d)) for v, d in zip(E.stated_size(p), given))
    if p.name != e.name:
        return False
    return all(_match(a, k, bound, sizes) for a, k in zip(p.args, t.kids))


def _with_sizes(e: E.Expr, sizes: Mapping[str, object]) -> E.Expr:
    """A rule side with its dimension variables (in I(n), K(m, n)) replaced by their sizes."""
    if E.stated_size(e):
        return E.Expr(e.op, name=",".join(size_of(d, sizes) for d in E.stated_size(e)))
    return e.with_args(tuple(_with_sizes(a, sizes) for a in e.args)) if e.args else e


def _bind_size(sizes: dict[str, object], var: str, d) -> bool:
    """Bind the rule's size `var` to the dimension d (or check it, when bound or a number)."""
    if var.isdigit():
        return d == int(var)
    if "*" in var:
        return False   # a product in a matched side cannot be split
    known = sizes.setdefault(var, d)
    return known == d


def bindings(rule: Rule, direction: str, term: Term) -> dict[str, Term] | None:
    """The subterms the rule's matched side binds at the root of `term`, or None if it does not
    match (a helper for strategies; `apply` decides validity)."""
    bound: dict[str, Term] = {}
    return bound if _match(sides(rule, direction)[0], term, bound, {}) else None


MAX_CONSTANT_BITS = 4000   # ~1,200 digits: constants folded past this are refused, not printed


def _eval(bound: Mapping[str, Term]):
    def evaluate(e: E.Expr) -> E.Expr:
        values = {}
        for v in e.symbols():
            t = bound[v].expr
            if t.op not in (E.NUM, E.ZERO):
                raise StepError(f"eval needs numbers, but {v} is {t}")
            values[v] = t
        from ..rules import instantiate

        try:
            value = evaluate_constant(instantiate(e.args[0], values))
        except (ArithmeticError, ValueError) as err:
            raise StepError(f"cannot compute {e}: {err}") from None
        if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_CONSTANT_BITS:
            raise StepError(f"{e} computes a constant of more than {MAX_CONSTANT_BITS} bits")
        return E.num(value)
    return evaluate


def sides(rule: Rule, direction: str) -> tuple[E.Expr, E.Expr]:
    """(side matched, side built).  A rule is read backward only if its right side computes
    nothing (eval) and binds every variable of its left side: the match must fix the step."""
    if direction not in ("forward", "backward"):
        raise StepError(f"direction must be forward or backward, not {direction!r}")
    pattern, build = rule.sides(direction)
    if direction == "backward":
        if any(n.op == EVAL for _, n in rule.rhs.walk()):
            raise StepError(f"{rule.name} computes its right side (eval) and cannot be applied backward")
        if not rule.lhs.symbols() <= rule.rhs.symbols():
            raise StepError(f"{rule.name} cannot be applied backward: its right side does not fix "
                            f"{', '.join(sorted(rule.lhs.symbols() - rule.rhs.symbols()))}")
    return pattern, build


def rewrite_at(term: Term, rule: Rule, direction: str, path: Sequence[int],
               decls: Mapping[str, Decl], wrt: str | None,
               assumed: Assumptions | None = None) -> tuple[Term, Term]:
    """(new whole term, the subterm built at `path`): `rule` applied at `path` of `term`.
    Conditions on assumable facts (nonzero, positive, invertible, nonnull) are established
    with `assumed` (none: from the declarations alone).  Raises StepError saying why the step is
    not valid; then `assumed` is as it was."""
    assumed = assumed if assumed is not None else Assumptions()
    mark = assumed.mark()
    try:
        return _rewrite_at(term, rule, direction, path, decls, wrt, assumed)
    except StepError:
        assumed.rollback(mark)
        raise


def _rewrite_at(term, rule, direction, path, decls, wrt, assumed) -> tuple[Term, Term]:
    pattern, build = sides(rule, direction)
    spine = [term]
    node = term
    for i in path:
        if not 0 <= i < len(node.kids):
            raise StepError(f"no subterm at path {list(path)}")
        node = node.kids[i]
        spine.append(node)
    bound: dict[str, Term] = {}
    sizes: dict[str, object] = {}
    if not _match(pattern, node, bound, sizes):
        raise StepError(lambda: f"the rule side {pattern} does not match {_short(node.expr)}")
    for cond in sorted(rule.conditions, key=lambda c: c.pred in ASSUMABLE):   # assume last
        t = bound[cond.var]
        if cond.pred == "dims":
            ok = all(_bind_size(sizes, v, d) for v, d in zip(cond.dims, (t.rows, t.cols)))
        elif cond.pred in ASSUMABLE:
            ok = assumed.establish(cond.pred, t, decls)
        else:
            ok = holds(cond.pred, t.expr, Shape(t.rows, t.cols), decls, wrt)
        if not ok:
            raise StepError(lambda: f"condition {cond} does not hold for {cond.var} = {_short(t.expr)} "
                                    f"(shape {t.rows} x {t.cols})")
    if sizes:
        try:
            build = _with_sizes(build, sizes)
        except KeyError as err:
            raise StepError(f"the size {err} of the rewritten part is not named by the rule") from None
    typer = _Typer(lambda sym: bound[sym.name], _eval(bound))
    try:
        shape, b = typer.raw(build)
        typer.unify(shape[0], node.rows, build, "the rewritten part has another row count")
        typer.unify(shape[1], node.cols, build, "the rewritten part has another column count")
        typer.settle()
        new = typer.finish(shape, b)
    except ShapeError as err:
        raise StepError(f"the rewritten part is ill-typed: {err}") from None
    built = new
    for parent, i in zip(reversed(spine[:-1]), reversed(path)):
        kids = parent.kids[:i] + (new,) + parent.kids[i + 1:]
        new = Term(parent.expr.with_args(tuple(k.expr for k in kids)), parent.rows, parent.cols, kids)
    return new, built


def apply(term: Term, rule: Rule, direction: str, path: Sequence[int], decls: Mapping[str, Decl],
          wrt: str | None, assumed: Assumptions | None = None) -> Term:
    """The whole term after one valid step; StepError if the step is not valid."""
    return rewrite_at(term, rule, direction, path, decls, wrt, assumed)[0]


class Cursor:
    """A whole term with a focus on one subterm, for a sequence of steps.

    A step rewrites the subterm at its path; only the nodes between that place and the previous
    step's place are rebuilt, so consecutive steps at neighbouring places (the usual case: a
    derivation works on one part at a time) cost the distance between them, not the depth of the
    term.  `root()` gives the whole term.
    """

    def __init__(self, term: Term):
        self.focus = term
        self.trail: list[tuple[Term, int]] = []   # (parent, index of the child on the path)
        self.size = term.size

    @property
    def path(self) -> tuple[int, ...]:
        return tuple(i for _, i in self.trail)

    def move(self, path: Sequence[int]) -> Term:
        """Focus on the subterm at `path` (StepError if there is none) and return it."""
        trail = self.trail
        common = 0
        while common < len(trail) and common < len(path) and trail[common][1] == path[common]:
            common += 1
        while len(trail) > common:
            self._up()
        node, added = self.focus, []
        for i in path[common:]:
            if not 0 <= i < len(node.kids):
                for _ in added:   # leave the cursor where it was
                    node = trail.pop()[0]
                self.focus = node
                raise StepError(f"no subterm at path {list(path)}")
            added.append(i)
            trail.append((node, i))
            node = node.kids[i]
        self.focus = node
        return node

    def _up(self) -> None:
        parent, i = self.trail.pop()
        if parent.kids[i] is not self.focus:   # the child was rewritten: rebuild the parent
            kids = parent.kids[:i] + (self.focus,) + parent.kids[i + 1:]
            parent = Term(parent.expr.with_args(tuple(k.expr for k in kids)), parent.rows,
                          parent.cols, kids)
        self.focus = parent

    def root(self) -> Term:
        return self.move(())

    def apply(self, rule: Rule, direction: str, path: Sequence[int], decls: Mapping[str, Decl],
              wrt: str | None, assumed: Assumptions | None = None) -> Term:
        """One step at `path`; the subterm it built.  StepError if the step is not valid."""
        old = self.move(path)
        new, _ = rewrite_at(old, rule, direction, (), decls, wrt, assumed)
        self.focus = new
        self.size += new.size - old.size
        return new


def _short(e: E.Expr, limit: int = 160) -> str:
    from ..printer import to_text

    s = to_text(e)
    return s if len(s) <= limit else s[: limit - 1] + "…"


__all__ = ["Term", "Cursor", "StepError", "typed", "apply", "rewrite_at", "sides", "bindings",
           "reading_differs"]
