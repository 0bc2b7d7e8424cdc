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

Negation over facts and regular expressions cannot be written in the rule language at all, and
every pattern starts with a type test, so the durable_rules pitfalls of research §2.6 and §2.5
have no lint: they cannot occur. Decisions are made from what conditions say, never by running
cases, so "can fire" means "no test in it contradicts the situation".
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from engine.errors import Problem, source_lines
from engine.model import SourceLoc
from engine.rules.program import Atom, Const, DisputeType, Effect, FieldRef, Profile, Program, Rule
from engine.rules.schema import SINGLETONS
from engine.rules.semantics import MIRRORED, atom_text

__all__ = ["CODES", "Finding", "lint_program"]

CODES = {
    "L001": "no outcome for a combination of issue statuses",
    "L002": "dispute type with no burden and no outcome of its own",
    "L003": "rules that can fire together with contradictory effects",
    "L004": "condition that can never hold",
    "L005": "rule on an issue its dispute types never decide",
    "L006": "issue no dispute type decides",
    "L007": "evidence kind that can never count",
    "L008": "profiles with a gap or an overlap",
    "L009": "parameter value under the wrong profile",
    "L010": "parameter with no value when a profile starts",
    "L011": "unfinished reason or source",
}
STATUSES = ("proven", "not_proven", "inconclusive", "contested")
ASKED_FIELD = "buyer_evidence_requested_at"  # contract field: whether the buyer was asked
MAX_PER_TYPE = 6  # L001 findings per dispute type before "and N more"
_CJK = re.compile(r"[\u3400-\u9fff]")
_PLACEHOLDER = re.compile(r"^\s*(todo|tbd|fixme|xxx|\?+|\.\.\.|…|-+)\s*[:.]?\s*$", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One policy smell: its code, where it is, what it is and how to fix it."""

    code: str
    message: str
    loc: SourceLoc
    hint: str = ""

    def problem(self, lines: dict[str, list[str]] | None = None) -> Problem:
        """As a Problem (``file:line:col: Lxxx message``, the line and the hint)."""
        source = (lines or {}).get(self.loc.path) or source_lines(self.loc.path)
        return Problem.at(self.loc, f"{self.code} {self.message}", source, hint=self.hint)

    def __str__(self) -> str:
        return str(self.problem())


def lint_program(program: Program) -> tuple[Finding, ...]:
    """Every finding of every check, in a stable order (by file, line, code)."""
    findings: list[Finding] = []
    findings += _no_default_outcome(program)
    findings += _no_burden(program)
    findings += _contradictory_effects(program)
    findings += _impossible_conditions(program)
    findings += _undecided_issue_rules(program)
    findings += _unused_issues(program)
    findings += _unusable_kinds(program)
    findings += _profile_dates(program)
    findings += _parameter_profiles(program)
    findings += _unfinished_texts(program)
    unique = dict.fromkeys(findings)
    return tuple(sorted(unique, key=lambda f: (f.loc.path, f.loc.line, f.code, f.message)))


# ---------------------------------------------------------------- atoms and contradictions

Key = tuple[str, str]  # (canonical fact, field)
_RELATIONS = {
    "eq": {"="}, "ne": {"<", ">"}, "lt": {"<"}, "le": {"<", "="}, "gt": {">"}, "ge": {">", "="},
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Test:
    """An atom with its facts renamed, so that atoms of different rules can be compared."""

    op: str
    left: Key
    right: Key | None  # another field
    value: Any = None  # a constant
    options: tuple[Any, ...] = ()


def _canonical(rule: Rule, shared: dict[str, str] | None = None) -> dict[str, str]:
    """Alias -> a fact name that means the same fact in every rule where it is shared.

    The singletons (order, dispute, ...) and an issue bound by name are one fact per case;
    other evidence and ``any_issue`` aliases stay private to the rule unless ``shared`` says.
    """
    names: dict[str, str] = {}
    for alias in rule.aliases:
        if alias.name in (shared or {}):
            names[alias.name] = (shared or {})[alias.name]
        elif alias.fact_type in SINGLETONS:
            names[alias.name] = alias.fact_type
        elif alias.fact_type == "issue" and alias.kind is not None:
            names[alias.name] = f"issue:{alias.kind}"
        else:
            names[alias.name] = f"{rule.id}:{alias.name}"
    return names


def _key(ref: FieldRef, names: dict[str, str]) -> Key:
    return (names.get(ref.alias, ref.alias), ref.fact_field)


def _tests(atoms: Iterable[Atom], names: dict[str, str]) -> list[_Test]:
    out = []
    for atom in atoms:
        left = _key(atom.left, names)
        if isinstance(atom.right, FieldRef):
            right = _key(atom.right, names)
            op = atom.op
            if right < left:
                left, right, op = right, left, MIRRORED[op]
            out.append(_Test(op, left, right))
        elif isinstance(atom.right, Const):
            out.append(_Test(atom.op, left, None, atom.right.value))
        else:
            out.append(_Test(atom.op, left, None, None, atom.options))
    return out


def _fields(test: _Test) -> tuple[Key, ...]:
    return (test.left,) if test.right is None else (test.left, test.right)


def _interval(test: _Test) -> tuple[float, bool, float, bool] | None:
    """(low, low included, high, high included) of a comparison with a number, else None."""
    value = test.value
    if test.right is not None or isinstance(value, bool) or not isinstance(value, int):
        return None
    inf = float("inf")
    return {
        "eq": (value, True, value, True),
        "lt": (-inf, False, value, False),
        "le": (-inf, False, value, True),
        "gt": (value, False, inf, False),
        "ge": (value, True, inf, False),
    }.get(test.op)


def _disjoint(a: tuple[float, bool, float, bool], b: tuple[float, bool, float, bool]) -> bool:
    low, low_in = max((a[0], a[1]), (b[0], b[1]), key=lambda x: (x[0], not x[1]))
    high, high_in = min((a[2], a[3]), (b[2], b[3]), key=lambda x: (x[0], x[1]))
    return low > high or (low == high and not (low_in and high_in))


def _contradict(a: _Test, b: _Test) -> bool:
    """True when no facts can satisfy both tests (a comparison with a missing value is false)."""
    if a.op == "missing" or b.op == "missing":
        other, gone = (b, a) if a.op == "missing" else (a, b)
        return other.op != "missing" and gone.left in _fields(other)
    if a.left != b.left or a.right != b.right:
        return False
    if a.right is not None:  # two fields compared both times
        return not (_RELATIONS[a.op] & _RELATIONS[b.op])
    if a.op == "present" or b.op == "present":
        return False
    allowed_a, allowed_b = _allowed(a), _allowed(b)
    if allowed_a is not None and allowed_b is not None:
        return not (allowed_a & allowed_b)
    for x, y in ((a, b), (b, a)):
        if x.op == "ne" and (allowed := _allowed(y)) is not None and allowed <= {x.value}:
            return True
    range_a, range_b = _interval(a), _interval(b)
    return range_a is not None and range_b is not None and _disjoint(range_a, range_b)


def _allowed(test: _Test) -> set[Any] | None:
    if test.op == "eq":
        return {test.value}
    if test.op == "in":
        return set(test.options)
    return None


def _contradiction(tests: list[_Test]) -> tuple[int, int] | None:
    for i, j in itertools.combinations(range(len(tests)), 2):
        if _contradict(tests[i], tests[j]):
            return i, j
    return None


def _exclusive(first: list[_Test], second: list[_Test]) -> bool:
    return any(_contradict(a, b) for a in first for b in second)


# ---------------------------------------------------------------- L001, L002: outcomes


def _ruling_effect(rule: Rule) -> Effect | None:
    return next((e for e in rule.effects if e.kind == "ruling"), None)


def _scope(rule: Rule, program: Program) -> set[str]:
    """The dispute types a rule can fire for (every type unless all alternatives narrow it)."""
    every = {d.name for d in program.dispute_types}
    scope: set[str] = set()
    for atoms in rule.alternatives:
        narrowed = every
        for atom in atoms:
            if atom.left == FieldRef("dispute", "type"):
                if atom.op == "in":
                    narrowed = narrowed & set(atom.options)
                elif atom.op == "eq" and isinstance(atom.right, Const):
                    narrowed = narrowed & {atom.right.value}
        scope |= narrowed
    return scope


def _may_fire(rule: Rule, dtype: DisputeType, statuses: dict[str, str], asked: bool) -> bool:
    """Whether the rule's conditions allow it to fire for one situation of a dispute type.

    Tests on an issue's status, the dispute type and whether the buyer was asked are decided by
    the situation; every other test is taken as possibly true.
    """
    issue_aliases = [a for a in rule.aliases if a.fact_type == "issue"]
    choices = [
        [a.kind] if a.kind is not None else list(statuses) for a in issue_aliases
    ]  # any_issue binds each issue of the type in turn
    for chosen in itertools.product(*choices):
        binding = {a.name: issue for a, issue in zip(issue_aliases, chosen, strict=True)}
        if any(issue not in statuses for issue in binding.values()):
            continue
        if len(set(binding.values())) < len(binding):
            continue  # no fact is bound twice in one combination
        for atoms in rule.alternatives:
            if all(_atom_allows(a, dtype, binding, statuses, asked) for a in atoms):
                return True
    return False


def _atom_allows(
    atom: Atom, dtype: DisputeType, binding: dict[str, str], statuses: dict[str, str], asked: bool
) -> bool:
    left = atom.left
    value: Any
    if left.alias in binding and left.field == "status":
        value = statuses[binding[left.alias]]
    elif left.alias in binding and left.field == "name":
        value = binding[left.alias]
    elif left == FieldRef("dispute", "type"):
        value = dtype.name
    elif left == FieldRef("dispute", ASKED_FIELD) and atom.op in ("present", "missing"):
        return asked == (atom.op == "present")
    else:
        return True
    if atom.op == "in":
        return value in atom.options
    if isinstance(atom.right, Const) and atom.op in ("eq", "ne"):
        return bool(value == atom.right.value) == (atom.op == "eq")
    return True


def _no_default_outcome(program: Program) -> Iterator[Finding]:
    outcomes = [r for r in program.rules if _ruling_effect(r) is not None]
    for dtype in program.dispute_types:
        issues = [name for name, _ in dtype.burdens]
        if not issues:
            continue
        skippable = {name for name, _ in dtype.skips}
        relevant = [
            r
            for r in outcomes
            if dtype.name in _scope(r, program) and any(a.fact_type == "issue" for a in r.aliases)
        ]
        options = [[*STATUSES, *(["skipped"] if i in skippable else [])] for i in issues]
        gaps: list[tuple[dict[str, str], bool]] = []
        for combo in itertools.product(*options):
            statuses = dict(zip(issues, combo, strict=True))
            for asked in (False, True):
                if not any(_may_fire(r, dtype, statuses, asked) for r in relevant):
                    gaps.append((statuses, asked))
        messages = []
        for statuses, asked in gaps:
            both = (statuses, not asked) in gaps
            if both and asked:
                continue  # reported once, whether or not the buyer was asked
            situation = " and ".join(f"'{k}' is {v}" for k, v in statuses.items())
            if not both:
                situation += " (buyer already asked)" if asked else " (buyer not yet asked)"
            messages.append(
                f"dispute type '{dtype.name}': no outcome rule can fire when {situation}"
            )
        for message in messages[:MAX_PER_TYPE]:
            yield Finding(
                code="L001",
                message=message,
                loc=dtype.loc,
                hint="add a rule with then: {ruling: ...} for this situation",
            )
        if len(messages) > MAX_PER_TYPE:
            yield Finding(
                code="L001",
                message=f"dispute type '{dtype.name}': and {len(messages) - MAX_PER_TYPE} more "
                "situations with no outcome",
                loc=dtype.loc,
            )


def _no_burden(program: Program) -> Iterator[Finding]:
    for dtype in program.dispute_types:
        if dtype.burdens:
            continue
        own = [
            r
            for r in program.rules
            if _ruling_effect(r) is not None
            and _scope(r, program) == {dtype.name}
            and not any(a.fact_type == "issue" for a in r.aliases)
        ]
        if not own:
            yield Finding(
                code="L002",
                message=f"dispute type '{dtype.name}' has no burden and no outcome rule of its "
                "own: only the admission gate can decide its cases",
                loc=dtype.loc,
                hint="give it a burden (issue: buyer|seller), or rules with dispute_type: "
                f"{dtype.name} that give a ruling",
            )


# ---------------------------------------------------------------- L003: contradictory effects


def _contradictory_effects(program: Program) -> Iterator[Finding]:
    outcomes = [(r, e) for r in program.rules if (e := _ruling_effect(r)) is not None]
    for (first, one), (second, other) in itertools.combinations(outcomes, 2):
        if one.priority != other.priority or one.outcome_key() == other.outcome_key():
            continue
        if not (_scope(first, program) & _scope(second, program)):
            continue
        if _can_hold_together(first, second, {}, {}):
            yield Finding(
                code="L003",
                message=f"rules '{first.id}' ({one.ruling}) and '{second.id}' ({other.ruling}, "
                f"{second.loc}) have the same priority {one.priority} and nothing in their "
                "conditions keeps them from firing together",
                loc=first.loc,
                hint="give one a higher priority, or add a test that makes them exclusive",
            )
    # the same item supporting and opposing one issue
    sides = [(r, e) for r in program.rules for e in r.effects if e.kind in ("supports", "opposes")]
    for (first, one), (second, other) in itertools.combinations(sides, 2):
        if one.issue != other.issue or one.kind == other.kind:
            continue
        kind_one = first.alias(one.target or "evidence").kind
        kind_two = second.alias(other.target or "evidence").kind
        if kind_one is not None and kind_two is not None and kind_one != kind_two:
            continue
        if _can_hold_together(
            first, second, {one.target or "evidence": "item"}, {other.target or "evidence": "item"}
        ):
            yield Finding(
                code="L003",
                message=f"rules '{first.id}' ({one.kind} {one.issue}) and '{second.id}' "
                f"({other.kind} {other.issue}, {second.loc}) can fire on the same item",
                loc=first.loc,
                hint="add a test that makes them exclusive for one item",
            )


def _can_hold_together(
    first: Rule, second: Rule, shared_first: dict[str, str], shared_second: dict[str, str]
) -> bool:
    names_one = _canonical(first, shared_first)
    names_two = _canonical(second, shared_second)
    for atoms_one in first.alternatives:
        tests_one = _tests(atoms_one, names_one)
        if _contradiction(tests_one) is not None:
            continue
        for atoms_two in second.alternatives:
            tests_two = _tests(atoms_two, names_two)
            if _contradiction(tests_two) is None and not _exclusive(tests_one, tests_two):
                return True
    return False


# ---------------------------------------------------------------- L004 - L007: reachability


def _impossible_conditions(program: Program) -> Iterator[Finding]:
    for rule in program.rules:
        names = {a.name: a.name for a in rule.aliases}
        dead = []
        for n, atoms in enumerate(rule.alternatives):
            pair = _contradiction(_tests(atoms, names))
            if pair is not None:
                dead.append((n, atoms[pair[0]], atoms[pair[1]]))
        if not dead:
            continue
        n, one, two = dead[0]
        texts = program.predicate_texts()
        shown = f"'{atom_text(one, texts)}' and '{atom_text(two, texts)}'"
        if len(dead) == len(rule.alternatives):
            message = f"rule '{rule.id}' can never fire: {shown} cannot both hold"
        else:
            message = (
                f"rule '{rule.id}': one of its alternatives can never hold: {shown} cannot "
                "both hold"
            )
        yield Finding(
            code="L004",
            message=message,
            loc=rule.loc,
            hint="check the values and the comparison; `rules compile --dump` shows the "
            "alternatives",
        )


def _undecided_issue_rules(program: Program) -> Iterator[Finding]:
    by_type = {d.name: {i for i, _ in d.burdens} for d in program.dispute_types}
    for rule in program.rules:
        scope = _scope(rule, program)
        decided = set().union(*(by_type[name] for name in scope)) if scope else set()
        for alias in rule.aliases:
            if alias.fact_type != "issue":
                continue
            if alias.kind is None and decided:
                continue
            if alias.kind is None or alias.kind not in decided:
                what = f"issue '{alias.kind}'" if alias.kind else "any issue"
                where = ", ".join(sorted(scope)) or "no dispute type"
                yield Finding(
                    code="L005",
                    message=f"rule '{rule.id}' can never fire: it matches {what}, which no "
                    f"dispute type in its scope ({where}) decides",
                    loc=rule.loc,
                    hint="add the issue to a dispute type's burden, or change dispute_type:",
                )


def _unused_issues(program: Program) -> Iterator[Finding]:
    decided = {i for d in program.dispute_types for i, _ in d.burdens}
    for issue in program.issues:
        if issue.name not in decided:
            yield Finding(
                code="L006",
                message=f"issue '{issue.name}' is in no dispute type's burden, so it is never "
                "decided and rules on it never fire",
                loc=issue.loc,
                hint=f"add '{issue.name}: buyer' (or seller) to a dispute type's burden, or "
                "remove the issue",
            )


def _unusable_kinds(program: Program) -> Iterator[Finding]:
    decided = {i for d in program.dispute_types for i, _ in d.burdens}
    counts: set[str | None] = set()  # kinds whose items can move an issue or another rule
    about: set[str] = set()  # kinds that some rule concludes something about
    for rule in program.rules:
        targets = {e.target for e in rule.effects if e.target}
        for effect in rule.effects:
            if effect.target is None:
                continue
            kind = rule.alias(effect.target).kind
            if kind is not None:
                about.add(kind)
            if effect.kind in ("supports", "opposes") and effect.issue in decided:
                counts.add(kind)
        if rule.effects:
            for alias in rule.aliases:
                if alias.fact_type == "evidence" and alias.name not in targets and alias.kind:
                    counts.add(alias.kind)  # read by a rule about another item
    if None in counts:
        return  # a rule about items of any kind can use every kind
    for declared in program.evidence_kinds:
        if declared.name in about and declared.name not in counts:
            yield Finding(
                code="L007",
                message=f"evidence kind '{declared.name}': rules decide about its items, but no "
                "rule lets one support or oppose an issue that a dispute type decides, and "
                "no other rule reads them; they can never change a ruling",
                loc=declared.loc,
                hint="add a rule with then: {supports: <issue>, weight: ...}, or put the "
                "issue it supports in a dispute type's burden",
            )


# ---------------------------------------------------------------- L008 - L010: dates


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _profile_dates(program: Program) -> Iterator[Finding]:
    platforms = {p.platform for p in program.profiles}
    for platform in sorted(platforms, key=lambda p: p or ""):
        group = sorted(
            (p for p in program.profiles if p.platform == platform),
            key=lambda p: p.since or "",
        )
        for profile in group:
            if profile.since and profile.until and profile.until < profile.since:
                yield Finding(
                    code="L008",
                    message=f"profile '{profile.name}' ends ({profile.until}) before it starts "
                    f"({profile.since})",
                    loc=profile.loc,
                )
        for before, after in itertools.pairwise(group):
            if after.since is None:
                continue
            if before.until is None:
                yield Finding(
                    code="L008",
                    message=f"profiles '{before.name}' and '{after.name}' overlap: "
                    f"'{before.name}' has no end date and '{after.name}' starts on {after.since}",
                    loc=before.loc,
                    hint=f"give '{before.name}' until: the day before {after.since}",
                )
            elif before.until >= after.since:
                yield Finding(
                    code="L008",
                    message=f"profiles '{before.name}' (until {before.until}) and "
                    f"'{after.name}' (since {after.since}) overlap",
                    loc=after.loc,
                    hint=f"start '{after.name}' on {_next_day(before.until)}",
                )
            elif _next_day(before.until) != after.since:
                yield Finding(
                    code="L008",
                    message=f"no profile is in force from {_next_day(before.until)} to the day "
                    f"before {after.since}, between '{before.name}' and '{after.name}'",
                    loc=after.loc,
                    hint=f"start '{after.name}' on {_next_day(before.until)}",
                )


def _profile_on(program: Program, day: str, platform: str) -> Profile | None:
    best: Profile | None = None
    best_key: tuple[bool, str] | None = None
    for profile in program.profiles:
        if (profile.since is not None and profile.since > day) or (
            profile.until is not None and profile.until < day
        ):
            continue
        if profile.platform is not None and profile.platform != platform:
            continue
        key = (profile.platform is not None, profile.since or "")
        if best_key is None or key > best_key:
            best, best_key = profile, key
    return best


def _parameter_profiles(program: Program) -> Iterator[Finding]:
    for param in program.parameters:
        for value in param.values:
            if value.profile is None:
                continue
            in_force = _profile_on(program, value.since, value.platform or "")
            if in_force is None or in_force.name != value.profile:
                now = f"'{in_force.name}'" if in_force else "no profile"
                yield Finding(
                    code="L009",
                    message=f"value of '{param.name}' since {value.since} says profile "
                    f"'{value.profile}', but {now} is in force on that date",
                    loc=value.loc,
                    hint="correct the since date or the profile",
                )
    for profile in program.profiles:
        if profile.since is None:
            continue
        for param in program.parameters:
            if param.value_on(profile.since, profile.platform or "") is None:
                yield Finding(
                    code="L010",
                    message=f"parameter '{param.name}' has no value in force on "
                    f"{profile.since}, when profile '{profile.name}' starts",
                    loc=param.loc,
                    hint=f"add a value with since: {profile.since} (or earlier)",
                )


# ---------------------------------------------------------------- L011: texts


def _unfinished_texts(program: Program) -> Iterator[Finding]:
    for rule in program.rules:
        problems = []
        if _PLACEHOLDER.match(rule.source) or len(rule.source.strip()) < 8:
            problems.append(f"its source {rule.source!r} cites nothing")
        if rule.reason.zh.strip() == rule.reason.en.strip():
            problems.append("its zh and en reasons are the same text")
        else:
            if not _CJK.search(rule.reason.zh):
                problems.append("its zh reason has no Chinese")
            if _CJK.search(rule.reason.en):
                problems.append("its en reason has Chinese in it")
        if problems:
            yield Finding(
                code="L011",
                message=f"rule '{rule.id}': " + "; ".join(problems),
                loc=rule.loc,
                hint="source: the seed sentence or practice it encodes; reason: {zh: 中文, en: "
                "English}",
            )
