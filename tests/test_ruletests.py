"""Rule tests in YAML: building the case (patch, date, profile), comparing, located problems."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CASEFILES, RULES

from engine import Program, RuleFileError, Scorer
from engine.cli import main
from engine.policytools.ruletests import load_rule_tests, run_rule_test

DATA = Path(__file__).parent / "data" / "ruletests"
BASE = CASEFILES / "not-received-valid-receipt.yaml"


def _tests(tmp_path: Path, program: Program, text: str) -> tuple:
    path = tmp_path / "tests.yaml"
    path.write_text(text.replace("BASE", str(BASE)), encoding="utf-8")
    return load_rule_tests([path], program)


def test_a_malformed_test_file_reports_every_problem_located(program: Program) -> None:
    with pytest.raises(RuleFileError) as caught:
        load_rule_tests([DATA / "malformed.yaml"], program)
    path = DATA / "malformed.yaml"
    assert str(caught.value) == "\n".join(
        [
            f"{path}:5:5: unknown expectation 'rulling'",
            "    rulling: refund",
            "    ^ did you mean 'ruling'?",
            f"{path}:6:13: unknown rule id 'not-received-delivery-not-proved'",
            "    fired: [not-received-delivery-not-proved]",
            "            ^ did you mean 'not-received-delivery-not-proven'?",
            f"{path}:7:16: the case has no evidence 'E9'",
            "    evidence: {E9: {valid: false}}",
            "               ^ its evidence: E1, E2",
            f"{path}:10:9: case file 'casefiles/no-such-case.yaml' not found",
            "    case: casefiles/no-such-case.yaml",
            "          ^ paths are relative to the test file's folder or a folder above it",
            f"{path}:15:37: the test's case: dispute.claimed_amount: amount must be > 0, got -5",
            "    patch: {dispute: {claimed_amount: -5}}",
            "                                      ^",
        ]
    )


def test_a_patch_merges_into_the_case_and_evidence_is_addressed_by_id(
    tmp_path: Path, program: Program
) -> None:
    (test,) = _tests(
        tmp_path,
        program,
        """
- name: patched
  case: BASE
  patch:
    dispute: {claimed_amount: 100.00}
    evidence:
      E1: null
      E2: {attributes: {signer_name: 李四}}
      E7: {party: buyer, kind: statement, submitted_at: 2024-03-06T11:00:00+08:00}
  expect: {ruling: refund}
""",
    )
    case = test.case
    assert case.dispute.claimed_amount == Decimal("100.00")
    assert [e.id for e in case.evidence] == ["E2", "E7"]
    assert case.evidence[0].attribute("signer_name") == "李四"
    assert case.evidence[0].attribute("issuer") == "中通快递"  # the rest of E2 is kept


def test_date_moves_every_time_of_the_case_by_whole_days(tmp_path: Path, program: Program) -> None:
    (test,) = _tests(
        tmp_path,
        program,
        "- name: moved\n  case: BASE\n  date: 2020-01-10\n  expect: {profile: taobao-2015}\n",
    )
    dispute = test.case.dispute
    assert dispute.intervention_requested_at.isoformat() == "2020-01-10T10:00:00+08:00"
    assert dispute.refund_requested_at.isoformat() == "2020-01-09T09:00:00+08:00"
    assert test.case.evidence[1].submitted_at.isoformat() == "2020-01-11T11:20:00+08:00"


def test_a_failing_test_names_the_file_and_test_and_shows_each_difference(
    tmp_path: Path, program: Program, scorers: dict[str, Scorer]
) -> None:
    (test,) = _tests(
        tmp_path,
        program,
        """
- name: 代签 / signed by someone else
  case: BASE
  patch: {evidence: {E2: {attributes: {signer_name: 李四}}}}
  expect:
    ruling: pay_seller
    refund_amount: 0
    not_fired: [not-received-delivery-not-proven]
    evidence: {E2: {valid: true}}
    issues: {delivered: proven}
""",
    )
    result = run_rule_test(test, [scorers["reference"], scorers["durable"]])
    assert not result.passed
    assert result.report() == "\n".join(
        [
            f"{tmp_path / 'tests.yaml'}:2:3: rule test failed: 代签 / signed by someone else",
            "  (reference, durable)",
            "    ruling: expected pay_seller, got refund",
            "    refund_amount: expected 0.00, got 459.00",
            "    not_fired: not-received-delivery-not-proven fired",
            "    evidence E2.valid: expected true, got false (reasons: [receipt-signer] the "
            "signer is neither the recipient nor an authorised proxy)",
            "    issues delivered: expected proven, got not_proven (score 0.0000)",
        ]
    )


def test_the_shipped_rule_tests_pass_through_the_cli() -> None:
    result = CliRunner().invoke(main, ["rules", "test", "--rules", str(RULES)])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(" failed\n") and ", 0 failed" in result.stdout
    assert int(result.stdout.split()[0]) >= 15


def test_the_cli_exits_1_on_a_failing_test_and_2_on_a_malformed_file(tmp_path: Path) -> None:
    failing = tmp_path / "failing.yaml"
    failing.write_text(
        f"- name: wrong\n  case: {BASE}\n  expect: {{ruling: refund}}\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["rules", "test", "--rules", str(RULES), str(failing)])
    assert result.exit_code == 1
    assert result.stdout == (
        f"{failing}:1:3: rule test failed: wrong\n"
        "  (durable, reference)\n"
        "    ruling: expected refund, got pay_seller\n"
        "1 rule tests: 0 passed, 1 failed\n"
    )
    result = CliRunner().invoke(
        main, ["rules", "test", "--rules", str(RULES), str(DATA / "malformed.yaml")]
    )
    assert result.exit_code == 2
    assert result.stderr.endswith("5 problem(s) in the rule tests\n")


def test_rules_without_tests_beside_them_fail_loudly(tmp_path: Path) -> None:
    # a test run that runs nothing must not pass
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    result = CliRunner().invoke(main, ["rules", "test", "--rules", str(rules)])
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"Error: no rule tests for {rules}: {tmp_path / 'policy-tests'} does not exist; write "
        f"the tests there, or name test files or folders: adjudicate rules test --rules {rules} "
        "PATH...\n"
    )
    (tmp_path / "policy-tests").mkdir()
    result = CliRunner().invoke(main, ["rules", "test", "--rules", str(rules)])
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"Error: no rule tests in {tmp_path / 'policy-tests'}: no .yaml files there; write a "
        "test file (docs/policy-guide.md, 'Write a rule test') or name where the tests are\n"
    )


def test_the_tests_beside_a_rules_folder_are_found(tmp_path: Path) -> None:
    shutil.copytree(RULES, tmp_path / "rules")
    shutil.copytree(RULES.parent / "policy-tests", tmp_path / "policy-tests")
    shutil.copytree(RULES.parent / "casefiles", tmp_path / "casefiles")
    result = CliRunner().invoke(main, ["rules", "test", "--rules", str(tmp_path / "rules")])
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith(", 0 failed\n") and int(result.stdout.split()[0]) >= 15


def test_coverage_of_rules_with_no_cases_beside_them_says_so(tmp_path: Path) -> None:
    shutil.copytree(RULES, tmp_path / "rules")
    result = CliRunner().invoke(main, ["rules", "coverage", "--rules", str(tmp_path / "rules")])
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"Error: no sample cases for {tmp_path / 'rules'}: {tmp_path / 'casefiles'} does not "
        f"exist; name case files or folders: adjudicate rules coverage --rules "
        f"{tmp_path / 'rules'} PATH...\n"
    )
    result = CliRunner().invoke(main, ["rules", "coverage", "--rules", str(tmp_path / "gone")])
    assert (result.exit_code, result.stderr) == (
        2,
        f"{tmp_path / 'gone'}: rules directory not found\n1 problem(s) in {tmp_path / 'gone'}\n",
    )
