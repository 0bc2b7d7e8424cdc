"""Which parameter values and which profile are in force for a case (by date and platform).

A parameter's value is the entry with the latest ``since`` on or before the case's date (the day
of ``intervention_requested_at`` in the policy's timezone); an entry for the case's platform
beats a general entry of the same date. The profile shown is the most specific declared profile
whose dates and platform contain the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from engine.errors import EngineError
from engine.rules.program import ParamValue, Program, Text
from engine.rules.quoting import fill, shown

__all__ = ["Resolved", "policy_timezone", "resolve_parameters"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolved:
    day: str  # the case's date in the policy's timezone, YYYY-MM-DD
    platform: str
    profile: str | None
    values: dict[str, Any]  # name -> domain value (Decimal, timedelta, int, str, bool, tuple)
    chosen: dict[str, ParamValue]  # name -> the dated entry in force
    # parameters with no value yet on the day (a policy that starts later): missing for the case
    not_in_force: tuple[str, ...] = ()

    def quote(self, text: Text) -> Text:
        """``text`` with the parameters it quotes (``{param.NAME}``) as in force for the case."""
        if "{param." not in text.zh and "{param." not in text.en:
            return text
        return fill(text, lambda name: shown(e) if (e := self.chosen.get(name)) else None)


def policy_timezone(program: Program) -> timezone:
    sign = 1 if program.timezone[0] == "+" else -1
    hours, minutes = int(program.timezone[1:3]), int(program.timezone[4:6])
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def resolve_parameters(program: Program, platform: str, when: datetime) -> Resolved:
    day = when.astimezone(policy_timezone(program)).date().isoformat()
    values: dict[str, Any] = {}
    chosen: dict[str, ParamValue] = {}
    missing = []
    for param in program.parameters:
        entry = param.value_on(day, platform)
        if entry is None:
            missing.append(param.name)
            continue
        chosen[param.name] = entry
        value = entry.value
        values[param.name] = timedelta(seconds=value) if param.type.name == "duration" else value
    first = min((v.since for p in program.parameters for v in p.values), default=day)
    if missing and day < first:
        raise EngineError(
            f"no value of {', '.join(missing)} is in force on {day} (the earliest starts on "
            f"{first}): add a dated value in rules/ or check the case's intervention_requested_at"
        )
    # a parameter whose first value is later than the case (say, a policy of 2027 on a case of
    # 2024) is missing for it, like any missing value: what reads it does not hold
    profile = None
    best_key: tuple[bool, str] | None = None
    for prof in program.profiles:
        if prof.since is not None and prof.since > day:
            continue
        if prof.until is not None and prof.until < day:
            continue
        if prof.platform is not None and prof.platform != platform:
            continue
        key = (prof.platform is not None, prof.since or "")
        if best_key is None or key > best_key:
            profile, best_key = prof.name, key
    return Resolved(
        day=day,
        platform=platform,
        profile=profile,
        values=values,
        chosen=chosen,
        not_in_force=tuple(missing),
    )
