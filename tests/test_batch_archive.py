"""Archives cut into shards: every input line or file has one stable address in one shard."""

from __future__ import annotations

from pathlib import Path

import fsspec
import pytest
from batchdata import case_lines, write_jsonl
from conftest import CASEFILES

from engine.batch.archive import plan_archive, read_shard
from engine.errors import CaseFileError


def _addresses(archive) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    return [(e.source, e.line) for s in archive.shards for e in read_shard(s)]


def test_a_jsonl_file_is_cut_into_ranges_that_cover_every_line_once(tmp_path: Path) -> None:
    lines = case_lines(25)
    lines[3] = ""  # a blank line is not a case
    path = tmp_path / "a.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")  # no newline after the last line
    archive = plan_archive([str(path)], shard_cases=7)
    assert [s.cases for s in archive.shards] == [7, 7, 7, 3]
    assert archive.known_cases == 24
    expected = [(str(path), n) for n in range(1, 26) if n != 4]
    assert _addresses(archive) == expected
    raws = [e.raw for s in archive.shards for e in read_shard(s)]
    assert [r.rstrip(b"\n") for r in raws if r] == [ln.encode() for ln in lines if ln]


def test_shard_ids_are_stable_and_name_what_they_cover(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "cases.jsonl", case_lines(10))
    first = [s.id for s in plan_archive([str(path)], shard_cases=4).shards]
    again = [s.id for s in plan_archive([str(path)], shard_cases=4).shards]
    other = [s.id for s in plan_archive([str(path)], shard_cases=5).shards]
    assert first == again
    assert len(set(first)) == 3 and not set(first) & set(other)
    assert first[0].startswith("cases-L1-") and first[1].startswith("cases-L5-")


def test_a_gzip_file_is_one_shard_of_unknown_size(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl.gz", case_lines(12), gz=True)
    archive = plan_archive([str(path)], shard_cases=5)
    assert len(archive.shards) == 1 and archive.known_cases is None
    assert [e.line for e in read_shard(archive.shards[0])] == list(range(1, 13))


def test_a_folder_of_case_files_is_batched_without_golden_expectations() -> None:
    archive = plan_archive([str(CASEFILES)], shard_cases=30)
    files = sorted(
        str(p) for p in CASEFILES.glob("*.yaml") if not p.name.endswith(".expected.yaml")
    )
    sizes = [min(30, len(files) - start) for start in range(0, len(files), 30)]
    assert [s.cases for s in archive.shards] == sizes
    assert _addresses(archive) == [(f, 0) for f in files]


def test_fsspec_urls_are_read_like_local_files() -> None:
    fs = fsspec.filesystem("memory")
    fs.pipe("/arch/x.jsonl", "".join(line + "\n" for line in case_lines(5)).encode())
    archive = plan_archive(["memory://arch/"], shard_cases=2)
    assert [(s.source, s.cases) for s in archive.shards] == [("memory:///arch/x.jsonl", 2)] * 2 + [
        ("memory:///arch/x.jsonl", 1)
    ]
    assert [e.line for s in archive.shards for e in read_shard(s)] == [1, 2, 3, 4, 5]


def test_gzip_archives_are_inflated_with_isa_l(tmp_path: Path) -> None:
    # pyproject's isal: fsspec, which opens every shard, inflates .gz with ISA-L when it is
    # installed (2.7x faster than zlib: ~3 µs a case of a million-case run); zlib otherwise
    from isal import igzip

    path = write_jsonl(tmp_path / "a.jsonl.gz", case_lines(3), gz=True)
    with fsspec.open(str(path), "rb", compression="gzip") as stream:
        assert isinstance(stream, igzip.IGzipFile)
        assert stream.read().count(b"\n") == 3


def test_a_truncated_gzip_file_ends_in_one_located_error(tmp_path: Path) -> None:
    whole = write_jsonl(tmp_path / "a.jsonl.gz", case_lines(50), gz=True).read_bytes()
    (tmp_path / "a.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    entries = list(read_shard(plan_archive([str(tmp_path)]).shards[0]))
    assert all(e.raw for e in entries[:-1]) and entries[-1].raw is None
    last = entries[-1]
    assert last.error is not None and f"{tmp_path / 'a.jsonl.gz'}:{last.line}: cannot read" in str(
        last.error
    )


def test_inputs_without_cases_are_all_named(tmp_path: Path) -> None:
    with pytest.raises(CaseFileError) as caught:
        plan_archive([str(tmp_path / "nope"), str(tmp_path)])
    assert str(caught.value).splitlines()[0] == f"{tmp_path / 'nope'}: no case files found"
    assert len(caught.value.problems) == 2
