"""The routes of a case's evidence files: the files themselves and the pages drawn of them (for
the case page's images and the arbitrator's downloads), what was read from them, and the API's
confirmation or correction of a read attribute. The page's correction form is in
engine.web.pages, beside the case page it re-renders.

A file is served with the type its bytes showed, never the one its name claims, and with
headers that keep it inert: no sniffing (engine.web.middleware), a Content-Security-Policy that
loads nothing and runs nothing, and ``Content-Disposition: inline`` for images and PDFs only;
anything else (a Word document named .jpg) is an attachment of type
``application/octet-stream``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from engine.errors import UnknownEvidence
from engine.evidence.pages import BROWSER_IMAGES
from engine.web.accounts import require
from engine.web.api import actor, case_record, json_object
from engine.web.desk import Desk
from engine.web.evidence_store import StoredFile
from engine.web.evidence_view import reading_record

__all__ = ["FILE_CSP", "MEDIA_TYPES", "evidence_router"]

MEDIA_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "pdf": "application/pdf",
}
# a file loads nothing and runs nothing; a PDF is not sandboxed (the browser's PDF viewer
# refuses to run in a sandbox), everything else is
FILE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
_SANDBOXED = FILE_CSP + "; sandbox"

Ref = Annotated[int, Path(ge=1, le=2**62)]
Name = Annotated[str, Path(min_length=1, max_length=200)]


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _stored(desk: Desk, case_ref: int, file_ref: int) -> StoredFile:
    desk.case(case_ref)  # UnknownCase first
    for stored in desk.files(case_ref):
        if stored.id == file_ref:
            return stored
    raise UnknownEvidence(f"case {case_ref} has no stored file {file_ref}")


def _served(
    request: Request, data: bytes, ext: str, name: str, etag: str, *, download: bool
) -> Response:
    """The bytes of a file or a page with inert headers; 304 when the browser has them."""
    tag = f'"{etag}"'
    headers = {"etag": tag, "cache-control": "private, no-cache"}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    media = MEDIA_TYPES.get(ext)
    inline = media is not None and not download
    filename = quote(name.rsplit("/", 1)[-1], safe="")
    headers["content-disposition"] = (
        f"{'inline' if inline else 'attachment'}; filename*=UTF-8''{filename}"
    )
    headers["content-security-policy"] = FILE_CSP if ext == "pdf" else _SANDBOXED
    return Response(data, media_type=media if inline else "application/octet-stream",
                    headers=headers)  # fmt: skip


def evidence_router(desk: Desk) -> APIRouter:
    router = APIRouter()

    @router.get("/cases/{id}/files/{file}", include_in_schema=False)
    def file(
        request: Request,
        id: Ref,
        file: Ref,
        download: Annotated[str, Query(max_length=10)] = "",
    ) -> Response:
        require(actor(request), "view")
        stored = _stored(desk, id, file)
        data = desk.file_bytes(stored.sha256)
        if data is None:  # a foreign key: cannot happen
            raise UnknownEvidence(f"the bytes of file {file} are not on the desk")
        return _served(request, data, stored.type, stored.name, stored.sha256,
                       download=bool(download))  # fmt: skip

    @router.get("/cases/{id}/files/{file}/pages/{page}", include_in_schema=False)
    def page(request: Request, id: Ref, file: Ref, page: Ref) -> Response:
        require(actor(request), "view")
        stored = _stored(desk, id, file)
        if page > len(stored.pages):
            raise UnknownEvidence(
                f"file {file} ({stored.name}) has {len(stored.pages)} page(s) shown, not {page}"
            )
        shown = stored.pages[page - 1]
        if shown.sha256 is None and stored.type in BROWSER_IMAGES:
            sha, ext = stored.sha256, stored.type  # the image itself is its page
        elif shown.sha256 is not None:
            sha, ext = shown.sha256, "png"
        else:  # pragma: no cover - the desk stores a PNG for every other page
            raise UnknownEvidence(f"page {page} of file {file} was not drawn")
        data = desk.file_bytes(sha)
        if data is None:  # pragma: no cover - a foreign key
            raise UnknownEvidence(f"page {page} of file {file} is not on the desk")
        name = f"{stored.name}-page{page}.{ext}"
        return _served(request, data, ext, name, sha, download=False)

    @router.get(
        "/v1/cases/{id}/evidence",
        tags=["v1"],
        summary="A case's evidence files, what was read from them, and its corrections",
        responses={
            200: {"description": "the evidence",
                  "content": {"application/json": {"schema": {
                      "$ref": "#/components/schemas/Evidence"}}}},
            404: _error("no case with this id"),
        },
    )  # fmt: skip
    def evidence(request: Request, id: Ref) -> dict[str, Any]:
        require(actor(request), "view")
        desk.case(id)
        return {
            "files": [dict(f.as_dict(), url=f"/cases/{id}/files/{f.id}") for f in desk.files(id)],
            "read": {item: [reading_record(r) for r in found]
                     for item, found in desk.reads(id).items()},
            "corrections": [c.as_dict() for c in desk.corrections(id)],
        }  # fmt: skip

    @router.post(
        "/v1/cases/{id}/evidence/{item}/attributes/{name}",
        tags=["v1"],
        summary="Confirm or correct an attribute read from an evidence item's files",
        status_code=201,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {
                    "$ref": "#/components/schemas/CorrectionRequest"}}},
            }
        },
        responses={
            201: {"description": "recorded; the case re-scored",
                  "content": {"application/json": {"schema": {
                      "$ref": "#/components/schemas/CorrectionRecord"}}}},
            403: _error("the signed-in user's role may not decide (nor correct) this case"),
            404: _error("no such case, item, or attribute its kind reads from files"),
            409: _error("the case changed since the version named, or another user claimed it"),
            422: _error("a correction that cannot be recorded (each field's problem named)"),
        },
    )  # fmt: skip
    async def correct(request: Request, id: Ref, item: Name, name: Name) -> Response:
        fields = json_object(await request.body(), "correction fields")
        user = actor(request)

        def work() -> dict[str, Any]:
            correction = desk.correct(id, item, name, fields, source="body", actor=user)
            return {"correction": correction.as_dict(), "case": case_record(desk.case(id),
                                                                            desk=desk)}

        return JSONResponse(await run_in_threadpool(work), status_code=201)

    return router
