"""Texts of the rules that quote parameters: a reason written with
``{param.accepted_file_types}`` says, in each ruling, the value in force for that case, so it
never goes stale when the value changes from a date."""

from __future__ import annotations

import re
from collections.abc import Callable

from engine.rules.program import ParamValue, Text

__all__ = ["QUOTE", "fill", "quoted", "shown"]

QUOTE = re.compile(r"\{param\.([A-Za-z_][A-Za-z0-9_]*)\}")


def quoted(text: Text) -> tuple[str, ...]:
    """The parameters a text quotes, in order, each once."""
    names = [m.group(1) for part in (text.zh, text.en) for m in QUOTE.finditer(part)]
    return tuple(dict.fromkeys(names))


def shown(entry: ParamValue) -> str:
    """A parameter's value as a sentence shows it: as written, a list without its brackets."""
    text = entry.text or str(entry.value)
    if text.startswith("[") and text.endswith("]"):
        return text[1:-1].strip()
    return text


def fill(text: Text, value_of: Callable[[str], str | None]) -> Text:
    """``text`` with each ``{param.NAME}`` replaced by ``value_of(NAME)`` (left as written when
    the parameter has no value for the case)."""

    def one(part: str) -> str:
        return QUOTE.sub(lambda m: value_of(m.group(1)) or m.group(0), part)

    return Text(zh=one(text.zh), en=one(text.en))
