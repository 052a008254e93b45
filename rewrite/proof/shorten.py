"""Shortening proofs: cut the detours reconstruction leaves, keep every step valid.

Steps are on whole terms, so a detour is visible exactly:
- a *loop*: a term recurs later in the sequence; everything between is dropped;
- a *local loop*: the subterm at some path returns to what it was (e.g. `A -> A'' -> A`, a rule
  followed by its inverse at the same place), while the steps in between touched only that
  subterm or places disjoint from it; the steps inside are dropped and the others kept, with the
  old subterm put back into their terms (steps at disjoint places commute);
- a *shortcut*: one rule application does what a window of several steps did.
The result is replayed (every match and side condition re-checked); if it does not replay, the
input is returned unchanged, so shortening can never turn a valid proof into an invalid one.
"""
from __future__ import annotations

from typing import Mapping

from .. import expr as E
from ..rules import Rule, instantiate, library, match
from ..shapes import Decl
from .reconstruct import Move, RawStep, ReconstructionFailed, replay, rule_sides

LOOKAHEAD = 400     # how far a local loop may stretch (steps)
WINDOW = 8          # how many steps one shortcut may replace


def terms(steps: list[RawStep]) -> list[E.Expr]:
    return [steps[0].before] + [s.after for s in steps] if steps else []


def cut_loops(steps: list[RawStep]) -> list[RawStep]:
    """Jump from each term to its last occurrence: no term occurs twice in the result."""
    ts = terms(steps)
    last = {t: k for k, t in enumerate(ts)}
    out: list[RawStep] = []
    k = last[ts[0]] if ts else 0
    while k < len(steps):
        out.append(steps[k])
        k = last[ts[k + 1]]
    return out


def _inside(path: E.Path, place: E.Path) -> bool:
    return path[:len(place)] == place


def _disjoint(a: E.Path, b: E.Path) -> bool:
    return not _inside(a, b) and not _inside(b, a)


def _local_loop(steps: list[RawStep], k: int) -> tuple[E.Path, int] | None:
    """The place (a prefix of step k's path) and the farthest step m such that the subterm
    there after step m is the one before step k, every step in k..m being inside or disjoint."""
    best = None
    path = steps[k].path
    for depth in range(len(path), -1, -1):
        place = path[:depth]
        orig = steps[k].before.at(place)
        for m in range(k, min(len(steps), k + LOOKAHEAD)):
            s = steps[m]
            if _inside(s.path, place):
                if s.after.at(place) == orig and (best is None or m - k > best[1] - k):
                    best = (place, m)
            elif not _disjoint(s.path, place):
                break   # a step around the place: the subterm is no longer tracked
    return best


def cut_local_loops(steps: list[RawStep]) -> list[RawStep]:
    steps = list(steps)
    k = 0
    while k < len(steps):
        found = _local_loop(steps, k)
        if found is None:
            k += 1
            continue
        place, m = found
        orig = steps[k].before.at(place)
        kept = [RawStep(s.rule, s.direction, s.path, s.subst, s.before.replace(place, orig),
                        s.after.replace(place, orig))
                for s in steps[k:m + 1] if not _inside(s.path, place)]
        steps[k:m + 1] = kept
    return steps


def _difference(a: E.Expr, b: E.Expr) -> E.Path | None:
    """The deepest path below which every difference between `a` and `b` lies (None: equal)."""
    if a == b:
        return None
    path: E.Path = ()
    while a.op == b.op and len(a.args) == len(b.args) and a.args and a.name == b.name \
            and a.value == b.value:
        diff = [i for i, (x, y) in enumerate(zip(a.args, b.args)) if x != y]
        if len(diff) != 1:
            break
        path += (diff[0],)
        a, b = a.args[diff[0]], b.args[diff[0]]
    return path


class _OneStep:
    """Single rule applications from one whole term to another, if there is one."""

    def __init__(self, rules: Mapping[str, Rule], decls: Mapping[str, Decl], wrt: str | None):
        self.rules, self.decls, self.wrt = rules, decls, wrt
        self.by_op, self.bare = rule_sides(rules)

    def find(self, a: E.Expr, b: E.Expr) -> RawStep | None:
        place = _difference(a, b)
        if place is None:
            return None
        for depth in range(len(place), -1, -1):
            q = place[:depth]
            src, dst = a.at(q), b.at(q)
            for side in list(self.by_op.get(src.op, ())) + self.bare:
                subst = match(side.pattern, src)
                if subst is None:
                    continue
                subst = match(side.built, dst, subst)
                if subst is None:
                    continue
                try:
                    if instantiate(side.built, subst) != dst:
                        continue
                    move = Move(side.rule.name, side.direction, q, tuple(sorted(subst.items())))
                    return replay(a, [move], self.decls, self.wrt, self.rules)[0]
                except (ReconstructionFailed, KeyError, ValueError, ZeroDivisionError):
                    continue
        return None


def shortcut(steps: list[RawStep], one: _OneStep, window: int = WINDOW) -> list[RawStep]:
    """Replace the longest run of at most `window` steps that one rule application does."""
    out: list[RawStep] = []
    k = 0
    while k < len(steps):
        for m in range(min(len(steps) - 1, k + window - 1), k, -1):
            step = one.find(steps[k].before, steps[m].after)
            if step is not None:
                out.append(step)
                k = m + 1
                break
        else:
            out.append(steps[k])
            k += 1
    return out


def valid(steps: list[RawStep], source: E.Expr, target: E.Expr, decls, wrt, rules) -> bool:
    if not steps:
        return source == target
    if steps[0].before != source or steps[-1].after != target:
        return False
    moves = [Move(s.rule, s.direction, s.path, tuple(sorted(s.subst.items()))) for s in steps]
    try:
        replayed = replay(source, moves, decls, wrt, rules)
    except ReconstructionFailed:
        return False
    return [s.after for s in replayed] == [s.after for s in steps]


def shorten(steps: list[RawStep], decls: Mapping[str, Decl], wrt: str | None,
            rules: Mapping[str, Rule] | None = None, window: int = WINDOW) -> list[RawStep]:
    """A shorter valid sequence from the same first term to the same last term."""
    if not steps:
        return []
    rules = dict(rules or library())
    source, target = steps[0].before, steps[-1].after
    one = _OneStep(rules, decls, wrt)
    best = steps
    cur = steps
    while True:
        nxt = cut_local_loops(cut_loops(cur))
        if window > 1:
            nxt = cut_loops(shortcut(nxt, one, window))
        if len(nxt) >= len(cur):
            break
        cur = nxt
    if len(cur) < len(best) and valid(cur, source, target, decls, wrt, rules):
        best = cur
    return best
