"""rules diff: what changed between two rule folders, parameter values by effective date."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from conftest import RULES

from engine import load_rules
from engine.cli import main
from engine.rules.diff import diff_programs, render_changes, review_warnings


def test_no_differences_between_a_folder_and_itself(rules_copy: Callable[..., Path]) -> None:
    assert diff_programs(load_rules(RULES), load_rules(rules_copy())) == ()
    result = CliRunner().invoke(main, ["rules", "diff", str(RULES), str(RULES)])
    assert (result.exit_code, result.stdout) == (0, "no differences\n")


def test_changed_rules_and_parameter_values_are_listed_by_date(
    rules_copy: Callable[..., Path],
) -> None:
    new = rules_copy(
        ("evidence/receipt.yaml", "when: evidence.copy_no == 1", "when: evidence.copy_no <= 2"),
        (
            "parameters.yaml",
            '        source: "seed 000 (side column): 最高不超过50元"\n',
            '        source: "seed 000 (side column): 最高不超过50元"\n'
            "      - {since: 2026-01-01, value: 100.00, profile: default, source: change}\n",
        ),
        ("parameters.yaml", "value: 0.2\n", "value: 0.25\n"),
        ("remedies.yaml", "  - id: refund-capped", "  - id: refund-limited"),
    )
    result = CliRunner().invoke(
        main, ["rules", "diff", str(RULES), str(new), "--today", "2026-12-05"]
    )
    assert result.exit_code == 1
    assert result.stdout == "\n".join(
        [
            f"~ rule receipt-first-copy  [{new}/evidence/receipt.yaml:37:9]",
            "    when: evidence.copy_no == 1 -> evidence.copy_no <= 2",
            f"+ rule refund-limited  [{new}/remedies.yaml:3:9]",
            "    when: dispute.claimed_amount > case.refund_cap",
            "    then: warning",
            f"- rule refund-capped  [{RULES}/remedies.yaml:3:9]",
            "from 2015-01-01:",
            f"  ~ parameter abstain_margin: 0.2 -> 0.25  [{new}/parameters.yaml:168:9]",
            "from 2026-01-01:",
            "  + parameter late_shipment_max: 50.00 (profile default) -> 100.00 (profile "
            f"default)  [{new}/parameters.yaml:130:9]",
            "warning: the rules changed but policy.version is still 2026.1: rulings name the "
            "version they were made under, so give the new rules a version of their own",
            f"warning: {new}/parameters.yaml:130:9: new value of 'late_shipment_max' since "
            "2026-01-01 is back-dated: it is not after today (2026-12-05), so cases already "
            "decided would now rule otherwise (to see which cases it changes: adjudicate impact "
            "ARCHIVE --old APPROVED_RULES --new RULES; or date it from a day still to come)",
            f"warning: {new}/parameters.yaml:168:9: new value of 'abstain_margin' since "
            "2015-01-01 is back-dated: it is not after today (2026-12-05), so cases already "
            "decided would now rule otherwise (to see which cases it changes: adjudicate impact "
            "ARCHIVE --old APPROVED_RULES --new RULES; or date it from a day still to come)",
            "",
        ]
    )
    assert result.stderr == "5 difference(s)\n"


def test_declarations_that_changed_are_named(rules_copy: Callable[..., Path]) -> None:
    new = rules_copy(
        (
            "evidence/kinds.yaml",
            "      damage_noted: boolean\n",
            "      damage_noted: boolean\n      photo_count: integer\n",
        ),
        ("disputes/quality.yaml", "burden: {defect: buyer}", "burden: {defect: seller}"),
    )
    text = render_changes(diff_programs(load_rules(RULES), load_rules(new)))
    assert "~ evidence kind carrier_certificate" in text
    assert "    attribute photo_count: (none) -> integer" in text
    assert (
        "~ dispute type quality" in text and "    burden: defect: buyer -> defect: seller" in text
    )


def test_values_and_conditions_show_as_written_with_the_value_they_replace(
    rules_copy: Callable[..., Path],
) -> None:
    new = rules_copy(
        (
            "parameters.yaml",
            '        value: 15d\n        source: "seed 004: 已确认收货超过15天的订单无法申请"\n',
            '        value: 15d\n        source: "seed 004: 已确认收货超过15天的订单无法申请"\n'
            "      - since: 2027-01-01\n        value: 10d  # shorter from 2027\n"
            "        source: change\n",
        ),
        ("policy.yaml", 'version: "2026.1"', 'version: "2027.1"'),
        (
            "evidence/receipt.yaml",
            "missing(evidence.tracking_no) or missing(order.tracking_no) or "
            "evidence.tracking_no == order.tracking_no",
            "missing(order.tracking_no) or evidence.tracking_no == order.tracking_no",
        ),
    )
    text = render_changes(diff_programs(load_rules(RULES), load_rules(new)))
    assert text.splitlines() == [
        "~ policy version",
        "    2026.1 -> 2027.1",
        f"~ rule receipt-tracking-matches  [{new}/evidence/receipt.yaml:11:9]",
        "    when: missing(evidence.tracking_no) or missing(order.tracking_no) or "
        "evidence.tracking_no == order.tracking_no -> missing(order.tracking_no) or "
        "evidence.tracking_no == order.tracking_no",
        "from 2027-01-01:",
        f"  + parameter after_sale_window: 15d -> 10d  [{new}/parameters.yaml:77:9]",
    ]
    # with a version of its own and a date to come, a reviewer has nothing more to be told
    old, edited = load_rules(RULES), load_rules(new)
    changes = diff_programs(old, edited)
    assert review_warnings(old, edited, changes, today="2026-12-05") == ()
