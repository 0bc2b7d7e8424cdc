"""Case -> casefile/1 data: the inverse of engine.cases.load, for archives the project writes.

``case_data(case)`` is a mapping of JSON values that ``case_from_data`` reads back as an equal
Case (``Case`` equality ignores where it was read from). Amounts become JSON numbers: a float
keeps any amount of up to 15 significant digits exactly, far beyond what an order costs;
a larger one is refused rather than rounded.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from engine.model import Appeal, Case, Decision, Dispute, Evidence, Order, Record

__all__ = ["case_data", "decision_data"]


def _amount(value: Decimal) -> float | int:
    number: float | int = int(value) if value == value.to_integral_value() else float(value)
    if Decimal(str(number)) != value:
        raise ValueError(f"amount {value} cannot be written as an exact JSON number")
    return number


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _value(value: Any) -> Any:
    """An evidence attribute's value as JSON: a Record is a mapping, a tuple a list."""
    if isinstance(value, Record):
        return {key: _value(item) for key, item in value}
    if isinstance(value, tuple):
        return [_value(item) for item in value]
    return value


def _declared(extra: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    """The fields the rules declare, as JSON: amounts as numbers, times as text."""
    out: dict[str, Any] = {}
    for name, value in extra:
        if isinstance(value, Decimal):
            out[name] = _amount(value)
        elif isinstance(value, datetime):
            out[name] = _time(value)
        else:
            out[name] = value
    return out


def _order(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "item": order.item,
        "item_amount": _amount(order.item_amount),
        "shipping_fee": _amount(order.shipping_fee),
        "goods_type": order.goods_type,
        "supports_7day_return": order.supports_7day_return,
        "promised_ship_hours": order.promised_ship_hours,
        "recipient_name": order.recipient_name,
        "courier": order.courier,
        "tracking_no": order.tracking_no,
        "paid_at": _time(order.paid_at),
        "shipped_at": _time(order.shipped_at),
        "delivered_at": _time(order.delivered_at),
        "receipt_confirmed_at": _time(order.receipt_confirmed_at),
        **_declared(order.extra),
    }


def _appeal(appeal: Appeal | None) -> dict[str, Any] | None:
    if appeal is None:
        return None
    return {
        "party": appeal.party,
        "filed_at": _time(appeal.filed_at),
        "ruling": appeal.ruling,
        "ruled_at": _time(appeal.ruled_at),
    }


def _dispute(dispute: Dispute) -> dict[str, Any]:
    return {
        "type": dispute.type,
        "service": dispute.service,
        "claimed_amount": _amount(dispute.claimed_amount),
        "reason": dispute.reason,
        "refund_requested_at": _time(dispute.refund_requested_at),
        "seller_refused_at": _time(dispute.seller_refused_at),
        "intervention_requested_at": _time(dispute.intervention_requested_at),
        "buyer_evidence_requested_at": _time(dispute.buyer_evidence_requested_at),
        "cancelled_at": _time(dispute.cancelled_at),
        "review_started_at": _time(dispute.review_started_at),
        "prior_interventions": dispute.prior_interventions,
        "appeal": _appeal(dispute.appeal),
        **_declared(dispute.extra),
    }


def _evidence(item: Evidence) -> dict[str, Any]:
    return {
        "id": item.id,
        "party": item.party,
        "kind": item.kind,
        "submitted_at": _time(item.submitted_at),
        "attributes": {key: _value(value) for key, value in item.attributes},
        "files": [{"name": f.name, "sha256": f.sha256} for f in item.files],
    }


def decision_data(decision: Decision | None) -> dict[str, Any] | None:
    """A recorded decision as casefile/1's ``decision`` field."""
    if decision is None:
        return None
    data: dict[str, Any] = {
        "ruling": decision.ruling,
        "refund_amount": None
        if decision.refund_amount is None
        else _amount(decision.refund_amount),
        "compensation_amount": None
        if decision.compensation_amount is None
        else _amount(decision.compensation_amount),
        "decided_at": _time(decision.decided_at),
    }
    for name in ("decided_by", "reason", "rules_digest"):  # written only when recorded
        if (value := getattr(decision, name)) is not None:
            data[name] = value
    if decision.earlier:
        data["earlier"] = [decision_data(d) for d in decision.earlier]
    return data


def case_data(case: Case) -> dict[str, Any]:
    """The case as a casefile/1 document (JSON values only), its decision included."""
    return {
        "format": "casefile/1",
        "case_id": case.case_id,
        "platform": case.platform,
        "order": _order(case.order),
        "dispute": _dispute(case.dispute),
        "evidence": [_evidence(item) for item in case.evidence],
        "decision": decision_data(case.decision),
    }
