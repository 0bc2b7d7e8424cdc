"""The built wheel works outside the repository: installed into a fresh virtual environment and
run from an empty folder, it finds its default policy and templates inside the package, scores a
case and writes a report."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASE = ROOT / "tests" / "data" / "casefiles" / "valid.yaml"

pytestmark = pytest.mark.slow


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_the_wheel_scores_a_case_and_writes_a_report_from_an_empty_folder(tmp_path: Path) -> None:
    dist, env, empty = tmp_path / "dist", tmp_path / "venv", tmp_path / "empty"
    empty.mkdir()
    built = _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT, cwd=tmp_path
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("adjudicate-*.whl")
    with zipfile.ZipFile(wheel) as archive:  # plain Python: no module compiled in the checkout
        assert not [n for n in archive.namelist() if n.endswith(".so") or "compiled.json" in n]
    venv.create(env, with_pip=True)
    python, adjudicate = env / "bin" / "python", env / "bin" / "adjudicate"
    installed = _run(
        python, "-m", "pip", "install", "-q", "--disable-pip-version-check", wheel, cwd=tmp_path
    )
    assert installed.returncode == 0, installed.stderr

    where = _run(
        python,
        "-c",
        "import engine, engine.shipped as s; print(engine.__file__); print(s.shipped('rules'))",
        cwd=empty,
    )
    package, rules = where.stdout.split()
    assert Path(package).is_relative_to(env) and Path(rules).is_relative_to(env), where.stdout

    scored = _run(
        adjudicate,
        "score",
        CASE,
        "--engine",
        "reference",
        "--report",
        "out.html",
        "--lang",
        "en",
        cwd=empty,
    )
    assert scored.returncode == 0, scored.stderr
    assert "Recommended ruling" in scored.stdout
    report = (empty / "out.html").read_text(encoding="utf-8")
    assert report.startswith("<!DOCTYPE html>") and "TB-2024-000123" in report

    checked = _run(adjudicate, "rules", "validate", cwd=empty)
    assert checked.returncode == 0 and checked.stdout.startswith("ok: "), checked.stderr
