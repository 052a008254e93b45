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
from .syntax import parse, split_equation

__all__ = ["derive", "derivative", "vjp", "hessian", "check", "verify", "verify_gradient", "parse",
           "Expr", "RewriteError", "InputError", "ParseError", "ShapeError", "RuleError", "UnknownResult"]
__version__ = "0.1.0"


def derive(f, wrt, vars=None, **options):
    """∂f/∂wrt of a scalar f, with its differential and proof (see rewrite.api.derive)."""
    from .api import derive as _derive

    return _derive(f, wrt, vars, **options)


def derivative(F, wrt, vars=None, **options):
    """The differential dF and the Jacobian J (vec(dF) = J*vec(dX)) of a matrix function F."""
    from .api_beyond import derivative as _derivative

    return _derivative(F, wrt, vars, **options)


def vjp(F, wrt, cotangent="G", vars=None, **options):
    """The vector-Jacobian product: the gradient of tr(G'*F) by wrt, G of F's shape."""
    from .api_beyond import vjp as _vjp

    return _vjp(F, wrt, cotangent, vars, **options)


def hessian(f, wrt, vars=None, **options):
    """The Hessian of a scalar f (the Jacobian of its gradient)."""
    from .api_beyond import hessian as _hessian

    return _hessian(f, wrt, vars, **options)


def check(proof):
    """Replay a proof (model, dict, JSON text or file path) in the independent checker."""
    from .api import check as _check

    return _check(proof)


def verify(lhs, rhs=None, vars=None):
    """Prove or refute lhs = rhs: .status is "proved", "refuted" or "unknown".  One string
    "lhs = rhs" works too, as on the command line: verify("tr(A*B) = tr(B*A)", vars={...})."""
    from collections.abc import Mapping

    from .verification import verify as _verify

    if rhs is None or isinstance(rhs, Mapping):   # verify("lhs = rhs"[, vars])
        vars = rhs if rhs is not None else vars
        lhs, rhs = split_equation(lhs)
    return _verify(lhs, rhs, vars)


def verify_gradient(f, wrt, claimed, vars=None):
    """Prove or refute ∂f/∂wrt = claimed."""
    from .verification import verify_gradient as _verify_gradient

    return _verify_gradient(f, wrt, claimed, vars)
