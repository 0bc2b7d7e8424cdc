"""The command line: a thin click layer over the library. The only package that prints or exits.

``main`` is the ``adjudicate`` group (engine.cli.base); each module adds its commands: ``score``
(engine.cli.score), ``rules ...`` (engine.cli.rules), ``batch`` and ``impact``
(engine.cli.batch), ``serve`` (engine.cli.serve), ``users ...`` (engine.cli.users),
``evidence read`` (engine.cli.evidence). Exit codes: 0 ok; 1 a finding; 2 bad input or
usage; each library error carries its own (``engine.errors``).
"""

from __future__ import annotations

from collections.abc import Iterable

import click

from engine.cli import batch, evidence, rules, score, serve, users
from engine.cli.base import main

__all__ = ["main", "run"]

_COMMANDS = (batch, evidence, rules, score, serve, users)  # imported for the commands they add


def run(argv: Iterable[str] | None = None) -> int:
    """Run the CLI in-process (for tests and embedding); returns the exit code."""
    try:
        main.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return 0
