"""``adjudicate serve``: the arbitrator's desk, web pages and the HTTP API (engine.web)."""

from __future__ import annotations

import click

from engine.cli.base import Failure, load_program, main, rules_option
from engine.errors import SchemaTooNew
from engine.run.scoring import ENGINES

__all__ = ["serve"]


@main.command()
@rules_option
@click.option(
    "--db",
    "db",
    default="adjudicate.sqlite3",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="SQLite file of the desk's cases and decisions (created, and migrated, as needed).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token",
    envvar="ADJUDICATE_TOKEN",
    default=None,
    show_envvar=True,
    help="Require this bearer token on every route (pages: a login form). Prefer the "
    "environment variable: a command line is visible to other users.",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="reference",
    show_default=True,
    help="Inference engine. durable_rules is not thread-safe: with it, requests score one at "
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
    rules: str, db: str, host: str, port: int, token: str | None, engine: str, max_body: int
) -> None:
    """Run the arbitrator's desk: web pages and the HTTP API (/v1, /openapi.json)."""
    try:
        import uvicorn

        from engine.web.app import create_app
    except ImportError as exc:
        click.echo(f"serve needs the web extra: pip install -e '.[web]' ({exc})", err=True)
        raise SystemExit(2) from None
    program = load_program(rules)
    if host not in ("127.0.0.1", "localhost", "::1") and not token:
        click.echo(
            f"warning: listening on {host} without --token: anyone who can reach it can "
            "read cases and record decisions",
            err=True,
        )
    anywhere = host in ("0.0.0.0", "::")
    hosts = ("127.0.0.1", "localhost", "[::1]") + (("*",) if anywhere else (host,))
    try:
        app = create_app(
            program,
            db,
            token=token or None,
            engine=engine,  # type: ignore[arg-type]
            max_body=max_body,
            max_upload=max_body * 64,
            allowed_hosts=hosts,
        )
    except SchemaTooNew as exc:
        raise Failure(SchemaTooNew(f"{db}: {exc}")) from None
    click.echo(
        f"adjudicate desk: http://{host}:{port}/ ({program.name} {program.version}, "
        f"{engine} engine, database {db}{', token required' if token else ''})",
        err=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")
