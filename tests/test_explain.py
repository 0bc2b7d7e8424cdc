"""Summaries and traces render for every golden case in both languages (templates with
StrictUndefined fail loudly on a missing message)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import golden_cases

from engine import Program, Scorer
from engine.cases.load import load_case
from engine.explain.render import render_summary, render_trace
from engine.explain.trace import trace_of

CASES = golden_cases()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_summary_and_trace_render(
    path: Path, lang: str, program: Program, scorers: dict[str, Scorer]
) -> None:
    scored = scorers["reference"].score(load_case(path))
    summary = render_summary(scored.ruling, program, lang)
    assert scored.ruling.case_id in summary and scored.ruling.ruling in summary
    trace = render_trace(trace_of(program, scored), lang)
    assert all(rule_id in trace for rule_id in scored.ruling.fired_rules)
