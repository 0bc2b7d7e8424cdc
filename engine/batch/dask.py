"""Shards -> dask.distributed: the backend for beyond one machine (optional extra ``dask``).

The same unit of work (``score_shard``) runs as one task per shard, on a ``LocalCluster`` of
single-threaded worker processes or on an existing scheduler. A ``WorkerPlugin`` installs the
rules in every worker, including those the nanny restarts after a crash. Dask retries a task
whose worker died (``allowed-failures``); a shard that still kills its worker comes back as
``KilledWorker`` and is quarantined by the orchestrator. An existing scheduler must have (or
gain within ``worker_timeout`` seconds) at least one worker, else ``BatchError`` says how to
start one. Threaded workers are refused when the run connects and, for those that join later,
by each task (``score_on_worker``); the plugin is removed from the scheduler when the run ends.
"""

from __future__ import annotations

import uuid
from concurrent.futures import Future
from typing import Any

import dask
from distributed import Client, KilledWorker, LocalCluster, WorkerPlugin, get_worker

from engine.batch.archive import Shard
from engine.batch.shard import Job, ShardOutcome, install_programs, score_shard
from engine.errors import BatchError
from engine.rules.program import Program
from engine.run.scoring import EngineName

__all__ = ["DaskBackend", "ScorerSetup", "ThreadedWorker", "score_on_worker"]

RESOURCE = "SCORER"  # one scoring task per process: durable_rules state is not thread-safe
WORKER_TIMEOUT = 30.0  # seconds an existing scheduler has to show its first worker
_ONE_AT_A_TIME = f"--nthreads 1 (or --resources {RESOURCE}=1); the scorer is not thread-safe"


class ScorerSetup(WorkerPlugin):
    """Per-worker set-up: installs the rules; the scorer is built by the worker's first task."""

    def __init__(self, programs: tuple[Program, ...], engine: EngineName) -> None:
        self.programs = programs
        self.engine = engine

    def setup(self, worker: Any) -> None:
        install_programs(self.programs)


class ThreadedWorker(RuntimeError):
    """A shard reached a worker that could run two scoring tasks at once."""


def score_on_worker(shard: Shard, job: Job, one_slot: bool) -> ShardOutcome:
    """``score_shard`` in a dask worker that runs one scoring task at a time: one thread, or
    (``one_slot``: the task asks for a SCORER) exactly one SCORER. A worker that joined after
    the run's check and breaks this gets the task refused, not run beside another one."""
    worker = get_worker()
    threads, slots = worker.state.nthreads, worker.state.total_resources.get(RESOURCE, 0)
    if threads > 1 and not (one_slot and slots == 1):
        raise ThreadedWorker(
            f"dask worker {worker.address} runs {threads} threads"
            + (f" and {slots:g} {RESOURCE} slots" if one_slot else "")
            + f": start it with {_ONE_AT_A_TIME}"
        )
    return score_shard(shard, job)


def _connect(scheduler: str) -> Client:
    try:
        return Client(scheduler)  # type: ignore[no-untyped-call]
    except (OSError, TimeoutError, ValueError) as exc:  # unreachable, refused, a bad address
        raise BatchError(
            f"cannot reach the dask scheduler at {scheduler}: {exc}; check the address "
            "(tcp://host:8786) and that `dask scheduler` runs there"
        ) from exc


class DaskBackend:
    """A dask.distributed client on a LocalCluster of ``workers`` processes or ``scheduler``."""

    name = "dask"
    isolates_suspects = False  # dask attributes a death to the task that was running

    def __init__(
        self,
        workers: int,
        programs: tuple[Program, ...],
        engine: EngineName,
        *,
        scheduler: str | None = None,
        max_attempts: int = 3,
        worker_timeout: float | None = None,
    ) -> None:
        self._cluster: LocalCluster | None = None
        self._plugin: str | None = None
        settings = {
            "distributed.scheduler.worker-saturation": 1.0,  # no shard queued behind a poison one
            "distributed.scheduler.allowed-failures": max(0, max_attempts - 1),
        }
        with dask.config.set(settings):
            if scheduler:
                self._client = _connect(scheduler)
            else:
                self._cluster = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )  # no resources: tasks that need one skip the scheduler's queue (see below)
                self._client = Client(self._cluster)  # type: ignore[no-untyped-call]
        try:
            if scheduler:
                self._wait_for_a_worker(scheduler, worker_timeout)
            resources = self._resources()
            self.slots = max(1, sum(w["nthreads"] for w in self._workers().values()))
            digests = "-".join(p.digest.removeprefix("sha256:")[:12] for p in programs)
            # one name per run: removed at the end without touching another run's plugin
            self._plugin = f"adjudicate-{digests}-{uuid.uuid4().hex[:8]}"
            self._client.register_plugin(ScorerSetup(programs, engine), name=self._plugin)
            self._one_slot = bool(resources)
            self._executor = self._client.get_executor(pure=False, **resources)  # type: ignore[no-untyped-call]
        except BaseException:
            self._disconnect()  # the caller gets no backend to close
            raise

    def _wait_for_a_worker(self, scheduler: str, timeout: float | None) -> None:
        """Without a worker there are no threads to check and no slots to count."""
        seconds = WORKER_TIMEOUT if timeout is None else timeout
        try:
            self._client.wait_for_workers(n_workers=1, timeout=seconds)
        except TimeoutError as exc:
            raise BatchError(
                f"the dask scheduler at {scheduler} has no workers (none joined within "
                f"{seconds:g} s): start some with `dask worker {scheduler} --nthreads 1` "
                "(one thread each: the scorer is not thread-safe), then run the same command "
                "again"
            ) from exc

    def _workers(self) -> dict[str, Any]:
        workers: dict[str, Any] = self._client.scheduler_info().get("workers", {})
        return workers

    def _resources(self) -> dict[str, Any]:
        """Ask for one SCORER slot only where every worker declares it. Our LocalCluster has one
        thread per worker and needs none: a task with a resource restriction is sent to a worker
        at once instead of waiting in the scheduler's queue, so a shard queued behind a poison
        one would die with it (KilledWorker) although it never ran."""
        workers = self._workers()
        if workers and all(RESOURCE in w.get("resources", {}) for w in workers.values()):
            return {"resources": {RESOURCE: 1}}
        threaded = [a for a, w in workers.items() if w.get("nthreads", 1) > 1]
        if threaded:
            raise BatchError(
                f"dask workers {', '.join(threaded)} run more than one thread: start them with "
                f"{_ONE_AT_A_TIME}"
            )
        return {}

    def submit(self, shard: Shard, job: Job) -> Future[ShardOutcome]:
        future: Future[ShardOutcome] = self._executor.submit(
            score_on_worker, shard, job, self._one_slot
        )
        return future

    def is_worker_death(self, exc: BaseException) -> bool:
        return isinstance(exc, KilledWorker)

    def rebuild(self) -> None:
        return None

    def close(self) -> None:
        self._executor.shutdown(wait=False)
        self._disconnect()

    def _disconnect(self) -> None:
        if self._plugin is not None and self._cluster is None:  # a shared scheduler
            try:
                self._client.unregister_worker_plugin(self._plugin)  # type: ignore[no-untyped-call]
            except Exception:  # noqa: BLE001 - the scheduler may be gone; nothing else to undo
                pass
            self._plugin = None
        self._client.close()  # type: ignore[no-untyped-call]
        if self._cluster is not None:
            self._cluster.close()
