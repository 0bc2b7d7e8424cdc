"""Case -> casefile/1 data reads back as the same case: every golden case, and hostile text."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ROOT, golden_cases

from engine.cases.dump import case_data
from engine.cases.load import case_from_data, load_case

CASES = [*golden_cases(), ROOT / "tests" / "data" / "reports" / "hostile-text.yaml"]


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_a_case_written_as_data_reads_back_as_the_same_case(path: Path) -> None:
    case = load_case(path)
    text = json.dumps(case_data(case), ensure_ascii=False)
    assert case_from_data(json.loads(text), source="copy") == case


def test_an_amount_too_long_for_a_json_number_is_refused_not_rounded() -> None:
    case = load_case(CASES[0])
    order = dataclasses.replace(case.order, item_amount=Decimal("12345678901234567.89"))
    with pytest.raises(ValueError) as error:
        case_data(dataclasses.replace(case, order=order))
    assert str(error.value) == (
        "amount 12345678901234567.89 cannot be written as an exact JSON number"
    )

