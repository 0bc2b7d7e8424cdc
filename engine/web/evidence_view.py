"""A case's evidence as the desk shows it: for each item, its findings (from the recommendation),
its files (images and PDF pages with the regions read from them outlined, or a download), and
each attribute its kind can read: the value, from which file and page, how sure, whether it
counts, and who confirmed or corrected it. The page (reports/web/evidence.html.j2) and the API
(``GET /v1/cases/{id}/evidence``) both show what this builds."""

from __future__ import annotations

import json
from typing import Any

from engine.evidence import read as reader
from engine.evidence.pages import BROWSER_IMAGES
from engine.evidence.sniff import agrees, file_type, suffix_of
from engine.model import ReadAttribute, Type
from engine.rules.program import Program
from engine.web.evidence_store import Correction, StoredFile

__all__ = ["evidence_view", "reading_record"]

_INLINE = (*BROWSER_IMAGES, "pdf")  # opened in the browser; anything else is downloaded


def reading_record(attr: ReadAttribute) -> dict[str, Any]:
    """A read attribute as the API shows it (ruling/1's ``read`` entries, and where)."""
    return {
        "attribute": attr.name,
        "value": attr.value,
        "file": attr.file,
        "confidence": attr.confidence,
        "extractor": attr.extractor,
        "source": attr.source,
        "region": None if attr.region is None else attr.region.as_json(),
    }


def evidence_view(
    program: Program,
    case_ref: int,
    document: dict[str, Any],
    ruling: dict[str, Any],
    files: list[StoredFile],
    reads: dict[str, tuple[ReadAttribute, ...]],
    corrections: list[Correction],
) -> list[dict[str, Any]]:
    """Each evidence item of ``document`` with its findings in ``ruling``, its ``files`` and
    what was read from them (``reads``) and corrected (``corrections``)."""
    findings = {str(e["id"]): e for e in ruling.get("evidence", [])}
    stored = {(f.item, f.name): f for f in files}
    latest: dict[tuple[str, str], Correction] = {}
    for c in corrections:
        latest[(c.item, c.attribute)] = c
    out = []
    for index, item in enumerate(document.get("evidence") or []):
        item_id = str(item["id"])
        kind = program.kind(str(item["kind"]))
        found = findings.get(item_id)
        counted = {r["attribute"]: r["counted"] for r in (found or {}).get("read", [])}
        item_reads = {r.name: r for r in reads.get(item_id, ())}
        typed = item.get("attributes") or {}
        attributes = []
        for spec in kind.extract if kind else ():
            name = spec.attribute
            type_ = kind.attribute_type(name) if kind else None
            if type_ is None:
                continue
            attributes.append(_attribute(
                name, type_, typed, item_reads.get(name), latest.get((item_id, name)),
                counted.get(name),
            ))  # fmt: skip
        named = [f.get("name", "") for f in item.get("files") or []]
        shown_files = [
            _file(case_ref, n, stored.get((item_id, n)), list(item_reads.values())) for n in named
        ]
        out.append({
            "index": index + 1,
            "id": item_id,
            "party": item.get("party"),
            "kind": item.get("kind"),
            "kind_title": None if kind is None else {"zh": kind.title.zh, "en": kind.title.en},
            "finding": None if found is None else {
                "admitted": found["admitted"], "valid": found["valid"],
                "weight": found["weight"], "unconfirmed": bool(found.get("unconfirmed")),
            },
            "files": shown_files,
            "attributes": attributes,
        })  # fmt: skip
    return out


def _shown(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _attribute(
    name: str,
    type_: Type,
    typed: dict[str, Any],
    read: ReadAttribute | None,
    correction: Correction | None,
    counted: bool | None,
) -> dict[str, Any]:
    if correction is not None:
        state = "confirmed" if correction.action == "confirm" else "corrected"
    elif name in typed:
        state = "typed"
    elif read is not None:
        state = "counted" if counted else "unsure"
    else:
        state = "not_read"
    value = typed.get(name) if name in typed else (read.value if read is not None else None)
    return {
        "name": name,
        "type": str(type_),
        "state": state,
        "value": None if value is None else _shown(value),
        "correctable": state != "typed",
        "input": _input(type_),
        "options": list(type_.values) if type_.name == "enum" else (
            ["true", "false"] if type_.name == "boolean" else []),
        "form_value": "" if value is None else _form_value(value),
        "read": None if read is None else {
            "value": _shown(read.value),
            "file": read.file,
            "percent": int(round(read.confidence * 100)),
            "counted": bool(counted) if correction is None and name not in typed else None,
            "source": read.source,
            "note": read.note,
            "note_args": dict(read.note_args),
            "page": read.region.page if read.region else None,
            "extractor": read.extractor,
        },
        "correction": None if correction is None else {
            "action": correction.action,
            "value": _shown(correction.value),
            "by": correction.corrected_by,
            "at": correction.corrected_at,
            "reason": correction.reason,
        },
    }  # fmt: skip


def _input(type_: Type) -> str:
    if type_.name in ("boolean", "enum"):
        return "select"
    return "textarea" if type_.name == "list" else "text"


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _shown(value)


def _file(
    case_ref: int, name: str, stored: StoredFile | None, reads: list[ReadAttribute]
) -> dict[str, Any]:
    if stored is None:
        return {"name": name, "stored": False}
    found = file_type(stored.type)
    url = f"/cases/{case_ref}/files/{stored.id}"
    pages = []
    for number, page in enumerate(stored.pages, 1):
        regions = [
            {"label": r.name, "x": r.region.x, "y": r.region.y, "w": r.region.width,
             "h": r.region.height}
            for r in reads
            if r.file == name and r.region is not None and r.region.page == number
        ]  # fmt: skip
        pages.append({
            "number": number, "width": page.width, "height": page.height,
            "url": f"{url}/pages/{number}", "regions": regions,
            "label_size": max(14, page.width // 45), "stroke": max(2, page.width // 400),
        })  # fmt: skip
    if pages:
        show = "pages"
    elif stored.type in BROWSER_IMAGES:
        show = "image"
    else:
        show = "download"
    return {
        "name": name,
        "stored": True,
        "id": stored.id,
        "url": url,
        "type": stored.type,
        "type_title": {"zh": found.zh, "en": found.en},
        "named_type": suffix_of(name),
        "agrees": agrees(name, found),
        "size": stored.size,
        "sha256": stored.sha256,
        "inline": stored.type in _INLINE,
        "show": show,
        "pages": pages,
        # the pages of a PDF (or TIFF) are drawn by the evidence extra's PDFium: without it
        # the page says so and offers the file
        "no_renderer": show == "download" and stored.type in ("pdf", "tiff")
        and bool(reader.missing_modules()),
    }
