"""Hostile input at the desk, round 2: lone surrogates, a gzip bomb through /import, decision
bodies with repeated keys or hidden characters, ids out of range on pages, and a database that
fills up or turns read-only (a JSON 5xx, nothing half-written; at start, one line)."""

from __future__ import annotations

import gzip
import json
import sqlite3
import subprocess
import tracemalloc
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CASEFILES, ROOT, RULES
from fastapi.testclient import TestClient
from webdesk import QUALITY, YAML, client, post_case

from engine import Program
from engine.cases.load import MAX_CASE_BYTES
from engine.cli import main
from engine.errors import StorageError
from engine.web import create_app

VALID = ROOT / "tests" / "data" / "casefiles" / "valid.json"


@pytest.fixture
def http(tmp_path: Path, program: Program) -> Iterator[TestClient]:
    with client(program, tmp_path / "desk.sqlite3") as test_client:
        yield test_client


def test_a_lone_surrogate_in_a_case_body_is_a_located_422(http: TestClient) -> None:
    data = json.loads(VALID.read_text(encoding="utf-8"))
    data["order"]["item"] = "大衣\ud800"
    body = json.dumps(data)  # the escape, as a client writes it
    column = body.index("\\ud800") + 1
    for route in ("/v1/score", "/v1/cases"):
        response = http.post(route, content=body.encode())
        assert response.status_code == 422, route
        assert response.json()["error"]["message"] == (
            f"body:1:{column}: order.item: the text holds a lone surrogate, which is not a "
            "character\n    in JSON a \\ud800-\\udfff escape is half of a pair (\\ud83d\\ude00 "
            "is one emoji); remove it or write the character itself"
        )
    assert http.get("/v1/cases").json()["total"] == 0


def test_a_gzip_bomb_through_import_is_one_error_read_within_the_line_limit(
    http: TestClient, tmp_path: Path
) -> None:
    valid = VALID.read_text(encoding="utf-8").replace("\n", " ")
    payload = tmp_path / "bomb.jsonl.gz"
    with gzip.open(payload, "wb", compresslevel=9) as stream:
        stream.write(valid.encode() + b"\n" + b'{"case_id": "')
        for _ in range(64):
            stream.write(b"a" * (1 << 20))
        stream.write(b'"}\n' + valid.replace("TB-2024-000123", "TB-after").encode() + b"\n")
    files = [("files", ("bomb.jsonl.gz", payload.read_bytes(), "application/gzip"))]
    tracemalloc.start()
    try:
        response = http.post("/import?lang=en", files=files)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert response.status_code == 422
    assert peak < 4 * MAX_CASE_BYTES, f"peak {peak:,} bytes"
    assert "bomb.jsonl.gz:2: the line is 67,108,880 bytes, more than a case may be" in (
        response.text
    )
    assert http.get("/v1/cases").json()["total"] == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b'{"decided_by": "x", "ruling": "refund", "ruling": "pay_seller"}',
         "body: duplicate key 'ruling'\n"
         "    remove one of them: a JSON reader would silently keep the last"),
        (b'{"decided_by": "x", "reason": "ok\\u0007", "ruling": "refund"}',
         "body: reason: character 3 is a control character (U+0007)\n"
         "    remove it: a decision is read by people, as it is shown"),
        ('{"decided_by": "x", "reason": "退款\\u202e123", "ruling": "refund"}'.encode(),
         "body: reason: character 3 is an invisible or direction character (U+202E)\n"
         "    remove it: a decision is read by people, as it is shown"),
        ('{"decided_by": "王\\u200b芳"}'.encode(),
         "body: decided_by: character 2 is an invisible or direction character (U+200B)\n"
         "    remove it: a decision is read by people, as it is shown"),
        (b'{"decided_by": "x\\ud800"}',
         "body: decided_by: the text holds a lone surrogate, which is not a character\n"
         "    in JSON a \\ud800-\\udfff escape is half of a pair (\\ud83d\\ude00 is one emoji); "
         "remove it or write the character itself"),
    ],
    ids=["duplicate-key", "control", "bidi", "zero-width", "surrogate"],
)  # fmt: skip
def test_a_decision_body_is_refused_like_a_case_body(
    http: TestClient, body: bytes, message: str
) -> None:
    case = post_case(http, QUALITY)
    response = http.post(f"/v1/cases/{case['id']}/decision", content=body)
    assert response.status_code == 422
    assert response.json()["error"]["message"] == message
    assert http.get(f"/v1/cases/{case['id']}").json()["decisions"] == []


def test_page_routes_answer_422_for_ids_out_of_range(http: TestClient) -> None:
    huge = "9" * 30
    for method, path in (("GET", f"/cases/{huge}"), ("GET", f"/cases/{huge}/report"),
                         ("POST", f"/cases/{huge}/decision"), ("GET", "/cases/0"),
                         ("POST", f"/cases/{huge}/claim")):  # fmt: skip
        response = http.request(method, path, headers={"accept": "text/html"})
        assert response.status_code == 422, path
        assert "<html" in response.text and "Traceback" not in response.text


def test_a_case_id_with_a_control_character_is_refused_at_the_desk(http: TestClient) -> None:
    data = json.loads(VALID.read_text(encoding="utf-8"))
    data["case_id"] = "TB-1\u0000"
    response = http.post("/v1/cases", content=json.dumps(data).encode())
    assert response.status_code == 422
    assert response.json()["error"]["message"] == (
        "body:1: case_id: character 5 is a control character (U+0000)\n"
        "    the desk keeps case ids of visible characters only"
    )


# ------------------------------------------------------------------ the disk and the database


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / f"disk-{uuid.uuid4().hex[:6]}"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=400k", "tmpfs", str(mount)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def _cases_with_recommendations(db: Path) -> tuple[int, int]:
    with sqlite3.connect(db) as conn:
        cases = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        scored = conn.execute("SELECT count(DISTINCT case_ref) FROM recommendations").fetchone()
    return int(cases), int(scored[0])


@pytest.mark.slow
def test_a_full_disk_is_a_json_503_and_nothing_half_written(
    small_disk: Path, program: Program
) -> None:
    db = small_disk / "desk.sqlite3"
    text = (CASEFILES / "quality-photos-both-views.yaml").read_text(encoding="utf-8")
    padding = "很长的说明" * 2000  # ~30 KB a case: the disk fills within a few dozen
    answers: list[Any] = []
    with client(program, db) as http:
        for n in range(200):
            body = text.replace("TB-2024-000305", f"TB-FULL-{n}").replace(
                "reason: ", f"reason: {padding} ", 1
            )
            response = http.post("/v1/cases", content=body.encode(), headers=YAML)
            answers.append(response)
            if response.status_code != 201:
                break
        last = answers[-1]
        assert last.status_code == 503, last.text
        assert last.json()["error"] == {
            "type": "StorageError",
            "message": f"the desk's database {db} could not be written: the disk is full; "
            "nothing of this request was recorded: free space on that disk, then try again",
        }
        stored = http.get("/v1/cases?limit=1").json()["total"]
    cases, scored = _cases_with_recommendations(db)
    assert cases == scored == stored == len(answers) - 1  # every stored case whole


@pytest.mark.slow
def test_a_database_turned_read_only_is_a_json_503_and_at_start_one_line(
    small_disk: Path, program: Program
) -> None:
    db = small_disk / "desk.sqlite3"
    with client(program, db) as http:
        post_case(http, QUALITY)
        subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
        response = http.post(
            "/v1/cases/1/decision", json={"decided_by": "王芳"}
        )
        assert response.status_code == 503
        assert response.json()["error"]["message"] == (
            f"the desk's database {db} is read-only; nothing of this request was recorded: let "
            "the server write the file and its folder (it keeps a -wal and a -shm file beside "
            "it), then try again"
        )
        # in WAL mode SQLite cannot even read from a read-only folder: reads say so too
        assert http.get("/v1/cases/1").status_code == 503
    with pytest.raises(StorageError):
        create_app(program, db)
    result = CliRunner().invoke(main, ["serve", "--rules", str(RULES), "--db", str(db)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"the desk's database {db} is read-only")
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM decisions").fetchone() == (0,)


@pytest.mark.slow
def test_a_read_only_postgresql_database_at_start_is_one_line(
    postgres_url: str, program: Program
) -> None:
    import psycopg

    name = postgres_url.split("/")[3].split("?")[0]
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
    result = CliRunner().invoke(main, ["serve", "--rules", str(RULES), "--db", postgres_url])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "read-only" in result.stderr and "Traceback" not in result.stderr
