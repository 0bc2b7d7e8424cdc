"""The public API is pinned: a change to it is a deliberate, reviewed change of this list."""

from __future__ import annotations

import engine


def test_public_api() -> None:
    assert sorted(engine.__all__) == [
        "AdjudicationError", "Case", "CaseFileError", "ENGINES", "EngineError",
        "ExpectationMismatch", "Program", "RuleFileError", "Ruling", "Scored", "Scorer",
        "SourceLoc", "build_report", "load_case", "load_cases", "load_rules", "ruling_json",
        "score_case",
    ]  # fmt: skip
    for name in engine.__all__:
        assert hasattr(engine, name)
