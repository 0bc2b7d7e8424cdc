"""Lint: every check finds what it should on an edited copy of rules/, with the whole message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from conftest import ROOT, RULES

from engine import Program, load_rules
from engine.cli import main
from engine.rules.lint import CODES, lint_program

Edit = tuple[str, str, str]
Copy = Callable[..., Path]


def _lint(rules_copy: Copy, *edits: Edit) -> tuple[Path, list[str]]:
    root = rules_copy(*edits)
    return root, [str(f) for f in lint_program(load_rules(root))]


def test_the_shipped_rules_have_no_findings(program: Program) -> None:
    assert lint_program(program) == ()


def test_an_issue_status_with_no_outcome(rules_copy: Copy) -> None:
    root, found = _lint(
        rules_copy,
        (
            "disputes/quality.yaml",
            'when: issue.status == "proven"',
            'when: issue.status == "contested"',
        ),
    )
    assert found == [
        f"{root}/disputes/quality.yaml:3:3: L001 dispute type 'quality': no outcome rule can fire "
        "when 'defect' is proven\n"
        "    quality:\n"
        "    ^ add a rule with then: {ruling: ...} for this situation"
    ]


def test_a_dispute_type_with_no_burden_and_no_outcome(rules_copy: Copy) -> None:
    root, found = _lint(
        rules_copy,
        (
            "disputes/quality.yaml",
            "dispute_types:\n",
            "dispute_types:\n  price_drop:\n    title: {zh: 降价, en: price drop}\n"
            "    burden: {}\n",
        ),
    )
    assert found == [
        f"{root}/disputes/quality.yaml:3:3: L002 dispute type 'price_drop' has no burden and no "
        "outcome rule of its own: only the admission gate can decide its cases\n"
        "    price_drop:\n"
        "    ^ give it a burden (issue: buyer|seller), or rules with dispute_type: price_drop that "
        "give a ruling"
    ]


def test_two_outcomes_that_can_fire_together(rules_copy: Copy) -> None:
    root, found = _lint(
        rules_copy,
        (
            "disputes/not_received.yaml",
            'when: delivered.status == "proven"',
            'when: delivered.status in ["proven", "not_proven"]',
        ),
    )
    assert found == [
        f"{root}/disputes/not_received.yaml:9:9: L003 rules 'not-received-delivery-proven' "
        "(pay_seller) and 'not-received-delivery-not-proven' (refund, "
        f"{root}/disputes/not_received.yaml:20:9) have the same priority 100 and nothing in their "
        "conditions keeps them from firing together\n"
        "    - id: not-received-delivery-proven\n"
        "          ^ give one a higher priority, or add a test that makes them exclusive"
    ]


def test_one_item_supporting_and_opposing_an_issue(rules_copy: Copy) -> None:
    _, found = _lint(
        rules_copy,
        ("evidence/expert.yaml", 'evidence.result == "no_defect"', 'evidence.result != "genuine"'),
    )
    assert [line.split(": ", 1)[1].split("\n")[0] for line in found] == [
        "L003 rules 'report-finds-defect' (supports defect) and 'report-finds-no-defect' "
        f"(opposes defect, {found[0].split(':')[0].rsplit('/', 2)[0]}/evidence/expert.yaml:27:9) "
        "can fire on the same item"
    ]


def test_a_condition_that_can_never_hold(rules_copy: Copy) -> None:
    root, found = _lint(
        rules_copy,
        (
            "evidence/receipt.yaml",
            "when: evidence.copy_no == 1",
            "when: evidence.copy_no == 1 and evidence.copy_no > 2",
        ),
    )
    assert found == [
        f"{root}/evidence/receipt.yaml:37:9: L004 rule 'receipt-first-copy' can never fire: "
        "'evidence.copy_no == 1' and 'evidence.copy_no > 2' cannot both hold\n"
        "    - id: receipt-first-copy\n"
        "          ^ check the values and the comparison; `rules compile --dump` shows the "
        "alternatives"
    ]


def test_rules_on_issues_no_dispute_type_decides(rules_copy: Copy) -> None:
    issue = (
        "  spare:\n    title: {zh: 备用, en: spare}\n    standard: param.proof_standard\n"
        "    lower_bound: param.inconclusive_lower_bound\n    margin: param.abstain_margin\n"
    )
    rule = (
        'rules:\n  - id: spare-rule\n    title: 备用 / spare\n    source: "a test of lint"\n'
        "    dispute_type: quality\n    match: {spare: spare}\n"
        '    when: spare.status == "proven"\n    then: {ruling: refund, priority: 50}\n'
        "    reason: {zh: 备用规则。, en: A spare rule.}\n"
    )
    root, found = _lint(rules_copy, ("issues.yaml", "  damaged:\n", issue + "  damaged:\n"))
    assert found == [
        f"{root}/issues.yaml:33:3: L006 issue 'spare' is in no dispute type's burden, so it is "
        "never decided and rules on it never fire\n"
        "    spare:\n"
        "    ^ add 'spare: buyer' (or seller) to a dispute type's burden, or remove the issue"
    ]
    (root / "spare.yaml").write_text(rule, encoding="utf-8")
    codes = [f.code for f in lint_program(load_rules(root))]
    assert codes == ["L006", "L005"]


SPARE_ISSUE = (
    "  spare:\n    title: {zh: 备用, en: spare}\n    standard: param.proof_standard\n"
    "    lower_bound: param.inconclusive_lower_bound\n    margin: param.abstain_margin\n"
)


def test_an_evidence_kind_that_can_never_count(rules_copy: Copy) -> None:
    root, found = _lint(
        rules_copy,
        ("evidence/returns.yaml", "then: {supports: return_delivered", "then: {supports: spare"),
        ("issues.yaml", "  damaged:\n", SPARE_ISSUE + "  damaged:\n"),
    )
    assert [line.split("\n")[0] for line in found] == [
        f"{root}/evidence/kinds.yaml:190:3: L007 evidence kind 'return_tracking': rules decide "
        "about its items, but no rule lets one support or oppose an issue that a dispute type "
        "decides, and no other rule reads them; they can never change a ruling",
        f"{root}/issues.yaml:33:3: L006 issue 'spare' is in no dispute type's burden, so it is "
        "never decided and rules on it never fire",
    ]


def test_profile_gaps_and_parameter_values_under_the_wrong_profile(rules_copy: Copy) -> None:
    root, found = _lint(
        rules_copy,
        ("parameters.yaml", "until: 2021-03-17", "until: 2021-03-10"),
        (
            "parameters.yaml",
            "value: 50.00\n        profile: default",
            "value: 50.00\n        profile: tmall",
        ),
        (  # the general multiple becomes Tmall's only: Taobao has none at all
            "parameters.yaml",
            "      - since: 2015-01-01\n        value: 3\n",
            "      - since: 2015-01-01\n        platform: tmall\n        value: 3\n",
        ),
    )
    assert [line.split("\n")[0] for line in found] == [
        f"{root}/parameters.yaml:11:3: L008 no profile is in force from 2021-03-11 to the day "
        "before 2021-03-18, between 'taobao-2015' and 'default'",
        f"{root}/parameters.yaml:126:9: L009 value of 'late_shipment_max' since 2021-03-18 says "
        "profile 'tmall', but 'default' is in force on that date",
        f"{root}/parameters.yaml:171:3: L010 parameter 'counterfeit_multiplier' has no value in "
        "force on 2015-01-01, when profile 'taobao-2015' starts",
        f"{root}/parameters.yaml:171:3: L010 parameter 'counterfeit_multiplier' has no value in "
        "force on 2021-03-18, when profile 'default' starts",
    ]


def test_a_parameter_of_a_later_policy_is_no_gap(rules_copy: Copy) -> None:
    # a parameter whose first value is from 2027 is missing for earlier cases, by design
    root, found = _lint(
        rules_copy,
        (
            "parameters.yaml",
            "parameters:\n",
            "parameters:\n  price_protection_window:\n"
            "    title: {zh: 价保期, en: Price protection}\n"
            "    type: duration\n    values:\n      - {since: 2027-01-01, value: 15d, "
            "source: policy change}\n",
        ),
    )
    assert found == []


def test_an_untranslated_reason(rules_copy: Copy) -> None:
    root, found = _lint(
        rules_copy,
        (
            "evidence/receipt.yaml",
            "reason: {zh: 签收底单是第一联。, en: The receipt is the first copy.}",
            "reason: {zh: The receipt is the first copy., en: 签收底单是第一联。}",
        ),
    )
    assert [line.split("\n")[0] for line in found] == [
        f"{root}/evidence/receipt.yaml:37:9: L011 rule 'receipt-first-copy': its zh reason has "
        "no Chinese; its en reason has Chinese in it"
    ]


def test_every_code_is_documented() -> None:
    guide = (ROOT / "docs" / "policy-guide.md").read_text(encoding="utf-8")
    for code, title in CODES.items():
        assert f"`{code}`" in guide, f"{code} ({title}) is not in docs/policy-guide.md"


def test_the_cli_prints_findings_and_exits_1(rules_copy: Copy) -> None:
    root = rules_copy(
        (
            "evidence/receipt.yaml",
            "when: evidence.copy_no == 1",
            "when: evidence.copy_no == 1 and evidence.copy_no > 2",
        )
    )
    result = CliRunner().invoke(main, ["rules", "lint", "--rules", str(root)])
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{root}/evidence/receipt.yaml:37:9: L004 rule ")
    assert result.stderr == f"1 finding(s) in {root}\n"
    result = CliRunner().invoke(main, ["rules", "lint", "--rules", str(RULES)])
    assert result.exit_code == 0 and result.stdout.startswith("ok: no findings in ")


# ---------------------------------------------------------------- what slipped through a trial

HOW = (
    "to see which cases it changes: adjudicate impact ARCHIVE --old APPROVED_RULES --new RULES; "
    "or date it from a day still to come"
)


def test_a_kind_compared_with_a_name_no_kind_has(rules_copy: Copy) -> None:
    root, found = _lint(
        rules_copy,
        (
            "evidence/photos.yaml",
            '    when: evidence.shows == "defect" and ("panorama"',
            '    when: evidence.kind != "product_photoz" and evidence.shows == "defect" and '
            '("panorama"',
        ),
    )
    assert found == [
        f"{root}/evidence/photos.yaml:17:28: L012 'product_photoz' is no evidence kind of these "
        "rules (in evidence.kind != 'product_photoz'): no item is ever of it\n"
        '    when: evidence.kind != "product_photoz" and evidence.shows == "defect" and '
        '("panorama" not in evidence.views or "closeup" not in evidence.views)\n'
        "                           ^ did you mean 'product_photos'?"
    ]


def test_a_value_written_after_a_later_one_changes_the_past(rules_copy: Copy) -> None:
    root, found = _lint(
        rules_copy,
        (
            "parameters.yaml",
            '        source: "seed 000 (side column): 最高不超过50元"\n',
            '        source: "seed 000 (side column): 最高不超过50元"\n'
            "      - {since: 2020-01-01, value: 40.00, profile: taobao-2015, source: change}\n",
        ),
    )
    assert found == [
        f"{root}/parameters.yaml:130:9: L013 value of 'late_shipment_max' since 2020-01-01 is "
        "back-dated: it is written after the value since 2021-03-18, so it changes the past\n"
        "    - {since: 2020-01-01, value: 40.00, profile: taobao-2015, source: change}\n"
        f"      ^ {HOW}"
    ]


def test_a_new_value_dated_before_today_re_rules_decided_cases(
    rules_copy: Copy, program: Program
) -> None:
    root = rules_copy(
        (
            "parameters.yaml",
            '        source: "seed 000 (side column): 最高不超过50元"\n',
            '        source: "seed 000 (side column): 最高不超过50元"\n'
            "      - {since: 2026-11-01, value: 60.00, profile: default, source: change}\n",
        ),
    )
    edited = load_rules(root)
    found = [str(f) for f in lint_program(edited, today="2026-12-05", baseline=program)]
    assert found == [
        f"{root}/parameters.yaml:130:9: L013 new value of 'late_shipment_max' since 2026-11-01 "
        "is back-dated: it is not after today (2026-12-05), so cases already decided would now "
        "rule otherwise\n"
        "    - {since: 2026-11-01, value: 60.00, profile: default, source: change}\n"
        f"      ^ {HOW}"
    ]
    # dated from a day still to come, it re-rules nothing
    assert lint_program(edited, today="2026-10-31", baseline=program) == ()
    # the CLI: --baseline names the approved rules, --today the day of the review
    result = CliRunner().invoke(
        main,
        ["rules", "lint", "--rules", str(root), "--baseline", str(RULES), "--today", "2026-12-05"],
    )
    assert result.exit_code == 1 and result.stdout == found[0] + "\n"


def test_a_standard_no_achievable_score_separates_from_the_one_before(rules_copy: Copy) -> None:
    # every weight is 0.5 or 0.9: from 0.7 to 0.8 no score changes sides
    root, found = _lint(
        rules_copy,
        (
            "issues.yaml",
            "    title: {zh: 商品为假货, en: the goods are counterfeit}\n"
            "    standard: param.proof_standard",
            "    title: {zh: 商品为假货, en: the goods are counterfeit}\n"
            "    standard: param.fake_standard",
        ),
        (
            "parameters.yaml",
            "\nparameters:\n",
            "\nparameters:\n  fake_standard:\n    title: {zh: 假货标准, en: Fake standard}\n"
            "    type: number\n    values:\n      - {since: 2015-01-01, value: 0.7, source: s}\n"
            "      - {since: 2027-03-01, platform: tmall, value: 0.8, source: s}\n",
        ),
    )
    assert found == [
        f"{root}/parameters.yaml:27:9: L014 standard 0.8 of issue 'fake' (since 2027-03-01) "
        "decides nothing that 0.7 does not: no achievable score lies between them (scores: 0, "
        "0.9)\n"
        "    - {since: 2027-03-01, platform: tmall, value: 0.8, source: s}\n"
        "      ^ a standard matters where a score can fall: change the weights of the items that "
        "support the issue, or choose a standard between two of them"
    ]


def test_a_tab_is_reported_as_a_tab_and_stops_before_knock_on_errors(rules_copy: Copy) -> None:
    # the broken file declares the parameters every issue reads: no "unknown parameter" follows
    root = rules_copy(("parameters.yaml", "    type: duration\n", "\ttype: duration\n"))
    result = CliRunner().invoke(main, ["rules", "validate", "--rules", str(root)])
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (
        f"{root}/parameters.yaml:24:1: a tab character: YAML indents with spaces, never tabs\n"
        "    ⇥type: duration\n"
        "    ^ replace the tab (shown as ⇥) with spaces\n"
        f"1 problem(s) in {root}\n"
    )
