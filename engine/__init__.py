"""adjudicate: recommended rulings for marketplace buyer-seller disputes, from YAML policy.

The public API is what this module exports; everything else is internal::

    program = load_rules("rules")
    scorer = Scorer(program, "reference")
    for case in load_cases(["casefiles/"]):
        if isinstance(case, CaseFileError):          # a file that is not a case: located
            print(case)
            continue
        scored = scorer.score(case)
        print(ruling_json(scored.ruling))
        html = build_report(scorer, scored, fmt="html", lang="en")
"""

from engine.cases.load import load_case, load_cases
from engine.errors import (
    AdjudicationError,
    CaseFileError,
    EngineError,
    ExpectationMismatch,
    RuleFileError,
)
from engine.explain.report import build_report
from engine.model import Case, SourceLoc
from engine.rules.loader import load_rules
from engine.rules.program import Program
from engine.ruling import Ruling, ruling_json
from engine.run.scoring import ENGINES, Scored, Scorer, score_case

__all__ = [
    "ENGINES",
    "AdjudicationError",
    "Case",
    "CaseFileError",
    "EngineError",
    "ExpectationMismatch",
    "Program",
    "RuleFileError",
    "Ruling",
    "Scored",
    "Scorer",
    "SourceLoc",
    "build_report",
    "load_case",
    "load_cases",
    "load_rules",
    "ruling_json",
    "score_case",
]
