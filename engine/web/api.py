"""The HTTP API, version 1: score a case file, keep cases and record decisions, over the desk.

Bodies are casefile/1 documents (JSON, or YAML with a YAML content type) checked by
engine.cases.load, so a bad one gets the same located message as ``adjudicate score`` (422).
Routes are thin: each reads its input, calls the desk, and writes JSON.
"""

from __future__ import annotations

import io
import unicodedata
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.cases.text import SURROGATE_HINT, load_json, lone_surrogates
from engine.errors import BodyError, CaseFileError
from engine.evidence.bundle import open_zip_data
from engine.explain.context import AUDIENCES
from engine.model import SourceLoc
from engine.ruling import RULINGS, ruling_json
from engine.web.accounts import User, require
from engine.web.desk import Desk
from engine.web.store import STATUSES, StoredCase

__all__ = [
    "YAML_TYPES",
    "ZIP_TYPE",
    "actor",
    "api_router",
    "body_format",
    "case_record",
    "due_record",
    "json_object",
]

YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
ZIP_TYPE = "application/zip"


def _ref(name: str) -> dict[str, Any]:
    return {"schema": {"$ref": f"#/components/schemas/{name}"}}


def _error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": _ref("Error")}}


_CASE_CONTENT = {"application/json": _ref("CaseFile"), "application/yaml": _ref("CaseFile")}
_CASE_BODY = {"requestBody": {"required": True, "content": _CASE_CONTENT}}
_BUNDLE = {
    "application/zip": {
        "schema": {"type": "string", "format": "binary"},
        "description": "a bundle: a .zip with case.yaml and the files its evidence names",
    }
}
_CASE_OR_BUNDLE = {
    "requestBody": {
        "required": True,
        "content": {**_CASE_CONTENT, **_BUNDLE},
    }
}
_BAD_CASE = _error(
    "a case file that breaks casefile/1, located like the command line's errors; or a case the "
    "rules cannot decide (EngineError)"
)
_NOT_FOUND = _error("no case with this id")
_FORBIDDEN = _error("the signed-in user's role may not do this (or the desk has no accounts)")


def body_format(request: Request) -> Literal["yaml", "json"]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return "yaml" if content_type in YAML_TYPES else "json"


def actor(request: Request) -> User | None:
    """The signed-in user (engine.web.middleware.Auth); None on a desk without accounts."""
    user: User | None = getattr(request.state, "user", None)
    return user


def due_record(desk: Desk, stored: StoredCase) -> list[dict[str, Any]]:
    """The case's deadlines in working days, as the API and the queue show them."""
    today = desk.today()
    return [
        {
            "level": d.level,
            "title": {"zh": d.title.zh, "en": d.title.en},
            "from": d.start.isoformat(),
            "days": d.days,
            "due": d.due.isoformat(),
            "target_days": d.target_days,
            "target": d.target.isoformat() if d.target else None,
            "estimated": d.estimated,
            "overdue": stored.status == "pending" and today > d.due,
        }
        for d in desk.due(stored)
    ]


def case_record(
    stored: StoredCase, *, full: bool = False, decisions: Any = (), desk: Desk | None = None
) -> dict[str, Any]:
    """A case on the desk as the API shows it; ``full`` adds the document and every decision;
    with ``desk``, its deadlines."""
    rec = stored.recommendation
    out: dict[str, Any] = {
        "id": stored.id,
        "case_id": stored.case_id,
        "platform": stored.platform,
        "dispute_type": stored.dispute_type,
        "status": stored.status,
        "version": stored.version,
        "claimed_by": stored.claimed_by,
        "source": stored.source,
        "imported_at": stored.imported_at,
        "recommendation": rec.as_dict() if rec else None,
        "decision": stored.decision.as_dict() if stored.decision else None,
    }
    if desk is not None:
        out["due"] = due_record(desk, stored)
    if full:
        out["case"] = stored.data()
        out["decisions"] = [d.as_dict() for d in decisions]
    return out


def api_router(desk: Desk) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["v1"])

    @router.post(
        "/score",
        summary="Score a case file: its ruling/1, or its report",
        openapi_extra=_CASE_BODY,
        responses={
            200: {
                "description": "the ruling (ruling/1), or the report asked for with ?report=",
                "content": {
                    "application/json": _ref("Ruling"),
                    "text/html": {"schema": {"type": "string"}},
                    "text/markdown": {"schema": {"type": "string"}},
                },
            },
            422: _BAD_CASE,
        },
    )
    async def score(
        request: Request,
        report: Annotated[
            Literal["html", "md"] | None, Query(description="return this report instead")
        ] = None,
        lang: Annotated[Literal["zh", "en"], Query(description="language of the report")] = "zh",
        audience: Annotated[
            Literal["arbitrator", "buyer", "seller"], Query(description="who the report is for")
        ] = "arbitrator",
        source: Annotated[
            str,
            Query(
                min_length=1,
                max_length=200,
                description="the document's name in error messages, e.g. its file name",
            ),
        ] = "body",
    ) -> Response:
        assert audience in AUDIENCES
        raw, fmt = await request.body(), body_format(request)

        user = actor(request)

        def work() -> str:
            scored = desk.score(desk.parse(raw, source=source, fmt=fmt))
            if report is None:
                return ruling_json(scored.ruling)
            desk.audit(user, "view_report", case_id=scored.ruling.case_id, source=source,
                       format=report, audience=audience)  # fmt: skip
            return desk.report(scored, fmt=report, lang=lang, audience=audience)

        text = await run_in_threadpool(work)
        if report is None:
            return Response(text, media_type="application/json")
        media = "text/html" if report == "html" else "text/markdown"
        return Response(text, media_type=f"{media}; charset=utf-8")

    @router.post(
        "/cases",
        summary="Put a case on the desk (a case file, or a bundle as a .zip): scored and stored, "
        "pending a decision",
        status_code=201,
        openapi_extra=_CASE_OR_BUNDLE,
        responses={
            201: {"description": "stored", "content": {"application/json": _ref("CaseRecord")}},
            200: {
                "description": "the same case was already stored",
                "content": {"application/json": _ref("CaseRecord")},
            },
            403: _FORBIDDEN,
            409: _error("a case with this case_id is stored with other content"),
            422: _BAD_CASE,
        },
    )
    async def add_case(
        request: Request,
        source: Annotated[
            str, Query(min_length=1, max_length=200, description="the document's name")
        ] = "body",
    ) -> Response:
        raw, fmt = await request.body(), body_format(request)
        user = actor(request)
        _source_ok(source)
        bundle = request.headers.get("content-type", "").split(";")[0].strip() == ZIP_TYPE

        def work() -> tuple[dict[str, Any], bool]:
            require(user, "import")
            if bundle:
                imported = desk.add_bundle(open_zip_data(raw, source), user)
            else:
                imported = desk.add(desk.parse(raw, source=source, fmt=fmt), source=source,
                                    actor=user)  # fmt: skip
            return case_record(desk.case(imported.id), desk=desk), imported.created

        record, created = await run_in_threadpool(work)
        return JSONResponse(
            record,
            status_code=201 if created else 200,
            headers={"location": f"/v1/cases/{record['id']}"},
        )

    @router.get(
        "/cases",
        summary="Cases on the desk, newest first, with filters",
        responses={
            200: {"description": "a page", "content": {"application/json": _ref("CaseList")}}
        },
    )
    def list_cases(
        request: Request,
        dispute_type: Annotated[str | None, Query(max_length=200)] = None,
        ruling: Annotated[Literal[RULINGS] | None, Query()] = None,  # type: ignore[valid-type]
        status: Annotated[Literal[STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
        case_id: Annotated[str | None, Query(max_length=200)] = None,
        claimed_by: Annotated[str | None, Query(max_length=200)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    ) -> dict[str, Any]:
        require(actor(request), "view")
        cases, total = desk.store.cases(
            desk.digest,
            dispute_type=dispute_type,
            ruling=ruling,
            status=status,
            case_id=case_id,
            claimed_by=claimed_by,
            limit=limit,
            offset=offset,
        )
        return {"total": total, "cases": [case_record(c, desk=desk) for c in cases]}

    @router.get(
        "/cases/{id}",
        summary="One case: the document, the recommendation and every decision",
        responses={
            200: {"description": "the case", "content": {"application/json": _ref("CaseRecord")}},
            404: _NOT_FOUND,
        },
    )
    def get_case(request: Request, id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
        require(actor(request), "view")
        stored = desk.case(id)
        return case_record(stored, full=True, decisions=desk.store.decisions(id), desk=desk)

    @router.post(
        "/cases/{id}/decision",
        summary="Record the arbitrator's decision: accept or override the recommendation",
        status_code=201,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": _ref("DecisionRequest")},
            }
        },
        responses={
            201: {"description": "recorded", "content": {"application/json": _ref("Decision")}},
            403: _error("the signed-in user's role may not decide this case (an appeal takes a "
                        "senior who did not decide the first ruling)"),
            404: _NOT_FOUND,
            409: _error("the case changed since the version named (error.current: the decision "
                        "in force), or another user has claimed it"),
            422: _error("a decision that cannot be recorded (each field's problem named)"),
        },
    )
    async def decide(request: Request, id: Annotated[int, Path(ge=1, le=2**62)]) -> Response:
        fields = json_object(await request.body())
        decision = await run_in_threadpool(
            lambda: desk.decide(id, fields, source="body", actor=actor(request))
        )
        return JSONResponse(decision.as_dict(), status_code=201)

    @router.post(
        "/cases/{id}/claim",
        summary="Claim a case: one arbitrator works on it; another's decision is refused",
        responses={
            200: {"description": "claimed", "content": {"application/json": _ref("Claim")}},
            403: _FORBIDDEN,
            404: _NOT_FOUND,
            409: _error("another user has claimed the case"),
        },
    )
    def claim(request: Request, id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
        return {"id": id, "claimed_by": desk.claim(id, actor(request))}

    @router.post(
        "/cases/{id}/release",
        summary="Release a claim (your own; a senior or an admin may release anyone's)",
        responses={
            200: {"description": "released", "content": {"application/json": _ref("Claim")}},
            403: _FORBIDDEN,
            404: _NOT_FOUND,
        },
    )
    def release(request: Request, id: Annotated[int, Path(ge=1, le=2**62)]) -> dict[str, Any]:
        desk.release(id, actor(request))
        return {"id": id, "claimed_by": desk.case(id).claimed_by}

    @router.get(
        "/me",
        summary="The signed-in user (null on a desk without accounts)",
        responses={200: {"description": "who", "content": {"application/json": _ref("Me")}}},
    )
    def me(request: Request) -> dict[str, Any]:
        user = actor(request)
        return {"user": None if user is None else {"name": user.name, "role": user.role}}

    @router.get(
        "/audit",
        summary="The audit log, newest first: logins, imports, report views, claims, decisions",
        responses={
            200: {"description": "entries", "content": {"application/json": _ref("AuditLog")}},
            403: _error("only an admin reads the audit log"),
        },
    )
    def audit(
        request: Request,
        case: Annotated[int | None, Query(ge=1, le=2**62)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
    ) -> dict[str, Any]:
        require(actor(request), "audit")
        entries, total = desk.store.audit_log(case_ref=case, limit=limit, offset=offset)
        return {"total": total, "entries": [e.as_dict() for e in entries]}

    @router.get(
        "/rules",
        summary="The rules this server scores with",
        responses={200: {"description": "rules", "content": {"application/json": _ref("Rules")}}},
    )
    def rules() -> dict[str, Any]:
        return desk.rules()

    @router.get(
        "/decisions/export",
        summary="Decided cases as JSON Lines: casefile/1 with the decision filled in",
        responses={
            200: {
                "description": "one casefile/1 document a line",
                "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
            },
            403: _FORBIDDEN,
        },
    )
    def export(request: Request) -> Response:
        out = io.StringIO()
        desk.export_decisions(out, actor(request))
        return Response(
            out.getvalue(),
            media_type="application/x-ndjson",
            headers={"content-disposition": 'attachment; filename="decisions.jsonl"'},
        )

    return router


def json_object(raw: bytes, what: str = "decision fields") -> dict[str, Any]:
    """A decision's (or a correction's) body: a JSON object of ``what``, refused (located, 422)
    like a case body when it repeats a key or holds a lone surrogate; its texts are checked for
    control and direction characters by the desk."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BodyError(f"body: not UTF-8 text: byte {exc.start + 1} cannot be decoded") from exc
    try:
        data = load_json(text, "body", SourceLoc(path="body"))
    except CaseFileError as exc:
        raise BodyError(str(exc)) from None
    found = lone_surrogates(text, data)
    if found:
        path, _where, _at = found[0]
        raise BodyError(
            f"body: {'.'.join(map(str, path)) or 'a field'}: the text holds a lone surrogate, "
            f"which is not a character\n    {SURROGATE_HINT}"
        )
    if not isinstance(data, dict):
        raise BodyError(f"body: expected a JSON object of {what}")
    return data


def _source_ok(source: str) -> None:
    """``?source=`` names a document in messages: visible characters only."""
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in source):
        raise BodyError("source: control or invisible characters are not allowed in a name")
