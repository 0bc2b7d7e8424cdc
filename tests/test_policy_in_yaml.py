"""Policy lives in rules/, never in engine/: no policy number, dispute type, kind or party name."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from conftest import ROOT, RULES

ENGINE = ROOT / "engine"
# the numbers of POLICY.md's table (hours, days, amounts, rates)
POLICY_NUMBERS = {
    "72",
    "48",
    "15",
    "24",
    "50",
    "30",
    "0.05",
    "5.00",
    "30.00",
    "50.00",
    "0.7",
    "0.9",
    "0.5",
    "0.3",
    "0.2",
}
# names that belong to rules/: dispute types, evidence kinds, issues, couriers
POLICY_WORDS = {
    "not_received",
    "late_shipment",
    "signed_receipt",
    "carrier_certificate",
    "logistics_tracking",
    "signing_authorization",
    "delivered",
    "quality",
    "counterfeit",
    "中通",
    "顺丰",
}


def _tokens(path: Path) -> list[tokenize.TokenInfo]:
    return list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))


def test_no_policy_number_in_engine() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{tok.start[0]}: {tok.string}"
        for path in sorted(ENGINE.rglob("*.py"))
        for tok in _tokens(path)
        if tok.type == tokenize.NUMBER and tok.string.replace("_", "") in POLICY_NUMBERS
    ]
    assert not found, "policy numbers written in engine/:\n" + "\n".join(found)


def test_no_policy_name_in_engine() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{tok.start[0]}: {tok.string}"
        for path in sorted(ENGINE.rglob("*.py"))
        for tok in _tokens(path)
        if tok.type == tokenize.STRING
        and any(
            re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", tok.string) for word in POLICY_WORDS
        )
    ]
    assert not found, "policy names written in engine/:\n" + "\n".join(found)


def test_the_policy_numbers_are_in_rules() -> None:
    text = "\n".join(p.read_text(encoding="utf-8") for p in RULES.rglob("*.yaml"))
    for value in ("72h", "48h", "15d", "24h", "3d", "0.05", "5.00", "50.00", "30.00"):
        assert value in text, value
