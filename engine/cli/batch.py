"""``adjudicate batch`` and ``adjudicate impact``: re-scoring archives (engine.batch)."""

from __future__ import annotations

import os
from typing import Any

import click

from engine.cli.base import Failure, load_program, main, rules_option
from engine.errors import BatchError, CaseFileError
from engine.rules.program import Program
from engine.rules.reading import is_date
from engine.run.scoring import ENGINES

__all__ = ["batch", "impact"]


def _batch_options(command: Any) -> Any:
    options = [
        click.argument("archive", nargs=-1, required=True),
        click.option("--out", required=True, help="Output folder or URL (resumed when it exists)."),
        click.option(
            "--engine", type=click.Choice(ENGINES), default="durable", show_default=True,
            help="Inference engine in the workers.",
        ),
        click.option(
            "--backend", type=click.Choice(["local", "dask"]), default="local", show_default=True,
            help="local: a process pool on this machine; dask: dask.distributed (extra 'dask').",
        ),
        click.option(
            "--workers", type=click.IntRange(min=0), default=None,
            help="Worker processes (default: the CPU count; 0 = score in this process).",
        ),
        click.option(
            "--scheduler", default=None,
            help="Address of a running Dask scheduler (tcp://host:8786); implies --backend dask.",
        ),
        click.option(
            "--shard-cases", type=click.IntRange(min=1), default=5000, show_default=True,
            help="Cases per shard (a .jsonl.gz file is always one shard).",
        ),
        click.option(
            "--max-attempts", type=click.IntRange(min=1), default=3, show_default=True,
            help="Worker deaths or failures on one shard before it is quarantined.",
        ),
        click.option(
            "--storage-option", "storage", multiple=True, metavar="KEY=VALUE",
            help="fsspec option for URLs (repeatable), e.g. anon=true.",
        ),
        click.option(
            "--test-kill-on", "kill_on", multiple=True, hidden=True,
            help="TEST HOOK: the worker scoring this case id kills itself (SIGKILL).",
        ),
        click.option(
            "--test-segfault", is_flag=True, hidden=True,
            help="TEST HOOK: with --test-kill-on, crash durable_rules' C core (a real SIGSEGV).",
        ),
        click.option(
            "--test-kill-once", is_flag=True, hidden=True,
            help="TEST HOOK: with --test-kill-on, only the first time (markers in OUT/.test-kill).",
        ),
    ]  # fmt: skip
    for option in reversed(options):
        command = option(command)
    return command


def _storage_options(pairs: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(
                f"expected KEY=VALUE, got {pair!r}", param_hint="--storage-option"
            )
        lowered = value.lower()
        options[key] = {"true": True, "false": False}.get(lowered, value)
    return options


def _run_batch(
    mode: str, programs: tuple[Program, ...], archive: tuple[str, ...], **kw: Any
) -> None:
    from rich.console import Console

    from engine.batch import CrashHook, assess_impact, rescore
    from engine.batch.progress import ProgressBar
    from engine.batch.tables import impact_tables, summary_tables

    out = kw["out"]
    hook = None
    if kw["kill_on"]:
        once = None
        if kw["test_kill_once"]:
            once = os.path.join(out, ".test-kill")
            os.makedirs(once, exist_ok=True)
        hook = CrashHook(
            case_ids=frozenset(kw["kill_on"]), once_dir=once, segfault=kw["test_segfault"]
        )
    backend = "dask" if kw["scheduler"] else kw["backend"]
    common = dict(
        out=out, engine=kw["engine"], backend=backend, workers=kw["workers"],
        scheduler=kw["scheduler"], shard_cases=kw["shard_cases"],
        max_attempts=kw["max_attempts"], storage_options=_storage_options(kw["storage"]),
        hook=hook, progress=ProgressBar(Console(stderr=True)),
    )  # fmt: skip
    try:
        if mode == "score":
            report = rescore(archive, programs[0], **common)
        else:
            report = assess_impact(
                archive, programs[0], programs[1], as_of=kw.get("as_of"), **common
            )
    except (BatchError, CaseFileError) as exc:
        raise Failure(exc) from None
    except KeyboardInterrupt:
        click.echo("interrupted: run the same command again to resume", err=True)
        raise SystemExit(130) from None
    console = Console()
    tables = (
        summary_tables(report.summary, width=console.width)
        if mode == "score"
        else impact_tables(report.summary)
    )
    for table in tables:
        console.print(table)
    written = "summary.json" if mode == "score" else "impact.json and impact.html"
    click.echo(f"{report.lines:,} lines for {report.cases:,} cases in {report.out}; see {written}")
    if not report.complete:
        click.echo(
            f"incomplete: {len(report.quarantined)} shard(s) quarantined, "
            f"{len(report.missing)} missing; run the same command again to retry",
            err=True,
        )
        raise SystemExit(1)
    if mode == "impact" and report.summary["changed"]:
        raise SystemExit(1)


@main.command()
@rules_option
@_batch_options
def batch(archive: tuple[str, ...], rules: str, **kw: Any) -> None:
    """Re-score an archive of case files (folders, .jsonl, .jsonl.gz, fsspec URLs) in shards.

    Writes one line per input case (ruling/1 or an error object) to OUT/shards/, and
    OUT/summary.json: counts by ruling and dispute type, errors, agreement with the recorded
    decisions. Run it again to resume. Exit 0 when every case has its line, 1 when shards were
    quarantined (their cases are error rows), 2 on bad input.
    """
    _run_batch("score", (load_program(rules),), archive, **kw)


@main.command()
@click.option(
    "--old", required=True, type=click.Path(file_okay=False), help="Rules before the change."
)
@click.option(
    "--new", required=True, type=click.Path(file_okay=False), help="Rules after the change."
)
@click.option(
    "--as-of",
    "as_of",
    metavar="YYYY-MM-DD",
    default=None,
    help="Move every case to this day first (its intervals kept), to see what a change dated "
    "in the future will do.",
)
@_batch_options
def impact(archive: tuple[str, ...], old: str, new: str, **kw: Any) -> None:
    """Score an archive under two rule versions and report what the change flips.

    Writes OUT/impact.json and OUT/impact.html (flips by old -> new ruling, the rules
    responsible, examples linking to each case's two rulings). Exit 0 when no ruling or amount
    changes, 1 when some do (or shards were quarantined), 2 on bad input.
    """
    if kw["as_of"] is not None and not is_date(kw["as_of"]):
        raise click.BadParameter(
            f"{kw['as_of']!r} is not a date like 2027-03-01", param_hint="--as-of"
        )
    _run_batch("impact", (load_program(old), load_program(new)), archive, **kw)
