"""The exceptions the library raises; every one carries a message fit for a user."""
from __future__ import annotations


class RewriteError(Exception):
    """Base of every error the library raises on purpose."""


class InputError(RewriteError):
    """Bad input: syntax, shapes, unknown names, limits.  The CLI exits 2 on these."""

    def __init__(self, message: str, position: int | None = None, source: str | None = None):
        self.message = message
        self.position = position  # 0-based character offset into `source`
        self.source = source
        super().__init__(self.__str__())

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} at column {self.position + 1}"


class ParseError(InputError):
    """The text is not a term of the expression language."""


class ShapeError(InputError):
    """Dimensions do not fit together, or a declaration is malformed."""


class RuleError(RewriteError):
    """A rule file is malformed (a bug in `rules/`, not in user input)."""


class UnknownResult(RewriteError):
    """A budget was reached before an answer: the honest 'unknown'."""

    def __init__(self, reason: str, stage: str | None = None, stats=None):
        self.reason = reason
        self.stage = stage
        self.stats = stats
        where = f" in stage {stage}" if stage else ""
        super().__init__(f"unknown{where}: {reason}")


def is_engine_failure(err: BaseException) -> bool:
    """egglog reports its internal failures as Rust panics (a BaseException, not one of ours)."""
    return type(err).__name__ == "PanicException"
