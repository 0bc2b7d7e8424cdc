"""Helpers for the web desk's tests: an app over a fresh database, a fixed clock, case files."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from conftest import CASEFILES, ROOT
from fastapi.testclient import TestClient

from engine import Program
from engine.web import create_app

HOSTILE = ROOT / "tests" / "data" / "reports" / "hostile-text.yaml"
QUALITY = CASEFILES / "quality-photos-both-views.yaml"  # return_and_refund 299.00
RECEIPT = CASEFILES / "not-received-valid-receipt.yaml"  # pay_seller
LATE = CASEFILES / "late-shipment-half-up-rounding.yaml"  # compensate 6.17
YAML = {"content-type": "application/yaml"}


class Clock:
    """2024-06-01 10:00 +08:00, one minute later on every call."""

    def __init__(self) -> None:
        self.now = datetime(2024, 6, 1, 2, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def client(program: Program, db: Path, **options: Any) -> TestClient:
    """A test client of a desk whose database is ``db``; requests come to 127.0.0.1."""
    app = create_app(program, db, clock=options.pop("clock", Clock()), **options)
    return TestClient(app, base_url="http://127.0.0.1")


def post_case(http: TestClient, path: Path) -> dict[str, Any]:
    response = http.post(f"/v1/cases?source={path.name}", content=path.read_bytes(), headers=YAML)
    assert response.status_code in (200, 201), response.text
    data: dict[str, Any] = response.json()
    return data


PASSWORD = "correct horse battery"
TEAM = (("wang", "arbitrator"), ("li", "arbitrator"), ("zhao", "senior"), ("qian", "senior"),
        ("sun", "policy"), ("zhou", "admin"))  # fmt: skip


def add_team(db: str | Path, team: tuple[tuple[str, str], ...] = TEAM) -> dict[str, str]:
    """Accounts for ``team`` in the desk's database ``db``; their API tokens, by name."""
    from engine.web.accounts import Accounts
    from engine.web.store import Store

    store = Store(db)
    try:
        accounts = Accounts(store.db)
        tokens = {}
        for name, role in team:
            accounts.add(name, role, PASSWORD)
            tokens[name] = accounts.new_token(name)
        return tokens
    finally:
        store.close()


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}
