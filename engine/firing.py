"""A firing: one rule matched one binding of its aliases to a case's facts."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Firing"]


class Firing(NamedTuple):
    """``rule_id`` fired with ``bindings``: (alias, fact key) pairs, e.g. ("evidence", "E1")."""

    rule_id: str
    bindings: tuple[tuple[str, str], ...]

    def key_of(self, alias: str) -> str | None:
        for name, key in self.bindings:
            if name == alias:
                return key
        return None

    @property
    def facts(self) -> tuple[str, ...]:
        return tuple(key for _, key in self.bindings)
