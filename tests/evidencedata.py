"""Helpers for the desk's evidence tests: a signed receipt drawn as a page (a real one, read by
OCR in the slow tests), the sample receipt case as a bundle whose receipt leaves its attributes
to be read, bundles as .zip bytes, and a stand-in reader that gives what the reader would give
(the fast tests; reading real pages is tests/test_evidence_read.py)."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import CASEFILES, ROOT

from engine.evidence import read as reading
from engine.evidence.model import Reading
from engine.model import ReadAttribute, Region

RECEIPT_CASE = CASEFILES / "not-received-valid-receipt.yaml"  # TB-2024-000101
# the slip says who signed twice, differently: the reader gives 张伟 at 60 %, below the 80 % of
# read_confidence_min, so the receipt waits for a person and the buyer is asked for evidence
SLIP_LINES = (
    "运单号：75312345678901",
    "收件人：张伟",
    "签收人：张伟",
    "签收人签名：张玮",
    "签收时间：2024-03-03 14:12",
)


def receipt_case(file: str = "slip.png", *, typed: str = "") -> str:
    """The sample receipt case whose receipt (E2) types nothing (or ``typed``, YAML lines of
    its attributes) and names ``file``."""
    text = RECEIPT_CASE.read_text(encoding="utf-8")
    head, _, _ = text.partition("  - id: E2")
    attributes = f"    attributes:\n{typed}" if typed else "    attributes: {}\n"
    return (
        head + "  - id: E2\n    party: seller\n    kind: signed_receipt\n"
        "    submitted_at: 2024-03-07T11:20:00+08:00\n" + attributes +
        f"    files:\n      - {{name: {file}, sha256: null}}\ndecision: null\n"
    )  # fmt: skip


def slip_png(lines: tuple[str, ...] = SLIP_LINES) -> bytes:
    """A first-copy 中通快递 receipt, drawn in a CJK font (benchmarks/docgen.py's)."""
    from PIL import Image, ImageDraw, ImageFont

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import docgen

    path, index = docgen.fonts()[0]
    image = Image.new("RGB", (1000, 620), (250, 250, 246))
    draw = ImageDraw.Draw(image)
    draw.text((40, 30), "中通快递  签收底单", font=ImageFont.truetype(path, 44, index=index),
              fill=(20, 20, 20))  # fmt: skip
    draw.text((700, 40), "第一联 收件人存根", font=ImageFont.truetype(path, 30, index=index),
              fill=(20, 20, 20))  # fmt: skip
    face = ImageFont.truetype(path, 32, index=index)
    for n, line in enumerate(lines):
        draw.text((40, 130 + 66 * n), line, font=face, fill=(20, 20, 20))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def blank_png(size: tuple[int, int] = (400, 300)) -> bytes:
    """A plain page (the stand-in reader does not look at it)."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", size, (250, 250, 246)).save(out, "PNG")
    return out.getvalue()


def pdf_of(png: bytes) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    with Image.open(io.BytesIO(png)) as image:
        image.convert("RGB").save(out, "PDF", resolution=100)
    return out.getvalue()


def docx_bytes() -> bytes:
    """The start of a Word document: a ZIP with word/document.xml."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as packed:
        packed.writestr("[Content_Types].xml", "<Types/>")
        packed.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


def zipped(files: dict[str, bytes | str]) -> bytes:
    """A .zip holding ``files`` (name -> content)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as packed:
        for name, data in files.items():
            packed.writestr(name, data)
    return out.getvalue()


def receipt_bundle(image: bytes | None = None, name: str = "slip.png", **case: str) -> bytes:
    """The receipt case as a .zip bundle with its slip."""
    return zipped({"case.yaml": receipt_case(name, **case), name: image or blank_png()})


# what the reader gives for SLIP_LINES (read for real in tests/test_web_evidence_ocr.py)
SLIP_READ = (
    ReadAttribute(name="issuer", value="中通快递", confidence=0.999, file="slip.png",
                  extractor="alias", source="中通快递  签收底单",
                  region=Region(page=1, x=46, y=46, width=364, height=42)),
    ReadAttribute(name="tracking_no", value="75312345678901", confidence=1.0, file="slip.png",
                  extractor="labelled", source="运单号：75312345678901",
                  region=Region(page=1, x=41, y=142, width=375, height=33)),
    ReadAttribute(name="signer_name", value="张伟", confidence=0.6, file="slip.png",
                  extractor="labelled", source="签收人：张伟",
                  region=Region(page=1, x=41, y=272, width=192, height=37)),
    ReadAttribute(name="copy_no", value=1, confidence=1.0, file="slip.png",
                  extractor="copy_number", source="第一联 收件人存根",
                  region=Region(page=1, x=702, y=50, width=244, height=31)),
    ReadAttribute(name="red_stamp", value=False, confidence=1.0, file="slip.png",
                  extractor="red_stamp", source="", note="no_seal"),
)  # fmt: skip


@pytest.fixture
def stand_in_reader(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Reading gives SLIP_READ for any file (renamed to it), without OCR; the list collects the
    names of the files read."""
    read_files: list[str] = []

    def read_file(data: bytes, name: str, kind: str, program: object, **_: object) -> Reading:
        read_files.append(name)
        attributes = tuple(
            ReadAttribute(name=a.name, value=a.value, confidence=a.confidence, file=name,
                          extractor=a.extractor, source=a.source, region=a.region, note=a.note)
            for a in SLIP_READ
        )  # fmt: skip
        return Reading(file=name, kind=kind, file_type="png", pages=1, attributes=attributes,
                       lines=(), stamps=(), seconds=0.0)  # fmt: skip

    monkeypatch.setattr(reading, "read_file", read_file)
    monkeypatch.setattr(reading, "missing_modules", lambda: [])
    return read_files


def write_bundle(folder: Path, image: bytes, name: str = "slip.png") -> Path:
    folder.mkdir(parents=True)
    (folder / "case.yaml").write_text(receipt_case(name), encoding="utf-8")
    (folder / name).write_bytes(image)
    return folder
