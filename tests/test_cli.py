"""The command line, through click's CliRunner: output formats, exit codes, help, README."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner
from conftest import CASEFILES, ROOT, RULES

from engine.cli import main

VALID = str(CASEFILES / "not-received-valid-receipt.yaml")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_score_prints_ruling_json() -> None:
    code, out, _ = run("score", VALID, "--format", "json", "--rules", str(RULES))
    assert code == 0
    ruling = json.loads(out)
    assert ruling["format"] == "ruling/1"
    assert ruling["case_id"] == "TB-2024-000101"
    assert ruling["ruling"] == "pay_seller"
    assert list(ruling) == [
        "format", "case_id", "rules", "ruling", "reason_code", "refund_amount",
        "compensation_amount", "return_required", "return_shipping_paid_by", "score", "issues",
        "evidence", "fired_rules", "next_step", "appeal_deadline", "warnings",
    ]  # fmt: skip


def test_both_engines_print_the_same_json() -> None:
    outputs = {
        engine: run("score", str(CASEFILES), "--format", "json", "--engine", engine)[1]
        for engine in ("durable", "reference")
    }
    assert outputs["durable"] == outputs["reference"]
    assert len(outputs["durable"].splitlines()) == len(list(CASEFILES.glob("*.expected.yaml")))


def test_score_prints_a_human_summary_in_both_languages() -> None:
    code, out, _ = run("score", VALID, "--lang", "en")
    assert code == 0
    assert out.startswith("Case TB-2024-000101: Recommended ruling = pay_seller")
    code, out, _ = run("score", VALID)
    assert out.startswith("案件 TB-2024-000101: 建议裁决 = pay_seller")


def test_trace_shows_each_firing_with_the_facts_it_matched() -> None:
    code, out, _ = run("score", VALID, "--trace", "--lang", "en")
    assert code == 0
    assert (
        f"✓ receipt-signed-by-recipient  [{RULES}/evidence/receipt.yaml:19:9]  matched "
        "order=order, evidence=E2" in out
    )
    assert "late_shipment_max = 50.0  (since 2021-03-18, default;" in out


def test_a_broken_case_file_is_a_located_error_with_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    text = (
        Path(VALID)
        .read_text(encoding="utf-8")
        .replace("submitted_at: 2024-03-07T11:20:00+08:00", "submitted_at: 2024-03-07T11:20:00")
    )
    broken.write_text(text, encoding="utf-8")
    code, out, err = run("score", str(broken), "--format", "json")
    assert code == 2
    assert f"{broken}:" in err and "evidence[1].submitted_at" in err and "offset" in err
    error = json.loads(out)
    assert error["case_id"] is None and error["error"]["type"] == "CaseFileError"
    assert "Traceback" not in err


def test_a_broken_rule_file_is_a_located_error_with_exit_2(tmp_path: Path) -> None:
    import shutil

    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    path = rules / "remedies.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("case.refund_cap", "case.refnd_cap"),
        encoding="utf-8",
    )
    code, _, err = run("rules", "validate", "--rules", str(rules))
    assert code == 2
    assert f"{rules}/remedies.yaml:6:36: unknown case value 'refnd_cap'" in err
    assert "did you mean 'refund_cap'?" in err


def test_validate_and_compile_dump() -> None:
    code, out, _ = run("rules", "validate")
    assert code == 0 and out.startswith("ok: taobao-default")
    code, out, _ = run("rules", "compile", "--dump", "--rule", "receipt-first-copy")
    assert code == 0
    assert "reference #0: evidence.copy_no == 1" in out
    assert '{"kind": "signed_receipt"}' in out and '{"copy_no": 1}' in out
    code, out, _ = run("rules", "compile", "--dump", "--python")
    assert code == 0 and out.startswith("def round_0(facts, fired):")
    receipts = re.search(r"sub == 'signed_receipt':\n +(g\d+)\.append\(fact\)$", out, re.M)
    assert receipts and f"for x0 in {receipts.group(1)}:" in out  # each group filled once


def _commands(group=main, prefix=()):  # type: ignore[no-untyped-def]
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if hasattr(command, "commands"):
            yield from _commands(command, (*prefix, name))


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path, command in _commands():
        assert command.help, f"{' '.join(path)} has no help"
        code, out, _ = run(*path, "--help")
        assert code == 0 and "Usage:" in out
        assert f"adjudicate {' '.join(path)}" in readme, f"README does not show {' '.join(path)}"
