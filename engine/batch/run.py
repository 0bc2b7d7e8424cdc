"""Archive + rules -> a finished output folder: the orchestrator of a batch or impact run.

Written once for every backend. It plans shards, skips those an earlier run finished (a shard is
done exactly when its result file exists), keeps a bounded window of shards in flight, and
handles dead workers: a local pool breaks as a whole, so the shards that were in flight are
re-run alone to find the one that kills; Dask retries by itself and reports the same as
``KilledWorker``. A shard that has killed its worker ``max_attempts`` times is *quarantined*:
``<shard-id>.quarantined.jsonl`` gets one error row per input (type ``QuarantinedShard``), so the
run still ends with exactly one line per input case; it is listed in the summary, the run is not
complete, and the next run of the same command tries it again.

Output folder::

    run.json                    what was run: inputs, rules, engine, shard ids
    shards/<id>.jsonl           one line per input case (ruling/1, impact/1 or an error object)
    shards/<id>.stats.json      that shard's counts and the size of its results
    shards/<id>.disagreements   its rows that disagree with the recorded decision (JSON Lines)
    shards/<id>.quarantined.jsonl
    summary.json, disagreements.jsonl              (batch)
    impact.json, impact.html, cases/<id>.old|new.html  (impact)
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import orjson

from engine.batch.archive import Archive, Shard, open_fs, read_shard
from engine.batch.impact import ImpactTally, case_page_name, render_case_page, render_impact_html
from engine.batch.shard import (
    Job,
    ShardOutcome,
    atomic_writer,
    case_id_of,
    disagreements_path,
    error_row,
    jsonl_row,
    quarantine_path,
    results_path,
    stats_path,
    write_atomic,
)
from engine.batch.summary import Tally
from engine.errors import BatchError
from engine.rules.program import Program

__all__ = ["Backend", "Progress", "Quarantine", "RunReport", "run_archive"]


class Backend(Protocol):
    name: str
    slots: int
    isolates_suspects: bool

    def submit(self, shard: Shard, job: Job) -> Future[ShardOutcome]: ...
    def is_worker_death(self, exc: BaseException) -> bool: ...
    def rebuild(self) -> None: ...
    def close(self) -> None: ...


class Progress(Protocol):
    def start(self, *, shards: int, cases: int | None, done: int, done_cases: int) -> None: ...
    def advance(self, outcome: ShardOutcome) -> None: ...
    def note(self, message: str) -> None: ...
    def stop(self) -> None: ...


class _Silent:
    def start(self, *, shards: int, cases: int | None, done: int, done_cases: int) -> None:
        return None

    def advance(self, outcome: ShardOutcome) -> None:
        return None

    def note(self, message: str) -> None:
        return None

    def stop(self) -> None:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Quarantine:
    shard_id: str
    source: str
    attempts: int
    reason: str
    cases: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    out: str
    mode: str
    shards: int
    resumed: int  # shards an earlier run had finished
    cases: int  # inputs (cases, unreadable inputs)
    lines: int  # output lines, counted in the files
    missing: tuple[str, ...]  # shards with no output, or whose line count is off
    quarantined: tuple[Quarantine, ...]
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """Every input case has exactly one line, and every one of them was scored."""
        return self.lines == self.cases and not self.missing and not self.quarantined


def _manifest(archive: Archive, job: Job, programs: tuple[Program, ...]) -> dict[str, Any]:
    return {
        "format": "batch-run/1",
        "mode": job.mode,
        "engine": job.engine,
        "as_of": job.as_of,
        "rules": [{"name": p.name, "version": p.version, "digest": p.digest} for p in programs],
        "inputs": list(archive.inputs),
        "shards": [s.id for s in archive.shards],
    }


def _prepare(out: str, manifest: dict[str, Any], options: Mapping[str, Any]) -> None:
    fs, root = open_fs(out, options)
    run_file = f"{root.rstrip('/')}/run.json"
    if fs.exists(run_file):
        with fs.open(run_file, "rb") as stream:
            earlier = json.loads(stream.read())
        for key in ("mode", "engine", "rules", "as_of"):
            if earlier.get(key) != manifest[key]:
                raise BatchError(
                    f"{out} holds the results of another run ({key}: {earlier.get(key)!r}, "
                    f"now {manifest[key]!r}); use another --out, or delete it to start over"
                )
    try:
        fs.makedirs(f"{root.rstrip('/')}/shards", exist_ok=True)
        _remove_temporaries(out, options)
        write_atomic(f"{out.rstrip('/')}/run.json", _json(manifest), options)
    except OSError as exc:
        raise BatchError(
            f"{out}: cannot write the results there ({exc.strerror or exc}); choose a folder "
            "you can write to, with free space"
        ) from exc


def _remove_temporaries(out: str, options: Mapping[str, Any]) -> None:
    """Delete the temporary files of workers that died while writing (none is in flight)."""
    fs, root = open_fs(out, options)
    for stale in fs.glob(f"{root.rstrip('/')}/shards/*.tmp-*"):
        fs.rm(stale)


def _json(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def run_archive(
    archive: Archive,
    job: Job,
    programs: tuple[Program, ...],
    backend: Backend,
    *,
    max_attempts: int = 3,
    progress: Progress | None = None,
) -> RunReport:
    """Score every shard not yet done, then verify and summarise the output folder."""
    started = time.perf_counter()
    show = progress or _Silent()
    options = dict(job.storage_options)
    _prepare(job.out, _manifest(archive, job, programs), options)
    fs, _ = open_fs(job.out, options)
    todo = [s for s in archive.shards if not fs.exists(_path(job.out, s.id, options))]
    resumed = len(archive.shards) - len(todo)
    if resumed:
        show.note(f"resuming: {resumed} of {len(archive.shards)} shards already done")
    done_cases = sum(s.cases or 0 for s in archive.shards) - sum(s.cases or 0 for s in todo)
    show.start(
        shards=len(archive.shards), cases=archive.known_cases, done=resumed, done_cases=done_cases
    )
    quarantined: list[Quarantine] = []
    try:
        _drive(todo, job, backend, max_attempts, show, quarantined)
    except OSError as exc:  # a full disk, a folder that became read-only
        raise BatchError(
            f"{job.out}: cannot write the results ({exc.strerror or exc}); the shards finished "
            "so far are kept: free space or fix the folder, then run the same command to resume"
        ) from exc
    finally:
        show.stop()
    _remove_temporaries(job.out, options)
    tally, lines, missing = _verify(archive, job)
    report = RunReport(
        out=job.out,
        mode=job.mode,
        shards=len(archive.shards),
        resumed=resumed,
        cases=tally.cases,
        lines=lines,
        missing=missing,
        quarantined=tuple(quarantined),
        seconds=time.perf_counter() - started,
    )
    run = {
        **_manifest(archive, job, programs),
        "shards": len(archive.shards),
        "resumed": resumed,
        "cases_in": report.cases,
        "lines_out": report.lines,
        "complete": report.complete,
        "missing_shards": list(missing),
        "quarantined": [
            {
                "shard": q.shard_id,
                "source": q.source,
                "attempts": q.attempts,
                "reason": q.reason,
                "cases": q.cases,
            }
            for q in quarantined
        ],  # fmt: skip
        "seconds": round(report.seconds, 3),
    }
    summary = _write_outputs(archive, job, tally, run, programs)
    return replace(report, summary=summary)


def _path(out: str, shard_id: str, options: Mapping[str, Any]) -> str:
    return open_fs(results_path(out, shard_id), options)[1]


def _drive(
    todo: list[Shard],
    job: Job,
    backend: Backend,
    max_attempts: int,
    show: Progress,
    quarantined: list[Quarantine],
) -> None:
    options = dict(job.storage_options)
    fs, _ = open_fs(job.out, options)
    pending: deque[Shard] = deque(todo)
    suspects: deque[Shard] = deque()  # in flight when the local pool broke: re-run one by one
    deaths: dict[str, int] = {}
    failures: dict[str, int] = {}
    inflight: dict[Future[ShardOutcome], Shard] = {}
    window = max(1, 2 * backend.slots)

    def submit(shard: Shard) -> None:
        if fs.exists(_path(job.out, shard.id, options)):  # finished before its pool broke
            show.advance(_outcome_on_disk(shard, job))
            return
        inflight[backend.submit(shard, job)] = shard

    def give_up(shard: Shard, attempts: int, reason: str) -> None:
        quarantined.append(_quarantine(shard, job, attempts, reason))
        show.note(f"quarantined shard {shard.id} after {attempts} attempt(s): {reason}")

    while pending or suspects or inflight:
        if suspects:
            if not inflight:
                submit(suspects.popleft())
        else:
            while pending and len(inflight) < window:
                submit(pending.popleft())
        if not inflight:
            continue
        done, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
        dead: list[Shard] = []
        for future in done:
            shard = inflight.pop(future)
            exc = future.exception()
            if exc is None:
                show.advance(future.result())
            elif backend.is_worker_death(exc) and backend.isolates_suspects:
                dead.append(shard)
            elif backend.is_worker_death(exc):  # dask has already retried it
                give_up(shard, max_attempts, f"its worker died on every attempt ({exc})")
            else:
                failures[shard.id] = failures.get(shard.id, 0) + 1
                reason = f"{type(exc).__name__}: {exc}"
                if failures[shard.id] >= max_attempts:
                    give_up(shard, failures[shard.id], reason)
                else:
                    show.note(f"shard {shard.id} failed ({reason}); trying again")
                    pending.append(shard)
        if not dead:
            continue
        dead.extend(inflight.values())  # a broken pool fails every shard it held
        inflight.clear()
        if len(dead) == 1:  # it ran alone: it killed the worker
            shard = dead[0]
            deaths[shard.id] = deaths.get(shard.id, 0) + 1
            if deaths[shard.id] >= max_attempts:
                give_up(shard, deaths[shard.id], "its worker died on every attempt")
            else:
                show.note(f"a worker died on shard {shard.id}; restarting the pool, trying again")
                suspects.appendleft(shard)
        else:
            show.note(
                f"a worker died with {len(dead)} shards in flight; restarting the pool and "
                "running them one at a time to find the one that kills it"
            )
            suspects.extend(dead)
        backend.rebuild()


def _outcome_on_disk(shard: Shard, job: Job) -> ShardOutcome:
    tally = _stats(shard, job)
    cases = tally.cases if tally is not None else 0
    return ShardOutcome(shard_id=shard.id, cases=cases, lines=cases, seconds=0.0, pid=0)


def _stats(shard: Shard, job: Job) -> Tally | ImpactTally | None:
    record = _shard_record(shard, job)
    return None if record is None else record[0]


def _shard_record(shard: Shard, job: Job) -> tuple[Tally | ImpactTally, int | None] | None:
    """A finished shard's counts and the size of its results in bytes (None: not recorded)."""
    fs, path = open_fs(stats_path(job.out, shard.id), dict(job.storage_options))
    try:
        with fs.open(path, "rb") as stream:
            data = orjson.loads(stream.read())
    except (OSError, ValueError):  # orjson.JSONDecodeError is a ValueError
        return None
    kind = Tally if job.mode == "score" else ImpactTally
    return kind.from_json(data["tally"]), data.get("bytes")


def _quarantine(shard: Shard, job: Job, attempts: int, reason: str) -> Quarantine:
    """Write one QuarantinedShard error row per input of a shard that could not be scored."""
    message = (
        f"not scored: shard {shard.id} was given up after {attempts} attempt(s) ({reason}); "
        "run the same command again to retry it"
    )
    rows = [
        error_row(case_id_of(entry.raw), str(entry.loc), "QuarantinedShard", message)
        for entry in read_shard(shard, dict(job.storage_options))
    ]
    data = b"".join(rows)
    write_atomic(quarantine_path(job.out, shard.id), data, dict(job.storage_options))
    return Quarantine(
        shard_id=shard.id, source=shard.source, attempts=attempts, reason=reason, cases=len(rows)
    )


def _count_lines(url: str, options: Mapping[str, Any]) -> int:
    fs, path = open_fs(url, options)
    count = 0
    with fs.open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            count += chunk.count(b"\n")
    return count


def _verify(archive: Archive, job: Job) -> tuple[Tally | ImpactTally, int, tuple[str, ...]]:
    """Sum the shards' counts and check the lines really written: (tally, lines, missing).

    A result file of exactly the size its worker recorded holds the lines it counted; any other
    size (or no size recorded) and its lines are counted."""
    options = dict(job.storage_options)
    fs, _ = open_fs(job.out, options)
    total: Tally | ImpactTally = Tally() if job.mode == "score" else ImpactTally()
    lines = 0
    missing: list[str] = []
    for shard in archive.shards:
        results, quarantined = results_path(job.out, shard.id), quarantine_path(job.out, shard.id)
        results_file = open_fs(results, options)[1]
        if fs.exists(results_file):
            record = _shard_record(shard, job)
            tally, size = record if record is not None else (None, None)
            if tally is not None and size is not None and fs.size(results_file) == size:
                written = tally.lines
            else:
                written = _count_lines(results, options)
            expected = shard.cases if shard.cases is not None else written
            if tally is None or tally.lines != written or tally.cases != expected:
                missing.append(shard.id)
            elif isinstance(tally, Tally) and not _disagreements_kept(shard, job, tally, fs):
                missing.append(shard.id)
            if tally is not None:
                total.merge(tally)  # type: ignore[arg-type]
            lines += written
        elif fs.exists(open_fs(quarantined, options)[1]):
            written = _count_lines(quarantined, options)
            for _ in range(written):
                total.add_error("QuarantinedShard")
            lines += written
        else:
            missing.append(shard.id)
    return total, lines, tuple(missing)


def _disagreements_kept(shard: Shard, job: Job, tally: Tally, fs: Any) -> bool:
    """A shard that had disagreements has their file (or, from earlier versions, its stats
    hold them)."""
    if not tally.disagreed or tally.disagreements:
        return True
    path = open_fs(disagreements_path(job.out, shard.id), dict(job.storage_options))[1]
    return bool(fs.exists(path))


def _disagreement_rows(shard: Shard, job: Job) -> bytes:
    """A finished shard's disagreement rows, as JSON Lines."""
    options = dict(job.storage_options)
    fs, path = open_fs(disagreements_path(job.out, shard.id), options)
    try:
        with fs.open(path, "rb") as stream:
            return bytes(stream.read())
    except FileNotFoundError:  # none, or stats of an earlier version holding the rows
        done = _stats(shard, job)
        rows = done.disagreements if isinstance(done, Tally) else []
        return b"".join(map(jsonl_row, rows))


def _write_outputs(
    archive: Archive,
    job: Job,
    tally: Tally | ImpactTally,
    run: dict[str, Any],
    programs: tuple[Program, ...],
) -> dict[str, Any]:
    options = dict(job.storage_options)
    out = job.out.rstrip("/")
    summary = {"run": run, **tally.summary()}
    if isinstance(tally, Tally):
        write_atomic(f"{out}/summary.json", _json(summary), options)
        with atomic_writer(f"{out}/disagreements.jsonl", options) as stream:
            for shard in archive.shards:  # each shard's file copied in turn, in archive order
                rows = _disagreement_rows(shard, job)
                if rows:
                    stream.write(rows)
        return summary
    write_atomic(f"{out}/impact.json", _json(summary), options)
    versions = {"old": programs[0], "new": programs[-1]}
    for examples in tally.examples.values():
        for row in examples:
            for side, program in versions.items():
                rules = {"name": program.name, "version": program.version, "digest": program.digest}
                page = render_case_page(row, side, rules, program).encode("utf-8")
                write_atomic(f"{out}/cases/{case_page_name(row['case_id'], side)}", page, options)
    html = render_impact_html(summary, run).encode("utf-8")
    write_atomic(f"{out}/impact.html", html, options)
    return summary
