"""One JSON Lines case on a fast path: the bytes of a well-formed casefile/1 line -> Case, or None.

Almost every line of an archive is a well-formed case. For those, ``quick_case`` parses the line
with orjson and builds the Case with cheap checks of exactly the shapes casefile/1 allows (and
the fields the rules declare), without collecting problems or locating them. On *any*
deviation (a key it does not know, a value of another type, a number out of range, a time
without an offset, a duplicate key, a duplicate evidence id, a value orjson reads differently
from the json module) it returns None, and the caller takes the full path
(engine.cases.text, engine.cases.checks), which reports every problem, located, as before.

Each record (order, dispute, evidence item, file, appeal, decision) is checked by a function
generated from its spec as straight-line Python (``_record``: a loop over the spec cost about
twice as much), the fields the rules declare included.

The invariant, tested on samples, generated archives and mutated lines: ``quick_case`` returns
None or a Case equal, field by field and type by type, to the one the full path builds.

Duplicate keys: orjson, like json, keeps the last of two equal keys, so they are found by
counting colons. Outside strings, a JSON text has exactly one colon per member; inside them,
the colons its strings hold (when none is written as an escape). The parsed data written out
again has one colon per member it kept, and the colons of the strings it kept; the counts are
equal exactly when no member was dropped.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any

import orjson

from engine.cases import checks
from engine.cases.attributes import SAFE_INTEGER
from engine.cases.checks import MAX_AMOUNT, MAX_COUNT, MAX_EVIDENCE, MAX_TEXT
from engine.cases.slotted import construct_source, maker
from engine.model import (
    Case,
    Decision,
    DeclaredFields,
    Dispute,
    Evidence,
    Order,
    Record,
    SourceLoc,
)

__all__ = ["quick_case", "quick_reader", "source_loc"]

_MAX_FLOAT_AMOUNT = float(MAX_AMOUNT)
_MAX_VALUE_DEPTH = 32  # as engine.cases.checks: nesting inside evidence attributes
# orjson reads an integer outside [-2**63, 2**64) as a float, json as an int: such floats are
# left to the full path (no float of a smaller magnitude can come from an integer)
_FLOAT_EXACT = float(2**63)
_HEX = "0123456789abcdefABCDEF"
_ZERO = Decimal("0.0")
_COLON = ord(":")  # bytes.count of an int: twice as fast as of b":"
_SCALARS = frozenset((bool, int, type(None)))  # as they are, at any depth


class _Defer(Exception):
    """Not a shape this path knows: the full path decides."""


_Convert = Callable[[Any], Any]
_Spec = tuple[tuple[str, _Convert, bool], ...]  # (field, converter, required)


def _text(value: Any) -> Any:
    if type(value) is str:
        return value
    raise _Defer


def _name(value: Any) -> Any:
    if type(value) is str and value.strip() != "":
        return value
    raise _Defer


def _ident(value: Any) -> Any:
    if type(value) is str and value.strip() != "":
        return value
    if type(value) is int and 0 <= value < 10**100:
        return str(value)
    raise _Defer


def _bool(value: Any) -> Any:
    if type(value) is bool:
        return value
    raise _Defer


def _enum(*choices: str) -> _Convert:
    allowed = frozenset(choices)

    def convert(value: Any) -> Any:
        if type(value) is str and value in allowed:
            return value
        raise _Defer

    convert.choices = allowed  # type: ignore[attr-defined]  # written out by _record
    return convert


def _count(minimum: int) -> _Convert:
    def convert(value: Any) -> Any:
        if type(value) is int and minimum <= value <= MAX_COUNT:
            return value
        raise _Defer

    convert.minimum = minimum  # type: ignore[attr-defined]  # written out by _record
    return convert


def _whole(value: Any) -> Any:
    if type(value) is int and abs(value) <= SAFE_INTEGER:
        return value
    raise _Defer


def _amount(value: Any) -> Any:
    """As checks._amount for the values it takes: a float to the fen, 0.0, a whole number."""
    if type(value) is float:
        if 0.0 < value <= _MAX_FLOAT_AMOUNT:
            text = repr(value)
            if _fen(text):
                return Decimal(text)
            amount = Decimal(text)
            if amount.as_tuple().exponent >= -2:  # type: ignore[operator]
                return amount
        elif value == 0.0:  # 0.0 and -0.0: Decimal("0.0"), its sign dropped
            return _ZERO
    elif type(value) is int and 0 <= value <= MAX_AMOUNT:
        return Decimal(value)
    raise _Defer


def _fen(text: str) -> bool:
    """Whether a float's repr is plain decimal with at most two places ("12.0", "2041.93"): its
    Decimal's exponent is then -1 or -2, known without asking it. (A repr with an exponent has
    at least four characters after any point; other reprs are left to the Decimal.)"""
    return len(text) - text.find(".") <= 3


def _positive_amount(value: Any) -> Any:
    if value:  # 0, 0.0 and -0.0 are not > 0
        return _amount(value)
    raise _Defer


def _time(value: Any) -> Any:
    if type(value) is str:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _Defer from None
        if moment.utcoffset() is not None:
            return moment
    raise _Defer


def _sha256(value: Any) -> Any:
    if type(value) is str and len(value) == 64 and not value.strip(_HEX):
        return value
    raise _Defer


def _json_value(value: Any, depth: int) -> Any:
    """An attribute's value ``depth`` levels inside an item's attributes, as checks reads it:
    text, booleans, integers, null and finite floats as they are, lists as tuples, mappings as
    Records."""
    kind = type(value)
    if kind is str:
        if len(value) > MAX_TEXT:
            raise _Defer
        return value
    if kind in _SCALARS:
        return value
    if kind is float:
        if math.isfinite(value) and -_FLOAT_EXACT < value < _FLOAT_EXACT:
            return value
        raise _Defer
    if depth > _MAX_VALUE_DEPTH:
        raise _Defer
    if kind is list:
        return tuple(_items(value, depth))
    if kind is dict:
        return Record(_pairs(value, depth))
    raise _Defer


def _items(value: list[Any], depth: int) -> list[Any]:
    """A list's items (the list ``depth`` levels in) as _json_value reads each: text and scalars
    checked here, a mapping read without a call of _json_value."""
    items = []
    for item in value:
        kind = type(item)
        if kind is str:
            if len(item) > MAX_TEXT:
                raise _Defer
        elif kind is dict and depth < _MAX_VALUE_DEPTH:
            item = Record(_pairs(item, depth + 1))
        elif kind not in _SCALARS:
            item = _json_value(item, depth + 1)
        items.append(item)
    return items


def _pairs(value: dict[str, Any], depth: int) -> list[tuple[str, Any]]:
    """A mapping's (key, value) pairs (the mapping ``depth`` levels in), as _json_value reads
    each value: text and scalars checked here."""
    pairs = []
    for key, item in value.items():
        kind = type(item)
        if kind is str:
            if len(item) > MAX_TEXT:
                raise _Defer
        elif kind not in _SCALARS:
            item = _json_value(item, depth + 1)
        pairs.append((key, item))
    return pairs


def _attributes(value: Any) -> Any:
    """An item's attributes: a mapping -> its (key, value) pairs."""
    if type(value) is not dict:
        raise _Defer
    return tuple(_pairs(value, 0))


def _keys(spec: _Spec) -> frozenset[str]:
    return frozenset(name for name, _, _ in spec)


# converters written out in the generated code as a test (of ``v``) that fails on a deviation
_INLINE: dict[_Convert, str] = {
    _text: "type({v}) is not str",
    _name: "type({v}) is not str or not {v}.strip()",
    _bool: "type({v}) is not bool",
    _sha256: "type({v}) is not str or len({v}) != 64 or {v}.strip(HEX)",
    _whole: "type({v}) is not int or not -SAFE_INTEGER <= {v} <= SAFE_INTEGER",
}
# converters written out as statements that check ``v`` and replace it with what it reads as
_WRITTEN: dict[_Convert, tuple[str, ...]] = {
    _time: (
        "if type({v}) is not str: raise Defer",
        "{v} = fromisoformat({v})",  # a ValueError (not a time) is caught by quick_case
        "if {v}.tzinfo is None: raise Defer",
    ),
    _ident: (
        "if type({v}) is str:",
        "    if not {v}.strip(): raise Defer",
        "elif type({v}) is int and 0 <= {v} < 10**100: {v} = str({v})",
        "else: raise Defer",
    ),
    _amount: (
        "if type({v}) is float and 0.0 < {v} <= MAX_FLOAT_AMOUNT:",
        "    text = repr({v})",
        "    {v} = Decimal(text) if len(text) - text.find('.') <= 3 else amount({v})",  # _fen
        "else: {v} = amount({v})",
    ),
}
_WRITTEN[_positive_amount] = ("if not {v}: raise Defer", *_WRITTEN[_amount])
_ENV = {
    "Defer": _Defer, "fromisoformat": datetime.fromisoformat, "HEX": _HEX, "Decimal": Decimal,
    "SAFE_INTEGER": SAFE_INTEGER, "MAX_FLOAT_AMOUNT": _MAX_FLOAT_AMOUNT,
    "amount": _amount, "new": object.__new__,
}  # fmt: skip


def _check(convert: _Convert, var: str, n: int, env: dict[str, Any]) -> list[str]:
    """Statements that check ``var`` as ``convert`` does and leave in it what ``convert``
    returns, raising Defer where ``convert`` would."""
    if convert in _INLINE:
        return [f"if {_INLINE[convert].format(v=var)}: raise Defer"]
    if convert in _WRITTEN:
        return [line.format(v=var) for line in _WRITTEN[convert]]
    choices = getattr(convert, "choices", None)
    if choices is not None:
        env[f"choices{n}"] = choices
        return [f"if type({var}) is not str or {var} not in choices{n}: raise Defer"]
    minimum = getattr(convert, "minimum", None)
    if minimum is not None:
        bounds = f"{int(minimum)} <= {var} <= {int(MAX_COUNT)}"
        return [f"if type({var}) is not int or not {bounds}: raise Defer"]
    env[f"convert{n}"] = getattr(convert, "each", convert)
    if hasattr(convert, "each"):  # a list of records: each converted, without a listcomp
        return [
            f"if type({var}) is not list: raise Defer",
            f"{var} = tuple(map(convert{n}, {var}))",
        ]
    return [f"{var} = convert{n}({var})"]


def _record(
    spec: _Spec, cls: type[Any], declared: tuple[str, ...] = (), located: bool = False
) -> Callable[..., Any]:
    """A mapping checked against ``spec`` -> ``cls``, as straight-line Python generated from
    the spec (a loop over it costs twice as much): null is absent, a missing required field,
    an unknown key or a failed check raises _Defer. The ``declared`` fields are gathered into
    ``extra`` in name order (as checks._with_extra); ``located``: the record takes a ``loc``."""
    known = _keys(spec)
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    names = tuple(name for name, _, _ in spec)
    env: dict[str, Any] = {**_ENV, "known": known, "cls": cls, "names": names}
    every = ", ".join(f"v{n}" for n in range(len(spec)))
    lines = [
        "def record(value, loc=None):",
        "    if type(value) is not dict: raise Defer",
        f"    if len(value) == {len(spec)} and tuple(value) == names:  # every key, in order",
        f"        {every}{',' if len(spec) == 1 else ''} = value.values()",
        "    elif not known.issuperset(value): raise Defer",
        "    else:",
        "        get = value.get",
        *(f"        v{n} = get({name!r})" for n, name in enumerate(names)),
    ]
    args = []
    for n, (name, convert, required) in enumerate(spec):
        var = f"v{n}"
        check = _check(convert, var, n, env)
        if required:
            lines += [f"    if {var} is None: raise Defer", *(f"    {line}" for line in check)]
        else:
            fallback = "None" if name in declared else f"default{n}"
            env[f"default{n}"] = None if name in declared else defaults[name]
            if env[f"default{n}"] is dataclasses.MISSING:
                raise TypeError(f"{cls.__name__}.{name} is optional here but has no default")
            lines += [f"    if {var} is None: {var} = {fallback}", "    else:"]
            lines += [f"        {line}" for line in check]
        if name not in declared:
            args.append(f"{name}={var}")
    if declared:
        lines.append("    extra = []")
        for name in sorted(declared):
            var = f"v{[item[0] for item in spec].index(name)}"
            lines.append(f"    if {var} is not None: extra.append(({name!r}, {var}))")
        args.append("extra=tuple(extra)")
    if located:
        args.append("loc=loc")
    lines += construct_source(cls, args, env)
    exec(compile("\n".join(lines), f"<casefile/1 fast path: {cls.__name__}>", "exec"), env)
    record: Callable[..., Any] = env["record"]
    return record


def _list(convert: _Convert) -> _Convert:
    def convert_all(value: Any) -> Any:
        if type(value) is not list:
            raise _Defer
        return tuple([convert(item) for item in value])

    convert_all.each = convert  # type: ignore[attr-defined]  # written out by _record
    return convert_all


_SAME: dict[Any, _Convert] = {
    checks.CONVERTERS["text"]: _text, checks.CONVERTERS["name"]: _name,
    checks.CONVERTERS["ident"]: _ident, checks.CONVERTERS["bool"]: _bool,
    checks.CONVERTERS["time"]: _time, checks.CONVERTERS["sha256"]: _sha256,
    checks.CONVERTERS["amount"]: _amount, checks.CONVERTERS["attributes"]: _attributes,
    checks.CONVERTERS["whole"]: _whole,
}  # fmt: skip


def _fast(convert: Any) -> _Convert:
    """This path's converter for one of the full path's: casefile/1's fields are written once,
    in engine.cases.checks, and each field here takes what its converter there accepts."""
    same = _SAME.get(convert)
    if same is not None:
        return same
    if isinstance(convert, partial) and convert.keywords == {"positive": True}:
        assert convert.func is checks.CONVERTERS["amount"], convert
        return _positive_amount
    if hasattr(convert, "choices"):
        return _enum(*convert.choices)
    if hasattr(convert, "minimum"):
        return _count(convert.minimum)
    if hasattr(convert, "each"):
        return _list(_fast(convert.each))
    if hasattr(convert, "spec"):
        return _record(_spec(convert.spec), convert.cls)
    raise TypeError(f"the fast path has no converter for {convert!r}")


def _spec(full: Any) -> _Spec:
    """A section's spec as the full path writes it (field -> (converter, required)), in order."""
    return tuple((name, _fast(convert), required) for name, (convert, required) in full.items())


_EVIDENCE_RECORD = _record(_spec(checks.SECTIONS["evidence"]), Evidence, located=True)
_ORDER = _spec(checks.SECTIONS["order"])
_DISPUTE = _spec(checks.SECTIONS["dispute"])
_DECISION_RECORD = _record(_spec(checks.SECTIONS["decision"]), Decision)
_CASE_KEYS = frozenset(checks.SECTIONS["case"])
_PLATFORMS = frozenset(checks.SECTIONS["case"]["platform"][0].choices)  # type: ignore[attr-defined]
_DECLARED = {kind: _fast(convert) for kind, convert in checks.DECLARED_CONVERTERS.items()}


def _with_extra(spec: _Spec, cls: type[Any], extra: tuple[Any, ...]) -> _Convert | None:
    """The section's converter with the declared fields gathered into ``extra`` (as
    checks._with_extra), or None when a declaration is one this path does not take."""
    more = []
    for name, kind in extra:
        if name in _keys(spec):
            return None  # a declaration over a contract field: the full path decides
        if kind.name == "enum":
            more.append((name, _enum(*kind.values), False))
        elif kind.name in _DECLARED:
            more.append((name, _DECLARED[kind.name], False))
        else:
            return None
    return _record((*spec, *more), cls, declared=tuple(name for name, _ in extra))


_Sections = tuple[_Convert, _Convert] | None


@lru_cache(maxsize=32)
def _sections(declared: tuple[tuple[str, tuple[Any, ...]], ...]) -> _Sections:
    """The order's and the dispute's converters for the fields the rules declare."""
    owners = dict(declared)
    order, dispute = owners.get("order", ()), owners.get("dispute", ())
    if not order and not dispute:
        return _ORDER_RECORD, _DISPUTE_RECORD
    order_convert = _with_extra(_ORDER, Order, order) if order else _ORDER_RECORD
    dispute_convert = _with_extra(_DISPUTE, Dispute, dispute) if dispute else _DISPUTE_RECORD
    if order_convert is None or dispute_convert is None:
        return None
    return order_convert, dispute_convert


_ORDER_RECORD = _record(_ORDER, Order)
_DISPUTE_RECORD = _record(_DISPUTE, Dispute)
_PLAIN: _Sections = (_ORDER_RECORD, _DISPUTE_RECORD)


def _declared(fields: DeclaredFields | None) -> _Sections:
    if not fields:
        return _PLAIN
    try:
        key = tuple(
            (owner, tuple(sorted(names.items()))) for owner, names in sorted(fields.items())
        )
        return _sections(key)
    except TypeError:  # unhashable or unorderable declarations: the full path decides
        return None


def _evidence(value: Any, loc: SourceLoc) -> tuple[Evidence, ...]:
    if type(value) is not list or len(value) > MAX_EVIDENCE:
        raise _Defer
    items = []
    seen = set()
    for item in value:
        evidence = _EVIDENCE_RECORD(item, loc)
        if evidence.id in seen:
            raise _Defer
        seen.add(evidence.id)
        items.append(evidence)
    return tuple(items)


_CASE = maker(Case)
_SOURCE_LOC = maker(SourceLoc)


def source_loc(path: str, line: int) -> SourceLoc:
    """``SourceLoc(path=path, line=line)``, made in a quarter of the time."""
    loc: SourceLoc = _SOURCE_LOC(path, line, 0)
    return loc


def _case(data: Any, loc: SourceLoc, sections: tuple[_Convert, _Convert]) -> Case:
    if type(data) is not dict or not _CASE_KEYS.issuperset(data):
        raise _Defer
    get = data.get
    fmt = get("format")
    if fmt is not None and fmt != "casefile/1":
        raise _Defer
    case_id, platform = get("case_id"), get("platform")
    if (
        type(case_id) is not str
        or not case_id.strip()
        or type(platform) is not str
        or platform not in _PLATFORMS
    ):
        raise _Defer
    order, dispute = get("order"), get("dispute")
    if order is None or dispute is None:
        raise _Defer
    evidence, decision = get("evidence"), get("decision")
    case: Case = _CASE(
        case_id,
        platform,
        sections[0](order),
        sections[1](dispute),
        () if evidence is None else _evidence(evidence, loc),
        None if decision is None else _DECISION_RECORD(decision),
        loc,
    )
    return case


def quick_case(raw: bytes, loc: SourceLoc, fields: DeclaredFields | None = None) -> Case | None:
    """The case on one JSON Lines line ``raw`` (located at ``loc``) when it is well-formed and
    of the shapes this path knows; None otherwise: the full path then reads it."""
    sections = _declared(fields)
    return None if sections is None else _quick(sections, raw, loc)


def quick_reader(fields: DeclaredFields | None) -> Callable[[bytes, SourceLoc], Case | None]:
    """``quick_case`` for rules declaring ``fields``, their converters found once (a shard's
    lines are all read for the same rules)."""
    sections = _declared(fields)
    if sections is None:
        return _none
    return partial(_quick, sections)


def _none(raw: bytes, loc: SourceLoc) -> None:
    return None


def _quick(sections: tuple[_Convert, _Convert], raw: bytes, loc: SourceLoc) -> Case | None:
    if b"\\" in raw and b"\\u003" in raw:  # an escaped colon: uncounted
        return None
    try:
        data = orjson.loads(raw)
        case = _case(data, loc, sections)
        if raw.count(_COLON) != orjson.dumps(data).count(_COLON):
            return None  # a duplicate key
    except (_Defer, ValueError, orjson.JSONEncodeError):  # JSONDecodeError is a ValueError
        return None
    return case
