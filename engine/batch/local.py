"""Shards -> a process pool on this machine: the embedded default backend (stdlib only).

One scorer per worker process, built by the pool's initializer. Workers start with ``spawn``,
so durable_rules is only ever loaded in a fresh process, never inherited through a fork. A dead
worker (durable_rules segfaults) breaks the whole pool: the orchestrator (``engine.batch.run``)
calls ``rebuild`` and resubmits, running the suspect shards alone to find the one that kills.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import re
import tempfile
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from engine.batch.archive import Shard
from engine.batch.shard import Job, ShardOutcome, install_programs, score_shard, scorer_for
from engine.rules.program import Program
from engine.run.scoring import EngineName

__all__ = ["InlineBackend", "LocalBackend"]

_PROGRAMS_FILE = re.compile(r"adjudicate-rules-(\d+)-[^/]*\.pickle")  # the driver's pid first


def _watch_parent(parent: int) -> None:
    """End this worker when the driver is gone (a kill -9 leaves no one to shut the pool)."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def _init_worker(programs_file: str, engine: EngineName, driver: int) -> None:
    # watch the driver's pid, handed down, from the start: a driver killed while this worker was
    # still starting up has already made it a child of init, and os.getppid() would say 1
    threading.Thread(target=_watch_parent, args=(driver,), daemon=True).start()
    with open(programs_file, "rb") as stream:
        programs: tuple[Program, ...] = pickle.load(stream)
    install_programs(programs)
    for program in programs:
        scorer_for(program.digest, engine)


class LocalBackend:
    """A ``ProcessPoolExecutor`` of ``workers`` spawned processes."""

    name = "local"
    isolates_suspects = True  # a death breaks every in-flight shard: find the guilty one alone

    def __init__(self, workers: int, programs: tuple[Program, ...], engine: EngineName) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.slots = workers
        # The compiled rules reach the workers through a file: as initializer arguments they
        # would be written down the spawn pipe, which blocks (forever, if the new worker dies
        # before reading) when they exceed the pipe's buffer.
        _remove_orphaned_programs(tempfile.gettempdir())
        handle, self._programs_file = tempfile.mkstemp(
            prefix=f"adjudicate-rules-{os.getpid()}-", suffix=".pickle"
        )
        with os.fdopen(handle, "wb") as stream:
            pickle.dump(programs, stream)
        self._args = (self._programs_file, engine, os.getpid())
        self._pool = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.slots,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=self._args,
        )

    def submit(self, shard: Shard, job: Job) -> Future[ShardOutcome]:
        return self._pool.submit(score_shard, shard, job)

    def is_worker_death(self, exc: BaseException) -> bool:
        return isinstance(exc, BrokenProcessPool)

    def rebuild(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = self._start()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        try:
            os.unlink(self._programs_file)
        except FileNotFoundError:
            pass


def _remove_orphaned_programs(folder: str) -> None:
    """Delete the rules files of drivers that were killed (kill -9 leaves no one to clean up)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        match = _PROGRAMS_FILE.fullmatch(name)
        if match is None or _alive(int(match.group(1))):
            continue
        try:
            os.unlink(os.path.join(folder, name))
        except OSError:  # another driver removed it first, or it is not ours to remove
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):  # another user's process; a pid out of range
        pass
    return True


class InlineBackend:
    """Shards scored one after the other in this process (``--workers 0``): for debugging and
    for in-process filesystems such as ``memory://``. A worker death here ends the run."""

    name = "inline"
    isolates_suspects = False
    slots = 1

    def __init__(self, programs: tuple[Program, ...], engine: EngineName) -> None:
        install_programs(programs)

    def submit(self, shard: Shard, job: Job) -> Future[ShardOutcome]:
        future: Future[ShardOutcome] = Future()
        try:
            future.set_result(score_shard(shard, job))
        except Exception as exc:  # noqa: BLE001 - handed to the orchestrator like a pool's
            future.set_exception(exc)
        return future

    def is_worker_death(self, exc: BaseException) -> bool:
        return False

    def rebuild(self) -> None:
        return None

    def close(self) -> None:
        return None
