"""``adjudicate serve``: the arbitrator's desk, web pages and the HTTP API (engine.web)."""

from __future__ import annotations

import click

from engine.cli.base import Failure, engine_option, load_program, main, rules_option
from engine.errors import DeskError

__all__ = ["serve"]

LOOPBACK = ("127.0.0.1", "localhost", "::1")


@main.command()
@rules_option
@click.option(
    "--db",
    "db",
    default="adjudicate.sqlite3",
    show_default=True,
    metavar="PATH|URL",
    help="The desk's cases and decisions: a SQLite file, or postgresql://user@host/db for "
    "several desk processes on one database (the postgres extra). Created and migrated as "
    "needed.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--allowed-host",
    "allowed_hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name the desk answers to besides loopback (repeat for several), e.g. the "
    "name arbitrators type; required with a --host beyond loopback (DNS rebinding).",
)
@click.option(
    "--token",
    envvar="ADJUDICATE_TOKEN",
    default=None,
    show_envvar=True,
    help="A one-person desk without accounts: require this bearer token on every route "
    "(pages: a login form). Prefer the environment variable: a command line is visible to "
    "other users. A team uses accounts instead (adjudicate users add).",
)
@click.option(
    "--behind-proxy",
    is_flag=True,
    help="A reverse proxy in front says how the browser came (X-Forwarded-Proto: https makes "
    "the session cookie Secure) and from where (X-Forwarded-For, for login throttling).",
)
@engine_option(
    "reference",
    "Inference engine. durable_rules is not thread-safe: with it, requests score one at "
    "a time under a lock; the reference evaluator (same rulings) has no such limit.",
)
@click.option(
    "--max-body",
    default=1 << 20,
    show_default=True,
    type=click.IntRange(1),
    help="Largest request body in bytes (413 beyond); page uploads may be 64 times larger.",
)
def serve(
    rules: str,
    db: str,
    host: str,
    port: int,
    allowed_hosts: tuple[str, ...],
    token: str | None,
    behind_proxy: bool,
    engine: str,
    max_body: int,
) -> None:
    """Run the arbitrator's desk: web pages and the HTTP API (/v1, /openapi.json, /health)."""
    try:
        import uvicorn

        from engine.web.app import LOOPBACK_HOSTS, create_app
        from engine.web.db import shown_url
    except ImportError as exc:
        click.echo(f"serve needs the web extra: pip install -e '.[web]' ({exc})", err=True)
        raise SystemExit(2) from None
    program = load_program(rules)
    beyond = host not in LOOPBACK
    if beyond and not allowed_hosts:
        raise click.UsageError(
            f"--host {host} listens beyond loopback: name the host names arbitrators use with "
            "--allowed-host NAME (a page answering to any Host name can be reached through DNS "
            "rebinding)"
        )
    hosts = LOOPBACK_HOSTS + tuple(allowed_hosts)
    try:
        app = create_app(
            program,
            db,
            token=token or None,
            engine=engine,  # type: ignore[arg-type]
            max_body=max_body,
            max_upload=max_body * 64,
            allowed_hosts=hosts,
            trust_proxy=behind_proxy,
        )
    except DeskError as exc:  # one line, exit 2: a newer schema, a read-only database, ...
        shown = shown_url(db)
        if shown not in str(exc):
            exc.args = (f"{shown}: {exc}",)
        raise Failure(exc) from None
    desk = app.state.desk
    teams = desk.accounts.any()
    if beyond and not teams and not token:
        desk.store.close()
        raise click.UsageError(
            f"--host {host} listens beyond loopback, but this desk has no accounts and no "
            "token: anyone who reaches it could read cases and record decisions. Add accounts "
            "(adjudicate users add NAME --role ... --db ...) or give a token"
        )
    guard = "accounts" if teams else "token required" if token else "no login (loopback only)"
    click.echo(
        f"adjudicate desk: http://{host}:{port}/ ({program.name} {program.version}, "
        f"{engine} engine, database {shown_url(db)}, {guard})",
        err=True,
    )
    uvicorn.run(
        app, host=host, port=port, log_level="warning",
        proxy_headers=behind_proxy, forwarded_allow_ips="*" if behind_proxy else None,
    )  # fmt: skip
