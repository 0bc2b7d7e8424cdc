"""Raw values of a case file typed against a declared type: evidence attributes (their types
are declared with the kinds in rules/) and durations as policy writes them ('72h', '3d').

A value that does not fit its type is ``None`` (the caller says so in a warning); nothing here
raises on bad input.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from operator import itemgetter
from typing import Any

from engine.model import Evidence, Type

__all__ = ["SAFE_INTEGER", "Typer", "file_type", "fingerprint", "parse_duration", "typed", "typer"]

# beyond 2**53 durable_rules and Python no longer compare alike: such integers are mistyped
SAFE_INTEGER = 2**53
_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_NAME = itemgetter(0)  # an attribute's name
Typer = Callable[[Any], Any]  # raw value -> typed value, None when it does not fit
_FINGERPRINT = hashlib.blake2b(digest_size=16)  # copied for each item: no arguments to parse
_NAME_TEXTS: dict[str, str] = {}  # a kind's or an attribute's name -> its repr, made once
_NAMES_KEPT = 4096  # names come from the rules' kinds: a few dozen


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
    if raw is None:
        return None
    simple = _SIMPLE.get(type_.name)
    if simple is not None:
        return simple(raw)
    if type_.name == "enum":
        return _enum(raw, type_.values)
    if type_.name == "list":
        return _list(raw, type_.values)
    return None


def typer(type_: Type) -> Typer:
    """``typed`` for one type, chosen once: raw value -> typed value or None."""
    simple = _SIMPLE.get(type_.name)
    if simple is not None:
        return simple
    values = type_.values
    if type_.name == "enum":
        return lambda raw: _enum(raw, values)
    if type_.name == "list":
        return lambda raw: _list(raw, values)
    return _nothing


def _text(raw: Any) -> Any:
    if isinstance(raw, bool):
        return None
    return str(raw) if isinstance(raw, (str, int)) else None


def _enum(raw: Any, values: tuple[str, ...]) -> Any:
    return raw if isinstance(raw, str) and raw in values else None


def _integer(raw: Any) -> Any:
    ok = isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) <= SAFE_INTEGER
    return raw if ok else None


def _number(raw: Any) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal)):
        return None
    if isinstance(raw, int) and abs(raw) > SAFE_INTEGER:
        return None
    value = Decimal(str(raw))
    return value if value.is_finite() and abs(value) <= SAFE_INTEGER else None


def _boolean(raw: Any) -> Any:
    return raw if isinstance(raw, bool) else None


def _time(raw: Any) -> Any:
    if not isinstance(raw, str):
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _duration(raw: Any) -> Any:
    seconds = parse_duration(raw) if isinstance(raw, str) else None
    return None if seconds is None else timedelta(seconds=seconds)


def _list(raw: Any, values: tuple[str, ...]) -> Any:
    if not isinstance(raw, (list, tuple)):
        return None
    if values and not all(isinstance(x, str) and x in values for x in raw):
        return None
    return tuple(raw)


def _nothing(raw: Any) -> Any:
    return None


# the types whose values are typed the same way whatever their declaration's details
_SIMPLE: dict[str, Typer] = {
    "text": _text, "name": _text, "integer": _integer, "number": _number, "money": _number,
    "boolean": _boolean, "time": _time, "duration": _duration,
}  # fmt: skip


def file_type(name: str) -> str:
    """A file name's extension, lower case, without the dot: ``PurePosixPath(name).suffix``'s
    rules (the last part of the path; none for ``.hidden`` or ``name.``), without building a
    path for every file of every case."""
    if "/" not in name:  # the commonest: the name is its last part ("." has no extension)
        last = name
    else:
        last = next((part for part in reversed(name.split("/")) if part and part != "."), "")
    dot = last.rfind(".")
    return last[dot + 1 :].lower() if 0 < dot < len(last) - 1 else ""


def _name_text(name: object) -> str:
    """``repr(name)``; a name's text made once (names are the few the kinds declare)."""
    if type(name) is not str:
        return repr(name)
    text = _NAME_TEXTS.get(name)
    if text is None:
        text = repr(name)
        if len(_NAME_TEXTS) < _NAMES_KEPT:
            _NAME_TEXTS[name] = text
    return text


def fingerprint(item: Evidence) -> str:
    """Equal for two items of the same kind with the same attributes (a resubmission): the
    digest of ``repr((kind, sorted(attributes)))``, written out part by part (entering the
    repr of a container is slow) and joined once."""
    # as objects: compiled, a typed loop would refuse what is not a (name, value) pair
    attributes: Sequence[object] = item.attributes
    if len(attributes) > 1:  # one attribute is in order as it is
        ordered = sorted(item.attributes, key=_NAME)
        attributes = ordered
    parts = ["(", _name_text(item.kind), ", ["]
    for n, pair in enumerate(attributes):
        if n:
            parts.append(", ")
        if type(pair) is tuple and len(pair) == 2:
            parts.append("(")
            parts.append(_name_text(pair[0]))
            parts.append(", ")
            parts.append(repr(pair[1]))
            parts.append(")")
        else:
            parts.append(repr(pair))
    parts.append("])")
    digest = _FINGERPRINT.copy()
    digest.update("".join(parts).encode())
    return digest.hexdigest()
