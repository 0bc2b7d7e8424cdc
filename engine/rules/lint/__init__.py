"""Program -> policy smells: located findings, each with a stable code and a fix hint.

The loader already refuses what cannot run (unknown names, duplicate ids, more than 16 patterns
in a rule, cycles between rules, a requirement no rule meets); lint looks at a program that loads
and finds what is legal but probably not what policy staff meant. The codes are stable:

    L001  a dispute type leaves a combination of issue statuses with no outcome
    L002  a dispute type with no burden and no outcome rule of its own
    L003  two rules can fire together with contradictory effects
    L004  a condition that can never hold (contradictory tests in one alternative)
    L005  a rule on an issue that no dispute type in its scope decides
    L006  an issue that no dispute type puts a burden on
    L007  an evidence kind whose items can never count towards a ruling
    L008  profiles of one platform with a gap or an overlap between their dates
    L009  a parameter value tagged with a profile that is not in force on its date
    L010  a parameter with no value in force when a profile starts
    L011  a reason or source that looks unfinished (untranslated, identical texts, placeholder)
    L012  a condition comparing a kind or an issue name with a text that is none of them
    L013  a parameter value dated in the past: it re-rules cases already decided
    L014  a dated proof standard that no achievable score separates from the one before it

Negation over facts and regular expressions cannot be written in the rule language at all, and
every pattern starts with a type test, so the durable_rules pitfalls of research §2.6 and §2.5
have no lint: they cannot occur. Decisions are made from what conditions say, never by running
cases, so "can fire" means "no test in it contradicts the situation".
"""

from __future__ import annotations

from engine.rules.lint.changes import backdated_values, unseparated_standards
from engine.rules.lint.dates import parameter_profiles, profile_dates
from engine.rules.lint.findings import CODES, Finding
from engine.rules.lint.names import unknown_names
from engine.rules.lint.outcomes import contradictory_effects, no_burden, no_default_outcome
from engine.rules.lint.reach import (
    impossible_conditions,
    undecided_issue_rules,
    unusable_kinds,
    unused_issues,
)
from engine.rules.lint.texts import unfinished_texts
from engine.rules.program import Program

__all__ = ["CODES", "Finding", "lint_program"]


def lint_program(
    program: Program, *, today: str | None = None, baseline: Program | None = None
) -> tuple[Finding, ...]:
    """Every finding of every check, in a stable order (by file, line, code). ``today`` (an ISO
    date) and ``baseline`` (the approved rules the program changes) let L013 tell a new value
    dated in the past."""
    findings: list[Finding] = []
    findings += no_default_outcome(program)
    findings += no_burden(program)
    findings += contradictory_effects(program)
    findings += impossible_conditions(program)
    findings += undecided_issue_rules(program)
    findings += unused_issues(program)
    findings += unusable_kinds(program)
    findings += profile_dates(program)
    findings += parameter_profiles(program)
    findings += unfinished_texts(program)
    findings += unknown_names(program)
    findings += backdated_values(program, today=today, baseline=baseline)
    findings += unseparated_standards(program)
    unique = dict.fromkeys(findings)
    return tuple(sorted(unique, key=lambda f: (f.loc.path, f.loc.line, f.code, f.message)))
