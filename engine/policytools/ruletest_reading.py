"""Rule test files (YAML written by policy staff) -> RuleTest: the case each test builds (a case
file or an inline case, patched, moved to a date or a profile) and what it expects.

A malformed test file is a ``RuleFileError`` listing every problem, located.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from engine.cases.load import case_from_data
from engine.cases.redate import redated
from engine.errors import (
    CaseFileError,
    Problem,
    RuleFileError,
    did_you_mean,
    source_lines,
)
from engine.model import Case, SourceLoc
from engine.rules.program import Program
from engine.rules.schema import ISSUE_STATUSES
from engine.rules.yamlsource import LList, LMap, YamlError, load_located
from engine.ruling import RULINGS
from engine.run.params import policy_timezone

__all__ = [
    "EVIDENCE_KEYS",
    "EXPECT_KEYS",
    "TEST_KEYS",
    "RuleTest",
    "TestReader",
    "find_test_files",
    "load_rule_tests",
]

TEST_KEYS = ("name", "case", "patch", "date", "profile", "expect")
EXPECT_KEYS = (
    "ruling", "reason_code", "refund_amount", "compensation_amount", "return_required",
    "return_shipping_paid_by", "profile", "fired", "not_fired", "evidence", "issues",
    "next_step", "warnings",
)  # fmt: skip
EVIDENCE_KEYS = ("admitted", "valid", "weight")


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleTest:
    """One test: the case as the test builds it, and what the ruling must show."""

    name: str
    path: str  # the test file
    loc: SourceLoc  # where the test is written
    case: Case
    expect: Mapping[str, Any]
    profile: str | None = None

    @property
    def label(self) -> str:
        return f"{self.path}::{self.name}"


def find_test_files(paths: Iterable[str | Path]) -> list[Path]:
    """The test files named, or the *.yaml files under the folders named, sorted."""
    out: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        else:
            out.append(path)
    return out


def load_rule_tests(paths: Iterable[str | Path], program: Program) -> tuple[RuleTest, ...]:
    """Every test of every file; every problem of every file raised at once."""
    problems: list[Problem] = []
    tests: list[RuleTest] = []
    for path in find_test_files(paths):
        tests.extend(TestReader(program, str(path), problems).read())
    if problems:
        raise RuleFileError(problems)
    return tuple(tests)


class TestReader:
    """Reads one test file, collecting its problems."""

    def __init__(self, program: Program, path: str, problems: list[Problem]) -> None:
        self.program = program
        self.path = path
        self.problems = problems
        self.lines: list[str] = []

    def error(self, loc: SourceLoc, message: str, hint: str = "") -> None:
        lines = self.lines if loc.path == self.path else source_lines(loc.path)
        self.problems.append(Problem.at(loc, message, lines, hint=hint))

    def read(self) -> list[RuleTest]:
        try:
            text = Path(self.path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.problems.append(Problem(SourceLoc(path=self.path), f"cannot read: {exc}"))
            return []
        self.lines = text.splitlines()
        try:
            data = load_located(text, self.path)
        except YamlError as exc:
            for problem in exc.problems:
                self.error(problem.loc or SourceLoc(path=self.path), problem.message, problem.hint)
            if any(": " in line and line.lstrip().startswith("- name:") for line in self.lines):
                self.problems[-1].hint = self.problems[-1].hint or (
                    'a name with ": " in it needs quotes: name: "..."'
                )
            return []
        if not isinstance(data, LList):
            self.error(
                SourceLoc(path=self.path, line=1, column=1),
                "a rule test file is a list of tests",
                "- name: ...\n      case: casefiles/....yaml\n      expect: {ruling: ...}",
            )
            return []
        tests = []
        names: dict[str, SourceLoc] = {}
        for i, raw in enumerate(data):
            loc = data.item_loc(i)
            if not isinstance(raw, LMap):
                self.error(loc, "a test is a mapping: name, case, expect (patch, date, profile)")
                continue
            name = raw.get("name")
            if isinstance(name, str) and name in names:
                self.error(raw.value_loc("name"), f"test '{name}' is already at {names[name]}")
            elif isinstance(name, str):
                names[name] = loc
            test = self.test(raw, loc)
            if test is not None:
                tests.append(test)
        return tests

    def test(self, raw: LMap, loc: SourceLoc) -> RuleTest | None:
        before = len(self.problems)
        for key in raw:
            if key not in TEST_KEYS:
                hint = did_you_mean(key, list(TEST_KEYS)) or f"allowed: {', '.join(TEST_KEYS)}"
                self.error(raw.key_loc(key), f"unknown key '{key}'", hint)
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            self.error(loc, "a test needs a name", "name: 中文 / English")
            name = "?"
        data = self.base_case(raw, loc)
        if "patch" in raw:
            patch = raw["patch"]
            if not isinstance(patch, LMap):
                self.error(raw.value_loc("patch"), "patch: a mapping merged into the case")
            elif data is not None:
                data = _merge(data, patch)
        profile = raw.get("profile")
        day: str | None = None  # the day the case is moved to, every interval kept
        if profile is not None:
            data, day = self.to_profile(raw, data)
        if "date" in raw and data is not None:
            day = self.to_date(raw) or day
        expect = raw.get("expect")
        if not isinstance(expect, LMap) or not expect:
            self.error(
                raw.key_loc("expect") if "expect" in raw else loc,
                f"test '{name}' needs expect: what the ruling must show",
                "expect: {ruling: refund, fired: [rule-id]}",
            )
            return None
        case = None
        if data is not None:
            try:
                case = case_from_data(
                    data,
                    source=self.path,
                    locate=_Locator(data, loc),
                    fields=self.program.declared_fields(),
                )
            except CaseFileError as exc:
                for problem in exc.problems:
                    where = problem.loc or loc
                    self.error(where, f"the test's case: {problem.message}", problem.hint)
        if case is not None and day is not None:
            case = redated(case, day, policy_timezone(self.program))
        if case is not None:
            self.check_expect(expect, case)
        if case is None or len(self.problems) > before:
            return None
        return RuleTest(
            name=name,
            path=self.path,
            loc=loc,
            case=case,
            expect=_plain(expect),
            profile=profile if isinstance(profile, str) else None,
        )

    def base_case(self, raw: LMap, loc: SourceLoc) -> LMap | None:
        source = raw.get("case")
        if isinstance(source, LMap):
            return copy.deepcopy(source)
        if not isinstance(source, str):
            self.error(
                raw.value_loc("case") if "case" in raw else loc,
                "a test needs a case: a case file's path, or the case written out",
                "case: casefiles/not-received-valid-receipt.yaml",
            )
            return None
        found = _find_case(source, Path(self.path))
        if found is None:
            self.error(
                raw.value_loc("case"),
                f"case file '{source}' not found",
                "paths are relative to the test file's folder or a folder above it",
            )
            return None
        try:
            data = load_located(found.read_text(encoding="utf-8"), str(found))
        except (OSError, UnicodeDecodeError) as exc:
            self.error(raw.value_loc("case"), f"cannot read case file '{source}': {exc}")
            return None
        except YamlError as exc:
            self.problems.extend(exc.problems)
            return None
        if not isinstance(data, LMap):
            self.error(raw.value_loc("case"), f"'{source}' does not hold one case")
            return None
        return data

    def to_profile(self, raw: LMap, data: LMap | None) -> tuple[LMap | None, str | None]:
        """The case on the profile's platform, and the day to move it to when its date is
        outside the profile's (its first day, or its last)."""
        name = raw["profile"]
        profile = next((p for p in self.program.profiles if p.name == name), None)
        if profile is None:
            known = [p.name for p in self.program.profiles]
            self.error(raw.value_loc("profile"), f"unknown profile '{name}'", did_you_mean(
                str(name), known) or f"one of: {', '.join(known)}")  # fmt: skip
            return data, None
        if data is None:
            return None, None
        if profile.platform is not None:
            data = _merge(data, {"platform": profile.platform})
        day = _intervention_day(data, self.program)
        inside = day is not None and (profile.since is None or profile.since <= day)
        inside = inside and (profile.until is None or day is not None and day <= profile.until)
        if not inside and day is not None and (profile.since or profile.until):
            return data, profile.since or profile.until
        return data, None

    def to_date(self, raw: LMap) -> str | None:
        target = raw["date"]
        if not isinstance(target, str) or not _is_day(target):
            self.error(raw.value_loc("date"), "date: a day, YYYY-MM-DD (China time)")
            return None
        return target

    def check_expect(self, expect: LMap, case: Case) -> None:
        for key in expect:
            if key not in EXPECT_KEYS:
                hint = did_you_mean(key, list(EXPECT_KEYS)) or f"allowed: {', '.join(EXPECT_KEYS)}"
                self.error(expect.key_loc(key), f"unknown expectation '{key}'", hint)
        if "ruling" in expect and expect["ruling"] not in RULINGS:
            self.error(
                expect.value_loc("ruling"),
                f"unknown ruling '{expect['ruling']}'",
                did_you_mean(str(expect["ruling"]), list(RULINGS)),
            )
        for key in ("refund_amount", "compensation_amount"):
            if key in expect and not _is_amount(expect[key]):
                self.error(expect.value_loc(key), f"{key} is an amount, e.g. 459.00")
        rule_ids = [r.id for r in self.program.rules]
        for key in ("fired", "not_fired"):
            listed = expect.get(key)
            if not isinstance(listed, LList):
                if key in expect:
                    self.error(expect.value_loc(key), f"{key}: a list of rule ids")
                continue
            for i, rule_id in enumerate(listed):
                if rule_id not in rule_ids:
                    self.error(
                        listed.item_loc(i),
                        f"unknown rule id '{rule_id}'",
                        did_you_mean(str(rule_id), rule_ids),
                    )
        evidence = expect.get("evidence")
        ids = [e.id for e in case.evidence]
        if isinstance(evidence, LMap):
            for eid, want in evidence.items():
                if eid not in ids:
                    self.error(
                        evidence.key_loc(eid),
                        f"the case has no evidence '{eid}'",
                        did_you_mean(eid, ids) or f"its evidence: {', '.join(ids) or 'none'}",
                    )
                if not isinstance(want, LMap):
                    self.error(evidence.value_loc(eid), "{admitted: true|false, valid: ...}")
                    continue
                for key in want:
                    if key not in EVIDENCE_KEYS:
                        self.error(
                            want.key_loc(key),
                            f"unknown expectation '{key}' of an evidence item",
                            did_you_mean(key, list(EVIDENCE_KEYS)),
                        )
        elif evidence is not None:
            self.error(expect.value_loc("evidence"), "evidence: {E1: {valid: true}, ...}")
        issues = expect.get("issues")
        if isinstance(issues, LMap):
            known = [i.name for i in self.program.issues]
            for name, status in issues.items():
                if name not in known:
                    self.error(
                        issues.key_loc(name), f"unknown issue '{name}'", did_you_mean(name, known)
                    )
                if status not in ISSUE_STATUSES:
                    self.error(
                        issues.value_loc(name),
                        f"unknown issue status '{status}'",
                        f"one of: {', '.join(ISSUE_STATUSES)}",
                    )
        elif issues is not None:
            self.error(expect.value_loc("issues"), "issues: {issue: status, ...}")
        warnings = expect.get("warnings")
        if warnings is not None and not (
            (isinstance(warnings, int) and not isinstance(warnings, bool))
            or isinstance(warnings, list)
        ):
            self.error(expect.value_loc("warnings"), "warnings: a count, or a list of rule ids")


# ---------------------------------------------------------------- case data


def _find_case(name: str, test_file: Path) -> Path | None:
    for folder in (test_file.parent, *test_file.parent.parents, Path.cwd()):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    return None


def _merge(base: LMap, patch: Mapping[str, Any]) -> LMap:
    """``patch`` deep-merged into a copy of ``base``; evidence items are addressed by id."""
    out = copy.copy(base)
    out.key_locs = dict(base.key_locs)
    out.value_locs = dict(base.value_locs)
    for key, value in patch.items():
        if isinstance(patch, LMap):
            out.key_locs[key] = patch.key_loc(key)
            out.value_locs[key] = patch.value_loc(key)
        old = out.get(key)
        if key == "evidence" and isinstance(old, list) and isinstance(value, Mapping):
            out[key] = _merge_evidence(old, value)
        elif isinstance(old, LMap) and isinstance(value, Mapping):
            out[key] = _merge(old, value)
            if isinstance(patch, LMap):
                out.value_locs[key] = base.value_loc(key)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _merge_evidence(items: list[Any], patch: Mapping[str, Any]) -> LList:
    out = LList()
    out.loc = getattr(items, "loc", SourceLoc(path=""))
    out.item_locs = []
    done = set()
    for i, item in enumerate(items):
        ident = item.get("id") if isinstance(item, Mapping) else None
        loc = items.item_loc(i) if isinstance(items, LList) else out.loc
        if isinstance(ident, str) and ident in patch:
            done.add(ident)
            change = patch[ident]
            if change is None:
                continue  # removed
            if isinstance(item, LMap) and isinstance(change, Mapping):
                item = _merge(item, change)
            if isinstance(patch, LMap):
                loc = patch.value_loc(ident)
        out.append(item)
        out.item_locs.append(loc)
    for ident, change in patch.items():
        if ident in done or not isinstance(change, Mapping):
            continue
        item = copy.deepcopy(change)
        if isinstance(item, LMap):
            item = _merge(item, {})
        item["id"] = ident
        out.append(item)
        out.item_locs.append(patch.value_loc(ident) if isinstance(patch, LMap) else out.loc)
    return out


class _Locator:
    """Field path -> where the value was written (the case file, or the test's patch)."""

    def __init__(self, data: LMap, fallback: SourceLoc) -> None:
        self.data = data
        self.fallback = fallback

    def __call__(self, path: tuple[str | int, ...]) -> SourceLoc:
        node: Any = self.data
        loc = getattr(node, "loc", self.fallback)
        for segment in path:
            if isinstance(node, LMap) and isinstance(segment, str) and segment in node:
                loc, node = node.value_loc(segment), node[segment]
            elif isinstance(node, LList) and isinstance(segment, int) and segment < len(node):
                loc, node = node.item_loc(segment), node[segment]
            else:
                break
        return loc


def _intervention_day(data: Mapping[str, Any], program: Program) -> str | None:
    dispute = data.get("dispute")
    raw = dispute.get("intervention_requested_at") if isinstance(dispute, Mapping) else None
    moment = _as_time(raw)
    if moment is None:
        return None
    return moment.astimezone(policy_timezone(program)).date().isoformat()


def _as_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def _is_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _is_amount(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return False
    try:
        Decimal(str(value))
    except InvalidOperation:
        return False
    return True


def _plain(value: Any) -> Any:
    """Located YAML values as plain dicts and lists (expectations are compared, not located)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
