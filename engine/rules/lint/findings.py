"""A lint finding: a stable code, where, what and how to fix it; the codes and their titles."""

from __future__ import annotations

from dataclasses import dataclass

from engine.errors import Problem, source_lines
from engine.model import SourceLoc

__all__ = ["CODES", "Finding"]

CODES = {
    "L001": "no outcome for a combination of issue statuses",
    "L002": "dispute type with no burden and no outcome of its own",
    "L003": "rules that can fire together with contradictory effects",
    "L004": "condition that can never hold",
    "L005": "rule on an issue its dispute types never decide",
    "L006": "issue no dispute type decides",
    "L007": "evidence kind that can never count",
    "L008": "profiles with a gap or an overlap",
    "L009": "parameter value under the wrong profile",
    "L010": "parameter with no value when a profile starts",
    "L011": "unfinished reason or source",
    "L012": "comparison with a kind or issue that does not exist",
    "L013": "parameter value dated in the past",
    "L014": "proof standard that decides nothing new",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One policy smell: its code, where it is, what it is and how to fix it."""

    code: str
    message: str
    loc: SourceLoc
    hint: str = ""

    def problem(self, lines: dict[str, list[str]] | None = None) -> Problem:
        """As a Problem (``file:line:col: Lxxx message``, the line and the hint)."""
        source = (lines or {}).get(self.loc.path) or source_lines(self.loc.path)
        return Problem.at(self.loc, f"{self.code} {self.message}", source, hint=self.hint)

    def __str__(self) -> str:
        return str(self.problem())
