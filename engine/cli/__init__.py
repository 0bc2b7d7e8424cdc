"""The command line: a thin click layer over the library. The only module that prints or exits.

Exit codes: 0 ok; 1 a finding (e.g. a golden case that did not hold); 2 bad input or usage
(a malformed case or rule file, a case the rules cannot decide).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click

from engine.cases.load import load_cases
from engine.errors import AdjudicationError, CaseFileError, EngineError, RuleFileError
from engine.explain.context import AUDIENCES, report_context
from engine.explain.render import render_report, render_summary, render_trace
from engine.explain.trace import trace_of
from engine.explain.whatif import what_would_change
from engine.model import Case
from engine.rules.loader import load_rules
from engine.rules.program import Program
from engine.ruling import ruling_json
from engine.run.scoring import ENGINES, Scorer

__all__ = ["main"]

PROJECT_RULES = Path(__file__).resolve().parents[2] / "rules"


def _default_rules() -> str:
    env = os.environ.get("ADJUDICATE_RULES")
    if env:
        return env
    return "rules" if Path("rules").is_dir() else str(PROJECT_RULES)


def _load_program(rules: str) -> Program:
    try:
        return load_rules(rules)
    except RuleFileError as exc:
        click.echo(str(exc), err=True)
        click.echo(f"{len(exc.problems)} problem(s) in {rules}", err=True)
        raise SystemExit(2) from None


rules_option = click.option(
    "--rules", "rules", default=_default_rules, show_default="./rules or $ADJUDICATE_RULES",
    type=click.Path(file_okay=False), help="Folder of rule files.",
)  # fmt: skip


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="adjudicate")
def main() -> None:
    """Recommend rulings for marketplace buyer-seller disputes from YAML policy."""


def _error_object(source: str, case_id: str | None, exc: AdjudicationError) -> dict[str, Any]:
    kind = type(exc).__name__
    return {"case_id": case_id, "source": source, "error": {"type": kind, "message": str(exc)}}


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@rules_option
@click.option(
    "--engine",
    type=click.Choice(ENGINES),
    default="durable",
    show_default=True,
    help="Inference engine: durable_rules, or the plain-Python reference evaluator.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="A human summary, or ruling/1 JSON (one line per case).",
)
@click.option(
    "--trace",
    is_flag=True,
    help="Also print every firing with the facts it matched (on stderr with --format json).",
)
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="Language of the summary, the trace and the report.",
)
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
    """Score case files (YAML, JSON, JSON Lines, or folders of them)."""
    program = _load_program(rules)
    scorer = Scorer(program, engine)  # type: ignore[arg-type]
    reports = _ReportTarget(report) if report else None
    failures = 0
    first = True
    for item in load_cases(paths):
        if isinstance(item, CaseFileError):
            failures += 1
            _report_error(fmt, str(item.loc or ""), None, item)
            continue
        assert isinstance(item, Case)
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
            click.echo(render_summary(scored.ruling, program, lang))
        first = False
        if trace:
            click.echo(render_trace(trace_of(program, scored), lang), err=fmt == "json")
        if reports is not None:
            context = report_context(program, scored, what_would_change(scorer, scored), audience)
            reports.write(item.case_id, context, lang)
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
        if not self.folder and Path(target).suffix.lower() not in self.SUFFIXES:
            raise click.UsageError(
                f"--report {target}: name a .html or .md file, a folder (out/) or a pattern "
                "with {case_id} (out/{case_id}.html)"
            )

    def path(self, case_id: str) -> Path:
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in case_id) or "case"
        if self.folder:
            return Path(self.target) / f"{safe}.html"
        return Path(self.target.replace("{case_id}", safe))

    def write(self, case_id: str, context: dict[str, Any], lang: str) -> None:
        if self.written and not (self.folder or self.pattern):
            raise click.UsageError(
                f"--report {self.target} names one file but there are several cases; give a "
                "folder (out/) or a pattern with {case_id} (out/{case_id}.html)"
            )
        path = self.path(case_id)
        text = render_report(context, self.SUFFIXES[path.suffix.lower()], lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.written += 1
        click.echo(f"report: {path}", err=True)


def _report_error(fmt: str, source: str, case_id: str | None, exc: AdjudicationError) -> None:
    click.echo(str(exc), err=True)
    if fmt == "json":
        click.echo(json.dumps(_error_object(source, case_id, exc), ensure_ascii=False))


@main.group()
def rules() -> None:
    """Check and inspect the rule files."""


@rules.command()
@rules_option
def validate(rules: str) -> None:
    """Load every rule file and report every problem, located (exit 2 when any)."""
    program = _load_program(rules)
    click.echo(
        f"ok: {program.name} {program.version} ({program.digest[:19]}): {len(program.rules)} "
        f"rules, {len(program.evidence_kinds)} evidence kinds, {len(program.dispute_types)} "
        f"dispute types, {len(program.parameters)} parameters, {program.strata} rounds"
    )


@rules.command()
@rules_option
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--engine", type=click.Choice(ENGINES), default="reference", show_default=True)
@click.option(
    "--tests",
    "test_paths",
    multiple=True,
    type=click.Path(exists=True),
    help="Rule test files or folders to count too (default: policy-tests/ beside the rules).",
)
def coverage(rules: str, paths: tuple[str, ...], engine: str, test_paths: tuple[str, ...]) -> None:
    """List the rules no case or rule test fires (and validity requirements no case fails);
    exit 1 if any.

    PATHS default to the casefiles/ folder beside the rules.
    """
    from engine.policytools.coverage import rule_coverage

    program = _load_program(rules)
    scorer = Scorer(program, engine)  # type: ignore[arg-type]
    if not paths:
        paths = (str(Path(rules).resolve().parent / "casefiles"),)
    cases = []
    for item in load_cases(paths):
        if isinstance(item, CaseFileError):
            click.echo(str(item), err=True)
            raise SystemExit(2)
        cases.append(item)
    tests = _load_tests(program, test_paths or _default_tests(rules))
    result = rule_coverage(scorer, cases, tests)
    covered = len(program.rules) - len(result.unfired)
    click.echo(
        f"{covered}/{len(program.rules)} rules fired by {result.cases} cases "
        f"and {result.tests} rule tests"
    )
    for rule_id in result.unfired:
        rule = program.rule(rule_id)
        click.echo(f"  not fired: {rule_id}  [{rule.loc if rule else ''}]")
    for req in result.unmet_requirements:
        requirement = program.requirement(req)
        click.echo(f"  never failed: requirement {req}  [{requirement.loc if requirement else ''}]")
    if result.unfired or result.unmet_requirements:
        raise SystemExit(1)


@rules.command(name="compile")
@rules_option
@click.option("--dump", is_flag=True, required=True, help="Print what every rule became.")
@click.option("--rule", "only", multiple=True, help="Only these rule ids.")
@click.option(
    "--python",
    "python",
    is_flag=True,
    help="Print the Python the reference evaluator runs, round by round, instead.",
)
def compile_(rules: str, dump: bool, only: tuple[str, ...], python: bool) -> None:
    """Show what each rule became: its rounds, alternatives and the durable_rules patterns."""
    from engine.compile.durable import durable_name, rule_conditions
    from engine.compile.reference import python_source

    program = _load_program(rules)
    if python:
        for stratum in range(program.strata):
            click.echo(python_source(program, stratum))
        return
    unknown = [rid for rid in only if program.rule(rid) is None]
    if unknown:
        click.echo(f"unknown rule id(s): {', '.join(unknown)}", err=True)
        raise SystemExit(2)
    for rule in program.rules:
        if only and rule.id not in only:
            continue
        click.echo(f"{rule.id}  [{rule.loc}]  round {rule.stratum}")
        aliases = ", ".join(
            f"{a.name}: {a.fact_type}" + (f" {a.kind}" if a.kind else "") for a in rule.aliases
        )
        click.echo(f"  binds: {aliases}")
        for n, atoms in enumerate(rule.alternatives):
            tests = " and ".join(_atom_text(a) for a in atoms) or "always"
            click.echo(f"  reference #{n}: {tests}")
            body = json.dumps(rule_conditions(rule, atoms), ensure_ascii=False)
            click.echo(f"  durable {durable_name(rule.id, n)}: {body}")
        for effect in rule.effects:
            click.echo(f"  then: {effect.kind} " + _effect_text(effect))
        click.echo("")


def _atom_text(atom: Any) -> str:
    if atom.op in ("present", "missing"):
        return f"{atom.op}({atom.left})"
    if atom.op == "in":
        return f"{atom.left} in {list(atom.options)}"
    symbols = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
    return f"{atom.left} {symbols[atom.op]} {atom.right}"


def _effect_text(effect: Any) -> str:
    parts = []
    for name in ("target", "requirements", "issue", "ruling", "priority"):
        value = getattr(effect, name)
        if value not in (None, (), 0, ""):
            parts.append(f"{name}={value}")
    if effect.weight is not None:
        parts.append(f"weight={effect.weight.text}")
    for name in ("refund", "compensation"):
        value = getattr(effect, name)
        if value is not None:
            parts.append(f"{name}={value.text}")
    return " ".join(parts)


# ---------------------------------------------------------------- policy staff's toolkit


def _default_tests(rules: str) -> tuple[str, ...]:
    folder = Path(rules).resolve().parent / "policy-tests"
    return (str(folder),) if folder.is_dir() else ()


def _load_tests(program: Program, paths: Iterable[str]) -> Any:
    from engine.policytools.ruletests import load_rule_tests

    try:
        return load_rule_tests(paths, program)
    except RuleFileError as exc:
        click.echo(str(exc), err=True)
        click.echo(f"{len(exc.problems)} problem(s) in the rule tests", err=True)
        raise SystemExit(2) from None


@rules.command()
@rules_option
def lint(rules: str) -> None:
    """Find policy smells in rules that load (exit 1 when any): outcome gaps, contradictory
    rules, unreachable rules, profile and parameter date gaps, unfinished texts."""
    from engine.rules.lint import lint_program

    program = _load_program(rules)
    findings = lint_program(program)
    for finding in findings:
        click.echo(str(finding))
    if findings:
        click.echo(f"{len(findings)} finding(s) in {rules}", err=True)
        raise SystemExit(1)
    click.echo(f"ok: no findings in {len(program.rules)} rules")


@rules.command(name="test")
@rules_option
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option(
    "--engine",
    type=click.Choice([*ENGINES, "both"]),
    default="both",
    show_default=True,
    help="Run each test through durable_rules, the reference evaluator, or both (must agree).",
)
def test_(rules: str, paths: tuple[str, ...], engine: str) -> None:
    """Run the rule tests written in YAML (exit 1 when one fails, 2 when a file is malformed).

    PATHS are test files or folders; they default to policy-tests/ beside the rules.
    """
    from engine.policytools.ruletests import run_rule_test

    program = _load_program(rules)
    tests = _load_tests(program, paths or _default_tests(rules))
    names = ENGINES if engine == "both" else (engine,)
    scorers = [Scorer(program, name) for name in names]  # type: ignore[arg-type]
    failed = 0
    for test in tests:
        result = run_rule_test(test, scorers)
        if not result.passed:
            failed += 1
            click.echo(result.report())
    click.echo(f"{len(tests)} rule tests: {len(tests) - failed} passed, {failed} failed")
    if failed:
        raise SystemExit(1)


@rules.command()
@click.argument("old", type=click.Path(exists=True, file_okay=False))
@click.argument("new", type=click.Path(exists=True, file_okay=False))
def diff(old: str, new: str) -> None:
    """Show the rules and parameter values added, removed and changed from OLD to NEW (exit 1
    when there are differences)."""
    from engine.rules.diff import diff_programs, render_changes

    changes = diff_programs(_load_program(old), _load_program(new))
    if not changes:
        click.echo("no differences")
        return
    click.echo(render_changes(changes))
    click.echo(f"{len(changes)} difference(s)", err=True)
    raise SystemExit(1)


# --- batch and impact: re-scoring archives (engine.batch) ---------------------------------------


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

    from engine.batch import BatchError, CrashHook, assess_impact, rescore
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
            report = assess_impact(archive, programs[0], programs[1], **common)
    except (BatchError, CaseFileError) as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(2) from None
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


# ---------------------------------------------------------------- batch re-scoring


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
    _run_batch("score", (_load_program(rules),), archive, **kw)


@main.command()
@click.option(
    "--old", required=True, type=click.Path(file_okay=False), help="Rules before the change."
)
@click.option(
    "--new", required=True, type=click.Path(file_okay=False), help="Rules after the change."
)
@_batch_options
def impact(archive: tuple[str, ...], old: str, new: str, **kw: Any) -> None:
    """Score an archive under two rule versions and report what the change flips.

    Writes OUT/impact.json and OUT/impact.html (flips by old -> new ruling, the rules
    responsible, examples linking to each case's two rulings). Exit 0 when no ruling or amount
    changes, 1 when some do (or shards were quarantined), 2 on bad input.
    """
    _run_batch("impact", (_load_program(old), _load_program(new)), archive, **kw)


# ---------------------------------------------------------------- the arbitrator's desk


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
        from engine.web.store import SchemaTooNew
    except ImportError as exc:
        click.echo(f"serve needs the web extra: pip install -e '.[web]' ({exc})", err=True)
        raise SystemExit(2) from None
    program = _load_program(rules)
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
        click.echo(f"{db}: {exc}", err=True)
        raise SystemExit(2) from None
    click.echo(
        f"adjudicate desk: http://{host}:{port}/ ({program.name} {program.version}, "
        f"{engine} engine, database {db}{', token required' if token else ''})",
        err=True,
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


def run(argv: Iterable[str] | None = None) -> int:
    """Run the CLI in-process (for tests and embedding); returns the exit code."""
    try:
        main.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    except click.ClickException as exc:
        exc.show()
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
