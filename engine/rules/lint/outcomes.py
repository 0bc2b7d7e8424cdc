"""L001 - L003: outcomes: a combination of issue statuses with no outcome, a dispute type with no
burden and no outcome of its own, two rules that can fire together with contradictory effects."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from engine.rules.lint.atoms import canonical, contradiction, exclusive, tests_of
from engine.rules.lint.findings import Finding
from engine.rules.program import Atom, Const, DisputeType, Effect, FieldRef, Program, Rule

__all__ = [
    "contradictory_effects",
    "may_fire",
    "no_burden",
    "no_default_outcome",
    "ruling_effect",
    "scope_of",
]

STATUSES = ("proven", "not_proven", "inconclusive", "contested")
ASKED_FIELD = "buyer_evidence_requested_at"  # contract field: whether the buyer was asked
MAX_PER_TYPE = 6  # L001 findings per dispute type before "and N more"


def ruling_effect(rule: Rule) -> Effect | None:
    return next((e for e in rule.effects if e.kind == "ruling"), None)


def scope_of(rule: Rule, program: Program) -> set[str]:
    """The dispute types a rule can fire for (every type unless all alternatives narrow it)."""
    every = {d.name for d in program.dispute_types}
    scope: set[str] = set()
    for atoms in rule.alternatives:
        narrowed = every
        for atom in atoms:
            if atom.left == FieldRef("dispute", "type"):
                if atom.op == "in":
                    narrowed = narrowed & set(atom.options)
                elif atom.op == "eq" and isinstance(atom.right, Const):
                    narrowed = narrowed & {atom.right.value}
        scope |= narrowed
    return scope


def may_fire(rule: Rule, dtype: DisputeType, statuses: dict[str, str], asked: bool) -> bool:
    """Whether the rule's conditions allow it to fire for one situation of a dispute type.

    Tests on an issue's status, the dispute type and whether the buyer was asked are decided by
    the situation; every other test is taken as possibly true.
    """
    issue_aliases = [a for a in rule.aliases if a.fact_type == "issue"]
    choices = [
        [a.kind] if a.kind is not None else list(statuses) for a in issue_aliases
    ]  # any_issue binds each issue of the type in turn
    for chosen in itertools.product(*choices):
        binding = {a.name: issue for a, issue in zip(issue_aliases, chosen, strict=True)}
        if any(issue not in statuses for issue in binding.values()):
            continue
        if len(set(binding.values())) < len(binding):
            continue  # no fact is bound twice in one combination
        for atoms in rule.alternatives:
            if all(_atom_allows(a, dtype, binding, statuses, asked) for a in atoms):
                return True
    return False


def _atom_allows(
    atom: Atom, dtype: DisputeType, binding: dict[str, str], statuses: dict[str, str], asked: bool
) -> bool:
    left = atom.left
    value: Any
    if left.alias in binding and left.field == "status":
        value = statuses[binding[left.alias]]
    elif left.alias in binding and left.field == "name":
        value = binding[left.alias]
    elif left == FieldRef("dispute", "type"):
        value = dtype.name
    elif left == FieldRef("dispute", ASKED_FIELD) and atom.op in ("present", "missing"):
        return asked == (atom.op == "present")
    else:
        return True
    if atom.op == "in":
        return value in atom.options
    if isinstance(atom.right, Const) and atom.op in ("eq", "ne"):
        return bool(value == atom.right.value) == (atom.op == "eq")
    return True


def no_default_outcome(program: Program) -> Iterator[Finding]:
    outcomes = [r for r in program.rules if ruling_effect(r) is not None]
    for dtype in program.dispute_types:
        issues = [name for name, _ in dtype.burdens]
        if not issues:
            continue
        skippable = {name for name, _ in dtype.skips}
        relevant = [
            r
            for r in outcomes
            if dtype.name in scope_of(r, program) and any(a.fact_type == "issue" for a in r.aliases)
        ]
        options = [[*STATUSES, *(["skipped"] if i in skippable else [])] for i in issues]
        gaps: list[tuple[dict[str, str], bool]] = []
        for combo in itertools.product(*options):
            statuses = dict(zip(issues, combo, strict=True))
            for asked in (False, True):
                if not any(may_fire(r, dtype, statuses, asked) for r in relevant):
                    gaps.append((statuses, asked))
        messages = []
        for statuses, asked in gaps:
            both = (statuses, not asked) in gaps
            if both and asked:
                continue  # reported once, whether or not the buyer was asked
            situation = " and ".join(f"'{k}' is {v}" for k, v in statuses.items())
            if not both:
                situation += " (buyer already asked)" if asked else " (buyer not yet asked)"
            messages.append(
                f"dispute type '{dtype.name}': no outcome rule can fire when {situation}"
            )
        for message in messages[:MAX_PER_TYPE]:
            yield Finding(
                code="L001",
                message=message,
                loc=dtype.loc,
                hint="add a rule with then: {ruling: ...} for this situation",
            )
        if len(messages) > MAX_PER_TYPE:
            yield Finding(
                code="L001",
                message=f"dispute type '{dtype.name}': and {len(messages) - MAX_PER_TYPE} more "
                "situations with no outcome",
                loc=dtype.loc,
            )


def no_burden(program: Program) -> Iterator[Finding]:
    for dtype in program.dispute_types:
        if dtype.burdens:
            continue
        own = [
            r
            for r in program.rules
            if ruling_effect(r) is not None
            and scope_of(r, program) == {dtype.name}
            and not any(a.fact_type == "issue" for a in r.aliases)
        ]
        if not own:
            yield Finding(
                code="L002",
                message=f"dispute type '{dtype.name}' has no burden and no outcome rule of its "
                "own: only the admission gate can decide its cases",
                loc=dtype.loc,
                hint="give it a burden (issue: buyer|seller), or rules with dispute_type: "
                f"{dtype.name} that give a ruling",
            )


def contradictory_effects(program: Program) -> Iterator[Finding]:
    outcomes = [(r, e) for r in program.rules if (e := ruling_effect(r)) is not None]
    for (first, one), (second, other) in itertools.combinations(outcomes, 2):
        if one.priority != other.priority or one.outcome_key() == other.outcome_key():
            continue
        if not (scope_of(first, program) & scope_of(second, program)):
            continue
        if _can_hold_together(first, second, {}, {}):
            yield Finding(
                code="L003",
                message=f"rules '{first.id}' ({one.ruling}) and '{second.id}' ({other.ruling}, "
                f"{second.loc}) have the same priority {one.priority} and nothing in their "
                "conditions keeps them from firing together",
                loc=first.loc,
                hint="give one a higher priority, or add a test that makes them exclusive",
            )
    # the same item supporting and opposing one issue
    sides = [(r, e) for r in program.rules for e in r.effects if e.kind in ("supports", "opposes")]
    for (first, one), (second, other) in itertools.combinations(sides, 2):
        if one.issue != other.issue or one.kind == other.kind:
            continue
        kind_one = first.alias(one.target or "evidence").kind
        kind_two = second.alias(other.target or "evidence").kind
        if kind_one is not None and kind_two is not None and kind_one != kind_two:
            continue
        if _can_hold_together(
            first, second, {one.target or "evidence": "item"}, {other.target or "evidence": "item"}
        ):
            yield Finding(
                code="L003",
                message=f"rules '{first.id}' ({one.kind} {one.issue}) and '{second.id}' "
                f"({other.kind} {other.issue}, {second.loc}) can fire on the same item",
                loc=first.loc,
                hint="add a test that makes them exclusive for one item",
            )


def _can_hold_together(
    first: Rule, second: Rule, shared_first: dict[str, str], shared_second: dict[str, str]
) -> bool:
    names_one = canonical(first, shared_first)
    names_two = canonical(second, shared_second)
    for atoms_one in first.alternatives:
        tests_one = tests_of(atoms_one, names_one)
        if contradiction(tests_one) is not None:
            continue
        for atoms_two in second.alternatives:
            tests_two = tests_of(atoms_two, names_two)
            if contradiction(tests_two) is None and not exclusive(tests_one, tests_two):
                return True
    return False
