"""L004 - L007: reachability: a condition that can never hold, a rule on an issue no dispute type
in its scope decides, an issue no dispute type decides, an evidence kind that can never count."""

from __future__ import annotations

from collections.abc import Iterator

from engine.rules.lint.atoms import contradiction, tests_of
from engine.rules.lint.findings import Finding
from engine.rules.lint.outcomes import scope_of
from engine.rules.program import Program
from engine.rules.semantics import atom_text

__all__ = ["impossible_conditions", "undecided_issue_rules", "unusable_kinds", "unused_issues"]


def impossible_conditions(program: Program) -> Iterator[Finding]:
    for rule in program.rules:
        names = {a.name: a.name for a in rule.aliases}
        dead = []
        for n, atoms in enumerate(rule.alternatives):
            pair = contradiction(tests_of(atoms, names))
            if pair is not None:
                dead.append((n, atoms[pair[0]], atoms[pair[1]]))
        if not dead:
            continue
        n, one, two = dead[0]
        texts = program.predicate_texts()
        shown = f"'{atom_text(one, texts)}' and '{atom_text(two, texts)}'"
        if len(dead) == len(rule.alternatives):
            message = f"rule '{rule.id}' can never fire: {shown} cannot both hold"
        else:
            message = (
                f"rule '{rule.id}': one of its alternatives can never hold: {shown} cannot "
                "both hold"
            )
        yield Finding(
            code="L004",
            message=message,
            loc=rule.loc,
            hint="check the values and the comparison; `rules compile --dump` shows the "
            "alternatives",
        )


def undecided_issue_rules(program: Program) -> Iterator[Finding]:
    by_type = {d.name: {i for i, _ in d.burdens} for d in program.dispute_types}
    for rule in program.rules:
        scope = scope_of(rule, program)
        decided = set().union(*(by_type[name] for name in scope)) if scope else set()
        for alias in rule.aliases:
            if alias.fact_type != "issue":
                continue
            if alias.kind is None and decided:
                continue
            if alias.kind is None or alias.kind not in decided:
                what = f"issue '{alias.kind}'" if alias.kind else "any issue"
                where = ", ".join(sorted(scope)) or "no dispute type"
                yield Finding(
                    code="L005",
                    message=f"rule '{rule.id}' can never fire: it matches {what}, which no "
                    f"dispute type in its scope ({where}) decides",
                    loc=rule.loc,
                    hint="add the issue to a dispute type's burden, or change dispute_type:",
                )


def unused_issues(program: Program) -> Iterator[Finding]:
    decided = {i for d in program.dispute_types for i, _ in d.burdens}
    for issue in program.issues:
        if issue.name not in decided:
            yield Finding(
                code="L006",
                message=f"issue '{issue.name}' is in no dispute type's burden, so it is never "
                "decided and rules on it never fire",
                loc=issue.loc,
                hint=f"add '{issue.name}: buyer' (or seller) to a dispute type's burden, or "
                "remove the issue",
            )


def unusable_kinds(program: Program) -> Iterator[Finding]:
    decided = {i for d in program.dispute_types for i, _ in d.burdens}
    counts: set[str | None] = set()  # kinds whose items can move an issue or another rule
    about: set[str] = set()  # kinds that some rule concludes something about
    for rule in program.rules:
        targets = {e.target for e in rule.effects if e.target}
        for effect in rule.effects:
            if effect.target is None:
                continue
            kind = rule.alias(effect.target).kind
            if kind is not None:
                about.add(kind)
            if effect.kind in ("supports", "opposes") and effect.issue in decided:
                counts.add(kind)
        if rule.effects:
            for alias in rule.aliases:
                if alias.fact_type == "evidence" and alias.name not in targets and alias.kind:
                    counts.add(alias.kind)  # read by a rule about another item
    if None in counts:
        return  # a rule about items of any kind can use every kind
    for declared in program.evidence_kinds:
        if declared.name in about and declared.name not in counts:
            yield Finding(
                code="L007",
                message=f"evidence kind '{declared.name}': rules decide about its items, but no "
                "rule lets one support or oppose an issue that a dispute type decides, and "
                "no other rule reads them; they can never change a ruling",
                loc=declared.loc,
                hint="add a rule with then: {supports: <issue>, weight: ...}, or put the "
                "issue it supports in a dispute type's burden",
            )
