"""The desk's pages through the test client: the queue and its filters, importing files and
archives, a case with its report and the decision form, the agreement page; case text escaped."""

from __future__ import annotations

import gzip
import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from conftest import CASEFILES, ROOT
from fastapi.testclient import TestClient
from webdesk import HOSTILE, LATE, QUALITY, RECEIPT, client, post_case

from engine import Program

BROKEN = ROOT / "tests" / "data" / "casefiles"


@pytest.fixture
def http(tmp_path: Path, program: Program) -> Any:
    with client(program, tmp_path / "desk.sqlite3") as test_client:
        yield test_client


def _text(html: str) -> str:
    """The page's words, tags dropped and spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def upload(http: TestClient, *paths: Path, names: tuple[str, ...] = ()) -> Any:
    named = [(names[i] if i < len(names) else p.name, p) for i, p in enumerate(paths)]
    files = [("files", (name, p.read_bytes(), "application/octet-stream")) for name, p in named]
    return http.post("/import?lang=en", files=files)


def test_importing_files_and_an_archive_lists_what_came_in_and_what_did_not(
    http: TestClient, tmp_path: Path
) -> None:
    archive = tmp_path / "archive.jsonl.gz"
    lines = [
        (BROKEN / "valid.json").read_text(encoding="utf-8").replace("\n", " "),
        '{"case_id": "TB-BAD"}',
    ]
    archive.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode()))
    response = upload(
        http, QUALITY, RECEIPT, BROKEN / "time_without_offset.yaml", archive,
        CASEFILES / "refund-cap.expected.yaml", BROKEN / "valid.json",
        names=("folder/quality.yaml", "folder/receipt.yaml"),
    )  # fmt: skip
    assert response.status_code == 422  # some could not be imported
    page = _text(response.text)
    assert "Imported (4)" in page
    assert "TB-2024-000305 folder/quality.yaml" in page
    assert "archive.jsonl.gz:1" in page
    assert "already on the desk (same content)" in page  # valid.json twice: once in the archive
    assert "Could not be imported (2)" in page
    assert (
        "time_without_offset.yaml:18:19: evidence[0].submitted_at: time '2024-03-07T11:20:00' has "
        "no UTC offset add the offset, e.g. 2024-03-07T11:20:00+08:00" in page
    )
    assert "archive.jsonl.gz:2: platform: required field is missing" in page
    assert "Skipped (not case files) (1) refund-cap.expected.yaml" in page
    queue = http.get("/?lang=en")
    assert "3 cases: 3 pending, 0 accepted, 0 overridden" in _text(queue.text)


def test_an_import_without_files_says_so(http: TestClient) -> None:
    response = http.post(
        "/import?lang=en", files=[("files", ("", b"", "application/octet-stream"))]
    )
    assert response.status_code == 200 and "No file was chosen." in response.text


def test_the_queue_filters_by_dispute_type_ruling_and_status(http: TestClient) -> None:
    for path in (QUALITY, RECEIPT, LATE):
        post_case(http, path)
    http.post("/v1/cases/2/decision", json={"decided_by": "李雷"})

    def listed(query: str) -> list[str]:
        return re.findall(r'<a href="/cases/\d+"><bdi>([^<]+)</bdi>', http.get("/?" + query).text)

    assert listed("") == ["TB-2024-000162", "TB-2024-000101", "TB-2024-000305"]
    assert listed("dispute_type=quality") == ["TB-2024-000305"]
    assert listed("ruling=compensate") == ["TB-2024-000162"]
    assert listed("status=accepted") == ["TB-2024-000101"]
    assert listed("status=pending&dispute_type=not_received") == []
    empty = http.get("/?status=overridden&lang=en")
    assert 'id="empty"' in empty.text and "No case matches." in empty.text
    chosen = http.get("/?ruling=compensate").text
    assert '<option value="compensate" selected>' in chosen


def test_the_case_page_shows_the_recommendation_the_form_and_frames_the_report(
    http: TestClient,
) -> None:
    case = post_case(http, QUALITY)
    page = http.get(f"/cases/{case['id']}?lang=en")
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    text = _text(page.text)
    assert "The engine recommends return and refund" in text
    assert "We recommend that the buyer returns the goods and is then refunded 299.00 CNY." in text
    assert 'name="refund_amount" value="299.00"' in page.text
    assert '<iframe class="report" id="report"' in page.text
    report = http.get(f"/cases/{case['id']}/report?lang=en")
    assert report.headers["content-security-policy"].endswith("frame-ancestors 'self'")
    assert "<title>Ruling report · TB-2024-000305</title>" in report.text
    markdown = http.get(f"/cases/{case['id']}/report?lang=en&format=md&audience=seller")
    assert markdown.headers["content-type"] == "text/plain; charset=utf-8"
    assert markdown.text.startswith("# Ruling report · Case TB-2024-000305\n\n> For the seller")


def test_the_form_accepts_or_overrides_and_keeps_what_was_typed_on_a_problem(
    http: TestClient,
) -> None:
    case = post_case(http, QUALITY)
    form = {"decided_by": "王芳", "ruling": "refund", "refund_amount": "299.00",
            "compensation_amount": "0.00", "reason": "", "action": "override"}  # fmt: skip
    refused = http.post(f"/cases/{case['id']}/decision?lang=en", data=form)
    assert refused.status_code == 422
    assert "The decision was not recorded:" in refused.text
    assert (
        "decision: reason: a reason is required to override the recommendation\n"
        "    say why refund instead of the recommended return_and_refund"
    ) in refused.text
    assert '<option value="refund" selected>' in refused.text  # the arbitrator's choice kept

    form["reason"] = "买家不必退货"
    done = http.post(f"/cases/{case['id']}/decision", data=form, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, f"/cases/{case['id']}")
    accept = {"decided_by": "李雷", "ruling": "pay_seller", "action": "accept"}
    http.post(f"/cases/{case['id']}/decision", data=accept)  # accepting ignores the ruling
    decisions = http.get(f"/v1/cases/{case['id']}").json()["decisions"]
    assert [(d["decided_by"], d["ruling"], d["accepted"]) for d in decisions] == [
        ("王芳", "refund", False), ("李雷", "return_and_refund", True),
    ]  # fmt: skip
    page = _text(http.get(f"/cases/{case['id']}?lang=en").text)
    assert (
        "王芳 overridden refund Refund 299.00 买家不必退货 return and refund Refund 299.00" in page
    )
    # the name is remembered for the next decision
    assert 'name="decided_by" value="李雷"' in http.get(f"/cases/{case['id']}").text


def test_the_agreement_page_counts_and_charts_decisions(http: TestClient) -> None:
    assert "No decision yet." in http.get("/agreement?lang=en").text
    for path in (QUALITY, RECEIPT):
        post_case(http, path)
    http.post("/v1/cases/1/decision", json={"decided_by": "a", "ruling": "pay_seller",
                                            "reason": "照片不清"})  # fmt: skip
    http.post("/v1/cases/2/decision", json={"decided_by": "a"})
    page = http.get("/agreement?lang=en").text
    text = _text(page)
    assert "2 cases decided, 1 agree with the recommendation (50.0%)" in text
    assert '<svg id="chart"' in page
    assert "quality problem quality 1 0 0.0%" in text
    assert "return and refund claim rejected, money released to the seller 1" in text
    assert "quality-defect-proven 1 0 0.0%" in text


def test_case_text_is_escaped_on_every_page(http: TestClient) -> None:
    upload(http, HOSTILE)
    upload(http, HOSTILE, names=("<img src=x onerror=alert(1)>.yaml",))
    hostile = {"decided_by": "<script>alert(2)</script>", "ruling": "pay_seller",
               "reason": "<b>x</b>"}  # fmt: skip
    http.post("/v1/cases/1/decision", json=hostile)
    pages = {
        "queue": http.get("/").text,
        "case": http.get("/cases/1").text,
        "report": http.get("/cases/1/report").text,
        "agreement": http.get("/agreement").text,
        "import": upload(http, HOSTILE, names=("<script>x</script>.yaml",)).text,
    }
    for name, html in pages.items():
        assert "<script" not in html, name
        assert "<img" not in html and "<b>" not in html, name
    assert "没收到 &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in pages["case"]
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in pages["case"]
    assert "&lt;U+202E&gt;" in pages["case"]  # a direction mark is shown, not obeyed
    assert "&lt;script&gt;x&lt;/script&gt;.yaml" in pages["import"]


def test_the_language_is_chosen_and_remembered(http: TestClient) -> None:
    assert "案件队列" in http.get("/").text
    english = http.get("/?lang=en")
    assert "Case queue" in english.text and "adjudicate_lang=en" in english.headers["set-cookie"]
    assert "Case queue" in http.get("/").text  # the cookie


def test_an_unknown_case_or_page_is_a_page_not_json(http: TestClient) -> None:
    missing = http.get("/cases/42?lang=en")
    assert missing.status_code == 404
    assert "no case with id 42 on the desk" in missing.text and "<!DOCTYPE html>" in missing.text
    assert http.get("/nowhere").status_code == 404
