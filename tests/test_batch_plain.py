"""The common shard (JSON Lines scored with one program, no as_of, no test hook) is read on a
tighter loop (engine.batch.shard._plain_lines): the lines the fast path takes are scored in
blocks (Scorer.score_many), every other input goes through the general loop (_lines), which
scores in blocks too (and, in impact mode, under both programs). Whatever the loop and the
block, a shard is written the same, byte for byte: results, disagreements and stats, error
rows included, as case by case (blocks of one)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from batchdata import case_lines, write_jsonl

from engine import Program, load_rules
from engine.batch import shard as shard_module
from engine.batch.archive import Shard, plan_archive, read_lines, read_shard
from engine.batch.shard import Job, install_programs, score_shard
from engine.cases.checks import MAX_CASE_BYTES
from engine.cases.lines import bounded_lines
from engine.cases.load import oversized_line

STATIONS = """\
case_fields:
  order:
    station_allowed: boolean
    station_name: name
  dispute:
    price_seen: money
rules: []
"""


def _lines() -> list[str]:
    """Generated cases (some malformed) and every kind of input the fast path leaves."""
    lines = case_lines(240, seed=11, invalid_rate=0.05)
    odd = [json.loads(line) for line in lines[:6]]
    odd[0]["dispute"]["type"] = "no_such_dispute_type"  # read, then refused by the scorer
    odd[1]["dispute"]["reason"] = "a:b"  # written with an escaped colon below: full path only
    odd[2]["order"]["station_allowed"] = True  # declared by one program only
    odd[2]["order"]["station_name"] = "菜鸟驿站"
    odd[3]["dispute"]["price_seen"] = 12.5
    odd[4]["order"]["item_amount"] = 1.005  # three places: an error row
    extra = [json.dumps(item, ensure_ascii=False) for item in odd]
    extra[1] = extra[1].replace("a:b", "a\\u003ab")
    duplicate = lines[7].replace('"platform": ', '"platform": "tmall", "platform": ', 1)
    return [
        *lines[:100],
        *extra,
        "",
        " \t ",
        duplicate,
        "x" * (MAX_CASE_BYTES + 5),  # over the limit: never held whole
        "{" + " " * (MAX_CASE_BYTES - 1),  # at the limit with its newline: too long a case
        *lines[100:],
    ]


_PLAIN = shard_module._plain


def _shard_files(out: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted((out / "shards").iterdir())}


def _score(
    archive: Path, out: Path, program: Program, plain: bool, block: int, monkeypatch: Any
) -> None:
    taken = _PLAIN
    monkeypatch.setattr(shard_module, "_plain", lambda shard, job: plain and taken(shard, job))
    monkeypatch.setattr(shard_module, "BLOCK", block)
    job = Job(out=str(out), mode="score", engine="reference", rules=(program.digest,))
    for shard in plan_archive([str(archive)], shard_cases=70).shards:
        assert taken(shard, job)
        score_shard(shard, job)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("declared", [False, True])
@pytest.mark.parametrize("block", [1, 5, shard_module.BLOCK])
def test_the_plain_loop_writes_the_shard_the_general_loop_writes(
    tmp_path: Path,
    program: Program,
    rules_copy: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    gz: bool,
    declared: bool,
    block: int,
) -> None:
    """The plain loop scores its cases in blocks; the inputs it leaves to the general loop
    come out between the blocks, in the shard's order, as the general loop writes them case
    by case."""
    if declared:
        root = rules_copy()
        (root / "evidence" / "stations.yaml").write_text(STATIONS, encoding="utf-8")
        program = load_rules(root)
        assert program.declared_fields()
    install_programs([program])
    name = "archive.jsonl.gz" if gz else "archive.jsonl"
    archive = write_jsonl(tmp_path / name, _lines(), gz=gz)
    _score(archive, tmp_path / "plain", program, True, block, monkeypatch)
    _score(archive, tmp_path / "general", program, False, 1, monkeypatch)
    plain, general = _shard_files(tmp_path / "plain"), _shard_files(tmp_path / "general")
    assert plain == general
    rows = b"".join(data for name, data in plain.items() if name.endswith(".jsonl"))
    errors = [json.loads(row)["error"] for row in rows.splitlines() if b'"error"' in row]
    assert any("unknown dispute type" in error["message"] for error in errors)  # the scorer's
    assert any("more than a case may be" in error["message"] for error in errors)  # the reader's
    assert len(rows.splitlines()) == len([line for line in _lines() if line.strip()])


@pytest.mark.parametrize("block", [5, shard_module.BLOCK])
def test_the_general_loop_writes_in_blocks_what_it_writes_case_by_case(
    tmp_path: Path,
    program: Program,
    monkeypatch: pytest.MonkeyPatch,
    block: int,
) -> None:
    install_programs([program])
    archive = write_jsonl(tmp_path / "archive.jsonl", _lines())
    _score(archive, tmp_path / "blocks", program, False, block, monkeypatch)
    _score(archive, tmp_path / "one", program, False, 1, monkeypatch)
    assert _shard_files(tmp_path / "blocks") == _shard_files(tmp_path / "one")


@pytest.mark.parametrize("block", [5, shard_module.BLOCK])
def test_impact_in_blocks_writes_what_it_writes_case_by_case(
    tmp_path: Path,
    program: Program,
    rules_copy: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
    block: int,
) -> None:
    """Two programs that read cases differently (the new one declares fields the old one
    refuses) and rule differently (a lower maximum): each case's two rulings, its errors
    under one program or both, and the flips come out the same whatever the block."""
    root = rules_copy(("parameters.yaml", "        value: 50.00\n", "        value: 40.00\n"))
    (root / "evidence" / "stations.yaml").write_text(STATIONS, encoding="utf-8")
    new = load_rules(root)
    install_programs([program, new])
    archive = write_jsonl(tmp_path / "archive.jsonl", _lines())
    written = {}
    for size in (block, 1):
        monkeypatch.setattr(shard_module, "BLOCK", size)
        out = tmp_path / f"block-{size}"
        job = Job(out=str(out), mode="impact", engine="reference",
                  rules=(program.digest, new.digest))  # fmt: skip
        for shard in plan_archive([str(archive)], shard_cases=70).shards:
            score_shard(shard, job)
        written[size] = _shard_files(out)
    assert written[block] == written[1]
    rows = [
        json.loads(row)
        for name, data in written[1].items()
        if name.endswith(".jsonl")
        for row in data.splitlines()
    ]
    assert len(rows) == len([line for line in _lines() if line.strip()])
    assert any(row.get("changed") for row in rows)  # the lower maximum flips amounts
    assert any("error" in row for row in rows)
    assert any("error" in (row.get("old") or {}) and "error" not in (row.get("new") or {})
               for row in rows)  # fmt: skip


def _as_bounded_lines_read(shard: Shard) -> list[tuple[int, bytes | None, str]]:
    """The shard's inputs as the reader read them before read_lines (over bounded_lines)."""
    found, line = [], shard.first_line - 1
    with open(shard.source, "rb") as stream:
        stream.seek(shard.start)
        position = shard.start
        for raw, size in bounded_lines(stream, MAX_CASE_BYTES):
            line += 1
            position += size
            if raw is None:
                found.append((line, None, str(oversized_line(shard.source, line, size))))
            elif raw.strip():
                found.append((line, raw, "None"))
            if 0 <= shard.stop <= position:
                break
    return found


def test_read_lines_reads_what_bounded_lines_reads(tmp_path: Path) -> None:
    archive = write_jsonl(tmp_path / "archive.jsonl", ["", *_lines(), " ", "\f", "\r"])
    shards = plan_archive([str(archive)], shard_cases=70).shards
    assert len(shards) > 3
    for shard in shards:
        read = [(line, raw, str(error)) for line, raw, error in read_lines(shard)]
        assert read == _as_bounded_lines_read(shard)
        assert read == [(e.line, e.raw, str(e.error)) for e in read_shard(shard)]
