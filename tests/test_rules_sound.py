"""Every rule of the library is sound: both sides agree on random instances of random shapes.

How a rule is instantiated (the same for every rule, no special cases):

* Pattern variables that must be numbers (conditions `num`, `int2`, `notone`, `negnum`, or the
  exponent of a `^`) get random rational constants that satisfy the condition; `eval(...)` is
  computed by `rules.instantiate`.  A `unit` variable becomes I or ones.  Every other pattern
  variable becomes a fresh variable (a matrix).
* Sizes named in the rule (the m, n of I(n), K(m, n) and dims(A, m, n)) become dimension names,
  and a variable A of dims(A, m, n) is declared of that shape.
* Shapes: first the most general typing of `lhs - rhs` is inferred with every variable free
  (only the variables in a chosen subset are declared 1x1, for each subset, so that a 1x1 factor
  is a scaling, not a product with a 1 x n matrix; variables with a square-only condition are
  forced square).  Then the free dimensions are given concrete sizes in several ways: all 2..4,
  all distinct, each one in turn 1, all 1.  This yields scalar, column/row vector, square and
  rectangular instances.  An instance is kept if it type-checks and every side condition holds
  by `conditions.holds` (the kernel's own predicate) -- exactly the instances the checker
  accepts -- with property conditions (`symmetric(S)`, `positive(B)` ...) declared on the
  variable so that its random value has the property.
* Values: `numeric.compare` evaluates both sides at random points honouring the declarations and
  fails on a relative difference above its tolerance.
* Differential rules (`d(F) => ...`): every pattern variable stands for an arbitrary smooth
  function of the variable of differentiation, i.e. it moves along its own random direction
  `d(V)`.  The left side `d(F)` is evaluated as the directional derivative of F along those
  directions (Richardson-extrapolated central differences), the right side with `d(V)` set to
  V's direction.  Under `const(C)` the variable of differentiation is a fresh name C does not
  contain, so C does not move and `d(C)` is 0.

* Assumable conditions (rewrite/assumptions.py): `positive(B)` and `invertible(A)` are declared
  like properties; `nonzero(A)` and `nonnull(x)` hold at random points with probability 1, so
  every instance satisfies them.  A second test shows each such condition is needed: at a point
  that violates it, the rule fails (the sides differ, one is undefined, or the function is not
  differentiable there: a forward difference disagrees with the rule's differential).

A rule for which no instance is valid fails the test: every rule must be exercised.
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pytest

from rewrite import dims
from rewrite import expr as E
from rewrite.conditions import holds
from rewrite.errors import ShapeError
from rewrite.assumptions import ASSUMABLE
from rewrite.numeric import OutOfDomain, compare, draw_sizes, evaluate, random_env
from rewrite.rules import Rule, dim_vars, instantiate, library
from rewrite.shapes import SCALAR, Decl, Shape, infer

RULES = library()
NUMBER_PREDICATES = {"num", "int2", "notone", "negnum"}
# number choices per predicate (0 is not a number term: `num(0)` builds the constant 0)
NUMBERS = {
    "num": [Fraction(2), Fraction(-3), Fraction(1, 2), Fraction(-5, 3), Fraction(1)],
    "int2": [Fraction(2), Fraction(3), Fraction(4)],
    "negnum": [Fraction(-3), Fraction(-1, 2), Fraction(-1)],
    "notone": [Fraction(2), Fraction(3), Fraction(-1), Fraction(-2), Fraction(1, 2), Fraction(3, 2)],
    "exponent": [Fraction(2), Fraction(3), Fraction(-1)],
}
# variables that a condition makes a sized-by-context constant
CONSTANTS = {"unit": [E.identity(), E.ones()]}
SQUARE_PROPS = {"symmetric", "spd", "invertible", "diagonal", "square", "orthogonal"}
PROP_PREDICATES = SQUARE_PROPS | {"positive", "simplex"}
NEVER_SCALAR = {"nonscalar", "matrix"}
ALMOST_SURE = {"nonzero", "nonnull"}   # true of random (normal) values with probability 1
WRT = "Wrt"               # the variable of differentiation for `const`: occurs in no instance
MAX_INSTANCES = 8         # distinct shape assignments checked per rule
TRIALS = 2                # random points per instance


@dataclass
class Instance:
    lhs: E.Expr
    rhs: E.Expr
    decls: dict[str, Decl]
    wrt: str | None
    bound: dict[str, str]      # pattern variable -> what it became (for messages)

    def kinds(self) -> set[str]:
        return {_kind(d.shape) for d in self.decls.values()}

    def __str__(self) -> str:
        return ", ".join(f"{v} := {t}" for v, t in sorted(self.bound.items()))


def _kind(s: Shape) -> str:
    if s.is_scalar:
        return "scalar"
    if s.cols == 1:
        return "column vector"
    if s.rows == 1:
        return "row vector"
    return "square" if s.rows == s.cols else "rectangular"


def _conditions(rule: Rule, var: str) -> set[str]:
    return {c.pred for c in rule.conditions if c.var == var}


def _number_vars(rule: Rule) -> dict[str, str]:
    """Pattern variables that must be numbers -> which list of numbers to draw from."""
    out = {}
    for side in (rule.lhs, rule.rhs):
        for _, node in side.walk():
            if node.op == E.POW and node.args[1].op == E.SYM:
                out[node.args[1].name] = "exponent"
    for c in rule.conditions:
        if c.pred in NUMBER_PREDICATES or c.pred in CONSTANTS:
            out[c.var] = c.pred
    return out


def _fresh(var: str) -> str:
    return f"{var.upper()}_{var}"   # upper case: a free matrix by default; never reserved


def _number_choices(rule: Rule, rng: np.random.Generator) -> list[dict[str, E.Expr]]:
    numbers = _number_vars(rule)
    names = sorted(numbers)
    combos = list(itertools.product(*[[E.num(v) for v in NUMBERS[numbers[n]]] if numbers[n] in NUMBERS
                                      else CONSTANTS[numbers[n]] for n in names]))
    rng.shuffle(combos)
    return [dict(zip(names, combo)) for combo in combos[:4]] or [{}]


def _size_assignments(dims: list[str], rng: np.random.Generator) -> list[dict[str, int]]:
    out = [{d: int(rng.integers(2, 5)) for d in dims},
           {d: 2 + i % 3 for i, d in enumerate(dims)},
           {d: 3 for d in dims}]
    for one in dims:
        out.append({d: 1 if d == one else int(rng.integers(2, 5)) for d in dims})
    out.append({d: 1 for d in dims})
    return out


def instances(rule: Rule, seed: int) -> list[Instance]:
    """Valid instances of `rule`: type-checked, side conditions holding, distinct shapes."""
    rng = np.random.default_rng(seed)
    numbers = _number_vars(rule)
    matrix_vars = sorted(rule.lhs.symbols() - set(numbers))
    wrt = WRT if any(c.pred == "const" for c in rule.conditions) else None
    found: dict[tuple, Instance] = {}
    subst_syms = {v: E.sym(_fresh(v)) for v in matrix_vars}
    optional = [v for v in matrix_vars if not _conditions(rule, v) & ({"scalar"} | NEVER_SCALAR)]
    always = [v for v in matrix_vars if "scalar" in _conditions(rule, v)]
    sizes_of = {d: f"D{d}" for d in dim_vars(rule.lhs) | dim_vars(rule.rhs) | rule.sized_by_conditions}
    for number_subst in _number_choices(rule, rng):
        subst = {**subst_syms, **number_subst}
        try:
            lhs, rhs = instantiate(rule.lhs, subst, sizes_of), instantiate(rule.rhs, subst, sizes_of)
        except (ZeroDivisionError, ValueError):
            continue
        root = E.Expr(E.SUB, (lhs, rhs))
        for k in range(len(optional) + 1):
            for chosen in itertools.combinations(optional, k):
                scalars = set(always) | set(chosen)
                general = _general_typing(rule, root, matrix_vars, scalars, sizes_of)
                if general is None:
                    continue
                dims = sorted({d for v in matrix_vars for d in _dims(general.vars[_fresh(v)].shape)})
                for sizes in _size_assignments(dims, rng):
                    inst = _concrete(rule, lhs, rhs, root, subst, general, sizes, wrt)
                    if inst is not None:
                        key = (tuple(sorted((n, d.shape) for n, d in inst.decls.items())),
                               str(lhs))
                        found.setdefault(key, inst)
    # prefer variety: one instance per combination of kinds first, then the rest
    by_kinds: dict[frozenset, list[Instance]] = {}
    for inst in found.values():
        by_kinds.setdefault(frozenset(_kind(d.shape) for d in inst.decls.values()), []).append(inst)
    ordered = [group[0] for group in by_kinds.values()] + [i for g in by_kinds.values() for i in g[1:]]
    return ordered[:MAX_INSTANCES]


def _dims(s: Shape) -> list[str]:
    return [d for d in (s.rows, s.cols) if isinstance(d, str)]


def _general_typing(rule: Rule, root: E.Expr, matrix_vars: list[str], scalars: set[str],
                    sizes_of: dict[str, str]):
    """The most general typing with `scalars` declared 1x1, square-only variables square, and the
    variables of `dims(A, m, n)` of the sizes named m, n."""
    decls = {_fresh(v): Decl(SCALAR) for v in scalars}
    for c in rule.conditions:
        if c.pred == "dims":
            if c.var in scalars:
                return None
            decls[_fresh(c.var)] = Decl(Shape(*(sizes_of[d] for d in c.dims)))
    forced = root
    for v in matrix_vars:
        if _conditions(rule, v) & SQUARE_PROPS and v not in scalars:
            forced = E.Expr(E.MUL, (E.tr(E.sym(_fresh(v))), forced))   # tr(V) makes V square
    try:
        return infer(forced, decls)
    except ShapeError:
        return None


def _sized(e: E.Expr, sizes: dict) -> E.Expr:
    """The term with the sizes written in its I(n), K(m, n) replaced by their numbers."""
    if E.stated_size(e):
        known = [str(dims.value(dims.parse(d), sizes)) if set(dims.names(dims.parse(d))) <= set(sizes) else d
                 for d in E.stated_size(e)]
        return E.Expr(e.op, name=",".join(known))
    return e.with_args(tuple(_sized(a, sizes) for a in e.args)) if e.args else e


def _concrete(rule, lhs, rhs, root, subst, general, sizes, wrt) -> Instance | None:
    lhs, rhs, root = (_sized(t, sizes) for t in (lhs, rhs, root))
    decls = {}
    for v, term in subst.items():
        if term.op != E.SYM:
            continue
        s = general.vars[term.name].shape
        shape = Shape(*(sizes[d] if isinstance(d, str) else d for d in (s.rows, s.cols)))
        props = frozenset(_conditions(rule, v) & PROP_PREDICATES)
        if props & SQUARE_PROPS and shape.rows != shape.cols or "simplex" in props and shape.cols != 1:
            return None
        decls[term.name] = Decl(shape, props | ({"symmetric", "invertible", "square"} if "spd" in props else set()))
    try:
        typing = infer(root, decls)
    except ShapeError:
        return None
    for c in rule.conditions:
        term = subst[c.var]
        shape = typing.vars[term.name].shape if term.op == E.SYM else SCALAR
        if c.pred in ALMOST_SURE:
            continue
        if not holds(c.pred, term, shape, decls, wrt):
            return None
    bound = {v: (f"{t} ({decls[t.name].shape})" if t.op == E.SYM else str(t)) for v, t in subst.items()}
    return Instance(lhs, rhs, decls, wrt, bound)


def _seed(name: str) -> int:
    return zlib.crc32(name.encode())


@pytest.mark.parametrize("name", sorted(RULES))
def test_rule_is_sound(name):
    rule = RULES[name]
    found = instances(rule, _seed(name))
    assert found, f"{name}: no instance type-checks with its conditions ({rule.text})"
    usable, failures = 0, []
    for i, inst in enumerate(found):
        c = compare(inst.lhs, inst.rhs, inst.decls, trials=TRIALS, seed=_seed(name) + i, wrt=inst.wrt)
        if c.counterexample is not None:
            ce = c.counterexample
            failures.append(f"{inst}: lhs {inst.lhs} = {ce.lhs_value}, rhs {inst.rhs} = {ce.rhs_value} "
                            f"at {ce.env} (differentials {ce.differentials})")
        elif c.equal:
            usable += 1
    assert not failures, f"{name} ({rule.text}) is unsound:\n" + "\n".join(failures)
    assert usable, f"{name}: no instance could be evaluated (every point out of domain)"


def test_instances_cover_every_kind_of_shape():
    """The generator does try scalars, vectors, square and rectangular matrices."""
    kinds = set()
    for inst in instances(RULES["mul-assoc"], 0):
        kinds |= inst.kinds()
    assert {"scalar", "column vector", "square", "rectangular"} <= kinds


def test_conditions_restrict_the_instances():
    """Instances satisfy the side conditions: a scalar(s) variable is 1x1, invertible(A) square."""
    for inst in instances(RULES["scalar-comm"], 0):
        assert inst.decls[_fresh("s")].shape == SCALAR
    for inst in instances(RULES["inv-mul"], 0):
        for v in ("A", "B"):
            d = inst.decls[_fresh(v)]
            assert d.shape.rows == d.shape.cols and "invertible" in d.props


def test_an_unsound_rule_is_caught():
    """The harness refutes a wrong rule (not just runs)."""
    from rewrite.rules import parse_rule

    wrong = parse_rule("bad-transpose-mul: (A*B)' = A'*B'", "test")
    found = instances(wrong, 0)
    assert found
    refuted = [compare(i.lhs, i.rhs, i.decls, trials=TRIALS, seed=k).counterexample is not None
               for k, i in enumerate(found)]
    assert any(refuted)
    wrong_d = parse_rule("bad-d-inv: d(inv(A)) => -(inv(A)*d(A))", "test")
    assert any(compare(i.lhs, i.rhs, i.decls, trials=TRIALS, seed=k).counterexample is not None
               for k, i in enumerate(instances(wrong_d, 0)))


# --- assumable conditions are needed --------------------------------------------------------------
NEEDED = ASSUMABLE + ("orthogonal", "simplex")   # conditions shown needed (declarations too)
ASSUMING = sorted(n for n, r in RULES.items() if any(c.pred in NEEDED for c in r.conditions))


def _violating(pred: str, value: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A value of the variable's shape where pred does not hold."""
    if pred in ("nonzero", "nonnull"):
        return np.zeros_like(value)
    if pred == "positive":
        return -np.abs(rng.standard_normal(value.shape)) - 0.5
    if pred == "simplex":   # entries >= 0 that do not sum to 1
        return 2 * value + 0.5
    if pred == "orthogonal":
        return value + rng.standard_normal(value.shape)
    singular = rng.standard_normal(value.shape)   # invertible: a matrix with a zero row
    singular[0, :] = 0.0
    return singular


def _fails_at(inst: Instance, env: dict, directions: dict, typing, sizes: dict) -> bool:
    """Does the rule fail at env: a side undefined or not finite, or the sides differ (for a
    differential rule, d(F) as a forward difference of F, which sees a kink that central
    differences average away)?"""
    def value(path, at, diffs=None):
        return evaluate(inst.lhs if path[0] == 0 else inst.rhs, at, typing=typing, path=path[:1],
                        sizes=sizes, differentials=diffs) if len(path) == 1 else \
            evaluate(inst.lhs.args[0], at, typing=typing, path=path, sizes=sizes)
    try:
        if inst.lhs.op == E.DIFF:
            h = 1e-7
            moved = {v: env[v] + h * directions[v] for v in env}
            lhs = (value((0, 0), moved) - value((0, 0), env)) / h
        else:
            lhs = value((0,), env)
        rhs = value((1,), env, directions)
    except (OutOfDomain, ValueError, ArithmeticError, np.linalg.LinAlgError):
        return True
    if not (np.all(np.isfinite(lhs)) and np.all(np.isfinite(rhs))):
        return True
    return float(np.max(np.abs(lhs - rhs))) > 1e-4 * (1 + float(np.max(np.abs(lhs))))


@pytest.mark.parametrize("name", ASSUMING)
def test_each_condition_is_needed(name):
    """At a random point (which satisfies the condition) the rule holds; at a point where the
    condition fails, it fails."""
    rule = RULES[name]
    rng = np.random.default_rng(_seed(name))
    for cond in (c for c in rule.conditions if c.pred in NEEDED):
        controls, failed = 0, False
        for inst in instances(rule, _seed(name)):
            var = _fresh(cond.var)
            if var not in inst.decls:
                continue
            typing = infer(E.Expr(E.SUB, (inst.lhs, inst.rhs)), inst.decls)
            with np.errstate(all="ignore"):
                for _ in range(3):
                    sizes = draw_sizes(typing, rng)
                    env = random_env(typing, rng, sizes)
                    directions = {v: rng.standard_normal(x.shape) for v, x in env.items()}
                    if _fails_at(inst, env, directions, typing, sizes):
                        continue   # not a usable point (e.g. det < 0 for logdet)
                    controls += 1
                    env[var] = _violating(cond.pred, env[var], rng)
                    if _fails_at(inst, env, directions, typing, sizes):
                        failed = True
                        break
            if failed:
                break
        assert controls, f"{name}: the rule could not be evaluated at any random point"
        assert failed, f"{name}: {cond} seems not needed: the rule holds where it is false"
