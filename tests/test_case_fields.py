"""Case fields declared in YAML: a rules file may add fields to the order or the dispute
(``case_fields:``); case files may then carry them, typed as declared, and rules read them.
An undeclared field stays a located error."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import CASEFILES

from engine import CaseFileError, RuleFileError, Scorer, load_rules
from engine.cases.dump import case_data
from engine.cases.load import case_from_data, parse_case

BASE = (CASEFILES / "not-received-valid-receipt.yaml").read_text(encoding="utf-8")

STATIONS = """\
case_fields:
  order:
    station_allowed: boolean
    station_name: {type: name, title: {zh: 驿站名称, en: name of the parcel station}}
  dispute:
    price_seen: money
rules:
  - id: receipt-signed-by-allowed-station
    title: 经买家同意由驿站代收 / Signed by a parcel station the order allowed
    source: "policy change: parcel stations"
    match: {evidence: signed_receipt}
    when: order.station_allowed and same_name(evidence.signer_name, order.station_name)
    then: {meets: receipt-signer}
    reason: {zh: 订单允许驿站代收，由驿站签收。, en: The order allowed a station; it signed.}
"""


def _station_case(allowed: str = "true", signer: str = "菜鸟驿站") -> str:
    text = BASE.replace(
        "  receipt_confirmed_at: null\n",
        f"  receipt_confirmed_at: null\n  station_allowed: {allowed}\n  station_name: 菜鸟驿站\n",
    )
    return text.replace("      signer_name: 张伟\n", f"      signer_name: {signer}\n")


@pytest.fixture
def stations(rules_copy: Callable[..., Path]) -> Path:
    root = rules_copy()
    (root / "evidence" / "stations.yaml").write_text(STATIONS, encoding="utf-8")
    return root


def test_rules_read_a_declared_field_and_the_loader_types_it(stations: Path) -> None:
    program = load_rules(stations)
    assert program.declared_fields()["order"]["station_allowed"].name == "boolean"
    fields = program.declared_fields()
    allowed = parse_case(_station_case(), source="case.yaml", fmt="yaml", fields=fields)
    assert dict(allowed.order.extra) == {"station_allowed": True, "station_name": "菜鸟驿站"}
    refused = parse_case(_station_case("false"), source="case.yaml", fmt="yaml", fields=fields)
    for engine in ("reference", "durable"):
        scorer = Scorer(program, engine)  # type: ignore[arg-type]
        assert scorer.score(allowed).ruling.ruling == "pay_seller"
        assert scorer.score(refused).ruling.ruling == "refund"


def test_a_declared_field_of_the_wrong_type_is_a_located_error(stations: Path) -> None:
    fields = load_rules(stations).declared_fields()
    with pytest.raises(CaseFileError) as caught:
        parse_case(_station_case('"yes"'), source="case.yaml", fmt="yaml", fields=fields)
    assert str(caught.value) == (
        "case.yaml:24:20: order.station_allowed: expected true or false, got the string 'yes'"
    )


def test_an_undeclared_field_stays_a_located_error() -> None:
    with pytest.raises(CaseFileError) as caught:
        parse_case(_station_case(), source="case.yaml", fmt="yaml")
    message = str(caught.value)
    known = (
        "    known: order_id, item, item_amount, shipping_fee, goods_type, supports_7day_return, "
        "promised_ship_hours, recipient_name, courier, tracking_no, paid_at, shipped_at, "
        "delivered_at, receipt_confirmed_at"
    )
    assert message == (
        f"case.yaml:24:3: order.station_allowed: unknown field\n{known}\n"
        f"case.yaml:25:3: order.station_name: unknown field\n{known}"
    )


def test_declared_fields_survive_a_dump_and_a_reread(stations: Path) -> None:
    fields = load_rules(stations).declared_fields()
    case = parse_case(_station_case(), source="case.yaml", fmt="yaml", fields=fields)
    assert case_from_data(case_data(case), source="again", fields=fields) == case


@pytest.mark.parametrize(
    ("section", "message"),
    [
        (
            "case_fields:\n  order:\n    courier: text\n",
            "rules/extra.yaml:3:5: order.courier is a field of casefile/1 already\n"
            "    courier: text\n"
            "    ^ declare only fields the contract does not have",
        ),
        (
            "case_fields:\n  oder:\n    station_allowed: boolean\n",
            "rules/extra.yaml:2:3: case fields belong to the order or the dispute, not 'oder'\n"
            "    oder:\n"
            "    ^ did you mean 'order'?",
        ),
        (
            "case_fields:\n  order:\n    station_allowed: yes_or_no\n",
            "rules/extra.yaml:3:22: a case field cannot be of type 'yes_or_no'\n"
            "    station_allowed: yes_or_no\n"
            "                     ^ one of: text, name, time, money, boolean, integer, "
            "{enum: [...]}",
        ),
        (
            "case_fields:\n  order:\n    station_allowed: boolean\n"
            "rules:\n  - id: uses-it\n    title: t / t\n    source: s\n"
            "    when: order.station_alowed\n    then: {warning: true}\n"
            "    reason: {zh: 理由, en: reason}\n",
            "rules/extra.yaml:8:11: unknown attribute 'station_alowed' of 'order'\n"
            "    when: order.station_alowed\n"
            "          ^ did you mean 'station_allowed'?",
        ),
    ],
    ids=["contract field", "unknown owner", "unknown type", "misspelt in a rule"],
)
def test_a_wrong_declaration_gets_its_whole_located_message(
    rules_copy: Callable[..., Path], section: str, message: str
) -> None:
    root = rules_copy()
    (root / "extra.yaml").write_text(section, encoding="utf-8")
    with pytest.raises(RuleFileError) as caught:
        load_rules(root)
    assert str(caught.value).replace(str(root), "rules") == message
