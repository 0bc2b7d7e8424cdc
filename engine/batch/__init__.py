"""Batch re-scoring of archives: shards, local pool and Dask backends, resume, summaries, impact.

    archive (files, JSON Lines, URLs) --plan--> shards --score_shard (per worker)--> shards/*.jsonl
    shards/*.stats.json --sum--> summary.json | impact.json + impact.html

``rescore`` scores an archive under one rule version; ``assess_impact`` scores it under two and
reports what the change flips. Both resume: run again with the same output folder and only the
shards without a result file are scored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from engine.batch.archive import Archive, Shard, plan_archive
from engine.batch.local import InlineBackend, LocalBackend
from engine.batch.run import Backend, Progress, Quarantine, RunReport, run_archive
from engine.batch.shard import CrashHook, Job, Mode
from engine.errors import BatchError
from engine.rules.program import Program
from engine.run.scoring import EngineName

__all__ = [
    "Archive",
    "BatchError",
    "CrashHook",
    "Progress",
    "Quarantine",
    "RunReport",
    "Shard",
    "assess_impact",
    "open_backend",
    "plan_archive",
    "rescore",
]

BackendName = Literal["local", "dask"]


def open_backend(
    kind: BackendName,
    *,
    programs: tuple[Program, ...],
    engine: EngineName,
    workers: int | None = None,
    scheduler: str | None = None,
    max_attempts: int = 3,
) -> Backend:
    """A backend ready to take shards: ``local`` (a process pool; ``workers=0`` scores in this
    process) or ``dask`` (a LocalCluster of ``workers`` processes, or ``scheduler``)."""
    count = (os.cpu_count() or 1) if workers is None else workers
    if kind == "local":
        if count == 0:
            return InlineBackend(programs, engine)
        return LocalBackend(count, programs, engine)
    if kind == "dask":
        try:
            from engine.batch.dask import DaskBackend
        except ImportError as exc:
            raise BatchError(
                "the dask backend needs the optional extra: pip install 'adjudicate[dask]'"
            ) from exc
        return DaskBackend(
            max(1, count), programs, engine, scheduler=scheduler, max_attempts=max_attempts
        )
    raise ValueError(f"backend must be local or dask, not {kind!r}")


def _run(
    mode: Mode,
    inputs: Sequence[str],
    programs: tuple[Program, ...],
    *,
    out: str,
    engine: EngineName,
    backend: BackendName,
    workers: int | None,
    scheduler: str | None,
    shard_cases: int,
    max_attempts: int,
    storage_options: Mapping[str, Any] | None,
    hook: CrashHook | None,
    progress: Progress | None,
    as_of: str | None = None,
) -> RunReport:
    archive = plan_archive(inputs, shard_cases=shard_cases, storage_options=storage_options)
    job = Job(
        out=out.rstrip("/") or out,
        mode=mode,
        engine=engine,
        rules=tuple(p.digest for p in programs),
        storage_options=tuple(sorted((storage_options or {}).items())),
        hook=hook,
        as_of=as_of,
    )
    pool = open_backend(
        backend,
        programs=programs,
        engine=engine,
        workers=workers,
        scheduler=scheduler,
        max_attempts=max_attempts,
    )
    try:
        return run_archive(
            archive, job, programs, pool, max_attempts=max_attempts, progress=progress
        )
    finally:
        pool.close()


def rescore(
    inputs: Sequence[str],
    program: Program,
    *,
    out: str,
    engine: EngineName = "durable",
    backend: BackendName = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    shard_cases: int = 5000,
    max_attempts: int = 3,
    storage_options: Mapping[str, Any] | None = None,
    hook: CrashHook | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Score every case of an archive into ``out`` (resuming a run there); see RunReport."""
    return _run(
        "score", inputs, (program,), out=out, engine=engine, backend=backend, workers=workers,
        scheduler=scheduler, shard_cases=shard_cases, max_attempts=max_attempts,
        storage_options=storage_options, hook=hook, progress=progress,
    )  # fmt: skip


def assess_impact(
    inputs: Sequence[str],
    old: Program,
    new: Program,
    *,
    out: str,
    engine: EngineName = "durable",
    backend: BackendName = "local",
    workers: int | None = None,
    scheduler: str | None = None,
    shard_cases: int = 5000,
    max_attempts: int = 3,
    storage_options: Mapping[str, Any] | None = None,
    hook: CrashHook | None = None,
    progress: Progress | None = None,
    as_of: str | None = None,
) -> RunReport:
    """Score every case under ``old`` and ``new`` rules; report the cases whose ruling or
    amounts change (impact.json, impact.html) into ``out``. With ``as_of`` (YYYY-MM-DD) every
    case is first moved to that day, its intervals kept, so that a change dated in the future
    shows what it will do."""
    return _run(
        "impact", inputs, (old, new), out=out, engine=engine, backend=backend, workers=workers,
        scheduler=scheduler, shard_cases=shard_cases, max_attempts=max_attempts,
        storage_options=storage_options, hook=hook, progress=progress, as_of=as_of,
    )  # fmt: skip
