"""Policy lives in YAML: three policy changes made by editing a copy of rules/, no Python.

Each test scores the same cases under the shipped rules and under the edited copy, with both
engines, and shows the ruling changes exactly where the policy change says it should.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from conftest import CASEFILES, RULES

from engine import Case, Scorer, load_rules
from engine.cases.load import parse_case
from engine.policytools.ruletests import load_rule_tests
from engine.rules.lint import lint_program

ENGINES = ("reference", "durable")

ESIGN_KIND = """\
# 快递电子签收记录 / A courier's electronic signature record (policy change)
evidence_kinds:
  courier_esign_record:
    title: {zh: 快递电子签收记录, en: courier's electronic signature record}
    attributes:
      issuer: text
      tracking_no: text
      signer_name: name
    requires:
      esign-courier:
        zh: 电子签收记录不是发货的快递公司出具的
        en: the record was not issued by the courier that shipped the order
        source: "policy change: a courier's electronic signature record proves delivery"
      esign-signer:
        zh: 电子签收人不是收件人
        en: the electronic signer is not the recipient
        source: "policy change: a courier's electronic signature record proves delivery"

rules:
  - id: esign-issued-by-shipping-courier
    title: 电子签收记录由发货快递出具 / Record issued by the shipping courier
    source: "policy change: a courier's electronic signature record proves delivery"
    match: {evidence: courier_esign_record}
    when: evidence.issuer == order.courier
    then: {meets: esign-courier}
    reason:
      zh: 电子签收记录由发货的快递公司出具。
      en: The record was issued by the courier that shipped the order.

  - id: esign-signed-by-recipient
    title: 电子签收人即收件人 / Signed electronically by the recipient
    source: "policy change: a courier's electronic signature record proves delivery"
    match: {evidence: courier_esign_record}
    when: same_name(evidence.signer_name, order.recipient_name)
    then: {meets: esign-signer}
    reason: {zh: 电子签收人与收件人姓名相同。, en: The electronic signer is the recipient.}

  - id: esign-proves-delivery
    title: 有效电子签收记录证明已送达 / A valid record proves delivery
    source: "policy change: a courier's electronic signature record proves delivery"
    match: {evidence: courier_esign_record}
    then: {supports: delivered, weight: param.weight_decisive}
    reason:
      zh: 有效的电子签收记录足以证明货物已送达收件人。
      en: A valid electronic signature record proves delivery.
"""

ESIGN_CASE = """\
- name: 电子签收记录 / an electronic signature record
  case: {base}
  patch:
    evidence:
      E2: null
      E3:
        party: seller
        kind: courier_esign_record
        submitted_at: 2024-03-07T11:20:00+08:00
        attributes: {{issuer: 中通快递, tracking_no: "75312345678901", signer_name: 张伟}}
  expect: {{ruling: pay_seller}}
"""


def _rulings(rules: Path, cases: list[Case]) -> dict[str, list[tuple[str, Decimal, Decimal]]]:
    program = load_rules(rules)
    out = {}
    for engine in ENGINES:
        scorer = Scorer(program, engine)  # type: ignore[arg-type]
        out[engine] = [
            (r.ruling, r.refund_amount, r.compensation_amount)
            for r in (scorer.score(case).ruling for case in cases)
        ]
    assert out["reference"] == out["durable"]
    return out


def _test_case(tmp_path: Path, text: str) -> Case:
    path = tmp_path / "case-tests.yaml"
    path.write_text(text, encoding="utf-8")
    (test,) = load_rule_tests([path], load_rules(RULES))
    return test.case


def test_a_courier_esign_record_becomes_evidence_of_delivery(
    rules_copy: Callable[..., Path], tmp_path: Path
) -> None:
    case = _test_case(
        tmp_path, ESIGN_CASE.format(base=CASEFILES / "not-received-valid-receipt.yaml")
    )
    before = _rulings(RULES, [case])
    assert before["durable"] == [("refund", Decimal("459.00"), Decimal("0"))]
    edited = rules_copy()
    (edited / "evidence" / "esign.yaml").write_text(ESIGN_KIND, encoding="utf-8")
    after = _rulings(edited, [case])
    assert after["durable"] == [("pay_seller", Decimal("0"), Decimal("0"))]
    assert lint_program(load_rules(edited)) == ()


def test_raising_the_late_shipment_maximum_from_a_date(rules_copy: Callable[..., Path]) -> None:
    text = (CASEFILES / "late-shipment-maximum-compensation.yaml").read_text(encoding="utf-8")
    before_date = parse_case(text, source="2024.yaml", fmt="yaml")  # intervention 2024-05-17
    after_date = parse_case(text.replace("2024-05-", "2026-05-"), source="2026.yaml", fmt="yaml")
    before = _rulings(RULES, [before_date, after_date])
    assert [c for _, _, c in before["durable"]] == [Decimal("50.00"), Decimal("50.00")]
    edited = rules_copy(
        (
            "parameters.yaml",
            '        source: "seed 000 (side column): 最高不超过50元"\n',
            '        source: "seed 000 (side column): 最高不超过50元"\n'
            "      - since: 2026-01-01\n"
            "        value: 100.00\n"
            "        profile: default\n"
            '        source: "policy change: the maximum is 100 from 2026-01-01"\n',
        )
    )
    after = _rulings(edited, [before_date, after_date])
    assert [c for _, _, c in after["durable"]] == [Decimal("50.00"), Decimal("100.00")]
    assert lint_program(load_rules(edited)) == ()


PROXY_LIMIT = (
    "parameters.yaml",
    "parameters:\n",
    "parameters:\n"
    "  proxy_signing_max_amount:\n"
    "    title: {zh: 允许代签的订单金额上限, en: Largest order a proxy may sign for}\n"
    "    type: money\n"
    "    values:\n"
    "      - since: 2015-01-01\n"
    "        value: 2000.00\n"
    '        source: "policy change: no proxy signing above 2000"\n\n',
)


def test_proxy_signing_is_invalid_above_an_amount(rules_copy: Callable[..., Path]) -> None:
    text = (CASEFILES / "proxy-buyer-authorization-valid.yaml").read_text(encoding="utf-8")
    above = parse_case(text, source="above.yaml", fmt="yaml")  # 2,299.00, signed by a proxy
    below = parse_case(
        text.replace("item_amount: 2299.00", "item_amount: 1999.00").replace(
            "claimed_amount: 2299.00", "claimed_amount: 1999.00"
        ),
        source="below.yaml",
        fmt="yaml",
    )
    before = _rulings(RULES, [above, below])
    assert [r for r, _, _ in before["durable"]] == ["pay_seller", "pay_seller"]
    condition = "      - same_name(evidence.signer_name, authorization.authorized_name)\n"
    edited = rules_copy(
        PROXY_LIMIT,
        (
            "evidence/receipt.yaml",
            condition,
            condition + "      - order.item_amount <= param.proxy_signing_max_amount\n",
        ),
        (
            "evidence/certificate.yaml",
            condition,
            condition + "      - order.item_amount <= param.proxy_signing_max_amount\n",
        ),
    )
    after = _rulings(edited, [above, below])
    assert after["durable"] == [
        ("refund", Decimal("2299.00"), Decimal("0")),
        ("pay_seller", Decimal("0"), Decimal("0")),
    ]
    assert lint_program(load_rules(edited)) == ()
