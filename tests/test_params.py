"""The parameters in force: by date (China time) and platform, from the dated values in rules/;
the per-period cache gives exactly what resolving each day afresh gives."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine import EngineError, Program, load_rules
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
        midnight = datetime(day.year, day.month, day.day, tzinfo=CST)
        for when in (
            midnight + timedelta(minutes=30),
            midnight + timedelta(hours=23, minutes=30),
            # the same moments around China's midnight written in other offsets, asked twice
            # (the second time from the per-day cache)
            (midnight - timedelta(microseconds=1)).astimezone(UTC),
            midnight.astimezone(UTC),
            (midnight + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=-5))),
            (midnight - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=14))),
        ):
            if when.astimezone(CST).date() < date(2015, 1, 1):  # before the whole policy
                continue
            fresh = resolve_parameters(program, platform, when)
            assert plan.parameters(platform, when) == fresh
            assert plan.parameters(platform, when) == fresh


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


def test_a_parameter_of_a_later_policy_is_missing_for_an_earlier_case(
    rules_copy: Callable[..., Path],
) -> None:
    program = load_rules(
        rules_copy(
            (
                "parameters.yaml",
                "\nparameters:\n",
                "\nparameters:\n  price_protection_window:\n"
                "    title: {zh: 价保期, en: Price protection window}\n"
                "    type: duration\n"
                "    values:\n      - {since: 2027-01-01, value: 15d, source: change}\n",
            )
        )
    )
    before = resolve_parameters(program, "taobao", datetime(2026, 12, 31, 12, tzinfo=CST))
    after = resolve_parameters(program, "taobao", datetime(2027, 1, 1, 12, tzinfo=CST))
    assert "price_protection_window" not in before.values
    assert before.not_in_force == ("price_protection_window",)
    assert after.values["price_protection_window"] == timedelta(days=15)


def test_a_case_dated_before_the_whole_policy_is_an_error(program: Program) -> None:
    with pytest.raises(EngineError) as caught:
        resolve_parameters(program, "taobao", datetime(2014, 6, 1, 12, tzinfo=CST))
    assert str(caught.value).startswith("no value of seller_response_time, virtual_goods_wait")
    assert str(caught.value).endswith(
        "is in force on 2014-06-01 (the earliest starts on 2015-01-01): add a dated value in "
        "rules/ or check the case's intervention_requested_at"
    )
