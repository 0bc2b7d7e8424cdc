"""Plain data -> Case, checked against the casefile/1 contract (CONTRACT.md) and the fields the
rules declare: every problem of a document collected, each at its field path.

The second half of loading a case (engine.cases.text reads the text into located data first).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from functools import lru_cache, partial
from typing import Any

from engine.cases.attributes import SAFE_INTEGER
from engine.cases.text import FieldPath, Locate, Locator, dotted_path, prefixed, shorten
from engine.errors import CaseFileError, Problem, did_you_mean
from engine.model import (
    Appeal,
    Case,
    Decision,
    DeclaredFields,
    Dispute,
    Evidence,
    EvidenceFile,
    Order,
    Record,
    SourceLoc,
    Type,
)
from engine.ruling import RULINGS

__all__ = [
    "CONVERTERS",
    "DECLARED_CONVERTERS",
    "MAX_AMOUNT",
    "MAX_CASE_BYTES",
    "MAX_COUNT",
    "MAX_EVIDENCE",
    "MAX_TEXT",
    "ONE_CASE",
    "SECTIONS",
    "check_case",
    "describe",
]

_EXAMPLE_TIME = "2024-03-01T10:00:00+08:00"
_TIME_HINT = f"write it like {_EXAMPLE_TIME}"
_SHA256 = re.compile("[0-9a-fA-F]{64}")
ONE_CASE = "a case file holds one case: a mapping with case_id, platform, order, dispute, ..."
_MAX_VALUE_DEPTH = 32  # nesting inside evidence attributes
# Limits that keep every value inside what the engine computes exactly (money as Decimal with 28
# digits, integers inside the 64-bit range durable_rules saturates at): far above any real order.
MAX_AMOUNT = Decimal(10) ** 12  # CNY
_MAX_FLOAT_AMOUNT = float(MAX_AMOUNT)
MAX_COUNT = 10**6  # prior interventions, promised shipping hours
MAX_CASE_BYTES = 4 << 20  # one case file, or one line of JSON Lines
MAX_EVIDENCE = 1_000  # items in one case (durable_rules' cost grows with items x rules)
MAX_TEXT = 100_000  # characters in one text value (a chat log's text, a reason)


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
            self.report(path, f"expected a mapping of fields, got {describe(value)}")
            return None
        before = len(self.pending)
        for key in value:
            if not isinstance(key, str):
                self.report(
                    path + (str(key),), f"expected a field name, got {describe(key)}", where="key"
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
        got = describe(value)
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

    convert.minimum = minimum  # type: ignore[attr-defined]  # read by the fast path
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
            raise _Invalid(f"expected one of {', '.join(choices)}, got {describe(value)}")
        raise _Invalid(
            f"{shorten(value)!r} is not one of {', '.join(choices)}", did_you_mean(value, choices)
        )

    convert.choices = choices  # type: ignore[attr-defined]  # read by the fast path
    return convert


def _amount(chk: _Checker, value: object, path: FieldPath, *, positive: bool = False) -> Any:
    if type(value) is float and 0.0 < value < _MAX_FLOAT_AMOUNT:  # the common case, checked
        amount = Decimal(repr(value))  # the same Decimal as below (str is repr for floats)
        if amount.as_tuple().exponent >= -2:  # type: ignore[operator]  # finite: an int
            return amount  # else (1e-05, 0.125) the checks below say what is wrong
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        number = isinstance(value, str) and re.fullmatch(r"\s*\d+(\.\d+)?\s*", value)
        hint = f"write it as a number, without quotes: {str(value).strip()}" if number else ""
        raise _Invalid(f"expected an amount in CNY (a number), got {describe(value)}", hint)
    if isinstance(value, int) and value.bit_length() > 100:  # too long for str()
        raise _Invalid(f"expected an amount in CNY, got {describe(value)}")
    amount = value if isinstance(value, Decimal) else Decimal(str(value))
    if not amount.is_finite():
        raise _Invalid(f"expected an amount in CNY, got {describe(value)}")
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
        raise _Invalid(f"expected an ISO-8601 time with a UTC offset, got {describe(value)}", hint)
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
        raise _Invalid(f"expected a mapping, got {describe(value)}")
    items = []
    for key, item in value.items():
        if isinstance(key, str):
            items.append((key, _json_value(chk, item, path + (key,), depth + 1)))
        else:
            chk.report(path + (str(key),), f"expected a name, got {describe(key)}", where="key")
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
            f"got {describe(value)}",
        )
    return None


def _record(spec: _Spec, cls: Callable[..., object]) -> _Convert:
    def convert(chk: _Checker, value: object, path: FieldPath) -> Any:
        fields = chk.section(value, path, spec)
        return _BAD if fields is None else cls(**fields)

    convert.spec, convert.cls = spec, cls  # type: ignore[attr-defined]  # read by the fast path
    return convert


def _list(convert: _Convert) -> _Convert:
    def convert_all(chk: _Checker, value: object, path: FieldPath) -> Any:
        if not isinstance(value, list):
            raise _Invalid(f"expected a list, got {describe(value)}")
        results = [convert(chk, item, path + (i,)) for i, item in enumerate(value)]
        return _BAD if any(result is _BAD for result in results) else tuple(results)

    convert_all.each = convert  # type: ignore[attr-defined]  # read by the fast path
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
    "decided_by": (_text, False),
    "reason": (_text, False),
    "rules_digest": (_text, False),
}
# the desk's export: the decisions before the latest, oldest first (no nesting further)
_DECISION_WITH_EARLIER: _Spec = {
    **_DECISION,
    "earlier": (_list(_record(_DECISION, Decision)), False),
}
_CASE: _Spec = {
    "format": (_format, False),
    "case_id": (_name, True),
    "platform": (_enum("taobao", "tmall"), True),
    "order": (_record(_ORDER, Order), True),
    "dispute": (_record(_DISPUTE, Dispute), True),
    "evidence": (_evidence, False),
    "decision": (_record(_DECISION_WITH_EARLIER, Decision), False),
}


def _whole(chk: _Checker, value: object, path: FieldPath) -> Any:
    if type(value) is not int:
        raise _Invalid(f"expected a whole number, got {describe(value)}")
    if abs(value) > SAFE_INTEGER:
        raise _Invalid(f"{value} is more than this field can be ({SAFE_INTEGER:,})")
    return value


DECLARED_CONVERTERS: dict[str, _Convert] = {
    "text": _text, "name": _text, "time": _time, "money": _amount, "boolean": _bool,
    "integer": _whole,
}  # fmt: skip
# casefile/1's sections and the converters they are written with, for the JSON Lines fast path
# (engine.cases.quick), which makes its own checks of these: each field is written once, here
SECTIONS: dict[str, _Spec] = {
    "evidence": _EVIDENCE, "order": _ORDER, "dispute": _DISPUTE,
    "decision": _DECISION_WITH_EARLIER, "case": _CASE,
}  # fmt: skip
CONVERTERS: dict[str, _Convert] = {
    "text": _text, "name": _name, "ident": _ident, "bool": _bool, "time": _time,
    "sha256": _sha256, "amount": _amount, "attributes": _attributes, "whole": _whole,
}  # fmt: skip


def _with_extra(cls: Callable[..., object], declared: frozenset[str]) -> Callable[..., object]:
    """``cls`` built from the contract's fields, the declared ones gathered into ``extra``."""

    def build(**fields: Any) -> object:
        extra = tuple((name, fields.pop(name)) for name in sorted(declared & fields.keys()))
        return cls(**fields, extra=extra)

    return build


@lru_cache(maxsize=32)
def _case_spec(declared: tuple[tuple[str, tuple[tuple[str, Type], ...]], ...]) -> _Spec:
    """The case's spec with the order and the dispute taking the fields the rules declare."""
    if not declared:
        return _CASE
    owners = dict(declared)
    specs: dict[str, tuple[_Spec, Callable[..., object]]] = {
        "order": (_ORDER, Order), "dispute": (_DISPUTE, Dispute),
    }  # fmt: skip
    case = dict(_CASE)
    for owner, (spec, cls) in specs.items():
        extra = owners.get(owner, ())
        if not extra:
            continue
        more: _Spec = {
            name: (_enum(*t.values) if t.name == "enum" else DECLARED_CONVERTERS[t.name], False)
            for name, t in extra
        }
        names = frozenset(name for name, _ in extra)
        case[owner] = (_record({**spec, **more}, _with_extra(cls, names)), True)
    return case


def _declared_key(
    fields: DeclaredFields | None,
) -> tuple[tuple[str, tuple[tuple[str, Type], ...]], ...]:
    if not fields:
        return ()
    return tuple((owner, tuple(sorted(names.items()))) for owner, names in sorted(fields.items()))


def check_case(
    data: object,
    source: str,
    locate: Locate | None,
    case_loc: SourceLoc,
    fields: DeclaredFields | None = None,
) -> Case:
    """``data`` as a Case, or a CaseFileError listing every problem, each located by
    ``locate`` (at ``source`` without it); ``fields`` are the fields the rules declare."""
    chk = _Checker(source, locate)
    if not isinstance(data, dict):
        many = "a case file holds one case; put many in a directory or a .jsonl file"
        chk.report(
            (),
            f"expected a case (a mapping of fields), got {describe(data)}",
            many if isinstance(data, list) else ONE_CASE,
        )
    spec = _case_spec(_declared_key(fields))
    checked = chk.section(data, (), spec) if isinstance(data, dict) else None
    if checked is None or chk.pending:
        raise chk.error()
    checked.pop("format", None)
    return Case(**checked, source=case_loc)


def describe(value: object) -> str:
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
