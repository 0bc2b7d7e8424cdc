"""`adjudicate serve`: loopback by default, the token from the environment, a newer database
refused with exit 2 (uvicorn.run is replaced: nothing listens)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner
from conftest import RULES
from fastapi.testclient import TestClient
from webdesk import add_team

from engine.cli import main


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    calls: dict[str, Any] = {}

    def run(app: Any, **options: Any) -> None:
        calls.update(options, app=app)

    monkeypatch.setattr(uvicorn, "run", run)
    return calls


def test_serve_listens_on_loopback_by_default_with_the_token_from_the_environment(
    tmp_path: Path, served: dict[str, Any]
) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--rules", str(RULES), "--db", str(tmp_path / "d.sqlite3")],
        env={"ADJUDICATE_TOKEN": "s3cret"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (served["host"], served["port"]) == ("127.0.0.1", 8000)
    assert served["app"].state.token == "s3cret"
    assert result.stderr.startswith("adjudicate desk: http://127.0.0.1:8000/ (taobao-default")
    assert result.stderr.rstrip().endswith("token required)")


def test_serve_beyond_loopback_needs_allowed_host_names(
    tmp_path: Path, served: dict[str, Any]
) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--rules", str(RULES), "--db", str(tmp_path / "d.sqlite3"),
               "--host", "0.0.0.0"], env={"ADJUDICATE_TOKEN": "s3cret"},
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: --host 0.0.0.0 listens beyond loopback: name the host names arbitrators use "
        "with --allowed-host NAME (a page answering to any Host name can be reached through "
        "DNS rebinding)"
    )
    assert served == {}


def test_serve_beyond_loopback_needs_accounts_or_a_token(
    tmp_path: Path, served: dict[str, Any]
) -> None:
    args = ["serve", "--rules", str(RULES), "--db", str(tmp_path / "d.sqlite3"),
            "--host", "0.0.0.0", "--allowed-host", "desk.example"]  # fmt: skip
    open_desk = CliRunner().invoke(main, args, env={"ADJUDICATE_TOKEN": ""})
    assert open_desk.exit_code == 2
    assert open_desk.stderr.splitlines()[-1] == (
        "Error: --host 0.0.0.0 listens beyond loopback, but this desk has no accounts and no "
        "token: anyone who reaches it could read cases and record decisions. Add accounts "
        "(adjudicate users add NAME --role ... --db ...) or give a token"
    )
    add_team(tmp_path / "d.sqlite3")
    team = CliRunner().invoke(main, args, env={"ADJUDICATE_TOKEN": ""})
    assert team.exit_code == 0, team.stderr
    assert served["host"] == "0.0.0.0"
    assert team.stderr.rstrip().endswith("database " + str(tmp_path / "d.sqlite3") + ", accounts)")
    rebound = TestClient(served["app"]).get("/health", headers={"host": "evil.example"})
    assert rebound.status_code == 400
    named = TestClient(served["app"]).get("/health", headers={"host": "desk.example"})
    assert named.json()["status"] == "ok"


def test_users_add_reads_the_password_from_stdin_and_token_prints_one(tmp_path: Path) -> None:
    db = str(tmp_path / "d.sqlite3")
    runner = CliRunner()
    added = runner.invoke(main, ["users", "add", "王芳", "--role", "senior", "--db", db],
                          input="a long enough password\n")  # fmt: skip
    assert added.exit_code == 0, added.stderr
    assert added.stderr == "added 王芳 (senior)\n"
    with sqlite3.connect(db) as conn:
        (hashed,) = conn.execute("SELECT password_hash FROM users").fetchone()
    assert hashed.startswith("$argon2id$") and "a long enough password" not in hashed
    again = runner.invoke(main, ["users", "add", "王芳", "--role", "senior", "--db", db],
                          input="a long enough password\n")  # fmt: skip
    assert (again.exit_code, again.stderr) == (2, "there is already a user '王芳'\n")
    short = runner.invoke(main, ["users", "add", "li", "--role", "arbitrator", "--db", db],
                          input="short\n")  # fmt: skip
    assert (short.exit_code, short.stderr) == (
        2, "the password has 5 characters; give at least 10\n",
    )  # fmt: skip
    token = runner.invoke(main, ["users", "token", "王芳", "--db", db])
    assert token.exit_code == 0 and token.stdout.startswith("adj_")
    missing = runner.invoke(main, ["users", "token", "nobody", "--db", db])
    assert (missing.exit_code, missing.stderr) == (
        2, "no user 'nobody': add one with adjudicate users add\n",
    )  # fmt: skip
    listed = runner.invoke(main, ["users", "list", "--db", db])
    assert listed.stdout == "王芳\tsenior\n"


def test_serve_refuses_a_database_written_by_a_newer_version(
    tmp_path: Path, served: dict[str, Any]
) -> None:
    db = tmp_path / "new.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 9")
    result = CliRunner().invoke(main, ["serve", "--rules", str(RULES), "--db", str(db)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"{db}: the database has schema version 9, newer than this adjudicate knows (4): open "
        "it with the version that wrote it, or a newer one\n"
    )
    assert served == {}
