"""``adjudicate score``: case files in, rulings (summaries or ruling/1 JSON) and reports out."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import click

from engine.cli.base import (
    engine_option,
    format_option,
    lang_option,
    load_program,
    main,
    rules_option,
)
from engine.errors import AdjudicationError, CaseFileError, EngineError
from engine.evidence.case import load_cases_with_bundles
from engine.explain.render import render_summary, render_trace
from engine.explain.report import AUDIENCES, build_report
from engine.explain.trace import trace_of
from engine.ruling import ruling_json
from engine.run.scoring import Scored, Scorer

__all__ = ["report_name", "score"]


def _error_object(source: str, case_id: str | None, exc: AdjudicationError) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "source": source,
        "error": {"type": exc.error_type, "message": str(exc)},
    }


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@rules_option
@engine_option(
    "durable", "Inference engine: durable_rules, or the plain-Python reference evaluator."
)
@format_option("A human summary, or ruling/1 JSON (one line per case).")
@click.option(
    "--trace",
    is_flag=True,
    help="Also print every firing with the facts it matched (on stderr with --format json).",
)
@lang_option("Language of the summary, the trace and the report.")
@click.option(
    "--report",
    "report",
    metavar="PATH",
    default=None,
    help="Also write an explanation report: PATH.html or PATH.md for one case; for several, "
    "a folder (out/: one out/<case_id>.html each) or a pattern (out/{case_id}.md).",
)
@click.option(
    "--audience",
    type=click.Choice(AUDIENCES),
    default="arbitrator",
    show_default=True,
    help="Who the report is for: the arbitrator sees everything (scores, rule ids, trace); "
    "a party sees what it needs to understand the outcome and appeal.",
)
def score(
    paths: tuple[str, ...],
    rules: str,
    engine: str,
    fmt: str,
    trace: bool,
    lang: str,
    report: str | None,
    audience: str,
) -> None:
    """Score case files (YAML, JSON, JSON Lines, or folders of them) and bundles (a folder or
    .zip with case.yaml and its evidence files; what the case leaves out is read from them)."""
    program = load_program(rules)
    scorer = Scorer(program, engine)  # type: ignore[arg-type]
    reports = _ReportTarget(report) if report else None
    failures = 0
    first = True
    for item in load_cases_with_bundles(paths, program):
        if isinstance(item, CaseFileError):
            failures += 1
            _report_error(fmt, str(item.loc or ""), None, item)
            continue
        try:
            scored = scorer.score(item)
        except (EngineError, CaseFileError) as exc:
            failures += 1
            _report_error(fmt, str(item.source or ""), item.case_id, exc)
            continue
        if fmt == "json":
            click.echo(ruling_json(scored.ruling))
        else:
            if not first:
                click.echo("")
            click.echo(render_summary(scored.ruling, program, lang, params=scored.prepared.params))
        first = False
        if trace:
            click.echo(render_trace(trace_of(program, scored), lang), err=fmt == "json")
        if reports is not None:
            reports.write(scorer, scored, lang, audience)
    if failures:
        click.echo(f"{failures} case(s) could not be scored", err=True)
        raise SystemExit(2)


class _ReportTarget:
    """Where ``--report PATH`` writes: one file, a folder (one <case_id>.html per case) or a
    pattern with {case_id}. The format follows the file's suffix (.html/.htm or .md)."""

    SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}

    def __init__(self, target: str) -> None:
        self.target = target
        self.pattern = "{case_id}" in target
        self.folder = not self.pattern and (target.endswith(("/", os.sep)) or Path(target).is_dir())
        self.written = 0
        self.names: dict[str, int] = {}  # report names given so far, and how often
        if not self.folder and Path(target).suffix.lower() not in self.SUFFIXES:
            raise click.UsageError(
                f"--report {target}: name a .html or .md file, a folder (out/) or a pattern "
                "with {case_id} (out/{case_id}.html)"
            )

    def path(self, case_id: str) -> Path:
        name = report_name(case_id)
        taken = self.names.get(name, 0)
        self.names[name] = taken + 1
        if taken:  # the same case_id twice in one run: "~" never occurs in a report_name
            name = f"{name}~{taken + 1}"
        if self.folder:
            return Path(self.target) / f"{name}.html"
        return Path(self.target.replace("{case_id}", name))

    def write(self, scorer: Scorer, scored: Scored, lang: str, audience: str) -> None:
        if self.written and not (self.folder or self.pattern):
            raise click.UsageError(
                f"--report {self.target} names one file but there are several cases; give a "
                "folder (out/) or a pattern with {case_id} (out/{case_id}.html)"
            )
        path = self.path(scored.ruling.case_id)
        fmt = self.SUFFIXES[path.suffix.lower()]
        text = build_report(scorer, scored, fmt=fmt, lang=lang, audience=audience)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.written += 1
        click.echo(f"report: {path}", err=True)


_NAME_MAX = 200  # bytes of a report's name; a longer one is cut and ends in a digest


def report_name(case_id: str) -> str:
    """A file name for the report of ``case_id``, the same id always giving the same name and
    different ids different names (``a/b``, ``a_b`` and ``a?b`` are ``a_2fb``, ``a_5fb`` and
    ``a_3fb``), never a path out of the folder (``..`` is ``_2e.``): letters, digits, ``-`` and
    ``.`` (not leading) stay; every other character is ``_`` and the hex of its UTF-8 bytes."""
    out = []
    for at, ch in enumerate(case_id):
        if ch.isalnum() and ch.isprintable() or ch == "-" or (ch == "." and at > 0):
            out.append(ch)
        else:
            data = ch.encode("utf-8", "surrogatepass")
            out.append("".join(f"_{byte:02x}" for byte in data))
    name = "".join(out) or "_"
    if len(name.encode()) > _NAME_MAX:  # a file name may have 255 bytes; room for .html
        digest = hashlib.sha256(case_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        while len(name.encode()) > _NAME_MAX - 17:
            name = name[: len(name) - max(1, (len(name.encode()) - _NAME_MAX + 17) // 3)]
        name = f"{name}~{digest}"
    return name


def _report_error(fmt: str, source: str, case_id: str | None, exc: AdjudicationError) -> None:
    click.echo(str(exc), err=True)
    if fmt == "json":
        click.echo(json.dumps(_error_object(source, case_id, exc), ensure_ascii=False))
