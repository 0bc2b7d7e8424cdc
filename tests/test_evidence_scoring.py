"""Scoring a bundle's items: attributes read from files count when sure enough, typed ones win,
an item that waits for a person is inconclusive, a file's real type decides its admission, and an
invalid item says first what it failed. Readings are given here as the reader would give them;
reading real pages is tests/test_evidence_read.py."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from conftest import CASEFILES, ROOT, RULES

from engine.cases.load import load_case
from engine.explain.render import render_summary
from engine.model import Case, EvidenceFile, ReadAttribute
from engine.rules.loader import load_rules
from engine.rules.program import Program
from engine.ruling import ruling_json
from engine.run.scoring import ENGINES, Scorer


@cache
def program() -> Program:
    return load_rules(RULES)


def receipt_case(**attributes: object) -> Case:
    """The valid first-copy receipt of the sample case, with only ``attributes`` typed."""
    case = load_case(CASEFILES / "not-received-valid-receipt.yaml")
    item = next(e for e in case.evidence if e.kind == "signed_receipt")
    item = replace(item, attributes=tuple(attributes.items()))
    return replace(case, evidence=(item,))


def read(name: str, value: object, confidence: float) -> ReadAttribute:
    return ReadAttribute(
        name=name, value=value, confidence=confidence, file="slip.jpg", extractor="x", source=""
    )


def with_read(case: Case, *readings: ReadAttribute) -> Case:
    item = replace(case.evidence[0], read=readings)
    return replace(case, evidence=(item,))


def score(case: Case) -> dict[str, object]:
    rulings = {e: json.loads(ruling_json(Scorer(program(), e).score(case).ruling)) for e in ENGINES}
    assert rulings["durable"] == rulings["reference"]
    out: dict[str, object] = rulings["reference"]
    return out


SURE = [
    read("issuer", "中通快递", 0.99),
    read("signer_name", "张伟", 0.97),
    read("copy_no", 1, 0.95),
]


def test_readings_at_or_above_the_minimum_count_like_typed_attributes() -> None:
    ruling = score(with_read(receipt_case(), *SURE))
    assert ruling["ruling"] == "pay_seller"
    evidence = ruling["evidence"][0]  # type: ignore[index]
    assert evidence["valid"] is True
    assert evidence["read"] == [
        {"attribute": name, "value": value, "file": "slip.jpg", "confidence": sure, "counted": True}
        for name, value, sure in (
            ("issuer", "中通快递", 0.99), ("signer_name", "张伟", 0.97), ("copy_no", 1, 0.95),
        )
    ]  # fmt: skip


def test_typed_attributes_always_win_over_readings() -> None:
    typed = receipt_case(signer_name="李娜")  # not the recipient: the receipt is invalid
    ruling = score(with_read(typed, *SURE))
    assert ruling["ruling"] == "refund"
    evidence = ruling["evidence"][0]  # type: ignore[index]
    assert evidence["valid"] is False
    assert evidence["reasons"][0]["rule"] == "receipt-signer"


def test_an_item_waiting_for_a_person_is_inconclusive_and_the_ruling_says_so() -> None:
    unsure = [*SURE[:1], read("signer_name", "张伟", 0.62), SURE[2]]
    ruling = score(with_read(receipt_case(), *unsure))
    assert ruling["ruling"] == "request_evidence"  # the buyer was not asked yet
    assert ruling["issues"] == [
        {"issue": "delivered", "burden": "seller", "standard": 0.7, "score": 0.3, "met": False,
         "status": "inconclusive"},
    ]  # fmt: skip
    evidence = ruling["evidence"][0]  # type: ignore[index]
    assert (evidence["valid"], evidence["unconfirmed"], evidence["weight"]) == (False, True, 0.3)
    assert ruling["warnings"] == [
        {
            "rule": None,
            "zh": "证据 E2 的 signer_name 从 slip.jpg 读取，把握 62 %，低于 80 %："
            "需人工确认后才计入",
            "en": "evidence E2: signer_name read from slip.jpg is 62 % sure, below 80 %: it does "
            "not count until a person confirms it",
        }
    ]


def test_an_unsure_reading_that_does_not_matter_leaves_the_item_valid() -> None:
    # red_stamp is not needed: the receipt is the first copy
    ruling = score(with_read(receipt_case(), *SURE, read("red_stamp", False, 0.4)))
    evidence = ruling["evidence"][0]  # type: ignore[index]
    assert (ruling["ruling"], evidence["valid"], "unconfirmed" in evidence) == (
        "pay_seller", True, False,
    )  # fmt: skip


def test_an_item_invalid_for_a_typed_reason_is_not_waiting_for_a_person() -> None:
    wrong_courier = receipt_case(issuer="圆通速递")
    ruling = score(with_read(wrong_courier, SURE[1], read("copy_no", 1, 0.5)))
    evidence = ruling["evidence"][0]  # type: ignore[index]
    assert (ruling["ruling"], evidence["valid"], "unconfirmed" in evidence) == (
        "refund", False, False,
    )  # fmt: skip


def test_a_word_document_named_jpg_is_not_admitted_and_the_warning_says_why() -> None:
    case = receipt_case(issuer="中通快递", signer_name="张伟", copy_no=1)
    item = replace(case.evidence[0], files=(EvidenceFile(name="slip.jpg", type="docx"),))
    ruling = score(replace(case, evidence=(item,)))
    evidence = ruling["evidence"][0]  # type: ignore[index]
    assert (ruling["ruling"], evidence["admitted"]) == ("refund", False)
    assert evidence["reasons"][0]["rule"] == "evidence-file-format"
    assert ruling["warnings"] == [
        {
            "rule": None,
            "zh": "证据 E2 的附件 slip.jpg 按内容是 DOCX 文件，不是文件名所示的 JPG",
            "en": "evidence E2: slip.jpg is a DOCX file by its content, not the JPG its name says",
        }
    ]


def test_an_invalid_item_lists_the_failed_requirement_first_and_what_it_would_show() -> None:
    case = load_case(CASEFILES / "receipt-wrong-courier.yaml")
    ruling = Scorer(program(), "reference").score(case).ruling
    summary = render_summary(ruling, program(), "en").splitlines()
    start = summary.index("  Evidence E2: admitted, invalid, weight 0.0")
    assert summary[start + 1 : start + 6] == [
        "      - [receipt-courier] the receipt was not issued by the courier that shipped the "
        "order",
        "      - [receipt-tracking-matches] The receipt's tracking number is the order's (or not "
        "given).",
        "      - [receipt-signed-by-recipient] The signer's name is the recipient's (after folding "
        "spaces, full width and traditional characters).",
        "      - [receipt-first-copy] The receipt is the first copy.",
        "      - [receipt-proves-delivery] (would support the issue if valid) A valid signed "
        "receipt proves delivery to the recipient.",
    ]


def test_the_read_minimum_is_a_parameter_of_the_rules(tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "rules"
    shutil.copytree(RULES, folder)
    params = folder / "parameters.yaml"
    text = params.read_text(encoding="utf-8")
    assert text.count("value: 0.8\n") == 1
    params.write_text(text.replace("value: 0.8\n", "value: 0.6\n"), encoding="utf-8")
    lowered = load_rules(folder)
    unsure = with_read(receipt_case(), SURE[0], read("signer_name", "张伟", 0.62), SURE[2])
    ruling = Scorer(lowered, "reference").score(unsure).ruling
    assert ruling.ruling == "pay_seller"
    assert ruling.evidence[0].weight == Decimal("0.9")


@pytest.mark.slow
def test_a_bundle_is_scored_from_its_files(tmp_path: Path) -> None:
    import random
    import sys

    from click.testing import CliRunner

    from engine.cli import main

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import docgen

    rng = random.Random(11)
    doc = docgen.receipt(rng, docgen.fonts()[0])
    while doc.truth["copy_no"] != 1 or doc.truth["issuer"] != "中通快递":
        doc = docgen.receipt(rng, docgen.fonts()[0])
    (tmp_path / "slip.jpg").write_bytes(docgen.degrade(doc, rng))
    source = (CASEFILES / "not-received-valid-receipt.yaml").read_text(encoding="utf-8")
    head, _, _ = source.partition("evidence:")
    head = head.replace("recipient_name: 张伟", f"recipient_name: {doc.truth['signer_name']}")
    head = head.replace('"75312345678901"', f'"{doc.truth["tracking_no"]}"')
    (tmp_path / "case.yaml").write_text(
        head + "evidence:\n  - id: E1\n    party: seller\n    kind: signed_receipt\n"
        "    submitted_at: 2024-03-07T11:20:00+08:00\n    files: [{name: slip.jpg}]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["score", str(tmp_path), "--rules", str(RULES), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    ruling = json.loads(result.output)
    assert ruling["ruling"] == "pay_seller"
    read_back = {r["attribute"]: r["value"] for r in ruling["evidence"][0]["read"]}
    assert read_back == {k: v for k, v in doc.truth.items()}


def test_the_report_says_what_was_read_from_which_file_how_sure() -> None:
    from engine.explain.report import build_report

    unsure = [*SURE[:1], read("signer_name", "张伟", 0.62), SURE[2]]
    scorer = Scorer(program(), "reference")
    report = build_report(scorer, scorer.score(with_read(receipt_case(), *unsure)), fmt="md",
                          lang="en")  # fmt: skip
    lines = report.splitlines()
    start = lines.index("Read from the files:")
    assert lines[start + 2 : start + 5] == [
        "- issuer = 中通快递: read from slip.jpg, 99 % sure",
        "- signer = 张伟: read from slip.jpg, 62 % sure — **not counted until a person confirms "
        "it**",
        "- copy = 1: read from slip.jpg, 95 % sure",
    ]
    assert (
        "**This item is not valid only for want of attributes read without enough certainty: it "
        "counts as inconclusive until a person confirms them**"
    ) in lines


def _typed_bundle(folder: Path, *, with_file: bool = True) -> Path:
    """The sample receipt case as a bundle, every attribute typed (nothing to read)."""
    folder.mkdir()
    (folder / "case.yaml").write_bytes(
        (CASEFILES / "not-received-valid-receipt.yaml").read_bytes()
    )
    case = load_case(folder / "case.yaml")
    if with_file:
        for item in case.evidence:
            for named in item.files:
                (folder / named.name).write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 32)
    return folder


def test_score_and_batch_take_bundles_and_report_a_broken_one(tmp_path: Path) -> None:
    import zipfile

    from click.testing import CliRunner

    from engine.cli import main

    archive = tmp_path / "archive"
    archive.mkdir()
    good = _typed_bundle(archive / "good")
    broken = _typed_bundle(tmp_path / "broken", with_file=False)
    with zipfile.ZipFile(archive / "broken.zip", "w") as packed:
        packed.write(broken / "case.yaml", "case.yaml")
    rules = str(RULES)
    scored = CliRunner().invoke(main, ["score", str(good), "--rules", rules, "--format", "json"])
    assert scored.exit_code == 0, scored.output
    assert json.loads(scored.output)["ruling"] == "pay_seller"
    out = tmp_path / "out"
    batch = CliRunner().invoke(
        main, ["batch", str(archive), "--out", str(out), "--rules", rules, "--engine", "reference",
               "--workers", "1"],
    )  # fmt: skip
    assert batch.exit_code == 0, batch.output
    rows = [
        json.loads(line)
        for path in sorted((out / "shards").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    assert [r.get("ruling") for r in rows] == [None, "pay_seller"]
    assert rows[0]["error"]["type"] == "CaseFileError"
    assert rows[0]["error"]["message"].startswith(
        f"{archive}/broken.zip/case.yaml:"
    )
    assert "is not in the bundle" in rows[0]["error"]["message"]
