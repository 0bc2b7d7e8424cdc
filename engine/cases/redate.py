"""A case moved in time: every time in it shifted by the same whole number of days, so that its
intervention falls on a given day and every interval (deadlines, waits, windows) is kept.

Rule tests use it (``date:``), and impact (``--as-of``) to see what a change dated in the
future would do to the cases of an archive.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from engine.model import Case, Evidence, Record

__all__ = ["redated"]


def redated(case: Case, day: str, tz: tzinfo) -> Case:
    """``case`` with its intervention on ``day`` (YYYY-MM-DD in ``tz``), every time moved alike."""
    current = case.dispute.intervention_requested_at.astimezone(tz).date()
    delta = timedelta(days=(date.fromisoformat(day) - current).days)
    if not delta:
        return case
    order = _moved(case.order, delta)
    dispute = _moved(case.dispute, delta)
    if dispute.appeal is not None:
        dispute = dataclasses.replace(dispute, appeal=_moved(dispute.appeal, delta))
    evidence = tuple(_item(item, delta) for item in case.evidence)
    decision = _moved(case.decision, delta) if case.decision is not None else None
    return dataclasses.replace(
        case, order=order, dispute=dispute, evidence=evidence, decision=decision
    )


def _moved(record: Any, delta: timedelta) -> Any:
    """A frozen record with its datetime fields, and the declared ones in ``extra``, moved."""
    changes: dict[str, Any] = {
        f.name: value + delta
        for f in dataclasses.fields(record)
        if isinstance(value := getattr(record, f.name), datetime)
    }
    extra = getattr(record, "extra", ())
    if extra:
        changes["extra"] = tuple(
            (name, value + delta if isinstance(value, datetime) else value) for name, value in extra
        )
    return dataclasses.replace(record, **changes) if changes else record


def _item(item: Evidence, delta: timedelta) -> Evidence:
    attributes = tuple((key, _shift(value, delta)) for key, value in item.attributes)
    return dataclasses.replace(item, submitted_at=item.submitted_at + delta, attributes=attributes)


def _shift(value: Any, delta: timedelta) -> Any:
    """An attribute's value with the times written in it moved (a chat message's ``at``)."""
    if isinstance(value, Record):
        return Record(tuple((key, _shift(item, delta)) for key, item in value))
    if isinstance(value, tuple):
        return tuple(_shift(item, delta) for item in value)
    if isinstance(value, str) and "T" in value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        if moment.utcoffset() is not None:
            return (moment + delta).isoformat()
    return value
