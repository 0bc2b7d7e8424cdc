"""The ``adjudicate`` command group and what its commands share: options, loading the rules,
and turning the library's errors into messages and exit codes.

Exit codes: 0 ok; 1 a finding (a rule test or golden case that did not hold, a changed ruling);
2 bad input or usage. Each error of ``engine.errors`` carries its own (``exit_code``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from engine import compiled
from engine.errors import AdjudicationError, RuleFileError
from engine.rules.loader import default_rules
from engine.rules.program import Program
from engine.run.scoring import ENGINES

__all__ = [
    "Failure",
    "engine_option",
    "format_option",
    "lang_option",
    "load_program",
    "main",
    "rules_option",
]


class Failure(click.ClickException):
    """An error of the library, shown as it is (located message, no "Error:" prefix), with the
    exit code its class carries; ``footer`` is a last line such as "3 problem(s) in rules"."""

    def __init__(self, exc: AdjudicationError, footer: str = "") -> None:
        super().__init__(str(exc))
        self.exit_code = exc.exit_code  # type: ignore[misc]  # click's is a class default
        self.footer = footer

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(self.message, err=True)
        if self.footer:
            click.echo(self.footer, err=True)


def _default_rules() -> str:
    """$ADJUDICATE_RULES, else ./rules when there is one, else the policy shipped with the
    package (read once, so that ``--help`` shows where it is)."""
    env = os.environ.get("ADJUDICATE_RULES")
    if env:
        return env
    return "rules" if Path("rules").is_dir() else str(default_rules())


def load_program(rules: str) -> Program:
    from engine.rules.loader import load_rules

    try:
        return load_rules(rules)
    except RuleFileError as exc:
        raise Failure(exc, f"{len(exc.problems)} problem(s) in {rules}") from None


rules_option = click.option(
    "--rules", "rules", default=_default_rules, show_default="./rules or $ADJUDICATE_RULES",
    type=click.Path(file_okay=False), help="Folder of rule files.",
)  # fmt: skip


FC = TypeVar("FC", bound=Callable[..., Any])


def engine_option(default: str, help: str, *, both: bool = False) -> Callable[[FC], FC]:
    choices = [*ENGINES, "both"] if both else list(ENGINES)
    return click.option(
        "--engine", type=click.Choice(choices), default=default, show_default=True, help=help
    )


def format_option(help: str) -> Callable[[FC], FC]:
    """``--format text|json``, as ``fmt``."""
    return click.option(
        "--format", "fmt", type=click.Choice(["text", "json"]), default="text",
        show_default=True, help=help,
    )  # fmt: skip


def lang_option(help: str) -> Callable[[FC], FC]:
    return click.option(
        "--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True, help=help
    )


def _version_message() -> str:
    reason = compiled.reason()
    how = "compiled (mypyc)" if reason is None else f"from its sources: {reason}"
    return f"%(prog)s %(version)s; the scoring path runs {how}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="adjudicate", message=_version_message())
def main() -> None:
    """Recommend rulings for marketplace buyer-seller disputes from YAML policy."""
