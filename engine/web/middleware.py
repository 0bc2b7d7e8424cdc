"""What every request passes before a route sees it: the body size limit, who is asking (an
account's token or session, or the one-person desk's shared token), and the same-origin check
for requests that change something.

Plain ASGI middleware (no parsing of HTTP here: the server and Starlette do that). Errors are
JSON, ``{"error": {"type", "message"}}``, like every other error of the API; a browser asking for
a page without the token is sent to the login form instead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from urllib.parse import quote, urlsplit

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from engine.errors import StorageError
from engine.web.accounts import Accounts, User

__all__ = ["Auth", "BodyLimit", "SameOrigin", "SecurityHeaders", "cookie", "session_value"]

SESSION_COOKIE = "adjudicate_session"
_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


async def _send_error(
    send: Send, status: int, kind: str, message: str, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    body = json.dumps({"error": {"type": kind, "message": message}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


class BodyLimit:
    """Refuse a request body over ``limit`` bytes (``uploads`` for the upload routes, and for
    the routes of ``upload_types`` when the body has that content type: a bundle posted as a
    .zip) with 413: at once when Content-Length says so, otherwise (chunked) as soon as it has
    read that much."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        uploads: int,
        upload_paths: tuple[str, ...] = (),
        upload_types: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.app, self.limit, self.uploads, self.upload_paths = app, limit, uploads, upload_paths
        self.upload_types = upload_types

    def _upload(self, scope: Scope) -> bool:
        if scope["path"] in self.upload_paths:
            return True
        kind = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        return (scope["path"], kind) in self.upload_types

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.uploads if self._upload(scope) else self.limit
        message = f"the request body is larger than {limit} bytes"
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > limit:
                await _send_error(send, 413, "PayloadTooLarge", message)
                return
            await self.app(scope, receive, send)  # the server reads no more than it says
            return
        # no length given: read the body here, within the limit, then hand it on
        chunks: list[Message] = []
        size = 0
        while True:
            chunk = await receive()
            if chunk["type"] != "http.request":
                chunks.append(chunk)
                break
            size += len(chunk.get("body", b""))
            if size > limit:
                await _send_error(send, 413, "PayloadTooLarge", message)
                return
            chunks.append(chunk)
            if not chunk.get("more_body", False):
                break

        async def replay() -> Message:
            return chunks.pop(0) if chunks else await receive()

        await self.app(scope, replay, send)


def session_value(token: str) -> str:
    """The one-person desk's login cookie: derived from the shared token, so the token itself
    is not stored in the browser, and changing the token ends every session."""
    return hmac.new(token.encode(), b"adjudicate desk session", hashlib.sha256).hexdigest()


def cookie(scope: Scope, name: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(_header(scope, b"cookie") or "")
    except Exception:  # a malformed Cookie header carries no session
        return None
    morsel = jar.get(name)
    return None if morsel is None else morsel.value


class Auth:
    """Who is asking, on every request but ``open_paths``: ``scope["state"]["user"]``.

    With accounts (``accounts.any()``): an API token (``Authorization: Bearer adj_...``) or a
    login session's cookie names the user; nothing else gets in. Without accounts, the
    one-person desk: the shared ``token`` (bearer or its login cookie) when one is set, or
    anyone on loopback when none is; the user is then None. A page request that may not come
    in is sent to the login form; anything else gets 401."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        accounts: Accounts,
        token: str | None,
        clock: Callable[[], float],
        open_paths: tuple[str, ...] = (),
    ) -> None:
        self.app, self.accounts, self.open_paths, self.clock = app, accounts, open_paths, clock
        self._token = token.encode() if token else None
        self._session = session_value(token).encode() if token else None

    def identify(self, scope: Scope) -> tuple[bool, User | None]:
        auth = _header(scope, b"authorization") or ""
        scheme, _, credentials = auth.partition(" ")
        bearer = credentials.strip() if scheme.lower() == "bearer" else None
        session = cookie(scope, SESSION_COOKIE)
        if self.accounts.any():
            user = None
            if bearer:
                user = self.accounts.by_token(bearer)
            elif session:
                user = self.accounts.by_session(session, now=self.clock())
            return user is not None, user
        if self._token is None:
            return True, None
        if bearer is not None and hmac.compare_digest(
            bearer.encode("latin-1", "replace"), self._token
        ):
            return True, None
        assert self._session is not None
        return session is not None and hmac.compare_digest(
            session.encode("latin-1", "replace"), self._session
        ), None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            allowed, user = await anyio.to_thread.run_sync(self.identify, scope)
        except StorageError as exc:  # the accounts cannot be read: nobody can be let in
            await _send_error(send, exc.http_status, exc.error_type, str(exc))
            return
        scope.setdefault("state", {})["user"] = user
        if allowed or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        page = scope["method"] == "GET" and not scope["path"].startswith(("/v1/", "/openapi"))
        if page and "text/html" in (_header(scope, b"accept") or ""):
            target = scope["path"] + (
                "?" + scope["query_string"].decode("latin-1") if scope["query_string"] else ""
            )
            location = "/login?next=" + quote(target, safe="")
            await send(
                {
                    "type": "http.response.start",
                    "status": 303,
                    "headers": [(b"location", location.encode()), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        message = (
            "this desk needs a signed-in user: send 'Authorization: Bearer <token>' (adjudicate "
            "users token NAME) or log in at /login"
            if self.accounts.any()
            else "this desk needs a token: send 'Authorization: Bearer <token>' (the token the "
            "server was started with) or log in at /login"
        )
        await _send_error(
            send, 401, "Unauthorized", message,
            [(b"www-authenticate", b'Bearer realm="adjudicate"')],
        )  # fmt: skip


class SameOrigin:
    """A request that changes something (POST, ...) and says where it comes from (Origin)
    must come from this server's own pages: another site's form cannot record a decision
    through the arbitrator's browser. Clients that send no Origin (curl, the case system) pass."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in _UNSAFE:
            origin = _header(scope, b"origin")
            host = _header(scope, b"host")
            if origin is not None and (origin == "null" or urlsplit(origin).netloc != host):
                await _send_error(
                    send,
                    403,
                    "Forbidden",
                    f"a {scope['method']} from another origin ({origin}) is refused",
                )
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """On every answer: no content-type sniffing; no referrer sent to another site."""

    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on its own
    # form posts, which SameOrigin must refuse
    HEADERS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin"))

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {bytes(name).lower() for name, _ in message.get("headers", ())}
                extra = [(k, v) for k, v in self.HEADERS if k not in names]
                message = {**message, "headers": [*message.get("headers", ()), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
