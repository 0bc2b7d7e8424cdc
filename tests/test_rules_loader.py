"""Rule files: the shipped rules load; each kind of mistake gets its whole, located message."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine import Program, RuleFileError, load_rules


def _message(rules_dir: Path) -> str:
    with pytest.raises(RuleFileError) as caught:
        load_rules(rules_dir)
    return str(caught.value).replace(str(rules_dir), "rules")


def test_the_shipped_rules_load(program: Program) -> None:
    assert program.name == "taobao-default"
    assert program.digest.startswith("sha256:") and len(program.digest) == 71
    assert {d.name for d in program.dispute_types} >= {"not_received", "late_shipment"}
    assert all(rule.source.strip() and rule.reason.zh and rule.reason.en for rule in program.rules)


def test_the_digest_changes_with_any_rule_file(
    rules_copy: Callable[..., Path], program: Program
) -> None:
    edited = rules_copy(("policy.yaml", 'version: "2026.1"', 'version: "2026.1" # edited'))
    assert load_rules(edited).digest != program.digest


CASES = {
    "misspelt attribute": (
        (
            "evidence/receipt.yaml",
            "same_name(evidence.signer_name, order.recipient_name)",
            "same_name(evidence.singer_name, order.recipient_name)",
        ),
        "rules/evidence/receipt.yaml:23:21: unknown attribute 'singer_name' of evidence kind "
        "'signed_receipt'\n"
        "    when: same_name(evidence.singer_name, order.recipient_name)\n"
        "                    ^ did you mean 'signer_name'?",
    ),
    "duplicate key": (
        (
            "evidence/receipt.yaml",
            "    then: {meets: receipt-courier}",
            "    then: {meets: receipt-courier}\n    then: {meets: receipt-copy}",
        ),
        "rules/evidence/receipt.yaml:9:5: duplicate key 'then' (first written at line 8)\n"
        "    then: {meets: receipt-copy}\n"
        "    ^ remove one of the two, or rename it",
    ),
    "duplicate rule id": (
        ("evidence/receipt.yaml", "  - id: receipt-first-copy", "  - id: receipt-tracking-matches"),
        "rules/evidence/receipt.yaml:37:9: rule id 'receipt-tracking-matches' is already used at "
        "rules/evidence/receipt.yaml:11:9\n"
        "    - id: receipt-tracking-matches\n"
        "          ^",
    ),
    "misspelt evidence kind": (
        (
            "evidence/receipt.yaml",
            "    match: {evidence: signed_receipt}\n    when: evidence.copy_no",
            "    match: {evidence: signed_reciept}\n    when: evidence.copy_no",
        ),
        "rules/evidence/receipt.yaml:40:23: unknown evidence kind or issue 'signed_reciept'\n"
        "    match: {evidence: signed_reciept}\n"
        "                      ^ did you mean 'signed_receipt'?",
    ),
    "constant of the wrong type": (
        (
            "evidence/receipt.yaml",
            "when: evidence.copy_no == 1",
            'when: evidence.copy_no == "first"',
        ),
        "rules/evidence/receipt.yaml:41:31: 'first' is not a number, but integer is compared "
        "with it\n"
        '    when: evidence.copy_no == "first"\n'
        "                              ^",
    ),
    "misspelt parameter": (
        ("derived.yaml", "param.seller_response_time", "param.seller_respons_time"),
        "rules/derived.yaml:4:54: unknown parameter 'seller_respons_time'\n"
        "    seller_response_due: dispute.refund_requested_at + param.seller_respons_time\n"
        "                                                       ^ did you mean "
        "'seller_response_time'?",
    ),
    "parameter value of the wrong type": (
        (
            "parameters.yaml",
            '        value: 72h\n        source: "seed 004',
            '        value: 72 hours\n        source: "seed 004',
        ),
        "rules/parameters.yaml:27:16: value of 'seller_response_time' must be a duration\n"
        "    value: 72 hours\n"
        "           ^ durations are written like 72h or 3d",
    ),
    "arithmetic in a condition": (
        (
            "disputes/late_shipment.yaml",
            "when: order.shipped_at > case.ship_deadline",
            "when: order.shipped_at > order.paid_at + param.default_shipping_deadline",
        ),
        "rules/disputes/late_shipment.yaml:13:30: arithmetic is not allowed in a condition\n"
        "    when: order.shipped_at > order.paid_at + param.default_shipping_deadline\n"
        "                             ^ define the value under derived: and compare with "
        "case.<name>",
    ),
    "value outside an enum": (
        (
            "evidence/tracking.yaml",
            'when: evidence.status == "delivered"',
            'when: evidence.status == "delivred"',
        ),
        "rules/evidence/tracking.yaml:23:30: 'delivred' is not one of the values of "
        "enum[delivered, in_transit]\n"
        '    when: evidence.status == "delivred"\n'
        "                             ^ did you mean 'delivered'?",
    ),
    "rule without a source": (
        (
            "remedies.yaml",
            '    source: "POLICY.md §4: refunds',
            '    sauce: "POLICY.md §4: refunds',
        ),
        "rules/remedies.yaml:5:5: unknown key 'sauce'\n"
        '    sauce: "POLICY.md §4: refunds equal claimed_amount, capped at item_amount + '
        'shipping_fee (a warning says so)"\n'
        "    ^ did you mean 'source'?\n"
        "rules/remedies.yaml:3:5: rule 'refund-capped' needs a source: the seed sentence or the "
        "practice it encodes\n"
        "    - id: refund-capped\n"
        "      ^",
    ),
    "a rule reading what it decides": (
        (
            "evidence/receipt.yaml",
            "    when: evidence.copy_no == 1",
            "    when: evidence.copy_no == 1 and evidence.valid",
        ),
        "rules/evidence/receipt.yaml:37:9: rule 'receipt-first-copy' depends on its own "
        "conclusions (a cycle through valid/admitted or issues)\n"
        "    - id: receipt-first-copy\n"
        "          ^ a rule may not read what it, or a rule after it, decides",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_mistake_gets_its_whole_located_message(
    name: str, rules_copy: Callable[..., Path]
) -> None:
    edit, message = CASES[name]
    assert _message(rules_copy(edit)) == message


def test_every_problem_of_every_file_is_reported_at_once(rules_copy: Callable[..., Path]) -> None:
    edited = rules_copy(
        (
            "evidence/tracking.yaml",
            'when: evidence.status == "delivered"',
            'when: evidence.status == "delivred"',
        ),
        (
            "remedies.yaml",
            "when: dispute.claimed_amount > case.refund_cap",
            "when: dispute.claimed_amount > case.refund_capp",
        ),
    )
    message = _message(edited)
    assert "rules/evidence/tracking.yaml:23:30" in message
    assert "rules/remedies.yaml:6:36: unknown case value 'refund_capp'" in message
