"""Warnings about the case file itself (an unknown kind, a mistyped attribute, a name mixing
scripts): raised while facts are built as a key and its values, worded from the message
catalogue (``reports/messages.yaml``, section ``notices``) when the ruling is made."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from engine.ruling import Reason
from engine.shipped import messages

__all__ = ["Notice", "notice_reason"]


@dataclass(frozen=True, slots=True)
class Notice:
    """One warning: its catalogue key and the values its wording names, as (name, text) pairs."""

    key: str
    values: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, key: str, **values: str) -> Notice:
        return cls(key, tuple(sorted(values.items())))


@functools.lru_cache(maxsize=4096)
def notice_reason(notice: Notice) -> Reason:
    """The notice in both languages, as a ruling's warnings carry it (no rule: the engine's)."""
    texts = messages()["notices"][notice.key]
    values = dict(notice.values)
    return Reason(rule=None, zh=texts["zh"].format(**values), en=texts["en"].format(**values))
