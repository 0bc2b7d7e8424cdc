"""The printed agreement tables stay readable on an 80-column terminal: every ruling name whole."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from engine.batch.tables import CONFUSION_PAIRS, summary_tables

RULINGS = ("appeal_rejected", "compensate", "exchange", "not_admissible", "partial_refund",
           "pay_seller", "refer_to_arbitrator", "refund", "request_evidence",
           "return_and_refund", "withdrawn")  # fmt: skip


def _summary(confusion: dict[str, dict[str, int]]) -> dict[str, Any]:
    run = {"cases_in": 1, "lines_out": 1, "shards": 1, "resumed": 0, "quarantined": [],
           "complete": True}  # fmt: skip
    agreement = {"recorded": 1, "rate": 0.5, "by_dispute_type": {}, "confusion": confusion}
    return {"run": run, "scored": 1, "errors": 0, "rulings": {}, "errors_by_type": {},
            "by_dispute_type": {}, "agreement": agreement}  # fmt: skip


def _printed(summary: dict[str, Any], width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    for table in summary_tables(summary, width=width):
        console.print(table)
    return console.export_text()


def _every_pair(n: int = 1234) -> dict[str, dict[str, int]]:
    return {old: {new: n for new in RULINGS} for old in RULINGS}


def test_on_80_columns_the_disagreeing_pairs_are_listed_with_whole_names_biggest_first() -> None:
    confusion = _every_pair()
    confusion["pay_seller"]["refund"] = 9999
    text = _printed(_summary(confusion), 80)
    assert "…" not in text
    assert "where they differ" in text
    pairs = [line for line in text.splitlines() if line.count("│") == 4]
    assert len(pairs) == CONFUSION_PAIRS
    assert "pay_seller" in pairs[0] and "refund" in pairs[0] and "9,999" in pairs[0]
    assert not any(line.split("│")[1].strip() == line.split("│")[2].strip() for line in pairs)
    hidden = len(RULINGS) * (len(RULINGS) - 1) - CONFUSION_PAIRS
    assert f"{hidden:,} smaller pairs" in text


def test_a_wide_terminal_gets_the_whole_matrix() -> None:
    text = _printed(_summary(_every_pair()), 240)
    assert "…" not in text and "Recorded ruling (rows) vs re-scored ruling (columns)" in text
    assert all(ruling in text for ruling in RULINGS)


def test_a_small_confusion_fits_as_a_matrix_even_on_80_columns() -> None:
    text = _printed(_summary({"refund": {"refund": 3, "pay_seller": 1}}), 80)
    assert "(columns)" in text and "where they differ" not in text and "…" not in text
