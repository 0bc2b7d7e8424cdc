"""durable_rules finds a fact by a 32-bit FNV-1a hash of its id (research 2.9): two ids that
collide make the second fact a silent duplicate. The runtime numbers the facts of a case
f0, f1, ... across its rounds; these tests run durable_rules itself, not a model of it."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from conftest import CASEFILES
from durable.engine import MessageObservedException

from engine import Program, Scorer
from engine.cases.load import load_case
from engine.compile import host


def fnv1a_32(text: str) -> int:
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def test_durable_rules_refuses_the_second_of_two_facts_whose_ids_collide() -> None:
    # the colliding pair of research/durable-rules.md §2.9: equal under fnv1a_32, and
    # durable_rules itself takes the second for the first (so fnv1a_32 is its hash)
    first, second = "ev-791341881573", "ev-153660878342"
    assert fnv1a_32(first) == fnv1a_32(second)
    seen: list[str] = []
    rules = {"r": {"all": [{"m": {"t": "x"}}], "run": lambda c: seen.append(c.m["id"])}}
    durable = host.shared_host()
    durable.register_rulesets({"colliding-ids": rules})
    durable.assert_facts("colliding-ids", [{"id": first, "sid": "1", "t": "x"}])
    with pytest.raises(MessageObservedException):
        durable.assert_facts("colliding-ids", [{"id": second, "sid": "1", "t": "x"}])
    durable.assert_facts("colliding-ids", [{"id": "ev-1", "sid": "1", "t": "x"}])
    durable.delete_state("colliding-ids", "1")
    assert seen == [first, "ev-1"]


def test_a_case_of_a_thousand_items_is_seen_whole_by_durable_rules(
    program: Program, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the ids the runtime really sends, collected from its own session, never collide, and
    # durable_rules fires on every item: its firings equal the reference evaluator's
    case = load_case(CASEFILES / "quality-photos-both-views.yaml")
    item = next(e for e in case.evidence if e.kind == "product_photos")
    items = tuple(dataclasses.replace(item, id=f"P{n}") for n in range(1000))
    big = dataclasses.replace(case, evidence=items)
    sent: list[str] = []
    real = host.shared_host().assert_facts

    def recording(ruleset: str, facts: list[dict[str, Any]]) -> Any:
        sent.extend(fact["id"] for fact in facts)
        return real(ruleset, facts)

    monkeypatch.setattr(host.shared_host(), "assert_facts", recording)
    durable = Scorer(program, "durable").score(big)
    reference = Scorer(program, "reference").score(big)
    assert len(sent) > 2000  # every item, in more than one round
    assert len({fnv1a_32(i) for i in sent}) == len(sent)
    assert durable.firings == reference.firings
    fired_on = {key for firing in durable.firings for key in firing.facts}
    assert fired_on >= {i.id for i in items}
