"""adjudicate batch / impact through click's CliRunner: tables, files, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from batchdata import case_lines, write_jsonl
from click.testing import CliRunner
from conftest import CASEFILES, RULES

from engine.cli import main


def test_batch_prints_the_summary_and_exits_0_when_every_case_has_its_line(
    tmp_path: Path,
) -> None:
    archive = write_jsonl(tmp_path / "a.jsonl.gz", case_lines(12, invalid_rate=0.2), gz=True)
    result = CliRunner().invoke(main, [
        "batch", str(archive), str(CASEFILES), "--out", str(tmp_path / "out"), "--rules",
        str(RULES), "--engine", "reference", "--workers", "0",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    cases = 12 + len([p for p in CASEFILES.glob("*.yaml") if not p.name.endswith(".expected.yaml")])
    assert f"{cases:,} lines for {cases:,} cases" in result.stdout
    assert "Rulings" in result.stdout and "By dispute type" in result.stdout
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["complete"] and summary["lines"] == cases


def test_batch_exits_1_when_a_shard_is_quarantined(tmp_path: Path) -> None:
    lines = case_lines(4)
    archive = write_jsonl(tmp_path / "a.jsonl", lines)
    result = CliRunner().invoke(main, [
        "batch", str(archive), "--out", str(tmp_path / "out"), "--engine", "reference",
        "--workers", "1", "--max-attempts", "1",
        "--test-kill-on", json.loads(lines[0])["case_id"],
    ])  # fmt: skip
    assert result.exit_code == 1
    assert "quarantined" in result.stderr and "4 lines for 4 cases" in result.stdout


def test_batch_exits_2_for_an_archive_without_cases(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["batch", str(tmp_path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "no case files found" in result.stderr


def test_impact_exits_1_when_the_change_flips_rulings(
    tmp_path: Path, rules_copy: Callable[..., Path]
) -> None:
    new = rules_copy(("parameters.yaml", "        value: 50.00\n", "        value: 40.00\n"))
    result = CliRunner().invoke(main, [
        "impact", str(CASEFILES), "--old", str(RULES), "--new", str(new),
        "--out", str(tmp_path / "impact"), "--engine", "reference", "--workers", "0",
    ])  # fmt: skip
    assert result.exit_code == 1, result.output
    assert "compensate" in result.stdout and "Flips" in result.stdout
    assert (tmp_path / "impact" / "impact.html").exists()
