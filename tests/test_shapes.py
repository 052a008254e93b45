"""Shapes: declarations, defaults for undeclared names, unification, scaling, I from context, errors."""
from __future__ import annotations

import pytest

from rewrite.errors import ShapeError
from rewrite.shapes import Decl, Shape, infer, normalize_decls, parse_declaration
from rewrite.syntax import parse, parse_with_spans


def shapes_of(text: str, decls: dict | None = None):
    return infer(parse(text), normalize_decls(decls))


# --- declarations ------------------------------------------------------------------------------
@pytest.mark.parametrize("text,name,shape,props", [
    ("X: n x m", "X", Shape("n", "m"), set()),
    ("S: n x n, symmetric", "S", Shape("n", "n"), {"symmetric", "square"}),
    ("S: n x n, spd", "S", Shape("n", "n"), {"spd", "symmetric", "invertible", "square"}),
    ("D: 3 x 3, diagonal", "D", Shape(3, 3), {"diagonal", "symmetric", "square"}),
    ("lam: scalar", "lam", Shape(1, 1), set()),
    ("x: n", "x", Shape("n", 1), set()),
    ("W1: h × d", "W1", Shape("h", "d"), set()),
    ("P: n x m, positive", "P", Shape("n", "m"), {"positive"}),
    ("  Y :  2 x 5 ", "Y", Shape(2, 5), set()),
])
def test_parse_declaration(text, name, shape, props):
    got_name, decl = parse_declaration(text)
    assert got_name == name
    assert decl.shape == shape
    assert props <= decl.props
    if not props:
        assert decl.props == frozenset()


def test_declaration_prints_without_implied_props():
    assert str(parse_declaration("S: n x n, spd")[1]) == "n x n, spd"
    assert str(parse_declaration("lam: scalar")[1]) == "scalar"
    assert str(parse_declaration("x: n")[1]) == "n x 1"


def test_normalize_accepts_strings_decls_shapes_and_tuples():
    decls = normalize_decls({"X": "n x m", "S": Decl(Shape("n", "n"), frozenset({"symmetric"})),
                             "a": Shape("n", 1), "B": ("m", 3)})
    assert decls["X"].shape == Shape("n", "m")
    assert decls["S"].props == {"symmetric"}
    assert decls["a"].shape == Shape("n", 1)
    assert decls["B"].shape == Shape("m", 3)


@pytest.mark.parametrize("text,fragment", [
    ("X n x m", "NAME: ROWS x COLS"),
    ("X: n by m", "bad shape"),
    ("X: 0 x 2", "bad dimension '0'"),
    ("X: n x m, unitary", "unknown property 'unitary'"),
    ("X: n x m, symmetric", "not square"),
    ("tr: n x n", "'tr' cannot be a variable name"),
    ("dX: n x n", "'dX' cannot be a variable name"),
])
def test_bad_declarations(text, fragment):
    with pytest.raises(ShapeError) as err:
        parse_declaration(text)
    assert fragment in str(err.value)


# --- inference ---------------------------------------------------------------------------------
def test_defaults_upper_case_matrix_lower_case_vector():
    t = shapes_of("a'*X*b")
    a, X, b = t.vars["a"].shape, t.vars["X"].shape, t.vars["b"].shape
    assert a.cols == 1 and b.cols == 1
    assert X.rows == a.rows and X.cols == b.rows       # unified through the products
    assert X.rows != X.cols                              # nothing forces X to be square
    assert t.shape() == Shape(1, 1)


def test_unification_through_a_trace():
    t = shapes_of("tr(A*X*B)", {"X": "n x m"})
    A, B = t.vars["A"].shape, t.vars["B"].shape
    assert A.cols == "n" and B.rows == "m"
    assert A.rows == B.cols                              # the trace makes A*X*B square
    assert t.shape() == Shape(1, 1)


def test_fresh_dimensions_avoid_declared_names():
    t = shapes_of("tr(A*X)", {"X": "k1 x k2"})
    assert t.vars["A"].shape == Shape("k2", "k1")


def test_subterm_shapes_by_path():
    t = shapes_of("tr(A*X*B)", {"X": "n x m", "A": "p x n", "B": "m x p"})
    assert t.shape((0,)) == Shape("p", "p")
    assert t.shape((0, 0)) == Shape("p", "m")            # A*X
    assert t.shape((0, 0, 1)) == Shape("n", "m")         # X


@pytest.mark.parametrize("text", ["lam*X", "X*lam", "(a'*b)*X", "X*(a'*b)", "sum(X)*X", "X/lam", "X/(a'*b)"])
def test_scaling_by_one_by_one(text):
    t = shapes_of(text, {"X": "n x m", "lam": "scalar"})
    assert t.shape() == Shape("n", "m")


def test_one_by_one_times_one_by_one():
    assert shapes_of("lam*mu", {"lam": "scalar", "mu": "scalar"}).shape() == Shape(1, 1)


@pytest.mark.parametrize("text,decls,path,shape", [
    ("X + I", {"X": "n x n"}, (1,), Shape("n", "n")),
    ("A*I", {"A": "p x q"}, (1,), Shape("q", "q")),
    ("I*A", {"A": "p x q"}, (0,), Shape("p", "p")),
    ("tr(I - x*x')", {"x": "n"}, (0, 0), Shape("n", "n")),
    ("X + 0", {"X": "n x m"}, (1,), Shape("n", "m")),
])
def test_identity_and_zero_sized_from_context(text, decls, path, shape):
    assert shapes_of(text, decls).shape(path) == shape


def test_each_identity_is_sized_on_its_own():
    t = shapes_of("tr(A*I*B) + tr(I)", {"A": "p x q", "B": "q x p"})
    assert t.shape((0, 0, 0, 1)) == Shape("q", "q")


def test_functions():
    t = shapes_of("sum(exp(X)) + norm2(x) + x'*diag(y)*x + softmax(z)'*z", {"X": "n x m"})
    assert t.shape() == Shape(1, 1)
    assert t.vars["y"].shape == t.vars["x"].shape


# --- errors name both dimensions and the subterm ----------------------------------------------
@pytest.mark.parametrize("text,decls,dims,subterm", [
    ("A*B", {"A": "n x m", "B": "p x q"}, ("m", "p"), "A*B"),
    ("tr(X)", {"X": "n x m"}, ("n", "m"), "tr(X)"),
    ("X + Y", {"X": "n x m", "Y": "n x k"}, ("m", "k"), "X + Y"),
    ("X.*Y", {"X": "2 x 3", "Y": "3 x 3"}, ("2", "3"), "X.*Y"),
    ("X + I", {"X": "n x m"}, ("n", "m"), "X + I"),
    ("norm2(X)", {"X": "n x m"}, ("m", "1"), "norm2(X)"),
    ("inv(X)*a", {"X": "n x n", "a": "m"}, ("n", "m"), "inv(X)*a"),
    ("X/x", {"X": "n x n", "x": "m"}, ("m", "1"), "X/x"),
])
def test_shape_error_names_dimensions_and_subterm(text, decls, dims, subterm):
    with pytest.raises(ShapeError) as err:
        shapes_of(text, decls)
    message = str(err.value)
    for d in dims:
        assert f" {d} " in f" {message} " or f" {d}" in message, message
    assert f"in {subterm}" in message


def test_shape_error_points_at_the_subterm_column():
    text = "x'*x + tr(A*X)"
    parsed = parse_with_spans(text)
    with pytest.raises(ShapeError) as err:
        infer(parsed.expr, normalize_decls({"A": "n x m", "X": "p x n"}), parsed)
    assert err.value.position == text.index("A*X")
    assert str(err.value).endswith(f"at column {text.index('A*X') + 1}")


def test_matrix_power_needs_a_square_base_and_integer_exponent():
    with pytest.raises(ShapeError, match="non-square"):
        shapes_of("X^2", {"X": "n x m"})
    with pytest.raises(ShapeError, match="integer exponent"):
        shapes_of("X^(1/2)", {"X": "n x n"})
    assert shapes_of("lam^(1/2)", {"lam": "scalar"}).shape() == Shape(1, 1)
