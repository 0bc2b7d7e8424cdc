"""L013 - L014: what a dated change of a parameter does: a value dated in the past re-rules
cases already decided; a new proof standard that no achievable score separates from the one
before it decides nothing new."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from engine.rules.lint.findings import Finding
from engine.rules.program import Expr, FieldRef, Parameter, ParamValue, Program

__all__ = ["backdated_values", "unseparated_standards"]


def _day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def _same_scope(a: ParamValue, b: ParamValue) -> bool:
    return a.platform == b.platform


def backdated_values(
    program: Program, *, today: str | None = None, baseline: Program | None = None
) -> Iterator[Finding]:
    """A value dated before a value written before it (an entry slipped into the past), or, when
    the approved rules are given, a new value of one of their parameters dated before ``today`` or
    before the newest value they had: cases already decided under the old value would now rule
    otherwise. (A new parameter has no old value to compare; impact shows what it changes.)"""
    approved = {p.name: p for p in baseline.parameters} if baseline is not None else {}
    how = (
        "to see which cases it changes: adjudicate impact ARCHIVE --old APPROVED_RULES "
        "--new RULES; or date it from a day still to come"
    )
    for param in program.parameters:
        old = approved.get(param.name)
        known = {(v.since, v.platform, repr(v.value)) for v in old.values} if old else set()
        for n, value in enumerate(param.values):
            earlier = [
                v for v in param.values[:n] if _same_scope(v, value) and v.since > value.since
            ]
            if earlier:
                newest = max(v.since for v in earlier)
                yield Finding(
                    code="L013",
                    message=f"value of '{param.name}' since {value.since} is back-dated: it is "
                    f"written after the value since {newest}, so it changes the past",
                    loc=value.loc,
                    hint=how,
                )
                continue
            if old is None or (value.since, value.platform, repr(value.value)) in known:
                continue  # no baseline, a value already approved, or a parameter of its own
            newest_old = max(
                (v.since for v in (old.values if old else ()) if _same_scope(v, value)),
                default=None,
            )
            if newest_old is not None and value.since < newest_old:
                reason = f"before the newest approved value (since {newest_old})"
            elif today is not None and value.since <= today:
                reason = f"not after today ({today})"
            else:
                continue
            yield Finding(
                code="L013",
                message=f"new value of '{param.name}' since {value.since} is back-dated: it is "
                f"{reason}, so cases already decided would now rule otherwise",
                loc=value.loc,
                hint=how,
            )


def _values_of(expr: Expr | None, params: dict[str, Parameter]) -> set[Decimal] | None:
    """Every value an expression can take, when it is a constant or a parameter; else None."""
    if expr is None:
        return None
    if expr.op == "const" and isinstance(expr.value, int | Decimal):
        return {Decimal(expr.value)}
    if expr.op == "ref" and isinstance(expr.value, FieldRef) and expr.value.alias == "param":
        param = params.get(expr.value.field)
        if param is not None and all(isinstance(v.value, int | Decimal) for v in param.values):
            return {Decimal(v.value) for v in param.values}
    return None


def _shown(value: Any) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def unseparated_standards(program: Program) -> Iterator[Finding]:
    """A dated value of an issue's standard that decides nothing its predecessor does not: the
    score of an issue is the weight of its strongest valid item (or 0), so two standards with no
    achievable score between them prove and fail exactly the same cases."""
    params = {p.name: p for p in program.parameters}
    for issue in program.issues:
        standard = issue.standard.value if issue.standard.op == "ref" else None
        param = params.get(standard.field) if isinstance(standard, FieldRef) else None
        if param is None or len(param.values) < 2:
            continue
        scores: set[Decimal] = {Decimal(0)}
        for rule in program.rules:
            for effect in rule.effects:
                if effect.kind == "supports" and effect.issue == issue.name:
                    weights = _values_of(effect.weight, params)
                    if weights is None:  # a computed weight: any score may be reached
                        scores = set()
                        break
                    scores |= weights
            if not scores:
                break
        if not scores:
            continue
        for value in param.values:
            before = param.value_on(_day_before(value.since), value.platform or "")
            if before is None or before.value == value.value:
                continue
            low, high = sorted((Decimal(before.value), Decimal(value.value)))
            if any(low <= score < high for score in scores):
                continue
            reachable = ", ".join(_shown(s) for s in sorted(scores))
            yield Finding(
                code="L014",
                message=f"standard {_shown(value.value)} of issue '{issue.name}' (since "
                f"{value.since}) decides nothing that {_shown(before.value)} does not: no "
                f"achievable score lies between them (scores: {reachable})",
                loc=value.loc,
                hint="a standard matters where a score can fall: change the weights of the "
                "items that support the issue, or choose a standard between two of them",
            )
