"""An arbitrator confirms or corrects an attribute read from a bundle's files, on SQLite and on
PostgreSQL: the value is typed into the case (a new version), recorded with who, when and why
(reading_corrections and the audit log, both append-only), and the case is scored again; a stale
version gets 409, a value that does not fit the attribute's declared type 422 naming the field,
a role that may not decide 403. Readings come from the stand-in reader (tests/evidencedata.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from evidencedata import receipt_bundle, stand_in_reader
from fastapi.testclient import TestClient
from webdesk import add_team, bearer, client

from engine import Program
from engine.cases.load import iter_jsonl
from engine.model import Case
from engine.web.db import open_database

ZIP = {"content-type": "application/zip"}
SIGNER = "/v1/cases/1/evidence/E2/attributes/signer_name"
__all__ = ["stand_in_reader"]  # a fixture these tests use


@pytest.fixture
def team(desk_db: str, program: Program, stand_in_reader: list[str]) -> Any:
    """A desk with accounts and the receipt bundle on it (case 1, E2's signer read at 60 %)."""
    tokens = add_team(desk_db)
    with client(program, desk_db) as http:
        response = http.post("/v1/cases?source=TB-2024-000101.zip", content=receipt_bundle(),
                             headers={**ZIP, **bearer(tokens["wang"])})  # fmt: skip
        assert response.status_code == 201, response.text
        yield http, tokens


def _correct(http: TestClient, token: str, path: str = SIGNER, **fields: Any) -> Any:
    return http.post(path, json=fields, headers=bearer(token))


def test_confirming_a_read_attribute_types_it_into_a_new_version_scored_again(team: Any) -> None:
    http, tokens = team
    before = http.get("/v1/cases/1", headers=bearer(tokens["wang"])).json()
    response = _correct(http, tokens["wang"], action="confirm", version=0)
    assert response.status_code == 201, response.text
    body = response.json()
    after = http.get("/v1/cases/1", headers=bearer(tokens["wang"])).json()
    assert before["recommendation"]["ruling"] == "request_evidence"
    assert (after["version"], after["recommendation"]["ruling"]) == (1, "pay_seller")
    assert body["case"]["recommendation"] == after["recommendation"]
    assert after["case"]["evidence"][1]["attributes"] == {"signer_name": "张伟"}
    correction = body["correction"]
    assert {k: v for k, v in correction.items() if k not in ("id", "corrected_at")} == {
        "item": "E2", "attribute": "signer_name", "action": "confirm", "value": "张伟",
        "read_value": "张伟", "read_confidence": 0.6, "version": 0, "corrected_by": "wang",
        "reason": "",
    }  # fmt: skip
    assert after["claimed_by"] == "wang"  # correcting claims the case, like deciding
    evidence = http.get("/v1/cases/1/evidence", headers=bearer(tokens["wang"])).json()
    assert evidence["corrections"] == [correction]
    audit = http.get("/v1/audit?case=1", headers=bearer(tokens["zhou"])).json()["entries"][0]
    assert (audit["actor"], audit["action"], audit["detail"]) == ("wang", "correction", {
        "correction": correction["id"], "version": 0, "item": "E2", "attribute": "signer_name",
        "action": "confirm", "value": "张伟", "read_value": "张伟", "read_confidence": 0.6,
    })  # fmt: skip


def test_correcting_types_another_value_of_the_declared_type(team: Any) -> None:
    http, tokens = team
    response = _correct(http, tokens["wang"], action="correct", value="张玮", version=0,
                        reason="签收人签名一栏写的是张玮")  # fmt: skip
    assert response.status_code == 201, response.text
    case = response.json()["case"]
    assert (case["version"], case["recommendation"]["ruling"]) == (1, "refund")
    assert case["recommendation"]["evidence"][1]["valid"] is False
    copy = _correct(http, tokens["wang"], "/v1/cases/1/evidence/E2/attributes/copy_no",
                    action="correct", value=2, version=1, reason="第二联")  # fmt: skip
    assert copy.status_code == 201, copy.text
    stored = http.get("/v1/cases/1", headers=bearer(tokens["wang"])).json()
    assert stored["case"]["evidence"][1]["attributes"] == {"signer_name": "张玮", "copy_no": 2}


def test_a_correction_on_a_stale_version_gets_409_and_so_does_a_decision(team: Any) -> None:
    http, tokens = team
    assert _correct(http, tokens["zhao"], action="confirm", version=0).status_code == 201
    late = _correct(http, tokens["zhao"], action="correct", value="张玮", reason="看错了",
                    version=0)  # fmt: skip
    decision = http.post("/v1/cases/1/decision", json={"version": 0},
                         headers=bearer(tokens["zhao"]))  # fmt: skip
    assert late.status_code == 409
    assert late.json()["error"]["message"] == (
        "case 1 has changed since version 0: it is at version 1; read the decision now in "
        "force, then correct again on version 1"
    )
    assert decision.status_code == 409
    assert decision.json()["error"]["message"].startswith("case 1 has changed since version 0")


def test_only_who_may_decide_the_case_may_correct_it(team: Any) -> None:
    http, tokens = team
    policy = _correct(http, tokens["sun"], action="confirm", version=0)
    assert policy.status_code == 403
    assert policy.json()["error"]["message"] == (
        "sun (policy) may not record decisions: that takes the role arbitrator or senior"
    )
    assert http.post("/v1/cases/1/claim", headers=bearer(tokens["li"])).status_code == 200
    claimed = _correct(http, tokens["wang"], action="confirm", version=0)
    assert claimed.status_code == 409
    assert claimed.json()["error"]["message"] == (
        "case 1 is claimed by li: only they decide it (or release it first)"
    )
    assert _correct(http, tokens["li"], action="confirm", version=0).status_code == 201


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/v1/cases/1/evidence/E9/attributes/signer_name",
         "the case has no evidence item 'E9' (items: E1, E2)"),
        ("/v1/cases/1/evidence/E2/attributes/singer_name",
         "evidence E2 (signed_receipt): 'singer_name' is not an attribute the rules read from "
         "its files (readable: issuer, tracking_no, signer_name, copy_no, red_stamp)"),
        ("/v1/cases/1/evidence/E1/attributes/text",
         "evidence E1 has no file on the desk (the case was not imported as a bundle): nothing "
         "was read from it to confirm or correct"),
        ("/v1/cases/9/evidence/E2/attributes/signer_name", "no case with id 9 on the desk"),
    ],
)  # fmt: skip
def test_an_unknown_item_or_attribute_is_404(team: Any, path: str, message: str) -> None:
    http, tokens = team
    response = _correct(http, tokens["wang"], path, action="confirm", version=0)
    assert response.status_code == 404
    assert response.json()["error"] == {"type": "NotFound", "message": message}


def test_a_typed_attribute_has_no_reading_to_correct(
    tmp_path: Path, program: Program
) -> None:
    from evidencedata import blank_png, receipt_case, zipped

    typed = "      signer_name: 张伟\n"
    data = zipped({"case.yaml": receipt_case(typed=typed), "slip.png": blank_png()})
    with client(program, tmp_path / "desk.sqlite3") as http:
        assert http.post("/v1/cases", content=data, headers=ZIP).status_code == 201
        response = http.post(SIGNER, json={"action": "confirm", "corrected_by": "王芳"})
    assert response.status_code == 404
    assert response.json()["error"]["message"] == (
        "evidence E2: signer_name is typed in the case file, not read from a file: there is no "
        "reading to confirm or correct"
    )


@pytest.mark.parametrize(
    ("path", "fields", "problems"),
    [
        (SIGNER, {"action": "approve", "version": 0, "colour": "red"},
         ["colour: unknown field", "action: expected confirm or correct, got 'approve'"]),
        ("/v1/cases/1/evidence/E2/attributes/copy_no",
         {"action": "correct", "value": "two", "version": 0, "reason": "第二联"},
         ["value: 'two' is not a value of copy_no's type: a whole number"]),
        ("/v1/cases/1/evidence/E2/attributes/red_stamp",
         {"action": "correct", "value": "yes", "version": 0, "reason": "有章"},
         ["value: 'yes' is not a value of red_stamp's type: true or false"]),
        (SIGNER, {"action": "correct", "value": "张玮", "version": 0},
         ["reason: a reason is required to correct what was read"]),
        (SIGNER, {"action": "correct", "value": "张\u202e玮", "version": 0, "reason": "x"},
         ["value: character 2 is an invisible or direction character (U+202E)"]),
        (SIGNER, {"action": "confirm", "value": "张玮", "version": 0},
         ["value: confirming types the value read ('张伟'), not '张玮'"]),
        (SIGNER, {"action": "confirm", "corrected_by": "li"},
         ["corrected_by: who corrects is the signed-in user (wang); a body cannot name it",
          "version: required field is missing"]),
    ],
)  # fmt: skip
def test_each_field_of_a_correction_is_checked_and_named(
    team: Any, path: str, fields: dict[str, Any], problems: list[str]
) -> None:
    http, tokens = team
    response = _correct(http, tokens["wang"], path, **fields)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["type"] == "CorrectionError"
    assert [p["message"] for p in error["problems"]] == problems
    assert {p["at"] for p in error["problems"]} == {"body"}
    assert http.get("/v1/cases/1", headers=bearer(tokens["wang"])).json()["version"] == 0


@pytest.mark.usefixtures("stand_in_reader")
def test_the_one_person_desk_names_who_corrects(tmp_path: Path, program: Program) -> None:
    with client(program, tmp_path / "desk.sqlite3") as http:
        http.post("/v1/cases", content=receipt_bundle(), headers=ZIP)
        anonymous = http.post(SIGNER, json={"action": "confirm"})
        named = http.post(SIGNER, json={"action": "confirm", "corrected_by": "王芳"})
    assert anonymous.status_code == 422
    assert anonymous.json()["error"]["message"] == (
        "body: corrected_by: required field is missing\n    who corrects: your name"
    )
    assert named.status_code == 201
    assert named.json()["correction"]["corrected_by"] == "王芳"


def test_the_export_keeps_the_correction_and_the_bundle_imports_again(team: Any) -> None:
    http, tokens = team
    wang = bearer(tokens["wang"])
    assert _correct(http, tokens["wang"], action="confirm", version=0).status_code == 201
    assert http.post("/v1/cases/1/decision", json={"version": 1}, headers=wang).status_code == 201
    exported = http.get("/v1/decisions/export", headers=bearer(tokens["zhao"])).text
    again = http.post("/v1/cases?source=TB-2024-000101.zip", content=receipt_bundle(),
                      headers={**ZIP, **wang})  # fmt: skip
    [line] = exported.splitlines()
    document = json.loads(line)
    assert document["evidence"][1]["attributes"] == {"signer_name": "张伟"}
    assert document["decision"]["ruling"] == "pay_seller"
    assert again.status_code == 200 and again.json()["id"] == 1  # the same case as imported


def test_the_export_reads_back_as_a_case_with_the_typed_attribute(
    team: Any, tmp_path: Path
) -> None:
    http, tokens = team
    _correct(http, tokens["wang"], action="confirm", version=0)
    http.post("/v1/cases/1/decision", json={"version": 1}, headers=bearer(tokens["wang"]))
    archive = tmp_path / "decisions.jsonl"
    archive.write_text(http.get("/v1/decisions/export", headers=bearer(tokens["zhao"])).text,
                       encoding="utf-8")  # fmt: skip
    [case] = list(iter_jsonl(archive))
    assert isinstance(case, Case)
    assert case.evidence[1].attributes == (("signer_name", "张伟"),)


def test_corrections_files_and_readings_cannot_be_changed_or_removed(
    team: Any, desk_db: str
) -> None:
    http, tokens = team
    _correct(http, tokens["wang"], action="confirm", version=0)
    db = open_database(desk_db)
    refused = []
    try:
        for sql in ("UPDATE reading_corrections SET value = '\"李四\"'",
                    "DELETE FROM reading_corrections", "UPDATE evidence_reads SET reading = ''",
                    "DELETE FROM evidence_files", "UPDATE evidence_blobs SET data = NULL"):
            try:
                with db.transaction() as conn:
                    conn.run(sql)
            except Exception as exc:  # the driver's integrity or raise error
                refused.append(str(exc).splitlines()[0])
    finally:
        db.close()
    assert len(refused) == 5
    assert all("are append-only: rows are added, never changed or removed" in r for r in refused)


def _text(html: str) -> str:
    import re
    from html import unescape

    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _attribute(page: str, name: str) -> str:
    start = page.index(f'id="attr-2-{name}">')
    return _text(page[start + len(f'id="attr-2-{name}">') : page.index("<form", start)])


@pytest.mark.usefixtures("stand_in_reader")
def test_the_page_form_confirms_a_reading_and_the_page_shows_who_did(
    tmp_path: Path, program: Program
) -> None:
    with client(program, tmp_path / "desk.sqlite3") as http:
        http.post("/v1/cases", content=receipt_bundle(), headers=ZIP)
        form = {"item": "E2", "attribute": "signer_name", "version": "0", "value": "张伟",
                "reason": "", "corrected_by": "王芳"}  # fmt: skip
        refused = http.post("/cases/1/evidence?lang=en", data={**form, "action": "correct"},
                            follow_redirects=False)  # fmt: skip
        done = http.post("/cases/1/evidence?lang=en", data={**form, "action": "confirm"},
                         follow_redirects=False)  # fmt: skip
        page = http.get("/cases/1?lang=en").text
        chinese = http.get("/cases/1?lang=zh").text
        report = http.get("/cases/1/report?lang=en&format=md").text
    assert refused.status_code == 422
    assert _text(refused.text.split('id="correction-problems">')[1].split("</div>")[0]) == (
        "Not recorded: correction: reason: a reason is required to correct what was read say "
        "what the file shows, e.g. the signer's name on the slip"
    )
    assert (done.status_code, done.headers["location"]) == (303, "/cases/1#evidence")
    assert done.cookies.get("adjudicate_arbitrator") is not None  # the name, for the next form
    assert _attribute(page, "signer_name").startswith(
        "signer_name = 张伟 confirmed by a person read as 张伟, 60 % sure (page 1) · "
        "“ 签收人：张伟 ” confirmed: 王芳, "
    )
    assert "pay_seller" in page and "Version 1" in _text(page)
    assert _attribute(chinese, "signer_name").startswith(
        "signer_name = 张伟 已人工确认 读取值：张伟，把握 60 %（第 1 页） · "
        "“ 签收人：张伟 ” 确认：王芳，"
    )
    history = _text(page.split('<table id="corrections">')[1].split("</table>")[0])
    assert history.endswith("王芳 confirmed E2 signer_name 张伟 (60 %) 张伟 0")
    # the report reads the case as it is now: the signer is typed, no longer waiting
    assert "not counted until a person confirms it" not in report
    assert "- signer = 张伟: read from slip.png" not in report


@pytest.mark.usefixtures("stand_in_reader")
def test_a_role_that_may_not_decide_sees_no_correction_form(
    tmp_path: Path, program: Program
) -> None:
    db = tmp_path / "desk.sqlite3"
    tokens = add_team(db)
    with client(program, db) as http:
        http.post("/v1/cases", content=receipt_bundle(), headers={**ZIP, **bearer(tokens["wang"])})
        policy = http.get("/cases/1?lang=en", headers=bearer(tokens["sun"])).text
        arbitrator = http.get("/cases/1?lang=en", headers=bearer(tokens["wang"])).text
    assert 'action="/cases/1/evidence"' not in policy
    assert "Your role may not confirm or correct what was read on this case." in policy
    assert arbitrator.count('action="/cases/1/evidence"') == 5
    assert 'name="corrected_by"' not in arbitrator  # the signed-in user corrects


@pytest.mark.usefixtures("stand_in_reader")
def test_ten_simultaneous_corrections_on_one_version_record_exactly_one(
    desk_db: str, program: Program
) -> None:
    """Ten arbitrators' threads correct one version of a case at once, through the desk: one
    correction and its revision are recorded, nine are refused as stale."""
    import threading

    from engine.errors import StaleDecision
    from engine.evidence.bundle import open_zip_data
    from engine.web.desk import Desk
    from engine.web.store import Store

    desk = Desk(program, Store(desk_db))
    imported = desk.add_bundle(open_zip_data(receipt_bundle(), "TB-2024-000101.zip"))
    outcomes: list[Any] = []
    barrier = threading.Barrier(10)

    def correct(n: int) -> None:
        barrier.wait()
        try:
            outcomes.append(desk.correct(
                imported.id, "E2", "signer_name",
                {"action": "correct", "value": f"张{n}", "reason": f"#{n}", "version": 0,
                 "corrected_by": f"arbitrator-{n}"},
            ))  # fmt: skip
        except StaleDecision as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=correct, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        [recorded] = desk.corrections(imported.id)
        stored = desk.case(imported.id)
    finally:
        desk.store.close()
    assert sum(isinstance(o, StaleDecision) for o in outcomes) == 9
    assert (stored.version, stored.revision) == (1, 1)
    assert stored.data()["evidence"][1]["attributes"] == {"signer_name": recorded.value}


@pytest.mark.usefixtures("stand_in_reader")
def test_under_other_rules_cases_are_scored_again_with_their_readings_and_corrections(
    tmp_path: Path, program: Program, rules_copy: Any
) -> None:
    from evidencedata import blank_png, receipt_case, zipped

    from engine import load_rules

    db = tmp_path / "desk.sqlite3"
    other = receipt_case().replace("TB-2024-000101", "TB-2024-000102")
    with client(program, db) as http:
        http.post("/v1/cases", content=receipt_bundle(), headers=ZIP)
        http.post("/v1/cases", content=zipped({"case.yaml": other, "slip.png": blank_png()}),
                  headers=ZIP)  # fmt: skip
        confirmed = http.post(SIGNER, json={"action": "confirm", "corrected_by": "王芳"})
        assert confirmed.status_code == 201
    changed = load_rules(rules_copy(("policy.yaml", 'version: "2026.1"', 'version: "2026.2"')))
    assert changed.digest != program.digest
    with client(changed, db) as http:  # a server started under other rules
        cases = {c["case_id"]: c for c in http.get("/v1/cases").json()["cases"]}
    assert cases["TB-2024-000101"]["recommendation"]["rules"]["version"] == "2026.2"
    assert cases["TB-2024-000101"]["recommendation"]["ruling"] == "pay_seller"  # corrected
    assert cases["TB-2024-000102"]["recommendation"]["ruling"] == "request_evidence"  # still read
