"""Two rule versions on one archive: the cases a change flips, grouped, reported in HTML."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from conftest import CASEFILES

from engine import Program, load_rules
from engine.batch import assess_impact


def test_lowering_the_late_shipment_maximum_flips_only_capped_compensations(
    tmp_path: Path, program: Program, rules_copy: Callable[..., Path]
) -> None:
    lowered = load_rules(
        rules_copy(("parameters.yaml", "        value: 50.00\n", "        value: 40.00\n"))
    )
    out = tmp_path / "impact"
    report = assess_impact([str(CASEFILES)], program, lowered, out=str(out),
                           engine="reference", workers=0)  # fmt: skip
    summary = json.loads((out / "impact.json").read_text(encoding="utf-8"))
    assert report.complete and summary["cases"] == report.cases == report.lines
    changed = [
        json.loads(line)
        for path in (out / "shards").glob("*.jsonl")
        for line in path.read_text(encoding="utf-8").splitlines()
        if json.loads(line)["changed"]
    ]
    assert summary["changed"] == len(changed) > 0
    for row in changed:  # the ruling stays; the amount falls to the new maximum
        assert row["old"]["ruling"] == row["new"]["ruling"] == "compensate"
        assert row["old"]["compensation_amount"] > 40 and row["new"]["compensation_amount"] == 40
    assert summary["flips"] == [{"old": "compensate", "new": "compensate", "cases": len(changed)}]
    assert summary["rules"][0]["cases"] == len(changed)
    html = (out / "impact.html").read_text(encoding="utf-8")
    assert "compensate → compensate" in html
    for row in changed:
        for side in ("old", "new"):
            page = out / "cases" / f"{row['case_id']}.{side}.html"
            assert f'href="cases/{page.name}"' in html
            text = page.read_text(encoding="utf-8")  # the case's full report under that side
            assert f"<title>Ruling report · {row['case_id']}</title>" in text
            assert "<h2>What would change the ruling</h2>" in text


def test_the_same_rules_change_nothing(tmp_path: Path, program: Program) -> None:
    report = assess_impact([str(CASEFILES)], program, program, out=str(tmp_path),
                           engine="reference", workers=0)  # fmt: skip
    assert report.complete and report.summary["changed"] == 0 and report.summary["flips"] == []
    assert "No case changes." in (tmp_path / "impact.html").read_text(encoding="utf-8")


def test_a_removed_rule_flips_rulings_and_is_named_responsible(
    tmp_path: Path, program: Program, rules_copy: Callable[..., Path]
) -> None:
    # the new policy no longer accepts a red stamp in place of the first copy of a receipt
    stricter = load_rules(
        rules_copy(
            (
                "evidence/receipt.yaml",
                "    when: evidence.red_stamp\n    then: {meets: receipt-copy}",
                "    when: evidence.copy_no == 0\n    then: {meets: receipt-copy}",
            )
        )
    )
    report = assess_impact([str(CASEFILES)], program, stricter, out=str(tmp_path),
                           engine="reference", workers=0)  # fmt: skip
    flips = {(f["old"], f["new"]) for f in report.summary["flips"]}
    assert ("pay_seller", "refund") in flips
    responsible = {r["rule"] for r in report.summary["rules"]}
    assert "receipt-red-stamped-copy" in responsible


def test_the_responsible_change_is_the_parameter_not_every_rule_that_fired(
    tmp_path: Path, program: Program, rules_copy: Callable[..., Path]
) -> None:
    lowered = load_rules(
        rules_copy(("parameters.yaml", "        value: 50.00\n", "        value: 40.00\n"))
    )
    report = assess_impact([str(CASEFILES)], program, lowered, out=str(tmp_path),
                           engine="reference", workers=0)  # fmt: skip
    assert report.summary["rules"] == [
        {"rule": "param.late_shipment_max", "cases": report.summary["changed"]}
    ]


def test_as_of_moves_the_archive_to_the_day_a_dated_change_takes_effect(
    tmp_path: Path, program: Program, rules_copy: Callable[..., Path]
) -> None:
    # a new maximum from 2027-03-01 changes no case of the archive (all dated before it) until
    # the archive is moved to that day, every interval kept
    dated = load_rules(
        rules_copy(
            (
                "parameters.yaml",
                '        source: "seed 000 (side column): 最高不超过50元"\n',
                '        source: "seed 000 (side column): 最高不超过50元"\n'
                "      - {since: 2027-03-01, value: 40.00, profile: default, source: change}\n",
            )
        )
    )
    now = assess_impact([str(CASEFILES)], program, dated, out=str(tmp_path / "now"),
                        engine="reference", workers=0)  # fmt: skip
    then = assess_impact([str(CASEFILES)], program, dated, out=str(tmp_path / "then"),
                         engine="reference", workers=0, as_of="2027-03-10")  # fmt: skip
    assert now.summary["changed"] == 0
    assert then.summary["changed"] > 0
    assert {r["rule"] for r in then.summary["rules"]} == {"param.late_shipment_max"}
    run = json.loads((tmp_path / "then" / "run.json").read_text(encoding="utf-8"))
    assert run["as_of"] == "2027-03-10"


def test_an_error_under_one_version_is_a_change_and_counted_as_an_error(
    tmp_path: Path, program: Program, rules_copy: Callable[..., Path]
) -> None:
    # the new rules declare a field that a case carries: unreadable before, a ruling after
    root = rules_copy()
    (root / "fields.yaml").write_text(
        "case_fields:\n  order:\n    station_allowed: boolean\n", encoding="utf-8"
    )
    archive = tmp_path / "archive"
    archive.mkdir()
    text = (CASEFILES / "not-received-valid-receipt.yaml").read_text(encoding="utf-8")
    (archive / "station.yaml").write_text(
        text.replace(
            "  receipt_confirmed_at: null\n",
            "  receipt_confirmed_at: null\n  station_allowed: true\n",
        ),  # fmt: skip
        encoding="utf-8",
    )
    (archive / "plain.yaml").write_text(text.replace("TB-2024-000101", "TB-2024-000102"))
    report = assess_impact([str(archive)], program, load_rules(root), out=str(tmp_path / "out"),
                           engine="reference", workers=0)  # fmt: skip
    summary = report.summary
    assert (summary["changed"], summary["errors"]) == (1, 0)
    assert (summary["errors_old"], summary["errors_new"]) == (1, 0)
    assert summary["flips"] == [{"old": "error", "new": "pay_seller", "cases": 1}]
    assert summary["rules"] == [{"rule": "case field order.station_allowed", "cases": 1}]
