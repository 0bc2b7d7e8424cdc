"""The exception tree: every error the library raises on purpose.

    AdjudicationError
    ├── RuleFileError        a problem in rules/ (syntax, schema, unknown name, type); .loc
    ├── CaseFileError        a problem in a case file; .loc and .path ("evidence[2].submitted_at")
    ├── EngineError          durable_rules failed, or the rules contradict themselves on a case
    └── ExpectationMismatch  a golden case or rule test that did not hold

A message says what, where, why and how to fix. Errors that can hold several problems
(``RuleFileError``, ``CaseFileError``) carry them all in ``.problems``; ``str()`` lists them,
one ``file:line:col: message`` block each.
"""

from __future__ import annotations

from collections.abc import Iterable

from engine.model import SourceLoc

__all__ = [
    "AdjudicationError",
    "CaseFileError",
    "EngineError",
    "ExpectationMismatch",
    "Problem",
    "RuleFileError",
]


class Problem:
    """One located problem: where, what, and optionally the offending line and a hint."""

    __slots__ = ("loc", "message", "path", "snippet", "caret", "hint")

    def __init__(
        self,
        loc: SourceLoc | None,
        message: str,
        *,
        path: str = "",
        snippet: str = "",
        caret: int = -1,
        hint: str = "",
    ) -> None:
        self.loc = loc
        self.message = message
        self.path = path
        self.snippet = snippet
        self.caret = caret
        self.hint = hint

    def __str__(self) -> str:
        where = str(self.loc) if self.loc is not None else "<unknown>"
        head = f"{where}: {self.message}"
        lines = [head]
        if self.snippet:
            lines.append(f"    {self.snippet}")
            if self.caret >= 0:
                lines.append(
                    "    " + " " * self.caret + "^" + (f" {self.hint}" if self.hint else "")
                )
            elif self.hint:
                lines.append(f"    {self.hint}")
        elif self.hint:
            lines.append(f"    {self.hint}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Problem({str(self)!r})"


class AdjudicationError(Exception):
    """Base of every error raised on purpose by this library."""


class _ProblemsError(AdjudicationError):
    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @property
    def loc(self) -> SourceLoc | None:
        return self.problems[0].loc if self.problems else None


class RuleFileError(_ProblemsError):
    """A rule file is malformed or refers to something that does not exist."""


class CaseFileError(_ProblemsError):
    """A case file breaks the casefile/1 contract."""

    @property
    def path(self) -> str:
        return self.problems[0].path if self.problems else ""


class EngineError(AdjudicationError):
    """The inference engine failed on a case, or the rules gave it contradictory outcomes."""


class ExpectationMismatch(AdjudicationError):
    """A golden case or a rule test did not give what it expected."""
