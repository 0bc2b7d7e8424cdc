"""A short run of benchmarks/fuzz.py (the long one, 100,000 inputs, is a benchmark): mutated
case files give a ruling or a located error, both engines agree, nothing else is raised."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import ROOT, RULES


@pytest.mark.slow
def test_a_short_fuzz_run_finds_nothing() -> None:
    spec = importlib.util.spec_from_file_location("fuzz", ROOT / "benchmarks" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    fuzz = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fuzz)
    result = fuzz._score_chunk((2026, 400, str(RULES)))
    assert result["findings"] == []
    assert result["counts"].get("ruling", 0) > 50  # the run really reached the scorers
