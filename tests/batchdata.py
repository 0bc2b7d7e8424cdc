"""Small archives for the batch tests, made with the benchmark's seeded generator."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from make_archive import generate  # noqa: E402


def case_lines(
    count: int, *, seed: int = 7, shard: int = 0, invalid_rate: float = 0.0
) -> list[str]:
    return generate(seed, shard, count, first=shard * 100_000, invalid_rate=invalid_rate)


def archive_cases(program: Any, count: int, *, seed: int) -> list[Any]:
    """The generated lines' cases as ``program`` reads them (lines it refuses left out)."""
    from engine.cases.load import parse_jsonl_line
    from engine.errors import CaseFileError

    fields = program.declared_fields()
    cases = []
    for n, line in enumerate(case_lines(count, seed=seed, invalid_rate=0.0)):
        try:
            cases.append(parse_jsonl_line(line.encode(), source="a", line=n + 1, fields=fields))
        except CaseFileError:
            continue
    return cases


def write_jsonl(path: Path, lines: list[str], *, gz: bool = False) -> Path:
    data = "".join(line + "\n" for line in lines).encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def output_lines(out: Path) -> list[dict]:
    """Every result and quarantine line of a run's output folder."""
    rows = []
    for path in sorted((out / "shards").glob("*.jsonl")):
        rows.extend(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return rows
