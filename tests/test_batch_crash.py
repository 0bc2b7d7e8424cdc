"""A real crash of durable_rules' C core (a SIGSEGV, not a mock) kills a worker, not the batch:
the case is retried on a fresh worker, or its shard is quarantined with one error row per case,
and the next run of the same command completes it (issue 7)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from batchdata import case_lines, output_lines, write_jsonl
from conftest import ROOT

from engine import Program
from engine.batch import CrashHook, rescore

pytestmark = pytest.mark.slow  # a real subprocess, server, browser or cluster


def test_the_hook_really_segfaults_durable_rules() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from engine.compile.host import crash_durable_rules as c; c()"],
        cwd=ROOT, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == -11  # SIGSEGV, from the C extension


def test_a_segfault_in_a_worker_is_survived_and_every_row_produced(
    tmp_path: Path, program: Program
) -> None:
    lines = case_lines(40)
    archive = write_jsonl(tmp_path / "a.jsonl", lines)
    victim = json.loads(lines[17])["case_id"]
    (tmp_path / "once").mkdir()
    report = rescore(
        [str(archive)], program, out=str(tmp_path / "out"), engine="durable", workers=2,
        shard_cases=10,
        hook=CrashHook(case_ids=frozenset({victim}), once_dir=str(tmp_path / "once"),
                       segfault=True),
    )  # fmt: skip
    assert (tmp_path / "once" / victim).exists()  # the worker really crashed once
    rows = output_lines(tmp_path / "out")
    assert report.complete and len(rows) == 40
    assert sorted(r["case_id"] for r in rows) == sorted(json.loads(x)["case_id"] for x in lines)
    assert not any("error" in r for r in rows)


def test_a_case_that_always_segfaults_is_quarantined_then_completed(
    tmp_path: Path, program: Program
) -> None:
    lines = case_lines(20)
    archive = write_jsonl(tmp_path / "a.jsonl", lines)
    poison = json.loads(lines[3])["case_id"]
    out = tmp_path / "out"
    report = rescore(
        [str(archive)], program, out=str(out), engine="durable", workers=2, shard_cases=10,
        max_attempts=2, hook=CrashHook(case_ids=frozenset({poison}), segfault=True),
    )  # fmt: skip
    assert not report.complete
    rows = output_lines(out)
    assert len(rows) == 20  # one line per input case, the quarantined ones as error rows
    held = [r for r in rows if r.get("error", {}).get("type") == "QuarantinedShard"]
    assert poison in {r["case_id"] for r in held} and len(held) == 10
    again = rescore([str(archive)], program, out=str(out), engine="durable", workers=2,
                    shard_cases=10)  # fmt: skip
    assert again.complete and not any("error" in r for r in output_lines(out))


def test_kill_9_of_the_driver_at_random_moments_then_resume(tmp_path: Path) -> None:
    """Kill the driver several times at seeded random moments (also twice in a row on the same
    folder); each rerun ends with exactly one line per input case."""
    import random

    from conftest import RULES

    rng = random.Random(20261122)
    lines = case_lines(600, seed=5)
    archive = write_jsonl(tmp_path / "a.jsonl", lines)
    expected = sorted(json.loads(x)["case_id"] for x in lines)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for attempt in range(4):
        out = tmp_path / f"out{attempt}"
        command = [
            sys.executable, "-m", "engine.cli", "batch", str(archive), "--out", str(out),
            "--rules", str(RULES), "--engine", "reference", "--workers", "1",
            "--shard-cases", "40",
        ]  # fmt: skip
        for _ in range(1 + attempt % 2):  # twice on the same folder every other attempt
            driver = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)  # fmt: skip
            time.sleep(rng.uniform(0.5, 3.0))
            workers = _children(driver.pid)
            driver.send_signal(signal.SIGKILL)
            driver.wait()
            _assert_gone(workers, within=10.0)  # workers end themselves, even mid start-up
        rerun = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=180)  # fmt: skip
        assert rerun.returncode == 0, rerun.stderr
        rows = output_lines(out)
        assert sorted(r["case_id"] for r in rows) == expected, f"attempt {attempt}"
        assert not list((out / "shards").glob("*.tmp-*"))  # nothing half-written left behind


def _children(pid: int) -> set[int]:
    """The processes ``pid`` started, with theirs (Linux: the parent pids in /proc/*/stat)."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stream:
                    parent[int(entry)] = int(stream.read().rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, ppid in parent.items() if ppid in frontier} - found
        found |= frontier
    return found


def _assert_gone(pids: set[int], *, within: float) -> None:
    deadline = time.monotonic() + within
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = {p for p in alive if os.path.exists(f"/proc/{p}") and not _zombie(p)}
    for pid in alive:  # do not leave them to the next test
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert not alive, f"processes {sorted(alive)} outlived the driver by {within} s"


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stream:
            return stream.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
