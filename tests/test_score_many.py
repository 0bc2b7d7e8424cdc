"""Scoring many cases at once (``Scorer.score_many``) gives what scoring them one by one gives.

A batch scores its cases in blocks: every case of a block prepared, then their rounds one
session after another, then their decisions. Whatever the block size, each case comes out as
``Scorer.score`` makes it (ruling, firings, rounds, issues), in the order the cases went in; a
case that fails comes out as its exception, in its place, and the cases around it are scored as
if it were not there. With durable_rules, never more than one session is alive.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from batchdata import archive_cases
from conftest import golden_cases

from engine import Program, Scorer
from engine.cases.load import load_case
from engine.errors import CaseFileError, EngineError
from engine.model import Case
from engine.run.scoring import BLOCK, Scored


@pytest.fixture(scope="module")
def cases(program: Program) -> list[Case]:
    return [load_case(path) for path in golden_cases()] + archive_cases(program, 150, seed=5)


def _same(got: Scored | Exception, expected: Scored) -> None:
    assert isinstance(got, Scored), got
    assert got.ruling == expected.ruling
    assert got.firings == expected.firings
    assert got.rounds == expected.rounds
    assert got.issues == expected.issues


@pytest.mark.parametrize("engine", ["reference", "durable"])
@pytest.mark.parametrize("block", [1, 7, BLOCK, 1000])
def test_each_case_comes_out_as_score_makes_it_whatever_the_block(
    scorers: dict[str, Scorer], cases: list[Case], engine: str, block: int
) -> None:
    scorer = scorers[engine]
    one_by_one = [scorer.score(case) for case in cases]
    together = list(scorer.score_many(cases, block=block))
    assert len(together) == len(cases)
    for got, expected in zip(together, one_by_one, strict=True):
        _same(got, expected)


def test_without_trace_the_rulings_are_the_same_and_no_rounds_are_kept(
    scorers: dict[str, Scorer], cases: list[Case]
) -> None:
    scorer = scorers["reference"]
    for got, case in zip(scorer.score_many(cases, trace=False), cases, strict=True):
        assert isinstance(got, Scored)
        assert got.ruling == scorer.score(case).ruling
        assert got.rounds == ()


@pytest.mark.parametrize("engine", ["reference", "durable"])
def test_a_refused_case_is_its_error_in_its_place_and_stops_no_other(
    scorers: dict[str, Scorer], cases: list[Case], engine: str
) -> None:
    scorer = scorers[engine]
    some = cases[:12]
    odd = replace(some[5], dispute=replace(some[5].dispute, type="no_such_dispute_type"))
    mixed = [*some[:5], odd, *some[6:]]
    results = list(scorer.score_many(mixed, block=4))
    assert isinstance(results[5], CaseFileError)
    assert "unknown dispute type 'no_such_dispute_type'" in str(results[5])
    for n, (got, case) in enumerate(zip(results, mixed, strict=True)):
        if n != 5:
            _same(got, scorer.score(case))


class _Sessions:
    """The scorer's own sessions, counted; the ``fail_at``-th one fails when it runs."""

    def __init__(self, inner: Any, fail_at: int) -> None:
        self.inner, self.fail_at = inner, fail_at
        self.opened = self.live = self.most_live = 0

    @contextmanager
    def session(self) -> Iterator[Any]:
        self.opened += 1
        failing = self.opened == self.fail_at
        self.live += 1
        self.most_live = max(self.most_live, self.live)
        try:
            with self.inner.session() as session:
                yield _Failing(session) if failing else session
        finally:
            self.live -= 1


class _Failing:
    def __init__(self, session: Any) -> None:
        self.session = session

    def run(self, stratum: int, facts: Any) -> Any:
        if stratum > 0:
            raise EngineError("the evaluator failed in this case's second round")
        return self.session.run(stratum, facts)


@pytest.mark.parametrize("engine", ["reference", "durable"])
def test_a_case_whose_evaluation_fails_is_its_error_and_one_session_lives_at_a_time(
    program: Program, cases: list[Case], engine: str
) -> None:
    scorer = Scorer(program, engine)  # its own: its sessions are replaced
    expected = [scorer.score(case) for case in cases[:20]]
    counted = _Sessions(scorer._sessions, fail_at=9)
    scorer._sessions = counted
    results = list(scorer.score_many(cases[:20], block=6))
    assert counted.opened == 20
    assert counted.most_live == 1
    assert isinstance(results[8], EngineError)
    for n, (got, want) in enumerate(zip(results, expected, strict=True)):
        if n != 8:
            _same(got, want)


def test_cases_are_read_as_they_are_needed_a_block_at_a_time(
    scorers: dict[str, Scorer], cases: list[Case]
) -> None:
    taken: list[int] = []

    def feed() -> Iterator[Case]:
        for n, case in enumerate(cases[:10]):
            taken.append(n)
            yield case

    results = scorers["reference"].score_many(feed(), block=4)
    next(results)
    assert taken == [0, 1, 2, 3]
    assert len(list(results)) == 9
    assert taken == list(range(10))


def test_a_block_must_hold_a_case(scorers: dict[str, Scorer], cases: list[Case]) -> None:
    with pytest.raises(ValueError, match="block must be at least 1, not 0"):
        list(scorers["reference"].score_many(cases, block=0))
