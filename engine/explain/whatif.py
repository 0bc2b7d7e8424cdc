"""Scored case -> what would change its ruling, found by re-scoring it with hypothetical evidence.

Nothing here knows a dispute type or an evidence kind. For every decided issue it reads the
compiled rules: the kinds whose rules support the issue (or oppose it, when it is proven), and
for each such kind the rules that meet each requirement of the kind. From the atoms of those
rules it builds one item that meets them all (``eq`` with a constant takes that value, ``eq``
with an order field takes the order's value, ``in`` its first option, ``present`` a
placeholder, a comparison with a time a time on the right side, ...), adds it to the case and
scores the case again with the same Scorer. A hypothetical is kept only when the re-scored
ruling differs and the item itself was admitted and valid in it.

For an item that was admitted but invalid, it reports the requirements the item failed and, by
re-scoring with the attributes changed, whether meeting them would have changed the ruling.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from engine.model import Case, Evidence, Type
from engine.rules.predicates import PREDICATES
from engine.rules.program import (
    NUMBER_SCALE,
    Atom,
    Const,
    Effect,
    EvidenceKind,
    FieldRef,
    Predicate,
    Program,
    Rule,
)
from engine.rules.schema import SINGLETONS
from engine.rules.semantics import MIRRORED, holds
from engine.run.facts import prepare, singleton_bindings
from engine.run.params import policy_timezone
from engine.run.scoring import Scored, Scorer

__all__ = [
    "Change",
    "Fix",
    "InvalidItem",
    "MissingEvidence",
    "Outcome",
    "WhatIf",
    "Step",
    "what_would_change",
]

_HYPOTHETICAL_ID = "whatif"


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """The ruling a changed case would get."""

    ruling: str
    reason_code: str
    decided_by: str
    refund_amount: Decimal
    compensation_amount: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One condition the hypothetical item meets: a requirement of its kind (``requirement``)
    or the supporting rule's own condition (``requirement`` None), through ``rule``;
    ``alternatives`` are the other rules that would meet the same requirement."""

    requirement: str | None
    rule: str
    alternatives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class MissingEvidence:
    """An item the ``party`` could have submitted that would have changed the ruling."""

    issue: str
    side: str  # "supports" | "opposes"
    party: str
    kind: str
    attributes: tuple[tuple[str, Any], ...]  # the values it needs (raw, as in a case file)
    placeholders: tuple[str, ...]  # attributes that only need to be present
    submitted_at: datetime
    steps: tuple[Step, ...]
    outcome: Outcome


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    attribute: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class Fix:
    """Meeting ``requirements`` of an item by changing its attributes: ``changes``; ``outcome``
    is the ruling the case would then get (None: it would not change). ``possible`` is False when
    no change of the item's own attributes meets them (e.g. the party or another item counts)."""

    requirements: tuple[str, ...]
    possible: bool
    changes: tuple[Change, ...] = ()
    steps: tuple[Step, ...] = ()
    valid: bool = False  # the item is valid once changed
    outcome: Outcome | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InvalidItem:
    evidence: str
    kind: str
    failed: tuple[str, ...]  # requirement ids no rule met
    fixes: tuple[Fix, ...]  # one per failed requirement, then all of them together (if several)


@dataclass(frozen=True, slots=True, kw_only=True)
class WhatIf:
    missing: tuple[MissingEvidence, ...] = ()
    invalid: tuple[InvalidItem, ...] = ()


def what_would_change(scorer: Scorer, scored: Scored) -> WhatIf:
    """What would have changed ``scored``'s ruling; every finding was checked by re-scoring."""
    return _Search(scorer, scored).run()


# ---------------------------------------------------------------- drafts of an item


@dataclass
class _Draft:
    """The attributes chosen so far for a hypothetical item."""

    values: dict[str, Any] = field(default_factory=dict)
    members: dict[str, list[Any]] = field(default_factory=dict)  # list attribute -> must contain
    placeholders: set[str] = field(default_factory=set)

    def copy(self) -> _Draft:
        return _Draft(
            values=dict(self.values),
            members={k: list(v) for k, v in self.members.items()},
            placeholders=set(self.placeholders),
        )

    def attributes(self) -> dict[str, Any]:
        out = dict(self.values)
        for name, members in self.members.items():
            out[name] = tuple(dict.fromkeys((*out.get(name, ()), *members)))
        return out


class _Search:
    def __init__(self, scorer: Scorer, scored: Scored) -> None:
        self.scorer = scorer
        self.program: Program = scorer.program
        self.scored = scored
        self.case: Case = scored.prepared.case
        self.env = scored.prepared.env
        self.bound = singleton_bindings(scored.prepared)
        self.tz = policy_timezone(self.program)
        self.predicates: dict[str, Predicate] = {p.field: p for p in self.program.predicates}
        self.meeting: dict[str, list[tuple[Rule, Effect]]] = {}
        for rule in self.program.rules:
            for effect in rule.effects:
                for requirement in effect.requirements if effect.kind == "meets" else ():
                    self.meeting.setdefault(requirement, []).append((rule, effect))

    def run(self) -> WhatIf:
        return WhatIf(missing=tuple(self._missing()), invalid=tuple(self._invalid()))

    # ------------------------------------------------------------ evidence a party could add

    def _missing(self) -> Iterator[MissingEvidence]:
        parties = {party for dtype in self.program.dispute_types for _, party in dtype.burdens}
        for result in self.scored.issues:
            if result.status == "skipped":
                continue
            if result.status == "proven":
                others = sorted(parties - {result.burden})
                if len(others) != 1:
                    continue
                side, party = "opposes", others[0]
            else:
                side, party = "supports", result.burden
            tried: set[str] = set()
            for rule, effect in self._producers(result.issue, side):
                kind = self.program.kind(rule.alias(effect.target or "").kind or "")
                if kind is None or kind.name in tried:
                    continue
                found = self._hypothesis(result.issue, side, party, kind, rule, effect)
                if found is not None:
                    tried.add(kind.name)
                    yield found

    def _producers(self, issue: str, side: str) -> list[tuple[Rule, Effect]]:
        """Rules that support (or oppose) ``issue`` from one item of a named kind, strongest
        weight first."""
        found = []
        for rule in self.program.rules:
            for effect in rule.effects:
                if effect.kind != side or effect.issue != issue or effect.target is None:
                    continue
                if not self._usable(rule, effect.target):
                    continue
                weight = self.scorer.plan.evaluate(effect.weight, self.env) if effect.weight else 0
                found.append((Decimal(weight or 0), rule.index, rule, effect))
        found.sort(key=lambda entry: (-entry[0], entry[1]))
        return [(rule, effect) for _, _, rule, effect in found]

    def _usable(self, rule: Rule, target: str) -> bool:
        """A rule whose only non-singleton alias is the target item, of a named kind."""
        for alias in rule.aliases:
            if alias.name == target:
                if alias.fact_type != "evidence" or alias.kind is None:
                    return False
            elif alias.fact_type not in SINGLETONS:
                return False
        return True

    def _goals(
        self, kind: EvidenceKind, requirements: tuple[str, ...]
    ) -> list[tuple[str | None, list[tuple[Rule, str]]]]:
        goals: list[tuple[str | None, list[tuple[Rule, str]]]] = []
        for requirement in requirements:
            rules = [
                (rule, effect.target or "")
                for rule, effect in self.meeting.get(requirement, [])
                if effect.target
                and self._usable(rule, effect.target)
                and rule.alias(effect.target).kind == kind.name
            ]
            goals.append((requirement, rules))
        return goals

    def _hypothesis(
        self, issue: str, side: str, party: str, kind: EvidenceKind, rule: Rule, effect: Effect
    ) -> MissingEvidence | None:
        goals = [(None, [(rule, effect.target or "")]), *self._goals(kind, kind.requirements)]
        for submitted_at in self._submission_times(party):
            base = Evidence(
                id=self._fresh_id(), party=party, kind=kind.name, submitted_at=submitted_at
            )
            for draft, steps in self._solve(base, {}, goals, _Draft(), [], ()):
                item = replace(base, attributes=_as_attributes(draft.attributes()))
                rescored = self.scorer.score(
                    replace(self.case, evidence=(*self.case.evidence, item))
                )
                finding = next(e for e in rescored.ruling.evidence if e.id == item.id)
                if not finding.valid:
                    break  # not admitted at this time: try the next submission time
                if rescored.ruling.ruling == self.scored.ruling.ruling:
                    return None  # admitted and valid, yet the ruling stands
                return MissingEvidence(
                    issue=issue,
                    side=side,
                    party=party,
                    kind=kind.name,
                    attributes=item.attributes,
                    placeholders=tuple(sorted(draft.placeholders)),
                    submitted_at=submitted_at,
                    steps=steps,
                    outcome=_outcome(rescored),
                )
        return None

    def _submission_times(self, party: str) -> list[datetime]:
        """When the party's item is submitted: an appeal's filing time, else the party's own
        deadline (read from the rules that reject a late item of that party), else the
        intervention request."""
        dispute = self.case.dispute
        times: list[datetime] = []
        if dispute.appeal is not None:
            times.append(dispute.appeal.filed_at)
        deadlines = []
        for rule in self.program.rules:
            if not any(e.kind == "reject" for e in rule.effects):
                continue
            for atoms in rule.alternatives:
                if not any(
                    a.op == "eq" and a.left.field == "party" and a.right == Const(party)
                    for a in atoms
                ):
                    continue
                for atom in atoms:
                    right = atom.right
                    if atom.left.field != "submitted_at" or atom.op not in ("gt", "ge"):
                        continue
                    if isinstance(right, FieldRef) and right.alias in SINGLETONS:
                        value = self.env.get(right.alias, {}).get(right.field)
                        if isinstance(value, datetime):
                            early = timedelta(seconds=1 if atom.op == "ge" else 0)
                            deadlines.append((value - early).astimezone(self.tz))
        if deadlines:
            times.append(min(deadlines))
        times.append(dispute.intervention_requested_at)
        return list(dict.fromkeys(times))

    def _fresh_id(self) -> str:
        taken = {item.id for item in self.case.evidence}
        n = 1
        while f"{_HYPOTHETICAL_ID}{n}" in taken:
            n += 1
        return f"{_HYPOTHETICAL_ID}{n}"

    # ------------------------------------------------------------ meeting conditions

    def _solve(
        self,
        base: Evidence,
        current: Mapping[str, Any],
        goals: list[tuple[str | None, list[tuple[Rule, str]]]],
        draft: _Draft,
        chosen: list[tuple[str, tuple[Atom, ...]]],
        steps: tuple[Step, ...],
    ) -> Iterator[tuple[_Draft, tuple[Step, ...]]]:
        """Drafts meeting every goal on top of the ``current`` attributes: for each goal, the
        rules in order, and of a rule its first alternative that can be met with the others."""
        if not goals:
            yield draft, steps
            return
        (requirement, rules), rest = goals[0], goals[1:]
        ids = [rule.id for rule, _ in rules]
        for rule, target in rules:
            for atoms in rule.alternatives:
                attempt = draft.copy()
                if not all(self._assign(atom, target, base.kind, attempt) for atom in atoms):
                    continue
                item = replace(base, attributes=_as_attributes({**current, **attempt.attributes()}))
                now = [*chosen, (target, atoms)]
                if not self._all_hold(item, now):
                    continue
                step = Step(
                    requirement=requirement,
                    rule=rule.id,
                    alternatives=tuple(rid for rid in ids if rid != rule.id),
                )
                yield from self._solve(base, current, rest, attempt, now, (*steps, step))
                break

    def _all_hold(self, item: Evidence, chosen: list[tuple[str, tuple[Atom, ...]]]) -> bool:
        fact = self._fact(item)
        if fact is None:
            return False
        return all(holds((atoms,), {**self.bound, target: fact}) for target, atoms in chosen)

    def _fact(self, item: Evidence) -> dict[str, Any] | None:
        """The item's fact as the engine builds it, taken as admitted and valid."""
        prepared = prepare(self.scorer.plan, replace(self.case, evidence=(item,)))
        if prepared.warnings:
            return None  # an attribute of the wrong type: the draft is not a real item
        return {**prepared.evidence[0], "admitted": True, "valid": True}

    def _assign(self, atom: Atom, target: str, kind_name: str, draft: _Draft) -> bool:
        """Choose attribute values that make ``atom`` hold; False when it cannot be helped."""
        left, op, right = atom.left, atom.op, atom.right
        if left.alias != target and isinstance(right, FieldRef) and right.alias == target:
            left, right, op = right, left, MIRRORED[op]
        if left.alias != target:
            return left.alias in SINGLETONS  # a fact of the case: checked on the whole draft
        predicate = self.predicates.get(left.field)
        if predicate is not None:
            return self._assign_predicate(predicate, op, right, draft)
        kind = self.program.kind(kind_name)
        type_ = kind.attribute_type(left.field) if kind else None
        if type_ is None or left.field in draft.values or op == "missing":
            return True  # a field of every item (party, time), or already chosen: checked later
        if op == "present":
            draft.values[left.field] = self._placeholder(type_)
            draft.placeholders.add(left.field)
            return True
        if op == "in":
            if not atom.options:
                return False
            draft.values[left.field] = _satisfying(
                "eq", _raw(atom.options[0], type_, self.tz), type_
            )
            return True
        other = self._other_value(right, type_)
        chosen = None if other is None else _satisfying(op, other, type_)
        if chosen is None:
            return False
        draft.values[left.field] = chosen
        return True

    def _other_value(self, right: FieldRef | Const | None, type_: Type) -> Any:
        if isinstance(right, Const):
            return _raw(right.value, type_, self.tz)
        if isinstance(right, FieldRef) and right.alias in SINGLETONS:
            value = self.env.get(right.alias, {}).get(right.field)
            if isinstance(value, datetime):
                return value.astimezone(self.tz)
            return value
        return None

    def _assign_predicate(
        self, predicate: Predicate, op: str, right: FieldRef | Const | None, draft: _Draft
    ) -> bool:
        if op != "eq" or not isinstance(right, Const) or not isinstance(right.value, bool):
            return False
        subject = predicate.args[0].value
        assert isinstance(subject, FieldRef)
        args = [self.scorer.plan.evaluate(arg, self.env) for arg in predicate.args[1:]]
        if not args or args[0] is None:
            return False
        witness = PREDICATES[predicate.function].witness(args[0], right.value, _PLACEHOLDER)
        if witness is None:
            return False
        if witness.member is not None:
            draft.members.setdefault(subject.field, []).append(witness.member)
        elif witness.if_unset:
            draft.values.setdefault(subject.field, witness.value)
        elif subject.field in draft.values:
            return False
        else:
            draft.values[subject.field] = witness.value
            if witness.placeholder:
                draft.placeholders.add(subject.field)
        return True

    def _placeholder(self, type_: Type) -> Any:
        name = type_.name
        if name in ("text", "name"):
            return _PLACEHOLDER
        if name == "enum":
            return type_.values[0] if type_.values else _PLACEHOLDER
        if name == "list":
            return (type_.values[0] if type_.values else _PLACEHOLDER,)
        if name == "time":
            return self.case.dispute.intervention_requested_at.isoformat()
        if name == "boolean":
            return True
        return 1

    # ------------------------------------------------------------ items that failed

    def _invalid(self) -> Iterator[InvalidItem]:
        met: dict[str, set[str]] = {}
        rules = {rule.id: rule for rule in self.program.rules}
        for firing in self.scored.firings:
            for effect in rules[firing.rule_id].effects:
                if effect.kind == "meets" and effect.target:
                    key = firing.key_of(effect.target) or ""
                    met.setdefault(key, set()).update(effect.requirements)
        for item, finding in zip(self.case.evidence, self.scored.ruling.evidence, strict=True):
            kind = self.program.kind(item.kind)
            if kind is None or not finding.admitted or finding.valid:
                continue
            failed = tuple(r for r in kind.requirements if r not in met.get(item.id, set()))
            if not failed:
                continue
            fixes = [self._fix(item, kind, (requirement,)) for requirement in failed]
            if len(failed) > 1:
                fixes.append(self._fix(item, kind, failed))
            yield InvalidItem(evidence=item.id, kind=item.kind, failed=failed, fixes=tuple(fixes))

    def _fix(self, item: Evidence, kind: EvidenceKind, failed: tuple[str, ...]) -> Fix:
        current = dict(item.attributes)
        for draft, steps in self._solve(item, current, self._goals(kind, failed), _Draft(), [], ()):
            new = draft.attributes()
            fixed = replace(item, attributes=_as_attributes({**current, **new}))
            evidence = tuple(fixed if e.id == item.id else e for e in self.case.evidence)
            rescored = self.scorer.score(replace(self.case, evidence=evidence))
            finding = next(e for e in rescored.ruling.evidence if e.id == item.id)
            changed = rescored.ruling.ruling != self.scored.ruling.ruling
            return Fix(
                requirements=failed,
                possible=True,
                changes=tuple(
                    Change(attribute=name, old=current.get(name), new=value)
                    for name, value in new.items()
                    if current.get(name) != value
                ),
                steps=steps,
                valid=finding.valid,
                outcome=_outcome(rescored) if changed else None,
            )
        return Fix(requirements=failed, possible=False)


_PLACEHOLDER = "…"


def _outcome(scored: Scored) -> Outcome:
    ruling = scored.ruling
    return Outcome(
        ruling=ruling.ruling,
        reason_code=ruling.reason_code,
        decided_by=ruling.decided_by,
        refund_amount=ruling.refund_amount,
        compensation_amount=ruling.compensation_amount,
    )


def _as_attributes(values: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple((name, value) for name, value in values.items())


def _raw(value: Any, type_: Type, tz: Any) -> Any:
    """A constant in fact form back in the form a case file gives it."""
    name = type_.name
    if name == "time" and isinstance(value, int):
        return datetime.fromtimestamp(value, tz)
    if name == "money" and isinstance(value, int):
        return Decimal(value) / 100
    if name == "number" and isinstance(value, int):
        return Decimal(value) / NUMBER_SCALE
    return value


def _satisfying(op: str, other: Any, type_: Type) -> Any:
    """A value ``v`` with ``v <op> other``, in case-file form."""
    if op == "eq":
        return other.isoformat() if isinstance(other, datetime) else other
    if op == "ne":
        if type_.name == "boolean" and isinstance(other, bool):
            return not other
        if type_.name == "enum":
            return next((v for v in type_.values if v != other), None)
        return None
    if isinstance(other, datetime):
        step = timedelta(days=1)
        moved = {"lt": other - step, "le": other, "gt": other + step, "ge": other}[op]
        return moved.isoformat()
    if isinstance(other, int | Decimal) and not isinstance(other, bool):
        return {"lt": other - 1, "le": other, "gt": other + 1, "ge": other}[op]
    return None
