"""Stage programs are cached and every run is undone with push/pop: runs must not see each other."""
from __future__ import annotations

from rewrite.egg.session import Budget, Session, _program
from rewrite.identity_stages import group_uses
from rewrite.shapes import infer
from rewrite.syntax import parse


DIFFERENTIATE = group_uses("differentiate") + group_uses("zero")   # rules that read the variable


def _run(text: str, wrt: str = "X"):
    term = parse(text)
    typing = infer(term, {})
    with Session(DIFFERENTIATE, wrt, typing.vars) as session:
        root = session.add(term, typing)
        stats = session.run(Budget())
        snap = session.snapshot()
    return snap, root, stats


def test_a_run_leaves_no_trace_in_the_next():
    first, _, _ = _run("d(tr(A*X*B))")
    _run("d(det(X)*tr(X*X*C))")
    again, _, _ = _run("d(tr(A*X*B))")
    assert again.size == first.size
    assert set(again.class_of_node) == set(first.class_of_node)


def test_program_is_reused_for_the_same_stage_whatever_the_variable():
    a = _program(tuple(DIFFERENTIATE), True, frozenset())
    b = _program(tuple(DIFFERENTIATE), True, frozenset())
    c = _program(tuple(DIFFERENTIATE), False, frozenset())
    assert a is b and a is not c


def test_the_variable_of_one_run_is_not_the_next_ones():
    """Derivations keep nothing between calls: by X, A is constant, and then by A, X is."""
    from rewrite.pipeline import derive

    assert str(derive("tr(A*X)", "X").gradient) == "A'"
    assert str(derive("tr(A*X)", "A").gradient) == "X'"
    assert str(derive("tr(A*X)", "X").gradient) == "A'"
