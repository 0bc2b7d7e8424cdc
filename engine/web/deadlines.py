"""The platform's deadlines on a case in China's working days: what the queue shows as due.

The rules' ``service_levels`` say from which time of a case and within how many working days
(dated parameters); this module counts the days. A working day is one the official calendar
says is worked: weekends off, public holidays off, and the weekend days worked in exchange
(调休) on. The calendar is the ``chinese-calendar`` library, which knows the years the State
Council has published; for a year it does not know, weekends alone are counted and the
deadline is marked ``estimated``, which the queue shows as a warning.

Day ``n`` is the n-th working day after the day of the start time (in the policy's timezone):
a request on Friday with one working day is due on Monday, or later when Monday is a holiday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from engine.model import Case
from engine.rules.program import Program, ServiceLevel, Text
from engine.run.facts import FactPlan
from engine.run.params import policy_timezone

__all__ = ["Deadline", "Deadlines", "is_working_day"]


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> tuple[bool, bool]:
    """(worked, known): ``known`` is False when the calendar does not cover the year, and
    ``worked`` then only says whether it is a weekday."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day)), True
    except NotImplementedError:  # "no available data for year ..."
        return day.weekday() < 5, False


def working_day_after(start: date, days: int) -> tuple[date, bool]:
    """The ``days``-th working day after ``start`` (``start`` itself for 0), and whether every
    day counted was known to the calendar."""
    day, known, left = start, True, days
    while left > 0:
        day += timedelta(days=1)
        worked, sure = is_working_day(day)
        known = known and sure
        left -= worked
    return day, known


@dataclass(frozen=True, slots=True, kw_only=True)
class Deadline:
    level: str
    title: Text
    start: datetime
    days: int  # the latest, in working days
    due: date
    target_days: int | None  # the usual, when the rules give one
    target: date | None
    estimated: bool  # a year the calendar does not know was counted by weekends alone

    @property
    def unknown_years(self) -> tuple[int, ...]:
        last = self.due if self.target is None else max(self.due, self.target)
        return tuple(y for y in range(self.start.year, last.year + 1)
                     if not is_working_day(date(y, 6, 1))[1])  # fmt: skip


class Deadlines:
    """The service levels of ``program`` applied to cases."""

    def __init__(self, program: Program, plan: FactPlan) -> None:
        self.levels: tuple[ServiceLevel, ...] = program.service_levels
        self.plan = plan
        self.tz = policy_timezone(program)

    def of(self, case: Case) -> tuple[Deadline, ...]:
        appeal = case.dispute.appeal is not None
        params = self.plan.parameters(case.platform, case.dispute.intervention_requested_at)
        out = []
        for level in self.levels:
            if level.cases == "first" and appeal or level.cases == "appeal" and not appeal:
                continue
            fact, field = level.start
            holder = {"dispute": case.dispute, "order": case.order,
                      "appeal": case.dispute.appeal}[fact]  # fmt: skip
            start = getattr(holder, field, None) if holder is not None else None
            if not isinstance(start, datetime):
                continue  # the case has no such time (yet): no deadline from it
            local = start.astimezone(self.tz)
            days = int(params.values[level.within])
            due, known = working_day_after(local.date(), days)
            target_days = None if level.target is None else int(params.values[level.target])
            target = None
            if target_days is not None:
                target, sure = working_day_after(local.date(), target_days)
                known = known and sure
            out.append(
                Deadline(
                    level=level.name, title=level.title, start=local, days=days, due=due,
                    target_days=target_days, target=target, estimated=not known,
                )  # fmt: skip
            )
        return tuple(out)
