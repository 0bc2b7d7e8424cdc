"""The desk's records in SQLite: cases as imported, recommendations, arbitrators' decisions.

One database file in WAL mode; every write is a transaction, so nothing committed is lost when
the server stops. The schema is the list ``MIGRATIONS``: a database records in ``user_version``
how many of them it has applied, and opening it applies the rest, each in its own transaction.
A database written by a newer version (more migrations than this code knows) is refused.

A case is stored once per ``case_id``, as its casefile/1 document (JSON). A recommendation is the
ruling/1 of a case under one set of rules (one per rules digest). A decision is immutable: who
decided, when, the ruling and amounts, the reason, and the recommendation it replaced; a case's
status comes from its latest decision.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from engine.cases.dump import decision_data
from engine.errors import CaseConflict, SchemaTooNew
from engine.model import Decision
from engine.policytools.agreement import Comparison

__all__ = [
    "MIGRATIONS",
    "STATUSES",
    "DecisionRecord",
    "Recommendation",
    "Store",
    "StoredCase",
]

STATUSES = ("pending", "accepted", "overridden")

MIGRATIONS: tuple[tuple[str, str], ...] = (
    (
        "cases, recommendations and decisions",
        """
        CREATE TABLE cases (
            id INTEGER PRIMARY KEY,
            case_id TEXT NOT NULL UNIQUE,
            platform TEXT NOT NULL,
            dispute_type TEXT NOT NULL,
            claimed_amount TEXT NOT NULL,
            document TEXT NOT NULL,           -- casefile/1 as JSON, as imported
            source TEXT NOT NULL,             -- the file (and line) or request it came from
            imported_at TEXT NOT NULL
        );
        CREATE TABLE recommendations (
            id INTEGER PRIMARY KEY,
            case_ref INTEGER NOT NULL REFERENCES cases(id),
            rules_name TEXT NOT NULL,
            rules_version TEXT NOT NULL,
            rules_digest TEXT NOT NULL,
            engine TEXT NOT NULL,
            ruling TEXT NOT NULL,
            deciding_rule TEXT NOT NULL,      -- the outcome rule (not in ruling/1)
            refund_amount TEXT NOT NULL,
            compensation_amount TEXT NOT NULL,
            ruling_json TEXT NOT NULL,        -- ruling/1
            scored_at TEXT NOT NULL,
            UNIQUE (case_ref, rules_digest)
        );
        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY,
            case_ref INTEGER NOT NULL REFERENCES cases(id),
            recommendation_ref INTEGER NOT NULL REFERENCES recommendations(id),
            decided_by TEXT NOT NULL,
            decided_at TEXT NOT NULL,
            ruling TEXT NOT NULL,
            refund_amount TEXT NOT NULL,
            compensation_amount TEXT NOT NULL,
            reason TEXT NOT NULL,
            accepted INTEGER NOT NULL CHECK (accepted IN (0, 1))
        );
        """,
    ),
    (
        "indexes for the queue's filters and a case's decisions",
        """
        CREATE INDEX cases_by_dispute_type ON cases (dispute_type);
        CREATE INDEX recommendations_by_ruling ON recommendations (rules_digest, ruling);
        CREATE INDEX decisions_by_case ON decisions (case_ref, id);
        """,
    ),
)


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
    "c.imported_at"
)
_SELECT = f"""
    SELECT {_CASE}, {_REC.format(p="r")}, {_DEC}, {_REC.format(p="dr")}
    FROM cases c
    LEFT JOIN recommendations r ON r.case_ref = c.id AND r.rules_digest = :digest
    LEFT JOIN decisions d ON d.id = (SELECT max(id) FROM decisions WHERE case_ref = c.id)
    LEFT JOIN recommendations dr ON dr.id = d.recommendation_ref
"""
_FILTERS = """
    WHERE (:case_ref IS NULL OR c.id = :case_ref)
      AND (:case_id IS NULL OR c.case_id = :case_id)
      AND (:dispute_type IS NULL OR c.dispute_type = :dispute_type)
      AND (:ruling IS NULL OR r.ruling = :ruling)
      AND (:status IS NULL
           OR (:status = 'pending' AND d.id IS NULL)
           OR (:status = 'accepted' AND d.accepted = 1)
           OR (:status = 'overridden' AND d.accepted = 0))
"""


def _recommendation(row: sqlite3.Row | tuple[Any, ...], at: int) -> Recommendation | None:
    if row[at] is None:
        return None
    return Recommendation(
        id=row[at],
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
        id=row[at],
        case_ref=row[at + 1],
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
    rec_at, dec_at = 8, 19
    replaced_at = dec_at + 9
    decision = None
    if row[dec_at] is not None:
        decision = _decision(row, dec_at, _recommendation(row, replaced_at))
    return StoredCase(
        id=row[0],
        case_id=row[1],
        platform=row[2],
        dispute_type=row[3],
        claimed_amount=Decimal(row[4]),
        document=row[5],
        source=row[6],
        imported_at=row[7],
        recommendation=_recommendation(row, rec_at),
        decision=decision,
    )


def _text(amount: Decimal) -> str:
    return format(amount, "f")


class Store:
    """The desk's database. Cheap to share between threads: each call opens its own
    connection (SQLite serialises writers; readers do not wait for them in WAL mode)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode = WAL")
            migrate(conn)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=10.0, isolation_level=None)) as conn:
            conn.execute("PRAGMA foreign_keys = ON")
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # ------------------------------------------------------------------ writing

    def add_case(
        self,
        *,
        case_id: str,
        platform: str,
        dispute_type: str,
        claimed_amount: Decimal,
        document: str,
        source: str,
        imported_at: str,
    ) -> tuple[int, bool]:
        """Store a case; (its id, True) when new, (its id, False) when the same document was
        already stored. Raises CaseConflict when the case_id is stored with another document."""
        with self._transaction() as conn:
            found = conn.execute(
                "SELECT id, document FROM cases WHERE case_id = ?", (case_id,)
            ).fetchone()
            if found is not None:
                if json.loads(found[1]) != json.loads(document):
                    raise CaseConflict(case_id, found[0])
                return found[0], False
            cursor = conn.execute(
                "INSERT INTO cases (case_id, platform, dispute_type, claimed_amount, document, "
                "source, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (case_id, platform, dispute_type, _text(claimed_amount), document, source,
                 imported_at),
            )  # fmt: skip
            assert cursor.lastrowid is not None
            return cursor.lastrowid, True

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
        rules = ruling["rules"]
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO recommendations (case_ref, rules_name, rules_version, "
                "rules_digest, engine, ruling, deciding_rule, refund_amount, compensation_amount, "
                "ruling_json, scored_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    case_ref, rules["name"], rules["version"], rules["digest"], engine,
                    ruling["ruling"], deciding_rule, str(Decimal(str(ruling["refund_amount"]))),
                    str(Decimal(str(ruling["compensation_amount"]))),
                    json.dumps(ruling, ensure_ascii=False), scored_at,
                ),
            )  # fmt: skip
            row = conn.execute(
                "SELECT id FROM recommendations WHERE case_ref = ? AND rules_digest = ?",
                (case_ref, rules["digest"]),
            ).fetchone()
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
    ) -> int:
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO decisions (case_ref, recommendation_ref, decided_by, decided_at, "
                "ruling, refund_amount, compensation_amount, reason, accepted) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (case_ref, recommendation_ref, decided_by, decided_at, ruling,
                 _text(refund_amount), _text(compensation_amount), reason, int(accepted)),
            )  # fmt: skip
            assert cursor.lastrowid is not None
            return cursor.lastrowid

    # ------------------------------------------------------------------ reading

    def cases(
        self,
        digest: str,
        *,
        dispute_type: str | None = None,
        ruling: str | None = None,
        status: str | None = None,
        case_id: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[StoredCase], int]:
        """A page of cases, newest first, with their recommendation under the rules whose
        digest is given and their latest decision; and how many match in all."""
        params = {
            "digest": digest, "case_ref": None, "case_id": case_id,
            "dispute_type": dispute_type, "ruling": ruling, "status": status,
            "limit": limit, "offset": offset,
        }  # fmt: skip
        with self._connect() as conn:
            rows = conn.execute(
                _SELECT + _FILTERS + " ORDER BY c.id DESC LIMIT :limit OFFSET :offset", params
            ).fetchall()
            total = conn.execute(
                "SELECT count(*) FROM (" + _SELECT + _FILTERS + ")", params
            ).fetchone()[0]
        return [_stored(row) for row in rows], int(total)

    def case(self, case_ref: int, digest: str) -> StoredCase | None:
        params = {
            "digest": digest, "case_ref": case_ref, "case_id": None, "dispute_type": None,
            "ruling": None, "status": None,
        }  # fmt: skip
        with self._connect() as conn:
            row = conn.execute(_SELECT + _FILTERS, params).fetchone()
        return None if row is None else _stored(row)

    def decisions(self, case_ref: int) -> list[DecisionRecord]:
        """Every decision on a case, oldest first."""
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_DEC}, {_REC.format(p='dr')} FROM decisions d "
                "JOIN recommendations dr ON dr.id = d.recommendation_ref "
                "WHERE d.case_ref = ? ORDER BY d.id",
                (case_ref,),
            ).fetchall()
        return [_decision(row, 0, _recommendation(row, 9)) for row in rows]

    def unscored(self, digest: str) -> list[tuple[int, str, str]]:
        """(id, document, source) of the cases without a recommendation under these rules."""
        with self._connect() as conn:
            rows = conn.execute(
                "SELECT c.id, c.document, c.source FROM cases c WHERE NOT EXISTS "
                "(SELECT 1 FROM recommendations r WHERE r.case_ref = c.id AND r.rules_digest = ?) "
                "ORDER BY c.id",
                (digest,),
            ).fetchall()
        return [(int(row[0]), str(row[1]), str(row[2])) for row in rows]

    def decided(self) -> Iterator[tuple[StoredCase, DecisionRecord]]:
        """Every decided case with its latest decision, in the order they were imported."""
        params = {
            "digest": "", "case_ref": None, "case_id": None, "dispute_type": None,
            "ruling": None, "status": None,
        }  # fmt: skip
        with self._connect() as conn:
            rows = conn.execute(
                _SELECT + _FILTERS + " AND d.id IS NOT NULL ORDER BY c.id", params
            ).fetchall()
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
        to its latest decision; ``adjudicate score`` and ``load_cases`` read it back. Returns
        the number of lines."""
        count = 0
        for stored, decision in self.decided():
            document = stored.data()
            document["decision"] = decision_data(
                Decision(
                    ruling=decision.ruling,
                    refund_amount=decision.refund_amount,
                    compensation_amount=decision.compensation_amount,
                    decided_at=datetime.fromisoformat(decision.decided_at),
                )
            )
            out.write(json.dumps(document, ensure_ascii=False) + "\n")
            count += 1
        return count


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, upto: int | None = None) -> int:
    """Apply the migrations the database lacks (up to ``upto``); returns its version."""
    target = len(MIGRATIONS) if upto is None else upto
    version = schema_version(conn)
    if version > len(MIGRATIONS):
        raise SchemaTooNew(
            f"the database has schema version {version}, newer than this adjudicate knows "
            f"({len(MIGRATIONS)}): open it with the version that wrote it, or a newer one"
        )
    for number in range(version + 1, target + 1):
        _title, script = MIGRATIONS[number - 1]
        # executescript commits first; the migration and its version number commit together
        conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    return schema_version(conn)
