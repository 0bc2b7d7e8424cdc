"""Which rules and requirements the sample cases exercise, and which none does.

A rule is covered when some case fires it; a requirement when some case has an item that fails
it and one that meets it (both sides of a validity condition are worth a case).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.model import Case
from engine.scoring import Scorer

__all__ = ["Coverage", "rule_coverage"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    cases: int
    fired_by: dict[str, tuple[str, ...]]  # rule id -> case ids that fire it
    unfired: tuple[str, ...]  # rule ids no case fires
    unmet_requirements: tuple[str, ...]  # requirements no case's item fails


def rule_coverage(scorer: Scorer, cases: Iterable[Case]) -> Coverage:
    program = scorer.program
    fired: dict[str, list[str]] = {rule.id: [] for rule in program.rules}
    failed: set[str] = set()
    count = 0
    for case in cases:
        count += 1
        ruling = scorer.score(case).ruling
        for rule_id in ruling.fired_rules:
            fired[rule_id].append(case.case_id)
        for item in ruling.evidence:
            failed.update(r.rule for r in item.reasons if r.rule and program.requirement(r.rule))
    return Coverage(
        cases=count,
        fired_by={rid: tuple(ids) for rid, ids in fired.items()},
        unfired=tuple(rid for rid, ids in fired.items() if not ids),
        unmet_requirements=tuple(r.id for r in program.requirements if r.id not in failed),
    )
