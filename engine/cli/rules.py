"""``adjudicate rules ...``: the policy staff's toolkit (validate, lint, test, coverage, diff,
compile --dump)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from engine.cases.load import load_cases
from engine.cli.base import Failure, engine_option, load_program, main, rules_option
from engine.errors import CaseFileError, RuleFileError
from engine.rules.program import Program
from engine.rules.reading import is_date
from engine.rules.semantics import condition_text
from engine.run.params import policy_timezone
from engine.run.scoring import ENGINES, Scorer

__all__ = ["rules"]


@main.group()
def rules() -> None:
    """Check and inspect the rule files."""


@rules.command()
@rules_option
def validate(rules: str) -> None:
    """Load every rule file and report every problem, located (exit 2 when any)."""
    program = load_program(rules)
    click.echo(
        f"ok: {program.name} {program.version} ({program.digest[:19]}): {len(program.rules)} "
        f"rules, {len(program.evidence_kinds)} evidence kinds, {len(program.dispute_types)} "
        f"dispute types, {len(program.parameters)} parameters, {program.strata} rounds"
    )


@rules.command()
@rules_option
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@engine_option("reference", "Inference engine to score the cases and tests with.")
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

    program = load_program(rules)
    scorer = Scorer(program, engine)  # type: ignore[arg-type]
    if not paths:
        beside = Path(rules).resolve().parent / "casefiles"
        if not beside.is_dir():
            raise click.UsageError(
                f"no sample cases for {rules}: {beside} does not exist; name case files or "
                f"folders: adjudicate rules coverage --rules {rules} PATH..."
            )
        paths = (str(beside),)
    cases = []
    for item in load_cases(paths, fields=program.declared_fields()):
        if isinstance(item, CaseFileError):
            click.echo(str(item), err=True)
            raise SystemExit(2)
        cases.append(item)
    tests = _load_tests(program, rules, test_paths, required=bool(test_paths))
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

    program = load_program(rules)
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
            tests = condition_text((atoms,))  # as compiled: predicates as their fields
            click.echo(f"  reference #{n}: {tests}")
            body = json.dumps(rule_conditions(rule, atoms), ensure_ascii=False)
            click.echo(f"  durable {durable_name(rule.id, n)}: {body}")
        for effect in rule.effects:
            click.echo(f"  then: {effect.kind} " + _effect_text(effect))
        click.echo("")


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


def _tests_beside(rules: str) -> Path:
    """Where the rule tests of a rules folder live: policy-tests/ beside it."""
    return Path(rules).resolve().parent / "policy-tests"


def _load_tests(
    program: Program, rules: str, paths: Iterable[str], *, required: bool
) -> tuple[Any, ...]:
    """The rule tests named, or those that belong with the rules folder; with ``required``,
    finding none is an error (a test run that runs nothing must not pass)."""
    from engine.policytools.ruletests import find_test_files, load_rule_tests

    named = tuple(paths)
    where = named or (str(_tests_beside(rules)),)
    if not named and not _tests_beside(rules).is_dir():
        if not required:
            return ()
        raise click.UsageError(
            f"no rule tests for {rules}: {_tests_beside(rules)} does not exist; write the "
            f"tests there, or name test files or folders: adjudicate rules test --rules "
            f"{rules} PATH..."
        )
    if required and not find_test_files(where):
        raise click.UsageError(
            f"no rule tests in {', '.join(where)}: no .yaml files there; write a test file "
            "(docs/policy-guide.md, 'Write a rule test') or name where the tests are"
        )
    try:
        return load_rule_tests(where, program)
    except RuleFileError as exc:
        raise Failure(exc, f"{len(exc.problems)} problem(s) in the rule tests") from None


@rules.command()
@rules_option
@click.option(
    "--baseline",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="The approved rules this change starts from: new parameter values dated in the past "
    "(before --today, or before the newest approved value) are reported (L013).",
)
@click.option(
    "--today",
    metavar="YYYY-MM-DD",
    default=None,
    help="The day the change is judged on (default: today in the policy's timezone).",
)
def lint(rules: str, baseline: str | None, today: str | None) -> None:
    """Find policy smells in rules that load (exit 1 when any): outcome gaps, contradictory
    rules, unreachable rules, profile and parameter date gaps, unfinished texts, comparisons
    with kinds that do not exist, back-dated values, standards that decide nothing new."""
    from engine.rules.lint import lint_program

    program = load_program(rules)
    if today is None:
        today = datetime.now(policy_timezone(program)).date().isoformat()
    elif not is_date(today):
        raise click.BadParameter(f"{today!r} is not a date like 2027-01-01", param_hint="--today")
    approved = load_program(baseline) if baseline else None
    findings = lint_program(program, today=today, baseline=approved)
    for finding in findings:
        click.echo(str(finding))
    if findings:
        click.echo(f"{len(findings)} finding(s) in {rules}", err=True)
        raise SystemExit(1)
    click.echo(f"ok: no findings in {len(program.rules)} rules")


@rules.command(name="test")
@rules_option
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@engine_option(
    "both",
    "Run each test through durable_rules, the reference evaluator, or both (must agree).",
    both=True,
)
def test_(rules: str, paths: tuple[str, ...], engine: str) -> None:
    """Run the rule tests written in YAML (exit 1 when one fails, 2 when a file is malformed).

    PATHS are test files or folders; they default to policy-tests/ beside the rules.
    """
    from engine.policytools.ruletests import run_rule_test

    program = load_program(rules)
    tests = _load_tests(program, rules, paths, required=True)
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
@click.option(
    "--today",
    metavar="YYYY-MM-DD",
    default=None,
    help="The day the change is reviewed on, to tell back-dated values (default: today).",
)
def diff(old: str, new: str, today: str | None) -> None:
    """Show the rules and parameter values added, removed and changed from OLD to NEW, as
    written (each new parameter value with the one it replaces), and warn of what a reviewer
    must not miss (exit 1 when there are differences)."""
    from engine.rules.diff import diff_programs, render_changes, review_warnings

    before, after = load_program(old), load_program(new)
    changes = diff_programs(before, after)
    if not changes:
        click.echo("no differences")
        return
    click.echo(render_changes(changes))
    day = today or datetime.now(policy_timezone(after)).date().isoformat()
    for warning in review_warnings(before, after, changes, today=day):
        click.echo(f"warning: {warning}")
    click.echo(f"{len(changes)} difference(s)", err=True)
    raise SystemExit(1)
