"""Batch runs on the local process pool: one line per input case, summaries, resume after a
kill -9 of the driver, a worker killed mid-run, and a shard that kills its worker every time."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batchdata import case_lines, output_lines, write_jsonl
from conftest import CASEFILES, ROOT, RULES

from engine import Program, Scorer, ruling_json
from engine.batch import BatchError, CrashHook, RunReport, rescore
from engine.cases.load import load_cases
from engine.model import Case


def test_every_golden_case_comes_out_as_its_scorer_ruling(tmp_path: Path, program: Program) -> None:
    report = rescore([str(CASEFILES)], program, out=str(tmp_path), engine="reference",
                     workers=0, shard_cases=20)  # fmt: skip
    scorer = Scorer(program, "reference")
    expected = sorted(
        (json.loads(ruling_json(scorer.score(c).ruling)) for c in load_cases([CASEFILES])
         if isinstance(c, Case)),
        key=lambda row: row["case_id"],
    )  # fmt: skip
    got = sorted(
        (json.loads(line) for path in (tmp_path / "shards").glob("*.jsonl")
         for line in path.read_text(encoding="utf-8").splitlines()),
        key=lambda row: row["case_id"],
    )  # fmt: skip
    assert got == expected  # the same data; batch lines are compact
    assert report.complete and report.cases == report.lines == len(expected)
    assert not list((tmp_path / "shards").glob("*.tmp-*"))


def test_broken_lines_become_error_rows_naming_source_and_line(
    tmp_path: Path, program: Program
) -> None:
    lines = case_lines(6)
    lines[2] = lines[2][:40]  # truncated JSON
    lines[4] = lines[4].replace('"platform": "', '"platform": "x')
    archive = write_jsonl(tmp_path / "a.jsonl", lines)
    report = rescore([str(archive)], program, out=str(tmp_path / "out"), engine="reference",
                     workers=0)  # fmt: skip
    rows = output_lines(tmp_path / "out")
    assert len(rows) == 6 and report.complete
    errors = [r for r in rows if "error" in r]
    assert [(e["source"], e["error"]["type"]) for e in errors] == [
        (f"{archive}:3:37", "CaseFileError"),  # the column of the JSON error, too
        (f"{archive}:5", "CaseFileError"),
    ]
    assert errors[1]["case_id"] == json.loads(lines[4])["case_id"]
    assert "platform" in errors[1]["error"]["message"]
    assert report.summary["errors_by_type"] == {"CaseFileError": 2}


def test_summary_counts_rulings_types_and_agreement(tmp_path: Path, program: Program) -> None:
    lines = case_lines(40, seed=3)
    report = rescore([str(write_jsonl(tmp_path / "a.jsonl", lines))], program,
                     out=str(tmp_path / "out"), engine="reference", workers=0)  # fmt: skip
    rows = {r["case_id"]: r for r in output_lines(tmp_path / "out")}
    cases = [json.loads(line) for line in lines]
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary == report.summary
    assert sum(summary["rulings"].values()) == 40
    for ruling, n in summary["rulings"].items():
        assert n == sum(1 for r in rows.values() if r["ruling"] == ruling)
    recorded = [c for c in cases if c["decision"]]
    agreeing = [
        c for c in recorded
        if rows[c["case_id"]]["ruling"] == c["decision"]["ruling"]
        and rows[c["case_id"]]["refund_amount"] == c["decision"]["refund_amount"]
        and rows[c["case_id"]]["compensation_amount"] == c["decision"]["compensation_amount"]
    ]  # fmt: skip
    agreement = summary["agreement"]
    assert (agreement["recorded"], agreement["agreed"]) == (len(recorded), len(agreeing))
    disagreeing = {c["case_id"] for c in recorded} - {c["case_id"] for c in agreeing}
    assert set(agreement["disagreeing_case_ids"]) == disagreeing
    assert sum(sum(row.values()) for row in agreement["confusion"].values()) == len(recorded)
    listed = (tmp_path / "out" / "disagreements.jsonl").read_text(encoding="utf-8").splitlines()
    assert {json.loads(x)["case_id"] for x in listed} == disagreeing


def test_every_disagreement_is_listed_in_the_file_the_summary_names_the_first_few(
    tmp_path: Path, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.batch.summary as summary_module
    from engine.batch.summary import Tally

    monkeypatch.setattr(summary_module, "DISAGREEMENTS_LISTED", 3)
    lines = case_lines(60, seed=3)
    report = rescore([str(write_jsonl(tmp_path / "a.jsonl", lines))], program,
                     out=str(tmp_path / "out"), engine="reference", workers=0,
                     shard_cases=7)  # fmt: skip
    listed = (tmp_path / "out" / "disagreements.jsonl").read_text(encoding="utf-8").splitlines()
    order = [json.loads(line)["case_id"] for line in lines]
    ids = [json.loads(x)["case_id"] for x in listed]
    assert len(ids) > 3 and ids == sorted(ids, key=order.index)  # all, in archive order
    agreement = report.summary["agreement"]
    assert agreement["disagreements"] == len(ids)
    assert agreement["disagreeing_case_ids"] == ids[:3]
    shards = tmp_path / "out" / "shards"
    per_shard = [
        json.loads(row)["case_id"]
        for part in sorted(shards.glob("*.disagreements"))
        for row in part.read_text(encoding="utf-8").splitlines()
    ]
    assert sorted(per_shard) == sorted(ids)  # disagreements.jsonl is the shards' files joined
    stats = [json.loads(p.read_bytes())["tally"] for p in shards.glob("*.stats.json")]
    assert all("disagreements" not in tally for tally in stats)  # the driver reads only counts
    total = Tally()
    for tally in stats:
        total.merge(Tally.from_json(tally))
    assert total.disagreed == len(ids) and not total.disagreements  # a sum holds no rows


def test_a_result_file_changed_after_its_shard_finished_is_reported_missing(
    tmp_path: Path, program: Program
) -> None:
    archive = write_jsonl(tmp_path / "a.jsonl", case_lines(12, seed=3))
    out = tmp_path / "out"
    first = rescore([str(archive)], program, out=str(out), engine="reference", workers=0,
                    shard_cases=4)  # fmt: skip
    assert first.complete and not first.missing
    results = sorted((out / "shards").glob("*.jsonl"))
    cut = results[0].read_bytes().splitlines(keepends=True)
    results[0].write_bytes(b"".join(cut[:-1]))  # a line lost: smaller than its worker wrote
    again = rescore([str(archive)], program, out=str(out), engine="reference", workers=0,
                    shard_cases=4)  # fmt: skip
    assert again.missing == (results[0].name.removesuffix(".jsonl"),)
    assert not again.complete and again.lines == 11


def test_a_shard_whose_disagreements_file_is_gone_is_reported_missing(
    tmp_path: Path, program: Program
) -> None:
    archive = write_jsonl(tmp_path / "a.jsonl", case_lines(12, seed=3))
    out = tmp_path / "out"
    rescore([str(archive)], program, out=str(out), engine="reference", workers=0, shard_cases=4)
    part = sorted((out / "shards").glob("*.disagreements"))[0]
    part.unlink()
    again = rescore([str(archive)], program, out=str(out), engine="reference", workers=0,
                    shard_cases=4)  # fmt: skip
    assert again.missing == (part.name.removesuffix(".disagreements"),) and not again.complete


def test_a_folder_from_before_the_disagreement_files_resumes_with_every_disagreement(
    tmp_path: Path, program: Program
) -> None:
    """Stats written before this version hold the rows themselves and no size of the results."""
    archive = write_jsonl(tmp_path / "a.jsonl", case_lines(12, seed=3))
    out = tmp_path / "out"

    def score() -> RunReport:
        return rescore([str(archive)], program, out=str(out), engine="reference", workers=0,
                       shard_cases=4)  # fmt: skip

    score()
    expected = (out / "disagreements.jsonl").read_text(encoding="utf-8")
    for stats in (out / "shards").glob("*.stats.json"):
        part = stats.with_name(stats.name.replace(".stats.json", ".disagreements"))
        data = json.loads(stats.read_bytes())
        data.pop("bytes")
        rows = part.read_text(encoding="utf-8").splitlines() if part.exists() else []
        data["tally"]["disagreements"] = [json.loads(row) for row in rows]
        stats.write_text(json.dumps(data), encoding="utf-8")
        part.unlink(missing_ok=True)
    (out / "disagreements.jsonl").unlink()
    again = score()
    assert again.complete and again.resumed == 3 and again.lines == 12
    assert (out / "disagreements.jsonl").read_text(encoding="utf-8") == expected and expected


def test_results_of_the_recorded_size_are_not_read_back(
    tmp_path: Path, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    import engine.batch.run as run_module

    def unexpected(url: str, options: object) -> int:
        raise AssertionError(f"{url} was read back")

    monkeypatch.setattr(run_module, "_count_lines", unexpected)
    archive = write_jsonl(tmp_path / "a.jsonl", case_lines(12, seed=3))
    report = rescore([str(archive)], program, out=str(tmp_path / "out"), engine="reference",
                     workers=0, shard_cases=4)  # fmt: skip
    assert report.complete and report.lines == 12


def test_a_second_run_resumes_every_finished_shard(tmp_path: Path, program: Program) -> None:
    archive = write_jsonl(tmp_path / "a.jsonl", case_lines(30))
    out = str(tmp_path / "out")
    first = rescore([str(archive)], program, out=out, engine="reference", workers=0, shard_cases=8)
    before = {p.name: p.read_bytes() for p in (tmp_path / "out" / "shards").iterdir()}
    (tmp_path / "out" / "shards" / next(iter(before))).with_suffix(".jsonl.tmp-1-x").touch()
    second = rescore([str(archive)], program, out=out, engine="reference", workers=0, shard_cases=8)
    after = {p.name: p.read_bytes() for p in (tmp_path / "out" / "shards").iterdir()}
    assert (first.resumed, second.resumed, second.shards) == (0, 4, 4)
    assert (
        after == before
        and second.complete
        and second.summary["rulings"] == first.summary["rulings"]
    )


def test_another_engine_or_rules_in_the_same_folder_is_refused(
    tmp_path: Path, program: Program
) -> None:
    archive = write_jsonl(tmp_path / "a.jsonl", case_lines(2))
    rescore([str(archive)], program, out=str(tmp_path / "out"), engine="reference", workers=0)
    with pytest.raises(BatchError, match="holds the results of another run"):
        rescore([str(archive)], program, out=str(tmp_path / "out"), engine="durable", workers=0)


def test_memory_urls_in_and_out(program: Program) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    fs.pipe("/in/a.jsonl", "".join(line + "\n" for line in case_lines(9)).encode())
    report = rescore(["memory://in"], program, out="memory://out", engine="reference",
                     workers=0, shard_cases=4)  # fmt: skip
    assert report.complete and report.lines == 9
    assert sorted(p.rsplit("/", 1)[-1] for p in fs.ls("/out", detail=False)) == [
        "disagreements.jsonl", "run.json", "shards", "summary.json",
    ]  # fmt: skip


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_replaced_and_every_row_produced(
    tmp_path: Path, program: Program
) -> None:
    lines = case_lines(60)
    archive = write_jsonl(tmp_path / "a.jsonl", lines)
    victim = json.loads(lines[25])["case_id"]
    (tmp_path / "once").mkdir()
    notes: list[str] = []
    report = rescore(
        [str(archive)], program, out=str(tmp_path / "out"), engine="durable", workers=2,
        shard_cases=10, progress=_Notes(notes),
        hook=CrashHook(case_ids=frozenset({victim}), once_dir=str(tmp_path / "once")),
    )  # fmt: skip
    assert (tmp_path / "once" / victim).exists()  # the worker really died
    assert any("a worker died" in n for n in notes)
    rows = output_lines(tmp_path / "out")
    assert report.complete and sorted(r["case_id"] for r in rows) == sorted(
        json.loads(line)["case_id"] for line in lines
    )
    assert not any("error" in r for r in rows)


@pytest.mark.slow
def test_a_shard_that_always_kills_its_worker_is_quarantined(
    tmp_path: Path, program: Program
) -> None:
    lines = case_lines(30)
    archive = write_jsonl(tmp_path / "a.jsonl", lines)
    poison = json.loads(lines[12])["case_id"]
    out = tmp_path / "out"
    report = rescore([str(archive)], program, out=str(out), engine="reference", workers=2,
                     shard_cases=10, max_attempts=2,
                     hook=CrashHook(case_ids=frozenset({poison})))  # fmt: skip
    assert not report.complete
    assert not list((out / "shards").glob("*.tmp-*"))  # the dead workers' files are gone
    assert [(q.shard_id, q.attempts, q.cases) for q in report.quarantined] == [
        (report.summary["run"]["quarantined"][0]["shard"], 2, 10)
    ]
    rows = output_lines(out)
    assert len(rows) == 30 == report.lines == report.cases  # still one line per input case
    held = [r for r in rows if r.get("error", {}).get("type") == "QuarantinedShard"]
    assert [r["source"] for r in held] == [f"{archive}:{n}" for n in range(11, 21)]
    assert poison in {r["case_id"] for r in held}
    assert report.summary["errors_by_type"] == {"QuarantinedShard": 10}
    # the next run of the same command (here without the hook) retries it and completes
    again = rescore([str(archive)], program, out=str(out), engine="reference", workers=2,
                    shard_cases=10)  # fmt: skip
    assert again.complete and again.resumed == 2
    assert not list((out / "shards").glob("*.quarantined.jsonl"))
    assert not any("error" in r for r in output_lines(out))


@pytest.mark.slow
def test_kill_9_of_the_driver_then_rerun_gives_exactly_one_line_per_case(tmp_path: Path) -> None:
    lines = case_lines(1500, seed=11)
    archive = write_jsonl(tmp_path / "a.jsonl", lines)
    out = tmp_path / "out"
    command = [
        sys.executable, "-m", "engine.cli", "batch", str(archive), "--out", str(out),
        "--rules", str(RULES), "--engine", "durable", "--workers", "1", "--shard-cases", "50",
    ]  # fmt: skip
    temp = tmp_path / "temp"
    temp.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(temp)}
    driver = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list((out / "shards").glob("*.jsonl"))) < 2:
        time.sleep(0.01)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    done = len(list((out / "shards").glob("*.jsonl")))
    assert 2 <= done < 30, "the driver must be killed mid-run"
    assert len(list(temp.glob("adjudicate-rules-*.pickle"))) == 1  # the rules, for its workers
    rerun = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    assert not list(temp.glob("adjudicate-rules-*.pickle"))  # the killed driver's, removed too
    rows = output_lines(out)
    assert sorted(r["case_id"] for r in rows) == sorted(json.loads(x)["case_id"] for x in lines)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["resumed"] >= done and summary["run"]["complete"]


class _Notes:
    def __init__(self, notes: list[str]) -> None:
        self.notes = notes

    def start(self, **_: object) -> None:
        return None

    def advance(self, outcome: object) -> None:
        return None

    def note(self, message: str) -> None:
        self.notes.append(message)

    def stop(self) -> None:
        return None
