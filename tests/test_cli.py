"""The command line: output formats, proof files, exit codes.

Most tests call `rewrite.cli.main(argv)` in-process (egglog runs in-process anyway); a few run
`python -m rewrite` and the installed `rewrite` script to cover the entry points.  Tests that need
the proof kernel, renderer or verifier skip until those modules exist.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types

import pytest

import rewrite
from rewrite import api, cli, pipeline
from rewrite.directed.rewriter import Budget
from rewrite.errors import UnknownResult
from rewrite.rules import library
from rewrite.syntax import parse

TR_AXB = ["derive", "tr(A*X*B)", "--wrt", "X", "--var", "X: n x m"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def gradient_of(text_output: str, wrt: str = "X"):
    """The G of the final line `∂f/∂X = G`, parsed."""
    last = text_output.rstrip("\n").splitlines()[-1]
    head = f"∂f/∂{wrt} = "
    assert last.startswith(head), last
    return parse(last[len(head):])


# --- derive ------------------------------------------------------------------------------------
def test_derive_text_ends_with_the_gradient(capsys):
    code, out, err = run(capsys, *TR_AXB, "--no-proof")
    assert code == 0, err
    assert gradient_of(out) == parse("A'*B'")
    lines = out.splitlines()
    assert lines[0] == "f = tr(A*X*B)"
    assert "  X: n x m" in lines                      # the declared shape, as declared
    stage_names = {s["stage"] for s in api.derive("tr(A*X*B)", "X", {"X": "n x m"}, proof=False).stats}
    for name in stage_names:                          # one statistics line per stage run
        assert any(line.strip().startswith(name) for line in lines), name


def test_derive_scalar_and_vector_shapes(capsys):
    code, out, _ = run(capsys, "derive", "a'*X*b", "--wrt", "X", "--no-proof")
    assert code == 0
    assert gradient_of(out) == parse("a*b'")
    # undeclared lower-case names are column vectors
    shapes = dict(line.strip().split(": ", 1) for line in out.splitlines() if line.startswith("  ")
                  and ":" in line and "steps" not in line)
    assert shapes["a"].endswith(" x 1") and shapes["b"].endswith(" x 1")


def test_derive_json(capsys):
    code, out, _ = run(capsys, *TR_AXB, "--format", "json", "--no-proof")
    assert code == 0
    data = json.loads(out)
    assert parse(data["gradient"]) == parse("A'*B'")
    assert parse(data["differential"]) == parse("tr((A'*B')'*dX)")
    assert data["wrt"] == "X" and data["vars"]["X"] == "n x m"
    assert [s["stage"] for s in data["stats"]][0] == "differentiate"
    assert "proof" not in data


def test_derive_reads_f_from_stdin(capsys, monkeypatch):
    import io

    monkeypatch.setattr(sys, "stdin", io.StringIO("tr(A*X*B)\n"))
    code, out, _ = run(capsys, "derive", "-", "--wrt", "X", "--no-proof")
    assert code == 0 and gradient_of(out) == parse("A'*B'")


def test_no_proof_with_a_proof_option_is_a_usage_error(capsys, tmp_path):
    code, out, err = run(capsys, *TR_AXB, "--no-proof", "--proof", str(tmp_path / "p.json"))
    assert code == 2 and out == "" and len(err.splitlines()) == 1


@pytest.mark.parametrize("budget,what", [(Budget(steps=3), "steps"), (Budget(nodes=8), "nodes")])
def test_unknown_names_the_budget(capsys, monkeypatch, budget, what):
    # starve the derivation: the engine must answer "unknown" with the budget, not a guess
    monkeypatch.setattr(pipeline, "BUDGET", budget)
    code, out, err = run(capsys, "derive", "logdet(X) + tr(A*inv(X)*B)", "--wrt", "X", "--no-proof")
    assert code == 3, err
    assert out == ""
    line, = err.splitlines()
    assert line.startswith("rewrite: unknown: in stage differentiate: ")
    assert what in line, line


def test_unknown_result_mapping(capsys, monkeypatch):
    def give_up(*a, **k):
        raise UnknownResult("no form tr(G'*dX) found", "isolate", {"stop": "nodes"})

    monkeypatch.setattr(api, "derive", give_up)
    code, _, err = run(capsys, *TR_AXB)
    assert code == 3
    assert err.splitlines() == ["rewrite: unknown: in stage isolate: no form tr(G'*dX) found "
                                "(budget reached: nodes)"]


@pytest.mark.parametrize("exc,code", [(RecursionError(), 2), (MemoryError(), 3), (KeyboardInterrupt(), 130),
                                      (ZeroDivisionError("boom"), 4)])
def test_guarded_exceptions_give_one_line(capsys, monkeypatch, exc, code):
    def fail(*a, **k):
        raise exc

    monkeypatch.setattr(api, "derive", fail)
    got, out, err = run(capsys, *TR_AXB)
    assert got == code
    assert len(err.splitlines()) == 1 and err.startswith("rewrite: ")


def test_package_derive_can_be_called_twice():
    first = rewrite.derive("tr(A*X*B)", "X", proof=False)
    second = rewrite.derive("tr(A*X*B)", "X", proof=False)
    assert first.gradient == second.gradient


# --- proofs (need the proof modules of the other helpers) ---------------------------------------
def _need(module: str):
    return pytest.importorskip(module, reason=f"{module} not written yet")


def test_derive_json_includes_the_proof(capsys):
    checker = _need("rewrite.proof.checker")
    code, out, _ = run(capsys, *TR_AXB, "--format", "json")
    assert code == 0
    data = json.loads(out)
    proof = data["proof"]
    assert proof["format"] == "rewrite-proof/2"
    assert proof["claim"]["gradient"] == data["gradient"]
    assert proof["claim"]["differential"] == data["differential"]
    assert proof["steps"][0] == {"rule": "d-tr", "direction": "forward", "path": []}
    terms = checker.terms(proof)
    assert str(terms[0]) == "d(tr(A*X*B))" and str(terms[-1]) == data["differential"]
    assert checker.check(proof).ok


def test_proof_file_is_accepted_by_check(capsys, tmp_path):
    _need("rewrite.proof.checker")
    path = tmp_path / "tr_axb.json"
    code, out, _ = run(capsys, *TR_AXB, "--proof", str(path))
    assert code == 0
    proof = json.loads(path.read_text())
    assert proof["claim"]["gradient"] == str(gradient_of(out))

    code, out, err = run(capsys, "check", str(path))
    assert (code, out, err) == (0, f"{path}: OK\n", "")

    tampered = tmp_path / "tampered.json"
    proof["claim"]["gradient"] = "A*B"
    tampered.write_text(json.dumps(proof))
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    code, out, _ = run(capsys, "check", str(path), str(tampered), str(garbage))
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == f"{path}: OK"
    assert f"{tampered}: INVALID" in lines and f"{garbage}: INVALID" in lines
    # every INVALID is followed by at least one indented reason
    for i, line in enumerate(lines):
        if line.endswith("INVALID"):
            assert lines[i + 1].startswith("  ")


@pytest.mark.parametrize("fmt", ["markdown", "latex"])
def test_rendered_derivation(capsys, fmt):
    _need("rewrite.proof.render")
    code, out, _ = run(capsys, *TR_AXB, "--format", fmt)
    assert code == 0
    # the rendering names the rules of the proof it renders
    proof = api.derive("tr(A*X*B)", "X", {"X": "n x m"}).proof
    for step in proof.steps:
        assert step.rule in out


# --- derive of a matrix F, hessian, vjp --------------------------------------------------------
def _last(out: str, head: str) -> str:
    line = next(l for l in reversed(out.splitlines()) if l.startswith(head))
    return line[len(head):]


def test_derive_of_a_matrix_function_gives_its_differential_and_jacobian(capsys, tmp_path):
    from rewrite import numeric
    from rewrite.proof.checker import check

    argv = ["derive", "X'*X", "--wrt", "X", "--var", "X: m x n"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert parse(_last(out, "dF = ")) == parse("dX'*X + X'*dX")
    jac = _last(out, "J = ").split("   (")[0]
    assert numeric.check_jacobian("X'*X", "X", jac, {"X": "m x n"}).ok
    code, out, _ = run(capsys, *argv, "--format", "json")
    data = json.loads(out)
    assert parse(data["jacobian"]) == parse(jac) and parse(data["differential"]) == parse("dX'*X + X'*dX")
    assert data["proof"]["claim"]["kind"] == "jacobian" and check(data["proof"]).ok
    assert data["differential_proof"]["claim"]["kind"] == "differential" and check(data["differential_proof"]).ok
    path = tmp_path / "j.json"
    assert run(capsys, *argv, "--proof", str(path))[0] == 0
    assert json.loads(path.read_text())["claim"]["jacobian"] == data["jacobian"]
    assert run(capsys, "check", str(path))[:2] == (0, f"{path}: OK\n")


def test_hessian_command(capsys, tmp_path):
    from rewrite import numeric

    argv = ["hessian", "x'*A*x", "--wrt", "x", "--var", "A: n x n"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert numeric.compare(parse(_last(out, "H = ")), parse("A + A'"), {"A": "n x n"}).equal
    assert numeric.compare(parse(_last(out, "∂f/∂x = ")), parse("(A + A')*x"), {"A": "n x n", "x": "n"}).equal
    path = tmp_path / "h.json"
    assert run(capsys, *argv, "--proof", str(path))[0] == 0
    proof = json.loads(path.read_text())
    assert proof["claim"]["kind"] == "hessian" and proof["second_steps"]
    assert run(capsys, "check", str(path))[0] == 0
    code, out, _ = run(capsys, *argv, "--format", "json", "--no-proof")
    data = json.loads(out)
    assert parse(data["hessian"]) == parse(_last(run(capsys, *argv, "--no-proof")[1], "H = "))
    assert "proof" not in data


def test_vjp_command_names_its_cotangent(capsys):
    from rewrite import numeric
    from rewrite.proof.checker import check

    argv = ["vjp", "A*X*B", "--wrt", "X", "--cotangent", "C", "--var", "X: m x n", "--var", "A: p x m",
            "--var", "B: n x q"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert "C: p x q" in out   # the cotangent takes F's shape
    got = parse(_last(out, "vjp = ∂tr(C'*F)/∂X = "))
    assert numeric.compare(got, parse("A'*C*B'"), {"X": "m x n", "A": "p x m", "B": "n x q", "C": "p x q"}).equal
    data = json.loads(run(capsys, *argv, "--format", "json")[1])
    assert data["proof"]["claim"]["cotangent"] == "C" and check(data["proof"]).ok


@pytest.mark.parametrize("cmd", ["hessian", "vjp"])
def test_rendered_hessian_and_vjp(capsys, cmd):
    code, out, _ = run(capsys, cmd, "x'*A*x" if cmd == "hessian" else "A*x", "--wrt", "x", "--format", "markdown")
    assert code == 0
    assert "d(" in out and "|" in out   # a table of steps


# --- verify: exit codes with a stand-in verifier, then the real one ----------------------------
def _fake_verifier(monkeypatch, status: str, counterexample=None):
    calls = []

    def verdict(*args):
        calls.append(args)
        return types.SimpleNamespace(status=status, proof=None, counterexample=counterexample,
                                     stats={"reason": "node budget"} if status == "unknown" else {})

    module = types.ModuleType("rewrite.verification")
    module.verify = verdict
    module.verify_gradient = verdict
    monkeypatch.setitem(sys.modules, "rewrite.verification", module)
    monkeypatch.setattr(rewrite, "verification", module, raising=False)
    return calls


@pytest.mark.parametrize("status,code", [("proved", 0), ("refuted", 1), ("unknown", 3)])
def test_verify_exit_codes(capsys, monkeypatch, status, code):
    cx = types.SimpleNamespace(env={"A": [[1.0, 2.0], [3.0, 4.0]]}, lhs_value=[[1.0]], rhs_value=[[2.0]],
                               difference=[[-1.0]]) if status == "refuted" else None
    calls = _fake_verifier(monkeypatch, status, cx)
    got, out, _ = run(capsys, "verify", "tr(A*B) = tr(B*A)", "--var", "A: n x n")
    assert got == code
    assert calls[0][:2] == ("tr(A*B)", "tr(B*A)")
    assert f"status: {status}" in out.splitlines()
    if status == "refuted":
        assert "  A = [[1., 2.], [3., 4.]]" in out.splitlines()
        assert "  difference = [[-1.]]" in out.splitlines()

    got, out, _ = run(capsys, "verify", "--gradient", "tr(A*X*B)", "--wrt", "X", "A*B")
    assert got == code
    assert calls[1][:3] == ("tr(A*X*B)", "X", "A*B")


def test_verify_real(capsys):
    _need("rewrite.verification")
    code, out, _ = run(capsys, "verify", "tr(A*B*C) = tr(C*A*B)")
    assert code == 0 and "status: proved" in out
    code, out, _ = run(capsys, "verify", "(A*B)' = A'*B'", "--var", "A: n x n", "--var", "B: n x n")
    assert code == 1 and "status: refuted" in out and "counterexample:" in out
    code, out, _ = run(capsys, "verify", "--gradient", "tr(A*X*B)", "--wrt", "X", "A*B",
                       "--var", "X: n x n", "--var", "A: n x n", "--var", "B: n x n")
    assert code == 1
    code, out, _ = run(capsys, "verify", "--gradient", "tr(A*X*B)", "--wrt", "X", "A'*B'")
    assert code == 0


# --- rules -------------------------------------------------------------------------------------
def test_rules_lists_the_whole_library(capsys):
    code, out, _ = run(capsys, "rules")
    assert code == 0
    listed = [line.split(":", 1)[0] for line in out.splitlines() if not line.startswith("#")]
    assert sorted(listed) == sorted(library())


def test_rules_group_and_json(capsys):
    code, out, _ = run(capsys, "rules", "--group", "trace", "--format", "json")
    assert code == 0
    data = json.loads(out)
    trace = {n: r for n, r in library().items() if r.group == "trace"}
    assert {d["name"] for d in data} == set(trace)
    for d in data:
        rule = trace[d["name"]]
        assert (parse(d["lhs"]), parse(d["rhs"])) == (rule.lhs, rule.rhs)
        assert d["if"] == [str(c) for c in rule.conditions]


# --- entry points ------------------------------------------------------------------------------
def test_python_dash_m():
    p = subprocess.run([sys.executable, "-m", "rewrite", *TR_AXB, "--no-proof"], capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    assert gradient_of(p.stdout) == parse("A'*B'")


def test_help_exits_0():
    p = subprocess.run([sys.executable, "-m", "rewrite", "derive", "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "--wrt" in p.stdout


@pytest.mark.skipif(shutil.which("rewrite") is None, reason="the console script is not installed")
def test_console_script():
    p = subprocess.run(["rewrite", "rules", "--group", "transpose"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0
    assert any(line.startswith("# transpose") for line in p.stdout.splitlines())
