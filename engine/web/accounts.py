"""Who works at the desk: accounts with a role, API tokens, login sessions, failed logins.

Passwords are kept as argon2id hashes (argon2-cffi), API tokens and session ids as SHA-256
digests: the database never holds anything that logs in by itself. A session lasts
``session_seconds`` from login and ends at logout. Failed logins are counted per name and per
client address over ``window`` seconds; past the limits a login is refused (TooManyAttempts)
before the password is even checked, in every desk process sharing the database.

Roles (``ROLES``) and what each may do (``PERMISSIONS``) are the desk's, not the policy's:
arbitrators decide first rulings, seniors also decide appeals, policy staff read, admins read
and see the audit log. ``adjudicate users`` manages accounts from the command line.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import unicodedata
from dataclasses import dataclass

from engine.errors import AccessDenied, AccountError, TooManyAttempts
from engine.web.db import Database

__all__ = [
    "PERMISSIONS",
    "ROLES",
    "Accounts",
    "Limits",
    "User",
    "require",
]

ROLES = ("arbitrator", "senior", "policy", "admin")
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "view": ROLES,
    "import": ("arbitrator", "senior", "admin"),
    "claim": ("arbitrator", "senior"),
    "decide": ("arbitrator", "senior"),
    "decide_appeal": ("senior",),  # seed 004: 高级客服团队将复核案件
    "release_any": ("senior", "admin"),
    "export": ("senior", "policy", "admin"),
    "audit": ("admin",),
}
_DOING = {
    "import": "import cases",
    "claim": "claim cases",
    "decide": "record decisions",
    "decide_appeal": "decide an appeal",
    "release_any": "release another user's claim",
    "export": "export the decisions",
    "audit": "read the audit log",
    "view": "use the desk",
}
_NAME = re.compile(r"[^\s/\\:@]{1,64}")
MIN_PASSWORD = 10
TOKEN_PREFIX = "adj_"


@dataclass(frozen=True, slots=True, kw_only=True)
class User:
    id: int
    name: str
    role: str

    def may(self, permission: str) -> bool:
        return self.role in PERMISSIONS[permission]


def require(user: User | None, permission: str) -> None:
    """AccessDenied unless ``user`` may do it; ``None`` is the one-person desk (no accounts),
    which may do everything."""
    if user is not None and not user.may(permission):
        allowed = " or ".join(PERMISSIONS[permission])
        raise AccessDenied(
            f"{user.name} ({user.role}) may not {_DOING[permission]}: that takes the role "
            f"{allowed}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    session_seconds: int = 12 * 3600
    window: int = 900  # failed logins are counted over this many seconds (a quarter hour)
    per_name: int = 5
    per_client: int = 25


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class Accounts:
    def __init__(self, db: Database, limits: Limits | None = None) -> None:
        from argon2 import PasswordHasher

        self.db = db
        self.limits = limits or Limits()
        self._hasher = PasswordHasher()
        # a hash to check against when the name is unknown: the answer takes as long
        self._dummy = self._hasher.hash(secrets.token_hex(16))
        self._known = False

    # ------------------------------------------------------------------ accounts

    def any(self) -> bool:
        """Whether the desk has accounts (then everyone logs in). Once true, always true."""
        if not self._known:
            with self.db.reading() as conn:
                self._known = conn.row("SELECT 1 FROM users LIMIT 1") is not None
        return self._known

    def add(self, name: str, role: str, password: str, *, now: float | None = None) -> User:
        problems = []
        if not _NAME.fullmatch(name) or any(
            unicodedata.category(ch) in ("Cc", "Cf") for ch in name
        ):
            problems.append(
                f"user name {name!r}: 1 to 64 characters, no spaces, slashes, colons, @ or "
                "invisible characters"
            )
        if role not in ROLES:
            problems.append(f"role {role!r} is not one of {', '.join(ROLES)}")
        if len(password) < MIN_PASSWORD:
            problems.append(
                f"the password has {len(password)} characters; give at least {MIN_PASSWORD}"
            )
        if problems:
            raise AccountError("; ".join(problems))
        with self.db.transaction() as conn:
            row = conn.row(
                "INSERT INTO users (name, role, password_hash, created_at) "
                "VALUES (:name, :role, :hash, :at) ON CONFLICT (name) DO NOTHING RETURNING id",
                {"name": name, "role": role, "hash": self._hasher.hash(password),
                 "at": _iso(now or time.time())},
            )  # fmt: skip
            if row is None:
                raise AccountError(f"there is already a user {name!r}")
        self._known = True
        return User(id=int(row[0]), name=name, role=role)

    def find(self, name: str) -> User | None:
        with self.db.reading() as conn:
            row = conn.row("SELECT id, name, role FROM users WHERE name = :n", {"n": name})
        return None if row is None else User(id=int(row[0]), name=row[1], role=row[2])

    def list(self) -> list[User]:
        with self.db.reading() as conn:
            rows = conn.rows("SELECT id, name, role FROM users ORDER BY name")
        return [User(id=int(r[0]), name=r[1], role=r[2]) for r in rows]

    def new_token(self, name: str, *, now: float | None = None) -> str:
        """A new API bearer token for ``name`` (shown once: only its digest is kept)."""
        user = self.find(name)
        if user is None:
            raise AccountError(f"no user {name!r}: add one with adjudicate users add")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.db.transaction() as conn:
            conn.run(
                "INSERT INTO api_tokens (user_ref, token_hash, created_at) "
                "VALUES (:u, :h, :at)",
                {"u": user.id, "h": _digest(token), "at": _iso(now or time.time())},
            )
        return token

    def revoke_tokens(self, name: str, *, now: float | None = None) -> int:
        user = self.find(name)
        if user is None:
            raise AccountError(f"no user {name!r}")
        with self.db.transaction() as conn:
            return conn.run(
                "UPDATE api_tokens SET revoked_at = :at "
                "WHERE user_ref = :u AND revoked_at IS NULL",
                {"u": user.id, "at": _iso(now or time.time())},
            )

    def by_token(self, token: str) -> User | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self.db.reading() as conn:
            row = conn.row(
                "SELECT u.id, u.name, u.role FROM api_tokens t JOIN users u ON u.id = t.user_ref "
                "WHERE t.token_hash = :h AND t.revoked_at IS NULL",
                {"h": _digest(token)},
            )
        return None if row is None else User(id=int(row[0]), name=row[1], role=row[2])

    # ------------------------------------------------------------------ sessions

    def login(self, name: str, password: str, *, client: str, now: float) -> tuple[User, str]:
        """A new session for ``name``: (the user, the session id for the cookie). Raises
        TooManyAttempts past the limits, AccountError for a wrong name or password (the same
        message for both)."""
        self.check_attempts(name, client, now=now)
        with self.db.reading() as conn:
            row = conn.row(
                "SELECT id, name, role, password_hash FROM users WHERE name = :n", {"n": name}
            )
        if not self._verify(row[3] if row else self._dummy, password) or row is None:
            self.failed(name, client, now=now)
            raise AccountError("wrong user name or password")
        user = User(id=int(row[0]), name=row[1], role=row[2])
        session = secrets.token_urlsafe(32)
        with self.db.transaction() as conn:
            conn.run(
                "INSERT INTO sessions (user_ref, session_hash, created_at, expires_at) "
                "VALUES (:u, :h, :at, :until)",
                {"u": user.id, "h": _digest(session), "at": _iso(now),
                 "until": int(now) + self.limits.session_seconds},
            )  # fmt: skip
        return user, session

    def _verify(self, hashed: str, password: str) -> bool:
        from argon2.exceptions import InvalidHashError, VerificationError

        try:
            return bool(self._hasher.verify(hashed, password))
        except (VerificationError, InvalidHashError):
            return False

    def failed(self, name: str, client: str, *, now: float) -> None:
        """Count a failed login (old ones, past the window, are dropped)."""
        with self.db.transaction() as conn:
            conn.run(
                "DELETE FROM login_failures WHERE at_epoch < :old",
                {"old": int(now) - self.limits.window},
            )
            conn.run(
                "INSERT INTO login_failures (name, client, at_epoch) VALUES (:n, :c, :at)",
                {"n": name[:200], "c": client[:200], "at": int(now)},
            )

    def check_attempts(self, name: str, client: str, *, now: float) -> None:
        """TooManyAttempts when ``name`` or ``client`` failed too often within the window."""
        since = int(now) - self.limits.window
        with self.db.reading() as conn:
            by_name = conn.row(
                "SELECT count(*), min(at_epoch) FROM login_failures "
                "WHERE name = :n AND at_epoch >= :since",
                {"n": name[:200], "since": since},
            )
            by_client = conn.row(
                "SELECT count(*), min(at_epoch) FROM login_failures "
                "WHERE client = :c AND at_epoch >= :since",
                {"c": client[:200], "since": since},
            )
        for found, limit in ((by_name, self.limits.per_name),
                             (by_client, self.limits.per_client)):  # fmt: skip
            if found is not None and int(found[0]) >= limit:
                retry = int(found[1]) + self.limits.window - int(now)
                raise TooManyAttempts(max(1, retry))

    def by_session(self, session: str, *, now: float) -> User | None:
        with self.db.reading() as conn:
            row = conn.row(
                "SELECT u.id, u.name, u.role FROM sessions s JOIN users u ON u.id = s.user_ref "
                "WHERE s.session_hash = :h AND s.revoked_at IS NULL AND s.expires_at > :now",
                {"h": _digest(session), "now": int(now)},
            )
        return None if row is None else User(id=int(row[0]), name=row[1], role=row[2])

    def logout(self, session: str, *, now: float) -> bool:
        with self.db.transaction() as conn:
            return bool(
                conn.run(
                    "UPDATE sessions SET revoked_at = :at "
                    "WHERE session_hash = :h AND revoked_at IS NULL",
                    {"h": _digest(session), "at": _iso(now)},
                )
            )
