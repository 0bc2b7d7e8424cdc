"""The unit of work of a batch run: one shard read, scored and written, in a worker process.

``score_shard`` reads the shard's inputs, scores each case with the worker's cached Scorer and
writes ``<out>/shards/<shard-id>.jsonl``: one line per input, a ruling/1 object or an error
object ``{"case_id", "source", "error": {"type", "message"}}``. A case that fails in any way
becomes an error row naming its source and line; no case is ever dropped. The rows that
disagree with the recorded decision go first to ``<shard-id>.disagreements`` (JSON Lines, when
there are any), the counts and the results' size in bytes to ``<shard-id>.stats.json``, then the
results are moved into place (temporary file + rename), so a shard is done exactly when its
result file exists and a retried or duplicated task never leaves a partial file or a duplicate
row.

Scorers are built once per process (``install_programs`` from the pool's initializer or the
Dask worker plugin, then ``scorer_for``) and reused for every shard the process scores.
"""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from typing import IO, Any, Literal

import orjson
from fsspec.implementations.local import LocalFileSystem

from engine.batch.archive import Entry, Shard, open_fs, read_lines, read_shard
from engine.batch.impact import ImpactTally, compare_rulings
from engine.batch.responsible import Responsibility
from engine.batch.summary import Tally
from engine.cases.checks import MAX_CASE_BYTES
from engine.cases.load import parse_case, parse_jsonl_line
from engine.cases.quick import quick_reader, source_loc
from engine.cases.redate import redated
from engine.errors import AdjudicationError, CaseFileError, EngineError
from engine.model import Case, DeclaredFields, SourceLoc
from engine.rules.program import Program
from engine.ruling import Ruling
from engine.run.params import Resolved, policy_timezone
from engine.run.scoring import BLOCK, EngineName, Scored, Scorer

__all__ = [
    "CrashHook",
    "atomic_writer",
    "case_id_of",
    "disagreements_path",
    "Job",
    "ShardOutcome",
    "error_row",
    "jsonl_row",
    "install_programs",
    "quarantine_path",
    "results_path",
    "score_shard",
    "scorer_for",
    "stats_path",
]

Mode = Literal["score", "impact"]
WRITE_LINES = 512  # result lines joined into one write


@dataclass(frozen=True, slots=True, kw_only=True)
class CrashHook:
    """TEST HOOK, not for production use: the worker scoring a case whose id is in
    ``case_ids`` kills itself with SIGKILL, as a segfault of durable_rules would. With
    ``once_dir`` it does so only the first time (a marker file per case id is left there)."""

    case_ids: frozenset[str]
    once_dir: str | None = None
    segfault: bool = False  # crash durable_rules' C core for real instead of SIGKILL

    def maybe_kill(self, case_id: str) -> None:
        if case_id not in self.case_ids:
            return
        if self.once_dir is not None:
            marker = os.path.join(self.once_dir, re.sub(r"[^\w.-]", "_", case_id))
            try:
                with open(marker, "x"):
                    pass
            except FileExistsError:
                return
        if self.segfault:
            from engine.compile.host import crash_durable_rules

            crash_durable_rules()
        os.kill(os.getpid(), signal.SIGKILL)


@dataclass(frozen=True, slots=True, kw_only=True)
class Job:
    """What every shard of a run shares. ``rules`` are digests of programs installed in the
    worker: one to score, or the old and the new one to compare."""

    out: str
    mode: Mode
    engine: EngineName
    rules: tuple[str, ...]
    storage_options: tuple[tuple[str, Any], ...] = ()
    hook: CrashHook | None = None
    as_of: str | None = None  # impact: every case moved to this day, its intervals kept


@dataclass(frozen=True, slots=True, kw_only=True)
class ShardOutcome:
    shard_id: str
    cases: int
    lines: int
    seconds: float
    pid: int


_PROGRAMS: dict[str, Program] = {}
_SCORERS: dict[tuple[str, str], Scorer] = {}
_RESPONSIBILITY: dict[tuple[str, str], Responsibility] = {}


def responsibility(old: Program, new: Program) -> Responsibility:
    """What changed between two installed programs, worked out once per process."""
    key = (old.digest, new.digest)
    found = _RESPONSIBILITY.get(key)
    if found is None:
        found = _RESPONSIBILITY[key] = Responsibility(old, new)
    return found


def _params(scorer: Scorer, case: Case) -> Resolved | None:
    try:
        return scorer.plan.parameters(case.platform, case.dispute.intervention_requested_at)
    except EngineError:
        return None


def install_programs(programs: Iterable[Program]) -> None:
    """Make programs available to this process's scorers (idempotent)."""
    for program in programs:
        _PROGRAMS.setdefault(program.digest, program)


def scorer_for(digest: str, engine: EngineName) -> Scorer:
    """This process's Scorer for a program and an engine, built on first use."""
    key = (digest, engine)
    scorer = _SCORERS.get(key)
    if scorer is None:
        program = _PROGRAMS.get(digest)
        if program is None:
            raise RuntimeError(f"rules {digest} were not installed in worker process {os.getpid()}")
        scorer = _SCORERS[key] = Scorer(program, engine)
    return scorer


def results_path(out: str, shard_id: str) -> str:
    return f"{out.rstrip('/')}/shards/{shard_id}.jsonl"


def stats_path(out: str, shard_id: str) -> str:
    return f"{out.rstrip('/')}/shards/{shard_id}.stats.json"


def disagreements_path(out: str, shard_id: str) -> str:
    # JSON Lines, but not named *.jsonl: shards/*.jsonl are the results, one line per case
    return f"{out.rstrip('/')}/shards/{shard_id}.disagreements"


def quarantine_path(out: str, shard_id: str) -> str:
    return f"{out.rstrip('/')}/shards/{shard_id}.quarantined.jsonl"


def error_row(case_id: str | None, source: str, kind: str, message: str) -> bytes:
    """An error object (CONTRACT.md): the output line (with its newline) of an input that was
    not scored."""
    body = {"case_id": case_id, "source": source, "error": {"type": kind, "message": message}}
    return jsonl_row(body)


def jsonl_row(data: Mapping[str, Any]) -> bytes:
    """One line of a JSON Lines output file: compact UTF-8 JSON and its newline."""
    return orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE)


def score_shard(shard: Shard, job: Job) -> ShardOutcome:
    """Score one shard and write its results and counts atomically; return the counts."""
    started = time.perf_counter()
    options = dict(job.storage_options)
    scorers = [scorer_for(digest, job.engine) for digest in job.rules]
    tally: Tally | ImpactTally = Tally() if job.mode == "score" else ImpactTally()
    with atomic_writer(results_path(job.out, shard.id), options) as results:
        if _plain(shard, job) and isinstance(tally, Tally):
            lines = _plain_lines(shard, job, options, scorers[0], tally)
        else:
            lines = _lines(read_shard(shard, options), job, scorers, tally)
        size = 0
        while chunk := b"".join(islice(lines, WRITE_LINES)):  # few writes: fsspec's cost
            results.write(chunk)
            size += len(chunk)
        if isinstance(tally, Tally) and tally.disagreements:  # the driver concatenates them
            rows = b"".join(map(jsonl_row, tally.disagreements))
            write_atomic(disagreements_path(job.out, shard.id), rows, options)
        # the size lets the driver check the results without reading them back
        stats = {"shard": shard.id, "mode": job.mode, "tally": tally.to_json(), "bytes": size}
        # before the results are in place: a shard with results always has its stats
        write_atomic(stats_path(job.out, shard.id), orjson.dumps(stats), options)
    quarantined_fs, quarantined = open_fs(quarantine_path(job.out, shard.id), options)
    if quarantined_fs.exists(quarantined):  # an earlier run gave up on it; now it is done
        quarantined_fs.rm(quarantined)
    return ShardOutcome(
        shard_id=shard.id,
        cases=tally.cases,
        lines=tally.lines,
        seconds=time.perf_counter() - started,
        pid=os.getpid(),
    )


def _lines(
    entries: Iterable[Entry], job: Job, scorers: list[Scorer], tally: Tally | ImpactTally
) -> Iterator[bytes]:
    """One row for each entry, in order: its error row, else its case scored (with each
    program, in impact mode, and compared). The cases are scored in blocks of ``BLOCK``
    (``Scorer.score_many``); a row that needs no scoring waits for the block before it."""
    # the case fields each program declares: a case is read as each program reads it, so a
    # field only the new rules declare makes it an error under the old ones (an impact change)
    declared = [scorer.program.declared_fields() for scorer in scorers]
    one_reading = all(fields == declared[0] for fields in declared)
    as_of_tz = policy_timezone(scorers[-1].program) if job.as_of else None

    def read_entry(entry: Entry) -> _Read | bytes:
        """The entry's case as each program reads it, or its error row."""
        if entry.error is not None or (entry.raw is None and not entry.bundle):
            error = entry.error or CaseFileError([])
            return error_row(None, str(error.loc or entry.loc), "CaseFileError", str(error))
        if entry.bundle:  # read with each program's own reading declarations and fields
            readings = [_bundle(entry, scorer) for scorer in scorers[: 1 if one_reading else None]]
        else:
            readings = [
                _read(entry, fields) for fields in (declared[:1] if one_reading else declared)
            ]
        if job.as_of and as_of_tz is not None:
            readings = [
                redated(read, job.as_of, as_of_tz) if isinstance(read, Case) else read
                for read in readings
            ]
        case = next((read for read in readings if isinstance(read, Case)), None)
        if case is None:
            exc = readings[0]
            assert isinstance(exc, CaseFileError)
            return error_row(
                case_id_of(entry.raw), str(exc.loc or entry.loc), "CaseFileError", str(exc)
            )
        return _Read(case, readings, case.source or entry.loc)

    block: list[_Read] = []
    for entry in entries:
        read = read_entry(entry)
        if isinstance(read, _Read):
            if job.hook is not None:
                job.hook.maybe_kill(read.case.case_id)
            block.append(read)
            if len(block) < BLOCK:
                continue
            yield from _block_rows(block, scorers, tally)
        else:
            yield from _block_rows(block, scorers, tally)
            tally.add_error("CaseFileError")
            yield read
        block = []
    yield from _block_rows(block, scorers, tally)


@dataclass(frozen=True, slots=True)
class _Read:
    """A case read for ``_lines``: as each program reads it (one reading when they read it
    alike; a CaseFileError where one cannot), and its place."""

    case: Case
    readings: list[Case | CaseFileError]
    where: SourceLoc


def _block_rows(
    block: list[_Read], scorers: list[Scorer], tally: Tally | ImpactTally
) -> Iterator[bytes]:
    """The rows of a block of cases read by ``_lines``, scored together."""
    if not block:
        return
    if isinstance(tally, Tally):
        yield from _scored_rows(scorers[0], [(read.case, read.where) for read in block], tally)
        return
    explained = responsibility(scorers[0].program, scorers[1].program)
    # the old rules score each case's first reading, the new ones its last (the same one
    # when both programs read it alike)
    olds = _rulings(scorers[0], [read.readings[0] for read in block])
    news = _rulings(scorers[1], [read.readings[-1] for read in block])
    for read, old, new in zip(block, olds, news, strict=True):
        case = read.case

        def responsible(case: Case = case, old: Any = old, new: Any = new) -> list[str]:
            params = (_params(scorers[0], case), _params(scorers[1], case))
            return explained.explain(case, old, new, params)

        row = compare_rulings(case, old, new, responsible)
        line, written = _row_or_error(read.where, row)
        if written:
            tally.add(case, row)
        else:
            tally.add_error("InternalJSONEncodeError")
        yield line


def _rulings(scorer: Scorer, readings: list[Case | CaseFileError]) -> list[Any]:
    """Each reading's Ruling, or the exception that stopped it (a CaseFileError as is): the
    cases scored together (``Scorer.score_many``)."""
    cases = [read for read in readings if isinstance(read, Case)]
    scored = iter(scorer.score_many(cases, trace=False, block=max(len(cases), 1)))
    results: list[Any] = []
    for read in readings:
        if isinstance(read, Case):
            result = next(scored)
            results.append(result.ruling if isinstance(result, Scored) else result)
        else:
            results.append(read)
    return results


def _plain(shard: Shard, job: Job) -> bool:
    """Whether the shard is the common case ``_plain_lines`` reads: JSON Lines scored with one
    program, not moved in time, without a test hook."""
    return (
        shard.kind == "jsonl"
        and job.mode == "score"
        and len(job.rules) == 1
        and not job.as_of
        and job.hook is None
    )


def _plain_lines(
    shard: Shard, job: Job, options: Mapping[str, Any], scorer: Scorer, tally: Tally
) -> Iterator[bytes]:
    """``_lines`` for a shard ``_plain`` takes: the lines the fast path reads (quick_reader,
    worked out once for the shard) are scored in blocks (``Scorer.score_many``); every other
    input (a line it leaves, one over the limit, a read error) goes through ``_lines`` as an
    Entry, after the block before it, so that the rows keep the shard's order."""
    source, fields = shard.source, scorer.program.declared_fields()
    quick = quick_reader(fields)
    block: list[tuple[Case, SourceLoc]] = []
    for line, raw, error in read_lines(shard, options):
        if raw is not None and len(raw) <= MAX_CASE_BYTES:
            loc = source_loc(source, line)
            case = quick(raw, loc)
            if case is not None:
                block.append((case, loc))
                if len(block) >= BLOCK:
                    yield from _scored_rows(scorer, block, tally)
                    block = []
                continue
        if block:
            yield from _scored_rows(scorer, block, tally)
            block = []
        entry = Entry(source=source, line=line, raw=raw, error=error)
        yield from _lines((entry,), job, [scorer], tally)
    if block:
        yield from _scored_rows(scorer, block, tally)


def _scored_rows(
    scorer: Scorer, block: list[tuple[Case, SourceLoc]], tally: Tally
) -> Iterator[bytes]:
    """The rows of a block of cases (with their places), scored together."""
    results = scorer.score_many((case for case, _ in block), trace=False, block=len(block))
    for (case, where), result in zip(block, results, strict=True):
        yield _row(case, where, result.ruling if isinstance(result, Scored) else result, tally)


def _row(case: Case, where: SourceLoc, result: Ruling | Exception, tally: Tally) -> bytes:
    if isinstance(result, Exception):
        tally.add_error(type(result).__name__)
        return error_row(case.case_id, str(where), *_describe(result))
    line, written = _row_or_error(where, result.as_dict())
    if written:
        tally.add_ruling(case, result)
    else:
        tally.add_error("InternalJSONEncodeError")
    return line


def _row_or_error(where: SourceLoc, data: Mapping[str, Any]) -> tuple[bytes, bool]:
    """The row of ``data`` and True; if it cannot be written (text no UTF-8 writer can encode,
    which the loader refuses before), the case's error row (at ``where``) and False: one case
    never stops a shard."""
    try:
        return jsonl_row(data), True
    except orjson.JSONEncodeError as exc:
        source = str(where)
        return error_row(None, source, "InternalJSONEncodeError", f"{source}: {exc}"), False


def _describe(exc: Exception) -> tuple[str, str]:
    kind = (
        type(exc).__name__
        if isinstance(exc, AdjudicationError)
        else f"Internal{type(exc).__name__}"
    )
    return kind, str(exc) or kind


def _bundle(entry: Entry, scorer: Scorer) -> Case | CaseFileError:
    """A bundle's case, its files read as ``scorer``'s rules declare, or why it cannot be."""
    from engine.evidence.case import load_cases_with_bundles

    return next(iter(load_cases_with_bundles([entry.source], scorer.program)))


def _read(entry: Entry, fields: DeclaredFields) -> Case | CaseFileError:
    """The entry's case as rules declaring ``fields`` read it, or why it cannot be read."""
    assert entry.raw is not None
    try:
        if entry.line:
            return parse_jsonl_line(entry.raw, source=entry.source, line=entry.line, fields=fields)
        fmt: Literal["yaml", "json"] = "json" if entry.source.lower().endswith(".json") else "yaml"
        return parse_case(entry.raw, source=entry.source, fmt=fmt, fields=fields)
    except CaseFileError as exc:
        return exc


_CASE_ID = re.compile(rb'(?:^|[{,\n])\s*"?case_id"?\s*:\s*"?([^",}\n]+)')


def case_id_of(raw: bytes | None) -> str | None:
    """The case id of an input that failed validation, when one can be read off its text."""
    match = _CASE_ID.search(raw or b"")
    if match is None:
        return None
    return match.group(1).decode("utf-8", "replace").strip().strip("'\"") or None


@contextmanager
def _atomic(fs: Any, path: str) -> Iterator[IO[bytes]]:
    """Write ``path`` all at once: into a temporary file beside it, then renamed over it."""
    parent = path.rsplit("/", 1)[0]
    fs.makedirs(parent, exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with fs.open(tmp, "wb") as stream:
            yield stream
        if isinstance(fs, LocalFileSystem):
            os.replace(tmp, path)
        else:
            fs.mv(tmp, path)
    except BaseException:
        try:
            fs.rm(tmp)
        except OSError:
            pass
        raise


def write_atomic(url: str, data: bytes, storage_options: Mapping[str, Any] | None = None) -> None:
    """Write a whole file atomically (temporary file + rename)."""
    with atomic_writer(url, storage_options) as stream:
        stream.write(data)


@contextmanager
def atomic_writer(
    url: str, storage_options: Mapping[str, Any] | None = None
) -> Iterator[IO[bytes]]:
    """A stream whose file appears, whole, when the block ends without an exception."""
    fs, path = open_fs(url, storage_options)
    with _atomic(fs, path) as stream:
        yield stream
