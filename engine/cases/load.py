"""Case files (casefile/1: YAML, JSON, JSON Lines) -> Case: the first stage of the pipeline."""

from __future__ import annotations

import gzip
import io
import math
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import partial
from pathlib import Path
from typing import Any, Literal

import yaml

from engine.errors import CaseFileError, Problem, did_you_mean
from engine.model import (
    Appeal,
    Case,
    Decision,
    Dispute,
    Evidence,
    EvidenceFile,
    Order,
    Record,
    SourceLoc,
)
from engine.ruling import RULINGS

__all__ = [
    "case_from_data",
    "iter_jsonl",
    "load_case",
    "load_cases",
    "parse_case",
    "parse_jsonl_line",
]

from engine.cases.text import (
    FieldPath,
    Locate,
    Locator,
    Marks,
    decode,
    dotted_path,
    load_json,
    load_yaml,
    located_error,
    prefixed,
    shorten,
)

_FORMATS: dict[str, Literal["yaml", "json"]] = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
_JSONL = (".jsonl", ".jsonl.gz")
_EXAMPLE_TIME = "2024-03-01T10:00:00+08:00"
_TIME_HINT = f"write it like {_EXAMPLE_TIME}"
_SHA256 = re.compile("[0-9a-fA-F]{64}")
_ONE_CASE = "a case file holds one case: a mapping with case_id, platform, order, dispute, ..."
_MAX_VALUE_DEPTH = 32  # nesting inside evidence attributes
# Limits that keep every value inside what the engine computes exactly (money as Decimal with 28
# digits, integers inside the 64-bit range durable_rules saturates at): far above any real order.
MAX_AMOUNT = Decimal(10) ** 12  # CNY
_MAX_FLOAT_AMOUNT = float(MAX_AMOUNT)
MAX_COUNT = 10**6  # prior interventions, promised shipping hours
MAX_CASE_BYTES = 4 << 20  # one case file, or one line of JSON Lines
MAX_EVIDENCE = 1_000  # items in one case (durable_rules' cost grows with items x rules)
MAX_TEXT = 100_000  # characters in one text value (a chat log's text, a reason)

if not getattr(yaml, "__with_libyaml__", False):  # pragma: no cover - depends on the install
    raise ImportError("engine.cases.load needs PyYAML built with libyaml (yaml.CSafeLoader)")


class _Invalid(Exception):
    """Raised by a converter; args: what is wrong with the value, and maybe how to fix it."""


_BAD = object()  # returned by a converter that has reported its own problems
_Convert = Callable[["_Checker", Any, FieldPath], Any]
_Spec = dict[str, tuple[_Convert, bool]]  # field -> (converter, required)


class _Checker:
    """Collects every problem of one document; locations are looked up only when raising."""

    def __init__(self, source: str, locate: Locate | None) -> None:
        self.source, self.locate = source, locate
        self.pending: list[tuple[FieldPath, str, str, str]] = []  # path, where, message, hint

    def report(self, path: FieldPath, message: str, hint: str = "", where: str = "value") -> None:
        self.pending.append((path, where, message, hint))

    def loc(self, path: FieldPath, where: str = "value") -> SourceLoc:
        if self.locate is None:
            return SourceLoc(path=self.source)
        if where == "key" and isinstance(self.locate, Locator):
            return self.locate.find(path, key=True)
        return self.locate(path[:-1] if where == "parent" else path)

    def error(self) -> CaseFileError:
        located = []
        for path, where, message, hint in self.pending:
            loc, dotted = self.loc(path, where), dotted_path(path)
            problem = Problem(loc, prefixed(dotted, message), path=dotted, hint=hint)
            located.append((loc.line, loc.column, problem))
        located.sort(key=lambda item: item[:2])  # stable: one place keeps the order of checks
        return CaseFileError(problem for _, _, problem in located)

    def section(self, value: object, path: FieldPath, spec: _Spec) -> dict[str, Any] | None:
        """The converted fields of a mapping checked against ``spec``; None if any failed."""
        if not isinstance(value, dict):
            self.report(path, f"expected a mapping of fields, got {_describe(value)}")
            return None
        before = len(self.pending)
        for key in value:
            if not isinstance(key, str):
                self.report(
                    path + (str(key),), f"expected a field name, got {_describe(key)}", where="key"
                )
            elif key not in spec:
                hint = did_you_mean(key, spec) or f"known: {', '.join(spec)}"
                self.report(path + (key,), "unknown field", hint, where="key")
        fields: dict[str, Any] = {}
        for name, (convert, required) in spec.items():
            item = value.get(name)
            if item is None:  # null is the same as absent, except for required fields
                if required and name in value:
                    self.report(path + (name,), "required field is null")
                elif required:
                    self.report(path + (name,), "required field is missing", where="parent")
                continue
            try:
                fields[name] = convert(self, item, path + (name,))
            except _Invalid as exc:
                self.report(path + (name,), *exc.args)
        return fields if len(self.pending) == before else None


def _expect(
    test: Callable[[Any], bool], expected: str, hint: str = "", quote: bool = False
) -> _Convert:
    """A converter keeping, as it is, a value that passes ``test``; ``quote``: text is expected,
    so a number is told to be quoted."""

    def convert(chk: _Checker, value: object, path: FieldPath) -> Any:
        if test(value):
            return value
        got = _describe(value)
        quoted = f'quote it: "{value}"' if quote and got.startswith("the number") else hint
        raise _Invalid(f"expected {expected}, got {got}", quoted)

    return convert


_text = _expect(lambda v: isinstance(v, str), "text", quote=True)
_name = _expect(lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string", quote=True)
_bool = _expect(lambda v: isinstance(v, bool), "true or false")
_format = _expect(lambda v: v == "casefile/1", "casefile/1", "this version reads casefile/1")
_sha256 = _expect(
    lambda v: isinstance(v, str) and _SHA256.fullmatch(v) is not None,
    "a SHA-256 digest (64 hex digits) or null",
)


def _count(minimum: int) -> _Convert:
    whole = _expect(lambda v: type(v) is int and v >= minimum, f"a whole number >= {minimum}")

    def convert(chk: _Checker, value: object, path: FieldPath) -> Any:
        number = whole(chk, value, path)
        if number > MAX_COUNT:
            raise _Invalid(f"{number} is more than this field can be ({MAX_COUNT:,})")
        return number

    return convert


def _ident(chk: _Checker, value: object, path: FieldPath) -> Any:
    """An id a YAML writer may have left unquoted: 3012345678 stands for "3012345678"."""
    if type(value) is int and 0 <= value < 10**100:
        return str(value)
    return _name(chk, value, path)


def _enum(*choices: str) -> _Convert:
    def convert(chk: _Checker, value: object, path: FieldPath) -> Any:
        if isinstance(value, str) and value in choices:
            return value
        if not isinstance(value, str):
            raise _Invalid(f"expected one of {', '.join(choices)}, got {_describe(value)}")
        raise _Invalid(
            f"{shorten(value)!r} is not one of {', '.join(choices)}", did_you_mean(value, choices)
        )

    return convert


def _amount(chk: _Checker, value: object, path: FieldPath, *, positive: bool = False) -> Any:
    if type(value) is float and 0.0 < value < _MAX_FLOAT_AMOUNT:  # the common case, checked
        amount = Decimal(repr(value))  # the same Decimal as below (str is repr for floats)
        if amount.as_tuple().exponent >= -2:  # type: ignore[operator]  # finite: an int
            return amount  # else (1e-05, 0.125) the checks below say what is wrong
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        number = isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value)
        hint = f"write it as a number, without quotes: {str(value).strip()}" if number else ""
        raise _Invalid(f"expected an amount in CNY (a number), got {_describe(value)}", hint)
    if isinstance(value, int) and value.bit_length() > 100:  # too long for str()
        raise _Invalid(f"expected an amount in CNY, got {_describe(value)}")
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if not amount.is_finite():
        raise _Invalid(f"expected an amount in CNY, got {_describe(value)}")
    digits, exponent = amount.as_tuple()[1:]
    if isinstance(exponent, int) and exponent < -2:
        with localcontext() as ctx:
            ctx.prec = len(digits) + 3
            example = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        raise _Invalid(
            f"amount {value} has more than two decimal places",
            f"amounts are CNY to the fen: round it, e.g. to {example}",
        )
    if amount < 0 or (positive and amount == 0):
        raise _Invalid(f"amount must be {'> 0' if positive else '>= 0'}, got {value}")
    if amount > MAX_AMOUNT:
        raise _Invalid(
            f"amount {value} is larger than any order this engine takes ({MAX_AMOUNT:,} CNY)",
            "check the amount; it is probably a typing error",
        )
    return amount.copy_abs() if amount.is_zero() else amount  # no -0.0


def _time(chk: _Checker, value: object, path: FieldPath) -> Any:
    hint = _TIME_HINT
    if not isinstance(value, str):
        raise _Invalid(f"expected an ISO-8601 time with a UTC offset, got {_describe(value)}", hint)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid(f"{shorten(value)!r} is not an ISO-8601 time", hint) from None
    if moment.utcoffset() is None:
        raise _Invalid(
            f"time {shorten(value)!r} has no UTC offset",
            f"add the offset, e.g. {moment.isoformat()}+08:00",
        )
    return moment


def _attributes(chk: _Checker, value: object, path: FieldPath, depth: int = 0) -> Any:
    """A mapping of JSON-like values, kept in the file's order as a tuple of (key, value)."""
    if not isinstance(value, dict):
        raise _Invalid(f"expected a mapping, got {_describe(value)}")
    items = []
    for key, item in value.items():
        if isinstance(key, str):
            items.append((key, _json_value(chk, item, path + (key,), depth + 1)))
        else:
            chk.report(path + (str(key),), f"expected a name, got {_describe(key)}", where="key")
    return tuple(items)


def _json_value(chk: _Checker, value: object, path: FieldPath, depth: int) -> Any:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        chk.report(path, f"the text is {len(value):,} characters, more than {MAX_TEXT:,}")
        return None
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return value
    if depth > _MAX_VALUE_DEPTH and isinstance(value, list | tuple | dict):
        chk.report(path, f"the value is nested more than {_MAX_VALUE_DEPTH} levels deep")
    elif isinstance(value, list | tuple):
        return tuple(_json_value(chk, item, path + (i,), depth + 1) for i, item in enumerate(value))
    elif isinstance(value, dict):
        return Record(_attributes(chk, value, path, depth))  # a nested mapping
    else:
        chk.report(
            path,
            "expected text, a finite number, true/false, null, a list or a mapping, "
            f"got {_describe(value)}",
        )
    return None


def _record(spec: _Spec, cls: Callable[..., object]) -> _Convert:
    def convert(chk: _Checker, value: object, path: FieldPath) -> Any:
        fields = chk.section(value, path, spec)
        return _BAD if fields is None else cls(**fields)

    return convert


def _list(convert: _Convert) -> _Convert:
    def convert_all(chk: _Checker, value: object, path: FieldPath) -> Any:
        if not isinstance(value, list):
            raise _Invalid(f"expected a list, got {_describe(value)}")
        results = [convert(chk, item, path + (i,)) for i, item in enumerate(value)]
        return _BAD if any(result is _BAD for result in results) else tuple(results)

    return convert_all


def _evidence_item(chk: _Checker, value: object, path: FieldPath) -> Any:
    fields = chk.section(value, path, _EVIDENCE)
    return _BAD if fields is None else Evidence(**fields, loc=chk.loc(path))


def _evidence(chk: _Checker, value: object, path: FieldPath) -> Any:
    if isinstance(value, list) and len(value) > MAX_EVIDENCE:
        raise _Invalid(
            f"{len(value):,} evidence items, more than a case may have ({MAX_EVIDENCE:,})",
            "split the submissions, or check the case for repeated items",
        )
    items = _list(_evidence_item)(chk, value, path)
    seen: dict[str, int] = {}
    for i, item in enumerate(value if isinstance(value, list) else ()):
        ident = item.get("id") if isinstance(item, dict) else None
        if isinstance(ident, str) and ident in seen:
            message = f"duplicate evidence id {shorten(ident)!r} (also evidence[{seen[ident]}])"
            chk.report(path + (i, "id"), message, "give each evidence item its own id")
        elif isinstance(ident, str):
            seen[ident] = i
    return items


_APPEAL: _Spec = {
    "party": (_enum("buyer", "seller"), True),
    "filed_at": (_time, True),
    "ruling": (_enum(*RULINGS), True),
    "ruled_at": (_time, True),
}
_FILE: _Spec = {"name": (_name, True), "sha256": (_sha256, False)}
_EVIDENCE: _Spec = {
    "id": (_name, True),
    "party": (_enum("buyer", "seller", "platform"), True),
    "kind": (_name, True),
    "submitted_at": (_time, True),
    "attributes": (_attributes, False),
    "files": (_list(_record(_FILE, EvidenceFile)), False),
}
_ORDER: _Spec = {
    "order_id": (_ident, True),
    "item": (_text, False),
    "item_amount": (_amount, True),
    "shipping_fee": (_amount, False),
    "goods_type": (_enum("physical", "virtual"), True),
    "supports_7day_return": (_bool, False),
    "promised_ship_hours": (_count(1), False),
    "recipient_name": (_text, False),
    "courier": (_text, False),
    "tracking_no": (_ident, False),
    "paid_at": (_time, True),
    "shipped_at": (_time, False),
    "delivered_at": (_time, False),
    "receipt_confirmed_at": (_time, False),
}
_DISPUTE: _Spec = {
    "type": (_name, True),
    "service": (_enum("refund_only", "return_and_refund", "exchange"), True),
    "claimed_amount": (partial(_amount, positive=True), True),
    "reason": (_text, False),
    "refund_requested_at": (_time, True),
    "seller_refused_at": (_time, False),
    "intervention_requested_at": (_time, True),
    "buyer_evidence_requested_at": (_time, False),
    "cancelled_at": (_time, False),
    "review_started_at": (_time, False),
    "prior_interventions": (_count(0), False),
    "appeal": (_record(_APPEAL, Appeal), False),
}
_DECISION: _Spec = {
    "ruling": (_enum(*RULINGS), True),
    "refund_amount": (_amount, False),
    "compensation_amount": (_amount, False),
    "decided_at": (_time, False),
}
_CASE: _Spec = {
    "format": (_format, False),
    "case_id": (_name, True),
    "platform": (_enum("taobao", "tmall"), True),
    "order": (_record(_ORDER, Order), True),
    "dispute": (_record(_DISPUTE, Dispute), True),
    "evidence": (_evidence, False),
    "decision": (_record(_DECISION, Decision), False),
}


def _check(data: object, source: str, locate: Locate | None, case_loc: SourceLoc) -> Case:
    chk = _Checker(source, locate)
    if not isinstance(data, dict):
        many = "a case file holds one case; put many in a directory or a .jsonl file"
        chk.report(
            (),
            f"expected a case (a mapping of fields), got {_describe(data)}",
            many if isinstance(data, list) else _ONE_CASE,
        )
    fields = chk.section(data, (), _CASE) if isinstance(data, dict) else None
    if fields is None or chk.pending:
        raise chk.error()
    fields.pop("format", None)
    return Case(**fields, source=case_loc)


def _describe(value: object) -> str:
    if value is None or isinstance(value, bool):
        return "null" if value is None else str(value).lower()
    if isinstance(value, int) and value.bit_length() > 100:
        return "a very large number"  # str() refuses past 4,300 digits
    if isinstance(value, int | float | Decimal):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {shorten(value)!r}"
    if isinstance(value, list | tuple | dict):
        return "a mapping" if isinstance(value, dict) else "a list"
    return f"a value of type {type(value).__name__}"


# --- public API ---------------------------------------------------------------------------------


def case_from_data(data: object, *, source: str, locate: Locate | None = None) -> Case:
    """Validate an already-parsed case against casefile/1; raise CaseFileError listing every
    problem. ``locate`` maps a field path such as ``("evidence", 2, "submitted_at")`` to its place
    in ``source`` (JSON Lines pass the line); without it problems are located at ``source``."""
    return _check(data, source, locate, locate(()) if locate else SourceLoc(path=source))


def parse_case(text: str | bytes, *, source: str, fmt: Literal["yaml", "json"]) -> Case:
    """Parse and validate one case written in YAML or JSON; ``source`` names it in errors."""
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
        raise located_error(SourceLoc(path=source), "the file is empty", hint=_ONE_CASE)
    marks: Marks = {}
    if fmt == "yaml":
        data, marks = load_yaml(text, source)
    else:
        data = load_json(text, source, SourceLoc(path=source))
    locator = Locator(text, source, data, marks)
    return _check(data, source, locator, SourceLoc(path=source, line=1))


def load_case(path: str | Path) -> Case:
    """Load the one case in a .yaml, .yml or .json file."""
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
    return parse_case(raw, source=name, fmt=_FORMATS[suffix])


def iter_jsonl(path: str | Path, *, source: str | None = None) -> Iterator[Case | CaseFileError]:
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
            for lineno, raw in enumerate(stream, 1):
                if raw.strip():
                    yield _jsonl_case(raw, name, lineno)
    except (OSError, EOFError, zlib.error) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        loc = SourceLoc(path=name, line=lineno + 1 if lineno else 0)
        yield located_error(loc, f"cannot read the file: {reason}")


def _jsonl_case(raw: bytes, name: str, lineno: int) -> Case | CaseFileError:
    try:
        return parse_jsonl_line(raw, source=name, line=lineno)
    except CaseFileError as exc:
        return exc


def parse_jsonl_line(raw: bytes, *, source: str, line: int) -> Case:
    """Parse and validate the case on line ``line`` of the JSON Lines file ``source``; problems
    are located at ``source:line``."""
    loc = SourceLoc(path=source, line=line)
    if len(raw) > MAX_CASE_BYTES:
        raise located_error(
            loc, f"the line is {len(raw):,} bytes, more than a case may be ({MAX_CASE_BYTES:,})"
        )
    data = load_json(decode(raw.rstrip(b"\r\n"), source, line), source, loc)
    return case_from_data(data, source=source, locate=lambda _path: loc)


def load_cases(paths: str | Path | Iterable[str | Path]) -> Iterator[Case | CaseFileError]:
    """Cases from files and directories; a bad file yields its CaseFileError and loading goes on.

    A directory gives its *.yaml, *.yml, *.json, *.jsonl and *.jsonl.gz files, sorted by name,
    except golden expectations (*.expected.yaml).
    """
    for path in [paths] if isinstance(paths, str | Path) else paths:
        if not Path(path).is_dir():
            yield from _load_file(path)
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
                yield from _load_file(child)


def _load_file(path: str | Path) -> Iterator[Case | CaseFileError]:
    if str(path).lower().endswith(_JSONL):
        yield from iter_jsonl(path)
        return
    try:
        yield load_case(path)
    except CaseFileError as exc:
        yield exc
