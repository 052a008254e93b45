"""Stage programs are cached and every run is undone with push/pop: runs must not see each other."""
from __future__ import annotations

from rewrite import stages
from rewrite.egg.session import Budget, Session, _program
from rewrite.shapes import infer
from rewrite.syntax import parse


def _run(text: str, wrt: str = "X"):
    term = parse(text)
    typing = infer(term, {})
    with Session(stages.DIFFERENTIATE, wrt, typing.vars) as session:
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


def test_program_is_reused_for_the_same_stage_and_variable():
    a = _program(tuple(stages.DIFFERENTIATE), "X", frozenset())
    b = _program(tuple(stages.DIFFERENTIATE), "X", frozenset())
    c = _program(tuple(stages.DIFFERENTIATE), "Y", frozenset())
    assert a is b and a is not c


def test_a_session_left_open_is_undone_before_the_next():
    term = parse("d(tr(A*X))")
    typing = infer(term, {})
    leaked = Session(stages.DIFFERENTIATE, "X", typing.vars)
    leaked.add(term, typing)           # never closed
    snap, _, _ = _run("d(tr(B*X))")
    names = {n.name for n in snap.class_of_node if n.name}
    assert "A" not in names and "B" in names
    assert not leaked.open
