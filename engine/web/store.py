"""The desk's records: cases as imported, recommendations, arbitrators' decisions, claims, the
audit log, and evidence files with what was read from them and its corrections, in SQLite or
PostgreSQL (engine.web.db; the schema in engine.web.migrations; the records in
engine.web.records and engine.web.evidence_store).

A case is stored once per ``case_id``, as its casefile/1 document (JSON), with the
recommendation it got on import (and, from a bundle, its files and readings) in the same
transaction. A recommendation is the ruling/1 of one revision of a case's document under one set
of rules. A decision is immutable (the database refuses to change one): who decided, when, the
ruling and amounts, the reason, and the recommendation it replaced; a case's status comes from
its latest decision. A case's ``version`` counts its decisions and reading corrections: either
names the version it was made on and is refused (StaleDecision, with the decision in force) when
another was recorded since. A correction types an attribute into the document (a new revision)
and stores the recommendation of the revised case with it. A case can be claimed by one user.
Every write that matters is audited in its own transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from engine.cases.dump import decision_data
from engine.errors import CaseConflict, StaleDecision
from engine.model import ReadAttribute
from engine.policytools.agreement import Comparison
from engine.web import evidence_store
from engine.web.audit import AuditEntry, read_log, record
from engine.web.db import Conn, Database, open_database
from engine.web.evidence_store import NewFile
from engine.web.migrations import MIGRATIONS, migrate
from engine.web.records import (
    DEC_COLUMNS,
    REC_COLUMNS,
    SELECT_CASES,
    STATUS_WHERE,
    STATUSES,
    DecisionRecord,
    Recommendation,
    StoredCase,
    decision_row,
    recommendation_row,
    stored_row,
)

__all__ = [
    "MIGRATIONS",
    "STATUSES",
    "AuditEntry",
    "DecisionRecord",
    "Recommendation",
    "Store",
    "StoredCase",
]


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
        files: Iterable[NewFile] = (),
        reads: Iterable[tuple[str, ReadAttribute]] = (),
    ) -> tuple[int, bool]:
        """Store a case with its recommendation (``ruling``, ``deciding_rule``, ``engine``,
        ``scored_at``) and, from a bundle, its ``files`` and what was read from them (``reads``:
        (item id, attribute read)), all or nothing; (its id, True) when new, (its id, False)
        when the same document was already imported. Raises CaseConflict when the case_id is
        stored with another document."""
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
                    "SELECT id, COALESCE(imported_document, document) FROM cases "
                    "WHERE case_id = :c",
                    {"c": case_id},
                )
                assert found is not None
                if json.loads(found[1]) != json.loads(document):
                    raise CaseConflict(case_id, int(found[0]))
                return int(found[0]), False
            case_ref = int(row[0])
            if audit is not None:
                detail = {"case_id": case_id, **audit}
                actor = detail.pop("actor", None)
                record(conn, at=imported_at, actor=actor, action="import", case_ref=case_ref,
                       detail=detail)  # fmt: skip
            evidence_store.add_evidence(
                conn, case_ref, case_version=0, new_files=files, new_reads=reads
            )
            self._recommend(conn, case_ref, revision=0, **recommendation)
        return case_ref, True

    def add_recommendation(
        self,
        case_ref: int,
        *,
        revision: int,
        ruling: dict[str, Any],
        deciding_rule: str,
        engine: str,
        scored_at: str,
    ) -> int:
        """Store a ruling/1 for a revision of a case (once per rules digest); returns its id."""
        with self.db.transaction() as conn:
            return self._recommend(
                conn, case_ref, revision=revision, ruling=ruling, deciding_rule=deciding_rule,
                engine=engine, scored_at=scored_at,
            )  # fmt: skip

    def _recommend(
        self,
        conn: Conn,
        case_ref: int,
        *,
        revision: int,
        ruling: dict[str, Any],
        deciding_rule: str,
        engine: str,
        scored_at: str,
    ) -> int:
        rules = ruling["rules"]
        conn.run(
            "INSERT INTO recommendations (case_ref, rules_name, rules_version, rules_digest, "
            "engine, ruling, deciding_rule, refund_amount, compensation_amount, ruling_json, "
            "scored_at, revision) VALUES (:case_ref, :name, :version, :digest, :engine, :ruling, "
            ":rule, :refund, :compensation, :json, :at, :revision) "
            "ON CONFLICT (case_ref, rules_digest, revision) DO NOTHING",
            {"case_ref": case_ref, "revision": revision, "name": rules["name"],
             "version": rules["version"],
             "digest": rules["digest"], "engine": engine, "ruling": ruling["ruling"],
             "rule": deciding_rule, "refund": str(Decimal(str(ruling["refund_amount"]))),
             "compensation": str(Decimal(str(ruling["compensation_amount"]))),
             "json": json.dumps(ruling, ensure_ascii=False), "at": scored_at},
        )  # fmt: skip
        row = conn.row(
            "SELECT id FROM recommendations WHERE case_ref = :c AND rules_digest = :d "
            "AND revision = :r",
            {"c": case_ref, "d": rules["digest"], "r": revision},
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
        self, conn: Conn, case_ref: int, version: int | None, user: str, redo: str = "decide"
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
            f"{current_version}; read the decision now in force, then {redo} again on version "
            f"{current_version}",
            current,
        )

    def add_correction(
        self,
        case_ref: int,
        *,
        version: int,
        document: str,
        correction: dict[str, Any],
        recommendation: dict[str, Any],
        claim: bool = False,
    ) -> int:
        """Record a confirmation or correction of a read attribute (``correction``: the fields
        of ``evidence_store.add_correction`` but the case's version) made on ``version``: the
        case's ``document`` becomes the one given (a new revision, the document as imported
        kept), its version goes up, and the revised case's ``recommendation`` is stored, with
        the audit entry, all or nothing. ``claim``: as for a decision. Raises StaleDecision.
        Returns the correction's id."""
        user = str(correction["corrected_by"])
        with self.db.transaction() as conn:
            params: dict[str, Any] = {"id": case_ref, "version": version, "doc": document,
                                      "by": user, "at": correction["corrected_at"]}  # fmt: skip
            conditions, claims = "id = :id AND version = :version", ""
            if claim:
                conditions += " AND (claimed_by IS NULL OR claimed_by = :by)"
                claims = ", claimed_by = :by, claimed_at = COALESCE(claimed_at, :at)"
            changed = conn.run(
                "UPDATE cases SET version = version + 1, revision = revision + 1, "
                "imported_document = COALESCE(imported_document, document), "
                f"document = :doc{claims} WHERE {conditions}",
                params,
            )
            if not changed:
                raise self._stale(conn, case_ref, version, user, redo="correct")
            found = conn.row("SELECT revision FROM cases WHERE id = :id", {"id": case_ref})
            assert found is not None
            ref = evidence_store.add_correction(conn, case_ref, case_version=version,
                                                **correction)  # fmt: skip
            read = correction["read"]
            detail = {"correction": ref, "version": version, "item": correction["item"],
                      "attribute": correction["attribute"], "action": correction["action"],
                      "value": correction["value"],
                      "read_value": None if read is None else read.value,
                      "read_confidence": None if read is None else read.confidence}  # fmt: skip
            record(conn, at=correction["corrected_at"], actor=user, action="correction",
                   case_ref=case_ref, detail=detail)  # fmt: skip
            self._recommend(conn, case_ref, revision=int(found[0]), **recommendation)
            return ref

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
                SELECT_CASES + where + " ORDER BY c.id DESC LIMIT :limit OFFSET :offset", params
            )
            total = conn.row("SELECT count(*) FROM (" + SELECT_CASES + where + ") matched", params)
        return [stored_row(row) for row in rows], int(total[0]) if total else 0

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
                conditions.append(STATUS_WHERE[str(value)])
            else:
                conditions.append(f"{columns[name]} = :{name}")
                params[name] = value
        return (" WHERE " + " AND ".join(conditions)) if conditions else "", params

    def case(self, case_ref: int, digest: str) -> StoredCase | None:
        where, params = self._filters(digest, case_ref=case_ref)
        with self.db.reading() as conn:
            row = conn.row(SELECT_CASES + where, params)
        return None if row is None else stored_row(row)

    def decisions(self, case_ref: int) -> list[DecisionRecord]:
        """Every decision on a case, oldest first."""
        with self.db.reading() as conn:
            return self._decisions(conn, case_ref)

    @staticmethod
    def _decisions(conn: Conn, case_ref: int) -> list[DecisionRecord]:
        rows = conn.rows(
            f"SELECT {DEC_COLUMNS}, {REC_COLUMNS.format(p='dr')} FROM decisions d "
            "JOIN recommendations dr ON dr.id = d.recommendation_ref "
            "WHERE d.case_ref = :case ORDER BY d.id",
            {"case": case_ref},
        )
        return [decision_row(row, 0, recommendation_row(row, 9)) for row in rows]

    def order_deciders(self, key: str, *, besides: int) -> set[str]:
        """Who decided the other cases of an order (an appeal's first ruling)."""
        with self.db.reading() as conn:
            rows = conn.rows(
                "SELECT DISTINCT d.decided_by FROM decisions d JOIN cases c ON c.id = d.case_ref "
                "WHERE c.order_key = :key AND c.id <> :besides",
                {"key": key, "besides": besides},
            )
        return {str(row[0]) for row in rows}

    def unscored(self, digest: str) -> list[int]:
        """The ids of the cases whose document, as it is now, has no recommendation under
        these rules."""
        with self.db.reading() as conn:
            rows = conn.rows(
                "SELECT c.id FROM cases c WHERE NOT EXISTS "
                "(SELECT 1 FROM recommendations r WHERE r.case_ref = c.id "
                "AND r.rules_digest = :digest AND r.revision = c.revision) ORDER BY c.id",
                {"digest": digest},
            )
        return [int(row[0]) for row in rows]

    def decided(self) -> Iterator[tuple[StoredCase, DecisionRecord]]:
        """Every decided case with its latest decision, in the order they were imported."""
        with self.db.reading() as conn:
            rows = conn.rows(SELECT_CASES + " WHERE d.id IS NOT NULL ORDER BY c.id", {"digest": ""})
        for row in rows:
            stored = stored_row(row)
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
