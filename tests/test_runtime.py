"""The durable_rules runtime: failures inside the engine surface as errors and are survived."""

from __future__ import annotations

import pytest
from conftest import CASEFILES

from engine import EngineError, Program, Scorer
from engine.cases.load import load_case
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
    with evaluator.session() as session:
        assert session.run(0, [{TYPE: "order", KEY: "order"}]) == set()
    case = load_case(CASEFILES / "not-received-valid-receipt.yaml")
    assert Scorer(program, "durable").score(case).ruling.ruling == "pay_seller"
    with evaluator.session() as session:
        assert session.run(0, [{TYPE: "order", KEY: "order"}]) == set()


def test_many_cases_in_one_process_never_exhaust_sessions(program: Program) -> None:
    # durable_rules allows 1,024 live sessions per ruleset: each case's is deleted
    scorer = Scorer(program, "durable")
    case = load_case(CASEFILES / "seller-no-evidence.yaml")
    for _ in range(1100):
        ruling = scorer.score(case).ruling
    assert ruling.ruling == "refund"
