"""The desk's records: cases as imported, recommendations, arbitrators' decisions, claims and
the audit log, in SQLite or PostgreSQL (engine.web.db; the schema in engine.web.migrations).

A case is stored once per ``case_id``, as its casefile/1 document (JSON), with the
recommendation it got on import in the same transaction. A recommendation is the ruling/1 of a
case under one set of rules (one per rules digest). A decision is immutable (the database
refuses to change one): who decided, when, the ruling and amounts, the reason, and the
recommendation it replaced; a case's status comes from its latest decision. A case's
``version`` counts its decisions: a decision names the version it was made on and is refused
(StaleDecision, with the decision in force) when another was recorded since. A case can be
claimed by one user. Every write that matters is audited in its own transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from engine.cases.dump import decision_data
from engine.errors import CaseConflict, StaleDecision
from engine.model import Decision
from engine.policytools.agreement import Comparison
from engine.web.audit import AuditEntry, read_log, record
from engine.web.db import Conn, Database, open_database
from engine.web.migrations import MIGRATIONS, migrate

__all__ = [
    "MIGRATIONS",
    "STATUSES",
    "AuditEntry",
    "DecisionRecord",
    "Recommendation",
    "Store",
    "StoredCase",
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
    version: int  # decisions recorded so far
    claimed_by: str | None
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


_REC = (
    "{p}.id, {p}.rules_name, {p}.rules_version, {p}.rules_digest, {p}.engine, {p}.ruling, "
    "{p}.deciding_rule, {p}.refund_amount, {p}.compensation_amount, {p}.ruling_json, {p}.scored_at"
)
_DEC = (
    "d.id, d.case_ref, d.decided_by, d.decided_at, d.ruling, d.refund_amount, "
    "d.compensation_amount, d.reason, d.accepted"
)
_CASE = (
    "c.id, c.case_id, c.platform, c.dispute_type, c.claimed_amount, c.document, c.source, "
    "c.imported_at, c.version, c.claimed_by"
)
_SELECT = f"""
    SELECT {_CASE}, {_REC.format(p="r")}, {_DEC}, {_REC.format(p="dr")}
    FROM cases c
    LEFT JOIN recommendations r ON r.case_ref = c.id AND r.rules_digest = :digest
    LEFT JOIN decisions d ON d.id = (SELECT max(id) FROM decisions WHERE case_ref = c.id)
    LEFT JOIN recommendations dr ON dr.id = d.recommendation_ref
"""
_STATUS = {
    "pending": "d.id IS NULL",
    "accepted": "d.accepted = 1",
    "overridden": "d.accepted = 0",
}


def _recommendation(row: tuple[Any, ...], at: int) -> Recommendation | None:
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


def _decision(row: tuple[Any, ...], at: int, replaced: Recommendation | None) -> DecisionRecord:
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


def _stored(row: tuple[Any, ...]) -> StoredCase:
    rec_at, dec_at = 10, 21
    replaced_at = dec_at + 9
    decision = None
    if row[dec_at] is not None:
        decision = _decision(row, dec_at, _recommendation(row, replaced_at))
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
        recommendation=_recommendation(row, rec_at),
        decision=decision,
    )


def _text(amount: Decimal) -> str:
    return format(amount, "f")


def order_key(platform: str, order_id: str) -> str:
    """What links an appeal to the case of its first ruling: the same order on one platform."""
    return f"{platform}:{order_id}"


class Store:
    """The desk's database; cheap to share between threads (each call takes its own
    connection). ``db``: a Database, a SQLite file's path or a ``postgresql://`` URL."""

    def __init__(self, db: Database | str | Path) -> None:
        self.db = db if isinstance(db, Database) else open_database(db)
        if self.db.dialect == "sqlite":
            with self.db.reading() as conn:
                conn.run("PRAGMA journal_mode = WAL")
        migrate(self.db)

    def close(self) -> None:
        self.db.close()

    # ------------------------------------------------------------------ writing

    def add_case(
        self,
        *,
        case_id: str,
        platform: str,
        order_id: str,
        dispute_type: str,
        claimed_amount: Decimal,
        document: str,
        source: str,
        imported_at: str,
        recommendation: dict[str, Any],
        audit: dict[str, Any] | None = None,
    ) -> tuple[int, bool]:
        """Store a case with its recommendation (``ruling``, ``deciding_rule``, ``engine``,
        ``scored_at``), all or nothing; (its id, True) when new, (its id, False) when the same
        document was already stored. Raises CaseConflict when the case_id is stored with
        another document."""
        with self.db.transaction() as conn:
            row = conn.row(
                "INSERT INTO cases (case_id, platform, dispute_type, claimed_amount, document, "
                "source, imported_at, order_key) VALUES (:case_id, :platform, :dispute_type, "
                ":claimed, :document, :source, :imported_at, :order_key) "
                "ON CONFLICT (case_id) DO NOTHING RETURNING id",
                {"case_id": case_id, "platform": platform, "dispute_type": dispute_type,
                 "claimed": _text(claimed_amount), "document": document, "source": source,
                 "imported_at": imported_at, "order_key": order_key(platform, order_id)},
            )  # fmt: skip
            if row is None:
                found = conn.row(
                    "SELECT id, document FROM cases WHERE case_id = :c", {"c": case_id}
                )
                assert found is not None
                if json.loads(found[1]) != json.loads(document):
                    raise CaseConflict(case_id, int(found[0]))
                case_ref, created = int(found[0]), False
            else:
                case_ref, created = int(row[0]), True
                if audit is not None:
                    detail = {"case_id": case_id, **audit}
                    actor = detail.pop("actor", None)
                    record(conn, at=imported_at, actor=actor, action="import",
                                case_ref=case_ref, detail=detail)  # fmt: skip
            self._recommend(conn, case_ref, **recommendation)
        return case_ref, created

    def add_recommendation(
        self,
        case_ref: int,
        *,
        ruling: dict[str, Any],
        deciding_rule: str,
        engine: str,
        scored_at: str,
    ) -> int:
        """Store a ruling/1 for a case (once per rules digest); returns its id."""
        with self.db.transaction() as conn:
            return self._recommend(
                conn, case_ref, ruling=ruling, deciding_rule=deciding_rule, engine=engine,
                scored_at=scored_at,
            )  # fmt: skip

    def _recommend(
        self,
        conn: Conn,
        case_ref: int,
        *,
        ruling: dict[str, Any],
        deciding_rule: str,
        engine: str,
        scored_at: str,
    ) -> int:
        rules = ruling["rules"]
        conn.run(
            "INSERT INTO recommendations (case_ref, rules_name, rules_version, rules_digest, "
            "engine, ruling, deciding_rule, refund_amount, compensation_amount, ruling_json, "
            "scored_at) VALUES (:case_ref, :name, :version, :digest, :engine, :ruling, :rule, "
            ":refund, :compensation, :json, :at) "
            "ON CONFLICT (case_ref, rules_digest) DO NOTHING",
            {"case_ref": case_ref, "name": rules["name"], "version": rules["version"],
             "digest": rules["digest"], "engine": engine, "ruling": ruling["ruling"],
             "rule": deciding_rule, "refund": str(Decimal(str(ruling["refund_amount"]))),
             "compensation": str(Decimal(str(ruling["compensation_amount"]))),
             "json": json.dumps(ruling, ensure_ascii=False), "at": scored_at},
        )  # fmt: skip
        row = conn.row(
            "SELECT id FROM recommendations WHERE case_ref = :c AND rules_digest = :d",
            {"c": case_ref, "d": rules["digest"]},
        )
        assert row is not None
        return int(row[0])

    def add_decision(
        self,
        case_ref: int,
        *,
        recommendation_ref: int,
        decided_by: str,
        decided_at: str,
        ruling: str,
        refund_amount: Decimal,
        compensation_amount: Decimal,
        reason: str,
        accepted: bool,
        version: int | None = None,
        claim: bool = False,
        audit: dict[str, Any] | None = None,
    ) -> int:
        """Record a decision; returns its id. ``version``: the case's version it was made on
        (None: whatever it is now, the one-person desk's way). ``claim``: the case must not be
        claimed by someone else, and becomes ``decided_by``'s. Raises StaleDecision. The
        decision, the case's new version and the audit entry are one transaction."""
        with self.db.transaction() as conn:
            conditions = ["id = :id"]
            params: dict[str, Any] = {"id": case_ref, "by": decided_by, "at": decided_at}
            if version is not None:
                conditions.append("version = :version")
                params["version"] = version
            claims = ""
            if claim:
                conditions.append("(claimed_by IS NULL OR claimed_by = :by)")
                claims = ", claimed_by = :by, claimed_at = COALESCE(claimed_at, :at)"
            changed = conn.run(
                f"UPDATE cases SET version = version + 1{claims} WHERE {' AND '.join(conditions)}",
                params,
            )
            if not changed:
                raise self._stale(conn, case_ref, version, decided_by)
            row = conn.row(
                "INSERT INTO decisions (case_ref, recommendation_ref, decided_by, decided_at, "
                "ruling, refund_amount, compensation_amount, reason, accepted) VALUES (:case, "
                ":rec, :by, :at, :ruling, :refund, :compensation, :reason, :accepted) "
                "RETURNING id",
                {"case": case_ref, "rec": recommendation_ref, "by": decided_by, "at": decided_at,
                 "ruling": ruling, "refund": _text(refund_amount),
                 "compensation": _text(compensation_amount), "reason": reason,
                 "accepted": int(accepted)},
            )  # fmt: skip
            assert row is not None
            if audit is not None:
                detail = {**audit, "decision": int(row[0])}
                record(conn, at=decided_at, actor=decided_by, action="decision",
                            case_ref=case_ref, detail=detail)  # fmt: skip
            return int(row[0])

    def _stale(
        self, conn: Conn, case_ref: int, version: int | None, user: str
    ) -> StaleDecision:
        found = conn.row(
            "SELECT version, claimed_by FROM cases WHERE id = :id", {"id": case_ref}
        )
        assert found is not None  # the desk looked the case up before
        current_version, claimed_by = int(found[0]), found[1]
        latest = self._decisions(conn, case_ref)
        current = latest[-1].as_dict() if latest else None
        if (version is None or version == current_version) and claimed_by not in (None, user):
            return StaleDecision(
                f"case {case_ref} is claimed by {claimed_by}: only they decide it (or release "
                "it first)",
                current,
            )
        return StaleDecision(
            f"case {case_ref} has changed since version {version}: it is at version "
            f"{current_version}; read the decision now in force, then decide again on version "
            f"{current_version}",
            current,
        )

    def claim(self, case_ref: int, user: str, at: str) -> str:
        """Claim a case for ``user``; returns who holds it now (``user``, or whoever claimed
        it first)."""
        with self.db.transaction() as conn:
            conn.run(
                "UPDATE cases SET claimed_by = :u, claimed_at = :at "
                "WHERE id = :id AND claimed_by IS NULL",
                {"u": user, "at": at, "id": case_ref},
            )
            row = conn.row("SELECT claimed_by FROM cases WHERE id = :id", {"id": case_ref})
            holder = str(row[0]) if row and row[0] is not None else ""
            if holder == user:
                record(conn, at=at, actor=user, action="claim", case_ref=case_ref,
                            detail={})  # fmt: skip
            return holder

    def release(self, case_ref: int, user: str, at: str, *, anyone: bool = False) -> bool:
        """Release ``user``'s claim (anyone's with ``anyone``); True when it was released."""
        with self.db.transaction() as conn:
            condition = "" if anyone else " AND claimed_by = :u"
            released = conn.run(
                "UPDATE cases SET claimed_by = NULL, claimed_at = NULL "
                f"WHERE id = :id AND claimed_by IS NOT NULL{condition}",
                {"id": case_ref, "u": user},
            )
            if released:
                record(conn, at=at, actor=user, action="release", case_ref=case_ref,
                            detail={})  # fmt: skip
            return bool(released)

    # ------------------------------------------------------------------ the audit log

    def audit(
        self,
        *,
        at: str,
        actor: str | None,
        action: str,
        case_ref: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        with self.db.transaction() as conn:
            record(conn, at=at, actor=actor, action=action, case_ref=case_ref,
                   detail=detail or {})  # fmt: skip

    def audit_log(
        self, *, case_ref: int | None = None, limit: int = 100, offset: int = 0
    ) -> tuple[list[AuditEntry], int]:
        """Entries newest first (one case's, when given), and how many in all."""
        return read_log(self.db, case_ref=case_ref, limit=limit, offset=offset)

    # ------------------------------------------------------------------ reading

    def cases(
        self,
        digest: str,
        *,
        dispute_type: str | None = None,
        ruling: str | None = None,
        status: str | None = None,
        case_id: str | None = None,
        claimed_by: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[StoredCase], int]:
        """A page of cases, newest first, with their recommendation under the rules whose
        digest is given and their latest decision; and how many match in all."""
        where, params = self._filters(
            digest, dispute_type=dispute_type, ruling=ruling, status=status, case_id=case_id,
            claimed_by=claimed_by,
        )  # fmt: skip
        params.update(limit=limit, offset=offset)
        with self.db.reading() as conn:
            rows = conn.rows(
                _SELECT + where + " ORDER BY c.id DESC LIMIT :limit OFFSET :offset", params
            )
            total = conn.row("SELECT count(*) FROM (" + _SELECT + where + ") matched", params)
        return [_stored(row) for row in rows], int(total[0]) if total else 0

    @staticmethod
    def _filters(digest: str, **given: str | int | None) -> tuple[str, dict[str, Any]]:
        conditions: list[str] = []
        params: dict[str, Any] = {"digest": digest}
        columns = {"case_ref": "c.id", "case_id": "c.case_id", "dispute_type": "c.dispute_type",
                   "ruling": "r.ruling", "claimed_by": "c.claimed_by"}  # fmt: skip
        for name, value in given.items():
            if value is None:
                continue
            if name == "status":
                conditions.append(_STATUS[str(value)])
            else:
                conditions.append(f"{columns[name]} = :{name}")
                params[name] = value
        return (" WHERE " + " AND ".join(conditions)) if conditions else "", params

    def case(self, case_ref: int, digest: str) -> StoredCase | None:
        where, params = self._filters(digest, case_ref=case_ref)
        with self.db.reading() as conn:
            row = conn.row(_SELECT + where, params)
        return None if row is None else _stored(row)

    def decisions(self, case_ref: int) -> list[DecisionRecord]:
        """Every decision on a case, oldest first."""
        with self.db.reading() as conn:
            return self._decisions(conn, case_ref)

    @staticmethod
    def _decisions(conn: Conn, case_ref: int) -> list[DecisionRecord]:
        rows = conn.rows(
            f"SELECT {_DEC}, {_REC.format(p='dr')} FROM decisions d "
            "JOIN recommendations dr ON dr.id = d.recommendation_ref "
            "WHERE d.case_ref = :case ORDER BY d.id",
            {"case": case_ref},
        )
        return [_decision(row, 0, _recommendation(row, 9)) for row in rows]

    def order_deciders(self, key: str, *, besides: int) -> set[str]:
        """Who decided the other cases of an order (an appeal's first ruling)."""
        with self.db.reading() as conn:
            rows = conn.rows(
                "SELECT DISTINCT d.decided_by FROM decisions d JOIN cases c ON c.id = d.case_ref "
                "WHERE c.order_key = :key AND c.id <> :besides",
                {"key": key, "besides": besides},
            )
        return {str(row[0]) for row in rows}

    def unscored(self, digest: str) -> list[tuple[int, str, str]]:
        """(id, document, source) of the cases without a recommendation under these rules."""
        with self.db.reading() as conn:
            rows = conn.rows(
                "SELECT c.id, c.document, c.source FROM cases c WHERE NOT EXISTS "
                "(SELECT 1 FROM recommendations r WHERE r.case_ref = c.id "
                "AND r.rules_digest = :digest) ORDER BY c.id",
                {"digest": digest},
            )
        return [(int(row[0]), str(row[1]), str(row[2])) for row in rows]

    def decided(self) -> Iterator[tuple[StoredCase, DecisionRecord]]:
        """Every decided case with its latest decision, in the order they were imported."""
        with self.db.reading() as conn:
            rows = conn.rows(_SELECT + " WHERE d.id IS NOT NULL ORDER BY c.id", {"digest": ""})
        for row in rows:
            stored = _stored(row)
            assert stored.decision is not None
            yield stored, stored.decision

    def comparisons(self) -> list[Comparison]:
        """Each decided case's latest decision against the recommendation it replaced."""
        out = []
        for stored, decision in self.decided():
            replaced = decision.replaced
            out.append(
                Comparison(
                    case_id=stored.case_id,
                    dispute_type=stored.dispute_type,
                    recommended=replaced.ruling,
                    recommended_refund=replaced.refund_amount,
                    recommended_compensation=replaced.compensation_amount,
                    deciding_rule=replaced.deciding_rule,
                    fired_rules=tuple(replaced.as_dict()["fired_rules"]),
                    decided=decision.ruling,
                    decided_refund=decision.refund_amount,
                    decided_compensation=decision.compensation_amount,
                )
            )
        return out

    def export_decisions(self, out: IO[str]) -> int:
        """Write every decided case as one casefile/1 line (JSON Lines) with ``decision`` set
        to its latest decision (who decided, the reason, the rules' digest) and the earlier
        ones in ``decision.earlier``; ``adjudicate score`` and ``load_cases`` read it back.
        Returns the number of lines."""
        count = 0
        for stored, _latest in self.decided():
            document = stored.data()
            *earlier, latest = self.decisions(stored.id)
            data = decision_data(latest.as_decision())
            assert data is not None
            if earlier:
                data["earlier"] = [decision_data(d.as_decision()) for d in earlier]
            document["decision"] = data
            out.write(json.dumps(document, ensure_ascii=False) + "\n")
            count += 1
        return count
