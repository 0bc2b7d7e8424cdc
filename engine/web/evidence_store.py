"""The desk's evidence records: the files of a case's evidence items (their bytes kept once per
sha256 in the database, so that every desk process on one PostgreSQL database serves them), the
pages shown of each, the attributes read from them on import, and the arbitrators' confirmations
and corrections of those readings.

Every table here only grows: the database refuses to change or remove a row (triggers of
engine.web.migrations). Writers take the caller's connection, inside the transaction that stores
the case or records the correction, so that neither is kept without the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.model import ReadAttribute, Region
from engine.web.db import Conn, Database

__all__ = [
    "Correction",
    "NewFile",
    "StoredFile",
    "StoredPage",
    "add_correction",
    "add_evidence",
    "blob",
    "corrections",
    "files",
    "reading_data",
    "reading_from",
    "reads",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPage:
    """One page of a file as shown: its size, and the sha256 of its PNG (None: the file itself,
    an image a browser shows as it is)."""

    width: int
    height: int
    sha256: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NewFile:
    """A file of an evidence item, to store with its case."""

    item: str
    name: str
    data: bytes
    sha256: str
    type: str  # sniffed from its bytes: jpg, pdf, docx, ...
    pages: tuple[tuple[StoredPage, bytes | None], ...] = ()  # each page with its PNG, if any


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredFile:
    id: int
    case_ref: int
    case_version: int  # the case's version when the file came
    item: str
    name: str
    sha256: str
    type: str
    size: int
    pages: tuple[StoredPage, ...]  # () when none can be shown (not an image, or no reader)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item": self.item,
            "name": self.name,
            "sha256": self.sha256,
            "type": self.type,
            "size": self.size,
            "case_version": self.case_version,
            "pages": [{"width": p.width, "height": p.height} for p in self.pages],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Correction:
    """An arbitrator's confirmation or correction of an attribute read from a file."""

    id: int
    case_ref: int
    case_version: int  # the version it was made on
    item: str
    attribute: str
    read_value: Any  # what was read (None: nothing was)
    read_confidence: float | None
    action: str  # confirm | correct
    value: Any  # what the case now types
    corrected_by: str
    corrected_at: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item": self.item,
            "attribute": self.attribute,
            "action": self.action,
            "value": self.value,
            "read_value": self.read_value,
            "read_confidence": self.read_confidence,
            "version": self.case_version,
            "corrected_by": self.corrected_by,
            "corrected_at": self.corrected_at,
            "reason": self.reason,
        }


def reading_data(attr: ReadAttribute) -> str:
    """A read attribute as stored: JSON, its confidence in full (whether it counts is decided
    against the rules' minimum, so it is not rounded)."""
    return json.dumps(
        {
            "name": attr.name,
            "value": attr.value,
            "confidence": attr.confidence,
            "file": attr.file,
            "extractor": attr.extractor,
            "source": attr.source,
            "region": None if attr.region is None else attr.region.as_json(),
            "note": attr.note,
            "note_args": [list(pair) for pair in attr.note_args],
        },
        ensure_ascii=False,
    )


def reading_from(text: str) -> ReadAttribute:
    data = json.loads(text)
    region = data["region"]
    return ReadAttribute(
        name=data["name"],
        value=data["value"],
        confidence=float(data["confidence"]),
        file=data["file"],
        extractor=data["extractor"],
        source=data["source"],
        region=None
        if region is None
        else Region(page=region["page"], x=region["x"], y=region["y"], width=region["w"],
                    height=region["h"]),  # fmt: skip
        note=data["note"],
        note_args=tuple((str(k), str(v)) for k, v in data["note_args"]),
    )


def _pages_json(pages: Iterable[StoredPage]) -> str:
    return json.dumps([{"width": p.width, "height": p.height, "sha256": p.sha256} for p in pages])


def _add_blob(conn: Conn, sha256: str, data: bytes) -> None:
    conn.run(
        "INSERT INTO evidence_blobs (sha256, size, data) VALUES (:sha, :size, :data) "
        "ON CONFLICT (sha256) DO NOTHING",
        {"sha": sha256, "size": len(data), "data": data},
    )


def add_evidence(
    conn: Conn,
    case_ref: int,
    *,
    case_version: int,
    new_files: Iterable[NewFile],
    new_reads: Iterable[tuple[str, ReadAttribute]],
) -> None:
    """Store a case's files (each byte string once), their pages and what was read from them
    (``(item id, attribute read)``), inside the caller's transaction."""
    for new in new_files:
        _add_blob(conn, new.sha256, new.data)
        for page, png in new.pages:
            if page.sha256 is not None and png is not None:
                _add_blob(conn, page.sha256, png)
        conn.run(
            "INSERT INTO evidence_files (case_ref, case_version, item, name, sha256, type, size, "
            "pages) VALUES (:case, :version, :item, :name, :sha, :type, :size, :pages)",
            {"case": case_ref, "version": case_version, "item": new.item, "name": new.name,
             "sha": new.sha256, "type": new.type, "size": len(new.data),
             "pages": _pages_json(page for page, _ in new.pages)},
        )  # fmt: skip
    for item, attr in new_reads:
        conn.run(
            "INSERT INTO evidence_reads (case_ref, item, attribute, reading) "
            "VALUES (:case, :item, :name, :reading)",
            {"case": case_ref, "item": item, "name": attr.name, "reading": reading_data(attr)},
        )


def add_correction(
    conn: Conn,
    case_ref: int,
    *,
    case_version: int,
    item: str,
    attribute: str,
    read: ReadAttribute | None,
    action: str,
    value: Any,
    corrected_by: str,
    corrected_at: str,
    reason: str,
) -> int:
    """Record a confirmation or correction inside the caller's transaction; its id."""
    row = conn.row(
        "INSERT INTO reading_corrections (case_ref, case_version, item, attribute, read_value, "
        "read_confidence, action, value, corrected_by, corrected_at, reason) VALUES (:case, "
        ":version, :item, :attribute, :read_value, :read_confidence, :action, :value, :by, :at, "
        ":reason) RETURNING id",
        {"case": case_ref, "version": case_version, "item": item, "attribute": attribute,
         "read_value": None if read is None else json.dumps(read.value, ensure_ascii=False),
         "read_confidence": None if read is None else read.confidence, "action": action,
         "value": json.dumps(value, ensure_ascii=False), "by": corrected_by, "at": corrected_at,
         "reason": reason},
    )  # fmt: skip
    assert row is not None
    return int(row[0])


def _pages(text: str) -> tuple[StoredPage, ...]:
    return tuple(
        StoredPage(width=int(p["width"]), height=int(p["height"]), sha256=p["sha256"])
        for p in json.loads(text)
    )


def files(db: Database, case_ref: int) -> list[StoredFile]:
    """A case's files, in the order they were stored (its evidence's order)."""
    with db.reading() as conn:
        rows = conn.rows(
            "SELECT id, case_ref, case_version, item, name, sha256, type, size, pages "
            "FROM evidence_files WHERE case_ref = :case ORDER BY id",
            {"case": case_ref},
        )
    return [
        StoredFile(id=int(r[0]), case_ref=int(r[1]), case_version=int(r[2]), item=r[3],
                   name=r[4], sha256=r[5], type=r[6], size=int(r[7]), pages=_pages(r[8]))
        for r in rows
    ]  # fmt: skip


def blob(db: Database, sha256: str) -> bytes | None:
    with db.reading() as conn:
        row = conn.row("SELECT data FROM evidence_blobs WHERE sha256 = :sha", {"sha": sha256})
    return None if row is None else bytes(row[0])


def reads(db: Database, case_ref: int) -> dict[str, tuple[ReadAttribute, ...]]:
    """What was read from each item's files on import, by item id."""
    with db.reading() as conn:
        rows = conn.rows(
            "SELECT item, reading FROM evidence_reads WHERE case_ref = :case ORDER BY id",
            {"case": case_ref},
        )
    out: dict[str, list[ReadAttribute]] = {}
    for item, text in rows:
        out.setdefault(str(item), []).append(reading_from(str(text)))
    return {item: tuple(found) for item, found in out.items()}


def corrections(db: Database, case_ref: int) -> list[Correction]:
    """A case's confirmations and corrections, oldest first."""
    with db.reading() as conn:
        rows = conn.rows(
            "SELECT id, case_ref, case_version, item, attribute, read_value, read_confidence, "
            "action, value, corrected_by, corrected_at, reason FROM reading_corrections "
            "WHERE case_ref = :case ORDER BY id",
            {"case": case_ref},
        )
    return [
        Correction(id=int(r[0]), case_ref=int(r[1]), case_version=int(r[2]), item=r[3],
                   attribute=r[4], read_value=None if r[5] is None else json.loads(r[5]),
                   read_confidence=None if r[6] is None else float(r[6]), action=r[7],
                   value=json.loads(r[8]), corrected_by=r[9], corrected_at=r[10], reason=r[11])
        for r in rows
    ]  # fmt: skip
