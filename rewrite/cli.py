"""The command line: `rewrite derive | verify | check | rules`.

Exit codes: 0 derived / proved / valid, 1 refuted / invalid, 2 bad input or usage (one line on
stderr, `rewrite: error: ...`, never a traceback), 3 unknown (a budget or limit was reached),
4 internal error (a bug: set REWRITE_DEBUG=1 to see the traceback), 130 interrupted.

The engine, the verifier and the checker are imported only by the subcommand that needs them,
so `rewrite rules` and `rewrite check` start fast and do not load egglog.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Sequence

from .errors import InputError, RewriteError, UnknownResult
from .syntax import split_equation

EXIT_OK, EXIT_NO, EXIT_INPUT, EXIT_UNKNOWN, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 2, 3, 4, 130
STATUS_EXIT = {"proved": EXIT_OK, "refuted": EXIT_NO, "unknown": EXIT_UNKNOWN}
PROG = "rewrite"


class UsageError(Exception):
    """Bad command-line usage (argparse's complaints included): exit 2."""


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage and exits; we want exactly one line and our own exit path
    def error(self, message: str):
        raise UsageError(message)


# --- helpers -----------------------------------------------------------------------------------
def _say(*lines: str) -> None:
    for line in lines:
        print(line)


def _warn(message: str) -> None:
    print(f"{PROG}: warning: {message}", file=sys.stderr)


def _read_term(text: str) -> str:
    """A term from the command line; `-` reads it from standard input (for long inputs)."""
    if text == "-":
        return sys.stdin.read().strip()
    return text


def _declarations(specs: Sequence[str] | None) -> dict:
    """--var "X: n x m, spd" (repeatable) -> {name: Decl}."""
    from .shapes import parse_declarations

    return parse_declarations(specs)


def _dump_json(data) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _write_proof(proof, path: str) -> None:
    try:
        Path(path).write_text(proof.to_json(indent=2) + "\n", encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write the proof to {path}: {err.strerror or err}") from None


def _render(proof, fmt: str) -> str:
    from .proof import render

    return render.to_markdown(proof) if fmt == "markdown" else render.to_latex(proof)


# --- derive ------------------------------------------------------------------------------------
def _one_wrt(args) -> str:
    if len(args.wrt) > 1:
        raise UsageError(f"give one --wrt, not {len(args.wrt)} ({', '.join(args.wrt)}): derive by each "
                         f"variable in its own run")
    return args.wrt[0]


def _emit(result, args, proofs: dict) -> int:
    """Print a result in the chosen format; write its main proof (the first of `proofs`, which
    maps a name to a function giving a proof) to --proof FILE."""
    needs_proof = args.format in ("markdown", "latex") or args.proof is not None
    if args.no_proof and needs_proof:
        raise UsageError("--no-proof cannot be combined with --proof or --format markdown/latex")
    if args.format == "json":
        _say(_dump_json(result.as_dict()))   # with its proofs, unless --no-proof
    elif args.format in ("markdown", "latex"):
        _say(*(_render(get(), args.format) for get in proofs.values()))
    else:
        _say(str(result))   # the proof's size only: its model (pydantic) is not loaded
    if args.proof is not None:
        _write_proof(next(iter(proofs.values()))(), args.proof)
    return EXIT_OK


def cmd_derive(args) -> int:
    from .api import derive
    from .pipeline import prepare

    f, wrt, vars = _read_term(args.f), _one_wrt(args), _declarations(args.var)
    _, typing = prepare(f, wrt, vars, scalar=False)
    if not typing.shape().is_scalar:   # a vector or matrix F: its differential and Jacobian
        if args.convention != "unconstrained":
            raise UsageError("--convention is for the gradient of a scalar f")
        from .api_beyond import derivative

        result = derivative(f, wrt, vars, proof=not args.no_proof)
        return _emit(result, args, {"proof": lambda: result.proof,
                                    "differential_proof": lambda: result.differential_proof})
    result = derive(f, wrt, vars, proof=not args.no_proof, convention=args.convention)
    return _emit(result, args, {"proof": lambda: result.proof})


def cmd_hessian(args) -> int:
    from .api_beyond import hessian

    result = hessian(_read_term(args.f), _one_wrt(args), _declarations(args.var), proof=not args.no_proof)
    return _emit(result, args, {"proof": lambda: result.proof})


def cmd_vjp(args) -> int:
    from .api_beyond import vjp

    result = vjp(_read_term(args.f), _one_wrt(args), args.cotangent, _declarations(args.var),
                 proof=not args.no_proof)
    return _emit(result, args, {"proof": lambda: result.proof})


def cmd_codegen(args) -> int:
    from .pipeline import prepare

    f, wrt, vars = _read_term(args.f), _one_wrt(args), _declarations(args.var)
    _, typing = prepare(f, wrt, vars, scalar=False)
    if args.hessian:
        from .api_beyond import hessian

        source = hessian(f, wrt, vars).to_python(args.backend)
    elif typing.shape().is_scalar:
        from .api import derive

        source = derive(f, wrt, vars).to_python(args.backend)
    else:
        from .api_beyond import derivative

        source = derivative(f, wrt, vars).to_python(args.backend)
    if args.output is None:
        _say(source.rstrip("\n"))
        return EXIT_OK
    try:
        Path(args.output).write_text(source, encoding="utf-8")
    except OSError as err:
        raise InputError(f"cannot write {args.output}: {err.strerror or err}") from None
    return EXIT_OK


def cmd_batch(args) -> int:
    from collections import Counter

    from .batch import batch

    if args.jobs < 1 or args.budget <= 0:
        raise UsageError("--jobs must be at least 1 and --budget positive")
    records = batch(args.file, jobs=args.jobs, output=args.output, budget=args.budget,
                    scheduler=args.scheduler, progress=None)
    if args.output is None:
        _say(*(json.dumps(r, ensure_ascii=False) for r in records))
    counts = Counter(r.get("status") for r in records)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    print(f"{PROG}: {len(records)} items run ({summary or 'none left to run'})"
          + (f"; results in {args.output}" if args.output else ""), file=sys.stderr)
    return EXIT_OK


def cmd_serve(args) -> int:
    import socket

    if not 1 <= args.port <= 65535:
        raise UsageError(f"--port must be 1..65535, not {args.port}")
    try:
        from .web.app import serve
    except ImportError as err:
        raise UsageError(f"rewrite serve needs the web extra ({err.name} is missing): "
                         f"pip install 'rewrite-matrix-calculus[web]'") from None
    with socket.socket() as probe:   # say so now, rather than in the server's log
        try:
            probe.bind((args.host, args.port))
        except OSError as err:
            raise InputError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}") from None
    print(f"{PROG}: serving on http://{args.host}:{args.port}/ (Ctrl-C stops)", file=sys.stderr)
    serve(args.host, args.port)
    return EXIT_OK


# --- verify ------------------------------------------------------------------------------------
def _counterexample_lines(cx) -> list[str]:
    lines = ["counterexample:"]
    lines += [f"  {name} = {_matrix_text(value)}" for name, value in sorted(cx.env.items())]
    lines += [f"  {label} = {_matrix_text(value)}" for label, value in
              (("lhs", cx.lhs_value), ("rhs", cx.rhs_value), ("difference", cx.difference))]
    return lines


def _matrix_text(value) -> str:
    try:
        import numpy as np

        return np.array2string(np.asarray(value, dtype=float), precision=4, separator=", ",
                               max_line_width=10_000).replace("\n", "")
    except (TypeError, ValueError):
        return str(value)


def cmd_verify(args) -> int:
    vars = _declarations(args.var)
    if args.gradient is not None:
        if not args.wrt:
            raise UsageError("verify --gradient needs --wrt")
        f, claimed = _read_term(args.gradient), _read_term(args.claim)
        claim = f"∂({f})/∂{args.wrt} = {claimed}"
    else:
        if args.wrt:
            raise UsageError("--wrt is only used with --gradient")
        lhs, rhs = split_equation(_read_term(args.claim))
        claim = f"{lhs} = {rhs}"
    from . import verification as V   # after the cheap checks, so usage errors stay fast

    if args.gradient is not None:
        result = V.verify_gradient(f, args.wrt, claimed, vars)
    else:
        result = V.verify(lhs, rhs, vars)
    status = result.status
    if status not in STATUS_EXIT:
        raise RewriteError(f"the verifier returned an unknown status {status!r}")
    proof, cx, stats = result.proof, result.counterexample, result.stats

    if args.format == "json":
        data = {"claim": claim, "status": status, "counterexample": V.plain(cx), "stats": V.plain(stats)}
        if proof is not None:
            data["proof"] = proof.to_dict()
        _say(_dump_json(data))
    elif args.format in ("markdown", "latex") and proof is not None:
        _say(_render(proof, args.format))
    else:
        lines = [f"claim: {claim}", f"status: {status}"]
        if proof is not None:
            lines.append(f"proof: {len(proof.steps)} rule steps")
        if cx is not None:
            lines += _counterexample_lines(cx)
        if status == "unknown" and stats.get("reason"):
            lines.append(f"reason: {stats['reason']}")
        if stats.get("hint"):
            lines.append(f"hint: {stats['hint']}")
        _say(*lines)
    if args.proof is not None:
        if proof is None:
            _warn(f"no proof to write ({status})")
        else:
            _write_proof(proof, args.proof)
    return STATUS_EXIT[status]


# --- check -------------------------------------------------------------------------------------
def cmd_check(args) -> int:
    texts = {}
    for name in args.files:   # read everything first: a missing file is a usage error, not a verdict
        try:
            texts[name] = Path(name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            raise InputError(f"cannot read {name}: {getattr(err, 'strerror', None) or err}") from None
    from .proof.checker import check

    bad = 0
    for name, text in texts.items():
        try:
            report = check(text)
            ok, errors = report.ok, list(report.errors)
        except RecursionError:
            ok, errors = False, ["a term is nested too deeply"]
        except (ValueError, TypeError, RewriteError) as err:   # not JSON, not a proof: invalid
            ok, errors = False, [str(err).splitlines()[0] if str(err) else type(err).__name__]
        if ok:
            _say(f"{name}: OK")
        else:
            bad += 1
            _say(f"{name}: INVALID", *(f"  {e}" for e in errors or ["rejected"]))
    return EXIT_NO if bad else EXIT_OK


# --- rules -------------------------------------------------------------------------------------
def cmd_rules(args) -> int:
    from .rules import library

    rules = list(library().values())
    groups = sorted({r.group for r in rules})
    if args.group is not None and args.group not in groups:
        raise InputError(f"no rule group {args.group!r} (groups: {', '.join(groups)})")
    chosen = [r for r in rules if args.group in (None, r.group)]
    if args.format == "json":
        _say(_dump_json([{"name": r.name, "group": r.group, "lhs": str(r.lhs), "rhs": str(r.rhs),
                          "oriented": r.forward_only, "if": [str(c) for c in r.conditions]}
                         for r in chosen]))
        return EXIT_OK
    width = max((len(r.name) for r in chosen), default=0)
    for g in groups:
        members = [r for r in chosen if r.group == g]
        if not members:
            continue
        _say(f"# {g} ({len(members)} rules)")
        for r in members:
            arrow = "=>" if r.forward_only else "="
            cond = f"   if {', '.join(map(str, r.conditions))}" if r.conditions else ""
            _say(f"{r.name + ':':<{width + 1}} {r.lhs} {arrow} {r.rhs}{cond}")
    return EXIT_OK


# --- parser ------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="Matrix calculus by rewrite rules, with checkable proofs.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def var_option(q):
        q.add_argument("--var", action="append", metavar="DECL", default=[],
                       help='a declaration "NAME: ROWS x COLS[, props]", e.g. "X: n x m" or "S: n x n, spd" '
                            "(repeatable)")

    def common(q, what: str):
        q.add_argument("--wrt", required=True, action="append", metavar="X",
                       help="the variable to differentiate by")
        var_option(q)
        q.add_argument("--format", choices=("text", "json", "markdown", "latex"), default="text")
        q.add_argument("--proof", metavar="FILE", help=f"write the proof of {what} (JSON, rewrite-proof/2) to FILE")
        q.add_argument("--no-proof", action="store_true", help="leave the proof out of the result")

    d = sub.add_parser("derive", help="the gradient ∂f/∂X (or the differential and Jacobian of a "
                                      "matrix function) with its proof")
    d.add_argument("f", help="a function of matrices, e.g. 'tr(A*X*B)' or \"X'*X\" ('-' reads stdin)")
    common(d, "the gradient (of the Jacobian, for a matrix F)")
    d.add_argument("--convention", choices=("unconstrained", "symmetric", "cookbook"),
                   default="unconstrained",
                   help="for a symmetric X: the unconstrained G (default), sym(G) = (G + G')/2, "
                        "or the Matrix Cookbook's G + G' - I.*G")
    d.set_defaults(func=cmd_derive)

    h = sub.add_parser("hessian", help="the Hessian of a scalar f (the Jacobian of its gradient)")
    h.add_argument("f", help="a scalar function, e.g. \"x'*A*x\" ('-' reads stdin)")
    common(h, "the gradient and the Hessian")
    h.set_defaults(func=cmd_hessian)

    j = sub.add_parser("vjp", help="the vector-Jacobian product: ∂tr(G'*F)/∂X for a cotangent G")
    j.add_argument("f", help="a function of matrices, e.g. 'A*X*B' ('-' reads stdin)")
    common(j, "the vector-Jacobian product")
    j.add_argument("--cotangent", default="G", metavar="G", help="the cotangent's name (it has F's shape)")
    j.set_defaults(func=cmd_vjp)

    g = sub.add_parser("codegen", help="Python code (numpy, torch or jax) computing f and its gradient "
                                       "(a matrix F: F and its Jacobian)")
    g.add_argument("f", help="a function of matrices, e.g. 'tr(A*X*B)' ('-' reads stdin)")
    g.add_argument("--wrt", required=True, action="append", metavar="X", help="the variable to differentiate by")
    var_option(g)
    g.add_argument("--backend", choices=("numpy", "torch", "jax"), default="numpy")
    g.add_argument("--hessian", action="store_true", help="also the Hessian (f_grad_hess)")
    g.add_argument("--output", metavar="FILE", help="write the module to FILE (default: stdout)")
    g.set_defaults(func=cmd_codegen)

    b = sub.add_parser("batch", help="run the items of a JSON-lines file (derive, verify, ...) in parallel, "
                                     "writing a JSON line per result")
    b.add_argument("file", help="the items, one JSON object a line ('-' reads stdin; see rewrite.batch)")
    b.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes (default 1)")
    b.add_argument("--output", metavar="FILE", help="append results to FILE, skipping items already "
                                                    "there (resumable); default: standard output")
    b.add_argument("--budget", type=float, default=60.0, metavar="SECONDS", help="per item (default 60)")
    b.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster (pip install distributed)")
    b.set_defaults(func=cmd_batch)

    w = sub.add_parser("serve", help="a local web page: type f, see the answer and its steps, download "
                                     "the proof, verify identities (pip install 'rewrite-matrix-calculus[web]')")
    w.add_argument("--host", default="127.0.0.1", help="the address to bind (default 127.0.0.1: this machine only)")
    w.add_argument("--port", type=int, default=8000)
    w.set_defaults(func=cmd_serve)

    v = sub.add_parser("verify", help="prove or refute 'lhs = rhs', or a gradient claim")
    v.add_argument("claim", help="'lhs = rhs', or with --gradient the claimed gradient G")
    v.add_argument("--gradient", metavar="F", help="check the claim ∂F/∂X = G instead of an equation")
    v.add_argument("--wrt", metavar="X", help="the variable of a --gradient claim")
    var_option(v)
    v.add_argument("--format", choices=("text", "json", "markdown", "latex"), default="text")
    v.add_argument("--proof", metavar="FILE", help="write the proof (when proved) to FILE")
    v.set_defaults(func=cmd_verify)

    c = sub.add_parser("check", help="replay proof files in the independent checker")
    c.add_argument("files", nargs="+", metavar="FILE")
    c.set_defaults(func=cmd_check)

    r = sub.add_parser("rules", help="list the rule library")
    r.add_argument("--group", metavar="G", help="only the rules of group G (a file in rules/)")
    r.add_argument("--format", choices=("text", "json"), default="text")
    r.set_defaults(func=cmd_rules)
    return p


def _error(message: str, code: int = EXIT_INPUT, kind: str = "error") -> int:
    first = " ".join(str(message).split()) or "unknown problem"   # exactly one line
    print(f"{PROG}: {kind}: {first}", file=sys.stderr)
    return code


def _unknown_message(err: UnknownResult) -> str:
    text = str(err)
    stop = (err.stats or {}).get("stop") if isinstance(err.stats, dict) else None
    if stop and stop != "saturated" and stop not in text:
        text += f" (budget reached: {stop})"
    return text.removeprefix("unknown").lstrip(": ") or "a budget was reached"


def _terms_with_a_minus(argv: list[str]) -> list[str]:
    """`rewrite derive "-y'*log(p)" --wrt p`: argparse would take a term that starts with a
    minus for an option.  Such a term (a single dash and more, other than -h) becomes the value
    of the option before it (`--gradient=-x'*x`) or a positional argument after `--`."""
    out, terms = [], []
    for i, a in enumerate(argv):
        if a == "--":
            return out + ["--"] + terms + argv[i + 1:]
        if a.startswith("-") and not a.startswith("--") and len(a) > 1 and a != "-h":
            if out and out[-1].startswith("--") and "=" not in out[-1] and out[-1] not in _FLAGS:
                out[-1] = f"{out[-1]}={a}"
            else:
                terms.append(a)
            continue
        out.append(a)
    return out + (["--"] + terms if terms else [])


_FLAGS = ("--no-proof", "--help", "--hessian")   # options without a value


def main(argv: Sequence[str] | None = None) -> int:
    for stream in (sys.stdout, sys.stderr):   # ∂ and ᵀ must not crash an ASCII terminal
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        args = build_parser().parse_args(_terms_with_a_minus(list(sys.argv[1:] if argv is None else argv)))
        return args.func(args)
    except UsageError as err:
        return _error(err)
    except InputError as err:
        return _error(err)
    except UnknownResult as err:
        return _error(_unknown_message(err), EXIT_UNKNOWN, "unknown")
    except RecursionError:
        return _error("the input is nested too deeply")
    except MemoryError:
        return _error("ran out of memory (the input or the e-graph is too large)", EXIT_UNKNOWN, "unknown")
    except KeyboardInterrupt:
        return _error("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:   # `rewrite rules | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except RewriteError as err:   # e.g. a malformed rule file: not the user's input
        return _error(err, EXIT_BUG, "internal error")
    except Exception as err:
        if os.environ.get("REWRITE_DEBUG"):
            raise
        return _error(f"{type(err).__name__}: {err} (a bug; REWRITE_DEBUG=1 shows the traceback)",
                      EXIT_BUG, "internal error")
