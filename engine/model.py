"""Frozen data types shared by every stage: source locations, the case (casefile/1).

Money is ``Decimal`` (two places at most), times are aware ``datetime``. Collections are tuples
so that every value here is hashable and immutable. The rules' own types live in
``engine.rules.program``; the ruling in ``engine.ruling``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

__all__ = [
    "Appeal",
    "Case",
    "DeclaredFields",
    "Decision",
    "Dispute",
    "Evidence",
    "EvidenceFile",
    "Firing",
    "Order",
    "ReadAttribute",
    "Record",
    "Region",
    "SourceLoc",
    "Type",
]


class Record(tuple[tuple[str, Any], ...]):
    """A mapping inside an evidence item's attributes (a chat message), kept hashable: its
    (key, value) pairs in the file's order. Told apart from a list of pairs by its type."""

    __slots__ = ()

    def get(self, key: str, default: Any = None) -> Any:
        for name, value in self:
            if name == key:
                return value
        return default


@dataclass(frozen=True, slots=True)
class Type:
    """A value type: time, duration, money, number, integer, boolean, text, name, enum, list.

    The types of the contract's fields, of evidence attributes and of the rules' parameters and
    values (``engine.rules.schema`` names them); shared by the case loader and the rules.
    """

    name: str
    values: tuple[str, ...] = ()  # enum values, or allowed values of a list's items

    def __str__(self) -> str:
        if self.values:
            return f"{self.name}[{', '.join(self.values)}]"
        return self.name

    @property
    def is_textual(self) -> bool:
        return self.name in ("text", "name", "enum")


# fields a policy declares beyond casefile/1: "order" or "dispute" -> field name -> its type
DeclaredFields = Mapping[str, Mapping[str, Type]]


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceLoc:
    """A place in a file: 1-based line and column (column 0 when unknown)."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        if self.column <= 0:
            return f"{self.path}:{self.line}"
        return f"{self.path}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    order_id: str
    item: str | None = None
    item_amount: Decimal
    shipping_fee: Decimal = Decimal("0")
    goods_type: str
    supports_7day_return: bool = True
    promised_ship_hours: int | None = None
    recipient_name: str | None = None
    courier: str | None = None
    tracking_no: str | None = None
    paid_at: datetime
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    receipt_confirmed_at: datetime | None = None
    # fields the rules declare beyond casefile/1 (``case_fields:``), typed: (name, value)
    extra: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Appeal:
    party: str
    filed_at: datetime
    ruling: str
    ruled_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Dispute:
    type: str
    service: str
    claimed_amount: Decimal
    reason: str | None = None
    refund_requested_at: datetime
    seller_refused_at: datetime | None = None
    intervention_requested_at: datetime
    buyer_evidence_requested_at: datetime | None = None
    cancelled_at: datetime | None = None
    review_started_at: datetime | None = None
    prior_interventions: int = 0
    appeal: Appeal | None = None
    extra: tuple[tuple[str, Any], ...] = ()  # declared by the rules, as for Order


@dataclass(frozen=True, slots=True, kw_only=True)
class EvidenceFile:
    name: str
    sha256: str | None = None
    # the file's type by its bytes, when a bundle held the file and its name says otherwise
    # (a Word document named slip.jpg: "docx"); None when the name's extension is right
    type: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Region:
    """A box on a page of an evidence file, in pixels of the page as read."""

    page: int  # 1-based
    x: int
    y: int
    width: int
    height: int

    def as_json(self) -> dict[str, int]:
        return {"page": self.page, "x": self.x, "y": self.y, "w": self.width, "h": self.height}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReadAttribute:
    """One attribute of an evidence item read from one of its files (not typed in the case)."""

    name: str
    value: Any  # in the case file's form: str, int, bool, or a list of records for messages
    confidence: float  # 0..1
    file: str
    extractor: str
    source: str  # the text it came from ("" when it came from no text)
    region: Region | None = None
    # what was seen instead of text: a key of reading.notes in reports/messages.yaml
    # (seal, no_seal, no_words, messages) and the values its wording uses
    note: str = ""
    note_args: tuple[tuple[str, str], ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "confidence": round(self.confidence, 3),
            "file": self.file,
            "extractor": self.extractor,
            "source": self.source,
            "region": None if self.region is None else self.region.as_json(),
            "note": self.note,
            "note_args": dict(self.note_args),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    id: str
    party: str
    kind: str
    submitted_at: datetime
    # Raw facts of the item as the case file gives them (JSON-like values). Typed against the
    # evidence kind declared in rules/ when facts are built, not here: the contract does not
    # know the kinds.
    attributes: tuple[tuple[str, Any], ...] = ()
    files: tuple[EvidenceFile, ...] = ()
    # attributes the case file leaves out, read from the item's files (a bundle); typed
    # attributes always win, and a reading below the rules' read_confidence_min does not count
    read: tuple[ReadAttribute, ...] = field(default=(), compare=False)
    loc: SourceLoc | None = field(default=None, compare=False)

    def attribute(self, name: str) -> Any:
        for key, value in self.attributes:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """A ruling recorded in an archive, to compare a re-scored ruling with."""

    ruling: str
    refund_amount: Decimal | None = None
    compensation_amount: Decimal | None = None
    decided_at: datetime | None = None
    # optional, as the desk's export writes them: who decided, why, under which rules, and
    # the decisions on the case before this one (oldest first)
    decided_by: str | None = None
    reason: str | None = None
    rules_digest: str | None = None
    earlier: tuple[Decision, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    case_id: str
    platform: str
    order: Order
    dispute: Dispute
    evidence: tuple[Evidence, ...] = ()
    decision: Decision | None = None
    source: SourceLoc | None = field(default=None, compare=False)


class Firing(NamedTuple):
    """``rule_id`` fired with ``bindings``: (alias, fact key) pairs, e.g. ("evidence", "E1")."""

    rule_id: str
    bindings: tuple[tuple[str, str], ...]

    def key_of(self, alias: str) -> str | None:
        for name, key in self.bindings:
            if name == alias:
                return key
        return None

    @property
    def facts(self) -> tuple[str, ...]:
        return tuple(key for _, key in self.bindings)
