"""Which rules and requirements the sample cases and rule tests exercise, and which none does.

A rule is covered when some case or rule test fires it; a requirement when some case has an item
that fails it and one that meets it (both sides of a validity condition are worth a case).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.model import Case
from engine.policytools.ruletests import RuleTest
from engine.run.scoring import Scorer

__all__ = ["Coverage", "rule_coverage"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    cases: int
    fired_by: dict[str, tuple[str, ...]]  # rule id -> case ids (and rule test labels) firing it
    unfired: tuple[str, ...]  # rule ids no case fires
    unmet_requirements: tuple[str, ...]  # requirements no case's item fails
    tests: int = 0  # rule tests counted besides the cases


def rule_coverage(
    scorer: Scorer, cases: Iterable[Case], tests: Iterable[RuleTest] = ()
) -> Coverage:
    program = scorer.program
    fired: dict[str, list[str]] = {rule.id: [] for rule in program.rules}
    failed: set[str] = set()
    tested = 0
    labelled = [(case.case_id, case) for case in cases]
    count = len(labelled)
    for test in tests:
        tested += 1
        labelled.append((test.label, test.case))
    for label, case in labelled:
        ruling = scorer.score(case).ruling
        for rule_id in ruling.fired_rules:
            fired[rule_id].append(label)
        for item in ruling.evidence:
            failed.update(r.rule for r in item.reasons if r.rule and program.requirement(r.rule))
    return Coverage(
        cases=count,
        fired_by={rid: tuple(ids) for rid, ids in fired.items()},
        unfired=tuple(rid for rid, ids in fired.items() if not ids),
        unmet_requirements=tuple(r.id for r in program.requirements if r.id not in failed),
        tests=tested,
    )
