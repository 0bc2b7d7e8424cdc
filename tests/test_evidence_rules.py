"""The reading declarations of rules/: alias tables and extract: on evidence kinds, with every
mistake located and explained."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import RULES

from engine.errors import RuleFileError
from engine.rules.loader import load_rules


def rules_with(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    kinds = folder / "evidence" / "kinds.yaml"
    text = kinds.read_text(encoding="utf-8")
    assert old in text
    kinds.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def problems(folder: Path) -> str:
    with pytest.raises(RuleFileError) as caught:
        load_rules(folder)
    return str(caught.value).replace(f"{folder}/", "")


def test_the_shipped_rules_read_receipts_with_the_courier_table() -> None:
    program = load_rules(RULES)
    receipt = program.kind("signed_receipt")
    assert receipt is not None
    assert [(e.attribute, e.extractor) for e in receipt.extract] == [
        ("issuer", "alias"), ("tracking_no", "labelled"), ("signer_name", "labelled"),
        ("copy_no", "copy_number"), ("red_stamp", "red_stamp"),
    ]  # fmt: skip
    couriers = {t.name: dict(t.entries) for t in program.aliases}["couriers"]
    assert "ZTO" in couriers["中通快递"] and "中通" in couriers["中通快递"]


def test_an_unknown_extractor(tmp_path: Path) -> None:
    folder = rules_with(tmp_path, "      copy_no: copy_number\n", "      copy_no: copy_numbr\n")
    assert problems(folder) == (
        "evidence/kinds.yaml:19:16: unknown extractor 'copy_numbr'\n"
        "    copy_no: copy_numbr\n"
        "             ^ did you mean 'copy_number'?"
    )


def test_an_extractor_that_cannot_fill_the_attribute(tmp_path: Path) -> None:
    folder = rules_with(tmp_path, "      red_stamp: red_stamp\n", "      red_stamp: copy_number\n")
    assert problems(folder) == (
        "evidence/kinds.yaml:20:18: extractor 'copy_number' cannot fill 'red_stamp' (boolean)\n"
        "    red_stamp: copy_number\n"
        "               ^ it fills integer"
    )


def test_an_unknown_alias_table_and_attribute(tmp_path: Path) -> None:
    folder = rules_with(
        tmp_path,
        "      issuer: {alias: {table: couriers}}\n      tracking_no:",
        "      issuer: {alias: {table: courier}}\n      tracking_number:",
    )
    assert problems(folder) == (
        "evidence/kinds.yaml:15:31: unknown alias table 'courier'\n"
        "    issuer: {alias: {table: courier}}\n"
        "                            ^ did you mean 'couriers'?\n"
        "evidence/kinds.yaml:16:7: 'tracking_number' is not an attribute of evidence kind "
        "'signed_receipt'\n"
        "    tracking_number: {labelled: {labels: [运单号, 运单编号, 快递单号, 快件单号, 单号], "
        "value: code}}\n"
        "    ^ did you mean 'tracking_no'?"
    )


def test_rules_diff_shows_reading_declarations(tmp_path: Path) -> None:
    from engine.rules.diff import diff_programs

    folder = rules_with(
        tmp_path,
        "labels: [运单号, 运单编号, 快递单号, 快件单号, 单号], value: code",
        "labels: [运单号], value: code",
    )
    reading = folder / "evidence" / "reading.yaml"
    text = reading.read_text(encoding="utf-8")
    before, after = "中通快递: [中通, 中通速递, ZTO, ZTO Express]", "中通快递: [中通, ZTO]"
    reading.write_text(text.replace(before, after), encoding="utf-8")
    changes = diff_programs(load_rules(RULES), load_rules(folder))
    assert [(c.subject, c.name, c.details) for c in changes] == [
        ("evidence kind", "signed_receipt", (
            "extract tracking_no: labelled(labels=('运单号', '运单编号', '快递单号', '快件单号', "
            "'单号'), value='code') -> labelled(labels=('运单号',), value='code')",
        )),
        ("alias table", "couriers", (
            "name 中通快递: 中通, 中通速递, ZTO, ZTO Express -> 中通, ZTO",
        )),
    ]  # fmt: skip
