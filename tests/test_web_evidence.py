"""The desk sees, shows and corrects evidence files: bundles imported through the API and the
pages (a .zip, a folder's bundles), their files stored once in the database and served inert,
images and PDF pages with the regions read from them, the attributes read beside the findings,
and an arbitrator's confirmation or correction typed into the case and re-scored. Readings come
from a stand-in reader here (tests/evidencedata.py); tests/test_web_evidence_ocr.py reads a
real page."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from html import unescape
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from evidencedata import (
    SLIP_READ,
    blank_png,
    docx_bytes,
    pdf_of,
    receipt_bundle,
    receipt_case,
    stand_in_reader,
    zipped,
)
from fastapi.testclient import TestClient
from webdesk import client

from engine import Program
from engine.evidence import read as reading
from engine.evidence.bundle import open_zip_data
from engine.evidence.case import load_bundle_case
from engine.ruling import ruling_json
from engine.run.scoring import Scorer

TYPED = (
    "      issuer: 中通快递\n      tracking_no: \"75312345678901\"\n      signer_name: 张伟\n"
    "      copy_no: 1\n      red_stamp: false\n"
)  # the receipt's attributes as the sample case types them: nothing to read

ZIP = {"content-type": "application/zip"}
__all__ = ["stand_in_reader"]  # a fixture these tests use


def post_bundle(http: Any, data: bytes, source: str = "TB-2024-000101.zip") -> Any:
    return http.post(f"/v1/cases?source={source}", content=data, headers=ZIP)


@pytest.mark.usefixtures("stand_in_reader")
def test_a_bundle_posted_to_the_api_is_stored_with_its_file_and_what_was_read(
    desk_db: str, program: Program
) -> None:
    image = blank_png()
    with client(program, desk_db) as http:
        response = post_bundle(http, receipt_bundle(image))
        assert response.status_code == 201, response.text
        case = response.json()
        evidence = http.get(f"/v1/cases/{case['id']}/evidence").json()
    assert case["recommendation"]["ruling"] == "request_evidence"
    [stored] = evidence["files"]
    assert {k: v for k, v in stored.items() if k != "id"} == {
        "item": "E2", "name": "slip.png", "type": "png", "size": len(image),
        "sha256": hashlib.sha256(image).hexdigest(), "case_version": 0,
        "pages": [{"width": 400, "height": 300}],
        "url": f"/cases/{case['id']}/files/{stored['id']}",
    }  # fmt: skip
    assert [(r["attribute"], r["value"], r["confidence"]) for r in evidence["read"]["E2"]] == [
        (a.name, a.value, a.confidence) for a in SLIP_READ
    ]
    assert evidence["corrections"] == []


def _text(html: str) -> str:
    """The page's words, tags dropped and spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _block(page: str, start: str, end: str) -> str:
    """What follows ``start`` in ``page`` up to ``end``."""
    at = page.index(start) + len(start)
    return page[at : page.index(end, at)]


def _upload(http: TestClient, *files: tuple[str, bytes]) -> Any:
    parts = [("files", (name, data, "application/octet-stream")) for name, data in files]
    return http.post("/import?lang=en", files=parts)


@pytest.mark.usefixtures("stand_in_reader")
def test_the_desk_recommends_what_adjudicate_score_gives_for_the_bundle(
    tmp_path: Path, program: Program
) -> None:
    data = receipt_bundle()
    expected = Scorer(program, "reference").score(
        load_bundle_case(open_zip_data(data, "TB-2024-000101.zip"), program).case
    )
    with client(program, tmp_path / "desk.sqlite3") as http:
        case = post_bundle(http, data).json()
        again = http.get(f"/v1/cases/{case['id']}").json()  # scored again from what was stored
    assert case["recommendation"] == json.loads(ruling_json(expected.ruling))
    assert again["recommendation"] == case["recommendation"]
    assert case["recommendation"]["evidence"][1]["read"][2] == {
        "attribute": "signer_name", "value": "张伟", "file": "slip.png", "confidence": 0.6,
        "counted": False,
    }  # fmt: skip


@pytest.mark.usefixtures("stand_in_reader")
def test_the_case_page_shows_the_image_with_its_regions_beside_what_was_read(
    tmp_path: Path, program: Program
) -> None:
    with client(program, tmp_path / "desk.sqlite3") as http:
        imported = _upload(http, ("TB-2024-000101.zip", receipt_bundle()))
        page = http.get("/cases/1?lang=en").text
    assert imported.status_code == 200, imported.text
    assert "Imported (1) TB-2024-000101 TB-2024-000101.zip" in _text(imported.text)
    item = _block(page, '<section class="item" id="item-2">', "</section>")
    assert _text(_block(item, "<h3>", '<div class="beside">')) == (
        "Evidence E2 · signed delivery receipt seller admitted, invalid, weight 0.3 · waiting for "
        "a person to confirm what was read (counts as inconclusive)"
    )
    svg = _block(item, "<svg", "</svg>")
    assert svg.startswith(' class="page" viewBox="0 0 400 300"')
    assert '<image href="/cases/1/files/1/pages/1" x="0" y="0" width="400" height="300"' in svg
    assert re.findall(r'<rect x="(\d+)" y="(\d+)" width="(\d+)" height="(\d+)"', svg) == [
        (str(a.region.x), str(a.region.y), str(a.region.width), str(a.region.height))
        for a in SLIP_READ if a.region is not None
    ]  # fmt: skip
    assert re.findall(r"<text [^>]*>([^<]*)</text>", svg) == [
        "issuer", "tracking_no", "signer_name", "copy_no",
    ]  # fmt: skip
    shown = [_text(_block(item, f'id="attr-2-{name}">', "<form")) for name in
             ("issuer", "signer_name", "red_stamp")]  # fmt: skip
    assert shown == [
        "issuer = 中通快递 read, counts read from slip.png, 100 % sure (page 1) · "
        "“ 中通快递 签收底单 ”",
        "signer_name = 张伟 read, not sure enough: does not count read from slip.png, 60 % sure "
        "(page 1) · “ 签收人：张伟 ”",
        "red_stamp = false read, counts read from slip.png, 100 % sure · no red seal found",
    ]
    assert "<script" not in page  # the desk's pages run no script


@pytest.mark.usefixtures("stand_in_reader")
def test_a_folder_upload_imports_each_bundle_with_its_files_and_other_cases_alone(
    tmp_path: Path, program: Program
) -> None:
    other = receipt_case().replace("TB-2024-000101", "TB-2024-000999").replace(
        "slip.png", "nothing.png")  # fmt: skip
    with client(program, tmp_path / "desk.sqlite3") as http:
        response = _upload(
            http,
            ("archive/TB-2024-000101/case.yaml", receipt_case().encode()),
            ("archive/TB-2024-000101/slip.png", blank_png()),
            ("archive/alone.yaml", other.encode()),
        )
        files = {c["case_id"]: http.get(f"/v1/cases/{c['id']}/evidence").json()["files"]
                 for c in http.get("/v1/cases").json()["cases"]}  # fmt: skip
    assert response.status_code == 200, response.text
    assert (
        "Imported (2) TB-2024-000101 archive/TB-2024-000101 TB-2024-000999 archive/alone.yaml"
    ) in _text(response.text)
    assert [f["name"] for f in files["TB-2024-000101"]] == ["slip.png"]
    assert files["TB-2024-000999"] == []  # a case file alone: its file is not on the desk


@pytest.mark.usefixtures("stand_in_reader")
def test_files_are_served_with_the_type_their_bytes_show_inert_and_revalidated(
    tmp_path: Path, program: Program
) -> None:
    image = blank_png()
    with client(program, tmp_path / "desk.sqlite3") as http:
        post_bundle(http, receipt_bundle(image))
        shown = http.get("/cases/1/files/1")
        page = http.get("/cases/1/files/1/pages/1")
        download = http.get("/cases/1/files/1?download=1")
        again = http.get("/cases/1/files/1", headers={"if-none-match": shown.headers["etag"]})
    assert shown.status_code == 200 and shown.content == image == page.content
    assert {k: shown.headers[k] for k in ("content-type", "content-disposition",
            "content-security-policy", "x-content-type-options", "etag", "cache-control")} == {
        "content-type": "image/png",
        "content-disposition": "inline; filename*=UTF-8''slip.png",
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; "
        "frame-ancestors 'none'; sandbox",
        "x-content-type-options": "nosniff",
        "etag": f'"{hashlib.sha256(image).hexdigest()}"',
        "cache-control": "private, no-cache",
    }  # fmt: skip
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''slip.png"
    assert (again.status_code, again.content) == (304, b"")


def test_a_word_document_named_jpg_is_not_admitted_and_only_offered_for_download(
    tmp_path: Path, program: Program
) -> None:
    data = zipped({"case.yaml": receipt_case("slip.jpg", typed=TYPED), "slip.jpg": docx_bytes()})
    with client(program, tmp_path / "desk.sqlite3") as http:
        case = post_bundle(http, data).json()
        page = http.get("/cases/1?lang=en").text
        served = http.get("/cases/1/files/1")
    ruling = case["recommendation"]
    assert (ruling["ruling"], ruling["evidence"][1]["admitted"]) == ("refund", False)
    assert ruling["warnings"][0]["en"] == (
        "evidence E2: slip.jpg is a DOCX file by its content, not the JPG its name says"
    )
    figure = _block(page, '<figure class="file" id="file-1">', "</figure>")
    assert _text(figure) == (
        "slip.jpg is a Word document (docx) by its content, not the JPG file its name says: not "
        f"admitted, offered for download only slip.jpg · DOCX, {len(docx_bytes())} bytes · Download"
    )
    assert "<img" not in figure and "<svg" not in figure
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"] == "attachment; filename*=UTF-8''slip.jpg"


@pytest.mark.usefixtures("stand_in_reader")
def test_a_pdf_is_shown_as_its_pages_drawn_on_the_server(
    tmp_path: Path, program: Program
) -> None:
    from PIL import Image

    pdf = pdf_of(blank_png((400, 300)))
    with client(program, tmp_path / "desk.sqlite3") as http:
        post_bundle(http, zipped({"case.yaml": receipt_case("slip.pdf"), "slip.pdf": pdf}))
        evidence = http.get("/v1/cases/1/evidence").json()
        page = http.get("/cases/1/files/1/pages/1")
        original = http.get("/cases/1/files/1")
        beyond = http.get("/v1/cases/1/evidence").json()["files"][0]["pages"]
        missing = http.get("/cases/1/files/1/pages/2?lang=en")
    [shown] = evidence["files"][0]["pages"]
    assert page.headers["content-type"] == "image/png"
    with Image.open(BytesIO(page.content)) as drawn:
        assert drawn.size == (shown["width"], shown["height"]) == (576, 432)  # 144 dpi
    assert original.headers["content-type"] == "application/pdf"
    assert original.headers["content-disposition"] == "inline; filename*=UTF-8''slip.pdf"
    assert original.headers["content-security-policy"] == (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
    )
    assert len(beyond) == 1 and missing.status_code == 404
    assert "file 1 (slip.pdf) has 1 page(s) shown, not 2" in missing.text


def test_without_the_evidence_extra_the_page_says_so_and_offers_the_pdf(
    tmp_path: Path, program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "missing_modules", lambda: ["pypdfium2"])
    pdf = pdf_of(blank_png())
    with client(program, tmp_path / "desk.sqlite3") as http:
        case = post_bundle(http, zipped({"case.yaml": receipt_case("slip.pdf"), "slip.pdf": pdf}))
        page = http.get("/cases/1?lang=en").text
        served = http.get("/cases/1/files/1")
    assert case.status_code == 201
    assert "read" not in case.json()["recommendation"]["evidence"][1]  # nothing was read
    assert _text(_block(page, '<p class="problems" id="no-reader">', "</p>")) == (
        "This server lacks the evidence extra: no file was read, and the case is scored on the "
        "attributes its case file types."
    )
    assert _text(_block(page, '<figure class="file" id="file-1">', "</figure>")) == (
        "Showing a PDF's pages needs the evidence extra (pypdfium2), which this server lacks: "
        f"download the file to see it. slip.pdf · PDF, {len(pdf)} bytes · Open the file · Download"
    )
    assert served.content == pdf


def _bomb() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as packed:
        packed.writestr("case.yaml", receipt_case())
        packed.writestr("slip.png", b"\0" * (8 << 20))
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("outside.zip", zipped({"case.yaml": receipt_case(), "../slip.png": b"x"}),
         "outside.zip/../slip.png: unsafe path in the .zip: '../slip.png' leads out of the "
         "bundle (..)"),
        ("bomb.zip", _bomb(),
         "bomb.zip/slip.png: slip.png expands 1,028 times (more than 100): refused as a "
         "possible ZIP bomb"),
        ("missing.zip", zipped({"case.yaml": receipt_case()}),
         "missing.zip/case.yaml:45:5: evidence[1].files[0]: 'slip.png' is not in the bundle "
         "missing.zip\n    put the file beside case.yaml, or correct its name"),
        ("nocase.zip", zipped({"slip.png": blank_png()}),
         "nocase.zip: no case.yaml in the .zip\n    put case.yaml at the top of the .zip (or "
         "of its one folder)"),
        ("garbage.zip", b"PK\x03\x04 not really",
         "garbage.zip: not a readable .zip: File is not a zip file"),
    ],
)  # fmt: skip
def test_a_hostile_bundle_is_a_located_422_through_the_api_and_the_page(
    tmp_path: Path, program: Program, name: str, data: bytes, message: str
) -> None:
    with client(program, tmp_path / "desk.sqlite3") as http:
        api = post_bundle(http, data, source=name)
        page = _upload(http, (name, data))
        cases = http.get("/v1/cases").json()["total"]
    assert api.status_code == 422
    assert api.json()["error"]["message"] == message
    assert page.status_code == 422
    assert _text(_block(page.text, '<div id="errors">', "</div>")) == " ".join(message.split())
    assert cases == 0


def test_a_file_over_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, program: Program
) -> None:
    import os

    big = os.urandom((20 << 20) + 1)  # random bytes: compressed as large, not a bomb
    data = zipped({"case.yaml": receipt_case(), "slip.png": big})
    with client(program, tmp_path / "desk.sqlite3") as http:
        response = post_bundle(http, data, source="big.zip")
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "big.zip/slip.png: slip.png is 20,971,521 bytes, more than a bundle's file may be "
        "(20,971,520)\n    split the case's files, or scan the page at a lower resolution"
    )


@pytest.mark.usefixtures("stand_in_reader")
def test_a_file_stored_by_one_desk_is_served_by_another_on_the_same_database(
    desk_db: str, program: Program
) -> None:
    image = blank_png((320, 200))
    with client(program, desk_db) as first:
        post_bundle(first, receipt_bundle(image))
    with client(program, desk_db) as second:  # another process on the same database
        served = second.get("/cases/1/files/1")
        other = second.get("/cases/1/files/2")
        wrong_case = second.get("/cases/2/files/1")
    assert served.content == image
    assert other.status_code == 404 and wrong_case.status_code == 404


def test_markup_named_png_is_neither_shown_nor_served_as_markup(
    tmp_path: Path, program: Program
) -> None:
    markup = b"<html><script>alert(document.cookie)</script><svg onload=alert(1)></svg></html>"
    data = zipped({"case.yaml": receipt_case(typed=TYPED), "slip.png": markup})
    with client(program, tmp_path / "desk.sqlite3") as http:
        case = post_bundle(http, data).json()
        page = http.get("/cases/1?lang=en").text
        served = http.get("/cases/1/files/1")
    assert case["recommendation"]["evidence"][1]["admitted"] is False
    assert "alert" not in page
    assert (served.headers["content-type"], served.headers["content-disposition"]) == (
        "application/octet-stream", "attachment; filename*=UTF-8''slip.png",
    )  # fmt: skip
    assert served.headers["content-security-policy"].endswith("; sandbox")
