"""JSON Schemas of the HTTP API's documents, for its OpenAPI description.

They describe what the library accepts and returns, they do not decide it: a request body is
checked by engine.cases.load (which locates every problem), and the property tests hold the
server to these schemas. The dispute types come from the rules the server runs.
"""

from __future__ import annotations

from typing import Any

from engine.rules.program import Program
from engine.ruling import RULINGS

__all__ = ["components"]

# no "format": date-time (RFC 3339): the contract reads ISO-8601 with a UTC offset, a wider set,
# and a schema narrower than the reader would call valid documents invalid
_TIME = {
    "type": "string",
    "description": "ISO-8601 with a UTC offset",
    "examples": ["2024-03-01T10:00:00+08:00"],
}
_AMOUNT = {"type": "number", "minimum": 0, "description": "CNY, at most two decimal places"}
_TEXT = {"type": "string"}
_NAME = {"type": "string", "minLength": 1}
_BILINGUAL = {
    "type": "object",
    "required": ["zh", "en"],
    "properties": {"zh": _TEXT, "en": _TEXT},
}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(
    required: list[str], properties: dict[str, Any], *, closed: bool = True
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "required": required, "properties": properties}
    if closed:
        out["additionalProperties"] = False
    return out


def _declared(program: Program, owner: str) -> dict[str, Any]:
    """The schemas of the case fields the rules declare for ``owner`` (order or dispute)."""
    kinds: dict[str, dict[str, Any]] = {
        "text": _TEXT, "name": _TEXT, "time": _TIME, "money": _AMOUNT,
        "boolean": {"type": "boolean"}, "integer": {"type": "integer"},
    }  # fmt: skip
    out = {}
    for item in program.case_fields:
        if item.owner == owner:
            schema = (
                {"enum": list(item.type.values)}
                if item.type.name == "enum"
                else kinds[item.type.name]
            )
            if item.title is not None:
                schema = {**schema, "description": f"{item.title.en} / {item.title.zh}"}
            out[item.name] = _nullable(schema)
    return out


def _casefile(program: Program) -> dict[str, Any]:
    ident = {"anyOf": [_NAME, {"type": "integer", "minimum": 0}]}
    appeal = _object(
        ["party", "filed_at", "ruling", "ruled_at"],
        {
            "party": {"enum": ["buyer", "seller"]},
            "filed_at": _TIME,
            "ruling": {"enum": list(RULINGS)},
            "ruled_at": _TIME,
        },
    )
    order = _object(
        ["order_id", "item_amount", "goods_type", "paid_at"],
        {
            "order_id": ident,
            "item": _nullable(_TEXT),
            "item_amount": _AMOUNT,
            "shipping_fee": _nullable(_AMOUNT),
            "goods_type": {"enum": ["physical", "virtual"]},
            "supports_7day_return": _nullable({"type": "boolean"}),
            "promised_ship_hours": _nullable({"type": "integer", "minimum": 1}),
            "recipient_name": _nullable(_TEXT),
            "courier": _nullable(_TEXT),
            "tracking_no": _nullable(ident),
            "paid_at": _TIME,
            "shipped_at": _nullable(_TIME),
            "delivered_at": _nullable(_TIME),
            "receipt_confirmed_at": _nullable(_TIME),
            **_declared(program, "order"),
        },
    )
    dispute = _object(
        ["type", "service", "claimed_amount", "refund_requested_at", "intervention_requested_at"],
        {
            "type": {"enum": [d.name for d in program.dispute_types]},
            "service": {"enum": ["refund_only", "return_and_refund", "exchange"]},
            "claimed_amount": {**_AMOUNT, "minimum": 0.01},
            "reason": _nullable(_TEXT),
            "refund_requested_at": _TIME,
            "seller_refused_at": _nullable(_TIME),
            "intervention_requested_at": _TIME,
            "buyer_evidence_requested_at": _nullable(_TIME),
            "cancelled_at": _nullable(_TIME),
            "review_started_at": _nullable(_TIME),
            "prior_interventions": _nullable({"type": "integer", "minimum": 0}),
            "appeal": _nullable(appeal),
            **_declared(program, "dispute"),
        },
    )
    evidence = _object(
        ["id", "party", "kind", "submitted_at"],
        {
            "id": _NAME,
            "party": {"enum": ["buyer", "seller", "platform"]},
            "kind": {**_NAME, "description": "an evidence kind declared in the rules"},
            "submitted_at": _TIME,
            "attributes": _nullable({"type": "object"}),
            "files": _nullable(
                {
                    "type": "array",
                    "items": _object(
                        ["name"],
                        {
                            "name": _NAME,
                            "sha256": _nullable({"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}),
                        },
                    ),
                }
            ),
        },
    )
    decision = _object(
        ["ruling"],
        {
            "ruling": {"enum": list(RULINGS)},
            "refund_amount": _nullable(_AMOUNT),
            "compensation_amount": _nullable(_AMOUNT),
            "decided_at": _nullable(_TIME),
        },
    )
    schema = _object(
        ["case_id", "platform", "order", "dispute"],
        {
            "format": {"enum": ["casefile/1", None]},
            "case_id": _NAME,
            "platform": {"enum": ["taobao", "tmall"]},
            "order": order,
            "dispute": dispute,
            "evidence": _nullable({"type": "array", "items": evidence}),
            "decision": _nullable(decision),
        },
    )
    schema["description"] = (
        "A case file, format casefile/1 (CONTRACT.md): JSON, or YAML with Content-Type "
        "application/yaml. Evidence ids are unique within the case."
    )
    return schema


def _ruling() -> dict[str, Any]:
    reason = _object(["rule", "zh", "en"], {"rule": _nullable(_TEXT), "zh": _TEXT, "en": _TEXT})
    return _object(
        [
            "format",
            "case_id",
            "rules",
            "ruling",
            "reason_code",
            "refund_amount",
            "compensation_amount",
            "return_required",
            "return_shipping_paid_by",
            "score",
            "issues",
            "evidence",
            "fired_rules",
            "next_step",
            "appeal_deadline",
            "warnings",
        ],  # fmt: skip
        {
            "format": {"enum": ["ruling/1"]},
            "case_id": _TEXT,
            "rules": _object(
                ["name", "version", "digest", "profile"],
                {"name": _TEXT, "version": _TEXT, "digest": _TEXT, "profile": _nullable(_TEXT)},
            ),
            "ruling": {"enum": list(RULINGS)},
            "reason_code": _TEXT,
            "refund_amount": {"type": "number"},
            "compensation_amount": {"type": "number"},
            "return_required": {"type": "boolean"},
            "return_shipping_paid_by": _nullable(_TEXT),
            "score": {"type": "number"},
            "issues": {
                "type": "array",
                "items": _object(
                    ["issue", "burden", "standard", "score", "met", "status"],
                    {
                        "issue": _TEXT,
                        "burden": _TEXT,
                        "standard": {"type": "number"},
                        "score": {"type": "number"},
                        "met": {"type": "boolean"},
                        "status": _TEXT,
                    },  # fmt: skip
                ),
            },
            "evidence": {
                "type": "array",
                "items": _object(
                    ["id", "admitted", "valid", "weight", "reasons"],
                    {
                        "id": _TEXT,
                        "admitted": {"type": "boolean"},
                        "valid": {"type": "boolean"},
                        "weight": {"type": "number"},
                        "reasons": {"type": "array", "items": reason},
                        "read": {"type": "array", "items": _read_finding()},
                        "unconfirmed": {"type": "boolean"},
                    },  # fmt: skip
                ),
            },
            "fired_rules": {"type": "array", "items": _TEXT},
            "next_step": _nullable(
                _object(
                    ["party", "what", "until", "rule"],
                    {
                        "party": _TEXT,
                        "what": _BILINGUAL,
                        "until": _nullable(_TEXT),
                        "rule": _nullable(_TEXT),
                    },
                )  # fmt: skip
            ),
            "appeal_deadline": _nullable(_TEXT),
            "warnings": {"type": "array", "items": reason},
            "appeal": {"enum": ["changed", "confirmed"]},
        },
    )


def _read_finding() -> dict[str, Any]:
    schema = _object(
        ["attribute", "value", "file", "confidence", "counted"],
        {"attribute": _TEXT, "value": {}, "file": _TEXT, "confidence": {"type": "number"},
         "counted": {"type": "boolean"}},
    )  # fmt: skip
    schema["description"] = (
        "an attribute read from a bundle's file, and whether it counts (read_confidence_min)"
    )
    return schema


def _evidence() -> dict[str, Any]:
    region = _nullable(_object(["page", "x", "y", "w", "h"], {
        k: {"type": "integer"} for k in ("page", "x", "y", "w", "h")}))  # fmt: skip
    stored_file = _object(
        ["id", "item", "name", "sha256", "type", "size", "case_version", "pages", "url"],
        {"id": {"type": "integer"}, "item": _TEXT, "name": _TEXT, "sha256": _TEXT,
         "type": {**_TEXT, "description": "by its bytes: jpg, png, pdf, docx, ..."},
         "size": {"type": "integer"}, "case_version": {"type": "integer"},
         "pages": {"type": "array", "items": _object(["width", "height"], {
             "width": {"type": "integer"}, "height": {"type": "integer"}})},
         "url": {**_TEXT, "description": "the file itself (GET, with the same credentials)"}},
    )  # fmt: skip
    read = _object(
        ["attribute", "value", "file", "confidence", "extractor", "source", "region"],
        {"attribute": _TEXT, "value": {}, "file": _TEXT, "confidence": {"type": "number"},
         "extractor": _TEXT, "source": _TEXT, "region": region},
    )  # fmt: skip
    return _object(
        ["files", "read", "corrections"],
        {"files": {"type": "array", "items": stored_file},
         "read": {"type": "object", "additionalProperties": {"type": "array", "items": read},
                  "description": "by evidence item id: what was read when the case was imported"},
         "corrections": {"type": "array", "items": {"$ref": "#/components/schemas/Correction"}}},
    )  # fmt: skip


def _correction() -> dict[str, Any]:
    return _object(
        ["id", "item", "attribute", "action", "value", "read_value", "read_confidence",
         "version", "corrected_by", "corrected_at", "reason"],
        {"id": {"type": "integer"}, "item": _TEXT, "attribute": _TEXT,
         "action": {"enum": ["confirm", "correct"]}, "value": {}, "read_value": {},
         "read_confidence": _nullable({"type": "number"}),
         "version": {"type": "integer", "description": "the case's version it was made on"},
         "corrected_by": _TEXT, "corrected_at": _TEXT, "reason": _TEXT},
    )  # fmt: skip


def _correction_request() -> dict[str, Any]:
    schema = _object(
        ["action"],
        {
            "action": {"enum": ["confirm", "correct"]},
            "value": {"description": "correct: the value, of the attribute's declared type "
                      "(JSON); confirm: omitted, or the value read"},
            "reason": {"type": ["string", "null"], "maxLength": 4000,
                       "description": "required to correct"},
            "version": {"type": ["integer", "null"], "minimum": 0,
                        "description": "the case's version the correction is made on; "
                        "required with accounts; a stale one is refused with 409"},
            "corrected_by": {**_NAME, "maxLength": 200,
                             "description": "who corrects, on a desk without accounts only"},
        },
    )  # fmt: skip
    schema["description"] = (
        "Confirm the value read from the item's files, or correct it: either types it into "
        "the case (a new version), which is then scored again."
    )
    return schema


def _error() -> dict[str, Any]:
    problem = _object(
        ["at", "path", "message", "hint"],
        {"at": _TEXT, "path": _TEXT, "message": _TEXT, "hint": _TEXT},
    )
    return _object(
        ["error"],
        {
            "error": _object(
                ["type", "message"],
                {
                    "type": _TEXT,
                    "message": {
                        **_TEXT,
                        "description": "the located message, as the command line prints it",
                    },
                    "problems": {"type": "array", "items": problem},
                    "current": {
                        "anyOf": [{"$ref": "#/components/schemas/Decision"}, {"type": "null"}],
                        "description": "409 on a stale decision: the decision now in force",
                    },
                },
            )
        },
    )


def _decision_request() -> dict[str, Any]:
    schema = _object(
        [],
        {
            "decided_by": {
                **_NAME,
                "maxLength": 200,
                "description": "the arbitrator, on a desk without accounts only (with accounts "
                "the decider is the signed-in user, and a body naming one is refused)",
            },
            "version": {
                "type": ["integer", "null"],
                "minimum": 0,
                "description": "the case's version the decision was made on (its number of "
                "decisions and reading corrections); required with accounts; a stale one is "
                "refused with 409",
            },
            "ruling": {
                "enum": [*RULINGS, None],
                "description": "omitted or null: the recommended ruling",
            },
            "refund_amount": _nullable({"anyOf": [_AMOUNT, {"type": "string"}]}),
            "compensation_amount": _nullable({"anyOf": [_AMOUNT, {"type": "string"}]}),
            "reason": {
                "type": ["string", "null"],
                "maxLength": 4000,
                "description": "required when the decision differs from the recommendation",
            },
        },
    )
    schema["description"] = (
        "Accept the recommendation (the version alone) or override it. An omitted amount is the "
        "recommendation's when the ruling is the recommended one, else 0. Amounts above what "
        "the rules give the ruling on this case are refused (422)."
    )
    return schema


def _decision() -> dict[str, Any]:
    return _object(
        [
            "id",
            "decided_by",
            "decided_at",
            "ruling",
            "refund_amount",
            "compensation_amount",
            "reason",
            "accepted",
            "rules_digest",
            "recommendation",
        ],  # fmt: skip
        {
            "id": {"type": "integer"},
            "decided_by": _TEXT,
            "decided_at": _TEXT,
            "ruling": {"enum": list(RULINGS)},
            "refund_amount": {"type": "number"},
            "compensation_amount": {"type": "number"},
            "reason": _TEXT,
            "accepted": {"type": "boolean"},
            "rules_digest": _TEXT,
            "recommendation": {"$ref": "#/components/schemas/Ruling"},
        },
    )


def _case_record() -> dict[str, Any]:
    return _object(
        [
            "id",
            "case_id",
            "platform",
            "dispute_type",
            "status",
            "version",
            "claimed_by",
            "source",
            "imported_at",
            "recommendation",
            "decision",
        ],  # fmt: skip
        {
            "id": {"type": "integer"},
            "case_id": _TEXT,
            "platform": _TEXT,
            "dispute_type": _TEXT,
            "status": {"enum": ["pending", "accepted", "overridden"]},
            "version": {
                "type": "integer",
                "description": "changes recorded so far: decisions and reading corrections",
            },
            "claimed_by": _nullable(_TEXT),
            "due": {"type": "array", "items": _due()},
            "source": _TEXT,
            "imported_at": _TEXT,
            "recommendation": {"$ref": "#/components/schemas/Ruling"},
            "decision": _nullable({"$ref": "#/components/schemas/Decision"}),
            "decisions": {"type": "array", "items": {"$ref": "#/components/schemas/Decision"}},
            "case": {"type": "object", "description": "the casefile/1 document"},
        },
    )


def _due() -> dict[str, Any]:
    return _object(
        ["level", "title", "from", "days", "due", "target_days", "target", "estimated", "overdue"],
        {
            "level": _TEXT,
            "title": _BILINGUAL,
            "from": _TEXT,
            "days": {"type": "integer"},
            "due": {"type": "string", "description": "YYYY-MM-DD, China's working days"},
            "target_days": _nullable({"type": "integer"}),
            "target": _nullable(_TEXT),
            "estimated": {
                "type": "boolean",
                "description": "a year the holiday calendar does not know: weekends only",
            },
            "overdue": {"type": "boolean"},
        },
    )


def _rules() -> dict[str, Any]:
    profile = _object(
        ["name", "title", "since", "until", "platform"],
        {
            "name": _TEXT,
            "title": _BILINGUAL,
            "since": _nullable(_TEXT),
            "until": _nullable(_TEXT),
            "platform": _nullable(_TEXT),
        },
    )
    dispute_type = _object(["name", "title"], {"name": _TEXT, "title": _BILINGUAL})
    return _object(
        ["name", "version", "digest", "engine", "profiles", "dispute_types"],
        {
            "name": _TEXT,
            "version": _TEXT,
            "digest": _TEXT,
            "engine": {"enum": ["durable", "reference"]},
            "profiles": {"type": "array", "items": profile},
            "dispute_types": {"type": "array", "items": dispute_type},
        },
    )


def components(program: Program) -> dict[str, Any]:
    """The schemas, as OpenAPI's ``components.schemas``."""
    case_list = _object(
        ["total", "cases"],
        {
            "total": {"type": "integer"},
            "cases": {"type": "array", "items": {"$ref": "#/components/schemas/CaseRecord"}},
        },
    )
    return {
        "CaseFile": _casefile(program),
        "Ruling": _ruling(),
        "Error": _error(),
        "DecisionRequest": _decision_request(),
        "Decision": _decision(),
        "CaseRecord": _case_record(),
        "CaseList": case_list,
        "Rules": _rules(),
        "Evidence": _evidence(),
        "Correction": _correction(),
        "CorrectionRequest": _correction_request(),
        "CorrectionRecord": _object(["correction", "case"], {
            "correction": {"$ref": "#/components/schemas/Correction"},
            "case": {"$ref": "#/components/schemas/CaseRecord"}}),
        "Claim": _object(["id", "claimed_by"], {"id": {"type": "integer"},
                                                "claimed_by": _nullable(_TEXT)}),
        "Me": _object(["user"], {"user": _nullable(_object(["name", "role"], {
            "name": _TEXT, "role": {"enum": ["arbitrator", "senior", "policy", "admin"]}}))}),
        "AuditLog": _object(["total", "entries"], {
            "total": {"type": "integer"},
            "entries": {"type": "array", "items": _object(
                ["id", "at", "actor", "action", "case", "detail"],
                {"id": {"type": "integer"}, "at": _TEXT, "actor": _nullable(_TEXT),
                 "action": _TEXT, "case": _nullable({"type": "integer"}),
                 "detail": {"type": "object"}})},
        }),
    }  # fmt: skip
