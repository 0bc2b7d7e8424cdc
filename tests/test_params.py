"""The parameters in force: by date (China time) and platform, from the dated values in rules/;
the per-period cache gives exactly what resolving each day afresh gives."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from engine import Program
from engine.run.facts import FactPlan
from engine.run.params import resolve_parameters

CST = timezone(timedelta(hours=8))


@pytest.mark.parametrize("platform", ["taobao", "tmall"])
def test_the_cache_agrees_with_fresh_resolution_around_every_boundary(
    program: Program, platform: str
) -> None:
    plan = FactPlan(program)
    days = {date(2015, 1, 1), date(2021, 3, 17), date(2021, 3, 18), date(2026, 1, 1)}
    days |= {d + timedelta(days=k) for d in list(days) for k in (-1, 1)}
    for day in sorted(days):
        if day < date(2015, 1, 1):
            continue
        for hour in (0, 23):
            when = datetime(day.year, day.month, day.day, hour, 30, tzinfo=CST)
            assert plan.parameters(platform, when) == resolve_parameters(program, platform, when)


def test_the_late_shipment_maximum_follows_the_profile_dates(program: Program) -> None:
    def maximum(day: str) -> object:
        when = datetime.fromisoformat(f"{day}T12:00:00+08:00")
        return resolve_parameters(program, "taobao", when).values["late_shipment_max"]

    assert str(maximum("2021-03-17")) == "30.0" and str(maximum("2021-03-18")) == "50.0"


def test_the_day_is_taken_in_china_time(program: Program) -> None:
    # 2021-03-17T16:30Z is 2021-03-18 00:30 in China: the default profile is in force
    when = datetime(2021, 3, 17, 16, 30, tzinfo=UTC)
    resolved = resolve_parameters(program, "taobao", when)
    assert resolved.day == "2021-03-18" and resolved.profile == "default"
