"""The quick paths of case preparation mean what the plain ones do.

Predicates are given their parameter-only arguments once per set of parameter values, evidence
attributes are typed by a function chosen once per declared type, file types skip the path split
for plain names, and generated code calls each value operation's implementation directly. Here
each is compared with the meaning it stands for, written out plainly: on the sample cases and a
generated archive, and on odd values (None, booleans, huge numbers, wrong types).
"""

from __future__ import annotations

import hashlib
import random
import unicodedata
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import PurePosixPath
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from batchdata import archive_cases
from conftest import golden_cases

from engine import Program, Scorer
from engine.cases.attributes import file_type, fingerprint, typed, typer
from engine.cases.load import load_case
from engine.cases.names import scripts
from engine.model import Case, Evidence, Record, Type
from engine.rules.predicates import predicate_test
from engine.rules.program import Expr, FieldRef
from engine.rules.schema import SINGLETONS
from engine.run.facts import prepare, round_facts
from engine.run.values import CALLS, OPERATIONS, binary, call, compile_value, epoch_seconds

# what each predicate means, written out plainly (engine.rules.predicates's documentation)
MEANING = {
    "all_in": lambda s, a: all(str(x).lower() in {str(o).lower() for o in a} for x in s),
    "any_in": lambda s, a: any(str(x).lower() in {str(o).lower() for o in a} for x in s),
    "contains": lambda s, a: a in s,
    "contains_any": lambda s, a: any(str(word) in s for word in a),
    "all_have": lambda s, a: all(
        isinstance(r, dict | Record) and r.get(a) not in (None, "") for r in s
    ),
}


def _cases(program: Program) -> list[Case]:
    return [load_case(path) for path in golden_cases()] + archive_cases(program, 600, seed=23)


def test_every_predicate_in_the_facts_is_what_the_predicate_means(
    program: Program, scorers: dict[str, Scorer]
) -> None:
    plan = scorers["reference"].plan
    assert program.predicates
    seen = 0
    for case in _cases(program):
        prepared = prepare(plan, case)
        assert prepare(plan, case).evidence == prepared.evidence  # the kept tests, used again
        env = prepared.env
        facts: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {
            "evidence": list(zip(prepared.evidence, prepared.evidence_env, strict=True)),
        }
        for name in SINGLETONS:
            if name in prepared.singletons:
                facts[name] = [(prepared.singletons[name], env[name])]
        for pred in program.predicates:
            subject_ref = pred.args[0].value
            assert isinstance(subject_ref, FieldRef)
            for fact, domain in facts.get(pred.alias_type, []):
                subject = domain.get(subject_ref.field)
                args = [compile_value(arg)(env) for arg in pred.args[1:]]
                if subject is None or any(arg is None for arg in args):
                    assert pred.field not in fact
                    continue
                assert fact[pred.field] == MEANING[pred.function](subject, args[0]), pred.text
                seen += 1
    assert seen > 1000


def test_before_any_status_is_known_a_round_has_the_evidence_facts_as_built(
    program: Program, scorers: dict[str, Scorer]
) -> None:
    plan = scorers["reference"].plan
    for case in _cases(program)[:200]:
        prepared = prepare(plan, case)
        facts = round_facts(plan, prepared, 0, {}, None)
        evidence = [fact for fact in facts if fact["__type"] == "evidence"]
        assert evidence == prepared.evidence
        assert all(a is b for a, b in zip(evidence, prepared.evidence, strict=True))


ODD_VALUES: list[Any] = [
    None, True, False, 0, 1, -7, 2**53, 2**53 + 1, -(2**60), 1.5, float("nan"), float("inf"),
    Decimal("2.50"), Decimal("NaN"), Decimal("1e400"), "", " ", "x", "72h", "1d12h", "3d",
    "h", "2024-10-13T08:50:18.650317+08:00", "2024-10-13T08:50:18", "not a time", "panorama",
    "closeup", ["panorama"], ["panorama", "other"], [1, 2], ("closeup",), [], {"a": 1},
    datetime(2024, 1, 1, tzinfo=UTC), timedelta(hours=1),
]  # fmt: skip
TYPES = [
    Type("text"), Type("name"), Type("enum", ("panorama", "closeup")), Type("integer"),
    Type("number"), Type("money"), Type("boolean"), Type("time"), Type("duration"),
    Type("list"), Type("list", ("panorama", "closeup")), Type("unknown"),
]  # fmt: skip


@pytest.mark.parametrize("type_", TYPES, ids=str)
def test_typing_with_a_chosen_function_is_typing(type_: Type) -> None:
    as_type = typer(type_)
    for raw in ODD_VALUES:
        expected, got = typed(raw, type_), as_type(raw)
        assert type(got) is type(expected), raw
        assert got == expected or (got != got and expected != expected), raw  # NaN is NaN


@pytest.mark.parametrize(
    "name",
    [
        "photo.JPG", "a.b.c.png", "noext", ".hidden", "name.", ".", "", "dir/x.pdf", "dir/",
        "dir/.", "a/b/./", "/abs/p.Tar", "x/.gz", "..", "a..b", "dir.d/file", "dir.d/file/",
    ],
)  # fmt: skip
def test_a_file_type_is_the_suffix_of_the_last_part_of_its_path(name: str) -> None:
    assert file_type(name) == PurePosixPath(name).suffix[1:].lower()


def test_the_fingerprint_digests_the_kind_and_the_sorted_attributes() -> None:
    message = Record((("at", "2024-10-10T23:52:48+08:00"), ("text", "亲，在吗")))
    for attributes in [
        (),
        (("text", "说明情况"),),
        (("z", 1), ("a", True), ("m", None)),
        (("messages", (message, message)), ("seller_promise", False)),
        (("n", 1.5), ("d", Decimal("2.50")), ("l", ["a", "张"]), ("q", 'it\'s "x"\n')),
        (["z", 1], ("a", 1, 2), ("b",)),  # not pairs: each as its own repr says
    ]:
        item = Evidence(
            id="E1", party="buyer", kind="chat_log", attributes=attributes,
            submitted_at=datetime(2024, 1, 1, tzinfo=UTC),
        )  # fmt: skip
        body = repr((item.kind, sorted(item.attributes, key=lambda kv: kv[0])))
        assert fingerprint(item) == hashlib.blake2b(body.encode(), digest_size=16).hexdigest()


NUMBERS: list[Any] = [
    None, 0, 3, Decimal("0"), Decimal("2.5"), Decimal("-1.005"), timedelta(hours=2),
    timedelta(0), datetime(2024, 1, 1, tzinfo=UTC),
]  # fmt: skip


def _outcome(function: Any, *args: Any) -> Any:
    try:
        return ("value", function(*args))
    except Exception as error:  # noqa: BLE001 - the same failure either way is the point
        return ("error", type(error))


@pytest.mark.parametrize("op", sorted(OPERATIONS))
def test_each_operation_called_directly_is_the_operation(op: str) -> None:
    implementation, arity = OPERATIONS[op]
    assert arity == 2
    for a in NUMBERS[1:]:
        for b in NUMBERS[1:]:
            assert _outcome(implementation, a, b) == _outcome(binary, op, a, b), (a, b)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_each_call_called_directly_is_the_call(name: str) -> None:
    implementation, arity = CALLS[name]
    for a in NUMBERS:
        for b in NUMBERS:
            for c in NUMBERS:
                args = [a, b, c][: arity or 3]
                direct = _outcome(implementation, args) if arity is None else None
                if arity is not None:
                    direct = _outcome(implementation, *args)
                assert direct == _outcome(call, name, args), (name, args)


def test_a_call_whose_arguments_do_not_fit_fails_as_the_evaluator_would() -> None:
    number = Type("number")
    one = Expr(op="const", type=number, value=Decimal("1"))
    clamp_of_two = Expr(op="call", type=number, value="clamp", args=(one, one))
    with pytest.raises(ValueError, match="not enough values"):
        compile_value(clamp_of_two)({})
    hours_of_two = Expr(op="call", type=Type("duration"), value="hours", args=(one, one))
    assert compile_value(hours_of_two)({}) == timedelta(hours=1)


def _times() -> list[Any]:
    """Times a case can hold, and odder ones: fixed offsets of whole hours, of seconds and of
    microseconds, a zone with summer time, naive, before 1970, past 2242 (where a float
    timestamp no longer has microseconds), with and without microseconds."""
    zones: list[Any] = [
        UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30)),
        timezone(timedelta(hours=23, minutes=59, seconds=59)), timezone(timedelta(seconds=-1)),
        timezone(timedelta(seconds=1, microseconds=5)), ZoneInfo("Europe/Berlin"), None,
    ]  # fmt: skip
    rng = random.Random(5)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    seconds = [0, -1, 1, 2**33 - 1, 2**33, 2**33 + 1, 1.7e9, -1e9, 2.5e11, -6.2e10]
    seconds += [rng.uniform(-6.2e10, 2.5e11) for _ in range(300)]
    seconds += [rng.uniform(1e9, 2e9) for _ in range(300)]
    times: list[Any] = []
    for n, s in enumerate(seconds):
        for micro in (None, 0, 1, 500_000, 999_999):
            zone = zones[(n + (micro or 0)) % len(zones)]
            try:
                when = (epoch + timedelta(seconds=s)).astimezone(zone) if zone else epoch
            except (OverflowError, ValueError):
                continue
            when = when if micro is None else when.replace(microsecond=micro)
            times.append(when if zone else (epoch + timedelta(seconds=s)).replace(tzinfo=None))
    times.append(datetime.fromisoformat("2024-10-13T08:50:18.650317+08:00"))
    times.append(datetime.max.replace(tzinfo=timezone(timedelta(hours=-1))))
    times.append(datetime.min.replace(tzinfo=timezone(timedelta(hours=1))))
    return times


def test_a_times_epoch_seconds_are_its_timestamp_as_an_integer() -> None:
    for when in _times():
        assert _outcome(epoch_seconds, when) == _outcome(lambda t: int(t.timestamp()), when), when


def test_a_time_that_is_not_a_plain_aware_datetime_is_converted_by_its_timestamp() -> None:
    class Shifted(datetime):
        def timestamp(self) -> float:
            return 1.0

    when = Shifted(2024, 1, 1, tzinfo=UTC)
    assert epoch_seconds(when) == 1
    for odd in (None, "2024-01-01", 3, date(2024, 1, 1)):
        assert _outcome(epoch_seconds, odd) == _outcome(lambda t: int(t.timestamp()), odd)


def _plain_scripts(text: str) -> frozenset[str]:
    """What ``scripts`` means, written out plainly: the first word of each letter's Unicode
    name (HAN for CJK ideographs), after NFKC folding."""
    found = set()
    for ch in unicodedata.normalize("NFKC", text):
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            if name.startswith("CJK"):
                found.add("HAN")
            elif name:
                found.add(name.split(" ")[0])
    return frozenset(found)


@pytest.mark.parametrize(
    "text",
    [
        "", " ", "123", "John Smith", "a", "-", "张伟", "王秀英", "张伟·李", "张 伟", "张a",
        "Алексей", "张\u0430", "\u4e00", "\u9fff", "\u3400", "\u9fa5\u9fff", "ｚｈａｎｇ", "張偉",
        "\u4e00\n", "Ωmega", "é", "x\u200b", "\U00020000",
    ],
)  # fmt: skip
def test_the_scripts_of_a_text_are_those_of_its_letters(text: str) -> None:
    assert scripts(text) == _plain_scripts(text)


def test_an_issue_score_in_its_fact_is_its_conversion_seen_before_or_not(
    scorers: dict[str, Scorer],
) -> None:
    plan = scorers["reference"].plan
    scores: list[Any] = [
        Decimal("0"), Decimal("-0"), Decimal("0.00"), Decimal("0.9"), Decimal("0.90"),
        Decimal("0.00005"), Decimal("-0.00005"), Decimal("0.000049999"), Decimal("1e30"),
        Decimal("1.0000000000000000000000000000001"), Decimal("NaN"), Decimal("sNaN"),
        Decimal("Infinity"), 0, 1, True, 0.5, 0.1, "0.5",
    ]  # fmt: skip
    for _ in range(2):  # the second time from what was kept
        for score in scores:
            assert _outcome(plan.score_fact, score) == _outcome(plan.score_to_fact, score), score


@pytest.mark.parametrize("function", ["all_in", "any_in"])
def test_a_membership_predicate_is_its_meaning_on_odd_lists(function: str) -> None:
    options: list[Any] = [("jpg", "PNG"), ["Pdf"], (), ("1", "true", "None")]
    subjects: list[Any] = [
        (), ("jpg",), ("JPG", "png"), ("jpg", "gif"), ("gif", "jpg"), [1, True, None],
        ("pdf", "PDF"), "jpg", "pdf", ("ＪＰＧ",), ("İ",),
    ]  # fmt: skip
    for arg in options:
        test = predicate_test(function, arg)
        for subject in subjects:
            assert test(subject) == MEANING[function](subject, arg), (arg, subject)
