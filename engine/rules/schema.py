"""The fields each kind of fact offers to rules, with their types (the contract's, not policy).

Evidence kinds, their attributes, parameters and derived values come from rules/; the fields of
the order, the dispute, an appeal, the case and an issue come from CONTRACT.md and are fixed here.
"""

from __future__ import annotations

from engine.model import Type
from engine.ruling import RULINGS

__all__ = [
    "APPEAL_FIELDS",
    "CASE_FIELDS",
    "CASE_FIELD_OWNERS",
    "CASE_FIELD_TYPES",
    "DISPUTE_FIELDS",
    "EVIDENCE_FIELDS",
    "ISSUE_FIELDS",
    "ISSUE_STATUSES",
    "ORDER_FIELDS",
    "PARTIES",
    "SERVICES",
    "SINGLETONS",
    "TYPES",
]

TIME = Type("time")
MONEY = Type("money")
TEXT = Type("text")
NAME = Type("name")
INTEGER = Type("integer")
BOOLEAN = Type("boolean")
NUMBER = Type("number")
DURATION = Type("duration")

WORKING_DAYS = Type("working_days")

TYPES = {
    t.name: t
    for t in (
        TIME, MONEY, TEXT, NAME, INTEGER, BOOLEAN, NUMBER, DURATION, Type("list"), WORKING_DAYS,
    )
}  # fmt: skip

PARTIES = ("buyer", "seller", "platform")
SERVICES = ("refund_only", "return_and_refund", "exchange")
ISSUE_STATUSES = ("proven", "not_proven", "inconclusive", "contested", "skipped")

ORDER_FIELDS: dict[str, Type] = {
    "order_id": TEXT,
    "item": TEXT,
    "item_amount": MONEY,
    "shipping_fee": MONEY,
    "goods_type": Type("enum", ("physical", "virtual")),
    "supports_7day_return": BOOLEAN,
    "promised_ship_hours": INTEGER,
    "recipient_name": NAME,
    "courier": TEXT,
    "tracking_no": TEXT,
    "paid_at": TIME,
    "shipped_at": TIME,
    "delivered_at": TIME,
    "receipt_confirmed_at": TIME,
}

DISPUTE_FIELDS: dict[str, Type] = {
    "type": TEXT,  # narrowed to the declared dispute types when rules are loaded
    "service": Type("enum", SERVICES),
    "claimed_amount": MONEY,
    "reason": TEXT,
    "refund_requested_at": TIME,
    "seller_refused_at": TIME,
    "intervention_requested_at": TIME,
    "buyer_evidence_requested_at": TIME,
    "cancelled_at": TIME,
    "review_started_at": TIME,
    "prior_interventions": INTEGER,
}

APPEAL_FIELDS: dict[str, Type] = {
    "party": Type("enum", ("buyer", "seller")),
    "filed_at": TIME,
    "ruling": Type("enum", RULINGS),
    "ruled_at": TIME,
}

CASE_FIELDS: dict[str, Type] = {
    "case_id": TEXT,
    "platform": Type("enum", ("taobao", "tmall")),
}

EVIDENCE_FIELDS: dict[str, Type] = {
    "party": Type("enum", PARTIES),
    "kind": TEXT,
    "submitted_at": TIME,
    "file_count": INTEGER,
    "file_types": Type("list"),  # lower-case file name extensions, without the dot
    "fingerprint": TEXT,  # digest of kind and attributes: equal items have equal fingerprints
    "files_digest": TEXT,  # digest of the set of its files' sha256 (when every file has one)
    "admitted": BOOLEAN,  # known from the round after the rules that reject items
    "valid": BOOLEAN,  # known from the round after the rules that meet requirements
}

ISSUE_FIELDS: dict[str, Type] = {
    "name": TEXT,
    "status": Type("enum", ISSUE_STATUSES),
    "burden": Type("enum", ("buyer", "seller")),
    "score": NUMBER,
}

# the owners of declared case fields, and the types such a field may have
CASE_FIELD_OWNERS = ("order", "dispute")
CASE_FIELD_TYPES = ("text", "name", "time", "money", "boolean", "integer", "enum")

# fact types with exactly one fact per case (aliased by their own name in every rule)
SINGLETONS = ("order", "dispute", "appeal", "case", "param")
