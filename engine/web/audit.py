"""The desk's audit log: who did what, when, to which case (logins, imports, report views,
claims, decisions, accounts). Rows are only ever added: the database refuses to change or
remove one (triggers of engine.web.migrations). An entry is written in the same transaction
as what it records, so neither is kept without the other."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.web.db import Conn, Database

__all__ = ["AuditEntry", "read_log", "record"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    id: int
    at: str
    actor: str | None
    action: str
    case_ref: int | None
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "at": self.at, "actor": self.actor, "action": self.action,
                "case": self.case_ref, "detail": self.detail}  # fmt: skip


def record(
    conn: Conn,
    *,
    at: str,
    actor: str | None,
    action: str,
    case_ref: int | None,
    detail: dict[str, Any],
) -> None:
    """Add an entry, inside the caller's transaction."""
    conn.run(
        "INSERT INTO audit (at, actor, action, case_ref, detail) "
        "VALUES (:at, :actor, :action, :case_ref, :detail)",
        {"at": at, "actor": actor, "action": action, "case_ref": case_ref,
         "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True)},
    )  # fmt: skip


def read_log(
    db: Database, *, case_ref: int | None = None, limit: int = 100, offset: int = 0
) -> tuple[list[AuditEntry], int]:
    """Entries newest first (one case's, when given), and how many in all."""
    where = "WHERE case_ref = :case_ref" if case_ref is not None else ""
    params = {"case_ref": case_ref, "limit": limit, "offset": offset}
    with db.reading() as conn:
        rows = conn.rows(
            f"SELECT id, at, actor, action, case_ref, detail FROM audit {where} "
            "ORDER BY id DESC LIMIT :limit OFFSET :offset",
            params,
        )
        total = conn.row(f"SELECT count(*) FROM audit {where}", params)
    entries = [
        AuditEntry(id=int(r[0]), at=r[1], actor=r[2], action=r[3],
                   case_ref=None if r[4] is None else int(r[4]), detail=json.loads(r[5]))
        for r in rows
    ]  # fmt: skip
    return entries, int(total[0]) if total else 0
