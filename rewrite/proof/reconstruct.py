"""Proof reconstruction: the rule steps that turn one term into another of the same e-class.

egglog does not say why two terms are equal, so we find out again, in Python, on a snapshot of
the saturated e-graph (DESIGN.md, "Proofs"):

- *edges* of a class: e-match each side of every library rule (both directions) at the class and
  keep the match if the other side, built from the same bindings, is also a member of the class;
- `reach(term, class, goal)`: breadth-first search over the class's e-nodes for a chain of edges
  from the term's e-node to `goal`; taking an edge first drives the subterms at the inner positions
  of the matched side to the e-nodes the match needs (recursively: congruence), then applies the
  rule to the concrete term;
- `reach_term(src, target)`: reach the target's e-node, then recurse into the children.

Every search is bounded; running out is a `ReconstructionFailed`, never a partial proof.  When the
e-graph search fails on a small goal, a bounded breadth-first search over concrete terms is tried.
Every step is replayed (both sides instantiated and compared, conditions decided by the kernel's
`conditions.holds`) before it is returned.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Iterator, Mapping

from .. import expr as E
from ..conditions import holds
from ..egg.extract import Extraction, size_cost
from ..egg.snapshot import ENode, Snapshot
from ..errors import RewriteError, ShapeError
from ..rules import EVAL, Rule, evaluate_constant, instantiate, library, match
from ..shapes import Decl, Shape, infer

DIRECTIONS = ("forward", "backward")
LITERAL_PREDS = ("num", "int2", "notone", "negnum")   # conditions the kernel decides on the term's form


class ReconstructionFailed(RewriteError):
    """No proof could be reconstructed within the bounds (or a produced step did not replay)."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(f"proof reconstruction failed: {reason}")


@dataclass(frozen=True)
class Move:
    """A rule applied at `path` of the term being rewritten (relative to that term's root)."""
    rule: str
    direction: str
    path: E.Path
    subst: tuple[tuple[str, E.Expr], ...]

    def under(self, i: int) -> "Move":
        return Move(self.rule, self.direction, (i,) + self.path, self.subst)


@dataclass
class RawStep:
    """A replayed step on the whole (stage) term: `before` --rule--> `after`."""
    rule: str
    direction: str
    path: E.Path
    subst: dict[str, E.Expr]
    before: E.Expr
    after: E.Expr


@dataclass(frozen=True)
class Limits:
    work: int = 400_000        # BFS expansions + edge attempts
    seconds: float = 20.0
    depth: int = 120           # nesting of sub-goals
    fallback_size: int = 40    # largest term (nodes) the term-space fallback is tried on
    fallback_depth: int = 6
    fallback_terms: int = 60_000
    fallback_seconds: float = 4.0
    subterm_work: int = 40_000  # e-graph search work per subterm before the term-space fallback
    memo_cut_failures: bool = True
    replans: int = 4           # plans tried per sub-goal before the concrete search
    concrete_states: int = 200
    growth: tuple[int, ...] = (3, 12, 1 << 20)   # tries: terms may grow this much past the ends


# --- the rule sides, indexed by the operator at their root ------------------------------------
@dataclass(frozen=True, eq=False)
class Side:
    rule: Rule
    direction: str
    pattern: E.Expr          # the side that is matched
    built: E.Expr            # the side that replaces it
    occurrences: tuple[tuple[str, tuple[E.Path, ...]], ...]   # each variable of `pattern`, its paths


def _has_eval(e: E.Expr) -> bool:
    return any(n.op == EVAL for _, n in e.walk())


def _occurrences(p: E.Expr) -> tuple[tuple[str, tuple[E.Path, ...]], ...]:
    occ: dict[str, list[E.Path]] = {}
    for path, node in sorted(p.walk(), key=lambda pn: (len(pn[0]), pn[0])):
        if node.op == E.SYM:
            occ.setdefault(node.name, []).append(path)
    return tuple((v, tuple(ps)) for v, ps in occ.items())


def rule_sides(rules: Mapping[str, Rule]) -> tuple[dict[str, list[Side]], list[Side]]:
    """Sides by root operator, and the sides that are a bare variable (they match any term)."""
    by_op: dict[str, list[Side]] = {}
    bare: list[Side] = []
    for rule in rules.values():
        if rule.sized:
            continue
        for direction in DIRECTIONS:
            pattern, built = rule.sides(direction)
            if _has_eval(pattern) or (pattern.op == E.SYM and built.op == E.SYM):
                continue   # eval(...) cannot be matched; a variable for a variable says nothing
            if not built.symbols() <= pattern.symbols():
                continue   # a proof step is fixed by its match: no variable may be left open
            side = Side(rule, direction, pattern, built, _occurrences(pattern))
            if pattern.op == E.SYM:
                bare.append(side)
            else:
                by_op.setdefault(pattern.op, []).append(side)
    return by_op, bare


@dataclass(frozen=True, eq=False)
class Edge:
    """A rule application inside one class: from e-node `src` to e-node `dst`.

    `src` None: the matched side is a bare variable (any member).  `dst` None: the built side is
    the bare variable `collapse`, so the result is the member that subterm happens to be.
    `need`: (path, class, e-node) for every inner non-variable position of the matched side.
    """
    side: Side
    src: ENode | None
    dst: ENode | None
    need: tuple[tuple[E.Path, int, ENode], ...]
    bind: tuple[tuple[str, int], ...]
    collapse: str | None = None


@dataclass(frozen=True)
class Part:
    """What the planner knows of a term: its class, and maybe its e-node and the parts below."""
    cls: int
    node: ENode | None = None
    kids: tuple["Part", ...] = ()
    term: E.Expr | None = field(default=None, compare=False)   # the concrete term, if known

    def at(self, path: E.Path) -> "Part | None":
        part = self
        for i in path:
            if part.node is None:
                return None
            part = part.kids[i]
        return part

    def replace(self, path: E.Path, new: "Part") -> "Part":
        if not path:
            return new
        kids = list(self.kids)
        kids[path[0]] = kids[path[0]].replace(path[1:], new)
        return Part(self.cls, self.node, tuple(kids))   # the term below changed: not known

    def signature(self, depth: int = 2) -> tuple:
        """The e-nodes of the top `depth` levels: states of the planner that look the same."""
        if depth == 0 or self.node is None:
            return (self.node,)
        return (self.node,) + tuple(k.signature(depth - 1) for k in self.kids)


def _shape(snap: Snapshot, c: int) -> Shape | None:
    s = snap.shape(c)
    if s is None:
        return None
    return Shape(*(int(d) if d.isdigit() else d for d in s))


# --- the e-graph search -----------------------------------------------------------------------
class Reconstructor:
    def __init__(self, snap: Snapshot, decls: Mapping[str, Decl], wrt: str | None,
                 rules: Mapping[str, Rule] | None = None, limits: Limits = Limits()):
        self.snap = snap
        self.decls = dict(decls)
        self.wrt = wrt
        self.rules = dict(rules or library())
        self.by_op, self.bare = rule_sides(self.rules)
        self.limits = limits
        self._members: dict[int, list[ENode]] = {}
        self._edges: dict[int, dict[ENode | None, list[Edge]]] = {}
        self._node_of: dict[tuple[E.Expr, int], ENode | None] = {}
        self._memo: dict[tuple[E.Expr, int, ENode], tuple[list[Move], E.Expr] | None] = {}
        self._progress: set[tuple[E.Expr, int]] = set()
        self._goal_sizes: dict[tuple[int, ENode], list[int]] = {}
        self._cuts = 0
        self._depth = 0
        self._extraction: Extraction | None = None
        self._leaves: dict[tuple, list[int]] | None = None
        self._built_at: dict[tuple, ENode | None] = {}
        self._usable: dict[tuple[ENode, int], bool] = {}
        self.work = 0
        self.fallbacks = 0
        self.allow_fallback = True
        self._fallback_memo: dict[tuple[E.Expr, E.Expr], tuple | None] = {}
        # A failure caused by a cut may not be final; remembering it anyway keeps the search
        # polynomial (each sub-goal is searched once) at the price of completeness.
        self.memo_cut_failures = limits.memo_cut_failures
        self._local_limit = 1 << 62   # work allowed to the e-graph search of one subterm
        self.size_cap = 1 << 30    # largest term (nodes) a sub-goal may work on; see `reconstruct`
        self._deadline = time.perf_counter() + limits.seconds

    def restart(self, size_cap: int) -> None:
        """Forget the sub-goal memos (not the edges) and search again with a new size cap."""
        self.size_cap = size_cap
        self._memo.clear()
        self._progress.clear()
        self._goal_sizes.clear()
        self._depth = 0

    # --- bookkeeping ----------------------------------------------------------------------------
    def tick(self, n: int = 1) -> None:
        self.work += n
        if self.work > self.limits.work:
            raise ReconstructionFailed(f"search budget of {self.limits.work} steps exhausted")
        if self.work > self._local_limit:
            raise _SubBudget()
        if self.work % 512 == 0 and time.perf_counter() > self._deadline:
            raise ReconstructionFailed(f"time budget of {self.limits.seconds} s exhausted")

    def usable(self, n: ENode, c: int) -> bool:
        key = (n, c)
        ok = self._usable.get(key)
        if ok is None:
            ok = self._usable[key] = self.snap.usable(n, c)
        return ok

    def members(self, c: int) -> list[ENode]:
        """The well-typed e-nodes of class `c` (ill-typed junk is never used)."""
        ms = self._members.get(c)
        if ms is None:
            ms = [n for n in self.snap.classes.get(c, ()) if self.snap.usable(n, c)]
            self._members[c] = ms
        return ms

    def node_of(self, t: E.Expr, c: int) -> ENode | None:
        """The member of class `c` whose op is t's and whose children hold t's children."""
        key = (t, c)
        if key in self._node_of:
            return self._node_of[key]
        found = None
        for n in self.members(c):
            if self.represents(t, n):
                found = n
                break
        self._node_of[key] = found
        return found

    def represents(self, t: E.Expr, n: ENode) -> bool:
        if n.op != t.op or len(n.children) != len(t.args):
            return False
        if not t.args:
            return t.name == n.name and t.value == n.value
        return all(self.node_of(a, ch) is not None for a, ch in zip(t.args, n.children))

    def classes_of(self, t: E.Expr) -> set[int]:
        """Every class holding the concrete term `t` (several only for I/0/ones of other sizes)."""
        if not t.args:
            if t.op in (E.SYM, E.NUM):
                c = self.snap.class_of_node.get(ENode(t.op, name=t.name, value=t.value))
                return {c} if c is not None else set()
            return {c for c, ns in self.snap.classes.items() for n in ns
                    if n.op == t.op and not n.children and self.snap.usable(n, c)}
        kid_sets = [self.classes_of(a) for a in t.args]
        out: set[int] = set()

        def combos(i: int, acc: tuple[int, ...]):
            if i == len(kid_sets):
                c = self.snap.class_of_node.get(ENode(t.op, acc))
                if c is not None and self.snap.usable(ENode(t.op, acc), c):
                    out.add(c)
                return
            for k in kid_sets[i]:
                combos(i + 1, acc + (k,))
        combos(0, ())
        return out

    def term_of_class(self, c: int) -> E.Expr | None:
        if self._extraction is None:
            self._extraction = Extraction(self.snap, size_cost)
        return self._extraction.term(c) if self._extraction.cost(c) is not None else None

    # --- e-matching -----------------------------------------------------------------------------
    def _num_value(self, c: int):
        for n in self.members(c):
            if n.op == E.NUM:
                return n.value
            if n.op == E.ZERO and n.dims == ("1", "1"):
                return 0
        return None

    def _eval(self, p: E.Expr, subst: Mapping[str, int]) -> E.Expr | None:
        """The constant an eval(...) pattern denotes under class bindings (None: not numeric)."""
        values = {}
        for v in p.symbols():
            if v not in subst:
                return None
            val = self._num_value(subst[v])
            if val is None:
                return None
            values[v] = E.num(val)
        try:
            return E.num(evaluate_constant(instantiate(p.args[0], values)))
        except (ZeroDivisionError, ValueError, KeyError):
            return None

    def ematch(self, p: E.Expr, c: int, subst: dict[str, int], need: tuple, path: E.Path
               ) -> Iterator[tuple[dict[str, int], tuple]]:
        """Every way pattern `p` matches class `c`, extending the bindings `subst`."""
        if p.op == E.SYM:
            b = subst.get(p.name)
            if b is None:
                yield {**subst, p.name: c}, need
            elif b == c:
                yield subst, need
            return
        if p.op == EVAL:
            p = self._eval(p, subst)
            if p is None:
                return
        for n in self.members(c):
            yield from self.ematch_node(p, n, c, subst, need, path)

    def ematch_node(self, p: E.Expr, n: ENode, c: int, subst: dict[str, int], need: tuple,
                    path: E.Path) -> Iterator[tuple[dict[str, int], tuple]]:
        if n.op != p.op or len(n.children) != len(p.args):
            return
        if not p.args and p.value != n.value:
            return
        need = need + ((path, c, n),)
        yield from self._ematch_args(p.args, n.children, 0, subst, need, path)

    def _ematch_args(self, args, kids, i, subst, need, path):
        if i == len(args):
            yield subst, need
            return
        for s, nd in self.ematch(args[i], kids[i], subst, need, path + (i,)):
            yield from self._ematch_args(args, kids, i + 1, s, nd, path)

    def _plausible(self, side: Side, bind: Mapping[str, int]) -> bool:
        """Conditions, judged on the classes (a cheap filter; the concrete terms decide later)."""
        snap = self.snap
        for cond in side.rule.conditions:
            c = bind.get(cond.var)
            if c is None:
                continue
            s = snap.shape(c)
            if s is None:
                return False
            pred = cond.pred
            if pred == "scalar" and s != ("1", "1"):
                return False
            if pred == "matrix" and "1" in s:
                return False
            if pred in ("square", "symmetric", "spd", "invertible", "diagonal") and s[0] != s[1]:
                return False
            if pred in ("symmetric", "spd", "invertible", "diagonal", "positive", "const", "hasd") \
                    and c not in snap.props.get(pred, ()):
                return False
            if pred in LITERAL_PREDS and self._num_value(c) in (None, 0):
                return False
        return True

    def _literal_needs(self, side: Side, subst: Mapping[str, int]) -> tuple | None:
        """Needs making each variable a `num(...)`-like condition speaks of a number literal.

        egglog checks `num(a)` on the class (`(= a (Num q))`), but the kernel checks it on the
        concrete term, which may be another member of the class (`(-1/3)'` for `-1/3`): the
        subterm must first be driven to the class's number e-node.  None: no such e-node."""
        extra = []
        occurrences = dict(side.occurrences)
        for cond in side.rule.conditions:
            if cond.pred not in LITERAL_PREDS or cond.var not in occurrences:
                continue
            c = subst[cond.var]
            node = next((n for n in self.members(c) if n.op == E.NUM), None)
            if node is None:
                return None
            extra.append((occurrences[cond.var][0], c, node))
        return tuple(extra)

    def edges(self, c: int) -> dict[ENode | None, list[Edge]]:
        """The rule edges of class `c`, by source e-node (None: from any member)."""
        idx = self._edges.get(c)
        if idx is not None:
            return idx
        idx = {}
        for n in self.members(c):
            for side in self.by_op.get(n.op, ()):
                for subst, need in self.ematch_node(side.pattern, n, c, {}, (), ()):
                    self.tick()
                    for e in self._complete(side, c, n, subst, need[1:]):
                        idx.setdefault(n, []).append(e)
        for side in self.bare:
            for e in self._complete(side, c, None, {side.pattern.name: c}, ()):
                idx.setdefault(None, []).append(e)
        for es in idx.values():   # cheapest first: fewest inner positions to drive
            es.sort(key=lambda e: (e.dst is None, len(e.need)))
        self._edges[c] = idx
        return idx

    def _complete(self, side: Side, c: int, n: ENode | None, subst: dict[str, int], need: tuple
                  ) -> Iterator[Edge]:
        if not self._plausible(side, subst):
            return
        extra = self._literal_needs(side, subst)
        if extra is None:
            return
        matched = need
        need = need + extra
        built = side.built
        if built.op == E.SYM:
            if subst.get(built.name) == c:
                yield Edge(side, n, None, need, tuple(subst.items()), built.name)
            return
        if built.symbols() <= subst.keys():   # everything bound: look the built side up
            for dst in self.built_nodes(built, subst, c):
                self.tick()
                if dst != n or self._changes_below(side, matched, subst, dst, ()):
                    yield Edge(side, n, dst, need, tuple(subst.items()))
            return
        for bind, dneed in self.ematch(built, c, subst, (), ()):
            self.tick()
            dst = dneed[0][2]
            if (dst == n and not self._changes_below(side, matched, bind, dst, dneed[1:])) \
                    or not self._plausible(side, bind):
                continue
            yield Edge(side, n, dst, need, tuple(bind.items()))

    def _changes_below(self, side: Side, matched: tuple, bind: Mapping[str, int], dst: ENode,
                       built_need: tuple) -> bool:
        """Does a rule application that keeps the top e-node change anything below it?

        In `tr(A'*(B.*C)) = tr((A.*B)'*C)` on a scalar class both traces can be the one e-node
        `tr(c)` while the products inside are different members of `c`: such an edge is the
        only link between those members, so it must be kept.  It is dropped only when both
        sides put the same e-nodes and the same classes at the same positions (`A + B = B + A`
        with A and B in one class)."""
        def layout(pattern: E.Expr, nodes: Mapping[E.Path, ENode]) -> dict | None:
            out: dict[E.Path, object] = {}
            for path, q in pattern.walk():
                if not path:
                    continue
                if q.op == E.SYM:
                    out[path] = ("class", bind.get(q.name))
                elif path in nodes:
                    out[path] = nodes[path]
            return out

        before = layout(side.pattern, {path: node for path, _, node in matched})
        if built_need:
            after_nodes = {path: node for path, _, node in built_need}
        else:   # find the built side's e-nodes top-down from `dst`
            after_nodes = {}
            stack = [((), side.built, dst)]
            while stack:
                path, p, node = stack.pop()
                for i, (q, ch) in enumerate(zip(p.args, node.children)):
                    if q.op == E.SYM:
                        continue
                    found = self._built_node_at(q, dict(bind), ch)
                    if found is None:
                        return True   # not known: keep the edge, `take` will decide
                    after_nodes[path + (i,)] = found
                    stack.append((path + (i,), q, found))
        return before != layout(side.built, after_nodes)

    def built_nodes(self, p: E.Expr, subst: Mapping[str, int], c: int) -> list[ENode]:
        """Members of class `c` that are the pattern `p` (not a bare variable) under `subst`,
        found bottom-up through the hashcons."""
        if p.op == EVAL:
            p = self._eval(p, subst)
            if p is None:
                return []
        if not p.args:
            return [n for n in self.members(c) if n.op == p.op and n.value == p.value]
        kid_sets = [self._built_classes(a, subst) for a in p.args]
        out = []
        for combo in _product(kid_sets):
            node = ENode(p.op, combo)
            if self.snap.class_of_node.get(node) == c and self.usable(node, c):
                out.append(node)
        return out

    def _built_classes(self, p: E.Expr, subst: Mapping[str, int]) -> set[int]:
        if p.op == E.SYM:
            return {subst[p.name]}
        if p.op == EVAL:
            p = self._eval(p, subst)
            if p is None:
                return set()
        if not p.args:
            return set(self._leaf_classes(p))
        kid_sets = [self._built_classes(a, subst) for a in p.args]
        out = set()
        for combo in _product(kid_sets):
            node = ENode(p.op, combo)
            k = self.snap.class_of_node.get(node)
            if k is not None and self.usable(node, k):
                out.add(k)
        return out

    def _leaf_classes(self, p: E.Expr) -> list[int]:
        """Classes holding the constant leaf `p` (I, 0, ones come in every size)."""
        if self._leaves is None:
            self._leaves = {}
            for k, ns in self.snap.classes.items():
                for n in ns:
                    if not n.children and self.snap.usable(n, k):
                        self._leaves.setdefault((n.op, n.name, n.value), []).append(k)
        return self._leaves.get((p.op, p.name, p.value), [])

    # --- driving concrete terms -----------------------------------------------------------------
    def reach(self, t: E.Expr, c: int, goal: ENode) -> tuple[list[Move], E.Expr] | None:
        """Rewrite `t` (a member of class `c`) into a term whose top e-node is `goal`."""
        if self.represents(t, goal):
            return [], t
        if t.size() > self.size_cap:   # a detour through ever bigger terms: not worth following
            self._cuts += 1
            return None
        key = (t, c, goal)
        if key in self._memo:
            return self._memo[key]
        # A term already being rewritten in this class (for whatever goal) is a circular
        # sub-goal: the outer search can reach that goal itself, so cut this branch.
        # The same goal in the same class, from a term no smaller than the one already being
        # driven there, is circular too (terms can grow without end: 1 -> 1*1 -> 1*(1*1) ...).
        # Sizes strictly fall along nested sub-goals of one (class, goal): the recursion ends.
        size = t.size()
        sizes = self._goal_sizes.setdefault((c, goal), [])
        if (t, c) in self._progress or self._depth >= self.limits.depth \
                or (sizes and size >= sizes[-1]):
            self._cuts += 1
            return None
        self._progress.add((t, c))
        sizes.append(size)
        self._depth += 1
        cuts = self._cuts
        try:
            result = self._reach(t, c, goal)
        finally:
            self._progress.discard((t, c))
            sizes.pop()
            self._depth -= 1
        if result is not None or self._cuts == cuts or self.memo_cut_failures:
            self._memo[key] = result
        return result

    def _reach(self, t: E.Expr, c: int, goal: ENode) -> tuple[list[Move], E.Expr] | None:
        dead: set[tuple[int, tuple]] = set()   # (edge, planner state) pairs that failed
        for _ in range(self.limits.replans):
            # Every attempt starts from `t` itself: replanning from a half-executed plan let
            # terms grow without end.  Each failure kills one more (edge, state) pair.
            plan = self.plan(t, c, goal, dead)
            if plan is None:
                return None
            moves: list[Move] = []
            cur = t
            for edge, want, state in plan:
                r = self.take(cur, c, edge, want)
                if r is None:
                    dead.add((id(edge), state))
                    break
                moves += r[0]
                cur = r[1]
            else:
                return moves, cur
        return self._reach_concrete(t, c, goal)

    def _reach_concrete(self, t: E.Expr, c: int, goal: ENode) -> tuple[list[Move], E.Expr] | None:
        """Breadth-first over the concrete terms of class `c` that edges lead to (each edge
        taken for real), when plans made on partial knowledge keep failing."""
        idx = self.edges(c)
        anywhere = idx.get(None, [])
        queue = deque([(t, [])])
        seen = {t}
        while queue and len(seen) < self.limits.concrete_states:
            cur, moves = queue.popleft()
            node = self.node_of(cur, c)
            for edge in idx.get(node, []) + anywhere:
                r = self.take(cur, c, edge, edge.dst)
                if r is None or r[1] in seen:
                    continue
                new = r[1]
                seen.add(new)
                if self.represents(new, goal):
                    return moves + r[0], new
                queue.append((new, moves + r[0]))
        return None

    # --- planning on partial knowledge of the term ------------------------------------------
    def part_of(self, t: E.Expr, c: int) -> "Part":
        n = self.node_of(t, c)
        if n is None:
            return Part(c)
        return Part(c, n, tuple(self.part_of(a, ch) for a, ch in zip(t.args, n.children)), t)

    def apply_part(self, part: "Part", edge: Edge) -> "Part | None":
        """What is known of the term after taking `edge` (None: not known well enough to plan)."""
        for path, cls, node in edge.need:   # inner positions are driven to their e-nodes
            old = part.at(path)
            if old is None:
                return None
            if old.node != node:
                if old.term is not None and (old.term, cls) in self._progress:
                    return None   # driving it would be a circular sub-goal
                part = part.replace(path, Part(cls, node, tuple(Part(k) for k in node.children)))
        bound = {var: part.at(paths[0]) for var, paths in edge.side.occurrences}
        if any(b is None for b in bound.values()):
            return None
        if edge.dst is None:
            out = bound[edge.collapse]
            return out if out.node is not None else None
        return self._build_part(edge.side.built, edge.dst, bound, dict(edge.bind))

    def _build_part(self, p: E.Expr, node: ENode, bound: dict, bind: dict) -> "Part":
        kids = []
        for q, ch in zip(p.args, node.children):
            if q.op == E.SYM:   # bound by the match, or (only on the built side) some member
                kids.append(bound.get(q.name) or Part(ch))
                continue
            found = self._built_node_at(q, bind, ch)
            kids.append(self._build_part(q, found, bound, bind) if found else Part(ch))
        return Part(self.snap.class_of_node.get(node, -1), node, tuple(kids))

    def _built_node_at(self, q: E.Expr, bind: dict, c: int) -> ENode | None:
        key = (q, tuple(sorted(bind.items())), c)
        if key not in self._built_at:
            found = self.built_nodes(q, bind, c)
            self._built_at[key] = found[0] if found else None
        return self._built_at[key]

    def plan(self, t: E.Expr, c: int, goal: ENode, dead: set[tuple[int, tuple]]
             ) -> list[tuple[Edge, ENode, tuple]] | None:
        """Shortest chain of live edges from the term `t` to a term with top e-node `goal`.

        The search runs over what is known of the term: its e-node, and the e-nodes below it
        where known (from `t` itself, or from the built sides of the edges taken), which says
        where an edge whose built side is a bare variable leads."""
        first = self.part_of(t, c)
        if first.node is None:
            return None
        idx = self.edges(c)
        anywhere = idx.get(None, [])
        prev: dict[tuple, tuple[tuple, Edge, ENode] | None] = {first.signature(): None}
        queue = deque([first])
        while queue:
            part = queue.popleft()
            here = part.signature()
            self.tick()
            for e in idx.get(part.node, []) + anywhere:
                if (id(e), here) in dead:
                    continue
                nxt = self.apply_part(part, e)
                if nxt is None or nxt.node is None:
                    continue
                sig = nxt.signature()
                if sig in prev:
                    continue
                prev[sig] = (here, e, nxt.node)
                if nxt.node == goal:
                    chain = []
                    while prev[sig] is not None:
                        back, edge, m = prev[sig]
                        chain.append((edge, m, back))
                        sig = back
                    return chain[::-1]
                queue.append(nxt)
        return None

    def take(self, t: E.Expr, c: int, edge: Edge, want: ENode) -> tuple[list[Move], E.Expr] | None:
        """Apply `edge` to the concrete term `t`, first driving its subterms into the shape the
        match needs; the result's top e-node is `want`."""
        self.tick()
        side = edge.side
        moves: list[Move] = []
        for path, cls, node in edge.need:   # top-down: a parent is in place before its children
            r = self.reach(t.at(path), cls, node)
            if r is None:
                return None
            moves += [_lift(m, path) for m in r[0]]
            t = t.replace(path, r[1])
        bind = dict(edge.bind)
        for var, paths in side.occurrences:
            for p in paths[1:]:   # a repeated variable: make every occurrence the same term
                r = self.reach_term(t.at(p), t.at(paths[0]), bind[var])
                if r is None:
                    return None
                moves += [_lift(m, p) for m in r[0]]
                t = t.replace(p, r[1])
        subst = match(side.pattern, t)
        if subst is None:
            return None
        for var in side.built.symbols() - subst.keys():   # only on the built side: pick a member
            term = self.term_of_class(bind[var]) if var in bind else None
            if term is None:
                return None
            subst[var] = term
        for cond in side.rule.conditions:
            shape = _shape(self.snap, bind[cond.var]) if cond.var in bind else None
            if shape is None or not holds(cond.pred, subst[cond.var], shape, self.decls, self.wrt):
                return None
        try:
            new = instantiate(side.built, subst)
        except (ZeroDivisionError, ValueError, KeyError):
            return None
        if new.size() > self.size_cap:
            return None
        if not (self.represents(new, want) if want is not None else self.node_of(new, c)):
            return None
        moves.append(Move(side.rule.name, side.direction, (), tuple(sorted(subst.items()))))
        return moves, new

    def reach_term(self, src: E.Expr, target: E.Expr, c: int) -> tuple[list[Move], E.Expr] | None:
        """Rewrite `src` into exactly `target` (both members of class `c`).

        On the spine of the top-level call (not inside a sub-goal) the e-graph search of each
        subterm has its own share of the budget; when it fails or runs out, a bounded
        term-space search between the two concrete subterms is tried."""
        if src == target:
            return [], src
        goal = self.node_of(target, c)
        if goal is None:
            return None
        spine = self._depth == 0
        r = None
        if spine:
            outer = self._local_limit
            self._local_limit = min(outer, self.work + self.limits.subterm_work)
            try:
                r = self.reach(src, c, goal)
            except _SubBudget:
                r = None
            finally:
                self._local_limit = outer
        else:
            r = self.reach(src, c, goal)
        if r is None:
            return self._term_fallback(src, target) if spine else None
        moves, cur = list(r[0]), r[1]
        for i, (a, b) in enumerate(zip(cur.args, target.args)):
            sub = self.reach_term(a, b, goal.children[i])
            if sub is None:
                return self._term_fallback(src, target) if spine else None
            moves += [m.under(i) for m in sub[0]]
            cur = cur.replace((i,), sub[1])
        return moves, cur

    def _term_fallback(self, src: E.Expr, target: E.Expr) -> tuple[list[Move], E.Expr] | None:
        if not self.allow_fallback:
            return None
        key = (src, target)
        if key not in self._fallback_memo:
            self._fallback_memo[key] = self._term_search(src, target)
        return self._fallback_memo[key]

    def _term_search(self, src: E.Expr, target: E.Expr) -> tuple[list[Move], E.Expr] | None:
        lim = self.limits
        if max(src.size(), target.size()) > lim.fallback_size:
            return None
        seconds = min(lim.fallback_seconds, self._deadline - time.perf_counter())
        if seconds <= 0:
            return None
        try:
            moves = term_search(src, target, self.decls, self.wrt, self.rules, None,
                                lim.fallback_depth, lim.fallback_terms, seconds)
        except (ReconstructionFailed, ShapeError):
            return None
        self.fallbacks += 1
        return moves, target


class _SubBudget(Exception):
    """The e-graph search of one subterm used up its share of the work budget."""


def _product(sets: list) -> Iterator[tuple[int, ...]]:
    if not sets:
        yield ()
        return
    for head in sets[0]:
        for rest in _product(sets[1:]):
            yield (head,) + rest


def _lift(m: Move, path: E.Path) -> Move:
    return Move(m.rule, m.direction, path + m.path, m.subst)


# --- replaying and checking the steps ---------------------------------------------------------
class _Frame:
    """The whole term around the stage's term, for shapes in context (as the checker sees them)."""

    def __init__(self, decls: Mapping[str, Decl], whole: E.Expr | None, prefix: E.Path):
        self.decls, self.whole, self.prefix = decls, whole, prefix
        self._cache: dict[E.Expr, dict] = {}

    def shapes(self, t: E.Expr) -> tuple[dict, E.Path]:
        outer = t if self.whole is None else self.whole.replace(self.prefix, t)
        prefix = () if self.whole is None else self.prefix
        if outer not in self._cache:
            self._cache[outer] = infer(outer, self.decls).shapes
        return self._cache[outer], prefix


def replay(source: E.Expr, moves: list[Move], decls: Mapping[str, Decl], wrt: str | None,
           rules: Mapping[str, Rule] | None = None, frame: tuple[E.Expr, E.Path] | None = None
           ) -> list[RawStep]:
    """Apply the moves to `source`, checking each: the matched side instantiated is the subterm,
    the conditions hold (shapes in the whole term of `frame`, if given).  The whole-term steps."""
    rules = rules or library()
    fr = _Frame(decls, *(frame or (None, ())))
    steps: list[RawStep] = []
    whole = source
    for k, m in enumerate(moves):
        rule = rules[m.rule]
        pattern, built = rule.sides(m.direction)
        subst = dict(m.subst)
        try:
            sub = whole.at(m.path)
            if instantiate(pattern, subst) != sub:
                raise ReconstructionFailed(f"step {k + 1} ({m.rule}): the rule does not match")
            after = whole.replace(m.path, instantiate(built, subst))
            for cond in rule.conditions:
                side, term = (pattern, whole) if cond.var in pattern.symbols() else (built, after)
                shapes, prefix = fr.shapes(term)
                occ = next(p for p, n in side.walk() if n.op == E.SYM and n.name == cond.var)
                shape = shapes[prefix + m.path + occ]
                if not holds(cond.pred, subst[cond.var], shape, decls, wrt):
                    raise ReconstructionFailed(f"step {k + 1} ({m.rule}): condition {cond} fails")
        except (IndexError, KeyError, ShapeError, ZeroDivisionError, ValueError) as err:
            raise ReconstructionFailed(f"step {k + 1} ({m.rule}) does not replay: {err}") from None
        steps.append(RawStep(m.rule, m.direction, m.path, subst, whole, after))
        whole = after
    return steps


# --- the term-space fallback ------------------------------------------------------------------
def neighbours(t: E.Expr, by_op, bare, decls, wrt, frame: _Frame) -> Iterator[tuple[Move, E.Expr]]:
    """Every single rule application to `t` whose conditions hold (well-typed results only)."""
    try:
        shapes, prefix = frame.shapes(t)
    except ShapeError:
        return
    for path, sub in t.walk():
        for side in list(by_op.get(sub.op, ())) + bare:
            subst = match(side.pattern, sub)
            if subst is None or not side.built.symbols() <= subst.keys():
                continue
            ok = True
            for cond in side.rule.conditions:
                occ = dict(side.occurrences).get(cond.var)
                if occ is None or not holds(cond.pred, subst[cond.var],
                                            shapes[prefix + path + occ[0]], decls, wrt):
                    ok = False
                    break
            if not ok:
                continue
            try:
                new = t.replace(path, instantiate(side.built, subst))
                frame.shapes(new)   # must stay well typed
            except (ShapeError, ZeroDivisionError, ValueError, KeyError):
                continue
            yield Move(side.rule.name, side.direction, path, tuple(sorted(subst.items()))), new


def _inverse(m: Move, rules: Mapping[str, Rule]) -> Move | None:
    """The same equation read the other way (None if that side cannot be matched)."""
    rule = rules[m.rule]
    back = "backward" if m.direction == "forward" else "forward"
    if _has_eval(rule.sides(back)[0]):
        return None
    return Move(m.rule, back, m.path, m.subst)


def term_search(source: E.Expr, target: E.Expr, decls: Mapping[str, Decl], wrt: str | None,
                rules: Mapping[str, Rule] | None = None, frame: tuple[E.Expr, E.Path] | None = None,
                depth: int = 4, max_terms: int = 6_000, seconds: float = 5.0) -> list[Move]:
    """Bidirectional breadth-first search over concrete terms (at most `depth` steps)."""
    rules = rules or library()
    by_op, bare = rule_sides(rules)
    fr = _Frame(decls, *(frame or (None, ())))
    deadline = time.perf_counter() + seconds
    # each side: term -> (previous term, move) leading to it
    seen = [{source: None}, {target: None}]
    layers = [[source], [target]]
    if source == target:
        return []
    for level in range(depth):
        side = 0 if len(layers[0]) <= len(layers[1]) else 1
        nxt = []
        for t in layers[side]:
            for move, new in neighbours(t, by_op, bare, decls, wrt, fr):
                if side == 1 and _inverse(move, rules) is None:
                    continue
                if new in seen[side]:
                    continue
                seen[side][new] = (t, move)
                if new in seen[1 - side]:
                    return _join(new, seen, side, rules)
                nxt.append(new)
                if sum(map(len, seen)) > max_terms or time.perf_counter() > deadline:
                    raise ReconstructionFailed("term-space search budget exhausted")
        layers[side] = nxt
        if not nxt:
            break
    raise ReconstructionFailed(f"no chain of at most {depth} rule steps found by term-space search")


def _join(meet: E.Expr, seen, side: int, rules) -> list[Move]:
    fwd, bwd = (seen[0], seen[1])
    head: list[Move] = []
    t = meet
    while fwd[t] is not None:
        prev, m = fwd[t]
        head.append(m)
        t = prev
    head.reverse()
    tail: list[Move] = []
    t = meet
    while bwd[t] is not None:
        prev, m = bwd[t]   # prev --m--> t was found from the target side; we need t --inv--> prev
        tail.append(_inverse(m, rules))
        t = prev
    return head + tail


# --- entry point ------------------------------------------------------------------------------
@dataclass
class Reconstruction:
    steps: list[RawStep]
    seconds: float
    work: int
    method: str          # "e-graph" or "term-space"
    notes: list[str] = field(default_factory=list)


def reconstruct(snap: Snapshot, source: E.Expr, target: E.Expr, decls: Mapping[str, Decl],
                wrt: str | None, *, rules: Mapping[str, Rule] | None = None,
                frame: tuple[E.Expr, E.Path] | None = None, limits: Limits = Limits()
                ) -> Reconstruction:
    """Steps turning `source` into `target`, two members of one class of `snap`.

    `frame` = (whole term, path of `source` in it) makes conditions see the shapes the checker
    will see.  Raises ReconstructionFailed; never returns a partial or unchecked proof.
    """
    t0 = time.perf_counter()
    rules = dict(rules or library())
    if source == target:
        return Reconstruction([], 0.0, 0, "e-graph")
    rec = Reconstructor(snap, decls, wrt, rules, limits)
    notes: list[str] = []
    moves = None
    common = rec.classes_of(source) & rec.classes_of(target)
    if not common:
        notes.append("source and target are not members of one class of the snapshot")
    ends = max(source.size(), target.size())
    # Iterative widening: first allow the terms to grow only a little beyond the larger end
    # (most proofs do not need more, and detours through big terms are what makes the search
    # slow), then more.  Memos hold only within one width.
    try:
        for slack in limits.growth if common else ():
            rec.restart(ends + slack)
            rec.allow_fallback = slack == limits.growth[-1]   # only once the e-graph had its go
            for c in sorted(common):
                try:
                    r = rec.reach_term(source, target, c)
                except RecursionError:
                    notes.append("sub-goals nested too deeply")
                    r = None
                if r is not None and r[1] == target:
                    moves = r[0]
                    break
            if moves is not None:
                break
    except ReconstructionFailed as err:   # a budget: give up on the e-graph search
        notes.append(err.reason)
    if moves is None:
        raise ReconstructionFailed("; ".join(notes) or "no chain of rule edges found in the e-graph"
                                   " (nor by term-space search)")
    method = "e-graph" if not rec.fallbacks else f"e-graph + {rec.fallbacks} term-space"
    steps = replay(source, moves, decls, wrt, rules, frame)
    end = steps[-1].after if steps else source
    if end != target:
        raise ReconstructionFailed(f"the steps end at {end}, not at {target}")
    return Reconstruction(steps, time.perf_counter() - t0, rec.work, method, notes)
