"""The scoring path compiled with mypyc gives the rulings its sources give.

``.ci/setup`` compiles the modules of ``engine.compiled.MODULES``; this process runs them
compiled when they are current (on CI they must be: ADJUDICATE_REQUIRE_COMPILED=1). Every
sample case is scored here and in a process that runs them from their sources
(``ADJUDICATE_PURE=1``), with both engines, and the rulings' JSON must be identical byte for
byte. A module changed since it was compiled sends every module back to its source.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CASEFILES, ROOT, golden_cases

from engine import Scorer, compiled
from engine.cases.load import load_case
from engine.ruling import ruling_json

SCORE_ALL = """
import json, sys
from engine import Scorer, compiled, load_rules
from engine.cases.load import load_case
from engine.ruling import ruling_json
program = load_rules(sys.argv[1])
out = {}
for engine in ("reference", "durable"):
    scorer = Scorer(program, engine)
    out[engine] = [ruling_json(scorer.score(load_case(p)).ruling) for p in sys.argv[2:]]
print(json.dumps({"status": compiled.status(), "rulings": out}))
"""


def _score_in_subprocess(rules: Path, cases: list[Path], **env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", SCORE_ALL, str(rules), *map(str, cases)],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env}, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result: dict = json.loads(done.stdout)
    return result


def test_this_process_runs_the_scoring_path_compiled_when_it_is_built(
    scorers: dict[str, Scorer],
) -> None:
    reason = compiled.reason()
    if reason is not None:
        if os.environ.get("ADJUDICATE_REQUIRE_COMPILED") == "1":
            pytest.fail(f"the scoring path runs from its sources: {reason}")
        pytest.skip(f"the scoring path runs from its sources: {reason}")
    assert set(compiled.status().values()) == {"compiled"}


def test_compiled_and_source_modules_give_identical_rulings(scorers: dict[str, Scorer]) -> None:
    cases = golden_cases(CASEFILES)
    here = {
        engine: [ruling_json(scorers[engine].score(load_case(p)).ruling) for p in cases]
        for engine in ("reference", "durable")
    }
    pure = _score_in_subprocess(CASEFILES.parent / "rules", cases, ADJUDICATE_PURE="1")
    assert set(pure["status"].values()) == {"source"}
    assert pure["rulings"] == here


def test_a_source_changed_since_it_was_compiled_sends_every_module_to_its_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ADJUDICATE_PURE", raising=False)  # set only at the end
    stamp = tmp_path / "compiled.json"
    digests = compiled.digests()
    monkeypatch.setattr(compiled, "STAMP", stamp)
    built = {m: [Path("x.so")] for m in (*compiled.MODULES, compiled.LIBRARY)}
    monkeypatch.setattr(compiled, "compiled_files", lambda: built)
    stamp.write_text(json.dumps(digests), encoding="utf-8")
    assert compiled.reason_for_sources() is None
    stamp.write_text(json.dumps({**digests, "engine.run.facts": "0" * 64}), encoding="utf-8")
    assert compiled.reason_for_sources() == (
        "changed since compiled: engine.run.facts (bash .ci/setup compiles again)"
    )
    stamp.write_text("{not json", encoding="utf-8")
    assert "no readable compiled.json" in (compiled.reason_for_sources() or "")
    monkeypatch.setenv("ADJUDICATE_PURE", "1")
    assert compiled.reason_for_sources() == "ADJUDICATE_PURE is set"


def test_modules_not_compiled_run_from_their_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ADJUDICATE_PURE", raising=False)
    monkeypatch.setattr(compiled, "compiled_files", lambda: {})
    assert compiled.reason_for_sources() == "not compiled (bash .ci/setup compiles them)"


def test_every_compiled_module_is_on_the_scoring_path_and_exists() -> None:
    for module in compiled.MODULES:
        assert (ROOT / Path(*module.split("."))).with_suffix(".py").is_file(), module


def test_a_compiled_file_of_a_module_no_longer_compiled_sends_every_module_to_its_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # say engine.ruling was compiled by an earlier list: its file would load against another
    # build's shared library, so nothing may run compiled until .ci/setup builds again
    stamp = tmp_path / "compiled.json"
    stamp.write_text(json.dumps(compiled.digests()), encoding="utf-8")
    monkeypatch.setattr(compiled, "STAMP", stamp)
    monkeypatch.delenv("ADJUDICATE_PURE", raising=False)
    files = {m: [Path("x.so")] for m in (*compiled.MODULES, compiled.LIBRARY, "engine.ruling")}
    monkeypatch.setattr(compiled, "compiled_files", lambda: files)
    assert compiled.reason_for_sources() == (
        "compiled files of modules not in the list: engine.ruling (bash .ci/setup)"
    )
