"""The same unit of work on dask.distributed (LocalCluster of single-threaded processes):
a worker killed mid-run loses no row; a shard that kills every worker is quarantined."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from batchdata import case_lines, output_lines, write_jsonl

from engine import Program
from engine.batch import CrashHook, rescore

pytestmark = pytest.mark.slow  # a real subprocess, server, browser or cluster

pytest.importorskip("distributed")


def test_a_worker_killed_mid_run_is_restarted_and_every_row_produced(
    tmp_path: Path, program: Program
) -> None:
    lines = case_lines(80)
    archive = write_jsonl(tmp_path / "a.jsonl", lines)
    victim = json.loads(lines[45])["case_id"]
    (tmp_path / "once").mkdir()
    hook = CrashHook(case_ids=frozenset({victim}), once_dir=str(tmp_path / "once"))
    report = rescore([str(archive)], program, out=str(tmp_path / "out"), engine="durable",
                     backend="dask", workers=2, shard_cases=10, hook=hook)  # fmt: skip
    assert (tmp_path / "once" / victim).exists()  # the worker really died
    rows = output_lines(tmp_path / "out")
    assert report.complete and report.lines == 80
    assert sorted(r["case_id"] for r in rows) == sorted(json.loads(x)["case_id"] for x in lines)
    assert not any("error" in r for r in rows)


def test_a_poison_shard_is_quarantined_and_the_others_finish(
    tmp_path: Path, program: Program
) -> None:
    lines = case_lines(30)
    archive = write_jsonl(tmp_path / "a.jsonl", lines)
    poison = json.loads(lines[5])["case_id"]
    report = rescore([str(archive)], program, out=str(tmp_path / "out"), engine="reference",
                     backend="dask", workers=2, shard_cases=10, max_attempts=2,
                     hook=CrashHook(case_ids=frozenset({poison})))  # fmt: skip
    assert not report.complete and [q.cases for q in report.quarantined] == [10]
    rows = output_lines(tmp_path / "out")
    assert len(rows) == 30
    held = [r for r in rows if r.get("error", {}).get("type") == "QuarantinedShard"]
    assert len(held) == 10 and poison in {r["case_id"] for r in held}
