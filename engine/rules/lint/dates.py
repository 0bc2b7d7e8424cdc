"""L008 - L010: dates: profiles with gaps or overlaps, parameter values under a profile not in
force on their date, parameters with no value when a profile starts."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date, timedelta

from engine.rules.lint.findings import Finding
from engine.rules.program import Profile, Program

__all__ = ["parameter_profiles", "profile_dates"]


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def profile_dates(program: Program) -> Iterator[Finding]:
    platforms = {p.platform for p in program.profiles}
    for platform in sorted(platforms, key=lambda p: p or ""):
        group = sorted(
            (p for p in program.profiles if p.platform == platform),
            key=lambda p: p.since or "",
        )
        for profile in group:
            if profile.since and profile.until and profile.until < profile.since:
                yield Finding(
                    code="L008",
                    message=f"profile '{profile.name}' ends ({profile.until}) before it starts "
                    f"({profile.since})",
                    loc=profile.loc,
                )
        for before, after in itertools.pairwise(group):
            if after.since is None:
                continue
            if before.until is None:
                yield Finding(
                    code="L008",
                    message=f"profiles '{before.name}' and '{after.name}' overlap: "
                    f"'{before.name}' has no end date and '{after.name}' starts on {after.since}",
                    loc=before.loc,
                    hint=f"give '{before.name}' until: the day before {after.since}",
                )
            elif before.until >= after.since:
                yield Finding(
                    code="L008",
                    message=f"profiles '{before.name}' (until {before.until}) and "
                    f"'{after.name}' (since {after.since}) overlap",
                    loc=after.loc,
                    hint=f"start '{after.name}' on {_next_day(before.until)}",
                )
            elif _next_day(before.until) != after.since:
                yield Finding(
                    code="L008",
                    message=f"no profile is in force from {_next_day(before.until)} to the day "
                    f"before {after.since}, between '{before.name}' and '{after.name}'",
                    loc=after.loc,
                    hint=f"start '{after.name}' on {_next_day(before.until)}",
                )


def _profile_on(program: Program, day: str, platform: str) -> Profile | None:
    best: Profile | None = None
    best_key: tuple[bool, str] | None = None
    for profile in program.profiles:
        if (profile.since is not None and profile.since > day) or (
            profile.until is not None and profile.until < day
        ):
            continue
        if profile.platform is not None and profile.platform != platform:
            continue
        key = (profile.platform is not None, profile.since or "")
        if best_key is None or key > best_key:
            best, best_key = profile, key
    return best


def parameter_profiles(program: Program) -> Iterator[Finding]:
    for param in program.parameters:
        for value in param.values:
            if value.profile is None:
                continue
            in_force = _profile_on(program, value.since, value.platform or "")
            if in_force is None or in_force.name != value.profile:
                now = f"'{in_force.name}'" if in_force else "no profile"
                yield Finding(
                    code="L009",
                    message=f"value of '{param.name}' since {value.since} says profile "
                    f"'{value.profile}', but {now} is in force on that date",
                    loc=value.loc,
                    hint="correct the since date or the profile",
                )
    for profile in program.profiles:
        if profile.since is None:
            continue
        for param in program.parameters:
            if min(v.since for v in param.values) > profile.since:
                continue  # a parameter of a later policy: missing for cases before it, by design
            if param.value_on(profile.since, profile.platform or "") is None:
                yield Finding(
                    code="L010",
                    message=f"parameter '{param.name}' has no value in force on "
                    f"{profile.since}, when profile '{profile.name}' starts",
                    loc=param.loc,
                    hint=f"add a value with since: {profile.since} (or earlier)",
                )
