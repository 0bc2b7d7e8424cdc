"""Hostile input, round 2, outside the desk: lone surrogates in JSON, gzip bombs in archives,
and report names made from case ids (the desk's own cases are in tests/test_web_hostile.py)."""

from __future__ import annotations

import gzip
import json
import tracemalloc
from pathlib import Path

import pytest
from batchdata import case_lines, output_lines, write_jsonl
from click.testing import CliRunner
from conftest import CASEFILES, ROOT, RULES

from engine import Program
from engine.batch import rescore
from engine.batch.archive import plan_archive, read_shard
from engine.cases.checks import MAX_CASE_BYTES
from engine.cases.load import iter_jsonl, parse_case, parse_jsonl_line
from engine.cli import main
from engine.cli.score import report_name
from engine.errors import CaseFileError
from engine.model import Case

ESCAPE = "\\ud800"  # as JSON writes a lone surrogate
VALID = ROOT / "tests" / "data" / "casefiles" / "valid.json"
HINT = (
    "    in JSON a \\ud800-\\udfff escape is half of a pair (\\ud83d\\ude00 is one emoji); "
    "remove it or write the character itself"
)


def _case_json(**changes: object) -> str:
    data = json.loads(VALID.read_text(encoding="utf-8"))
    data["dispute"].update(changes.pop("dispute", {}))  # type: ignore[arg-type]
    data.update(changes)
    return json.dumps(data)  # \ud800 written as the escape, as a case system would


# ------------------------------------------------------------------ lone surrogates


def test_a_lone_surrogate_in_a_json_field_is_a_located_error() -> None:
    text = _case_json(dispute={"reason": "退款\ud800"})
    with pytest.raises(CaseFileError) as error:
        parse_case(text.encode(), source="case.json", fmt="json")
    column = text.index(ESCAPE) + 1
    assert str(error.value) == (
        f"case.json:1:{column}: dispute.reason: the text holds a lone surrogate, which is not a "
        f"character\n{HINT}"
    )
    assert error.value.path == "dispute.reason"


def test_a_lone_surrogate_in_a_field_name_is_named_by_its_escape() -> None:
    text = _case_json(**{"x\udc00": 1})
    with pytest.raises(CaseFileError) as error:
        parse_jsonl_line(text.encode(), source="a.jsonl", line=7)
    column = text.index(ESCAPE.replace("d800", "dc00")) + 1
    assert str(error.value).splitlines()[0] == (
        f"a.jsonl:7:{column}: x\\udc00: the field name holds a lone surrogate, which is not a "
        "character"
    )


def test_a_surrogate_pair_is_one_character_and_loads() -> None:
    case = parse_case(
        _case_json(dispute={"reason": "\U0001f600"}).encode(), source="c.json", fmt="json"
    )
    assert case.dispute.reason == "\U0001f600"


def test_score_exits_2_with_the_located_message_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text(_case_json(case_id="TB-\ud800"), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["score", str(path), "--rules", str(RULES), "--format", "json"]
    )
    assert result.exit_code == 2
    column = path.read_text().index(ESCAPE) + 1
    assert result.stderr.splitlines()[0] == (
        f"{path}:1:{column}: case_id: the text holds a lone surrogate, which is not a character"
    )
    assert "Traceback" not in result.output + result.stderr
    row = json.loads(result.stdout)
    assert (row["case_id"], row["error"]["type"]) == (None, "CaseFileError")


def test_in_a_batch_a_lone_surrogate_is_one_error_row_and_the_shard_is_scored(
    tmp_path: Path, program: Program
) -> None:
    lines = case_lines(50)
    bad = json.loads(lines[20])
    bad["case_id"] = bad["case_id"] + "\ud800"
    lines.insert(20, json.dumps(bad))
    archive = write_jsonl(tmp_path / "a.jsonl", lines)
    report = rescore([str(archive)], program, out=str(tmp_path / "out"), engine="reference",
                     workers=1)  # fmt: skip
    rows = output_lines(tmp_path / "out")
    assert report.complete and not list((tmp_path / "out" / "shards").glob("*.quarantined*"))
    assert len(rows) == 51
    errors = [row for row in rows if "error" in row]
    assert [(e["source"].rsplit(":", 2)[1], e["error"]["type"]) for e in errors] == [
        ("21", "CaseFileError")
    ]
    assert sum("ruling" in row for row in rows) == 50


# ------------------------------------------------------------------ decompression bombs

BOMB_LINE = 64 << 20  # 16 times the line limit; the test of 1 GiB is the same, only slower


def _bomb(path: Path) -> Path:
    """A .jsonl.gz of three lines: a case, a 64 MiB line (64 KiB compressed), a case."""
    valid = VALID.read_text(encoding="utf-8").replace("\n", " ")
    with gzip.open(path, "wb", compresslevel=9) as stream:
        stream.write(valid.encode() + b"\n" + b'{"case_id": "')
        chunk = b"a" * (1 << 20)
        for _ in range(BOMB_LINE >> 20):
            stream.write(chunk)
        stream.write(b'"}\n' + valid.replace("TB-2024-000123", "TB-after").encode() + b"\n")
    assert path.stat().st_size < 1 << 20
    return path


def _peak(work: object) -> int:
    tracemalloc.start()
    try:
        work()  # type: ignore[operator]
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_gzip_bomb_in_an_archive_costs_no_more_memory_than_the_line_limit(
    tmp_path: Path,
) -> None:
    bomb = _bomb(tmp_path / "bomb.jsonl.gz")
    got: list[Case | CaseFileError] = []
    peak = _peak(lambda: got.extend(iter_jsonl(bomb)))
    assert peak < 2.5 * MAX_CASE_BYTES, f"peak {peak:,} bytes"
    assert [c.case_id if isinstance(c, Case) else str(c) for c in got] == [
        "TB-2024-000123",
        f"{bomb}:2: the line is {BOMB_LINE + 16:,} bytes, more than a case may be "
        f"({MAX_CASE_BYTES:,})",
        "TB-after",
    ]


def test_a_gzip_bomb_in_a_batch_shard_is_one_error_row_read_within_the_limit(
    tmp_path: Path,
) -> None:
    bomb = _bomb(tmp_path / "bomb.jsonl.gz")
    (shard,) = plan_archive([str(bomb)]).shards
    entries: list = []
    peak = _peak(lambda: entries.extend(read_shard(shard)))
    assert peak < 2.5 * MAX_CASE_BYTES, f"peak {peak:,} bytes"
    assert [(e.line, e.raw is not None, e.error is not None) for e in entries] == [
        (1, True, False), (2, False, True), (3, True, False),
    ]  # fmt: skip
    assert str(entries[1].error).endswith(f"the line is {BOMB_LINE + 16:,} bytes, more than a "
                                          f"case may be ({MAX_CASE_BYTES:,})")  # fmt: skip


# ------------------------------------------------------------------ report names


def test_report_names_from_case_ids_never_collide_and_never_leave_the_folder() -> None:
    names = {case_id: report_name(case_id) for case_id in ("a/b", "a_b", "a?b", "..", ".", "a.b")}
    assert names == {
        "a/b": "a_2fb", "a_b": "a_5fb", "a?b": "a_3fb", "..": "_2e.", ".": "_2e", "a.b": "a.b",
    }  # fmt: skip
    assert report_name("TB-2024-000123") == "TB-2024-000123"
    assert report_name("张伟/1") == "张伟_2f1"
    long_a, long_b = report_name("张" * 300), report_name("张" * 299 + "伟")
    assert long_a != long_b and len(long_a.encode()) == 200


def test_score_writes_one_report_per_case_id_inside_the_folder(tmp_path: Path) -> None:
    text = (CASEFILES / "not-received-valid-receipt.yaml").read_text(encoding="utf-8")
    folder = tmp_path / "cases"
    folder.mkdir()
    for i, case_id in enumerate(("a/b", "a_b", "a?b", "..", "a/b")):
        (folder / f"{i}.yaml").write_text(
            text.replace("case_id: TB-2024-000101", f"case_id: '{case_id}'"), encoding="utf-8"
        )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["score", str(folder), "--rules", str(RULES), "--engine", "reference",
               "--report", f"{out}/{{case_id}}/report.md"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.md"))
    assert written == [
        "out/_2e./report.md", "out/a_2fb/report.md", "out/a_2fb~2/report.md",
        "out/a_3fb/report.md", "out/a_5fb/report.md",
    ]  # fmt: skip
