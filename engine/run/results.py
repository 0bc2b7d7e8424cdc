"""What the decision derives from firings before the ruling: each evidence item's status and
each issue's result (its score against the standard). Both evaluators' rounds read them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["EvidenceStatus", "IssueResult"]


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceStatus:
    admitted: bool
    valid: bool
    # invalid only for want of attributes read below read_confidence_min: inconclusive, it
    # scores its issue at the issue's lower bound until a person confirms the readings
    unconfirmed: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueResult:
    issue: str
    burden: str
    standard: Decimal
    lower_bound: Decimal
    margin: Decimal
    score: Decimal  # the strongest valid item supporting the issue
    against: Decimal  # the strongest valid item opposing it
    status: str  # proven | not_proven | inconclusive | contested | skipped
    supporting: tuple[str, ...]
    opposing: tuple[str, ...]
