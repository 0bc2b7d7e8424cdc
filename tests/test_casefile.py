"""engine.cases.load: casefile/1 documents (YAML, JSON, JSON Lines) -> Case, or an error."""

from __future__ import annotations

import copy
import gzip
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cases import checks
from engine.cases import load as casefile
from engine.cases.load import case_from_data, iter_jsonl, load_case, load_cases, parse_case
from engine.errors import CaseFileError
from engine.model import (
    Case,
    Decision,
    Dispute,
    Evidence,
    EvidenceFile,
    Order,
    SourceLoc,
)

ROOT = Path(__file__).resolve().parent.parent
DATA = "tests/data/casefiles"
CST = timezone(timedelta(hours=8))


@pytest.fixture(autouse=True)
def _at_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Error messages name files as given: run from the project root so they read the same."""
    monkeypatch.chdir(ROOT)


def valid_data() -> dict[str, Any]:
    """The contract's example case as plain data (times as strings, as a JSON reader gives them)."""
    data = json.loads((ROOT / DATA / "valid.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def message(path: str) -> str:
    with pytest.raises(CaseFileError) as caught:
        load_case(path)
    return str(caught.value)


def test_public_api() -> None:
    assert casefile.__all__ == [
        "case_from_data",
        "iter_jsonl",
        "load_case",
        "load_cases",
        "oversized_line",
        "parse_case",
        "parse_jsonl_line",
    ]


# --- the contract's example ---------------------------------------------------------------------


def test_the_contract_example_loads_into_the_model() -> None:
    case = load_case(f"{DATA}/valid.yaml")

    assert case == Case(
        case_id="TB-2024-000123",
        platform="taobao",
        order=Order(
            order_id="3012345678",
            item="羊毛混纺大衣 黑色 M",
            item_amount=Decimal("459.00"),
            shipping_fee=Decimal("0"),
            goods_type="physical",
            supports_7day_return=True,
            promised_ship_hours=48,
            recipient_name="张伟",
            courier="中通快递",
            tracking_no="75312345678901",
            paid_at=datetime(2024, 3, 1, 10, 0, tzinfo=CST),
            shipped_at=datetime(2024, 3, 1, 18, 30, tzinfo=CST),
            delivered_at=datetime(2024, 3, 3, 14, 12, tzinfo=CST),
            receipt_confirmed_at=None,
        ),
        dispute=Dispute(
            type="not_received",
            service="refund_only",
            claimed_amount=Decimal("459.00"),
            reason="物流显示已签收但本人未收到",
            refund_requested_at=datetime(2024, 3, 5, 9, 0, tzinfo=CST),
            seller_refused_at=datetime(2024, 3, 5, 20, 0, tzinfo=CST),
            intervention_requested_at=datetime(2024, 3, 6, 10, 0, tzinfo=CST),
            prior_interventions=0,
            appeal=None,
        ),
        evidence=(
            Evidence(
                id="E1",
                party="seller",
                kind="signed_receipt",
                submitted_at=datetime(2024, 3, 7, 11, 20, tzinfo=CST),
                attributes=(
                    ("issuer", "中通快递"),
                    ("tracking_no", "75312345678901"),
                    ("signer_name", "张伟"),
                    ("copy_no", 1),
                    ("red_stamp", False),
                ),
                files=(EvidenceFile(name="slip.jpg", sha256=None),),
            ),
        ),
        decision=None,
    )
    assert isinstance(case.order.item_amount, Decimal)
    assert case.order.paid_at.utcoffset() == timedelta(hours=8)
    assert case.source == SourceLoc(path=f"{DATA}/valid.yaml", line=1)
    assert case.evidence[0].loc == SourceLoc(path=f"{DATA}/valid.yaml", line=34, column=5)
    assert case.evidence[0].attribute("copy_no") == 1


def test_the_same_case_as_json_is_equal() -> None:
    from_yaml = load_case(f"{DATA}/valid.yaml")
    from_json = load_case(f"{DATA}/valid.json")

    assert from_json == from_yaml
    assert from_json.evidence[0].loc == SourceLoc(path=f"{DATA}/valid.json", line=36, column=5)


def test_the_same_case_given_as_data_is_equal() -> None:
    assert case_from_data(valid_data(), source="x") == load_case(f"{DATA}/valid.yaml")


def test_optional_fields_take_their_defaults_when_absent_or_null() -> None:
    data = valid_data()
    for field in ("shipping_fee", "supports_7day_return", "promised_ship_hours", "item"):
        del data["order"][field]
    data["dispute"]["prior_interventions"] = None
    del data["evidence"][0]["attributes"], data["evidence"][0]["files"], data["format"]

    case = case_from_data(data, source="x")

    assert case.order.shipping_fee == 0
    assert case.order.supports_7day_return is True
    assert case.order.promised_ship_hours is None
    assert case.order.item is None
    assert case.dispute.prior_interventions == 0
    assert case.evidence[0].attributes == () and case.evidence[0].files == ()


def test_appeal_decision_and_nested_attributes() -> None:
    data = valid_data()
    data["dispute"]["appeal"] = {
        "party": "seller",
        "filed_at": "2024-03-10T08:00:00Z",
        "ruling": "refund",
        "ruled_at": "2024-03-09T18:00:00+08:00",
    }
    data["decision"] = {"ruling": "pay_seller", "refund_amount": 0, "decided_at": None}
    data["evidence"][0]["attributes"] = {"pages": [1, [2, 3]], "box": {"b": 1, "a": None}}

    case = case_from_data(data, source="x")

    assert case.dispute.appeal is not None
    assert case.dispute.appeal.filed_at == datetime(2024, 3, 10, 8, 0, tzinfo=UTC)
    assert case.decision == Decision(ruling="pay_seller", refund_amount=Decimal(0))
    # lists become tuples; mappings keep the file's order, as (key, value) pairs
    assert case.evidence[0].attributes == (("pages", (1, (2, 3))), ("box", (("b", 1), ("a", None))))


def test_unquoted_ids_are_read_as_written() -> None:
    text = (ROOT / DATA / "valid.yaml").read_text(encoding="utf-8")
    text = text.replace('order_id: "3012345678"', "order_id: 3012345678")
    text = text.replace(
        'tracking_no: "75312345678901"\n  paid', "tracking_no: 075312345678901\n  paid"
    )

    case = parse_case(text, source="x.yaml", fmt="yaml")

    assert case.order.order_id == "3012345678"
    assert case.order.tracking_no == "075312345678901"  # not an octal number, not 75312345678901


# --- broken files: the whole message, location included -----------------------------------------

BROKEN = {
    "missing_field.yaml": """\
tests/data/casefiles/missing_field.yaml:5:3: order.paid_at: required field is missing
tests/data/casefiles/missing_field.yaml:9:3: dispute.service: required field is missing""",
    "time_without_offset.yaml": """\
tests/data/casefiles/time_without_offset.yaml:18:19: evidence[0].submitted_at: \
time '2024-03-07T11:20:00' has no UTC offset
    add the offset, e.g. 2024-03-07T11:20:00+08:00""",
    "amount_three_decimals.yaml": """\
tests/data/casefiles/amount_three_decimals.yaml:5:16: order.item_amount: \
amount 120.505 has more than two decimal places
    amounts are CNY to the fen: round it, e.g. to 120.51""",
    "amount_as_string.yaml": """\
tests/data/casefiles/amount_as_string.yaml:11:19: dispute.claimed_amount: \
expected an amount in CNY (a number), got the string '120.50'
    write it as a number, without quotes: 120.50""",
    "unknown_key.yaml": """\
tests/data/casefiles/unknown_key.yaml:8:3: order.reciept_confirmed_at: unknown field
    did you mean 'receipt_confirmed_at'?""",
    "duplicate_key.yaml": """\
tests/data/casefiles/duplicate_key.yaml:8:3: order.paid_at: duplicate key 'paid_at' \
(first at line 6)
    remove one of them: a YAML reader would silently keep the last""",
    "duplicate_evidence_id.yaml": """\
tests/data/casefiles/duplicate_evidence_id.yaml:19:9: evidence[1].id: \
duplicate evidence id 'E1' (also evidence[0])
    give each evidence item its own id""",
    "bad_enum.yaml": """\
tests/data/casefiles/bad_enum.yaml:2:11: platform: 'taoboa' is not one of taobao, tmall
    did you mean 'taobao'?
tests/data/casefiles/bad_enum.yaml:16:12: evidence[0].party: \
'merchant' is not one of buyer, seller, platform""",
    "yaml_syntax.yaml": """\
tests/data/casefiles/yaml_syntax.yaml:5:11: invalid YAML: \
mapping values are not allowed in this context""",
    "json_syntax.json": """\
tests/data/casefiles/json_syntax.json:4:38: invalid JSON: \
Expecting property name enclosed in double quotes""",
    "json_bad_values.json": """\
tests/data/casefiles/json_bad_values.json:8:16: order.paid_at: \
time '2024-03-01 10:00' has no UTC offset
    add the offset, e.g. 2024-03-01T10:00:00+08:00
tests/data/casefiles/json_bad_values.json:9:5: order.recipent_name: unknown field
    did you mean 'recipient_name'?""",
    "top_level_list.yaml": """\
tests/data/casefiles/top_level_list.yaml:1:1: expected a case (a mapping of fields), got a list
    a case file holds one case; put many in a directory or a .jsonl file""",
    "empty.yaml": """\
tests/data/casefiles/empty.yaml: the file is empty
    a case file holds one case: a mapping with case_id, platform, order, dispute, ...""",
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_a_broken_file_gives_a_located_error(name: str) -> None:
    assert message(f"{DATA}/{name}") == BROKEN[name]


def test_every_broken_file_is_tested() -> None:
    on_disk = {p.name for p in (ROOT / DATA).iterdir()} - {"valid.yaml", "valid.json"}
    assert on_disk == set(BROKEN) | {"many_problems.yaml"}


def test_every_problem_of_a_document_is_reported_in_file_order() -> None:
    f = "tests/data/casefiles/many_problems.yaml"
    assert (
        message(f)
        == f"""\
{f}:1:9: format: expected casefile/1, got the string 'casefile/2'
    this version reads casefile/1
{f}:2:10: case_id: expected a non-empty string, got the string ''
{f}:6:16: order.item_amount: amount must be >= 0, got -5
{f}:7:17: order.shipping_fee: expected an amount in CNY (a number), got true
{f}:9:24: order.promised_ship_hours: expected a whole number >= 1, got the number 0
{f}:10:12: order.paid_at: 'yesterday' is not an ISO-8601 time
    write it like 2024-03-01T10:00:00+08:00
{f}:14:19: dispute.claimed_amount: amount must be > 0, got 0
{f}:16:30: dispute.intervention_requested_at: time '2024-03-06' has no UTC offset
    add the offset, e.g. 2024-03-06T00:00:00+08:00
{f}:17:24: dispute.prior_interventions: expected a whole number >= 0, got the number 1.5
{f}:18:3: dispute.apeal: unknown field
    did you mean 'appeal'?
{f}:24:17: evidence[0].attributes: expected a mapping, got a list
{f}:26:34: evidence[0].files[0].sha256: \
expected a SHA-256 digest (64 hex digits) or null, got the string 'abc'
{f}:27:5: evidence[1]: expected a mapping of fields, got the string 'just a string'
{f}:29:11: decision.ruling: 'pay_sellr' is not one of refund, partial_refund, return_and_refund, \
exchange, compensate, pay_seller, not_admissible, withdrawn, appeal_rejected, request_evidence, \
refer_to_arbitrator
    did you mean 'pay_seller'?"""
    )


def test_each_problem_carries_its_location_and_field_path() -> None:
    with pytest.raises(CaseFileError) as caught:
        load_case(f"{DATA}/time_without_offset.yaml")
    (problem,) = caught.value.problems
    assert problem.loc == SourceLoc(path=f"{DATA}/time_without_offset.yaml", line=18, column=19)
    assert problem.path == caught.value.path == "evidence[0].submitted_at"
    assert caught.value.loc == problem.loc


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "a: &x [1]\nb: *x\n",
            "x.yaml:1:4: a: anchors and aliases (&name, *name) are not supported in case files\n"
            "    write the value out where it is used",
        ),
        (
            "a: &x [*x]\n",
            "x.yaml:1:4: a: anchors and aliases (&name, *name) are not supported in case files\n"
            "    write the value out where it is used",
        ),
        (
            "a: 1\n---\nb: 2\n",
            "x.yaml:2:1: invalid YAML: found another document\n"
            "    expected a single document in the stream at line 1, column 1",
        ),
        (
            "a: \x00\n",
            "x.yaml:1:4: invalid YAML: control characters are not allowed\n"
            "    remove the character",
        ),
        (
            "!!python/object:os.system {}\n",
            "x.yaml:1:1: invalid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object:os.system'",
        ),
        ("[" * 50_000, "x.yaml:1:101: the document is nested more than 100 levels deep"),
        ("- " * 50_000 + "x", "x.yaml:1:201: the document is nested more than 100 levels deep"),
        (
            b"case_id: \xff\n",
            "x.yaml:1:10: not UTF-8 text: byte 0xff cannot be decoded\n    save the file as UTF-8",
        ),
        (
            b"\xef\xbb\xbfcase_id: \xff\n",
            "x.yaml:1:10: not UTF-8 text: byte 0xff cannot be decoded\n    save the file as UTF-8",
        ),
        (
            "\ud800",
            "x.yaml:1:1: not UTF-8 text: byte 0xed cannot be decoded\n    save the file as UTF-8",
        ),
        (
            "just text\n",
            "x.yaml:1:1: expected a case (a mapping of fields), got the string 'just text'\n"
            "    a case file holds one case: a mapping with case_id, platform, order, dispute, ...",
        ),
    ],
    ids=[
        "alias",
        "recursive-alias",
        "two-documents",
        "control-character",
        "python-tag",
        "deep-flow",
        "deep-block",
        "bad-byte",
        "bad-byte-after-a-byte-order-mark",
        "lone-surrogate",
        "scalar",
    ],
)
def test_hostile_yaml_gives_a_located_error(text: str | bytes, expected: str) -> None:
    with pytest.raises(CaseFileError) as caught:
        parse_case(text, source="x.yaml", fmt="yaml")
    assert str(caught.value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '{"case_id": 1, "case_id": 2}',
            "x.json: duplicate key 'case_id'\n"
            "    remove one of them: a JSON reader would silently keep the last",
        ),
        ("[" * 50_000, "x.json: invalid JSON: nested too deeply"),
        (
            "NaN",
            "x.json:1:1: expected a case (a mapping of fields), got the number nan\n"
            "    a case file holds one case: a mapping with case_id, platform, order, dispute, ...",
        ),
        (
            " \n\t",
            "x.json: the file is empty\n"
            "    a case file holds one case: a mapping with case_id, platform, order, dispute, ...",
        ),
    ],
    ids=["duplicate-key", "deep", "nan", "blank"],
)
def test_hostile_json_gives_a_located_error(text: str, expected: str) -> None:
    with pytest.raises(CaseFileError) as caught:
        parse_case(text, source="x.json", fmt="json")
    assert str(caught.value) == expected


def test_a_file_of_another_kind_or_missing_is_a_case_file_error() -> None:
    assert message("README.md") == (
        "README.md: not a case file: extension .md\n"
        "    name it .yaml, .yml or .json; for .jsonl use load_cases"
    )
    assert message(f"{DATA}/nowhere.yaml") == (
        f"{DATA}/nowhere.yaml: cannot read the file: No such file or directory"
    )


# --- JSON Lines and archives --------------------------------------------------------------------


def jsonl_lines() -> list[str]:
    good = json.dumps(valid_data(), ensure_ascii=False)
    bad = valid_data()
    bad["order"]["paid_at"] = "2024-03-01T10:00:00"
    del bad["dispute"]["service"]
    return [good, "", json.dumps(bad, ensure_ascii=False), '{"case_id": ', "[1, 2]"]


def test_jsonl_yields_a_case_or_a_located_error_for_every_line(tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    path.write_text("\n".join(jsonl_lines()) + "\n", encoding="utf-8")

    results = list(iter_jsonl(path))

    assert [type(r) for r in results] == [Case, CaseFileError, CaseFileError, CaseFileError]
    case = results[0]
    assert isinstance(case, Case)
    assert case.source == SourceLoc(path=str(path), line=1)
    assert case.evidence[0].loc == SourceLoc(path=str(path), line=1)
    assert [str(r) for r in results[1:]] == [
        f"{path}:3: order.paid_at: time '2024-03-01T10:00:00' has no UTC offset\n"
        "    add the offset, e.g. 2024-03-01T10:00:00+08:00\n"
        f"{path}:3: dispute.service: required field is missing",
        f"{path}:4:13: invalid JSON: Expecting value",
        f"{path}:5: expected a case (a mapping of fields), got a list\n"
        "    a case file holds one case; put many in a directory or a .jsonl file",
    ]


def test_gzipped_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as stream:
        stream.write("\n".join(jsonl_lines()[:3]) + "\n")

    results = list(iter_jsonl(path))

    assert [type(r) for r in results] == [Case, CaseFileError]
    assert results[0] == load_case(f"{DATA}/valid.yaml")


def test_a_broken_gzip_stream_yields_what_it_can_then_one_error(tmp_path: Path) -> None:
    lines = [jsonl_lines()[0].replace("TB-2024-000123", f"TB-2024-{i:06}") for i in range(200)]
    whole = gzip.compress(("\n".join(lines) + "\n").encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 3 // 4])

    results = list(iter_jsonl(path))

    *cases, error = results
    assert cases and all(isinstance(case, Case) for case in cases)
    assert isinstance(error, CaseFileError)
    assert str(error).startswith(f"{path}:{len(cases) + 1}: cannot read the file: ")


def test_a_missing_jsonl_file_yields_one_error(tmp_path: Path) -> None:
    path = tmp_path / "none.jsonl"
    assert [str(r) for r in iter_jsonl(path)] == [
        f"{path}: cannot read the file: No such file or directory"
    ]


def test_a_directory_loads_its_case_files_by_name_and_skips_expectations(tmp_path: Path) -> None:
    valid = (ROOT / DATA / "valid.yaml").read_bytes()
    (tmp_path / "b.yaml").write_bytes(valid)
    (tmp_path / "b.expected.yaml").write_text("ruling: pay_seller\n")  # not a case: skipped
    (tmp_path / "a.json").write_bytes((ROOT / DATA / "valid.json").read_bytes())
    (tmp_path / "c.yml").write_text("case_id: [\n")
    (tmp_path / "d.jsonl").write_text("\n".join(jsonl_lines()[:3]) + "\n", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a case")

    results = list(load_cases([tmp_path, ROOT / DATA / "empty.yaml"]))

    assert [type(r) for r in results] == [
        Case,
        Case,
        CaseFileError,
        Case,
        CaseFileError,
        CaseFileError,
    ]
    assert [r.source.path if r.source else "" for r in results if isinstance(r, Case)] == [
        str(tmp_path / "a.json"),
        str(tmp_path / "b.yaml"),
        str(tmp_path / "d.jsonl"),
    ]
    errors = [r for r in results if isinstance(r, CaseFileError)]
    assert [e.loc.path if e.loc else "" for e in errors] == [
        str(tmp_path / "c.yml"),
        str(tmp_path / "d.jsonl"),
        str(ROOT / DATA / "empty.yaml"),
    ]


def test_load_cases_takes_a_single_path_and_goes_on_after_a_missing_one() -> None:
    results = list(load_cases([f"{DATA}/missing.yaml", f"{DATA}/valid.yaml"]))
    assert [type(r) for r in results] == [CaseFileError, Case]
    assert [type(r) for r in load_cases(f"{DATA}/valid.yaml")] == [Case]


# --- never a traceback --------------------------------------------------------------------------

JSON_LIKE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)
CASE_FIELDS = sorted(
    {"format", "case_id", "platform", "order", "dispute", "evidence", "decision", "appeal"}
    | set(valid_data()["order"])
    | set(valid_data()["dispute"])
    | {"id", "party", "kind"}
)


def parsed(text: str | bytes, fmt: Literal["yaml", "json"]) -> Case | CaseFileError:
    try:
        return parse_case(text, source="x", fmt=fmt)
    except CaseFileError as exc:
        assert exc.problems and all(p.loc is not None for p in exc.problems)
        return exc


@st.composite
def mutated_cases(draw: st.DrawFn) -> Any:
    """The contract's example with a few values replaced, removed or added, anywhere."""
    data: Any = valid_data()
    for _ in range(draw(st.integers(1, 3))):
        node = data
        while isinstance(node, dict | list) and node:
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            key = draw(st.sampled_from(keys))
            if isinstance(node[key], dict | list) and node[key] and draw(st.booleans()):
                node = node[key]
                continue
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "replace":
                node[key] = draw(JSON_LIKE)
            elif action == "delete":
                del node[key]
            elif isinstance(node, dict):
                node[draw(st.sampled_from(CASE_FIELDS) | st.text())] = draw(JSON_LIKE)
            break
    return data


@given(st.text() | st.binary(), st.sampled_from(["yaml", "json"]))
def test_any_text_gives_a_case_or_a_located_error(
    text: str | bytes, fmt: Literal["yaml", "json"]
) -> None:
    assert isinstance(parsed(text, fmt), Case | CaseFileError)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(mutated_cases(), st.sampled_from(["yaml", "json"]))
def test_any_case_like_document_gives_a_case_or_a_located_error(
    data: Any, fmt: Literal["yaml", "json"]
) -> None:
    text = yaml.safe_dump(data, allow_unicode=True) if fmt == "yaml" else json.dumps(data)
    assert isinstance(parsed(text, fmt), Case | CaseFileError)


@given(JSON_LIKE | mutated_cases())
def test_any_json_like_data_gives_a_case_or_an_error(data: Any) -> None:
    try:
        result: Case | CaseFileError = case_from_data(copy.deepcopy(data), source="x")
    except CaseFileError as exc:
        result = exc
        assert all(p.loc == SourceLoc(path="x") for p in exc.problems)
    assert isinstance(result, Case | CaseFileError)


@given(st.floats() | st.integers(-(10**4), 10**15).map(lambda fen: fen / 100))
def test_an_amount_as_a_float_is_read_as_the_decimal_it_prints_as(number: float) -> None:
    """The quick path for floats gives the Decimal of its text, or the same error as the rest."""
    as_decimal = Decimal(str(number))  # what the float's digits mean
    try:
        got: object = checks._amount(None, number, ())  # type: ignore[arg-type]
    except checks._Invalid as exc:
        got = exc
    try:
        expected: object = checks._amount(None, as_decimal, ())  # type: ignore[arg-type]
    except checks._Invalid as exc:
        expected = exc
    if isinstance(expected, Exception):
        assert isinstance(got, checks._Invalid)
    else:
        assert isinstance(got, Decimal) and str(got) == str(expected)


def test_an_amount_beyond_any_real_order_is_a_located_error() -> None:
    text = (
        Path(__file__).parent.parent / "casefiles" / "not-received-valid-receipt.yaml"
    ).read_text(encoding="utf-8")
    text = text.replace("item_amount: 459.00", "item_amount: 12999999999999999999999999990")
    with pytest.raises(CaseFileError) as caught:
        parse_case(text, source="big.yaml", fmt="yaml")
    assert str(caught.value) == (
        "big.yaml:13:16: order.item_amount: amount 12999999999999999999999999990 is larger than "
        "any order this engine takes (1,000,000,000,000 CNY)\n"
        "    check the amount; it is probably a typing error"
    )


LIMITS = {
    "a text too long": (
        lambda base: base.replace("本人从未收到包裹", "x" * 100_001),
        "long.yaml:43:13: evidence[0].attributes.text: the text is 100,015 characters, more "
        "than 100,000",
    ),
    "too many evidence items": (
        lambda base: base.replace("evidence:\n", "evidence:\n" + "".join(
            f"  - {{id: X{i}, party: buyer, kind: statement, "
            f"submitted_at: '2024-03-06T10:20:00+08:00'}}\n" for i in range(1001)
        )),
        "many.yaml:38:3: evidence: 1,003 evidence items, more than a case may have (1,000)\n"
        "    split the submissions, or check the case for repeated items",
    ),
    "a file too large": (
        lambda base: base + "#" + "x" * (5 << 20),
        "big.yaml: the case is 5,244,871 bytes, more than a case file may be (4,194,304)\n"
        "    attach large files by name (evidence files), not inside the case file",
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", list(LIMITS))
def test_input_limits_are_located_errors(name: str) -> None:
    make, message = LIMITS[name]
    base = Path(__file__).parent.parent / "casefiles" / "not-received-valid-receipt.yaml"
    source = message.split(":")[0]
    with pytest.raises(CaseFileError) as caught:
        parse_case(make(base.read_text(encoding="utf-8")), source=source, fmt="yaml")
    assert str(caught.value) == message
