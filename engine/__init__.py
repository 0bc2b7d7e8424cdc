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

Many cases at once: ``scorer.score_many(cases)`` gives each case's ``Scored`` or the exception
that stopped it, in order, working in blocks (faster, above all with the durable engine).
"""

from engine.compiled import use_sources_when_needed

use_sources_when_needed()  # before any module of the scoring path is imported

from engine.cases.load import load_case, load_cases  # noqa: E402
from engine.errors import (  # noqa: E402
    AdjudicationError,
    CaseFileError,
    EngineError,
    ExpectationMismatch,
    RuleFileError,
)
from engine.explain.report import build_report  # noqa: E402
from engine.model import Case, SourceLoc  # noqa: E402
from engine.rules.loader import load_rules  # noqa: E402
from engine.rules.program import Program  # noqa: E402
from engine.ruling import Ruling, ruling_json  # noqa: E402
from engine.run.scoring import ENGINES, Scored, Scorer, score_case  # noqa: E402

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
