"""The HTTP API through its test client: scoring, cases, decisions, rules, errors as JSON with
the CLI's located messages, the bearer token, the body limit and the origin check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import ROOT, RULES
from fastapi.testclient import TestClient
from webdesk import HOSTILE, QUALITY, RECEIPT, YAML, client, post_case

from engine import Program
from engine.cli import main

BROKEN = ROOT / "tests" / "data" / "casefiles"


@pytest.fixture
def http(tmp_path: Path, program: Program) -> Any:
    with client(program, tmp_path / "desk.sqlite3") as test_client:
        yield test_client


def test_score_returns_the_ruling_of_a_yaml_or_json_case_file(http: TestClient) -> None:
    response = http.post("/v1/score", content=QUALITY.read_bytes(), headers=YAML)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    ruling = response.json()
    assert (ruling["format"], ruling["ruling"], ruling["refund_amount"]) == (
        "ruling/1", "return_and_refund", 299.0,
    )  # fmt: skip
    as_json = http.post("/v1/score", content=(BROKEN / "valid.json").read_bytes())
    assert as_json.status_code == 200 and as_json.json()["format"] == "ruling/1"


def test_score_can_return_the_report_in_html_or_markdown(http: TestClient) -> None:
    html = http.post("/v1/score?report=html&lang=en", content=QUALITY.read_bytes(), headers=YAML)
    assert html.headers["content-type"] == "text/html; charset=utf-8"
    assert "We recommend that the buyer returns the goods and is then refunded 299.00 CNY" in (
        html.text
    )
    md = http.post(
        "/v1/score?report=md&lang=zh&audience=buyer", content=QUALITY.read_bytes(), headers=YAML
    )
    assert md.headers["content-type"] == "text/markdown; charset=utf-8"
    assert md.text.startswith("# 裁决说明 · 案件 TB-2024-000305\n\n> 给买家的说明")


def test_a_bad_case_file_gets_422_with_the_message_the_cli_prints(http: TestClient) -> None:
    path = BROKEN / "missing_field.yaml"
    source = str(path.relative_to(ROOT))
    response = http.post(f"/v1/score?source={source}", content=path.read_bytes(), headers=YAML)
    assert response.status_code == 422
    assert response.json() == {
        "error": {
            "type": "CaseFileError",
            "message": f"{source}:5:3: order.paid_at: required field is missing\n"
            f"{source}:9:3: dispute.service: required field is missing",
            "problems": [
                {"at": f"{source}:5:3", "path": "order.paid_at",
                 "message": "order.paid_at: required field is missing", "hint": ""},
                {"at": f"{source}:9:3", "path": "dispute.service",
                 "message": "dispute.service: required field is missing", "hint": ""},
            ],
        }
    }  # fmt: skip
    cli = CliRunner().invoke(main, ["score", str(path), "--rules", str(RULES)])
    assert cli.stderr.startswith(str(path) + ":5:3")  # the CLI names the file as it was given
    assert cli.stderr.replace(str(path), source).startswith(response.json()["error"]["message"])


def test_a_body_that_is_not_json_is_located_too(http: TestClient) -> None:
    response = http.post("/v1/score", content=b'{"case_id": "x",\n  oops}')
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "body:2:3: invalid JSON: Expecting property name enclosed in double quotes"
    )


def test_an_unknown_dispute_type_is_a_bad_case_file(http: TestClient) -> None:
    text = QUALITY.read_text(encoding="utf-8").replace("type: quality", "type: qualty")
    response = http.post("/v1/cases", content=text.encode(), headers=YAML)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "body:1: dispute.type: unknown dispute type 'qualty'\n    did you mean 'quality'?"
    )


def test_a_case_is_stored_once_and_a_different_one_with_its_id_conflicts(
    http: TestClient,
) -> None:
    first = http.post("/v1/cases?source=quality.yaml", content=QUALITY.read_bytes(), headers=YAML)
    assert first.status_code == 201
    assert first.headers["location"] == "/v1/cases/1"
    record = first.json()
    assert (record["id"], record["case_id"], record["status"], record["source"]) == (
        1, "TB-2024-000305", "pending", "quality.yaml",
    )  # fmt: skip
    assert record["recommendation"]["ruling"] == "return_and_refund"
    assert record["decision"] is None
    again = http.post("/v1/cases", content=QUALITY.read_bytes(), headers=YAML)
    assert (again.status_code, again.json()["id"]) == (200, 1)
    changed = QUALITY.read_text(encoding="utf-8").replace(
        "claimed_amount: 299.00", "claimed_amount: 199.00"
    )
    conflict = http.post("/v1/cases", content=changed.encode(), headers=YAML)
    assert conflict.status_code == 409
    assert conflict.json() == {
        "error": {
            "type": "Conflict",
            "message": "case 'TB-2024-000305' is already on the desk (id 1) with different content",
        }
    }


def test_get_a_case_with_its_document_and_decisions(http: TestClient) -> None:
    case = post_case(http, RECEIPT)
    got = http.get(f"/v1/cases/{case['id']}").json()
    assert got["case"]["case_id"] == "TB-2024-000101"
    assert got["case"]["format"] == "casefile/1"
    assert got["decisions"] == []
    missing = http.get("/v1/cases/99")
    assert missing.status_code == 404
    assert missing.json() == {
        "error": {"type": "NotFound", "message": "no case with id 99 on the desk"}
    }


def test_accepting_the_recommendation_records_who_when_and_the_rules(
    http: TestClient, program: Program
) -> None:
    case = post_case(http, QUALITY)
    response = http.post(f"/v1/cases/{case['id']}/decision", json={"decided_by": " 王芳 "})
    assert response.status_code == 201
    decision = response.json()
    assert {k: v for k, v in decision.items() if k != "recommendation"} == {
        "id": 1, "decided_by": "王芳", "decided_at": "2024-06-01T10:04:00+08:00",
        "ruling": "return_and_refund", "refund_amount": 299.0, "compensation_amount": 0.0,
        "reason": "", "accepted": True, "rules_digest": program.digest,
    }  # fmt: skip
    assert decision["recommendation"] == case["recommendation"]
    assert http.get(f"/v1/cases/{case['id']}").json()["status"] == "accepted"


def test_overriding_needs_a_reason_and_every_problem_is_named(http: TestClient) -> None:
    case = post_case(http, QUALITY)
    bad = {"decided_by": "", "ruling": "refnd", "refund_amount": "12.345", "color": "red"}
    response = http.post(f"/v1/cases/{case['id']}/decision", json=bad)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "body: color: unknown field\n"
        "    known: decided_by, version, ruling, refund_amount, compensation_amount, reason\n"
        "body: decided_by: required field is missing\n"
        "    who decides: your name\n"
        "body: ruling: 'refnd' is not one of refund, partial_refund, return_and_refund, exchange,"
        " compensate, pay_seller, not_admissible, withdrawn, appeal_rejected, request_evidence,"
        " refer_to_arbitrator\n"
        "body: refund_amount: amount 12.345 has more than two decimal places\n"
        "    an amount in CNY, e.g. 12.50"
    )
    no_reason = {"decided_by": "王芳", "ruling": "refund"}
    response = http.post(f"/v1/cases/{case['id']}/decision", json=no_reason)
    assert response.json()["error"]["message"] == (
        "body: reason: a reason is required to override the recommendation\n"
        "    say why refund instead of the recommended return_and_refund"
    )
    assert http.get(f"/v1/cases/{case['id']}").json()["decisions"] == []
    not_json = http.post(f"/v1/cases/{case['id']}/decision", content=b"[1]")
    assert not_json.status_code == 422
    assert not_json.json()["error"]["message"] == "body: expected a JSON object of decision fields"


def test_overriding_with_a_reason_is_recorded_with_the_recommendation_it_replaced(
    http: TestClient,
) -> None:
    case = post_case(http, QUALITY)
    override = {"decided_by": "王芳", "ruling": "partial_refund", "refund_amount": 150,
                "reason": "商品可用，部分退款"}  # fmt: skip
    decision = http.post(f"/v1/cases/{case['id']}/decision", json=override).json()
    assert (decision["accepted"], decision["ruling"], decision["refund_amount"]) == (
        False, "partial_refund", 150.0,
    )  # fmt: skip
    assert decision["recommendation"]["ruling"] == "return_and_refund"
    listed = http.get("/v1/cases?status=overridden").json()
    assert (listed["total"], listed["cases"][0]["decision"]["reason"]) == (1, "商品可用，部分退款")
    assert http.get("/v1/cases?status=pending").json()["total"] == 0


def test_the_case_list_filters_by_dispute_type_ruling_and_status(http: TestClient) -> None:
    post_case(http, QUALITY)
    post_case(http, RECEIPT)
    total = http.get("/v1/cases").json()["total"]
    by_type = http.get("/v1/cases?dispute_type=not_received").json()
    by_ruling = http.get("/v1/cases?ruling=return_and_refund").json()
    assert (total, by_type["total"], by_ruling["total"]) == (2, 1, 1)
    assert by_type["cases"][0]["case_id"] == "TB-2024-000101"
    bad = http.get("/v1/cases?status=lost")
    assert bad.status_code == 422
    assert bad.json()["error"]["message"] == (
        "query.status: Input should be 'pending', 'accepted' or 'overridden'"
    )


def test_rules_names_the_program(http: TestClient, program: Program) -> None:
    rules = http.get("/v1/rules").json()
    assert (rules["name"], rules["version"], rules["digest"], rules["engine"]) == (
        program.name, program.version, program.digest, "reference",
    )  # fmt: skip
    assert [p["name"] for p in rules["profiles"]] == [p.name for p in program.profiles]


def test_the_durable_engine_scores_under_a_lock(tmp_path: Path, program: Program) -> None:
    with client(program, tmp_path / "desk.sqlite3", engine="durable") as http:
        response = http.post("/v1/score", content=HOSTILE.read_bytes(), headers=YAML)
        assert http.get("/v1/rules").json()["engine"] == "durable"
    assert response.json()["ruling"] == "refund"


# ------------------------------------------------------------------ the gate


def test_with_a_token_every_route_needs_it(tmp_path: Path, program: Program) -> None:
    with client(program, tmp_path / "desk.sqlite3", token="s3cret") as http:
        for method, path in (("GET", "/v1/rules"), ("GET", "/openapi.json"), ("POST", "/v1/score"),
                             ("GET", "/v1/decisions/export")):  # fmt: skip
            response = http.request(method, path)
            assert response.status_code == 401, path
            assert response.headers["www-authenticate"] == 'Bearer realm="adjudicate"'
            assert response.json() == {
                "error": {
                    "type": "Unauthorized",
                    "message": "this desk needs a token: send 'Authorization: Bearer <token>' "
                    "(the token the server was started with) or log in at /login",
                }
            }
        wrong = http.get("/v1/rules", headers={"authorization": "Bearer s3cre"})
        right = http.get("/v1/rules", headers={"authorization": "Bearer s3cret"})
        assert (wrong.status_code, right.status_code) == (401, 200)
        schema = http.get("/openapi.json", headers={"authorization": "Bearer s3cret"}).json()
        assert schema["security"] == [{"bearer": []}]


def test_with_a_token_a_browser_logs_in_with_a_form(tmp_path: Path, program: Program) -> None:
    with client(program, tmp_path / "desk.sqlite3", token="s3cret") as http:
        page = http.get("/agreement", headers={"accept": "text/html"}, follow_redirects=False)
        assert (page.status_code, page.headers["location"]) == (303, "/login?next=%2Fagreement")
        refused = http.post("/login", data={"token": "guess", "next": "/agreement"})
        assert refused.status_code == 401 and 'id="wrong"' in refused.text
        login = http.post(
            "/login", data={"token": "s3cret", "next": "/agreement"}, follow_redirects=False
        )
        assert (login.status_code, login.headers["location"]) == (303, "/agreement")
        assert "httponly" in login.headers["set-cookie"].lower()
        assert "s3cret" not in login.headers["set-cookie"]
        assert http.get("/agreement").status_code == 200  # the session cookie
        away = http.post("/login", data={"token": "s3cret", "next": "//evil.example/"},
                         follow_redirects=False)  # fmt: skip
        assert away.headers["location"] == "/"


def test_a_body_over_the_limit_is_refused_with_413(tmp_path: Path, program: Program) -> None:
    with client(program, tmp_path / "desk.sqlite3", max_body=1000) as http:
        big = QUALITY.read_bytes()
        assert len(big) > 1000
        response = http.post("/v1/score", content=big, headers=YAML)
        assert response.status_code == 413
        assert response.json() == {
            "error": {
                "type": "PayloadTooLarge",
                "message": "the request body is larger than 1000 bytes",
            }
        }

        def chunks() -> Any:  # no Content-Length: the limit holds while reading
            for start in range(0, len(big), 200):
                yield big[start : start + 200]

        chunked = http.post("/v1/score", content=chunks(), headers=YAML)
        assert chunked.status_code == 413
        small = http.post("/v1/cases/1/decision", content=b"{}")
        assert small.status_code == 404  # under the limit: on to the route


def test_a_change_from_another_origin_is_refused(http: TestClient) -> None:
    post_case(http, QUALITY)
    forged = http.post("/cases/1/decision", data={"decided_by": "x", "action": "accept"},
                       headers={"origin": "http://evil.example"})  # fmt: skip
    assert forged.status_code == 403
    assert forged.json()["error"]["message"] == (
        "a POST from another origin (http://evil.example) is refused"
    )
    own = http.post("/cases/1/decision", data={"decided_by": "x", "action": "accept"},
                    headers={"origin": "http://127.0.0.1"}, follow_redirects=False)  # fmt: skip
    assert own.status_code == 303


def test_only_loopback_host_names_are_answered(http: TestClient) -> None:
    rebound = http.get("/v1/rules", headers={"host": "attacker.example"})
    assert rebound.status_code == 400


def test_every_error_of_the_api_is_json(http: TestClient) -> None:
    assert http.get("/v1/nothing").json() == {
        "error": {"type": "HTTPError", "message": "no such route: GET /v1/nothing"}
    }
    wrong_method = http.delete("/v1/rules")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"]["type"] == "HTTPError"
    assert json.loads(http.get("/v1/cases/abc").text)["error"]["type"] == "RequestError"
