"""The desk's database connection: SQLite (one file, the embedded default) or PostgreSQL (a URL,
for several desk processes on one database), behind one small interface.

SQL is written once, with ``:name`` parameters, in the subset both speak (``INSERT ... ON
CONFLICT DO NOTHING``, ``RETURNING``); ``Database.dialect`` names the few places that differ
(the migrations' DDL). Each call takes a connection and gives it back: a new one per call for
SQLite (cheap; writers are serialised by the file, readers do not wait in WAL mode), one from a
pool for PostgreSQL. ``transaction()`` is one atomic unit: committed whole when the block ends,
rolled back whole when it raises.

The failures an operator can fix (a full disk, a read-only database, a server that cannot be
reached) are raised as ``StorageError`` with a message naming the database and the fix; the
desk answers them with a JSON 5xx and nothing of the request recorded.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from engine.errors import StorageError

__all__ = ["Conn", "Database", "Dialect", "open_database", "shown_url"]

Dialect = Literal["sqlite", "postgresql"]
Params = Mapping[str, Any]
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
POSTGRES_SCHEMES = ("postgresql", "postgres")


def shown_url(url: str) -> str:
    """A database URL fit to print: without its password."""
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES or parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class Conn:
    """One connection for the length of a call: ``rows``, ``row`` and ``run`` (row count)."""

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        self.raw, self.dialect = raw, dialect

    def _sql(self, sql: str) -> str:
        if self.dialect == "sqlite":
            return sql
        return _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))

    def rows(self, sql: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        cursor = self.raw.execute(self._sql(sql), dict(params or {}))
        return [tuple(row) for row in cursor.fetchall()] if cursor.description else []

    def row(self, sql: str, params: Params | None = None) -> tuple[Any, ...] | None:
        found = self.rows(sql, params)
        return found[0] if found else None

    def run(self, sql: str, params: Params | None = None) -> int:
        cursor = self.raw.execute(self._sql(sql), dict(params or {}))
        if cursor.description:
            cursor.fetchall()  # sqlite: a statement with RETURNING must be read out to finish
        return int(cursor.rowcount)

    def script(self, sql: str) -> None:
        """Several statements without parameters (a migration)."""
        if self.dialect == "sqlite":
            for statement in _statements(sql):
                self.raw.execute(statement)
        else:
            self.raw.execute(sql)


def _statements(script: str) -> Iterator[str]:
    """The statements of a SQLite script, one at a time (a trigger's body keeps its ;)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                yield pending.strip()
            pending = ""


class Database:
    """Where the desk keeps its records; ``open_database`` picks the kind from ``url``."""

    dialect: Dialect
    url: str

    @property
    def shown(self) -> str:
        return shown_url(self.url)

    @contextmanager
    def transaction(self, *, foreign_keys: bool = True) -> Iterator[Conn]:
        """One atomic unit of work (writers wait for each other; readers never wait).
        ``foreign_keys=False``: SQLite checks no reference while it runs (a migration that
        builds a table anew; it checks them itself before it commits)."""
        raise NotImplementedError
        yield  # pragma: no cover

    @contextmanager
    def reading(self) -> Iterator[Conn]:
        """A connection for reading only (no transaction held open)."""
        raise NotImplementedError
        yield  # pragma: no cover

    def check_writable(self) -> None:
        """Raise StorageError when the database cannot be written (read-only file, folder or
        server): at start, so that an operator hears it once, not on the first decision."""
        raise NotImplementedError

    def close(self) -> None:
        return None

    def failure(self, exc: BaseException) -> StorageError | None:
        """The StorageError an operator can act on for a driver's exception, or None (a bug)."""
        raise NotImplementedError


class SqliteDatabase(Database):
    dialect: Dialect = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.url = self.path = str(path)

    def _open(self, foreign_keys: bool = True) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
            conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
        except sqlite3.Error as exc:
            raise self._mapped(exc) from exc
        return conn

    def _mapped(self, exc: BaseException) -> BaseException:
        return self.failure(exc) or exc

    @contextmanager
    def reading(self) -> Iterator[Conn]:
        with closing(self._open()) as raw:
            try:
                yield Conn(raw, "sqlite")
            except sqlite3.Error as exc:
                raise self._mapped(exc) from exc

    @contextmanager
    def transaction(self, *, foreign_keys: bool = True) -> Iterator[Conn]:
        with closing(self._open(foreign_keys)) as raw:
            try:
                raw.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise self._mapped(exc) from exc
            try:
                yield Conn(raw, "sqlite")
                raw.execute("COMMIT")
            except BaseException as exc:
                try:
                    raw.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # SQLite rolled back itself (a full disk does that)
                if isinstance(exc, sqlite3.Error):
                    raise self._mapped(exc) from exc
                raise

    def check_writable(self) -> None:
        with self.transaction():  # BEGIN IMMEDIATE takes the write lock: refused when read-only
            pass

    def _read_only_folder(self) -> bool:
        """Whether the file's folder cannot be written (a read-only mount, or permissions):
        in WAL mode SQLite then cannot even open the database to read it."""
        folder = os.path.dirname(os.path.abspath(self.path))
        try:
            if os.statvfs(folder).f_flag & os.ST_RDONLY:
                return True
        except OSError:
            return False
        return not os.access(folder, os.W_OK)

    def failure(self, exc: BaseException) -> StorageError | None:
        if not isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
            return None
        reason = str(exc)
        where = self.path
        if "disk is full" in reason or "database or disk is full" in reason:
            return StorageError(
                f"the desk's database {where} could not be written: the disk is full; nothing "
                "of this request was recorded: free space on that disk, then try again"
            )
        if "readonly" in reason or "read-only" in reason or (
            "unable to open" in reason and self._read_only_folder()
        ):
            return StorageError(
                f"the desk's database {where} is read-only; nothing of this request was "
                "recorded: let the server write the file and its folder (it keeps a -wal and "
                "a -shm file beside it), then try again"
            )
        if "unable to open" in reason or "disk I/O error" in reason:
            return StorageError(f"cannot use the desk's database {where}: {reason}")
        if "locked" in reason or "busy" in reason:
            return StorageError(
                f"the desk's database {where} stayed locked by another writer for 10 s; "
                "nothing of this request was recorded: try again"
            )
        return None


class PostgresDatabase(Database):
    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        import psycopg
        from psycopg_pool import ConnectionPool

        self.url = url
        self._psycopg = psycopg
        try:
            self.pool = ConnectionPool(
                url, min_size=1, max_size=pool_size, open=False, kwargs={"autocommit": True},
                name="adjudicate-desk",
            )  # fmt: skip
            self.pool.open(wait=True, timeout=10.0)
        except Exception as exc:  # psycopg.Error, or the pool's PoolTimeout
            raise StorageError(
                f"cannot reach the desk's database {self.shown}: {_first_line(exc)}"
            ) from None

    def close(self) -> None:
        self.pool.close()

    @contextmanager
    def _conn(self) -> Iterator[Any]:
        try:
            with self.pool.connection(timeout=30.0) as raw:
                yield raw
        except self._psycopg.Error as exc:
            raise self.failure(exc) or exc from exc
        except Exception as exc:  # the pool's PoolTimeout: no connection in 30 s
            if type(exc).__name__ == "PoolTimeout":
                raise StorageError(
                    f"no connection to the desk's database {self.shown} came free in 30 s; "
                    "nothing of this request was recorded: try again"
                ) from exc
            raise

    @contextmanager
    def reading(self) -> Iterator[Conn]:
        with self._conn() as raw:
            yield Conn(raw, "postgresql")

    @contextmanager
    def transaction(self, *, foreign_keys: bool = True) -> Iterator[Conn]:
        with self._conn() as raw, raw.transaction():
            yield Conn(raw, "postgresql")

    def check_writable(self) -> None:
        with self.reading() as conn:
            row = conn.row("SHOW transaction_read_only")
        if row is not None and row[0] == "on":
            raise StorageError(
                f"the desk's database {self.shown} is read-only (transaction_read_only is on: "
                "a standby, or default_transaction_read_only); give the desk a writable one"
            )

    def failure(self, exc: BaseException) -> StorageError | None:
        errors = self._psycopg.errors
        reason = _first_line(exc)
        if isinstance(exc, errors.DiskFull):
            return StorageError(
                f"the desk's database {self.shown} could not be written: the disk is full "
                f"({reason}); nothing of this request was recorded: free space, then try again"
            )
        if isinstance(exc, errors.ReadOnlySqlTransaction):
            return StorageError(
                f"the desk's database {self.shown} is read-only ({reason}); nothing of this "
                "request was recorded: give the desk a writable database"
            )
        if isinstance(exc, errors.InsufficientPrivilege):
            return StorageError(
                f"the desk's database {self.shown} refused the desk's user ({reason}); grant "
                "it the rights on the desk's tables"
            )
        if isinstance(exc, self._psycopg.OperationalError):
            return StorageError(
                f"cannot use the desk's database {self.shown}: {reason}; nothing of this "
                "request was recorded: try again when the database server is back"
            )
        return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def open_database(url: str | Path) -> Database:
    """``postgresql://...`` (or ``postgres://``): PostgreSQL, with the ``postgres`` extra;
    anything else is the path of a SQLite file."""
    text = str(url)
    if urlsplit(text).scheme in POSTGRES_SCHEMES:
        try:
            import psycopg  # noqa: F401
            import psycopg_pool  # noqa: F401
        except ImportError as exc:
            raise StorageError(
                f"a PostgreSQL database needs the postgres extra: pip install -e '.[postgres]' "
                f"({exc})"
            ) from None
        return PostgresDatabase(text)
    return SqliteDatabase(text)
