"""The exception tree: every error the library raises on purpose.

    AdjudicationError            exit  HTTP
    ├── RuleFileError              2    -    a problem in rules/ (syntax, schema, unknown name,
    │                                        type); .loc
    ├── CaseFileError              2   422   a problem in a case file; .loc and .path
    │   │                                    ("evidence[2].submitted_at")
    │   └── BundleError            2   422   a bundle (folder or .zip with case.yaml): a named
    │                                        file missing or with another sha256, a file too
    │                                        large, an unsafe path, a ZIP bomb
    ├── EvidenceReadError          2   422   an evidence file cannot be read (not an image or
    │   │                                    PDF, corrupt, too many pages); .loc
    │   └── ReadingUnavailable     2   501   reading needs the ``evidence`` extra
    ├── EngineError                2   422   durable_rules failed, or the rules cannot decide a
    │                                        case (contradictory outcomes, no parameter in force)
    ├── ExpectationMismatch        1    -    a golden case or rule test that did not hold
    ├── BatchError                 2    -    a batch run's output folder or cluster cannot be used
    └── DeskError                  2   500   the arbitrator's desk (engine.web)
        ├── SchemaTooNew           2    -    the database was written by a newer version
        ├── StorageError           2   503   the database cannot be written or reached (a full
        │                                    disk, read-only, a server down); nothing recorded
        ├── AccountError           2   422   a user name, role or password that cannot be used
        ├── AccessDenied           -   403   the signed-in user's role may not do this
        ├── TooManyAttempts        -   429   too many failed logins; .retry_after seconds
        ├── UnknownCase            -   404   no case with this id on the desk
        ├── UnknownEvidence        -   404   no such evidence item, attribute or file on a case
        ├── CaseConflict           -   409   a case_id already stored with other content
        ├── StaleDecision          -   409   a decision made on an older version of the case, or
        │                                    on a case another arbitrator has claimed; .current
        ├── BodyError              -   422   a request body that is not the JSON a route expects
        ├── DecisionError          -   422   a decision that cannot be recorded; .problems
        └── CorrectionError        -   422   a confirmation or correction of a read attribute
                                             that cannot be recorded; .problems

Each class carries its CLI exit code (``exit_code``) and, for errors a web request can meet,
its HTTP status (``http_status``): the CLI and the desk read them here, in one table.

A message says what, where, why and how to fix. Errors that can hold several problems
(``RuleFileError``, ``CaseFileError``, ``DecisionError``, ``CorrectionError``) carry them all in
``.problems``; ``str()`` lists them, one ``file:line:col: message`` block each.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from pathlib import Path

from engine.model import SourceLoc

__all__ = [
    "AccessDenied",
    "AccountError",
    "AdjudicationError",
    "BatchError",
    "BodyError",
    "BundleError",
    "CaseConflict",
    "CaseFileError",
    "CorrectionError",
    "DecisionError",
    "DeskError",
    "EngineError",
    "EvidenceReadError",
    "ExpectationMismatch",
    "Problem",
    "ReadingUnavailable",
    "RuleFileError",
    "SchemaTooNew",
    "StaleDecision",
    "StorageError",
    "TooManyAttempts",
    "UnknownCase",
    "UnknownEvidence",
    "did_you_mean",
    "source_lines",
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

    @classmethod
    def at(
        cls,
        loc: SourceLoc,
        message: str,
        lines: Sequence[str] = (),
        *,
        hint: str = "",
        caret: int = -1,
        path: str = "",
    ) -> Problem:
        """A problem at ``loc`` that shows its line, taken from ``lines`` (the file's text,
        split), with a caret under ``loc``'s column, or under ``caret`` when given (an index
        into the line as written, indentation included)."""
        snippet = ""
        if 0 < loc.line <= len(lines):
            raw = lines[loc.line - 1].rstrip().replace("\t", "⇥")  # a tab shown, one column
            snippet = raw.lstrip()
            indent = len(raw) - len(snippet)
            if caret >= 0:
                caret -= indent
            elif loc.column > 0:
                caret = max(0, loc.column - 1 - indent)
        if caret > len(snippet) or not snippet:
            caret = -1
        return cls(loc, message, path=path, snippet=snippet, caret=max(caret, -1), hint=hint)

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


def source_lines(path: str) -> list[str]:
    """The lines of a text file, to quote in a problem; none when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def did_you_mean(word: str, options: Iterable[str], *, cutoff: float = 0.6) -> str:
    """A hint naming the closest of ``options`` ("did you mean 'signer_name'?"), or ""."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=cutoff)
    return f"did you mean '{close[0]}'?" if close else ""


class AdjudicationError(Exception):
    """Base of every error raised on purpose by this library."""

    exit_code = 2  # what the CLI exits with: 2 bad input or usage, 1 a finding
    http_status = 500

    @property
    def error_type(self) -> str:
        """The ``type`` of the error object the HTTP API and batch error rows carry."""
        return type(self).__name__


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

    http_status = 422

    @property
    def path(self) -> str:
        return self.problems[0].path if self.problems else ""


class BundleError(CaseFileError):
    """A bundle cannot be used: a named file is missing or differs from its sha256, a file is
    too large, a path leads out of the bundle, a .zip is corrupt or a possible ZIP bomb."""


class EvidenceReadError(AdjudicationError):
    """An evidence file cannot be read: not an image or a PDF, corrupt, or too many pages."""

    http_status = 422

    def __init__(self, loc: SourceLoc, message: str, hint: str = "") -> None:
        self.loc = loc
        self.hint = hint
        super().__init__(f"{loc}: {message}" + (f"\n    {hint}" if hint else ""))


class ReadingUnavailable(EvidenceReadError):
    """Reading files needs the ``evidence`` extra (OCR and OpenCV), which is not installed."""

    http_status = 501


class EngineError(AdjudicationError):
    """The inference engine failed on a case, or the rules gave it contradictory outcomes."""

    # like the CLI's exit 2: a case these rules cannot decide (e.g. dated before any parameter
    # is in force) is bad input for them, not a failure of the server
    http_status = 422


class ExpectationMismatch(AdjudicationError):
    """A golden case or a rule test did not give what it expected."""

    exit_code = 1


class BatchError(AdjudicationError):
    """A batch run cannot go on: its output folder holds another run's results or cannot be
    written, or its Dask cluster cannot be reached or used."""


class DeskError(AdjudicationError):
    """The arbitrator's desk (``engine.web``) refused a request or cannot start."""


class SchemaTooNew(DeskError):
    """The database was written by a newer version of adjudicate."""


class StorageError(DeskError):
    """The desk's database cannot be written or reached: a full disk, a read-only file or
    server, a server that is down. Nothing of the request was recorded."""

    http_status = 503


class AccountError(DeskError):
    """A user name, role, password or token that cannot be used (``adjudicate users``)."""

    http_status = 422


class AccessDenied(DeskError):
    """The signed-in user's role does not allow this (or an appeal's first decider)."""

    http_status = 403
    error_type = "Forbidden"


class TooManyAttempts(DeskError):
    """Too many failed logins for one name or from one address in a short time."""

    http_status = 429

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"too many failed logins: try again in {retry_after} s (or ask an admin to reset "
            "the password)"
        )


class UnknownCase(DeskError, LookupError):
    """No case with this id on the desk."""

    http_status = 404
    error_type = "NotFound"  # the API's name since version 1

    def __init__(self, case_ref: int) -> None:
        self.case_ref = case_ref
        super().__init__(f"no case with id {case_ref} on the desk")


class UnknownEvidence(DeskError, LookupError):
    """No such evidence item, attribute or stored file on a case of the desk."""

    http_status = 404
    error_type = "NotFound"


class CaseConflict(DeskError):
    """A case with this case_id is already stored with a different document."""

    http_status = 409
    error_type = "Conflict"  # the API's name since version 1

    def __init__(self, case_id: str, existing: int) -> None:
        self.case_id, self.existing = case_id, existing
        super().__init__(
            f"case {case_id!r} is already on the desk (id {existing}) with different content"
        )


class StaleDecision(DeskError):
    """A decision that would silently replace another: made on an older version of the case
    (``.current`` is the decision now in force) or on a case another arbitrator has claimed."""

    http_status = 409
    error_type = "Conflict"

    def __init__(self, message: str, current: dict[str, object] | None = None) -> None:
        self.current = current
        super().__init__(message)


class BodyError(DeskError, ValueError):
    """A request body that is not the JSON object a route expects."""

    http_status = 422


class DecisionError(_ProblemsError, DeskError):
    """A decision that cannot be recorded; ``.problems`` name each field."""

    http_status = 422


class CorrectionError(_ProblemsError, DeskError):
    """A confirmation or correction of a read attribute that cannot be recorded (the value
    does not fit the attribute's declared type, a missing reason, ...); ``.problems`` name each
    field."""

    http_status = 422
