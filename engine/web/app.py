"""The web application: the desk's pages and the HTTP API over one Program and one database.

``create_app`` builds it (FastAPI on Starlette; uvicorn serves it, see ``adjudicate serve``).
Errors are answered in one shape, ``{"error": {"type", "message", "problems"?}}``, with the
status that says whose fault it was: 422 a bad case file or decision (the located message the
CLI prints) or a case the rules cannot decide (the CLI's exit 2), 404 an unknown case, 409 a
case_id stored with other content, 401 no token, 413 a body over the limit. A page gets the same
as an HTML page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from engine.errors import AdjudicationError, Problem, UnknownCase
from engine.rules.program import Program
from engine.run.scoring import EngineName
from engine.web.api import api_router
from engine.web.desk import Desk
from engine.web.middleware import BodyLimit, SameOrigin, SecurityHeaders, TokenAuth
from engine.web.pages import page_router, render_page
from engine.web.schemas import components
from engine.web.store import Store

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_MAX_UPLOAD", "LOOPBACK_HOSTS", "create_app"]

DEFAULT_MAX_BODY = 1 << 20  # 1 MiB: a case file with its evidence is a few KiB
DEFAULT_MAX_UPLOAD = 64 << 20  # 64 MiB: an import of a folder or an archive, through a page
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
UPLOAD_PATHS = ("/import",)


def _version() -> str:
    try:
        return version("adjudicate")
    except PackageNotFoundError:  # pragma: no cover - run from a checkout without install
        return "0"


def _problem(problem: Problem) -> dict[str, str]:
    return {
        "at": str(problem.loc or ""),
        "path": problem.path,
        "message": problem.message,
        "hint": problem.hint,
    }


def _error(
    status: int, kind: str, message: str, problems: tuple[Problem, ...] = ()
) -> JSONResponse:
    error: dict[str, Any] = {"type": kind, "message": message}
    if problems:
        error["problems"] = [_problem(p) for p in problems]
    return JSONResponse({"error": error}, status_code=status)


def _wants_page(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/v1/", "/openapi")) and request.method in ("GET", "POST")


def create_app(
    program: Program,
    db_path: str | Path,
    *,
    token: str | None = None,
    engine: EngineName = "reference",
    max_body: int = DEFAULT_MAX_BODY,
    max_upload: int = DEFAULT_MAX_UPLOAD,
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS,
    clock: Callable[[], datetime] | None = None,
) -> FastAPI:
    """The desk over ``program`` with its records in the SQLite file ``db_path`` (created and
    migrated as needed). ``token``: every route but the login form needs it. ``allowed_hosts``:
    the Host names the server answers to (loopback by default, against DNS rebinding)."""
    store = Store(db_path)
    desk = Desk(program, store, engine=engine, clock=clock)
    desk.refresh()  # cases imported under other rules get a recommendation under these
    app = FastAPI(
        title="adjudicate",
        version=_version(),
        summary="Recommended rulings for Taobao/Tmall buyer-seller disputes, and the "
        "arbitrators' decisions on them",
        docs_url=None,  # the interactive docs load scripts from the network; the desk loads none
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.desk = desk
    app.state.token = token
    app.include_router(api_router(desk))
    app.include_router(page_router(desk))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(
                components(program)
            )
            if token:
                schema["components"]["securitySchemes"] = {
                    "bearer": {"type": "http", "scheme": "bearer"}
                }
                schema["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    def page_error(request: Request, status: int, message: str) -> Response:
        return render_page(desk, request, "error.html.j2", status=status, message=message)

    @app.exception_handler(AdjudicationError)
    async def refused(request: Request, exc: AdjudicationError) -> Response:
        # each error of the tree carries its status (engine.errors): 404 for an unknown case,
        # 409 for a conflict, 422 for a bad case file, body or decision, or an undecidable case
        if isinstance(exc, UnknownCase) and _wants_page(request):
            return page_error(request, exc.http_status, str(exc))
        problems = getattr(exc, "problems", ())
        return _error(exc.http_status, exc.error_type, str(exc), problems)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        lines = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()))
            lines.append(f"{where}: {error.get('msg', 'invalid')}")
        message = "\n".join(lines) or "invalid request"
        if _wants_page(request):
            return page_error(request, 422, message)
        return _error(422, "RequestError", message)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        message = str(exc.detail)
        if exc.status_code == 404:
            message = f"no such route: {request.method} {request.url.path}"
        if _wants_page(request) and exc.status_code in (404, 405):
            return page_error(request, exc.status_code, message)
        response = _error(exc.status_code, "HTTPError", message)
        for name, value in (exc.headers or {}).items():
            response.headers[name] = value
        return response

    # the last added runs first: headers on every answer, the Host check, the token (before
    # any body is read), the size limit, the origin check
    app.add_middleware(SameOrigin)
    app.add_middleware(BodyLimit, limit=max_body, uploads=max_upload, upload_paths=UPLOAD_PATHS)
    if token:
        app.add_middleware(TokenAuth, token=token, open_paths=("/login",))
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.add_middleware(SecurityHeaders)
    return app
