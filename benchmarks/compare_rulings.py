"""Compare two batch output folders byte for byte: the rulings must not change with speed work.

    PYTHONPATH=. .venv/bin/python benchmarks/compare_rulings.py /tmp/bench/before /tmp/bench/after

Shard by shard (``shards/*.jsonl``: one ruling/1 or error object per input line), line by line,
byte for byte; then each shard's ``.disagreements`` file, its tally (``.stats.json``) and the
run's ``summary.json`` and ``disagreements.jsonl``. Prints the number of lines compared and the
first differences (case id, line, a short diff of the two lines); exits 1 on any difference
(or a shard in one folder only), 0 when the folders agree.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path

_SHOWN = 10  # differences printed in full


def _case_id(line: bytes) -> str:
    try:
        return str(json.loads(line).get("case_id"))
    except (ValueError, AttributeError):
        return "?"


def _short_diff(old: bytes, new: bytes, width: int = 60) -> str:
    """Where two lines part: the first differing stretch of each, with a little context."""
    a, b = old.decode("utf-8", "replace"), new.decode("utf-8", "replace")
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            start = max(0, i1 - 20)
            return (
                f"      before: ...{a[start : i2 + 20][:width]!r}\n"
                f"      after:  ...{b[max(0, j1 - 20) : j2 + 20][:width]!r}"
            )
    return "      (the lines differ only in their line ending)"


def compare_lines(name: str, old: Path, new: Path, shown: list[str]) -> tuple[int, int]:
    """(lines compared, lines that differ) of two JSON Lines files; differences into ``shown``."""
    a, b = old.read_bytes().split(b"\n"), new.read_bytes().split(b"\n")
    differ = 0
    if len(a) != len(b):  # the lines after a missing one all differ: say so first
        shown.append(f"{name}: {len(a) - 1:,} lines before, {len(b) - 1:,} after")
    for n in range(max(len(a), len(b))):
        left = a[n] if n < len(a) else None
        right = b[n] if n < len(b) else None
        if left == right:
            continue
        differ += 1
        if len(shown) >= _SHOWN:
            continue
        if left is None or right is None:
            extra = right if left is None else left
            where = "after" if left is None else "before"
            shown.append(f"{name}:{n + 1}: only {where}: case {_case_id(extra or b'')}")
        else:
            case = _case_id(left)
            shown.append(f"{name}:{n + 1}: case {case}\n{_short_diff(left, right)}")
    lines = max(len(a), len(b)) - (1 if a[-1:] == [b""] and b[-1:] == [b""] else 0)
    return lines, differ


def _tally(path: Path) -> object:
    data = json.loads(path.read_bytes())
    return data.get("tally", data)


def compare(before: Path, after: Path) -> tuple[int, int, list[str]]:
    """(result lines compared, differences, the first differences described)."""
    shown: list[str] = []
    lines = differ = 0
    old = {p.name for p in (before / "shards").iterdir()}
    new = {p.name for p in (after / "shards").iterdir()}
    for name in sorted(old ^ new):
        if name.endswith((".jsonl", ".disagreements", ".stats.json")):
            differ += 1
            where = "before" if name in old else "after"
            shown.append(f"shards/{name}: only {where}")
    for name in sorted(old & new):
        a, b = before / "shards" / name, after / "shards" / name
        if name.endswith(".jsonl"):
            counted, bad = compare_lines(f"shards/{name}", a, b, shown)
            lines += counted
            differ += bad
        elif name.endswith(".disagreements"):
            differ += compare_lines(f"shards/{name}", a, b, shown)[1]
        elif name.endswith(".stats.json") and _tally(a) != _tally(b):
            differ += 1
            shown.append(f"shards/{name}: the tallies differ")
    for name in ("disagreements.jsonl", "summary.json"):
        a, b = before / name, after / name
        if a.exists() != b.exists():
            differ += 1
            shown.append(f"{name}: only {'before' if a.exists() else 'after'}")
        elif a.exists() and name.endswith(".jsonl"):
            differ += compare_lines(name, a, b, shown)[1]
        elif a.exists() and _summary(a) != _summary(b):
            differ += 1
            shown.append(f"{name}: differs")
    return lines, differ, shown


def _summary(path: Path) -> object:
    data = json.loads(path.read_bytes())
    if isinstance(data, dict):  # where and when the run was made are not its results
        data = {k: v for k, v in data.items() if k not in ("run", "out", "seconds", "timing")}
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("before", type=Path, help="a batch output folder (the reference)")
    parser.add_argument("after", type=Path, help="a batch output folder to check against it")
    args = parser.parse_args(argv)
    for folder in (args.before, args.after):
        if not (folder / "shards").is_dir():
            print(f"{folder}: not a batch output folder (no shards/)", file=sys.stderr)
            return 2
    lines, differ, shown = compare(args.before, args.after)
    print(f"{lines:,} result lines compared; {differ:,} differences")
    for item in shown:
        print(f"  {item}")
    if differ > len(shown):
        print(f"  ... and {differ - len(shown):,} more")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
