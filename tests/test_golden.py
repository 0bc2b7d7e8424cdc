"""The shipped policy's own check: every case in casefiles/ gives the ruling its
``*.expected.yaml`` expects under the shipped rules/, through both engines, identically.

Policy staff own these files: a change made only under rules/, casefiles/ and policy-tests/ is
checked here and by the rule tests of policy-tests/, never by the engine's tests (which run on
tests/fixtures/policy/). So this harness asks only what a golden case states: an expectation
beside each case, with at least the ruling.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from conftest import SHIPPED_CASEFILES, SHIPPED_RULES, golden_cases

from engine import Scorer, load_rules, ruling_json
from engine.cases.load import load_case

CASES = golden_cases(SHIPPED_CASEFILES)


@pytest.fixture(scope="module")
def scorers() -> dict[str, Scorer]:
    program = load_rules(SHIPPED_RULES)
    return {engine: Scorer(program, engine) for engine in ("reference", "durable")}


def _expected(path: Path) -> dict:
    expected = path.with_name(path.name[: -len(".yaml")] + ".expected.yaml")
    assert expected.exists(), f"{path.name} has no expectation beside it ({expected.name})"
    return yaml.safe_load(expected.read_text(encoding="utf-8"))


def _differences(path: Path, ruling, expected: dict) -> list[str]:
    out = []
    if ruling.ruling != expected["ruling"]:
        out.append(f"ruling: got {ruling.ruling}, expected {expected['ruling']}")
    for field in ("refund_amount", "compensation_amount"):
        want = Decimal(str(expected.get(field, 0)))
        if getattr(ruling, field) != want:
            out.append(f"{field}: got {getattr(ruling, field)}, expected {want}")
    got = {e.id: e for e in ruling.evidence}
    for eid, want in (expected.get("evidence") or {}).items():
        item = got.get(eid)
        if item is None:
            out.append(f"evidence {eid}: missing from the ruling")
            continue
        for key in ("admitted", "valid"):
            if getattr(item, key) != want[key]:
                reasons = "; ".join(f"[{r.rule}] {r.en}" for r in item.reasons)
                out.append(
                    f"evidence {eid}.{key}: got {getattr(item, key)}, expected "
                    f"{want[key]} (reasons: {reasons or 'none'})"
                )
    if "evidence" in expected and set(got) != set(expected["evidence"] or {}):
        out.append(
            f"evidence ids: got {sorted(got)}, expected {sorted(expected.get('evidence') or {})}"
        )
    if "warnings" in expected and len(ruling.warnings) != expected["warnings"]:
        out.append(
            f"warnings: got {[w.en for w in ruling.warnings]}, expected {expected['warnings']}"
        )
    if "decided_by" in expected and ruling.decided_by != expected["decided_by"]:
        out.append(f"decided by rule {ruling.decided_by}, expected {expected['decided_by']}")
    for key in ("return_required", "return_shipping_paid_by", "appeal"):
        if key in expected and getattr(ruling, key) != expected[key]:
            out.append(f"{key}: got {getattr(ruling, key)}, expected {expected[key]}")
    if "next_step_party" in expected:
        party = ruling.next_step.party if ruling.next_step else None
        if party != expected["next_step_party"]:
            out.append(f"next_step.party: got {party}, expected {expected['next_step_party']}")
    for rule_id in expected.get("fired", []):
        if rule_id not in ruling.fired_rules:
            out.append(f"rule {rule_id} did not fire (fired: {', '.join(ruling.fired_rules)})")
    return out


def test_there_are_golden_cases() -> None:
    assert CASES, f"no case files in {SHIPPED_CASEFILES}"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_each_case_states_its_expected_ruling(path: Path) -> None:
    assert "ruling" in (_expected(path) or {}), f"{path.name}: the expectation names no ruling"


@pytest.mark.parametrize("engine", ["reference", "durable"])
@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden_case(path: Path, engine: str, scorers: dict[str, Scorer]) -> None:
    ruling = (
        scorers[engine]
        .score(load_case(path, fields=scorers["reference"].program.declared_fields()))
        .ruling
    )
    problems = _differences(path, ruling, _expected(path))
    assert not problems, f"{path.relative_to(path.parent.parent)} ({engine}):\n  " + "\n  ".join(
        problems
    )


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_engines_agree(path: Path, scorers: dict[str, Scorer]) -> None:
    case = load_case(path, fields=scorers["reference"].program.declared_fields())
    reference = scorers["reference"].score(case)
    durable = scorers["durable"].score(case)
    assert reference.firings == durable.firings, (
        f"{path.name}: firings differ\n  only reference: "
        f"{sorted(reference.firings - durable.firings)}\n  only durable: "
        f"{sorted(durable.firings - reference.firings)}"
    )
    assert ruling_json(reference.ruling) == ruling_json(durable.ruling)
