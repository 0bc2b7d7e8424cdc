"""Archive -> shards: the inputs of a batch run cut into units of work with stable ids.

An archive is any mix of folders of case files (.yaml, .yml, .json), JSON Lines files (.jsonl,
.jsonl.gz) and glob patterns, as local paths or fsspec URLs (``s3://``, ``memory://``, ...).
Every input case gets a stable address: ``source:line`` for JSON Lines, the file's URL for a
case file. A shard is a run of those addresses:

* a plain .jsonl file is cut into byte ranges of ``shard_cases`` lines (the planner scans it once
  for line starts, so every line keeps its number);
* a .jsonl.gz file is one shard (gzip cannot be entered in the middle);
* the case files of a folder are taken in name order, ``shard_cases`` files a shard;
* bundles (a local folder with case.yaml, or a .zip; ``engine.evidence.bundle``), given as
  inputs or found in a folder, are taken in name order, ``BUNDLES_PER_SHARD`` a shard (reading
  their files is slow).

A shard's id is derived from what it covers, so the same inputs give the same ids on every run:
that is what resuming relies on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import fsspec
from fsspec.implementations.local import LocalFileSystem

from engine.cases.checks import MAX_CASE_BYTES
from engine.cases.lines import bounded_lines
from engine.cases.load import oversized_line
from engine.errors import CaseFileError, Problem
from engine.evidence.bundle import is_bundle
from engine.model import SourceLoc

__all__ = [
    "Archive",
    "Entry",
    "Line",
    "Shard",
    "open_fs",
    "plan_archive",
    "read_lines",
    "read_shard",
]

CASE_FILES = (".yaml", ".yml", ".json")
BUNDLES_PER_SHARD = 64  # reading a bundle's files takes seconds: small shards
JSONL = (".jsonl", ".jsonl.gz")
_SCAN_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True, kw_only=True)
class Shard:
    """One unit of work: a byte range of a JSON Lines file, or a list of case files."""

    id: str
    kind: Literal["jsonl", "files", "bundles"]
    source: str  # the JSON Lines file, or the folder the case files are in
    first_line: int = 1  # jsonl: the number of the line at byte ``start``
    start: int = 0  # jsonl: byte offset of the first line
    stop: int = -1  # jsonl: byte offset past the last line; -1 = to the end of the file
    files: tuple[str, ...] = ()  # files: the case files, in order; bundles: the bundles
    cases: int | None = None  # inputs it holds (non-blank lines or files); None = unknown (gzip)


@dataclass(frozen=True, slots=True, kw_only=True)
class Archive:
    inputs: tuple[str, ...]
    shards: tuple[Shard, ...]

    @property
    def known_cases(self) -> int | None:
        """Total inputs when every shard knows its count (not with .jsonl.gz)."""
        counts = [s.cases for s in self.shards]
        return None if any(c is None for c in counts) else sum(c or 0 for c in counts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One input of a shard: its address, and its bytes or why they could not be read."""

    source: str  # a file's URL, or a JSON Lines file's URL
    line: int  # 1-based line in a JSON Lines file; 0 for a case file
    raw: bytes | None
    error: CaseFileError | None = None
    bundle: bool = False  # source is a bundle: read it with engine.evidence.case

    @property
    def loc(self) -> SourceLoc:
        return SourceLoc(path=self.source, line=self.line)


def open_fs(url: str, storage_options: Mapping[str, Any] | None = None) -> tuple[Any, str]:
    """(filesystem, path inside it) for a local path or an fsspec URL."""
    fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
    return fs, path


def _url(fs: Any, path: str) -> str:
    """The URL of ``path`` on ``fs``: a plain path locally, protocol://path elsewhere."""
    if isinstance(fs, LocalFileSystem):
        return str(path)
    return str(fs.unstrip_protocol(path))


def _wanted(name: str) -> bool:
    lower = name.lower()
    return lower.endswith((*CASE_FILES, *JSONL)) and not lower.endswith(".expected.yaml")


def plan_archive(
    inputs: Sequence[str],
    *,
    shard_cases: int = 5000,
    storage_options: Mapping[str, Any] | None = None,
) -> Archive:
    """Cut the inputs into shards. Raise CaseFileError for an input that does not exist or
    holds no case files (every such input is listed)."""
    if shard_cases < 1:
        raise ValueError("shard_cases must be at least 1")
    shards: list[Shard] = []
    problems: list[Problem] = []
    for url in inputs:
        fs, path = open_fs(url, storage_options)
        bundles = _bundles(fs, path)
        for n in range(0, len(bundles), BUNDLES_PER_SHARD):
            batch = tuple(bundles[n : n + BUNDLES_PER_SHARD])
            label = f"bundles{n // BUNDLES_PER_SHARD:05d}"
            shards.append(
                Shard(
                    id=_shard_id(url, "\n".join(batch), label=label),
                    kind="bundles",
                    source=url,
                    files=batch,
                    cases=len(batch),
                )
            )
        if bundles and is_bundle(path):
            continue
        found = list(_expand(fs, path))
        if not found and not bundles:
            hint = "give a folder of .yaml/.json case files, a .jsonl or .jsonl.gz file"
            problems.append(Problem(SourceLoc(path=url), "no case files found", hint=hint))
            continue
        files = [p for p in found if p.lower().endswith(CASE_FILES)]
        for p in found:
            if p.lower().endswith(".jsonl"):
                shards.extend(_jsonl_shards(fs, p, shard_cases))
            elif p.lower().endswith(".jsonl.gz"):
                source = _url(fs, p)
                shards.append(Shard(id=_shard_id(source, "gz"), kind="jsonl", source=source))
        for n in range(0, len(files), shard_cases):
            batch = tuple(_url(fs, p) for p in files[n : n + shard_cases])
            folder = _url(fs, files[n].rsplit("/", 1)[0])
            key = "\n".join(batch)
            shards.append(
                Shard(
                    id=_shard_id(folder, key, label=f"files{n // shard_cases:05d}"),
                    kind="files",
                    source=folder,
                    files=batch,
                    cases=len(batch),
                )
            )
    if problems:
        raise CaseFileError(problems)
    seen: set[str] = set()
    unique = []
    for shard in shards:  # the same file named twice is read once
        if shard.id not in seen:
            seen.add(shard.id)
            unique.append(shard)
    return Archive(inputs=tuple(inputs), shards=tuple(unique))


def _bundles(fs: Any, path: str) -> list[str]:
    """Bundles on the local disk: ``path`` itself, or the bundles directly inside it."""
    if not isinstance(fs, LocalFileSystem) or any(ch in path for ch in "*?["):
        return []
    if is_bundle(path):
        return [str(path)]
    if not fs.isdir(path):
        return []
    return sorted(str(c) for c in fs.ls(path, detail=False) if is_bundle(c))


def _expand(fs: Any, path: str) -> Iterator[str]:
    if any(ch in path for ch in "*?["):
        for match in sorted(fs.glob(path)):
            if fs.isdir(match):
                yield from _expand(fs, match)
            elif _wanted(match):
                yield match
        return
    if not fs.exists(path):
        return
    if fs.isdir(path):
        children = sorted(fs.ls(path, detail=False))
        yield from (c for c in children if _wanted(c) and fs.isfile(c))
    else:
        yield path


def _jsonl_shards(fs: Any, path: str, shard_cases: int) -> Iterator[Shard]:
    """Byte ranges of ``shard_cases`` non-blank lines each, found by one scan of the file."""
    source = _url(fs, path)
    start, first_line, line, count, offset = 0, 1, 0, 0, 0
    pending = b""
    with fs.open(path, "rb") as stream:
        while chunk := stream.read(_SCAN_CHUNK):
            data = pending + chunk
            base = offset - len(pending)
            cursor = 0
            while (end := data.find(b"\n", cursor)) >= 0:
                line += 1
                if data[cursor:end].strip():
                    count += 1
                cursor = end + 1
                if count == shard_cases:
                    stop = base + cursor
                    yield _range_shard(source, first_line, start, stop, count)
                    start, first_line, count = stop, line + 1, 0
            pending = data[cursor:]
            offset += len(chunk)
    if pending.strip():
        count += 1
    if count:
        yield _range_shard(source, first_line, start, offset, count)


def _range_shard(source: str, first_line: int, start: int, stop: int, cases: int) -> Shard:
    return Shard(
        id=_shard_id(source, f"{start}-{stop}", label=f"L{first_line}"),
        kind="jsonl",
        source=source,
        first_line=first_line,
        start=start,
        stop=stop,
        cases=cases,
    )


def _shard_id(source: str, key: str, *, label: str = "") -> str:
    name = source.rstrip("/").rsplit("/", 1)[-1] or "archive"
    for suffix in (".jsonl.gz", ".jsonl"):
        name = name.removesuffix(suffix)
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)[:40].strip("._") or "archive"
    digest = hashlib.sha256(f"{source}\n{key}".encode()).hexdigest()[:10]
    return "-".join(part for part in (slug, label, digest) if part)


def read_shard(shard: Shard, storage_options: Mapping[str, Any] | None = None) -> Iterator[Entry]:
    """The inputs of one shard in order: one Entry per non-blank line or per case file.

    A file that cannot be read (or a gzip stream that breaks off) gives one Entry carrying the
    error, at the line where reading stopped, and the shard goes on with its next file.
    """
    if shard.kind == "files":
        for url in shard.files:
            yield _read_file(url, storage_options)
        return
    if shard.kind == "bundles":
        for path in shard.files:
            yield Entry(source=path, line=0, raw=None, bundle=True)
        return
    yield from _read_lines(shard, storage_options)


def _read_file(url: str, storage_options: Mapping[str, Any] | None) -> Entry:
    try:
        fs, path = open_fs(url, storage_options)
        with fs.open(path, "rb") as stream:
            return Entry(source=url, line=0, raw=stream.read())
    except OSError as exc:
        return Entry(source=url, line=0, raw=None, error=_unreadable(url, 0, exc))


def _read_lines(shard: Shard, storage_options: Mapping[str, Any] | None) -> Iterator[Entry]:
    for line, raw, error in read_lines(shard, storage_options):
        yield Entry(source=shard.source, line=line, raw=raw, error=error)


Line = tuple[int, bytes | None, CaseFileError | None]


def read_lines(shard: Shard, storage_options: Mapping[str, Any] | None = None) -> Iterator[Line]:
    """The inputs of a JSON Lines shard as ``read_shard`` gives them, without an Entry each:
    ``(line, raw, None)`` for a non-blank line, ``(line, None, error)`` for one over the limit
    or where reading stopped (every Entry's source is ``shard.source``)."""
    line = shard.first_line - 1
    try:
        fs, path = open_fs(shard.source, storage_options)
        gz = shard.source.lower().endswith(".gz")
        with fs.open(path, "rb", compression="gzip" if gz else None) as stream:
            if shard.start:
                stream.seek(shard.start)
            position = shard.start
            for raw, size in bounded_lines(stream, MAX_CASE_BYTES):
                line += 1
                position += size
                if raw is None:  # never held whole: a bomb's line costs at most the limit
                    yield line, None, oversized_line(shard.source, line, size)
                elif not raw.isspace():  # the same ASCII whitespace as bytes.strip()
                    yield line, raw, None
                if 0 <= shard.stop <= position:
                    break
    except Exception as exc:  # OSError, EOFError, zlib.error: a broken stream is one error row
        yield line + 1, None, _unreadable(shard.source, line + 1, exc)


def _unreadable(source: str, line: int, exc: BaseException) -> CaseFileError:
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    loc = SourceLoc(path=source, line=line)
    return CaseFileError([Problem(loc, f"cannot read the file: {reason}")])
