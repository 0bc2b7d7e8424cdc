"""What the extractors declared in rules/ read from OCR'd lines: the signer after its label, the
courier through the alias table, the copy number, the words that decide a value, the times of a
chat screenshot. Lines are written by hand here; reading real pages is
tests/test_evidence_read.py."""

from __future__ import annotations

from functools import cache

import pytest
from conftest import RULES

from engine.evidence.extractors import Context, extract_attribute
from engine.evidence.model import Stamp, TextLine
from engine.evidence.textfind import chinese_number, parse_timestamp
from engine.model import ReadAttribute, Region
from engine.rules.loader import load_rules
from engine.rules.program import Program


@cache
def program() -> Program:
    return load_rules(RULES)


def line(text: str, x: int, y: int, *, w: int = 0, h: int = 40, conf: float = 0.99) -> TextLine:
    return TextLine(
        text=text,
        confidence=conf,
        region=Region(page=1, x=x, y=y, width=w or 32 * len(text), height=h),
    )


def read(
    kind: str,
    attribute: str,
    lines: list[TextLine],
    *,
    stamps: tuple[Stamp, ...] = (),
    party: str | None = None,
    size: tuple[int, int] = (1000, 1200),
) -> ReadAttribute | None:
    declared = program().kind(kind)
    assert declared is not None
    spec = next(e for e in declared.extract if e.attribute == attribute)
    type_ = declared.attribute_type(attribute)
    assert type_ is not None
    ctx = Context(
        file="slip.jpg",
        lines=tuple(lines),
        stamps=stamps,
        page_sizes=(size,),
        tables={t.name: t.entries for t in program().aliases},
        offset=program().timezone,
        party=party,
    )
    return extract_attribute(spec, type_, ctx)


def test_the_signer_is_read_after_its_label_not_the_recipient() -> None:
    lines = [line("收件人：张伟", 40, 100), line("收件人签名：李娜", 40, 160)]
    attr = read("signed_receipt", "signer_name", lines)
    assert attr is not None
    assert (attr.value, attr.source, attr.extractor) == ("李娜", "收件人签名：李娜", "labelled")
    assert attr.confidence == pytest.approx(0.99)


def test_a_label_in_its_own_table_cell_takes_the_cell_to_its_right() -> None:
    lines = [line("签收人", 56, 300, w=100), line("王芳", 300, 302, w=70)]
    attr = read("signed_receipt", "signer_name", lines)
    assert attr is not None and attr.value == "王芳"
    assert attr.confidence == pytest.approx(0.99 * 0.95)


def test_a_certificate_names_its_signer_in_a_sentence() -> None:
    lines = [line("已于2024年3月3日由孙帅欣本人签收，", 80, 270)]
    attr = read("carrier_certificate", "signer_name", lines)
    assert attr is not None and attr.value == "孙帅欣"


def test_the_courier_is_read_as_its_canonical_name_from_the_alias_table() -> None:
    attr = read("signed_receipt", "issuer", [line("中通  签收底单", 40, 30)])
    assert attr is not None and attr.value == "中通快递"
    misread = read("carrier_certificate", "issuer", [line("ZTOEapress西安分公司", 400, 900)])
    assert misread is not None and misread.value == "中通快递"
    assert misread.confidence == pytest.approx(0.99 * 0.85)  # one character misread


def test_a_latin_alias_is_not_found_inside_a_tracking_number() -> None:
    assert read("signed_receipt", "issuer", [line("运单号：STO123456789012", 40, 30)]) is None


def test_the_tracking_number_is_the_code_after_its_label() -> None:
    attr = read("signed_receipt", "tracking_no", [line("运单号：75312345678901", 40, 110)])
    assert attr is not None and attr.value == "75312345678901"


@pytest.mark.parametrize(
    ("text", "copy"), [("第一联 收件人存根", 1), ("第2联", 2), ("第三联", 3), ("第十二联", 12)]
)
def test_the_copy_number_is_read_from_the_copy_label(text: str, copy: int) -> None:
    attr = read("signed_receipt", "copy_no", [line(text, 700, 40)])
    assert attr is not None and attr.value == copy


def test_two_different_copy_numbers_make_the_reading_unsure() -> None:
    attr = read("signed_receipt", "copy_no", [line("第一联", 700, 40), line("第二联", 700, 600)])
    assert attr is not None and attr.confidence == pytest.approx(0.99 * 0.6)


def test_the_longer_word_wins_where_words_overlap() -> None:
    intact = read(
        "carrier_certificate", "damage_noted", [line("签收时外包装完好，无破损。", 80, 300)]
    )
    broken = read("carrier_certificate", "damage_noted", [line("签收时外包装破损。", 80, 300)])
    assert intact is not None and intact.value is False
    assert broken is not None and broken.value is True
    failed = read(
        "inspection_report",
        "result",
        [line("检验结论：所检项目不符合标准要求，判定为不合格。", 80, 700)],
    )
    assert failed is not None and failed.value == "defect"


def test_a_report_without_the_cma_mark_is_read_as_not_accredited_less_surely() -> None:
    attr = read("inspection_report", "accredited", [line("检验报告", 300, 80, conf=0.9)])
    assert attr is not None
    assert (attr.value, attr.note) == (False, "no_words")
    assert attr.confidence == pytest.approx(0.9 * 0.88)


def test_a_red_seal_is_a_red_stamp_and_its_absence_is_read_as_false() -> None:
    seal = Stamp(
        shape="round", confidence=0.93, region=Region(page=1, x=600, y=300, width=200, height=200)
    )
    attr = read("signed_receipt", "red_stamp", [], stamps=(seal,))
    assert attr is not None
    assert (attr.value, attr.confidence, attr.note) == (True, 0.93, "seal")
    assert dict(attr.note_args) == {"shape": "round", "size": "200x200"}
    weak = Stamp(shape="oval", confidence=0.3, region=seal.region)  # below 0.55: no seal
    none = read("signed_receipt", "red_stamp", [], stamps=(weak,))
    assert none is not None and (none.value, none.note) == (False, "no_seal")
    assert none.confidence == pytest.approx(0.7)


def test_chat_messages_take_the_time_shown_above_them_and_their_side() -> None:
    lines = [
        line("保温杯旗舰店", 271, 40, w=208),  # the title: centred, not a message
        line("你好，请问什么时候发货？", 120, 120, w=380),  # before any time: no timestamp
        line("2024-06-20 12:21", 280, 200, w=190),
        line("亲，今天下午就发", 130, 260, w=250),
        line("好的谢谢", 500, 330, w=130),
    ]
    attr = read("chat_log", "messages", lines, party="buyer", size=(750, 1334))
    assert attr is not None
    assert attr.value == [
        {"sender": "seller", "text": "你好，请问什么时候发货？"},
        {"at": "2024-06-20T12:21:00+08:00", "sender": "seller", "text": "亲，今天下午就发"},
        {"at": "2024-06-20T12:21:00+08:00", "sender": "buyer", "text": "好的谢谢"},
    ]
    assert attr.note == "messages"


def test_a_misread_time_makes_the_messages_unsure() -> None:
    lines = [line("024-08-1609", 300, 200, w=120), line("亲，今天下午就发", 130, 260, w=250)]
    attr = read("chat_log", "messages", lines, party="buyer", size=(750, 1334))
    assert attr is not None and attr.confidence == pytest.approx(0.6 * 0.99)


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2024-08-0219:50", "2024-08-02T19:50:00+08:00"),
        ("2024/08/02 19:50:12", "2024-08-02T19:50:12+08:00"),
        ("2024年8月2日 19:50", "2024-08-02T19:50:00+08:00"),
        ("签收时间：2024-03-03 14:12", "2024-03-03T14:12:00+08:00"),
    ],
)
def test_timestamps_as_screens_print_them(text: str, iso: str) -> None:
    found = parse_timestamp(text, "+08:00")
    assert found is not None and found[0] == iso


def test_no_timestamp_in_an_impossible_date() -> None:
    assert parse_timestamp("2024-02-30 10:00", "+08:00") is None


def test_chinese_numbers() -> None:
    assert [chinese_number(t) for t in ("一", "十", "十二", "二十", "二十一", "7", "百")] == [
        1, 10, 12, 20, 21, 7, None,
    ]  # fmt: skip
