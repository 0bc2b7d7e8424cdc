"""docs/policy-map.md stays true: every rule is mapped to POLICY.md, and each line's golden case
really fires one of that line's rules."""

from __future__ import annotations

import re

import pytest
from conftest import CASEFILES, ROOT

from engine import Program, Scorer
from engine.cases.load import load_case

MAP = (ROOT / "docs" / "policy-map.md").read_text(encoding="utf-8")
ROWS = [line for line in MAP.splitlines() if line.startswith("| ") and "`" in line]


def _tokens(row: str) -> list[str]:
    return re.findall(r"`([^`]+)`", row)


def test_every_rule_is_mapped_to_a_policy_line(program: Program) -> None:
    mapped = {token for row in ROWS for token in _tokens(row)}
    missing = [rule.id for rule in program.rules if rule.id not in mapped]
    assert not missing, f"rules not in docs/policy-map.md: {missing}"


@pytest.mark.parametrize("row", ROWS, ids=[str(i) for i in range(len(ROWS))])
def test_each_line_is_exercised_by_its_golden_case(
    row: str, program: Program, scorers: dict[str, Scorer]
) -> None:
    tokens = _tokens(row)
    rules = [t for t in tokens if program.rule(t) is not None]
    cases = [t for t in tokens if t.endswith(".yaml") and "/" not in t]
    for name in cases:
        assert (CASEFILES / name).exists(), f"{name} named in docs/policy-map.md does not exist"
        if not rules:
            continue
        fired = scorers["reference"].score(load_case(CASEFILES / name)).ruling.fired_rules
        assert set(rules) & set(fired), f"{name} fires none of {rules} (fired: {fired})"
