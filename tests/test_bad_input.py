"""Bad input on the command line: one line on stderr, exit code 2, within two seconds, no traceback.

Each case runs `python -m rewrite` in a fresh process, as a user would, and checks the exact
contract: the exit code, that stderr is exactly one line `rewrite: error: ...`, that the line names
the problem (a fragment of the expected message), and the wall-clock time.
"""
from __future__ import annotations

import subprocess
import sys
import time

import pytest

import rewrite
from rewrite import syntax

LIMIT_SECONDS = 2.0
DEEP = 10_000
# a sum of many copies of a well-formed scalar term: about 1 MB of text
MEGABYTE = "+".join(["tr(A*X*B)"] * (1_000_000 // 10))


def run_cli(*args: str, stdin: str | None = None) -> tuple[int, str, str, float]:
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "rewrite", *args], input=stdin, capture_output=True,
                       text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr, time.perf_counter() - t0


# (id, argv, text on stdin or None, fragment the message must contain)
CASES = [
    ("unclosed-bracket", ["derive", "tr(A*X*B", "--wrt", "X"], None, "expected ')'"),
    ("unknown-function", ["derive", "frob(X)", "--wrt", "X"], None, "unknown function 'frob'"),
    ("bad-character", ["derive", "tr(X) $ 2", "--wrt", "X"], None, "unexpected character '$'"),
    ("dangling-operator", ["derive", "tr(X) +", "--wrt", "X"], None, "end of input"),
    ("shape-clash", ["derive", "tr(A*X) + tr(X)", "--wrt", "X", "--var", "X: n x m", "--var", "A: n x n"],
     None, "dimension n does not match m"),
    ("product-clash", ["derive", "tr(A*X)", "--wrt", "X", "--var", "A: 2 x 3", "--var", "X: 4 x 2"],
     None, "non-conformable"),
    ("wrt-absent", ["derive", "tr(A*X*B)", "--wrt", "Y"], None, "'Y' does not occur in f"),
    # decided (rewrite.pipeline.prepare): a declared variable that f does not use is an error that
    # says the gradient is 0, rather than a silent zero matrix
    ("wrt-declared-unused", ["derive", "tr(A*B)", "--wrt", "X", "--var", "X: n x m"], None,
     "does not depend on X"),
    ("nonscalar-hessian", ["hessian", "A*x", "--wrt", "x"], None, "Hessian is of a scalar"),
    ("cotangent-shape", ["vjp", "A*X", "--wrt", "X", "--var", "G: 3 x 3", "--var", "A: 2 x 2"], None,
     "cotangent G is declared 3 x 3"),
    ("cotangent-in-F", ["vjp", "G*X", "--wrt", "X"], None, "occurs in F"),
    ("kron-one-argument", ["derive", "tr(kron(A))", "--wrt", "A"], None, "kron takes two arguments"),
    ("undeclared-size", ["derive", "tr(I(q)*X)", "--wrt", "X"], None, "the size q in I(q)"),
    ("two-wrt", ["derive", "tr(X*Y)", "--wrt", "X", "--wrt", "Y"], None, "one --wrt"),
    ("convention-of-matrix-F", ["derive", "X*X", "--wrt", "X", "--var", "X: n x n, symmetric",
                                "--convention", "symmetric"], None, "gradient of a scalar"),
    ("empty", ["derive", "", "--wrt", "X"], None, "empty expression"),
    ("blank", ["derive", "   ", "--wrt", "X"], None, "empty expression"),
    ("differential-in-f", ["derive", "tr(A*dX)", "--wrt", "X"], None, "differentials"),
    ("deep-brackets", ["derive", "(" * DEEP + "x'*x" + ")" * DEEP, "--wrt", "x"], None, "limit"),
    ("deep-functions", ["derive", "tr(" * DEEP + "X" + ")" * DEEP, "--wrt", "X"], None, "limit"),
    ("deep-transposes", ["derive", "x" + "'" * DEEP + "*x", "--wrt", "x"], None, "nested"),
    # a term starting with '-' goes after '--', or argparse takes it for an option
    ("deep-minus", ["derive", "--wrt", "x", "--", "-" * DEEP + "x'*x"], None, "nested"),
    ("deep-minus-short", ["derive", "--wrt", "x", "--", "-" * 3000 + "x'*x"], None, "nested"),
    ("deep-brackets-short", ["derive", "(" * 400 + "x'*x" + ")" * 400, "--wrt", "x"], None, "nested"),
    ("megabyte-stdin", ["derive", "-", "--wrt", "X"], MEGABYTE, "limit"),
    ("var-no-colon", ["derive", "tr(X)", "--wrt", "X", "--var", "X n x n"], None, "NAME: ROWS x COLS"),
    ("var-bad-shape", ["derive", "tr(X)", "--wrt", "X", "--var", "X: n by n"], None, "bad shape"),
    ("var-bad-dimension", ["derive", "tr(X)", "--wrt", "X", "--var", "X: 0 x 0"], None, "bad dimension"),
    ("var-unknown-prop", ["derive", "tr(X)", "--wrt", "X", "--var", "X: n x n, unitary"], None,
     "unknown property 'unitary'"),
    ("var-simplex-matrix", ["derive", "tr(X)", "--wrt", "X", "--var", "Y: n x m, simplex"], None,
     "not a column vector"),
    ("wrt-constrained", ["derive", "tr(Q*A)", "--wrt", "Q", "--var", "Q: n x n, orthogonal"], None,
     "constrained variable"),
    # other tools' spellings, refused with the way to write them here
    ("matlab-elementwise-power", ["derive", "sum(x.^2)", "--wrt", "x"], None, "write x.*x for x.^2"),
    ("matlab-transpose-T", ["derive", "tr(X^T*A)", "--wrt", "X"], None, "write X' for the transpose"),
    ("matlab-dot-transpose", ["derive", "tr(X.'*A)", "--wrt", "X"], None, "write X' for the transpose"),
    ("matlab-trace", ["derive", "trace(X)", "--wrt", "X"], None, "unknown function 'trace': write tr(...)"),
    ("matlab-norm", ["derive", "norm(x)", "--wrt", "x"], None, "write norm2(...)"),
    ("matlab-scalar-broadcast", ["derive", "sum(1./x)", "--wrt", "x", "--var", "x: n"], None,
     "a number does not broadcast: write ones./x"),
    ("python-power", ["derive", "x**2", "--wrt", "x"], None, "write ^ for a power"),
    # the tools around the engine
    ("codegen-unwritable", ["codegen", "tr(X)", "--wrt", "X", "--output", "/nonexistent/dir/g.py"], None,
     "cannot write"),
    ("codegen-backend", ["codegen", "tr(X)", "--wrt", "X", "--backend", "tensorflow"], None, "invalid choice"),
    ("batch-missing-file", ["batch", "/nonexistent/items.jsonl"], None, "cannot read"),
    ("batch-not-json", ["batch", "-"], "{not json}\n", "line 1: not JSON"),
    ("batch-jobs", ["batch", "/dev/null", "--jobs", "0"], None, "--jobs must be at least 1"),
    ("serve-port", ["serve", "--port", "99999"], None, "--port must be 1..65535"),
    ("var-prop-needs-square", ["derive", "tr(X'*X)", "--wrt", "X", "--var", "X: n x m, spd"], None,
     "not square"),
    ("var-reserved-name", ["derive", "tr(X)", "--wrt", "X", "--var", "tr: n x n"], None, "'tr' cannot be"),
    ("var-twice", ["derive", "tr(X)", "--wrt", "X", "--var", "X: n x n", "--var", "X: m x m"], None,
     "declared twice"),
    ("non-integer-matrix-power", ["derive", "tr(X^(1/2))", "--wrt", "X"], None, "integer exponent"),
    ("missing-wrt", ["derive", "tr(X)"], None, "--wrt"),
    ("no-command", [], None, "COMMAND"),
    ("unknown-command", ["integrate", "x"], None, "invalid choice"),
    ("unknown-format", ["derive", "tr(X)", "--wrt", "X", "--format", "pdf"], None, "invalid choice"),
    ("no-proof-with-proof-file", ["derive", "tr(X)", "--wrt", "X", "--no-proof", "--proof", "p.json"], None,
     "--no-proof"),
    ("verify-no-equation", ["verify", "tr(A*B)"], None, "lhs = rhs"),
    ("verify-two-equations", ["verify", "A = B = C"], None, "lhs = rhs"),
    ("check-missing-file", ["check", "/nonexistent/proof.json"], None, "cannot read"),
    ("rules-unknown-group", ["rules", "--group", "calculus"], None, "no rule group 'calculus'"),
    # numbers: not finite or too large, and division by a zero constant
    ("number-too-large", ["derive", "1e400*tr(X)", "--wrt", "X"], None, "the number 1e400 is out of range"),
    ("exponent-too-large", ["derive", "tr(X)^1e400", "--wrt", "X"], None, "out of range"),
    ("number-too-small", ["derive", "1e-400*tr(X)", "--wrt", "X"], None, "out of range"),
    ("number-5000-digits", ["derive", "9" * 5000 + "*tr(X)", "--wrt", "X"], None, "has 5000 characters"),
    ("divide-by-zero-constant", ["derive", "tr(X)/(2-2)", "--wrt", "X"], None, "division by zero: the divisor 2 - 2 is 0"),
    ("divide-by-zero", ["derive", "tr(X)/0", "--wrt", "X"], None, "division by zero at column 6"),
    ("elementwise-divide-by-zero", ["derive", "sum(X./0)", "--wrt", "X"], None, "division by zero"),
    ("divisor-tidies-to-zero", ["derive", "sum(X./(ones - ones))", "--wrt", "X"], None, "one of its divisors is 0"),
    ("verify-divide-by-zero", ["verify", "tr(X)/0 = tr(X)"], None, "division by zero"),
    ("verify-number-too-large", ["verify", "1e400*tr(X) = tr(X)"], None, "out of range"),
]


@pytest.mark.parametrize("argv,stdin,fragment", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2(argv, stdin, fragment):
    code, out, err, seconds = run_cli(*argv, stdin=stdin)
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("rewrite: error: "), lines[0]
    assert fragment in lines[0], lines[0]
    assert code == 2, (code, err)
    assert out == ""
    assert seconds < LIMIT_SECONDS, f"took {seconds:.2f} s"


def test_syntax_error_names_the_column():
    code, _, err, _ = run_cli("derive", "tr(A*X*B", "--wrt", "X")
    assert code == 2
    assert err.strip().endswith("at column 9")


def test_megabyte_input_is_refused_by_the_documented_limit():
    # the limit is a named constant of the parser, so README and message cannot drift apart
    assert len(MEGABYTE) > syntax.MAX_CHARS
    _, _, err, _ = run_cli("derive", "-", "--wrt", "X", stdin=MEGABYTE)
    assert f"{syntax.MAX_CHARS:,}" in err


def test_nesting_just_within_the_limit_still_parses():
    # the refusals above are limits, not a broken parser: 100 levels parse fine
    term = "tr(" * 100 + "X" + ")" * 100
    assert rewrite.parse(term).depth() == 101


@pytest.mark.parametrize("text", ["(" * 400 + "x'*x" + ")" * 400, "-" * 5000 + "x'*x", "tr(" * 1000 + "X" + ")" * 1000],
                         ids=["brackets-400", "minus-5000", "tr-1000"])
def test_library_refuses_deep_nesting_with_parse_error(text):
    with pytest.raises(rewrite.ParseError):
        rewrite.parse(text)


def test_numbers_through_the_api_raise_input_errors():
    for f in ("1e400*tr(X)", "tr(X)^1e400", "tr(X)/(2-2)", "sum(X./0)", "9" * 5000 + "*tr(X)"):
        with pytest.raises(rewrite.InputError):
            rewrite.derive(f, "X")
    # within the range, large constants are exact and print compactly
    r = rewrite.derive("1e300*tr(X)", "X")
    assert str(r.gradient) == "1e300*I" and rewrite.parse("1e300").value == 10 ** 300
