"""The ruling (ruling/1): frozen types and their exact JSON form from CONTRACT.md."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = [
    "RULINGS",
    "EvidenceFinding",
    "IssueFinding",
    "NextStep",
    "ReadFinding",
    "Reason",
    "Ruling",
    "RulesRef",
    "ruling_json",
]

# CONTRACT.md: what ``ruling`` is one of
RULINGS = (
    "refund", "partial_refund", "return_and_refund", "exchange", "compensate", "pay_seller",
    "not_admissible", "withdrawn", "appeal_rejected", "request_evidence", "refer_to_arbitrator",
)  # fmt: skip


@dataclass(frozen=True, slots=True, kw_only=True)
class Reason:
    rule: str | None  # a rule id or requirement id from rules/; None for the loader's own
    zh: str
    en: str

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "zh": self.zh, "en": self.en}


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueFinding:
    issue: str
    burden: str
    standard: Decimal
    score: Decimal
    met: bool
    status: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "issue": self.issue,
            "burden": self.burden,
            "standard": float(self.standard),
            "score": float(self.score),
            "met": self.met,
            "status": self.status,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadFinding:
    """An attribute read from one of the item's files (a bundle), and whether it counted."""

    attribute: str
    value: Any
    file: str
    confidence: float
    counted: bool  # at or above the rules' read_confidence_min

    def as_dict(self) -> dict[str, Any]:
        return {
            "attribute": self.attribute,
            "value": self.value,
            "file": self.file,
            "confidence": round(self.confidence, 3),
            "counted": self.counted,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceFinding:
    id: str
    admitted: bool
    valid: bool
    weight: Decimal
    reasons: tuple[Reason, ...]
    # a bundle's item: the attributes read from its files; "unconfirmed" when it is invalid only
    # for want of attributes read below read_confidence_min (it then counts as inconclusive)
    read: tuple[ReadFinding, ...] = ()
    unconfirmed: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "admitted": self.admitted,
            "valid": self.valid,
            "weight": float(self.weight),
            "reasons": _reason_dicts(self.reasons),
        }
        if self.read:  # optional fields of ruling/1: only for items read from files
            out["read"] = [r.as_dict() for r in self.read]
        if self.unconfirmed:
            out["unconfirmed"] = True
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class NextStep:
    party: str
    what: Reason
    until: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "party": self.party,
            "what": {"zh": self.what.zh, "en": self.what.en},
            "until": self.until,
            "rule": self.what.rule,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RulesRef:
    name: str
    version: str
    digest: str
    profile: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "digest": self.digest,
            "profile": self.profile,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Ruling:
    case_id: str
    rules: RulesRef
    ruling: str
    reason_code: str
    refund_amount: Decimal
    compensation_amount: Decimal
    return_required: bool
    return_shipping_paid_by: str | None
    score: Decimal
    issues: tuple[IssueFinding, ...]
    evidence: tuple[EvidenceFinding, ...]
    fired_rules: tuple[str, ...]
    next_step: NextStep | None
    appeal_deadline: str | None
    warnings: tuple[Reason, ...]
    appeal: str | None = None  # "changed" | "confirmed" for an accepted appeal
    decided_by: str = ""  # the outcome rule that decided (its reason_code may differ); not in JSON
    substituted_by: str = ""  # the rule that replaced the decided ruling (exchange); not in JSON

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "format": "ruling/1",
            "case_id": self.case_id,
            "rules": self.rules.as_dict(),
            "ruling": self.ruling,
            "reason_code": self.reason_code,
            "refund_amount": float(self.refund_amount),
            "compensation_amount": float(self.compensation_amount),
            "return_required": self.return_required,
            "return_shipping_paid_by": self.return_shipping_paid_by,
            "score": float(self.score),
            "issues": [i.as_dict() for i in self.issues],
            "evidence": [e.as_dict() for e in self.evidence],
            "fired_rules": list(self.fired_rules),
            "next_step": self.next_step.as_dict() if self.next_step else None,
            "appeal_deadline": self.appeal_deadline,
            "warnings": _reason_dicts(self.warnings),
        }
        if self.appeal is not None:
            out["appeal"] = self.appeal
        return out


def _reason_dicts(reasons: tuple[Reason, ...]) -> list[dict[str, Any]]:
    """Each reason's ``as_dict()``, written out (one call for all of them: a ruling has many)."""
    return [{"rule": r.rule, "zh": r.zh, "en": r.en} for r in reasons]


def ruling_json(ruling: Ruling, *, indent: int | None = None) -> str:
    """The ruling as JSON: deterministic, UTF-8 text kept readable (no \\u escapes)."""
    return json.dumps(ruling.as_dict(), ensure_ascii=False, indent=indent)
