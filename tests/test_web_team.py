"""The desk for a team, on SQLite and on PostgreSQL: who decides (the signed-in user, never the
body), roles, claims, stale decisions, appeals to a different senior, amounts the rules allow,
the audit log and the export of every decision."""

from __future__ import annotations

import json
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CASEFILES
from fastapi.testclient import TestClient
from webdesk import QUALITY, RECEIPT, YAML, add_team, bearer, client

from engine import Program
from engine.errors import StaleDecision
from engine.web.store import Store

APPEAL = CASEFILES / "appeal-seller-new-receipt-changed.yaml"


@pytest.fixture
def team(desk_db: str, program: Program) -> Any:
    tokens = add_team(desk_db)
    with client(program, desk_db) as http:
        yield http, tokens


def _post(http: TestClient, token: str, path: Path, source: str | None = None) -> dict[str, Any]:
    response = http.post(f"/v1/cases?source={source or path.name}", content=path.read_bytes(),
                         headers={**YAML, **bearer(token)})  # fmt: skip
    assert response.status_code in (200, 201), response.text
    data: dict[str, Any] = response.json()
    return data


def _decide(http: TestClient, token: str, case: int, **fields: Any) -> Any:
    return http.post(f"/v1/cases/{case}/decision", json=fields, headers=bearer(token))


def test_with_accounts_every_route_needs_a_user_and_the_shared_token_is_gone(team: Any) -> None:
    http, tokens = team
    anonymous = http.get("/v1/rules")
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["message"] == (
        "this desk needs a signed-in user: send 'Authorization: Bearer <token>' (adjudicate "
        "users token NAME) or log in at /login"
    )
    assert http.get("/v1/rules", headers=bearer("adj_forged")).status_code == 401
    me = http.get("/v1/me", headers=bearer(tokens["wang"])).json()
    assert me == {"user": {"name": "wang", "role": "arbitrator"}}
    assert http.get("/health").json()["status"] == "ok"  # open: a load balancer's probe


def test_the_decider_is_the_signed_in_user_and_the_body_cannot_name_it(team: Any) -> None:
    http, tokens = team
    case = _post(http, tokens["wang"], QUALITY)
    forged = _decide(http, tokens["wang"], case["id"], decided_by="zhao", version=0)
    assert forged.status_code == 422
    assert forged.json()["error"]["message"] == (
        "body: decided_by: the decider is the signed-in user (wang); a body cannot name it\n"
        "    remove the field"
    )
    no_version = _decide(http, tokens["wang"], case["id"])
    assert no_version.json()["error"]["message"] == (
        "body: version: required field is missing\n"
        "    the case's version as its page or GET /v1/cases/{id} shows it (0: no decision)"
    )
    done = _decide(http, tokens["wang"], case["id"], version=0)
    assert (done.status_code, done.json()["decided_by"]) == (201, "wang")
    got = http.get(f"/v1/cases/{case['id']}", headers=bearer(tokens["wang"])).json()
    assert (got["version"], got["claimed_by"], got["status"]) == (1, "wang", "accepted")


def test_a_stale_decision_gets_409_with_the_decision_in_force(team: Any) -> None:
    http, tokens = team
    case = _post(http, tokens["zhao"], QUALITY)
    first = _decide(http, tokens["zhao"], case["id"], version=0)
    assert first.status_code == 201
    again = _decide(http, tokens["zhao"], case["id"], version=0, ruling="refund",
                    refund_amount=299, reason="买家保留商品")  # fmt: skip
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["message"] == (
        f"case {case['id']} has changed since version 0: it is at version 1; read the decision "
        "now in force, then decide again on version 1"
    )
    assert error["current"] == first.json()
    on_top = _decide(http, tokens["zhao"], case["id"], version=1, ruling="refund",
                     refund_amount=299, reason="买家保留商品")  # fmt: skip
    assert on_top.status_code == 201


def test_twenty_simultaneous_decisions_on_one_version_record_exactly_one(desk_db: str) -> None:
    """Straight at the store from 20 threads, each with its own connection: one wins, 19 are
    refused with the winner's decision, whatever the database."""
    from engine import load_rules
    from engine.web.desk import Desk

    desk = Desk(load_rules(CASEFILES.parent / "rules"), Store(desk_db))
    from engine.cases.load import load_case

    imported = desk.add(load_case(QUALITY), source="q.yaml")
    rec = desk.case(imported.id).recommendation
    assert rec is not None
    outcomes: list[Any] = []
    barrier = threading.Barrier(20)

    def decide(n: int) -> None:
        barrier.wait()
        try:
            outcomes.append(desk.store.add_decision(
                imported.id, recommendation_ref=rec.id, decided_by=f"arbitrator-{n}",
                decided_at="2024-06-01T10:00:00+08:00", ruling="refund",
                refund_amount=Decimal(n), compensation_amount=Decimal(0), reason=f"#{n}",
                accepted=False, version=0,
            ))  # fmt: skip
        except StaleDecision as exc:
            outcomes.append(exc)

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    desk.store.close()
    recorded = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, StaleDecision)]
    assert (len(recorded), len(refused)) == (1, 19)
    winner = Store(desk_db).decisions(imported.id)
    assert len(winner) == 1
    assert {e.current["decided_by"] for e in refused if e.current} == {winner[0].decided_by}


def test_a_claimed_case_is_decided_by_its_claimant_only(team: Any) -> None:
    http, tokens = team
    case = _post(http, tokens["wang"], QUALITY)["id"]
    claimed = http.post(f"/v1/cases/{case}/claim", headers=bearer(tokens["wang"]))
    assert claimed.json() == {"id": case, "claimed_by": "wang"}
    other = http.post(f"/v1/cases/{case}/claim", headers=bearer(tokens["li"]))
    assert other.status_code == 409
    assert other.json()["error"]["message"] == f"case {case} is already claimed by wang"
    refused = _decide(http, tokens["li"], case, version=0)
    assert refused.status_code == 409
    assert refused.json()["error"]["message"] == (
        f"case {case} is claimed by wang: only they decide it (or release it first)"
    )
    assert http.get("/v1/cases?claimed_by=wang", headers=bearer(tokens["li"])).json()[
        "total"] == 1  # fmt: skip
    # li cannot release wang's claim; a senior can
    http.post(f"/v1/cases/{case}/release", headers=bearer(tokens["li"]))
    assert http.get(f"/v1/cases/{case}", headers=bearer(tokens["li"])).json()["claimed_by"] == (
        "wang"
    )
    released = http.post(f"/v1/cases/{case}/release", headers=bearer(tokens["zhao"]))
    assert released.json() == {"id": case, "claimed_by": None}
    assert _decide(http, tokens["li"], case, version=0).status_code == 201


def test_an_appeal_goes_to_a_senior_who_did_not_decide_the_first_ruling(team: Any) -> None:
    http, tokens = team
    # the first ruling on the same order, decided on the desk by zhao (a senior)
    first = yaml.safe_load(APPEAL.read_text(encoding="utf-8"))
    first["case_id"] += "-first"
    first["dispute"]["appeal"] = None
    body = json.dumps(first, default=lambda value: value.isoformat())  # YAML read its times
    response = http.post("/v1/cases?source=first.json", content=body.encode(),
                         headers=bearer(tokens["zhao"]))  # fmt: skip
    assert response.status_code == 201, response.text
    assert _decide(http, tokens["zhao"], response.json()["id"], version=0).status_code == 201
    appeal = _post(http, tokens["wang"], APPEAL)["id"]
    by_arbitrator = _decide(http, tokens["wang"], appeal, version=0)
    assert by_arbitrator.status_code == 403
    assert by_arbitrator.json()["error"] == {
        "type": "Forbidden",
        "message": f"case {appeal} is an appeal: only a senior arbitrator decides it, not wang "
        "(arbitrator)",
    }
    by_first = _decide(http, tokens["zhao"], appeal, version=0)
    assert by_first.status_code == 403
    assert by_first.json()["error"]["message"] == (
        f"case {appeal} is an appeal against a ruling zhao decided (order "
        f"{first['order']['order_id']}): another senior arbitrator reviews it"
    )
    by_other = _decide(http, tokens["qian"], appeal, version=0)
    assert (by_other.status_code, by_other.json()["decided_by"]) == (201, "qian")


def test_amounts_stay_within_what_the_rules_give_the_ruling(team: Any) -> None:
    http, tokens = team
    case = _post(http, tokens["wang"], QUALITY)["id"]  # return_and_refund 299.00
    on_pay_seller = _decide(http, tokens["wang"], case, version=0, ruling="pay_seller",
                            refund_amount=10, reason="卖家举证充分")  # fmt: skip
    assert on_pay_seller.status_code == 422
    assert on_pay_seller.json()["error"]["message"] == (
        "body: refund_amount: pay_seller carries no refund: the rules give it none\n"
        "    set it to 0, or choose a ruling that carries a refund"
    )
    too_much = _decide(http, tokens["wang"], case, version=0, ruling="partial_refund",
                       refund_amount="300.00", reason="部分退款")  # fmt: skip
    assert too_much.status_code == 422
    assert too_much.json()["error"]["message"] == (
        "body: refund_amount: 300.00 is more than the rules allow for partial_refund on case "
        "TB-2024-000305 (299.00)\n"
        "    at most 299.00, as the rules compute it (damaged-signing-not-proven-partial, "
        "damaged-damage-proven-partial)"
    )
    within = _decide(http, tokens["wang"], case, version=0, ruling="partial_refund",
                     refund_amount="150.00", reason="部分退款")  # fmt: skip
    assert within.status_code == 201


def test_roles_decide_what_each_user_may_do(team: Any) -> None:
    http, tokens = team
    case = _post(http, tokens["wang"], RECEIPT)["id"]
    policy = _decide(http, tokens["sun"], case, version=0)
    assert policy.status_code == 403
    assert policy.json()["error"]["message"] == (
        "sun (policy) may not record decisions: that takes the role arbitrator or senior"
    )
    assert http.post("/v1/cases", content=QUALITY.read_bytes(),
                     headers={**YAML, **bearer(tokens["sun"])}).status_code == 403  # fmt: skip
    assert http.get("/v1/decisions/export", headers=bearer(tokens["sun"])).status_code == 200
    assert http.get("/v1/decisions/export", headers=bearer(tokens["wang"])).status_code == 403
    assert http.get("/v1/audit", headers=bearer(tokens["wang"])).json()["error"]["message"] == (
        "wang (arbitrator) may not read the audit log: that takes the role admin"
    )


def test_the_audit_log_records_who_did_what_and_cannot_be_changed(
    team: Any, desk_db: str
) -> None:
    http, tokens = team
    login = http.post("/login", data={"name": "wang", "password": "correct horse battery"},
                      follow_redirects=False)  # fmt: skip
    assert login.status_code == 303
    case = _post(http, tokens["wang"], QUALITY, source="folder/quality.yaml")["id"]
    http.get(f"/cases/{case}/report?lang=en", headers=bearer(tokens["wang"]))
    _decide(http, tokens["wang"], case, version=0)
    log = http.get("/v1/audit", headers=bearer(tokens["zhou"])).json()
    actions = [(e["actor"], e["action"], e["case"]) for e in reversed(log["entries"])]
    assert actions[-4:] == [
        ("wang", "login", None), ("wang", "import", case), ("wang", "view_report", case),
        ("wang", "decision", case),
    ]  # fmt: skip
    decision = log["entries"][0]
    assert decision["detail"]["ruling"] == "return_and_refund"
    assert decision["detail"]["version"] == 0
    assert log["entries"][1]["detail"] == {
        "audience": "arbitrator", "format": "html", "lang": "en",
    }  # fmt: skip
    assert log["entries"][2]["detail"] == {
        "case_id": "TB-2024-000305", "source": "folder/quality.yaml",
    }  # fmt: skip
    store = Store(desk_db)
    try:
        for sql in ("UPDATE audit SET actor = 'someone'", "DELETE FROM audit",
                    "UPDATE decisions SET decided_by = 'someone'"):  # fmt: skip
            with pytest.raises(Exception, match="append-only"):
                with store.db.transaction() as conn:
                    conn.run(sql)
    finally:
        store.close()


def test_the_export_keeps_every_decision_with_its_decider_reason_and_digest(
    team: Any, program: Program
) -> None:
    http, tokens = team
    case = _post(http, tokens["wang"], QUALITY)["id"]
    _decide(http, tokens["wang"], case, version=0)
    _decide(http, tokens["wang"], case, version=1, ruling="refund", refund_amount=299,
            reason="卖家同意买家保留商品")  # fmt: skip
    line = http.get("/v1/decisions/export", headers=bearer(tokens["zhou"])).text
    decision = json.loads(line)["decision"]
    assert {k: v for k, v in decision.items() if k not in ("decided_at", "earlier")} == {
        "ruling": "refund", "refund_amount": 299, "compensation_amount": 0,
        "decided_by": "wang", "reason": "卖家同意买家保留商品", "rules_digest": program.digest,
    }  # fmt: skip
    assert [(d["ruling"], d["decided_by"], d["rules_digest"]) for d in decision["earlier"]] == [
        ("return_and_refund", "wang", program.digest)
    ]
