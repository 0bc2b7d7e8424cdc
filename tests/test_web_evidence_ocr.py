"""The desk reads a real page (OCR and the seal detector, the evidence extra): a receipt whose
signer is written twice, differently, is read at 60 % and waits for a person; the arbitrator
confirms it and the recommendation changes. The desk recommends what `adjudicate score` gives
for the same bundle, and a PDF's page is drawn in the pixels its regions were read in."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import RULES
from evidencedata import pdf_of, receipt_case, slip_png, write_bundle, zipped
from webdesk import client

from engine import Program
from engine.cli import main

pytestmark = pytest.mark.slow  # OCR over generated pages
ZIP = {"content-type": "application/zip"}


def test_a_real_slip_is_read_waits_for_a_person_and_a_confirmation_changes_the_ruling(
    tmp_path: Path, program: Program
) -> None:
    slip = slip_png()
    bundle = write_bundle(tmp_path / "TB-2024-000101", slip)
    scored = CliRunner().invoke(main, ["score", str(bundle), "--rules", str(RULES),
                                       "--format", "json"])  # fmt: skip
    assert scored.exit_code == 0, scored.output
    data = zipped({"case.yaml": receipt_case(), "slip.png": slip})
    with client(program, tmp_path / "desk.sqlite3") as http:
        case = http.post("/v1/cases?source=TB-2024-000101", content=data, headers=ZIP).json()
        read = http.get("/v1/cases/1/evidence").json()["read"]["E2"]
        page = http.get("/cases/1?lang=en").text
        confirmed = http.post("/v1/cases/1/evidence/E2/attributes/signer_name",
                              json={"action": "confirm", "version": 0, "corrected_by": "王芳"})
    assert case["recommendation"] == json.loads(scored.output)
    assert case["recommendation"]["ruling"] == "request_evidence"
    assert {r["attribute"]: (r["value"], round(r["confidence"], 2)) for r in read} == {
        "issuer": ("中通快递", 1.0), "tracking_no": ("75312345678901", 1.0),
        "signer_name": ("张伟", 0.6), "copy_no": (1, 1.0), "red_stamp": (False, 1.0),
    }  # fmt: skip
    assert page.count('<g class="region">') == 4  # every attribute read from text is outlined
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["case"]["recommendation"]["ruling"] == "pay_seller"


def test_a_pdf_page_is_drawn_in_the_pixels_its_regions_were_read_in(
    tmp_path: Path, program: Program
) -> None:
    from PIL import Image

    data = zipped({"case.yaml": receipt_case("slip.pdf"), "slip.pdf": pdf_of(slip_png())})
    with client(program, tmp_path / "desk.sqlite3") as http:
        case = http.post("/v1/cases?source=pdf.zip", content=data, headers=ZIP)
        evidence = http.get("/v1/cases/1/evidence").json()
        drawn = http.get("/cases/1/files/1/pages/1")
    assert case.status_code == 201, case.text
    [shown] = evidence["files"][0]["pages"]
    with Image.open(BytesIO(drawn.content)) as image:
        assert image.size == (shown["width"], shown["height"])
    tracking = next(r for r in evidence["read"]["E2"] if r["attribute"] == "tracking_no")
    assert tracking["value"] == "75312345678901"
    region = tracking["region"]
    assert region["page"] == 1
    assert 0 <= region["x"] and region["x"] + region["w"] <= shown["width"]
    assert 0 <= region["y"] and region["y"] + region["h"] <= shown["height"]
