"""Agreement between recommendations and decisions, by dispute type and by rule."""

from __future__ import annotations

from decimal import Decimal

from engine.policytools.agreement import Comparison, Row, agreement


def decided(
    case_id: str,
    dispute_type: str,
    recommended: str,
    decided: str,
    *,
    rule: str = "rule-a",
    fired: tuple[str, ...] = ("rule-a",),
    refund: str = "100.00",
    decided_refund: str | None = "100.00",
) -> Comparison:
    return Comparison(
        case_id=case_id,
        dispute_type=dispute_type,
        recommended=recommended,
        recommended_refund=Decimal(refund),
        recommended_compensation=Decimal("0"),
        deciding_rule=rule,
        fired_rules=fired,
        decided=decided,
        decided_refund=None if decided_refund is None else Decimal(decided_refund),
        decided_compensation=Decimal("0"),
    )


def test_a_decision_that_keeps_the_ruling_and_the_amounts_agrees() -> None:
    assert decided("A", "quality", "refund", "refund").agrees


def test_a_decision_that_keeps_the_ruling_but_changes_the_refund_does_not_agree() -> None:
    assert not decided("A", "quality", "refund", "refund", decided_refund="80.00").agrees


def test_an_amount_the_decision_does_not_record_is_not_compared() -> None:
    assert decided("A", "quality", "refund", "refund", decided_refund=None).agrees


def test_figures_by_dispute_type_deciding_rule_and_fired_rule() -> None:
    figures = agreement(
        [
            decided("A", "quality", "refund", "refund", rule="r1", fired=("e1", "r1")),
            decided("B", "quality", "refund", "pay_seller", rule="r1", fired=("e1", "r1")),
            decided("C", "not_received", "pay_seller", "pay_seller", rule="r2", fired=("r2",)),
            decided("D", "not_received", "pay_seller", "refund", rule="r2", fired=("e1", "r2")),
            decided("E", "not_received", "pay_seller", "refund", rule="r2", fired=("r2",)),
        ]
    )
    assert (figures.decided, figures.agreed) == (5, 2)
    # the least agreed first: what policy staff should read again
    assert figures.by_dispute_type == (
        Row(key="not_received", decided=3, agreed=1),
        Row(key="quality", decided=2, agreed=1),
    )
    assert figures.by_deciding_rule == (
        Row(key="r2", decided=3, agreed=1),
        Row(key="r1", decided=2, agreed=1),
    )
    assert figures.by_fired_rule == (
        Row(key="e1", decided=3, agreed=1),
        Row(key="r2", decided=3, agreed=1),
        Row(key="r1", decided=2, agreed=1),
    )
    assert figures.overrides == (("pay_seller", "refund", 2), ("refund", "pay_seller", 1))
    assert round(figures.rate, 2) == 0.4


def test_no_decision_gives_no_rate_rather_than_an_error() -> None:
    figures = agreement([])
    assert (figures.decided, figures.rate, figures.by_dispute_type) == (0, 0.0, ())
