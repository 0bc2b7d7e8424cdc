"""Two Programs -> what changed between them: rules, parameter values by date, declarations.

Rules are matched by id, parameter values by (since, platform), everything else by name. A change
says what it concerns, how (added, removed, changed), the details that differ in words a policy
author wrote (conditions and values as written, effects, source, reason) and where it is now
written. A parameter value shows the value in force before it and the one it brings (old -> new).
``review_warnings`` says what a reviewer must not miss: rules that changed under the same
version, values dated in the past.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from engine.model import SourceLoc
from engine.rules.program import (
    AliasTable,
    Derived,
    DisputeType,
    Effect,
    EvidenceKind,
    Issue,
    Parameter,
    ParamValue,
    Profile,
    Program,
    Rule,
)
from engine.rules.semantics import condition_text

__all__ = ["Change", "diff_programs", "render_changes", "review_warnings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One difference: ``subject`` ("rule", "parameter", ...) ``name`` was added/removed/changed."""

    subject: str
    name: str
    change: str  # added | removed | changed
    details: tuple[str, ...] = ()
    since: str | None = None  # the effective date, for a parameter value
    loc: SourceLoc | None = None  # where it is written in the new rules (old, when removed)

    @property
    def sign(self) -> str:
        return {"added": "+", "removed": "-", "changed": "~"}[self.change]


def diff_programs(old: Program, new: Program) -> tuple[Change, ...]:
    """Every difference, declarations first, then rules, then parameter values by date."""
    changes: list[Change] = []
    for key in ("name", "version", "timezone", "appeal_deadline"):
        before, after = getattr(old, key), getattr(new, key)
        if before != after:
            changes.append(
                Change(
                    subject="policy", name=key, change="changed", details=(f"{before} -> {after}",)
                )
            )
    changes += _named("profile", old.profiles, new.profiles, _profile_fields)
    changes += _named(
        "evidence kind", old.evidence_kinds, new.evidence_kinds, _kind_fields(old, new)
    )
    changes += _named("alias table", old.aliases, new.aliases, _alias_fields)
    changes += _named("issue", old.issues, new.issues, _issue_fields)
    preds = _predicates(old, new)
    changes += _named(
        "dispute type", old.dispute_types, new.dispute_types, lambda d: _dispute_fields(d, preds)
    )
    changes += _named(
        "derived value", old.derived, new.derived, lambda d: _derived_fields(d, preds)
    )
    changes += _rules(old, new)
    changes += _parameters(old, new)
    return tuple(changes)


def render_changes(changes: Iterable[Change]) -> str:
    """The changes as text: one line each, details indented, parameter values under their date."""
    lines: list[str] = []
    dated: dict[str, list[Change]] = {}
    for change in changes:
        if change.since is not None:
            dated.setdefault(change.since, []).append(change)
            continue
        where = f"  [{change.loc}]" if change.loc else ""
        lines.append(f"{change.sign} {change.subject} {change.name}{where}")
        lines.extend(f"    {detail}" for detail in change.details)
    for since in sorted(dated):
        lines.append(f"from {since}:")
        for change in dated[since]:
            where = f"  [{change.loc}]" if change.loc else ""
            lines.append(f"  {change.sign} parameter {change.name}: {change.details[0]}{where}")
            lines.extend(f"      {detail}" for detail in change.details[1:])
    return "\n".join(lines)


# ---------------------------------------------------------------- generic


def _named(subject: str, old: Iterable[Any], new: Iterable[Any], fields: Any) -> Iterator[Change]:
    before = {item.name: item for item in old}
    after = {item.name: item for item in new}
    for name, item in after.items():
        if name not in before:
            yield Change(subject=subject, name=name, change="added", loc=item.loc)
            continue
        details = _compare(fields(before[name]), fields(item))
        if details:
            yield Change(
                subject=subject, name=name, change="changed", details=details, loc=item.loc
            )
    for name, item in before.items():
        if name not in after:
            yield Change(subject=subject, name=name, change="removed", loc=item.loc)


def _compare(before: dict[str, str], after: dict[str, str]) -> tuple[str, ...]:
    out = []
    for key in dict.fromkeys([*before, *after]):
        one, two = before.get(key, "(none)"), after.get(key, "(none)")
        if one != two:
            out.append(f"{key}: {one} -> {two}")
    return tuple(out)


# ---------------------------------------------------------------- declarations


def _profile_fields(profile: Profile) -> dict[str, str]:
    return {
        "since": str(profile.since),
        "until": str(profile.until),
        "platform": str(profile.platform),
        "title": f"{profile.title.zh} / {profile.title.en}",
    }


def _kind_fields(old: Program, new: Program) -> Any:
    def fields(kind: EvidenceKind) -> dict[str, str]:
        program = new if new.kind(kind.name) is kind else old
        out = {f"attribute {name}": str(type_) for name, type_ in kind.attributes}
        for rid in kind.requirements:
            requirement = program.requirement(rid)
            out[f"requirement {rid}"] = requirement.unmet.en if requirement else rid
        out["title"] = f"{kind.title.zh} / {kind.title.en}"
        for extract in kind.extract:  # how an attribute is read from the item's files
            options = ", ".join(f"{k}={v!r}" for k, v in extract.options)
            out[f"extract {extract.attribute}"] = f"{extract.extractor}({options})"
        return out

    return fields


def _alias_fields(table: AliasTable) -> dict[str, str]:
    return {f"name {canonical}": ", ".join(others) for canonical, others in table.entries}


def _issue_fields(issue: Issue) -> dict[str, str]:
    return {
        "standard": issue.standard.text,
        "lower_bound": issue.lower_bound.text,
        "margin": issue.margin.text,
    }


def _predicates(old: Program, new: Program) -> Any:
    """item -> the predicate texts of the program it comes from (their field names differ)."""
    tables = {id(program): program.predicate_texts() for program in (old, new)}
    members = {id(x): id(new) for x in (*new.dispute_types, *new.derived)}
    members.update({id(x): id(old) for x in (*old.dispute_types, *old.derived)})
    return lambda item: tables[members[id(item)]]


def _dispute_fields(dtype: DisputeType, predicates: Any) -> dict[str, str]:
    out = {"burden": ", ".join(f"{issue}: {party}" for issue, party in dtype.burdens) or "(none)"}
    for issue, condition in dtype.skips:
        out[f"{issue} skipped when"] = condition_text(condition, predicates(dtype))
    out["title"] = f"{dtype.title.zh} / {dtype.title.en}"
    return out


def _derived_fields(item: Derived, predicates: Any) -> dict[str, str]:
    out = {"type": str(item.type)}
    if item.expr is not None:
        out["value"] = item.expr.text
    if item.aggregate is not None:
        out[item.aggregate] = item.of.text if item.of is not None else "evidence"
    if item.where != ((),):
        out["where"] = condition_text(item.where, predicates(item))
    return out


# ---------------------------------------------------------------- rules


def _rules(old: Program, new: Program) -> Iterator[Change]:
    before = {rule.id: rule for rule in old.rules}
    after = {rule.id: rule for rule in new.rules}
    old_predicates = {p.field: p.text for p in old.predicates}
    new_predicates = {p.field: p.text for p in new.predicates}
    for rid, rule in after.items():
        if rid not in before:
            summary = _rule_summary(rule, new_predicates)
            yield Change(subject="rule", name=rid, change="added", details=summary, loc=rule.loc)
            continue
        details = _compare(
            _rule_fields(before[rid], old_predicates), _rule_fields(rule, new_predicates)
        )
        if details:
            yield Change(subject="rule", name=rid, change="changed", details=details, loc=rule.loc)
    for rid, rule in before.items():
        if rid not in after:
            yield Change(subject="rule", name=rid, change="removed", loc=rule.loc)


def _rule_fields(rule: Rule, predicates: dict[str, str]) -> dict[str, str]:
    matched = [f"{a.name}: {a.kind or a.fact_type}" for a in rule.aliases if a.name != a.fact_type]
    out = {"title": rule.title, "match": ", ".join(matched) or "(none)"}
    if rule.dispute_types:
        out["dispute_type"] = ", ".join(rule.dispute_types)
    # the conditions as written (several: all must hold); a rule built otherwise shows its atoms
    if rule.when:
        several = len(rule.when) > 1
        out["when"] = " and ".join(f"({c})" if several and " or " in c else c for c in rule.when)
    elif not rule.dispute_types:
        out["when"] = condition_text(rule.alternatives, predicates)
    for n, effect in enumerate(rule.effects):
        out[f"then[{n}]" if len(rule.effects) > 1 else "then"] = _effect_text(effect)
    out["source"] = rule.source
    out["reason.zh"] = rule.reason.zh
    out["reason.en"] = rule.reason.en
    return out


def _rule_summary(rule: Rule, predicates: dict[str, str]) -> tuple[str, ...]:
    fields = _rule_fields(rule, predicates)
    return tuple(
        f"{key}: {fields[key]}"
        for key in fields
        if key.startswith(("dispute_type", "when", "then"))
    )


def _effect_text(effect: Effect) -> str:
    parts = [effect.kind]
    for name in ("target", "issue", "ruling", "reason_code", "return_shipping_paid_by"):
        value = getattr(effect, name)
        if value is not None and not (name == "target" and value == "evidence"):
            parts.append(f"{name}={value}")
    if effect.requirements:
        parts.append(f"requirements={','.join(effect.requirements)}")
    if effect.kind == "ruling":
        parts.append(f"priority={effect.priority}")
        if effect.return_required:
            parts.append("return_required=true")
        if not effect.appealable:
            parts.append("appealable=false")
        if effect.next_step_party:
            parts.append(f"next_step={effect.next_step_party}")
    for name in ("weight", "refund", "compensation", "next_step_until"):
        expr = getattr(effect, name)
        if expr is not None:
            parts.append(f"{name}={expr.text}")
    if effect.substitutes:
        parts.append(", ".join(f"{a}->{b}" for a, b in effect.substitutes))
    return " ".join(parts)


# ---------------------------------------------------------------- parameters


def _parameters(old: Program, new: Program) -> Iterator[Change]:
    before = {p.name: p for p in old.parameters}
    after = {p.name: p for p in new.parameters}
    for name in dict.fromkeys([*after, *before]):
        one, two = before.get(name), after.get(name)
        if one is not None and two is not None and str(one.type) != str(two.type):
            yield Change(
                subject="parameter",
                name=name,
                change="changed",
                details=(f"type: {one.type} -> {two.type}",),
                loc=two.loc,
            )
        old_values = _values(one)
        new_values = _values(two)
        for key, value in new_values.items():
            previous = old_values.get(key)
            if previous is None:
                # the value it replaces from its date: what was in force the day before
                replaced = (
                    one.value_on(_day_before(value.since), value.platform or "") if one else None
                )
                shown = _value_text(replaced, one) if replaced else "(none)"
                detail = f"{shown} -> {_value_text(value, two)}"
                yield _value_change(name, "added", value, detail)
            elif _value_text(previous, one) != _value_text(value, two):
                detail = f"{_value_text(previous, one)} -> {_value_text(value, two)}"
                yield _value_change(name, "changed", value, detail)
        for key, value in old_values.items():
            if key not in new_values:
                restored = two.value_on(value.since, value.platform or "") if two else None
                shown = _value_text(restored, two) if restored else "(none)"
                detail = f"{_value_text(value, one)} -> {shown}"
                yield _value_change(name, "removed", value, detail)


def _values(param: Parameter | None) -> dict[tuple[str, str | None], ParamValue]:
    return {} if param is None else {(v.since, v.platform): v for v in param.values}


def _day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


def _value_change(name: str, change: str, value: ParamValue, detail: str) -> Change:
    return Change(
        subject="parameter",
        name=name,
        change=change,
        details=(detail,),
        since=value.since,
        loc=value.loc,
    )


def _value_text(value: ParamValue, param: Parameter | None) -> str:
    """The value as written in its file (durations as 15d, amounts as 5.00), with its profile
    and platform."""
    extra = [f"profile {value.profile}"] if value.profile else []
    extra += [f"platform {value.platform}"] if value.platform else []
    suffix = f" ({', '.join(extra)})" if extra else ""
    if value.text:
        return value.text + suffix
    shown = value.value
    if param is not None and param.type.name == "duration" and isinstance(shown, int):
        shown = f"{shown // 3600}h" if shown % 3600 == 0 else f"{shown // 60}m"
    elif isinstance(shown, tuple):
        shown = "[" + ", ".join(map(str, shown)) + "]"
    elif isinstance(shown, Decimal):
        money = param is not None and param.type.name == "money"
        shown = f"{shown:.2f}" if money else str(shown)
    return f"{shown}{suffix}"


def review_warnings(
    old: Program, new: Program, changes: Iterable[Change], *, today: str | None = None
) -> tuple[str, ...]:
    """What a reviewer must not miss in a change from ``old`` to ``new``."""
    from engine.rules.lint.changes import backdated_values

    out = []
    substantive = [c for c in changes if not (c.subject == "policy" and c.name == "version")]
    if substantive and old.version == new.version:
        out.append(
            f"the rules changed but policy.version is still {new.version}: rulings name the "
            "version they were made under, so give the new rules a version of their own"
        )
    for finding in backdated_values(new, today=today, baseline=old):
        out.append(f"{finding.loc}: {finding.message} ({finding.hint})")
    return tuple(out)
