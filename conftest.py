"""Rule tests (policy-tests/*.yaml) as pytest items: one item per test, run through both engines.

A failing item prints the test file and line, the test's name and one readable line per
difference, nothing else.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from engine import ExpectationMismatch, Program, RuleFileError, Scorer, load_rules
from engine.policytools.ruletests import RuleTest, load_rule_tests, run_rule_test

ROOT = Path(__file__).resolve().parent
POLICY_TESTS = ROOT / "policy-tests"


@cache
def _program() -> Program:
    return load_rules(ROOT / "rules")


@cache
def _scorers() -> tuple[Scorer, ...]:
    return (Scorer(_program(), "reference"), Scorer(_program(), "durable"))


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml") and POLICY_TESTS in file_path.parents:
        return RuleTestFile.from_parent(parent, path=file_path)
    return None


class RuleTestFile(pytest.File):
    def collect(self) -> Any:
        try:
            tests = load_rule_tests([self.path], _program())
        except RuleFileError as exc:
            raise self.CollectError(str(exc)) from None
        for test in tests:
            yield RuleTestItem.from_parent(self, name=test.name, test=test)


class RuleTestItem(pytest.Item):
    def __init__(self, *, test: RuleTest, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.test = test

    def runtest(self) -> None:
        result = run_rule_test(self.test, _scorers())
        if not result.passed:
            raise ExpectationMismatch(result.report())

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ExpectationMismatch):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.test.loc.line - 1, f"rule test: {self.test.name}"
