"""adjudicate: recommended rulings for marketplace buyer-seller disputes, from YAML policy.

The public API is what this module exports; everything else is internal.
"""

from engine.errors import (
    AdjudicationError,
    CaseFileError,
    EngineError,
    ExpectationMismatch,
    RuleFileError,
)
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
    "load_rules",
    "ruling_json",
    "score_case",
]
