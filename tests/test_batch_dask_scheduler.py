"""The dask backend on an existing scheduler (``scheduler=``, ``--scheduler``): real ``dask
scheduler`` and ``dask worker`` processes, started here and torn down after; one row per case,
the reference rulings, and clear refusals of threaded workers and of a scheduler without any."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from batchdata import case_lines, output_lines, write_jsonl
from click.testing import CliRunner
from conftest import ROOT, RULES

from engine import Program
from engine.batch import BatchError, rescore
from engine.batch.shard import ShardOutcome
from engine.cli import main

pytestmark = pytest.mark.slow  # a real subprocess, server, browser or cluster

distributed = pytest.importorskip("distributed")

STARTUP = 30.0  # seconds for a scheduler or its workers to come up on a busy machine


def _spawn(module: str, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    """``python -m module args`` in its own session (so its children can be killed with it),
    from the project root so that the workers import ``engine``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    with log.open("wb") as stream:
        return subprocess.Popen(
            [sys.executable, "-m", module, *args], cwd=ROOT, env=env, stdout=stream,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    """Workers first, then the scheduler: SIGTERM (dask closes its nannies' workers), then
    SIGKILL to whatever is left in each process's own group."""
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _address(file: Path, proc: subprocess.Popen[bytes], log: Path) -> str:
    """The address the scheduler wrote to its --scheduler-file (it chose a free port)."""
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with contextlib.suppress(OSError, ValueError):  # not written yet, or half written
            address: str = json.loads(file.read_text(encoding="utf-8"))["address"]
            return address
        time.sleep(0.1)
    raise RuntimeError(f"dask scheduler did not start:\n{log.read_text(errors='replace')}")


@contextlib.contextmanager
def _cluster(folder: Path, *, workers: int, threads: int = 1) -> Iterator[str]:
    """A scheduler on 127.0.0.1 and ``workers`` worker processes of ``threads`` threads each;
    yields the scheduler's address once every worker has joined."""
    folder.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        file, log = folder / "scheduler.json", folder / "scheduler.log"
        procs.append(_spawn("distributed.cli.dask_scheduler", [
            "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--dashboard-address", "127.0.0.1:0",  # its HTTP server starts anyway: not on 8787
            "--scheduler-file", str(file),
            "--idle-timeout", "600",  # an orphan (pytest killed) ends itself, then its workers
        ], log))  # fmt: skip
        address = _address(file, procs[0], log)
        if workers:
            procs.append(_spawn("distributed.cli.dask_worker", [
                address, "--nworkers", str(workers), "--nthreads", str(threads),
                "--no-dashboard", "--death-timeout", str(STARTUP),
            ], folder / "workers.log"))  # fmt: skip
            with distributed.Client(address, timeout=STARTUP) as client:
                client.wait_for_workers(workers, timeout=STARTUP)
        yield address
    finally:
        _stop(procs)


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An existing scheduler with two single-threaded workers."""
    with _cluster(tmp_path_factory.mktemp("dask-cluster"), workers=2) as address:
        yield address


@pytest.fixture(scope="module")
def bare_scheduler(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An existing scheduler that no worker ever joins."""
    with _cluster(tmp_path_factory.mktemp("dask-bare"), workers=0) as address:
        yield address


class _Pids:
    """A Progress that notes the process that scored each shard."""

    def __init__(self) -> None:
        self.pids: list[int] = []

    def start(self, *, shards: int, cases: int | None, done: int, done_cases: int) -> None:
        return None

    def advance(self, outcome: ShardOutcome) -> None:
        self.pids.append(outcome.pid)

    def note(self, message: str) -> None:
        return None

    def stop(self) -> None:
        return None


def test_an_existing_scheduler_gives_one_row_per_case_and_the_reference_rulings(
    tmp_path: Path, program: Program, scheduler: str
) -> None:
    lines = case_lines(40)
    archive = write_jsonl(tmp_path / "a.jsonl", lines)
    progress = _Pids()
    report = rescore([str(archive)], program, out=str(tmp_path / "dask"), engine="durable",
                     backend="dask", scheduler=scheduler, shard_cases=10,
                     progress=progress)  # fmt: skip
    expected = rescore([str(archive)], program, out=str(tmp_path / "local"), engine="reference",
                       backend="local", workers=0, shard_cases=10)  # fmt: skip
    assert report.complete and report.lines == 40 and expected.complete
    rows = output_lines(tmp_path / "dask")
    ids = [r["case_id"] for r in rows]
    assert sorted(ids) == sorted(json.loads(x)["case_id"] for x in lines)  # each exactly once
    assert not any("error" in r for r in rows)
    reference = {r["case_id"]: r["ruling"] for r in output_lines(tmp_path / "local")}
    assert {r["case_id"]: r["ruling"] for r in rows} == reference
    assert len(progress.pids) == 4 and os.getpid() not in progress.pids  # scored by the workers
    with distributed.Client(scheduler, timeout=STARTUP) as client:
        plugins = client.run_on_scheduler(
            lambda dask_scheduler: list(dask_scheduler.worker_plugins)
        )
    assert not [name for name in plugins if name.startswith("adjudicate-")]  # removed at the end


def test_the_cli_scores_an_archive_on_an_existing_scheduler(tmp_path: Path, scheduler: str) -> None:
    archive = write_jsonl(tmp_path / "a.jsonl", case_lines(12))
    result = CliRunner().invoke(main, [
        "batch", str(archive), "--out", str(tmp_path / "out"), "--rules", str(RULES),
        "--engine", "reference", "--scheduler", scheduler, "--shard-cases", "5",
    ])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"12 lines for 12 cases in {tmp_path / 'out'}" in result.stdout
    assert len(output_lines(tmp_path / "out")) == 12
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["run"]["complete"] and summary["lines"] == 12


def test_a_worker_with_two_threads_is_refused_before_anything_is_written(
    tmp_path: Path, program: Program
) -> None:
    archive = write_jsonl(tmp_path / "a.jsonl", case_lines(4))
    with _cluster(tmp_path / "threaded", workers=1, threads=2) as address:
        with distributed.Client(address, timeout=STARTUP) as client:
            (worker,) = client.scheduler_info()["workers"]
        message = (
            f"dask workers {worker} run more than one thread: start them with --nthreads 1 "
            "(or --resources SCORER=1); the scorer is not thread-safe"
        )
        with pytest.raises(BatchError, match=f"^{re.escape(message)}$"):
            rescore([str(archive)], program, out=str(tmp_path / "out"), engine="reference",
                    backend="dask", scheduler=address)  # fmt: skip
    assert not (tmp_path / "out").exists()


def test_a_shard_sent_to_a_worker_with_two_threads_is_refused_there(
    tmp_path: Path, program: Program
) -> None:
    """A worker that joins after the run's check never scores two shards side by side."""
    from engine.batch.archive import plan_archive
    from engine.batch.dask import ThreadedWorker, score_on_worker
    from engine.batch.shard import Job

    archive = write_jsonl(tmp_path / "a.jsonl", case_lines(4))
    (shard,) = plan_archive([str(archive)]).shards
    job = Job(out=str(tmp_path / "out"), mode="score", engine="reference", rules=(program.digest,))
    with _cluster(tmp_path / "threaded", workers=1, threads=2) as address:
        with distributed.Client(address, timeout=STARTUP) as client:
            (worker,) = client.scheduler_info()["workers"]
            with pytest.raises(ThreadedWorker) as info:
                client.submit(score_on_worker, shard, job, False).result(timeout=STARTUP)
    assert str(info.value) == (
        f"dask worker {worker} runs 2 threads: start it with --nthreads 1 (or --resources "
        "SCORER=1); the scorer is not thread-safe"
    )
    assert not (tmp_path / "out").exists()


def _no_workers(address: str, seconds: str) -> str:
    return (
        f"the dask scheduler at {address} has no workers (none joined within {seconds} s): "
        f"start some with `dask worker {address} --nthreads 1` (one thread each: the scorer is "
        "not thread-safe), then run the same command again"
    )


def test_a_scheduler_without_workers_is_a_batch_error_after_the_timeout(
    program: Program, bare_scheduler: str
) -> None:
    from engine.batch.dask import DaskBackend

    started = time.monotonic()
    with pytest.raises(BatchError) as info:
        DaskBackend(1, (program,), "reference", scheduler=bare_scheduler, worker_timeout=1.5)
    assert str(info.value) == _no_workers(bare_scheduler, "1.5")
    assert 1.5 <= time.monotonic() - started < 15


def test_the_cli_exits_2_when_the_scheduler_has_no_workers(
    tmp_path: Path, bare_scheduler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("engine.batch.dask.WORKER_TIMEOUT", 1.0)
    archive = write_jsonl(tmp_path / "a.jsonl", case_lines(4))
    result = CliRunner().invoke(main, [
        "batch", str(archive), "--out", str(tmp_path / "out"), "--rules", str(RULES),
        "--engine", "reference", "--scheduler", bare_scheduler,
    ])  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.stderr.strip() == _no_workers(bare_scheduler, "1")
    assert not (tmp_path / "out").exists()


def test_an_unreachable_scheduler_is_a_batch_error_naming_the_address(program: Program) -> None:
    import socket

    import dask

    from engine.batch.dask import DaskBackend

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        with pytest.raises(BatchError, match=f"^cannot reach the dask scheduler at {address}: "):
            DaskBackend(1, (program,), "reference", scheduler=address)
