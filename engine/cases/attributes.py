"""Raw values of a case file typed against a declared type: evidence attributes (their types
are declared with the kinds in rules/) and durations as policy writes them ('72h', '3d').

A value that does not fit its type is ``None`` (the caller says so in a warning); nothing here
raises on bad input.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.model import Evidence, Type

__all__ = ["SAFE_INTEGER", "file_type", "fingerprint", "parse_duration", "typed"]

# beyond 2**53 durable_rules and Python no longer compare alike: such integers are mistyped
SAFE_INTEGER = 2**53
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> int | None:
    """'72h', '3d', '30m', '1d12h' -> seconds; None when not a duration."""
    total, number = 0, ""
    text = text.strip()
    if not text:
        return None
    for ch in text:
        if ch.isdigit():
            number += ch
        elif ch in _UNITS and number:
            total += int(number) * _UNITS[ch]
            number = ""
        else:
            return None
    return None if number else total


def typed(raw: Any, type_: Type) -> Any:
    """``raw`` (a JSON-like value) as a value of ``type_``: str, Decimal, int, bool, aware
    datetime, timedelta or tuple; None when it is missing or does not fit."""
    name = type_.name
    if raw is None:
        return None
    if name in ("text", "name"):
        if isinstance(raw, bool):
            return None
        return str(raw) if isinstance(raw, (str, int)) else None
    if name == "enum":
        return raw if isinstance(raw, str) and raw in type_.values else None
    if name == "integer":
        ok = isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) <= SAFE_INTEGER
        return raw if ok else None
    if name in ("number", "money"):
        if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal)):
            return None
        if isinstance(raw, int) and abs(raw) > SAFE_INTEGER:
            return None
        value = Decimal(str(raw))
        return value if value.is_finite() and abs(value) <= SAFE_INTEGER else None
    if name == "boolean":
        return raw if isinstance(raw, bool) else None
    if name == "time":
        if not isinstance(raw, str):
            return None
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    if name == "duration":
        seconds = parse_duration(raw) if isinstance(raw, str) else None
        return None if seconds is None else timedelta(seconds=seconds)
    if name == "list":
        if not isinstance(raw, (list, tuple)):
            return None
        if type_.values and not all(isinstance(x, str) and x in type_.values for x in raw):
            return None
        return tuple(raw)
    return None


def file_type(name: str) -> str:
    """A file name's extension, lower case, without the dot: ``PurePosixPath(name).suffix``'s
    rules (the last part of the path; none for ``.hidden`` or ``name.``), without building a
    path for every file of every case."""
    last = next((part for part in reversed(name.split("/")) if part and part != "."), "")
    dot = last.rfind(".")
    return last[dot + 1 :].lower() if 0 < dot < len(last) - 1 else ""


def fingerprint(item: Evidence) -> str:
    """Equal for two items of the same kind with the same attributes (a resubmission)."""
    body = repr((item.kind, sorted(item.attributes, key=lambda kv: kv[0])))
    return hashlib.blake2b(body.encode(), digest_size=16).hexdigest()
