"""``adjudicate users``: the desk's accounts (engine.web.accounts) from the command line."""

from __future__ import annotations

import sys

import click

from engine.cli.base import Failure, main
from engine.errors import AccountError, DeskError

__all__ = ["users"]

db_option = click.option(
    "--db", "db", default="adjudicate.sqlite3", show_default=True, metavar="PATH|URL",
    help="The desk's database: a SQLite file or a postgresql:// URL (as adjudicate serve).",
)  # fmt: skip


def _store(db: str):  # type: ignore[no-untyped-def]
    try:
        from engine.web.store import Store
    except ImportError as exc:
        click.echo(f"users needs the web extra: pip install -e '.[web]' ({exc})", err=True)
        raise SystemExit(2) from None
    try:
        return Store(db)
    except DeskError as exc:
        raise Failure(exc) from None


def _password(name: str) -> str:
    """The password: typed twice at a terminal, else the first line of standard input (a
    command line and the environment are visible to other users)."""
    if sys.stdin.isatty():
        value: str = click.prompt(
            f"password for {name}", hide_input=True, confirmation_prompt=True, err=True
        )
        return value
    return sys.stdin.readline().rstrip("\r\n")


@main.group()
def users() -> None:
    """The desk's accounts: arbitrators, seniors, policy staff, admins."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role", required=True,
    type=click.Choice(["arbitrator", "senior", "policy", "admin"]),
    help="arbitrator: decides first rulings; senior: also appeals; policy: reads; admin: reads "
    "and sees the audit log.",
)  # fmt: skip
@db_option
def add(name: str, role: str, db: str) -> None:
    """Add an account; the password is read from standard input (argon2-hashed)."""
    from engine.web.accounts import Accounts

    store = _store(db)
    try:
        user = Accounts(store.db).add(name, role, _password(name))
        store.audit(at=_now(), actor=None, action="user_added",
                    detail={"name": user.name, "role": user.role})  # fmt: skip
    except AccountError as exc:
        raise Failure(exc) from None
    finally:
        store.close()
    click.echo(f"added {user.name} ({user.role})", err=True)


@users.command("token")
@click.argument("name")
@db_option
def token(name: str, db: str) -> None:
    """Print a new API bearer token for NAME (shown once; the desk keeps only its digest)."""
    from engine.web.accounts import Accounts

    store = _store(db)
    try:
        value = Accounts(store.db).new_token(name)
        store.audit(at=_now(), actor=None, action="token_issued", detail={"name": name})
    except AccountError as exc:
        raise Failure(exc) from None
    finally:
        store.close()
    click.echo(value)


@users.command("revoke-tokens")
@click.argument("name")
@db_option
def revoke_tokens(name: str, db: str) -> None:
    """Revoke every API token of NAME."""
    from engine.web.accounts import Accounts

    store = _store(db)
    try:
        count = Accounts(store.db).revoke_tokens(name)
        store.audit(at=_now(), actor=None, action="tokens_revoked",
                    detail={"name": name, "count": count})  # fmt: skip
    except AccountError as exc:
        raise Failure(exc) from None
    finally:
        store.close()
    click.echo(f"revoked {count} token(s) of {name}", err=True)


@users.command("list")
@db_option
def list_users(db: str) -> None:
    """The accounts and their roles."""
    from engine.web.accounts import Accounts

    store = _store(db)
    try:
        for user in Accounts(store.db).list():
            click.echo(f"{user.name}\t{user.role}")
    finally:
        store.close()


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="seconds")
