"""Case files (casefile/1: YAML, JSON, JSON Lines) -> Case: the first stage of the pipeline.

Text is read into located data (engine.cases.text), then checked against the contract and the
fields the rules declare (engine.cases.checks).
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Literal

import yaml

from engine.cases.checks import MAX_CASE_BYTES, ONE_CASE, check_case
from engine.cases.lines import bounded_lines
from engine.cases.quick import quick_case, source_loc
from engine.cases.text import (
    SURROGATE_HINT,
    Locate,
    Locator,
    Marks,
    decode,
    dotted_path,
    load_json,
    load_yaml,
    located_error,
    lone_surrogates,
    prefixed,
)
from engine.errors import CaseFileError, Problem
from engine.model import Case, DeclaredFields, SourceLoc

__all__ = [
    "case_from_data",
    "iter_jsonl",
    "load_case",
    "load_cases",
    "oversized_line",
    "parse_case",
    "parse_jsonl_line",
]

_FORMATS: dict[str, Literal["yaml", "json"]] = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
_JSONL = (".jsonl", ".jsonl.gz")

if not getattr(yaml, "__with_libyaml__", False):  # pragma: no cover - depends on the install
    raise ImportError("engine.cases.load needs PyYAML built with libyaml (yaml.CSafeLoader)")


# --- public API ---------------------------------------------------------------------------------


def case_from_data(
    data: object,
    *,
    source: str,
    locate: Locate | None = None,
    fields: DeclaredFields | None = None,
) -> Case:
    """Validate an already-parsed case against casefile/1; raise CaseFileError listing every
    problem. ``locate`` maps a field path such as ``("evidence", 2, "submitted_at")`` to its place
    in ``source`` (JSON Lines pass the line); without it problems are located at ``source``.
    ``fields`` are the order and dispute fields the rules declare (``Program.declared_fields()``):
    a case may carry them, typed as declared; any other field is an error."""
    loc = locate(()) if locate else SourceLoc(path=source)
    return check_case(data, source, locate, loc, fields)


def parse_case(
    text: str | bytes,
    *,
    source: str,
    fmt: Literal["yaml", "json"],
    fields: DeclaredFields | None = None,
) -> Case:
    """Parse and validate one case written in YAML or JSON; ``source`` names it in errors;
    ``fields`` as for ``case_from_data``."""
    if fmt not in ("yaml", "json"):
        raise ValueError(f"fmt must be 'yaml' or 'json', not {fmt!r}")
    # A str is checked like bytes: a lone surrogate in it is no more text than a stray byte.
    raw = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_CASE_BYTES:
        raise located_error(
            SourceLoc(path=source),
            f"the case is {len(raw):,} bytes, more than a case file may be ({MAX_CASE_BYTES:,})",
            hint="attach large files by name (evidence files), not inside the case file",
        )
    text = decode(raw, source)
    if not text.strip():
        raise located_error(SourceLoc(path=source), "the file is empty", hint=ONE_CASE)
    marks: Marks = {}
    if fmt == "yaml":
        data, marks = load_yaml(text, source)
    else:
        data = load_json(text, source, SourceLoc(path=source))
        _refuse_surrogates(text, data, SourceLoc(path=source))
    locator = Locator(text, source, data, marks)
    return check_case(data, source, locator, SourceLoc(path=source, line=1), fields)


def _refuse_surrogates(text: str, data: object, base: SourceLoc) -> None:
    """A located error for each lone surrogate in a JSON document (see text.lone_surrogates):
    no writer downstream could encode it, so it is refused here, like a byte that is not UTF-8."""
    found = lone_surrogates(text, data)
    if not found:
        return
    problems = []
    for path, where, at in found:
        loc = base
        if at >= 0:
            line = text.count("\n", 0, at) + 1
            column = at - text.rfind("\n", 0, at)
            loc = SourceLoc(path=base.path, line=(base.line or 1) + line - 1, column=column)
        dotted = dotted_path(path)
        what = "the field name" if where == "key" else "the text"
        message = prefixed(dotted, f"{what} holds a lone surrogate, which is not a character")
        problems.append(Problem(loc, message, path=dotted, hint=SURROGATE_HINT))
    raise CaseFileError(problems)


def load_case(path: str | Path, *, fields: DeclaredFields | None = None) -> Case:
    """Load the one case in a .yaml, .yml or .json file (``fields`` as for ``case_from_data``)."""
    name, suffix = str(path), Path(path).suffix.lower()
    if suffix not in _FORMATS:
        raise located_error(
            SourceLoc(path=name),
            f"not a case file: extension {suffix or '(none)'}",
            hint="name it .yaml, .yml or .json; for .jsonl use load_cases",
        )
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise located_error(
            SourceLoc(path=name), f"cannot read the file: {exc.strerror or exc}"
        ) from exc
    return parse_case(raw, source=name, fmt=_FORMATS[suffix], fields=fields)


def iter_jsonl(
    path: str | Path, *, source: str | None = None, fields: DeclaredFields | None = None
) -> Iterator[Case | CaseFileError]:
    """Cases from a JSON Lines file (.jsonl or .jsonl.gz), one per non-blank line.

    A bad line yields a CaseFileError located at ``path:LINE`` (``source:LINE`` when given, e.g.
    the name of an uploaded file kept in a temporary one) and the iteration goes on; a file that
    cannot be read, or a gzip stream that breaks off, yields one error and ends.
    """
    name, lineno = source or str(path), 0
    try:
        stream: io.BufferedIOBase = (
            gzip.open(path, "rb") if str(path).lower().endswith(".gz") else open(path, "rb")
        )
        with stream:
            for lineno, (raw, size) in enumerate(bounded_lines(stream, MAX_CASE_BYTES), 1):
                if raw is None:  # never held whole: a gzip bomb's line costs at most the limit
                    yield oversized_line(name, lineno, size)
                elif raw.strip():
                    yield _jsonl_case(raw, name, lineno, fields)
    except (OSError, EOFError, zlib.error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        loc = SourceLoc(path=name, line=lineno + 1 if lineno else 0)
        yield located_error(loc, f"cannot read the file: {reason}")


def _jsonl_case(
    raw: bytes, name: str, lineno: int, fields: DeclaredFields | None
) -> Case | CaseFileError:
    try:
        return parse_jsonl_line(raw, source=name, line=lineno, fields=fields)
    except CaseFileError as exc:
        return exc


def oversized_line(source: str, line: int, size: int) -> CaseFileError:
    """The error for line ``line`` of ``source``, ``size`` bytes long: over the limit of a case."""
    return located_error(
        SourceLoc(path=source, line=line),
        f"the line is {size:,} bytes, more than a case may be ({MAX_CASE_BYTES:,})",
    )


def parse_jsonl_line(
    raw: bytes,
    *,
    source: str,
    line: int,
    fields: DeclaredFields | None = None,
    quick: bool = True,
) -> Case:
    """Parse and validate the case on line ``line`` of the JSON Lines file ``source``; problems
    are located at ``source:line``. A well-formed line is read on a fast path
    (engine.cases.quick) that builds the same Case; ``quick=False`` reads every line the full
    way (the tests compare the two)."""
    loc = source_loc(source, line)
    if len(raw) > MAX_CASE_BYTES:
        raise oversized_line(source, line, len(raw))
    if quick and (case := quick_case(raw, loc, fields)) is not None:
        return case  # None: the full path says what is wrong, or reads what quick does not
    text = decode(raw.rstrip(b"\r\n"), source, line)
    data = load_json(text, source, loc)
    _refuse_surrogates(text, data, loc)
    return case_from_data(data, source=source, locate=lambda _path: loc, fields=fields)


def load_cases(
    paths: str | Path | Iterable[str | Path], *, fields: DeclaredFields | None = None
) -> Iterator[Case | CaseFileError]:
    """Cases from files and directories; a bad file yields its CaseFileError and loading goes on.

    A directory gives its *.yaml, *.yml, *.json, *.jsonl and *.jsonl.gz files, sorted by name,
    except golden expectations (*.expected.yaml).
    """
    for path in [paths] if isinstance(paths, str | Path) else paths:
        if not Path(path).is_dir():
            yield from _load_file(path, fields)
            continue
        try:
            children = sorted(Path(path).iterdir(), key=lambda child: child.name)
        except OSError as exc:
            yield located_error(
                SourceLoc(path=str(path)), f"cannot list the directory: {exc.strerror}"
            )
            continue
        for child in children:
            name = child.name.lower()
            wanted = name.endswith((*_FORMATS, *_JSONL)) and not name.endswith(".expected.yaml")
            if wanted and child.is_file():
                yield from _load_file(child, fields)


def _load_file(path: str | Path, fields: DeclaredFields | None) -> Iterator[Case | CaseFileError]:
    if str(path).lower().endswith(_JSONL):
        yield from iter_jsonl(path, fields=fields)
        return
    try:
        yield load_case(path, fields=fields)
    except CaseFileError as exc:
        yield exc
