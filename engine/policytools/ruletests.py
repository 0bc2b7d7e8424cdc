"""Rule tests written by policy staff in YAML -> cases with expectations -> differences.

A test file is a list of tests. Each names a case (a case file, or a case written inline), may
patch it (deep-merged into the case data; evidence items are addressed by id, ``null`` removes
one), may move it to a date or a profile, and says what it expects::

    - name: 代签无授权的签收底单无效 / a receipt signed by someone else is not valid
      case: casefiles/not-received-valid-receipt.yaml
      patch: {evidence: {E2: {attributes: {signer_name: 李四}}}}
      date: 2024-03-06
      expect:
        ruling: refund
        refund_amount: 459.00
        fired: [not-received-delivery-not-proven]
        not_fired: [receipt-signed-by-recipient]
        evidence: {E2: {valid: false}}

A malformed test file is a ``RuleFileError`` listing every problem, located; a test that does not
hold yields its differences, one readable line each (``ExpectationMismatch`` when raised).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.errors import (
    CaseFileError,
    EngineError,
)
from engine.policytools.ruletest_reading import (
    EXPECT_KEYS,
    TEST_KEYS,
    RuleTest,
    find_test_files,
    load_rule_tests,
)
from engine.rules.program import Program
from engine.ruling import Reason, Ruling
from engine.run.scoring import Scorer

__all__ = [
    "EXPECT_KEYS",
    "TEST_KEYS",
    "RuleTest",
    "TestResult",
    "check_ruling",
    "find_test_files",
    "load_rule_tests",
    "run_rule_test",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class TestResult:
    """What one test gave under each engine: the differences from what it expected."""

    test: RuleTest
    differences: tuple[tuple[str, tuple[str, ...]], ...]  # (engine, differences) that failed
    fired: tuple[str, ...]  # rule ids fired (any engine)

    @property
    def passed(self) -> bool:
        return not self.differences

    def report(self) -> str:
        """The file, the test name and a readable difference per engine."""
        lines = [f"{self.test.loc}: rule test failed: {self.test.name}"]
        for engine, differences in self.differences:
            lines.append(f"  ({engine})")
            lines.extend(f"    {line}" for line in differences)
        return "\n".join(lines)


def run_rule_test(test: RuleTest, scorers: Sequence[Scorer]) -> TestResult:
    """Score the test's case with each scorer and compare with what the test expects."""
    failed: list[tuple[str, tuple[str, ...]]] = []
    fired: dict[str, None] = {}
    rulings: dict[str, str] = {}
    for scorer in scorers:
        try:
            ruling = scorer.score(test.case).ruling
        except (EngineError, CaseFileError) as exc:
            failed.append((scorer.engine, (f"could not score the case: {exc}",)))
            continue
        fired.update(dict.fromkeys(ruling.fired_rules))
        differences = check_ruling(ruling, test.expect, scorer.program)
        if test.profile is not None and ruling.rules.profile != test.profile:
            differences.append(
                f"profile: the case falls under '{ruling.rules.profile}', not '{test.profile}'"
            )
        rulings[scorer.engine] = repr(ruling)
        if differences:
            failed.append((scorer.engine, tuple(differences)))
    merged: dict[tuple[str, ...], list[str]] = {}
    for engine, found in failed:
        merged.setdefault(found, []).append(engine)
    failed = [(", ".join(engines), found) for found, engines in merged.items()]
    if len(set(rulings.values())) > 1:
        failed.append((", ".join(rulings), ("the engines gave different rulings",)))
    return TestResult(test=test, differences=tuple(failed), fired=tuple(fired))


# ---------------------------------------------------------------- comparing


def check_ruling(
    ruling: Ruling, expect: Mapping[str, Any], program: Program | None = None
) -> list[str]:
    """One readable line per expectation the ruling does not meet."""
    out: list[str] = []

    def differ(what: str, want: Any, got: Any) -> None:
        out.append(f"{what}: expected {_show(want)}, got {_show(got)}")

    for key in ("ruling", "reason_code", "return_required", "return_shipping_paid_by"):
        if key in expect and getattr(ruling, key) != expect[key]:
            differ(key, expect[key], getattr(ruling, key))
    for key in ("refund_amount", "compensation_amount"):
        if key in expect and getattr(ruling, key) != _decimal(expect[key]):
            differ(key, _decimal(expect[key]), getattr(ruling, key))
    if "profile" in expect and ruling.rules.profile != expect["profile"]:
        differ("profile", expect["profile"], ruling.rules.profile)
    fired = list(ruling.fired_rules)
    for rule_id in expect.get("fired") or ():
        if rule_id not in fired:
            out.append(f"fired: {rule_id} did not fire (fired: {', '.join(fired) or 'none'})")
    for rule_id in expect.get("not_fired") or ():
        if rule_id in fired:
            out.append(f"not_fired: {rule_id} fired")
    items = {e.id: e for e in ruling.evidence}
    for eid, want in (expect.get("evidence") or {}).items():
        item = items[eid]
        for key, value in want.items():
            got = getattr(item, key)
            if key == "weight" and got != _decimal(value):
                differ(f"evidence {eid}.weight", _decimal(value), got)
            elif key != "weight" and got != value:
                out.append(
                    f"evidence {eid}.{key}: expected {_show(value)}, got {_show(got)} "
                    f"({_why(item.reasons, key, program)})"
                )
    issues = {i.issue: i for i in ruling.issues}
    for name, status in (expect.get("issues") or {}).items():
        found = issues.get(name)
        if found is None:
            out.append(f"issues {name}: not decided in this case (decided: {', '.join(issues)})")
        elif found.status != status:
            differ(f"issues {name}", status, f"{found.status} (score {found.score})")
    if "next_step" in expect:
        party = ruling.next_step.party if ruling.next_step else None
        if party != expect["next_step"]:
            differ("next_step", expect["next_step"], party)
    if "warnings" in expect:
        want = expect["warnings"]
        got_ids = sorted(w.rule or "(engine)" for w in ruling.warnings)
        if isinstance(want, int) and len(ruling.warnings) != want:
            differ("warnings", want, f"{len(ruling.warnings)} ({', '.join(got_ids) or 'none'})")
        elif isinstance(want, list) and sorted(want) != got_ids:
            differ("warnings", sorted(want), got_ids)
    return out


def _why(reasons: Iterable[Reason], key: str, program: Program | None) -> str:
    """The reasons that explain an item's status: unmet requirements, or rejections."""
    shown = []
    for reason in reasons:
        rule = program.rule(reason.rule or "") if program else None
        requirement = program.requirement(reason.rule or "") if program else None
        if program is None or (key == "valid" and requirement is not None):
            shown.append(f"[{reason.rule}] {reason.en}")
        elif rule is not None and any(e.kind == "reject" for e in rule.effects):
            shown.append(f"[{reason.rule}] {reason.en}")
    return "reasons: " + ("; ".join(shown) or "none")


def _show(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value == value.quantize(Decimal("0.01")) else str(value)
    return str(value)


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))
