"""Shared fixtures: the project's rules compiled once, a scorer per engine, the golden cases."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from engine import Program, Scorer, load_rules

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "rules"
CASEFILES = ROOT / "casefiles"


def golden_cases() -> list[Path]:
    return sorted(p for p in CASEFILES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))


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
