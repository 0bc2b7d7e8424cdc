"""The durable_rules runtime: failures inside the engine surface as errors and are survived."""

from __future__ import annotations

import pytest
from conftest import CASEFILES

from engine import EngineError, Program, Scorer
from engine.cases.load import load_case
from engine.compile import host
from engine.compile.host import DurableEvaluator
from engine.rules.program import KEY, TYPE


def test_an_exception_inside_an_action_is_raised_not_swallowed(program: Program) -> None:
    evaluator = DurableEvaluator(program)
    # a dispute fact without its key: every action that reads the key fails inside durable_rules
    fact = {TYPE: "dispute", "prior_interventions": 2}
    with pytest.raises(
        EngineError,
        match="an action failed inside durable_rules: one-intervention-per-order: KeyError",
    ):
        with evaluator.session() as session:
            session.run(0, [fact])


def test_a_session_in_which_nothing_fired_is_never_deleted(program: Program) -> None:
    # durable_rules segfaults deleting a session in which no action ran (research 2.4); the
    # runtime drops the host instead, and the next case is scored on a fresh one
    evaluator = DurableEvaluator(program)
    before = host.shared_host()
    with evaluator.session() as session:
        assert session.run(0, [{TYPE: "order", KEY: "order"}]) == set()
    assert host.shared_host() is not before
    case = load_case(CASEFILES / "not-received-valid-receipt.yaml")
    assert Scorer(program, "durable").score(case).ruling.ruling == "pay_seller"
    with evaluator.session() as session:
        assert session.run(0, [{TYPE: "order", KEY: "order"}]) == set()


def test_after_a_failure_in_the_c_core_the_next_case_is_scored_on_a_fresh_host(
    program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the failed session is never deleted (its state may be corrupt): the host is dropped, and
    # every evaluator registers its ruleset again on the next one
    scorer = Scorer(program, "durable")
    case = load_case(CASEFILES / "not-received-valid-receipt.yaml")
    broken = host.shared_host()

    def fail(*args: object, **kwargs: object) -> None:
        raise host._native.error("Could not assert facts, error code: 307")

    monkeypatch.setattr(broken, "assert_facts", fail)
    monkeypatch.setattr(broken, "delete_state", fail)  # would raise if it were called
    with pytest.raises(EngineError, match="durable_rules failed: .*error code: 307"):
        scorer.score(case)
    assert host.shared_host() is not broken
    assert scorer.score(case).ruling.ruling == "pay_seller"
    results = list(scorer.score_many([case, case]))
    assert [r.ruling.ruling for r in results if not isinstance(r, Exception)] == ["pay_seller"] * 2


def test_many_cases_in_one_process_never_exhaust_sessions(program: Program) -> None:
    # durable_rules allows 1,024 live sessions per ruleset: each case's is deleted
    scorer = Scorer(program, "durable")
    case = load_case(CASEFILES / "seller-no-evidence.yaml")
    for _ in range(1100):
        ruling = scorer.score(case).ruling
    assert ruling.ruling == "refund"
