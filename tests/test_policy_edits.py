"""The promise to policy staff: a change made only under rules/, casefiles/ and policy-tests/
never needs Python and never turns CI red. A policy analyst's trial of five such changes
(tests/fixtures/policy-edits) is applied to a copy of the project, where the checks CI runs on
the shipped policy must pass and the new cases get the rulings the analyst intended."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT
from policyedits import EDITS, STAFF_FOLDERS, apply_edits

pytestmark = pytest.mark.slow  # a second pytest, on a copy of the project

SKIP = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis",
    "*.egg-info", "build", "dist",
)  # fmt: skip


def _copy_with_edits(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=SKIP)
    written = apply_edits(project)
    assert {name.split("/")[0] for name in written} <= set(STAFF_FOLDERS)
    return project


def _run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(project)}
    env.pop("ADJUDICATE_RULES", None)  # the copy's own rules/, as policy staff run them
    return subprocess.run(
        [sys.executable, *args], cwd=project, env=env, capture_output=True, text=True, timeout=900
    )


def test_five_yaml_only_policy_changes_keep_the_policy_checks_green(tmp_path: Path) -> None:
    project = _copy_with_edits(tmp_path)
    checked = _run(project, "-m", "engine.cli", "rules", "validate")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("ok: taobao-default 2027.1 ")
    # the checks of the shipped policy that CI runs: golden cases and rule tests, both engines
    ran = _run(
        project, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_golden.py",
        "policy-tests",
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    assert " passed" in ran.stdout.splitlines()[-1] and "failed" not in ran.stdout


def test_the_new_cases_get_the_rulings_the_analyst_intended(tmp_path: Path) -> None:
    project = _copy_with_edits(tmp_path)
    new_cases = sorted(
        str(project / "casefiles" / p.name)
        for p in (EDITS / "casefiles").glob("*.yaml")
        if not p.name.endswith(".expected.yaml")
    )
    scored = _run(project, "-m", "engine.cli", "score", *new_cases, "--format", "json")
    assert scored.returncode == 0, scored.stderr
    rulings = [line.split('"ruling": "')[1].split('"')[0] for line in scored.stdout.splitlines()]
    assert rulings == [
        "request_evidence",  # counterfeit-tmall-2027-agent-not-enough
        "refund",  # counterfeit-tmall-2027-brand-owner
        "partial_refund",  # damaged-video-unboxing-2027
        "compensate",  # late-shipment-2027-maximum-60
        "pay_seller",  # not-received-station-signed-allowed
        "refund",  # not-received-station-signed-not-allowed
        "pay_seller",  # price-protection-drop-after-window
        "partial_refund",  # price-protection-drop-within-window
    ]


def test_the_engine_s_own_tests_never_read_the_shipped_policy() -> None:
    # so that an edit of the shipped policy cannot break them (tests/test_layout.py checks
    # which test files may; this shows the edit set touches only what staff own)
    touched = {p.relative_to(EDITS).parts[0] for p in EDITS.rglob("*") if p.is_file()}
    assert touched <= {*STAFF_FOLDERS, "README.md", "changes.yaml"}
