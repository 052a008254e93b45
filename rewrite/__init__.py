"""Matrix calculus by rewrite rules, with proofs an independent checker replays.

    >>> import rewrite
    >>> r = rewrite.derive("tr(A*X*B)", wrt="X", vars={"X": "n x m"})
    >>> str(r.gradient)
    "A'*B'"

The engine (egglog) is imported only when a derivation runs, so the proof checker stays
independent of it.
"""
from .errors import InputError, ParseError, RewriteError, RuleError, ShapeError, UnknownResult
from .expr import Expr
from .syntax import parse

__all__ = ["derive", "check", "verify", "verify_gradient", "parse", "Expr", "RewriteError",
           "InputError", "ParseError", "ShapeError", "RuleError", "UnknownResult"]
__version__ = "0.1.0"


def derive(f, wrt, vars=None, **options):
    from .api import derive as _derive

    return _derive(f, wrt, vars, **options)


def check(proof):
    from .api import check as _check

    return _check(proof)


def verify(lhs, rhs, vars=None):
    """Prove or refute lhs = rhs: .status is "proved", "refuted" or "unknown"."""
    from .verification import verify as _verify

    return _verify(lhs, rhs, vars)


def verify_gradient(f, wrt, claimed, vars=None):
    """Prove or refute ∂f/∂wrt = claimed."""
    from .verification import verify_gradient as _verify_gradient

    return _verify_gradient(f, wrt, claimed, vars)
