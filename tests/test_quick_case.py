"""The fast path of JSON Lines (engine.cases.quick) against the full one: for every input it
gives None or the very Case the full path builds (field by field, type by type, locations
included), so that rulings and error rows stay byte for byte what they were."""

from __future__ import annotations

import dataclasses
import json
import random
from decimal import Decimal
from typing import Any

import pytest
from batchdata import case_lines
from conftest import CASEFILES, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cases.load import load_case, parse_jsonl_line
from engine.cases.quick import quick_case, quick_reader, source_loc
from engine.cases.slotted import maker, twin
from engine.cases.text import load_yaml
from engine.errors import CaseFileError
from engine.model import Case, DeclaredFields, SourceLoc, Type

SOURCE = "archive.jsonl"
DECLARED: DeclaredFields = {
    "order": {
        "station_allowed": Type("boolean"),
        "station_name": Type("name"),
        "picked_up_at": Type("time"),
        "parcels": Type("integer"),
        "channel": Type("enum", ("app", "web")),
    },
    "dispute": {"price_seen": Type("money"), "note": Type("text")},
}


def _shape(value: Any) -> Any:
    """``value`` as nested tuples of type names and reprs: every field, compared or not."""
    if dataclasses.is_dataclass(value):
        fields = dataclasses.fields(value)
        return (
            type(value).__name__,
            tuple((f.name, _shape(getattr(value, f.name))) for f in fields),
        )
    if isinstance(value, tuple):
        return (type(value).__name__, tuple(_shape(item) for item in value))
    return (type(value).__name__, repr(value))


def _full(raw: bytes, fields: DeclaredFields | None) -> Case | str:
    try:
        return parse_jsonl_line(raw, source=SOURCE, line=7, fields=fields, quick=False)
    except CaseFileError as exc:
        return str(exc)


def _agree(raw: bytes, fields: DeclaredFields | None = None) -> bool:
    """Assert that the fast path gives None or the full path's Case; True when it took it."""
    quick = quick_case(raw, SourceLoc(path=SOURCE, line=7), fields)
    full = _full(raw, fields)
    if quick is None:
        return False
    assert isinstance(full, Case), f"the fast path read a line the full path refuses: {full}"
    assert quick == full
    assert _shape(quick) == _shape(full)
    return True


def _sample_data() -> list[tuple[str, object]]:
    """Every sample case file, and the malformed ones the loader's tests use, as plain data."""
    folders = [CASEFILES, ROOT / "tests" / "data" / "casefiles"]
    found = []
    for path in sorted(p for folder in folders for p in folder.glob("*.yaml")):
        if path.name.endswith(".expected.yaml"):
            continue
        try:
            data, _ = load_yaml(path.read_text(encoding="utf-8"), str(path))
        except (CaseFileError, UnicodeDecodeError):
            continue  # not YAML a JSON line could hold
        found.append((path.name, data))
    return found


def test_the_sample_cases_as_json_lines_read_the_same_both_ways() -> None:
    taken = 0
    for name, data in _sample_data():
        for ascii_only in (False, True):
            raw = json.dumps(data, ensure_ascii=ascii_only).encode("utf-8") + b"\n"
            try:
                taken += _agree(raw)
                taken += _agree(raw, DECLARED)
            except AssertionError as exc:
                raise AssertionError(f"{name}: {exc}") from exc
    assert taken > 400  # the samples really take the fast path


def test_a_generated_archive_reads_the_same_both_ways() -> None:
    lines = case_lines(3000, seed=19, invalid_rate=0.05)
    taken = refused = 0
    for n, line in enumerate(lines, 1):
        raw = line.encode("utf-8") + b"\n"
        took = _agree(raw)
        full = _full(raw, None)
        taken += took
        refused += isinstance(full, str)
        assert took != isinstance(full, str)  # every well-formed generated case is taken
        fast = parse_jsonl_line(raw, source=SOURCE, line=7) if took else None
        assert fast is None or _shape(fast) == _shape(full), n
    assert taken > 2800 and refused > 50


def test_every_malformed_line_gives_the_full_paths_error_word_for_word() -> None:
    lines = case_lines(600, seed=5, invalid_rate=0.3)
    errors = 0
    for line in lines:
        raw = line.encode("utf-8")
        full = _full(raw, None)
        if isinstance(full, str):
            errors += 1
            with pytest.raises(CaseFileError) as caught:
                parse_jsonl_line(raw, source=SOURCE, line=7)
            assert str(caught.value) == full
    assert errors > 100


_BASE = [json.loads(line) for line in case_lines(40, seed=3)]


@pytest.mark.parametrize(
    "text",
    [
        '{"case_id": "A", "case_id": "A", "platform": "taobao"}',
        '"order": {"order_id": "1", "order_id": "1"',
        '"attributes": {"x": 1, "x": 1}',
        '"attributes": {"x": "a:b", "x": "a:b"}',
        '"files": [{"name": "a.jpg", "name": "a.jpg"}]',
        '"attributes": {"x": "\\u003a", "x": "\\u003a"}',
    ],
)
def test_a_duplicate_key_anywhere_is_left_to_the_full_path(text: str) -> None:
    case = dict(_BASE[0])
    case["evidence"] = [
        {**item, "attributes": {}, "files": []} for item in case.get("evidence") or []
    ] or [{"id": "E1", "party": "buyer", "kind": "statement",
           "submitted_at": case["dispute"]["refund_requested_at"]}]  # fmt: skip
    raw = json.dumps(case, ensure_ascii=False)
    if text.startswith("{"):
        raw = text[:-1] + ", " + raw[1:]
    elif text.startswith('"order"'):
        raw = raw.replace('"order": {', text.rsplit(", ", 1)[0] + ", ", 1)
    elif text.startswith('"attributes"'):
        raw = raw.replace('"attributes": {}', text, 1)
    else:
        raw = raw.replace('"files": []', text, 1)
    written: list[int] = []

    def count(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        written.append(len(pairs))
        return dict(pairs)

    kept = json.loads(raw, object_pairs_hook=count)
    members = sum(len(item) for item in _values(kept) if isinstance(item, dict))
    assert members < sum(written)  # a key really repeated
    assert quick_case(raw.encode(), SourceLoc(path=SOURCE, line=7)) is None
    assert "duplicate key" in str(_full(raw.encode(), None))


def test_a_colon_written_as_an_escape_is_left_to_the_full_path() -> None:
    case = {**_BASE[1], "dispute": {**_BASE[1]["dispute"], "reason": "a:b"}}
    raw = json.dumps(case, ensure_ascii=False).replace("a:b", "a\\u003ab").encode()
    assert quick_case(raw, SourceLoc(path=SOURCE, line=7)) is None
    assert isinstance(_full(raw, None), Case)


# --- mutations --------------------------------------------------------------------------------

_VALUES = [
    None, True, False, 0, 1, -1, 2, 10**6, 10**6 + 1, 2**53 + 1, 2**63, 2**64, -(2**63) - 1,
    10**30, 0.0, -0.0, 0.01, 0.001, 1.5, 459.0, 459.01, 1e12, 1e12 + 0.5, 999999999999.99, 1e16,
    1e-7, 2.0**64, float(2**63), -1.5, float("nan"), float("inf"), "", " ", "\u3000", "x",
    "casefile/1", "casefile/2", "taobao", "tmall", "physical", "virtual", "buyer", "seller",
    "platform", "refund", "refund_only", "exchange", "pay_seller", "not_received",
    "2024-03-06T10:00:00+08:00", "2024-03-06T10:00:00", "2024-03-06", "2024-03-06T10:00Z",
    "2024-13-45T99:99:99+08:00", "459.00", "3012345678", "a" * 64, "A0" * 32, "g" * 64,
    "x" * 100_001, "\ud800", "a:b", "\u003a", [], [1], [[[[1]]]], {}, {"a": 1}, {"id": "E1"},
    Decimal("1.5"),
]  # fmt: skip


def _paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*path, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found.extend(_paths(item, (*path, i)))
    return found


def _values(value: Any) -> list[Any]:
    found = [value]
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
    for item in items:
        found.extend(_values(item))
    return found


def _mutate(data: Any, rnd: random.Random) -> Any:
    data = json.loads(json.dumps(data))
    for _ in range(rnd.choice((0, 1, 1, 2, 3))):
        paths = _paths(data)
        path = rnd.choice(paths[1:] or paths)
        parent = data
        for segment in path[:-1]:
            parent = parent[segment]
        last = path[-1] if path else None
        how = rnd.random()
        value = rnd.choice(_VALUES)
        if isinstance(value, Decimal):
            value = float(value)
        if last is None:
            data = value
        elif how < 0.15 and isinstance(parent, dict):
            del parent[last]
        elif how < 0.25 and isinstance(parent, dict):
            parent[rnd.choice(["extra", "station_allowed", "price_seen", "parcels", "Item"])] = (
                value
            )
        elif how < 0.3 and isinstance(parent, list):
            parent.append(parent[last])  # a repeated evidence item: a duplicate id
        else:
            parent[last] = value
    return data


def _deep(depth: int) -> Any:
    value: Any = 1
    for n in range(depth):
        value = [value] if n % 2 else {"k": value}
    return value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(_BASE),
    seed=st.integers(0, 2**32),
    ascii_only=st.booleans(),
    declared=st.booleans(),
)
def test_mutated_cases_read_the_same_both_ways(
    base: dict[str, Any], seed: int, ascii_only: bool, declared: bool
) -> None:
    rnd = random.Random(seed)
    data = _mutate(base, rnd)
    evidence = data.get("evidence") if isinstance(data, dict) else None
    if rnd.random() < 0.1 and isinstance(evidence, list) and evidence:
        item = evidence[0]
        if isinstance(item, dict):
            item["attributes"] = {"deep": _deep(rnd.choice((30, 31, 32, 33, 34, 40)))}
    raw = json.dumps(data, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    _agree(raw, DECLARED if declared else None)


@settings(max_examples=300, deadline=None)
@given(base=st.sampled_from(_BASE), cut=st.integers(0, 4000), junk=st.binary(max_size=4))
def test_damaged_bytes_read_the_same_both_ways(base: dict[str, Any], cut: int, junk: bytes) -> None:
    raw = json.dumps(base, ensure_ascii=False).encode()
    cut %= len(raw)
    _agree(raw[:cut] + junk + raw[cut + len(junk) :])
    _agree(raw[:cut] + junk + raw[cut:])


def _with_number(text: str, slot: int) -> bytes:
    case = json.loads(json.dumps(_BASE[2]))
    case["evidence"] = [{"id": "E1", "party": "buyer", "kind": "k", "attributes": {"n": "@"},
                         "submitted_at": case["dispute"]["refund_requested_at"]}]  # fmt: skip
    if slot == 0:
        case["order"]["item_amount"] = "@"
    elif slot == 1:
        case["dispute"]["claimed_amount"] = "@"
    elif slot == 2:
        case["dispute"]["prior_interventions"] = "@"
    raw = json.dumps(case).replace('"@"', "0", 1 if slot < 3 else 0)
    return raw.replace('"@"', text).encode()


_NUMBERS = [
    "0",
    "-0",
    "0.0",
    "-0.0",
    "1",
    "0.01",
    "0.001",
    "1e2",
    "1E-2",
    "1.10",
    "459.00",
    "999999999999.99",
    "1000000000000",
    "1000000000000.01",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "1e400",
    "1e-400",
    "123456789" * 3,
]


@pytest.mark.parametrize("text", _NUMBERS)
@pytest.mark.parametrize("slot", [0, 1, 2, 3])
def test_numbers_at_the_edges_read_the_same_both_ways(text: str, slot: int) -> None:
    _agree(_with_number(text, slot))


@settings(max_examples=300, deadline=None)
@given(
    number=st.one_of(st.floats(allow_nan=False), st.integers(), st.decimals(places=2)),
    slot=st.integers(0, 3),
)
def test_numbers_read_the_same_both_ways(number: Any, slot: int) -> None:
    """orjson and json read a number alike wherever the fast path keeps it."""
    text = str(number) if isinstance(number, Decimal) else json.dumps(number)
    _agree(_with_number(text, slot))


@pytest.mark.parametrize("depth", range(28, 38))
def test_nesting_at_the_limit_reads_the_same_both_ways(depth: int) -> None:
    case = json.loads(json.dumps(_BASE[2]))
    case["evidence"] = [{"id": "E1", "party": "buyer", "kind": "k",
                         "attributes": {"deep": _deep(depth), "wide": [_deep(depth - 1)]},
                         "submitted_at": case["dispute"]["refund_requested_at"]}]  # fmt: skip
    assert _agree(json.dumps(case).encode()) == (depth <= 32)


def _richest() -> dict[str, Any]:
    """A generated case with every section filled: an appeal, a decision with earlier ones."""
    case = json.loads(json.dumps(max(_BASE, key=lambda c: len(_paths(c)))))
    when = case["dispute"]["intervention_requested_at"]
    case["dispute"]["appeal"] = {"party": "seller", "filed_at": when, "ruling": "refund",
                                 "ruled_at": when}  # fmt: skip
    case["decision"] = {"ruling": "refund", "refund_amount": 1.5, "compensation_amount": 0,
                        "decided_at": when, "decided_by": "a", "reason": "b", "rules_digest": "c",
                        "earlier": [{"ruling": "pay_seller", "decided_at": when}]}  # fmt: skip
    case["evidence"][0]["attributes"]["nested"] = {"list": [1, 2.5, None, True, {"a": "b"}]}
    return case


def test_every_value_in_every_place_reads_the_same_both_ways() -> None:
    """Each field of a full case replaced by each value of a hostile list, deleted, or joined
    by an unknown one, one change at a time: what the fast path takes is what the full path
    builds, and it takes every change the full path accepts (but whole numbers orjson reads as
    floats, and floats as large)."""
    case = _richest()
    assert _agree(json.dumps(case, ensure_ascii=False).encode())
    values = [*_VALUES[:-1], "x" * 100_000, "x" * 100_001, _deep(32), _deep(33)]
    taken = 0
    for path in _paths(case)[1:]:
        for value in [*values, _DELETE, _UNKNOWN]:
            changed = json.loads(json.dumps(case))
            parent = changed
            for segment in path[:-1]:
                parent = parent[segment]
            if value is _DELETE:
                del parent[path[-1]]
            elif value is _UNKNOWN:
                if not isinstance(parent, dict):
                    continue
                parent["unknown"] = 1
            else:
                parent[path[-1]] = value
            raw = json.dumps(changed, ensure_ascii=False).encode("utf-8", "surrogatepass")
            took = _agree(raw)
            taken += took
            beyond_orjson = (  # read as a float by orjson, or a float that could be one
                isinstance(value, int) and not -(2**63) <= value < 2**64
            ) or (isinstance(value, float) and abs(value) >= 2**63)
            assert took == isinstance(_full(raw, None), Case) or beyond_orjson, (path, value)
    assert taken > 1000


_DELETE, _UNKNOWN = object(), object()


def test_a_declaration_the_fast_path_does_not_know_leaves_every_line_to_the_full_path() -> None:
    raw = json.dumps(_BASE[0]).encode()
    assert quick_case(raw, SourceLoc(path=SOURCE, line=1)) is not None
    odd: DeclaredFields = {"order": {"weights": Type("list", ("a",))}}
    assert quick_case(raw, SourceLoc(path=SOURCE, line=1), odd) is None
    over: DeclaredFields = {"order": {"item": Type("text")}}
    assert quick_case(raw, SourceLoc(path=SOURCE, line=1), over) is None


def test_declared_fields_are_typed_and_gathered_as_the_full_path_does() -> None:
    case = json.loads(json.dumps(_BASE[0]))
    case["order"].update(station_name="菜鸟驿站", station_allowed=True, channel="app", parcels=2)
    case["dispute"]["price_seen"] = 12.5
    raw = json.dumps(case, ensure_ascii=False).encode()
    assert _agree(raw, DECLARED)
    read = quick_case(raw, SourceLoc(path=SOURCE, line=1), DECLARED)
    assert read is not None
    assert read.order.extra == (
        ("channel", "app"), ("parcels", 2), ("station_allowed", True), ("station_name", "菜鸟驿站")
    )  # fmt: skip
    assert read.dispute.extra == (("price_seen", Decimal("12.5")),)
    assert quick_case(raw, SourceLoc(path=SOURCE, line=1)) is None  # undeclared: not taken


def test_parse_jsonl_line_takes_the_fast_path_by_default() -> None:
    raw = json.dumps(_BASE[4], ensure_ascii=False).encode()
    fast = parse_jsonl_line(raw, source=SOURCE, line=3)
    slow = parse_jsonl_line(raw, source=SOURCE, line=3, quick=False)
    assert _shape(fast) == _shape(slow)


@pytest.mark.parametrize(
    ("before", "after", "taken"),
    [
        (b"", b"\r\n", True),
        (b"  ", b" \t\r\r\n", True),
        (b"", b"\n\n", True),
        (b"\xef\xbb\xbf", b"\n", False),  # a byte-order mark: orjson refuses it, json skips it
        (b"", b"\x0c", False),
    ],
)
def test_line_ends_and_marks_read_the_same_both_ways(
    before: bytes, after: bytes, taken: bool
) -> None:
    raw = json.dumps(_BASE[0], ensure_ascii=False).encode()
    assert _agree(before + raw + after) == taken


def test_a_shards_reader_reads_as_quick_case_does() -> None:
    lines = [line.encode() for line in case_lines(200, seed=5, invalid_rate=0.1)]
    odd: DeclaredFields = {"order": {"weights": Type("list", ("a",))}}
    for fields in (None, {}, DECLARED, odd):
        read = quick_reader(fields)
        for n, raw in enumerate(lines, 1):
            loc = SourceLoc(path=SOURCE, line=n)
            assert _shape(read(raw, loc)) == _shape(quick_case(raw, loc, fields))
    assert all(quick_reader(odd)(raw, SourceLoc(path=SOURCE)) is None for raw in lines)


def test_a_source_loc_made_fast_is_the_one_its_constructor_makes() -> None:
    made = source_loc(SOURCE, 12)
    assert type(made) is SourceLoc
    assert made == SourceLoc(path=SOURCE, line=12)
    assert _shape(made) == _shape(SourceLoc(path=SOURCE, line=12))
    assert hash(made) == hash(SourceLoc(path=SOURCE, line=12))
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.line = 3  # type: ignore[misc]


@dataclasses.dataclass(frozen=True, slots=True)
class _Base:
    first: int = 0


@dataclasses.dataclass(frozen=True, slots=True)
class _Derived(_Base):  # slots of its own and its base's: no twin, each slot set instead
    second: str = ""


@dataclasses.dataclass(frozen=True)
class _Plain:  # no slots: made by its constructor
    first: int = 0


@pytest.mark.parametrize("cls", [SourceLoc, _Base, _Derived, _Plain])
def test_records_are_made_as_their_constructor_makes_them(cls: type[Any]) -> None:
    names = [field.name for field in dataclasses.fields(cls)]
    values = {"path": "a.jsonl", "line": 4, "column": 2, "first": 7, "second": "x"}
    made = maker(cls)(*(values[name] for name in names))
    expected = cls(**{name: values[name] for name in names})
    assert type(made) is cls
    assert made == expected and _shape(made) == _shape(expected)
    assert (twin(cls) is None) == (cls is not SourceLoc and cls is not _Base)


@pytest.mark.parametrize("part", ["round", "scored", "issue", "ruling", "next_step", "reason"])
def test_result_types_are_made_as_their_constructor_makes_them(
    scorers: dict[str, Any], part: str
) -> None:
    # Round, Scored and IssueResult are classes of mypyc when the scoring path runs compiled
    # (their fields in a C struct, no twin): each field is set by its descriptor
    path = CASEFILES / "damaged-receipt-confirmed-one-view-buyer-not-asked.yaml"
    scored = scorers["reference"].score(load_case(path))
    assert scored.ruling.next_step is not None  # the buyer is asked for more evidence
    obj = {
        "round": scored.rounds[0], "scored": scored, "issue": scored.issues[0],
        "ruling": scored.ruling, "next_step": scored.ruling.next_step,
        "reason": scored.ruling.next_step.what,
    }[part]  # fmt: skip
    cls = type(obj)
    values = {field.name: getattr(obj, field.name) for field in dataclasses.fields(cls)}
    made = maker(cls)(**values)
    assert type(made) is cls
    assert made == obj == cls(**values)
    assert all(getattr(made, name) is value for name, value in values.items())
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, next(iter(values)), None)
