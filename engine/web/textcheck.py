"""Checks of the text people type into the desk (decisions, corrections, case ids): characters
that hide or reorder what an arbitrator reads are refused, and values are shown short in
messages."""

from __future__ import annotations

import json
import unicodedata

from engine.errors import CaseFileError, Problem
from engine.model import SourceLoc

__all__ = ["check_key", "invisible", "shown"]

_ALLOWED_IN_LINES = "\n\r\t"


def invisible(text: str, *, lines: bool = False) -> str | None:
    """What is wrong with a control, format (bidi, zero-width) or surrogate character in
    ``text``, or None: such characters hide or reorder what an arbitrator reads."""
    for at, ch in enumerate(text):
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Cs") and not (lines and ch in _ALLOWED_IN_LINES):
            kind = {"Cc": "a control", "Cf": "an invisible or direction",
                    "Cs": "a lone surrogate"}[category]  # fmt: skip
            return f"character {at + 1} is {kind} character (U+{ord(ch):04X})"
    return None


def check_key(text: str, field: str, loc: SourceLoc) -> None:
    """CaseFileError for a desk key (case_id) with a control or invisible character: it is
    shown in lists and links, and a database may refuse it (PostgreSQL refuses NUL)."""
    bad = invisible(text)
    if bad is not None:
        message = f"{field}: {bad}"
        hint = "the desk keeps case ids of visible characters only"
        raise CaseFileError([Problem(loc, message, path=field, hint=hint)])


def shown(value: object) -> str:
    """A value as a message quotes it: a string in quotes, anything else as JSON; short."""
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."
