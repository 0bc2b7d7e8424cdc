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


def test_serve_warns_when_it_listens_beyond_loopback_without_a_token(
    tmp_path: Path, served: dict[str, Any]
) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--rules", str(RULES), "--db", str(tmp_path / "d.sqlite3"),
               "--host", "0.0.0.0"], env={"ADJUDICATE_TOKEN": ""},
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stderr.splitlines()[0] == (
        "warning: listening on 0.0.0.0 without --token: anyone who can reach it can read cases "
        "and record decisions"
    )


def test_serve_refuses_a_database_written_by_a_newer_version(
    tmp_path: Path, served: dict[str, Any]
) -> None:
    db = tmp_path / "new.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 9")
    result = CliRunner().invoke(main, ["serve", "--rules", str(RULES), "--db", str(db)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"{db}: the database has schema version 9, newer than this adjudicate knows (3): open "
        "it with the version that wrote it, or a newer one\n"
    )
    assert served == {}
