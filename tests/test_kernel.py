"""The proof kernel: terms that carry their shapes, one rule application, the cursor, and reading
a claim back from its text."""
from __future__ import annotations

import random
import re

import pytest

from rewrite.proof.checker import check
from rewrite.proof.kernel import Cursor, StepError, apply, reading_differs, rewrite_at, typed
from rewrite.proof.model import EqualityClaim, make_proof
from rewrite.rules import library
from rewrite.shapes import infer, normalize_decls
from rewrite.syntax import parse

L = library()
DECLS = normalize_decls({"A": "n x m", "B": "m x n", "X": "n x n", "x": "n", "s": "scalar"})


def test_typed_terms_carry_the_shapes_inference_gives():
    e = parse("tr(A*B) + s*x'*X*x")
    t = typed(e, DECLS)
    shapes = infer(e, DECLS).shapes
    for path, shape in shapes.items():
        node = t.at(path)
        assert node.expr == e.at(path) and (node.rows, node.cols) == (shape.rows, shape.cols)
    assert t.size == e.size()


def test_a_step_types_only_what_it_builds_and_keeps_the_rest():
    t = typed(parse("tr(A*B) + tr(X)"), DECLS)
    new, built = rewrite_at(t, L["trace-cyclic"], "forward", (0,), DECLS, None)
    assert str(new.expr) == "tr(B*A) + tr(X)"
    assert built is new.kids[0] and (built.kids[0].rows, built.kids[0].cols) == ("m", "m")
    assert new.kids[1] is t.kids[1]            # the untouched part is shared, not rebuilt


@pytest.mark.parametrize("rule, direction, path, term, why", [
    ("trace-cyclic", "forward", (1,), "tr(A*B) + tr(X)", "does not match"),
    ("transpose-symmetric", "forward", (), "X'", "symmetric(S)"),
    ("num-add", "backward", (), "2", "eval"),
    ("inv-mul-self-l", "backward", (), "I", "does not fix A"),
    ("trace-cyclic", "forward", (0, 0, 0), "tr(A*B)", "no subterm"),
    ("mul-identity-l", "forward", (), "I*s", "nonscalar(A)"),
])
def test_a_step_that_is_not_valid_is_refused_with_the_reason(rule, direction, path, term, why):
    with pytest.raises(StepError, match=re.escape(why)):
        apply(typed(parse(term), DECLS), L[rule], direction, path, DECLS, None)


def test_a_rewrite_must_keep_the_shape():
    # s' = s is only for scalars: on a matrix it would change the shape (the condition says so,
    # and the built side is typed against the place it replaces besides)
    with pytest.raises(StepError):
        apply(typed(parse("A'"), DECLS), L["transpose-scalar"], "forward", (), DECLS, None)


def test_the_cursor_gives_the_same_terms_as_whole_term_steps():
    rng = random.Random(3)
    term = typed(parse("tr(A*B) + tr(A*B)' + tr(X*X) - s*x'*X*x"), DECLS)
    cursor = Cursor(term)
    whole = term
    rules = [(r, d) for r in ("trace-cyclic", "transpose-transpose", "mul-assoc", "trace-transpose")
             for d in ("forward", "backward")]
    done = 0
    for _ in range(600):
        paths = [p for p, _ in whole.expr.walk()]
        rule, d = rng.choice(rules)
        path = rng.choice(paths)
        try:
            whole = apply(whole, L[rule], d, path, DECLS, None)
        except StepError:
            continue
        cursor.apply(L[rule], d, path, DECLS, None)
        done += 1
        assert cursor.root().expr == whole.expr and cursor.size == whole.size
    assert done > 50


def test_a_cursor_left_by_a_bad_path_still_works():
    cursor = Cursor(typed(parse("tr(A*B)"), DECLS))
    with pytest.raises(StepError, match="no subterm"):
        cursor.move((0, 0, 0))
    assert str(cursor.root().expr) == "tr(A*B)"


def test_a_constant_whose_size_came_from_a_removed_context_is_noticed():
    # tr(I + 0*X) -> tr(I + 0) -> tr(I): I is n x n in the steps, but "tr(I)" alone says no size
    t = typed(parse("tr(I + 0*X)"), DECLS)
    t = apply(t, L["mul-zero-l"], "forward", (0, 1), DECLS, None)
    t = apply(t, L["add-zero-r"], "forward", (0,), DECLS, None)
    assert str(t.expr) == "tr(I)"
    assert "I is n x n here" in reading_differs(t, DECLS)
    assert reading_differs(typed(parse("tr(I + X)"), DECLS), DECLS) is None


def test_the_checker_refuses_a_claim_whose_text_says_something_else():
    steps = [type("S", (), {"rule": r, "direction": "forward", "path": p})
             for r, p in (("mul-zero-l", (0, 1)), ("add-zero-r", (0,)))]
    proof = make_proof(EqualityClaim(kind="equality", lhs="tr(I + 0*X)", rhs="tr(I)"), DECLS, steps)
    report = check(proof)
    assert not report.ok
    assert "does not mean what the steps reached" in report.errors[0]


def test_an_inner_product_with_an_unsized_constant_reads_as_a_scaling():
    # ones*x*D: no matrix product fits (ones*x is 1 x 1, D is n x n), so ones is a row and the
    # inner product scales D
    decls = normalize_decls({"x": "n", "D": "n x n"})
    t = infer(parse("ones*x*D"), decls)
    assert t.shape() == t.shapes[(1,)] and (t.shapes[(0, 0)].rows, t.shapes[(0, 0)].cols) == (1, "n")
