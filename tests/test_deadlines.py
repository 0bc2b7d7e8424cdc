"""The platform's deadlines in China's working days (seed 004: first check within 1 working day,
review within 3-5, appeal review 2-3): holidays and make-up working days counted from the
official calendar, a year it does not know counted by weekends with a warning, the day counts
dated parameters in rules/."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from conftest import CASEFILES
from webdesk import QUALITY, YAML, client

from engine import Program, load_rules
from engine.errors import RuleFileError
from engine.web.deadlines import is_working_day, working_day_after

NATIONAL_DAY = QUALITY.read_text(encoding="utf-8").replace(
    "intervention_requested_at: 2024-05-06T10:00:00+08:00",
    "intervention_requested_at: 2024-09-30T10:00:00+08:00",
)


def test_holidays_are_skipped_and_make_up_working_days_count() -> None:
    # 2024: National Day off 1-7 October; Sunday 29 September and Saturday 12 October worked
    assert is_working_day(date(2024, 10, 3)) == (False, True)
    assert is_working_day(date(2024, 9, 29)) == (True, True)
    assert working_day_after(date(2024, 9, 30), 1) == (date(2024, 10, 8), True)
    assert working_day_after(date(2024, 9, 30), 5) == (date(2024, 10, 12), True)  # a Saturday
    assert working_day_after(date(2024, 3, 1), 1) == (date(2024, 3, 4), True)  # Friday -> Monday


def test_a_year_the_calendar_does_not_know_counts_weekends_and_says_so() -> None:
    assert working_day_after(date(2040, 12, 28), 3) == (date(2041, 1, 2), False)


def test_the_desk_shows_each_case_s_due_dates_in_working_days(
    tmp_path: Path, program: Program
) -> None:
    with client(program, tmp_path / "desk.sqlite3") as http:
        case = http.post("/v1/cases", content=NATIONAL_DAY.encode(), headers=YAML).json()
        due = {d["level"]: (d["target"], d["due"], d["estimated"]) for d in case["due"]}
        assert due == {
            "first_check": (None, "2024-10-08", False),
            "review": ("2024-10-10", "2024-10-12", False),
        }
        page = http.get(f"/cases/{case['id']}?lang=en").text
        assert (
            "Review and ruling: 2024-10-10–2024-10-12 (3–5 working days from "
            "2024-09-30 10:00" in page
        )
        queue = http.get("/?lang=en").text
        assert "Review and ruling 2024-10-12" in queue
        assert 'id="calendar-warning"' not in queue


def test_an_appeal_has_the_appeal_review_deadline_only(tmp_path: Path, program: Program) -> None:
    appeal = CASEFILES / "appeal-seller-new-receipt-changed.yaml"
    with client(program, tmp_path / "desk.sqlite3") as http:
        case = http.post("/v1/cases", content=appeal.read_bytes(), headers=YAML).json()
    # filed Friday 2024-11-08 14:00: 2 working days -> Tuesday, 3 -> Wednesday
    assert [(d["level"], d["target"], d["due"]) for d in case["due"]] == [
        ("appeal_review", "2024-11-12", "2024-11-13")
    ]


def test_the_queue_warns_when_a_due_date_falls_in_a_year_the_calendar_does_not_know(
    tmp_path: Path, program: Program
) -> None:
    late = NATIONAL_DAY.replace("2024-09-30T10:00:00+08:00", "2040-12-28T10:00:00+08:00")
    with client(program, tmp_path / "desk.sqlite3") as http:
        case = http.post("/v1/cases", content=late.encode(), headers=YAML).json()
        assert all(d["estimated"] for d in case["due"])
        queue = http.get("/?lang=en").text
    assert (
        "The working-day calendar has no holidays for 2040, 2041: those years count weekends "
        "only, so the due dates are estimates." in queue
    )


def test_the_day_counts_are_dated_parameters_in_the_rules(
    tmp_path: Path, rules_copy: Callable[..., Path]
) -> None:
    rules = rules_copy(
        ("parameters.yaml", "整个处理过程通常需要3-5个工作日\"\n",
         "整个处理过程通常需要3-5个工作日\"\n      - since: 2024-09-01\n        value: 7\n"
         "        source: a test's later value\n"),
    )  # fmt: skip
    with client(load_rules(rules), tmp_path / "desk.sqlite3") as http:
        case = http.post("/v1/cases", content=NATIONAL_DAY.encode(), headers=YAML).json()
    review = next(d for d in case["due"] if d["level"] == "review")
    assert (review["days"], review["due"]) == (7, "2024-10-15")


def test_a_service_level_must_count_in_working_days(rules_copy: Callable[..., Path]) -> None:
    rules = rules_copy(
        ("service_levels.yaml", "within: param.first_check_working_days",
         "within: param.evidence_period"),
    )  # fmt: skip
    with pytest.raises(RuleFileError) as error:
        load_rules(rules)
    assert str(error.value) == (
        f"{rules}/service_levels.yaml:9:13: parameter 'evidence_period' is a duration; "
        "'within' needs one of type working_days\n"
        "    within: param.evidence_period\n"
        "            ^"
    )
