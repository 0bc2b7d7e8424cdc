"""Shared fixtures: the test policy compiled once, a scorer per engine, its sample cases.

The engine's tests run on their own policy, ``tests/fixtures/policy/`` (rules, sample cases and
rule tests frozen from policy 2026.1), never on the shipped ``rules/``, ``casefiles/`` and
``policy-tests/``: those belong to policy staff, who change them without touching Python, and
are checked by their own golden cases and rule tests (``test_golden.py``, ``policy-tests/``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine import Program, Scorer, load_rules

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "policy"
RULES = FIXTURE / "rules"
CASEFILES = FIXTURE / "casefiles"
POLICY_TESTS = FIXTURE / "policy-tests"
# the shipped policy: only the staff-owned checks read it (test_golden.py, test_shipped_*.py)
SHIPPED_RULES = ROOT / "rules"
SHIPPED_CASEFILES = ROOT / "casefiles"


# every command a test runs (in process or as a subprocess) defaults to the test policy too
os.environ["ADJUDICATE_RULES"] = str(RULES)


def golden_cases(folder: Path = CASEFILES) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if not p.name.endswith(".expected.yaml"))


@pytest.fixture(scope="session")
def program() -> Program:
    return load_rules(RULES)


@pytest.fixture(scope="session")
def scorers(program: Program) -> dict[str, Scorer]:
    return {"reference": Scorer(program, "reference"), "durable": Scorer(program, "durable")}


@pytest.fixture
def rules_copy(tmp_path: Path) -> Callable[..., Path]:
    """A copy of rules/ in a temporary folder, optionally edited: edit(file, old, new)."""

    def make(*edits: tuple[str, str, str]) -> Path:
        target = tmp_path / "rules"
        shutil.copytree(RULES, target)
        for name, old, new in edits:
            path = target / name
            text = path.read_text(encoding="utf-8")
            assert old in text, f"{old!r} not in {name}"
            path.write_text(text.replace(old, new, 1), encoding="utf-8")
        return target

    return make


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL server for the session (tests/pgserver.py); its URL."""
    from pgserver import running_server

    with running_server() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh database on the session's PostgreSQL server."""
    from pgserver import fresh_database

    with fresh_database(postgres_server) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)])
def desk_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The desk's database, once as a SQLite file and once on PostgreSQL."""
    if request.param == "sqlite":
        return str(tmp_path / "desk.sqlite3")
    url: str = request.getfixturevalue("postgres_url")
    return url
