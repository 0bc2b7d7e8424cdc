"""A throw-away PostgreSQL server for the desk's tests: initdb into a temporary folder, a Unix
socket in that folder and no TCP port, fsync off; stopped and removed at the end of the session.

Debian keeps PostgreSQL's programs in /usr/lib/postgresql/N/bin (``.ci/setup`` installs the
package when they are missing). PostgreSQL refuses to run as root: under root the server runs
as the ``postgres`` user the package creates. Without the programs the tests that need the
server are skipped, unless ADJUDICATE_REQUIRE_POSTGRES=1 (set by .ci/run): then they fail.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

_numbers = itertools.count(1)


def _program(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: int(p.split("/")[4]) if p.split("/")[4].isdigit() else 0)
    return candidates[-1] if candidates else None


def _unavailable(reason: str) -> None:
    if os.environ.get("ADJUDICATE_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"{reason}, and ADJUDICATE_REQUIRE_POSTGRES=1 requires PostgreSQL")
    pytest.skip(reason)


@contextmanager
def running_server() -> Iterator[str]:
    """A running server; yields the URL of its ``postgres`` database."""
    initdb, pg_ctl = _program("initdb"), _program("pg_ctl")
    if initdb is None or pg_ctl is None:
        _unavailable(
            "PostgreSQL is not installed (apt-get install -y postgresql; .ci/setup does it)"
        )
        raise AssertionError  # unreachable: skip and fail raise
    folder = Path(tempfile.mkdtemp(prefix="adj-pg-"))
    user: str | None = None
    if os.geteuid() == 0:
        try:
            entry = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user to run PostgreSQL")
            raise AssertionError from None
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        user = "postgres"
    data, log = folder / "data", folder / "server.log"
    try:
        subprocess.run(
            [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
             "--locale=C", "--no-sync"],
            check=True, capture_output=True, user=user, cwd=folder,
        )  # fmt: skip
        options = f"-k {folder} -c listen_addresses='' -F -c max_connections=200"
        started = subprocess.run(
            [pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60", "start"],
            capture_output=True, user=user, cwd=folder,
        )  # fmt: skip
        if started.returncode != 0:
            text = log.read_text() if log.exists() else started.stderr.decode()
            _unavailable(f"PostgreSQL did not start: {text.strip()[-500:]}")
        yield f"postgresql://postgres@/postgres?host={folder}"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                           capture_output=True, user=user, cwd=folder)  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def fresh_database(server: str) -> Iterator[str]:
    """A new, empty database on ``server``; its URL. Dropped afterwards."""
    import psycopg

    name = f"desk_{os.getpid()}_{next(_numbers)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield server.replace("/postgres?", f"/{name}?")
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
