"""The desk's database: migrations, WAL, nothing lost across a restart, and the decisions
export, which the case loader reads back as archived decisions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from webdesk import LATE, QUALITY, RECEIPT, client, post_case

from engine import Program, Scorer
from engine.cases.load import iter_jsonl, load_cases
from engine.errors import SchemaTooNew
from engine.model import Case
from engine.policytools.agreement import agreement, compare
from engine.web.db import SqliteDatabase
from engine.web.migrations import MIGRATIONS, migrate
from engine.web.store import Store


def test_a_new_database_has_every_migration_and_runs_in_wal_mode(tmp_path: Path) -> None:
    Store(tmp_path / "desk.sqlite3")
    with sqlite3.connect(tmp_path / "desk.sqlite3") as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) == 4
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"cases", "recommendations", "decisions", "decisions_by_case"} <= tables


def test_an_older_database_is_migrated_and_keeps_its_cases(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    assert migrate(SqliteDatabase(path), upto=2) == 2
    with sqlite3.connect(path) as conn:
        conn.execute(
            "INSERT INTO cases (case_id, platform, dispute_type, claimed_amount, document, "
            "source, imported_at) VALUES ('TB-1', 'taobao', 'quality', '1.00', "
            "'{\"order\": {\"order_id\": \"301\"}}', 'x', 'now')"
        )
    Store(path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
        rows = conn.execute("SELECT case_id, version, order_key, revision FROM cases").fetchall()
        assert rows == [("TB-1", 0, "taobao:301", 0)]


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 7")
    with pytest.raises(SchemaTooNew) as error:
        Store(path)
    assert str(error.value) == (
        "the database has schema version 7, newer than this adjudicate knows (4): open it with "
        "the version that wrote it, or a newer one"
    )


def test_cases_and_decisions_survive_a_restart_of_the_server(
    tmp_path: Path, program: Program
) -> None:
    db = tmp_path / "desk.sqlite3"
    with client(program, db) as http:
        case = post_case(http, QUALITY)
        override = {"decided_by": "王芳", "ruling": "refund", "refund_amount": 150,
                    "reason": "买家同意保留商品"}  # fmt: skip
        assert http.post(f"/v1/cases/{case['id']}/decision", json=override).status_code == 201
    with client(program, db) as http:  # a new server on the same file
        again = http.get(f"/v1/cases/{case['id']}").json()
    assert again["status"] == "overridden"
    assert again["decision"]["decided_by"] == "王芳"
    assert again["decision"]["recommendation"]["ruling"] == "return_and_refund"
    assert again["decision"]["rules_digest"] == program.digest


def test_the_export_reads_back_as_archived_decisions_and_rescoring_gives_the_agreement(
    tmp_path: Path, program: Program, scorers: dict[str, Scorer]
) -> None:
    with client(program, tmp_path / "desk.sqlite3") as http:
        quality, receipt, late = (post_case(http, p) for p in (QUALITY, RECEIPT, LATE))
        post_case(http, LATE.parent / "refund-cap.yaml")  # not decided: not exported
        accept = {"decided_by": "李雷"}
        override = {"decided_by": "李雷", "ruling": "refund", "refund_amount": "299.00",
                    "reason": "卖家承认质量问题，买家无需退货"}  # fmt: skip
        for case, decision in ((quality, override), (receipt, accept), (late, accept)):
            response = http.post(f"/v1/cases/{case['id']}/decision", json=decision)
            assert response.status_code == 201, response.text
        exported = http.get("/v1/decisions/export")
        shown = http.get("/agreement?lang=en").text
    assert exported.headers["content-type"] == "application/x-ndjson"
    archive = tmp_path / "decisions.jsonl"
    archive.write_bytes(exported.content)

    cases = list(iter_jsonl(archive))
    assert [c.case_id for c in cases if isinstance(c, Case)] == [
        "TB-2024-000305", "TB-2024-000101", "TB-2024-000162",
    ]  # fmt: skip
    assert all(isinstance(c, Case) for c in load_cases([archive]))
    decisions = {c.case_id: c.decision for c in cases if isinstance(c, Case)}
    overridden = decisions["TB-2024-000305"]
    assert overridden is not None and overridden.ruling == "refund"
    assert str(overridden.refund_amount) == "299" and str(overridden.decided_at) == (
        "2024-06-01 10:13:00+08:00"
    )
    assert (overridden.decided_by, overridden.reason, overridden.rules_digest) == (
        "李雷", "卖家承认质量问题，买家无需退货", program.digest,
    )  # fmt: skip

    # re-scoring the archive: one of three decisions differs from the recommendation
    scorer = scorers["reference"]
    figures = agreement(
        compare(scorer.score(c).ruling, c.decision, c.dispute.type)
        for c in cases
        if isinstance(c, Case) and c.decision is not None
    )
    assert (figures.decided, figures.agreed) == (3, 2)
    assert [(r.key, r.decided, r.agreed) for r in figures.by_dispute_type] == [
        ("quality", 1, 0), ("late_shipment", 1, 1), ("not_received", 1, 1),
    ]  # fmt: skip
    # and the desk's agreement page shows the same figures
    assert "3 cases decided, 2 agree with the recommendation (66.7%)" in shown


def test_a_database_of_schema_3_keeps_its_recommendations_and_decisions_on_migration_4(
    desk_db: str, program: Program
) -> None:
    from engine.web.db import open_database

    db = open_database(desk_db)
    try:
        assert migrate(db, upto=3) == 3
        with db.transaction() as conn:
            conn.run(
                "INSERT INTO cases (case_id, platform, dispute_type, claimed_amount, document, "
                "source, imported_at, version, order_key) VALUES ('TB-1', 'taobao', 'quality', "
                "'1.00', '{}', 'x', 'now', 1, 'taobao:301')"
            )
            conn.run(
                "INSERT INTO recommendations (case_ref, rules_name, rules_version, rules_digest, "
                "engine, ruling, deciding_rule, refund_amount, compensation_amount, ruling_json, "
                "scored_at) VALUES (1, 'n', 'v', 'sha256:old', 'reference', 'refund', 'r', '1.00', "
                "'0.00', '{}', 'now')"
            )
            conn.run(
                "INSERT INTO decisions (case_ref, recommendation_ref, decided_by, decided_at, "
                "ruling, refund_amount, compensation_amount, reason, accepted) VALUES (1, 1, "
                "'王芳', 'now', 'refund', '1.00', '0.00', '', 1)"
            )
        assert migrate(db) == 4
        with db.reading() as conn:
            kept = conn.rows(
                "SELECT d.decided_by, r.rules_digest, r.revision, c.revision, c.version "
                "FROM decisions d JOIN recommendations r ON r.id = d.recommendation_ref "
                "JOIN cases c ON c.id = d.case_ref"
            )
        with db.transaction() as conn:  # a second recommendation under one digest: a revision
            conn.run(
                "INSERT INTO recommendations (case_ref, rules_name, rules_version, rules_digest, "
                "engine, ruling, deciding_rule, refund_amount, compensation_amount, ruling_json, "
                "scored_at, revision) VALUES (1, 'n', 'v', 'sha256:old', 'reference', "
                "'pay_seller', 'r', '0.00', '0.00', '{}', 'now', 1)"
            )
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            with db.transaction() as conn:
                conn.run(
                    "INSERT INTO recommendations (case_ref, rules_name, rules_version, "
                    "rules_digest, engine, ruling, deciding_rule, refund_amount, "
                    "compensation_amount, ruling_json, scored_at, revision) VALUES (1, 'n', 'v', "
                    "'sha256:old', 'reference', 'refund', 'r', '0.00', '0.00', '{}', 'now', 1)"
                )
    finally:
        db.close()
    assert kept == [("王芳", "sha256:old", 0, 0, 1)]
