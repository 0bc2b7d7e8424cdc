"""The confidence below which a read attribute does not count: the rules' parameter
``read_confidence_min`` (rules/parameters.yaml), as in force on a day."""

from __future__ import annotations

from datetime import date

from engine.rules.program import Program

__all__ = ["PARAMETER", "read_confidence_min"]

PARAMETER = "read_confidence_min"


def read_confidence_min(program: Program, day: date | None = None, platform: str = "") -> float:
    """The value in force on ``day`` (today when not given); 1.0 when the rules declare none,
    so that nothing read counts without a person's confirmation."""
    wanted = (day or date.today()).isoformat()
    for param in program.parameters:
        if param.name != PARAMETER:
            continue
        best = None
        for value in param.values:
            if value.since <= wanted and value.platform in (None, platform or value.platform):
                if best is None or (value.since, value.platform is not None) > (
                    best.since,
                    best.platform is not None,
                ):
                    best = value
        if best is not None:
            return float(best.value)
    return 1.0
