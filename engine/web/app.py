"""The web application: the desk's pages and the HTTP API over one Program and one database.

``create_app`` builds it (FastAPI on Starlette; uvicorn serves it, see ``adjudicate serve``).
Errors are answered in one shape, ``{"error": {"type", "message", "problems"?}}``, with the
status that says whose fault it was: 422 a bad case file or decision (the located message the
CLI prints) or a case the rules cannot decide (the CLI's exit 2), 404 an unknown case, 409 a
case_id stored with other content or a stale decision (with the decision in force), 401 no
user or token, 403 a role that may not, 413 a body over the limit, 429 too many failed logins,
503 a database that cannot be written (nothing recorded). A page gets the same as an HTML page.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
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

from engine.errors import (
    AccessDenied,
    AccountError,
    AdjudicationError,
    Problem,
    StaleDecision,
    StorageError,
    TooManyAttempts,
    UnknownCase,
    UnknownEvidence,
)
from engine.rules.program import Program
from engine.run.scoring import EngineName
from engine.web.accounts import Accounts, Limits
from engine.web.api import api_router
from engine.web.db import Database
from engine.web.desk import Desk
from engine.web.evidence_routes import evidence_router
from engine.web.middleware import Auth, BodyLimit, SameOrigin, SecurityHeaders
from engine.web.migrations import schema_version
from engine.web.pages import page_router, render_page
from engine.web.schemas import components
from engine.web.store import Store

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_MAX_UPLOAD", "LOOPBACK_HOSTS", "create_app"]

DEFAULT_MAX_BODY = 1 << 20  # 1 MiB: a case file with its evidence is a few KiB
DEFAULT_MAX_UPLOAD = 64 << 20  # 64 MiB: an import of a folder or an archive, through a page
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
UPLOAD_PATHS = ("/import",)
UPLOAD_TYPES = (("/v1/cases", "application/zip"),)  # a bundle posted to the API
OPEN_PATHS = ("/login", "/health")  # answered without a user


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
    status: int,
    kind: str,
    message: str,
    problems: tuple[Problem, ...] = (),
    **extra: Any,
) -> JSONResponse:
    error: dict[str, Any] = {"type": kind, "message": message}
    if problems:
        error["problems"] = [_problem(p) for p in problems]
    error.update(extra)
    return JSONResponse({"error": error}, status_code=status)


def _wants_page(request: Request) -> bool:
    path = request.url.path
    return not path.startswith(("/v1/", "/openapi")) and request.method in ("GET", "POST")


def create_app(
    program: Program,
    db: str | Path | Database,
    *,
    token: str | None = None,
    engine: EngineName = "reference",
    max_body: int = DEFAULT_MAX_BODY,
    max_upload: int = DEFAULT_MAX_UPLOAD,
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS,
    clock: Callable[[], datetime] | None = None,
    limits: Limits | None = None,
    trust_proxy: bool = False,
) -> FastAPI:
    """The desk over ``program`` with its records in ``db`` (a SQLite file's path or a
    ``postgresql://`` URL; created and migrated as needed; StorageError when it cannot be
    written). With accounts in the database everyone logs in as a user; without, ``token`` (the
    one-person desk's shared token) guards every route but the login form. ``allowed_hosts``:
    the Host names the server answers to (loopback by default, against DNS rebinding).
    ``trust_proxy``: a proxy in front says (X-Forwarded-Proto, X-Forwarded-For) whether the
    browser used https and from where."""
    store = Store(db)
    try:
        store.db.check_writable()
        accounts = Accounts(store.db, limits)
        if token and accounts.any():
            raise AccountError(
                "this desk has accounts: everyone logs in as a user, and API clients use "
                "their own token (adjudicate users token NAME); --token is for a one-person "
                "desk without accounts"
            )
        desk = Desk(program, store, engine=engine, clock=clock, accounts=accounts)
        desk.refresh()  # cases imported under other rules get a recommendation under these
    except BaseException:
        store.close()
        raise

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        store.close()

    app = FastAPI(
        title="adjudicate",
        version=_version(),
        summary="Recommended rulings for Taobao/Tmall buyer-seller disputes, and the "
        "arbitrators' decisions on them",
        docs_url=None,  # the interactive docs load scripts from the network; the desk loads none
        redoc_url=None,
        openapi_url="/openapi.json",
        lifespan=lifespan,
    )
    app.state.desk = desk
    app.state.token = token
    app.state.trust_proxy = trust_proxy

    @app.get("/health", include_in_schema=False)
    def health() -> JSONResponse:
        """Open to anyone (a load balancer's probe): the database answers, and what it is."""
        try:
            with store.db.reading() as conn:
                version = schema_version(conn)
        except StorageError as exc:
            return _error(503, exc.error_type, str(exc))
        return JSONResponse(
            {"status": "ok", "database": store.db.dialect, "schema": version,
             "rules": program.digest}
        )  # fmt: skip

    app.include_router(api_router(desk))
    app.include_router(evidence_router(desk))
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
            if token or accounts.any():
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
        # 409 for a conflict, 422 for a bad case file, body or decision, or an undecidable case,
        # 403 a role that may not, 429 too many logins, 503 a database that cannot be written
        page_errors = UnknownCase | UnknownEvidence | AccessDenied | StorageError
        if isinstance(exc, page_errors) and _wants_page(request):
            return page_error(request, exc.http_status, str(exc))
        problems = getattr(exc, "problems", ())
        response = _error(exc.http_status, exc.error_type, str(exc), problems)
        if isinstance(exc, StaleDecision):
            response = _error(exc.http_status, exc.error_type, str(exc), problems,
                              current=exc.current)  # fmt: skip
        if isinstance(exc, TooManyAttempts):
            response.headers["retry-after"] = str(exc.retry_after)
        return response

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
    app.add_middleware(BodyLimit, limit=max_body, uploads=max_upload, upload_paths=UPLOAD_PATHS,
                       upload_types=UPLOAD_TYPES)  # fmt: skip
    app.add_middleware(
        Auth, accounts=accounts, token=token, clock=desk.epoch, open_paths=OPEN_PATHS
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.add_middleware(SecurityHeaders)
    return app
