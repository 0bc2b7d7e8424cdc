"""What the desk's database holds, as frozen records: a case as stored (its document, version
and revision, claim), a recommendation (the ruling/1 of one revision of a case under one set of
rules), a decision; and the SQL that reads them, shared by engine.web.store.

A case's ``version`` counts every change recorded on it (decisions and reading corrections): a
decision or a correction names the version it was made on. Its ``revision`` counts the changes to
its document (corrections): a recommendation belongs to one revision.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model import Decision

__all__ = [
    "CASE_COLUMNS",
    "DEC_COLUMNS",
    "REC_COLUMNS",
    "SELECT_CASES",
    "STATUSES",
    "STATUS_WHERE",
    "DecisionRecord",
    "Recommendation",
    "StoredCase",
    "decision_row",
    "recommendation_row",
    "stored_row",
]

STATUSES = ("pending", "accepted", "overridden")


@dataclass(frozen=True, slots=True, kw_only=True)
class Recommendation:
    id: int
    rules_name: str
    rules_version: str
    rules_digest: str
    engine: str
    ruling: str
    deciding_rule: str
    refund_amount: Decimal
    compensation_amount: Decimal
    ruling_json: str
    scored_at: str

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.ruling_json)
        return data


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRecord:
    id: int
    case_ref: int
    decided_by: str
    decided_at: str
    ruling: str
    refund_amount: Decimal
    compensation_amount: Decimal
    reason: str
    accepted: bool
    replaced: Recommendation  # the recommendation the arbitrator accepted or overrode

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
            "ruling": self.ruling,
            "refund_amount": float(self.refund_amount),
            "compensation_amount": float(self.compensation_amount),
            "reason": self.reason,
            "accepted": self.accepted,
            "rules_digest": self.replaced.rules_digest,
            "recommendation": self.replaced.as_dict(),
        }

    def as_decision(self) -> Decision:
        return Decision(
            ruling=self.ruling,
            refund_amount=self.refund_amount,
            compensation_amount=self.compensation_amount,
            decided_at=datetime.fromisoformat(self.decided_at),
            decided_by=self.decided_by,
            reason=self.reason,
            rules_digest=self.replaced.rules_digest,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredCase:
    id: int
    case_id: str
    platform: str
    dispute_type: str
    claimed_amount: Decimal
    document: str
    source: str
    imported_at: str
    version: int  # changes recorded so far: decisions and reading corrections
    claimed_by: str | None
    revision: int  # changes to its document so far: reading corrections
    recommendation: Recommendation | None  # under the rules asked for
    decision: DecisionRecord | None  # the latest

    @property
    def status(self) -> str:
        if self.decision is None:
            return "pending"
        return "accepted" if self.decision.accepted else "overridden"

    def data(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.document)
        return doc


REC_COLUMNS = (
    "{p}.id, {p}.rules_name, {p}.rules_version, {p}.rules_digest, {p}.engine, {p}.ruling, "
    "{p}.deciding_rule, {p}.refund_amount, {p}.compensation_amount, {p}.ruling_json, {p}.scored_at"
)
DEC_COLUMNS = (
    "d.id, d.case_ref, d.decided_by, d.decided_at, d.ruling, d.refund_amount, "
    "d.compensation_amount, d.reason, d.accepted"
)
CASE_COLUMNS = (
    "c.id, c.case_id, c.platform, c.dispute_type, c.claimed_amount, c.document, c.source, "
    "c.imported_at, c.version, c.claimed_by, c.revision"
)
SELECT_CASES = f"""
    SELECT {CASE_COLUMNS}, {REC_COLUMNS.format(p="r")}, {DEC_COLUMNS},
        {REC_COLUMNS.format(p="dr")}
    FROM cases c
    LEFT JOIN recommendations r
        ON r.case_ref = c.id AND r.rules_digest = :digest AND r.revision = c.revision
    LEFT JOIN decisions d ON d.id = (SELECT max(id) FROM decisions WHERE case_ref = c.id)
    LEFT JOIN recommendations dr ON dr.id = d.recommendation_ref
"""
STATUS_WHERE = {
    "pending": "d.id IS NULL",
    "accepted": "d.accepted = 1",
    "overridden": "d.accepted = 0",
}


def recommendation_row(row: tuple[Any, ...], at: int) -> Recommendation | None:
    if row[at] is None:
        return None
    return Recommendation(
        id=int(row[at]),
        rules_name=row[at + 1],
        rules_version=row[at + 2],
        rules_digest=row[at + 3],
        engine=row[at + 4],
        ruling=row[at + 5],
        deciding_rule=row[at + 6],
        refund_amount=Decimal(row[at + 7]),
        compensation_amount=Decimal(row[at + 8]),
        ruling_json=row[at + 9],
        scored_at=row[at + 10],
    )


def decision_row(row: tuple[Any, ...], at: int, replaced: Recommendation | None) -> DecisionRecord:
    assert replaced is not None  # a foreign key
    return DecisionRecord(
        id=int(row[at]),
        case_ref=int(row[at + 1]),
        decided_by=row[at + 2],
        decided_at=row[at + 3],
        ruling=row[at + 4],
        refund_amount=Decimal(row[at + 5]),
        compensation_amount=Decimal(row[at + 6]),
        reason=row[at + 7],
        accepted=bool(row[at + 8]),
        replaced=replaced,
    )


def stored_row(row: tuple[Any, ...]) -> StoredCase:
    rec_at, dec_at = 11, 22
    replaced_at = dec_at + 9
    decision = None
    if row[dec_at] is not None:
        decision = decision_row(row, dec_at, recommendation_row(row, replaced_at))
    return StoredCase(
        id=int(row[0]),
        case_id=row[1],
        platform=row[2],
        dispute_type=row[3],
        claimed_amount=Decimal(row[4]),
        document=row[5],
        source=row[6],
        imported_at=row[7],
        version=int(row[8]),
        claimed_by=row[9],
        revision=int(row[10]),
        recommendation=recommendation_row(row, rec_at),
        decision=decision,
    )
