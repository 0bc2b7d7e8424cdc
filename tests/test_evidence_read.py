"""Reading generated pages for real (OCR and the seal detector, the evidence extra), and the
``adjudicate evidence read`` command. The pages come from benchmarks/docgen.py with a fixed seed;
the accuracy over many pages is a benchmark (docs/benchmarks.md), not a test."""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, RULES

from engine.cli import main
from engine.errors import EvidenceReadError, ReadingUnavailable
from engine.evidence import read as reading
from engine.evidence.read import read_file
from engine.rules.loader import load_rules
from engine.rules.program import Program

sys.path.insert(0, str(ROOT / "benchmarks"))
import docgen  # noqa: E402

pytestmark = pytest.mark.slow


@cache
def program() -> Program:
    return load_rules(RULES)


@cache
def pages() -> list[tuple[docgen.Doc, bytes]]:
    return docgen.generate(8, seed=3)


@pytest.mark.parametrize("index", range(8))
def test_every_attribute_of_a_generated_page_is_read_as_written(index: int) -> None:
    doc, data = pages()[index]
    read = read_file(data, f"page{index}.jpg", doc.kind, program(), party=doc.party, threads=1)
    got = {a.name: a.value for a in read.attributes}
    if doc.kind == "chat_log":  # the texts are OCR's; the times and sides are what counts
        got["messages"] = [{k: v for k, v in m.items() if k != "text"} for m in got["messages"]]
        doc.truth["messages"] = [
            {k: v for k, v in m.items() if k != "text"} for m in doc.truth["messages"]
        ]
    assert got == doc.truth
    assert all(0.0 <= a.confidence <= 1.0 for a in read.attributes)
    assert read.pages == 1 and read.file_type == "jpg"


def test_a_pdf_page_is_rendered_and_read(tmp_path: Path) -> None:
    doc = next(d for d, _ in pages() if d.kind == "signed_receipt")
    pdf = tmp_path / "slip.pdf"
    doc.image.save(pdf, "PDF", resolution=100)
    read = read_file(pdf.read_bytes(), "slip.pdf", doc.kind, program(), threads=1)
    assert read.file_type == "pdf" and read.pages == 1
    assert {a.name: a.value for a in read.attributes}["tracking_no"] == doc.truth["tracking_no"]


def test_a_word_document_named_jpg_is_not_read() -> None:
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(EvidenceReadError) as caught:
        read_file(out.getvalue(), "slip.jpg", "signed_receipt", program())
    assert str(caught.value) == (
        "slip.jpg: a Word document (docx) by its content, not an image or a PDF: nothing to read\n"
        "    evidence files are read when they are JPG, PNG or PDF"
    )


def test_a_corrupt_image_is_a_located_error() -> None:
    with pytest.raises(EvidenceReadError) as caught:
        read_file(b"\xff\xd8\xff\xe0" + b"\x13" * 40, "slip.jpg", "signed_receipt", program())
    assert str(caught.value).startswith("slip.jpg: not a readable image: ")


def test_without_the_extra_reading_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "missing_modules", lambda: ["rapidocr-onnxruntime"])
    with pytest.raises(ReadingUnavailable) as caught:
        read_file(b"", "slip.jpg", "signed_receipt", program())
    assert str(caught.value) == (
        "slip.jpg: reading files needs rapidocr-onnxruntime, which is not installed\n"
        "    install the evidence extra: pip install 'adjudicate[evidence]' "
        "(in a checkout: pip install -e '.[evidence]')"
    )


def test_the_command_prints_each_attribute_with_how_sure_and_where(tmp_path: Path) -> None:
    doc, data = next((d, b) for d, b in pages() if d.kind == "carrier_certificate")
    path = tmp_path / "cert.jpg"
    path.write_bytes(data)
    rules = str(RULES)
    result = CliRunner().invoke(
        main, ["evidence", "read", str(path), "--kind", "carrier_certificate", "--rules", rules,
               "--lang", "en"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith(
        f"Attributes read from the file: {path} (Kind carrier_certificate, jpg, Pages 1, Seconds "
    )
    signer = next(ln for ln in lines if ln.startswith("  signer_name = "))
    assert signer.startswith(f"  signer_name = {doc.truth['signer_name']}  (")
    assert '% sure, value after a label; from "' in signer
    as_json = CliRunner().invoke(
        main, ["evidence", "read", str(path), "--kind", "carrier_certificate", "--rules", rules,
               "--format", "json"],
    )  # fmt: skip
    data_out = json.loads(as_json.output)
    assert data_out["attributes"]["issuer"]["value"] == doc.truth["issuer"]
    assert data_out["read_confidence_min"] == 0.8
    assert set(data_out["attributes"]["issuer"]) == {
        "value", "confidence", "file", "extractor", "source", "region", "note", "note_args",
    }  # fmt: skip


def test_the_command_refuses_a_kind_without_extract(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    path.write_bytes(pages()[0][1])
    result = CliRunner().invoke(
        main,
        ["evidence", "read", str(path), "--kind", "product_photos", "--rules", str(RULES)],
    )
    assert result.exit_code == 2
    assert result.output == (
        f"{path}: the rules declare nothing to read for evidence kind 'product_photos' (no "
        "extract:)\n    kinds the rules can read: signed_receipt, carrier_certificate, chat_log, "
        "inspection_report\n"
    )
